"""A tool's answers judged by the framework, never by the model: each case's value (a unit test, a use
case, a direct-solver call, a tool-user call, run in the sandbox by ``latm.judge.cases``) is made
answer text by the tool's one rendering (``latm.judge.rendering``) and compared with the known
answer by the task's checker. ``CaseOutcome`` says how each case fared, in words a repair message
may carry."""

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel

from latm.judge.cases import CaseRun
from latm.judge.rendering import DEFAULT, RenderingError, render
from tasks import TASKS
from tasks.base import option_letter
from toolcache import Rendering

Checker = Callable[[Any, str], bool]


def generic_check(prediction: Any, answer: str) -> bool:
    """Normalised comparison for tasks LATM does not know: option letters (plainly written: "A minor"
    is not "(A)"), spacing, a final period. Case counts: "small dog" is not "SMALL DOG" (a task may be
    about case), and a tool answers in the form its examples have."""
    if prediction is None:
        return False

    def norm(x: Any) -> str:
        return (option_letter(str(x)) or " ".join(str(x).split())).rstrip(".").strip()

    return norm(prediction) == norm(answer)


def checker_for(task: str) -> Checker:
    known = TASKS.get(task)
    return known.check if known else generic_check


Failure = Literal["wrong", "rejected", "crashed", "timeout", "unrenderable"]
FAILURE_WORDS: dict[str, str] = {  # fixed words: what a repair message may say about unseen questions
    "wrong": "wrong answers",
    "rejected": "raised ValueError (did not recognise the question)",
    "crashed": "crashed with another exception",
    "timeout": "timed out",
    "unrenderable": "returned a value the answer rendering cannot turn into an answer",
}


class CaseOutcome(BaseModel):
    passed: bool
    observed: Any = None  # the answer text (the raw value where it could not be rendered)
    error: str | None = None
    failure: Failure | None = None  # how it failed (None: passed)
    timed_out: bool = False
    entry: str | None = None  # the tool function whose calls were traced
    calls: list[str] | None = None  # the arguments it was called with (traced runs only)

    def describe(self, expected: str) -> str:
        if self.error:
            return f"error: {self.error}"
        text = f"expected {expected!r}, got {self.observed!r}" + _token_diff(expected, self.observed)
        if self.calls is None:
            return text
        if not self.calls:
            return f"{text}; `{self.entry}` was never called"
        return f"{text}; `{self.entry}` was called with ({self.calls[0]})"


def _token_diff(expected: str, observed: Any) -> str:
    """For answers of several words: which words are extra and which are missing."""
    if not isinstance(observed, str):
        return ""
    want, got = Counter(str(expected).split()), Counter(observed.split())
    if len(want) < 2:
        return ""
    if want == got:
        return " (the same words in another order)"
    extra, missing = list((got - want).elements()), list((want - got).elements())
    parts = [f"{label} {' '.join(words[:12])}" for label, words in (("extra:", extra), ("missing:", missing)) if words]
    return " (" + "; ".join(parts) + ")"


def judge(
    runs: Sequence[CaseRun],
    expected: Sequence[str],
    questions: Sequence[str | None],
    check: Checker,
    rendering: Rendering = DEFAULT,
    entry: str | None = None,
) -> list[CaseOutcome]:
    """Each run's value rendered by the tool's one rendering and checked against its answer."""
    out = []
    for run, answer, question in zip(runs, expected, questions, strict=True):
        if not run.ok:
            lines = (run.error or "").strip().splitlines()
            failure: Failure = "timeout" if run.timed_out else "crashed"
            if lines and lines[-1].startswith("ValueError") and not run.timed_out:
                failure = "rejected"
            out.append(CaseOutcome(passed=False, error=run.error, timed_out=run.timed_out, failure=failure))
            continue
        try:
            text = render(run.value, question, rendering)
        except RenderingError as exc:
            out.append(
                CaseOutcome(
                    passed=False,
                    observed=run.value,
                    error=str(exc),
                    entry=entry,
                    calls=run.calls,
                    failure="unrenderable",
                )
            )
            continue
        ok = check(text, answer)
        out.append(CaseOutcome(passed=ok, observed=text, entry=entry, calls=run.calls, failure=None if ok else "wrong"))
    return out


def as_text(value: Any) -> str | None:
    return None if value is None else str(value)
