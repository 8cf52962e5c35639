"""Strictness of a direct solver: it is asked the questions of every other task the registry and the
cache know; one that answers another task's question wrongly is refused (one that answers it
rightly is a more general tool)."""

import random
import re
from collections.abc import Sequence

from pydantic import BaseModel

from latm.judge.cases import run_direct
from latm.judge.checking import checker_for
from latm.judge.option_blocks import option_block, option_style
from latm.judge.rendering import RenderingError, render
from latm.text import clip
from sandbox import Sandbox
from sandbox.expressions import kind_of
from tasks import TASKS
from toolcache import Rendering, Tool, ToolCache

UNRELATED_QUESTION = "What is the capital of France? Please answer in one word."
PROBES_PER_TASK = 3


class Probe(BaseModel):
    """A question of another task, with its answer (None: no answer is right)."""

    task: str
    question: str
    answer: str | None


def strictness_probes(task: str, cache: ToolCache | None = None, seed: int | None = None) -> list[Probe]:
    """Questions of every other task the registry and the cache know, and one unrelated question.

    Generated questions are a fresh draw each time (``seed`` None): a solver refused on the
    probes it was shown cannot pass the next check by memorising them."""
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    probes = [Probe(task="(unrelated)", question=UNRELATED_QUESTION, answer=None)]
    for name, known in TASKS.items():
        if name != task:
            probes += [
                Probe(task=name, question=e.question, answer=e.answer) for e in known.generate(PROBES_PER_TASK, seed)
            ]
    if cache is not None:
        for other in cache.tasks():
            tool = cache.current(other)
            if other != task and other not in TASKS and tool is not None:
                probes += [
                    Probe(task=other, question=u.question, answer=u.answer) for u in tool.use_cases[:PROBES_PER_TASK]
                ]
    return probes


# Stand-ins for a changed fixed word, drawn at random each time (a solver cannot refuse just these).
CHANGED_WORDS = (
    "Count Reverse Translate Explain Compare Divide Multiply Subtract Remove Repeat Name Spell Order Rank Merge "
    "Split Average Round Convert Encode Decode Describe Summarise times minus over under before after never always"
).split()
CHANGED_SYMBOLS = ["*", "-", "/", "%", "^", "=", "<", ">", "&", "|", "~", "#"]


CLAUSES = (
    "Then double the result.",
    "Give the answer backwards.",
    "Then add one to it.",
    "Answer for the first half only.",
    "Ignore the last part.",
)


QUALIFIERS = ("squared", "percent", "thousand", "halved", "doubled")
INSERTED = ("Ten years pass.", "Then half of them are lost.", "None of this is true.", "Everything is doubled.")
SENTENCE_START = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")
PREAMBLES = ("Triple the result of this:", "Answer the opposite:", "Ignore the next question.", "In reverse:")
PIECE = re.compile(r"\w+|[^\w\s]")


def near_misses(
    task: str, questions: Sequence[str], limit: int = 200, seed: int | None = None, also: Sequence[str] = ()
) -> list[Probe]:
    """Questions of the task made into another task, which a strict solver refuses (no answer to them
    is right): one of its fixed pieces changed, or the question extended. The fixed pieces are the
    words and symbols every given question has (and every question in ``also``, questions known to be
    of the task that are not shown: a piece they vary is not fixed), wherever they stand ("plus" in
    "What is A plus B?", "+" in "6+7"), up to ``limit`` of them (symbols first, then the longest words:
    a long instruction must not leave a record's short words untried); each is replaced by a stand-in
    drawn at random. The extensions
    repeat a fixed word between two varying parts with its operand ("6 plus 7 plus 7", only where every
    question has that word as often), put a word after a number that changes what it means ("6 squared"),
    insert a sentence before the last one (of a question of several), add a clause after the end (as a
    sentence of its own where the questions end in what varies) and, where every question begins alike,
    one before that beginning.
    An option block is data: the probes change the text above it."""
    questions = [q for q in questions if q.strip()]
    if len(questions) < 2:
        return []
    style = option_style(questions)
    tail = ""
    if style is not None:
        tail = questions[0][len((option_block(questions[0], style[0]) or ("",))[0]) :]
        questions = [(option_block(q, style[0]) or (q,))[0] for q in questions]
        also = [(option_block(q, style[0]) or (q,))[0] for q in also]
    known = [*questions, *also]
    rng = random.Random(seed if seed is not None else random.SystemRandom().randrange(2**31))
    base = questions[0]
    common = set.intersection(*(set(PIECE.findall(q)) for q in known))
    fixed = sorted((p for p in common if not p.isdigit()), key=lambda p: (p.isalnum(), -len(p), p))  # symbols first
    probes = []
    for original in fixed[:limit]:
        word = original.isalnum()
        pool = CHANGED_WORDS if word else CHANGED_SYMBOLS
        # not one of its own kind: "-" for "+" is still a question of an arithmetic task
        stand_in = rng.choice([c for c in pool if c.lower() != original.lower() and c not in kind_of(original)])
        pattern = rf"(?<!\w){re.escape(original)}(?!\w)" if word else re.escape(original)
        changed = re.sub(pattern, stand_in.replace("\\", "\\\\"), base, count=1)
        if changed != base:
            probes.append(
                Probe(task=f"{task} with a changed word ({original!r})", question=changed + tail, answer=None)
            )
    probes += _extensions(task, questions, known, rng, tail)
    return probes


