"""Turning what a tool returned into an answer in the task's format: one rendering per tool.

Tools return Python values; answers are text. A tool's ``Rendering`` is learned once, from
the values its shown examples produced and their known answers (``infer_rendering``), and
then ``render`` applies it the same way in verification, in the tool user and in the direct
solver, so a wrong function is never rescued by trying other renderings per question:

- text stays text; a lone option letter becomes ``(A)``, and in a multiple-choice question a
  value that names exactly one option (its whole text, or words that occur in that option
  only, like ``quail`` for "(A) The quail is the rightmost") becomes that option's letter;
- a list or tuple is joined by the separator learned from the answers (``('12:00',
  '13:00')`` -> ``12:00 - 13:00``), one space when no list of two or more items was seen;
- an integer answering a multiple-choice question is an option position, counted from 1 or
  from 0 as learned; when the shown examples never showed which, it is an error (ambiguous),
  never a guess.
"""

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from latm.errors import RenderingError
from toolcache import Rendering

LONE_OPTION = re.compile(r"\([A-Ga-g]\)\.?|[A-G]\)?\.?")  # "(a)", "A", "A)", "A." - not a bare "a"
OPTION_LINE = re.compile(r"^\(([A-Z])\)\s*(.+?)\s*$", re.M)


def _plain(text: str) -> str:
    return " ".join(text.lower().rstrip(".").split())


def _options(question: str) -> list[tuple[str, str]]:
    """The question's ``(A) text`` lines (none without a line that starts with a parenthesis: most
    questions, found without running the pattern over them)."""
    if not (question.startswith("(") or "\n(" in question):
        return []
    return OPTION_LINE.findall(question)


def resolve_option(text: str, question: str) -> str:
    """``text`` as an option letter when it names exactly one of the question's options."""
    if LONE_OPTION.fullmatch(text):
        return text
    options = _options(question)
    if not options:
        return text
    wanted = _plain(text)
    if not wanted:
        return text
    exact = [letter for letter, option in options if _plain(option) == wanted]
    if len(exact) == 1:
        return f"({exact[0]})"
    pattern = re.compile(rf"(?<!\w){re.escape(wanted)}(?!\w)")
    named = [letter for letter, option in options if pattern.search(_plain(option))]
    return f"({named[0]})" if len(named) == 1 else text


DEFAULT = Rendering()
COMMON_SEPARATORS = (" ", ", ", ",", "", " - ", "-", "; ", "\n", " | ")


def _text(value: Any, question: str | None) -> str:
    """A lone letter is written "(B)" where the question's options are written so ("(A) x" lines) or no
    question is given; a question without them ("What grade is 85?") keeps its answer as the tool wrote it."""
    text = str(value).strip()
    if question:
        text = resolve_option(text, question)
    lettered = question is None or bool(_options(question))
    return f"({text.strip('().').upper()})" if lettered and LONE_OPTION.fullmatch(text) else text


def _item(value: Any) -> str:
    return str(value).strip() if not isinstance(value, list | tuple) else " ".join(_item(v) for v in value)


def render(value: Any, question: str | None = None, rendering: Rendering = DEFAULT) -> str | None:
    """The answer text for ``value`` under ``rendering``; None stays None (no answer)."""
    if value is None:
        return None
    options = _options(question) if question and isinstance(value, int) and not isinstance(value, bool) else []
    if options:
        if rendering.base is None:
            raise RenderingError(
                f"the tool returned the number {value} for a multiple-choice question, and its shown examples "
                "never settled whether numbers are option positions counted from 1 or from 0 (ambiguous rendering)"
            )
        position = value - rendering.base
        if not 0 <= position < len(options):
            raise RenderingError(
                f"option position {value} (counted from {rendering.base}) is out of range: "
                f"the question has {len(options)} options"
            )
        return f"({options[position][0]})"
    if isinstance(value, list | tuple):
        sep = " " if rendering.sep is None else rendering.sep
        return _text(sep.join(_item(v) for v in value), question)
    return _text(value, question)


def normalize_value(value: Any, question: str | None = None) -> str | None:
    """``render`` with the default rendering: for answers not made by a tool (a model's final line)."""
    return render(value, question)


def _separators(items: Sequence[Any], answer: str) -> list[str]:
    """Separators that may join ``items`` into ``answer``: the one read off the answer text first."""
    first, second = _item(items[0]), _item(items[1])
    found = []
    text = answer.strip()
    if first and second and text.startswith(first):
        at = text.find(second, len(first))
        if at >= 0:
            found.append(text[len(first) : at])
    return found + [s for s in COMMON_SEPARATORS if s not in found]


def _best(candidates: Counter[Any], preferred: Any) -> Any:
    top = max(candidates.values())
    best = [c for c, n in candidates.items() if n == top]
    return preferred if preferred in best else best[0]


def infer_rendering(
    values: Sequence[Any],
    questions: Sequence[str | None],
    answers: Sequence[str],
    check: Callable[[Any, str], bool],
    start: Rendering = DEFAULT,
) -> Rendering:
    """The rendering that turns the most shown values into their answers (all, for a right tool).

    Only what ``start`` left open is learned: a separator from list values of two or more
    items (the one read off the answer text first, else a common one the checker accepts), an
    option-position base from integer answers to multiple-choice questions. One rule for every
    value: where no rule fits all, the one that fits most is kept and the others fail.
    """
    seps: Counter[str] = Counter()
    bases: Counter[int] = Counter()
    for value, question, answer in zip(values, questions, answers, strict=True):
        if start.sep is None and isinstance(value, list | tuple) and len(value) >= 2:
            for candidate in _separators(value, answer):
                if check(render(value, question, Rendering(sep=candidate)), answer):
                    seps[candidate] += 1
            seps.setdefault(" ", 0)
        options = OPTION_LINE.findall(question) if question else []
        if start.base is None and options and isinstance(value, int) and not isinstance(value, bool):
            for start_at in (1, 0):
                try:
                    ok = check(render(value, question, Rendering(base=start_at)), answer)
                except RenderingError:
                    ok = False
                bases[start_at] += ok
    sep: str | None = start.sep if start.sep is not None else (_best(seps, " ") if seps else None)
    base: int | None = start.base if start.base is not None else (_best(bases, 1) if bases else None)
    return Rendering(sep=sep, base=base)


def render_or_none(value: Any, question: str | None = None, rendering: Rendering = DEFAULT) -> str | None:
    """``render``, with a value the rendering cannot turn into an answer as no answer (None)."""
    try:
        return render(value, question, rendering)
    except RenderingError:
        return None
