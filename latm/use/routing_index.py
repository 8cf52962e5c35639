"""Which tools could take a question, without asking them: routing that does not grow with the cache.

A tool's *signature* is the set of words every question of its task has: the fixed words of its
template ("sort", "following", "alphabetically", "list" for word sorting; "how", "many", "vowels"
for a user's counting task). It is read off the labelled questions the tool carries (use cases,
shown and kept-back examples) and, for a built-in task, off ``SIGNATURE_SAMPLE`` generated ones.
A question is offered only to the solvers whose signature it contains; one that contains none is a
miss at once, with no solver run. The rule holds for any task: a question without one of its task's
fixed words is another task (a changed fixed word, "times" for "plus", is exactly what a strict
parser refuses), so the index refuses it before any solver has to.

A built-in task's questions are also held to its frame (``latm.judge.frames``): its opening words,
its ending, its option block: text added before a question, or after its options, is another task.

Lookup is flat in the number of tools: each signature is filed under its rarest word, a question
looks up only its own words, and the candidates found are checked whole; a batch's questions with
the same relevant words share one lookup. A tool with fewer than ``MIN_QUESTIONS`` known questions
has no reliable signature (one question's words are all "fixed") and is offered every question.
"""

import math
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TypeVar

from latm.judge.frames import Frame, frame_of
from tasks import TASKS
from toolcache import Tool

MIN_QUESTIONS = 3
SIGNATURE_SAMPLE = 24  # generated questions a built-in task's signature and frame are read from (no real
# BIG-Bench-Hard question nor any of 350 other generated ones falls outside what 24 give)


# Every byte but a-z becomes a space: the same words as WORD.findall(text.lower()) (non-ASCII
# characters turn into "?" first, which no [a-z]+ word contains), in a fraction of the time: a
# batch tokenises every question, and this was a fifth of a Ray worker's time.
_NOT_A_Z = bytes(c if 97 <= c <= 122 else 32 for c in range(256))


def words(text: str) -> set[str]:
    return set(text.lower().encode("ascii", "replace").translate(_NOT_A_Z).decode("ascii").split())


@lru_cache(maxsize=64)
def _generated(task: str) -> tuple[str, ...]:
    return tuple(e.question for e in TASKS[task].generate(SIGNATURE_SAMPLE, seed=1))


@lru_cache(maxsize=64)
def _generated_signature(task: str) -> frozenset[str]:
    questions = _generated(task)
    return frozenset(set.intersection(*(words(q) for q in questions))) if questions else frozenset()


def known_questions(tool: Tool) -> list[str]:
    """The labelled questions a tool carries: its use cases, shown and kept-back examples."""
    seen = [u.question for u in tool.use_cases]
    seen += [e.question for e in tool.verification.examples]
    seen += [e.question for e in tool.verification.canary_questions]
    return list(dict.fromkeys(q for q in seen if q.strip()))


def signature(tool: Tool) -> frozenset[str] | None:
    """The words every question of the tool's task has; None when too few questions are known to say."""
    key = (tool.id, len(tool.use_cases), len(tool.verification.examples), len(tool.verification.canary_questions))
    if key not in _SIGNATURES:
        if len(_SIGNATURES) >= 4096:
            _SIGNATURES.clear()
        _SIGNATURES[key] = _signature(tool)
    return _SIGNATURES[key]


_SIGNATURES: dict[tuple[str, int, int, int], frozenset[str] | None] = {}


def _signature(tool: Tool) -> frozenset[str] | None:
    questions = known_questions(tool)
    if tool.task in TASKS:
        common = set(_generated_signature(tool.task))
        for q in questions:
            common &= words(q)
        return frozenset(common)
    if len(questions) < MIN_QUESTIONS:
        return None
    return frozenset(set.intersection(*(words(q) for q in questions)))


def missing_words(tool: Tool, question_words: set[str]) -> list[str]:
    """The fixed words of the tool's task that a question lacks (none: it may be the task's question)."""
    sig = signature(tool)
    return sorted(sig - question_words) if sig else []


@lru_cache(maxsize=64)
def _generated_frame(task: str) -> Frame | None:
    return frame_of(_generated(task))