def _extensions(task: str, questions: list[str], known: list[str], rng: random.Random, tail: str) -> list[Probe]:
    """The question with a fixed word repeated with its operand, or a clause added after its shared
    ending or before its shared beginning (another task whose answer the original's is not)."""

    def core(token: str) -> str:
        return token.strip(".,:;?!'\"()[]{}") or token

    token_lists = [q.split(" ") for q in known]
    base = questions[0].split(" ")
    common = set.intersection(*({core(t) for t in tokens} for tokens in token_lists))
    alike = {c for c in common if len({sum(core(t) == c for t in tokens) for tokens in token_lists}) == 1}
    probes = []
    between = [  # a fixed word between two varying parts ("6 plus 7"), not the last word of the fixed text
        i
        for i in range(1, len(base) - 1)
        if core(base[i]) in alike and core(base[i + 1]) not in common and core(base[i - 1]) not in common
    ]
    for i in between[:2]:
        operand = base[i + 1]
        bare = operand.rstrip(".,:;?!'\")]}") or operand  # its operand, without the question's end
        extended = [*base[: i + 1], bare, base[i], operand, *base[i + 2 :]]
        probes.append(
            Probe(task=f"{task} extended ({base[i]!r} repeated)", question=" ".join(extended) + tail, answer=None)
        )
    numbers = [i for i, t in enumerate(base) if re.fullmatch(r"-?\d+", core(t)) and core(t) not in common]
    if numbers:  # a word that changes what a number means, next to it ("What is 6 squared plus 7?")
        i = numbers[0]
        bare = base[i].rstrip(".,:;?!'\")]}") or base[i]
        changed = [*base[:i], bare, rng.choice(QUALIFIERS) + base[i][len(bare) :], *base[i + 1 :]]
        probes.append(Probe(task=f"{task} with a number qualified", question=" ".join(changed) + tail, answer=None))
    endings = {tokens[-1] for tokens in token_lists}
    marks = {tokens[-1][-1:] for tokens in token_lists if tokens[-1]}
    clause = rng.choice(CLAUSES)
    if len(endings) == 1 or (len(marks) == 1 and not marks.pop().isalnum()):
        probes.append(Probe(task=f"{task} with a clause added", question=f"{questions[0]} {clause}{tail}", answer=None))
    else:  # the question ends in its varying part: the clause as a sentence of its own
        added = f"{questions[0].rstrip()}. {clause}{tail}"
        probes.append(Probe(task=f"{task} with a sentence added", question=added, answer=None))
    starts = [m.end() for m in SENTENCE_START.finditer(questions[0])]
    if starts:  # a sentence inserted before the last one, where a reader that drops clauses would not look
        at = starts[-1]
        inserted = f"{questions[0][:at]}{rng.choice(INSERTED)} {questions[0][at:]}{tail}"
        probes.append(Probe(task=f"{task} with a sentence inserted", question=inserted, answer=None))
    if len({tokens[0] for tokens in token_lists}) == 1:
        preamble = rng.choice(PREAMBLES)
        probes.append(
            Probe(task=f"{task} with a clause before", question=f"{preamble} {questions[0]}{tail}", answer=None)
        )
    return probes


REPROBES = 30  # generated questions of a built-in task a re-probe asks, beside the tool's own


def reprobe(cache: ToolCache, new: Tool, sb: Sandbox, *, left: bool = False) -> list[tuple[Tool, str]]:
    """When a tool enters the cache (or leaves it: ``left``), every other routable direct solver is
    asked that task's labelled questions (the tool's own, and fresh ones for a built-in task); one
    that answers them wrongly is quarantined: it captured questions of a task made after it, or the
    questions the tool that left used to answer. Returns the quarantined tools with the reason."""
    labelled = [Probe(task=new.task, question=u.question, answer=u.answer) for u in new.use_cases]
    labelled += [
        Probe(task=new.task, question=e.question, answer=e.expected) for e in new.verification.canary_questions
    ]
    if new.task in TASKS:
        labelled += [
            Probe(task=new.task, question=e.question, answer=e.answer)
            for e in TASKS[new.task].generate(REPROBES, random.SystemRandom().randrange(1, 2**31))
        ]
    if not labelled:
        return []
    out = []
    for task in cache.tasks():
        tool = cache.current(task)
        if tool is None or tool.id == new.id or task == new.task or not tool.direct or tool.status != "verified":
            continue
        caught = captured(sb, tool.code, tool.direct, labelled, tool.rendering)
        if caught:
            probe, answer = caught[0]
            when = "whose tool was removed" if left else "made after it"
            why = (
                f"its direct solver answered {len(caught)} question(s) of the task {new.task}, {when}, "
                f"wrongly (e.g. {clip(probe.question, 80)!r}: {clip(answer, 60)!r}, the answer is {probe.answer!r}); "
                "make a new version (`latm make --remake`) to route its task again"
            )
            cache.set_status(tool.id, "quarantined", reason=why)
            out.append((tool, why))
    return out


def captured(
    sb: Sandbox, tool_code: str, direct: str, probes: Sequence[Probe], rendering: Rendering
) -> list[tuple[Probe, str]]:
    """The probes a direct solver answers wrongly by their own task's checker (with its answer).

    Answering another task's question rightly is a more general tool, not a captor (the five-
    and seven-object variants of a task share a solver); raising is what a strict solver does.
    """
    runs = run_direct(sb, tool_code, direct, [p.question for p in probes])
    out = []
    for probe, run in zip(probes, runs, strict=True):
        if not run.ok:
            continue
        try:
            text = render(run.value, probe.question, rendering)
        except RenderingError:
            continue
        if text is not None and (probe.answer is None or not checker_for(probe.task)(text, probe.answer)):
            out.append((probe, text))
    return out