def outside_frame(tool: Tool, question: str) -> bool:
    """Whether a question of a built-in task's tool has text before the task's opening words or after
    its option block (another task, whatever its solver would make of it)."""
    frame = _generated_frame(tool.task) if tool.task in TASKS else None
    return frame is not None and not frame.fits(question)


class RoutingIndex:
    """The tools whose signature a question contains (and the tools without a signature)."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self.tools = list(tools)
        self._signatures: list[frozenset[str]] = []
        self._open: list[int] = []  # tools offered every question (no signature, or an empty one)
        self._by_word: dict[str, list[int]] = {}
        signed: list[tuple[int, frozenset[str]]] = []
        for i, tool in enumerate(self.tools):
            sig = signature(tool)
            self._signatures.append(sig or frozenset())
            if sig:
                signed.append((i, sig))
            else:
                self._open.append(i)
        frequency: dict[str, int] = {}
        for _, sig in signed:
            for w in sig:
                frequency[w] = frequency.get(w, 0) + 1
        for i, sig in signed:
            rarest = min(sig, key=lambda w: (frequency[w], w))
            self._by_word.setdefault(rarest, []).append(i)
        self.vocabulary = frozenset(frequency)
        self._memo: dict[frozenset[str], list[int]] = {}

    def candidates(self, question_words: set[str]) -> list[Tool]:
        return [self.tools[i] for i in self._indices(question_words)]

    def _indices(self, question_words: set[str]) -> list[int]:
        relevant = frozenset(question_words & self.vocabulary)
        found = self._memo.get(relevant)
        if found is None:
            hits = [i for w in relevant for i in self._by_word.get(w, ()) if self._signatures[i] <= relevant]
            # the most specific first: where two agree, the answer is credited to the task the question fits best
            found = self._memo[relevant] = sorted(
                set(hits) | set(self._open), key=lambda i: (-len(self._signatures[i]), i)
            )
        return found

    def candidates_all(self, questions_words: Sequence[set[str]]) -> list[list[Tool]]:
        return [self.candidates(w) for w in questions_words]


class Shortlist:
    """The few tools most like a question, for the model's classification (retrieval, then the model
    decides among them): each tool's words (its task, description and first questions) in an inverted
    index; a question's words score the tools that share them, each word by how rare it is among the
    tools (words most tools have are not looked up), so the cost follows the question, not the cache."""

    COMMON = 0.5  # a word more than this share of the tools have says nothing about which one

    def __init__(self, tools: Sequence[Tool], describe: Callable[[Tool], set[str]]) -> None:
        self.tools = list(tools)
        self._postings: dict[str, list[int]] = {}
        for i, tool in enumerate(self.tools):
            for w in describe(tool):
                self._postings.setdefault(w, []).append(i)
        n = max(1, len(self.tools))
        self._weight = {
            w: math.log(1 + n / len(ids)) for w, ids in self._postings.items() if len(ids) <= max(1, self.COMMON * n)
        }

    def best(self, question: str, k: int) -> list[Tool]:
        scores: dict[int, float] = {}
        for w in words(question):
            weight = self._weight.get(w)
            if weight is None:
                continue
            for i in self._postings[w]:
                scores[i] = scores.get(i, 0.0) + weight
        order = sorted(scores, key=lambda i: (-scores[i], i))[:k]
        return [self.tools[i] for i in order]


K = TypeVar("K")
V = TypeVar("V")


def kept(store: dict[K, V], key: K, build: Callable[[], V], most: int = 8) -> V:
    """``store[key]``, built on a miss; the store keeps the last ``most`` (a batch engine asks for the
    same set of tools batch after batch, so each index is built once, not per batch)."""
    found = store.get(key)
    if found is None:
        if len(store) >= most:
            store.pop(next(iter(store)))
        found = store[key] = build()
    return found


_SHORTLISTS: dict[tuple[str, ...], Shortlist] = {}


def shortlist(question: str, tools: Sequence[Tool], k: int, describe: Callable[[Tool], set[str]]) -> list[Tool]:
    """The ``k`` tools most like ``question`` (``Shortlist``), kept per set of tools; with no word in
    common with any tool, the first ``k`` (the model may still say none fits)."""
    found = kept(_SHORTLISTS, tuple(t.id for t in tools), lambda: Shortlist(tools, describe))
    return found.best(question, k) or list(tools[:k])
