"""Running a tool's cases in the sandbox and judging them ourselves.

The paper trusts the model's own asserts; we do not. Each case (a unit test, a use case or
a direct-solver call) is run in the sandbox to get its ``ans``, which the framework
compares with the known answer. A case that still gives the right answer when the tool's
functions are replaced by broken ones is *vacuous* (it types the answer in, or computes it
without the tool) and is rejected.
"""

import ast
import contextlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pydantic import BaseModel

from latm.answers import normalize_value
from sandbox import ExecutionResult, Sandbox
from tasks import TASKS
from tasks.base import normalize_option
from toolcache import Tool, ToolCache, Verification, VerificationExample

Checker = Callable[[Any, str], bool]

HARNESS = """

def _latm_exec(_latm_src, _latm_question, _latm_overrides):
    _latm_ns = dict(globals())
    _latm_ns.update(_latm_overrides)
    if _latm_question is not None:
        _latm_ns["question"] = _latm_question
    exec(_latm_src, _latm_ns)
    if "ans" not in _latm_ns:
        raise NameError("the code did not set a variable named `ans`")
    return _latm_ns["ans"]


def _latm_case(_latm_src, _latm_question=None):
    return _latm_jsonable(_latm_exec(_latm_src, _latm_question, {}))


def _latm_traced_case(_latm_src, _latm_question, _latm_entry):
    # Like _latm_case, and also reports what the function was called with.
    _latm_calls = []
    _latm_fn = globals().get(_latm_entry)

    def _latm_spy(*args, **kwargs):
        shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
        _latm_calls.append(shown[:300] + ("..." if len(shown) > 300 else ""))
        return _latm_fn(*args, **kwargs)

    _latm_spied = {_latm_entry: _latm_spy} if callable(_latm_fn) else {}
    _latm_ans = _latm_exec(_latm_src, _latm_question, _latm_spied)
    return {"ans": _latm_jsonable(_latm_ans), "calls": _latm_calls[:2]}


def _latm_direct(_latm_question):
    return _latm_jsonable(solve(_latm_question))


def _latm_jsonable(value):
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
"""


def generic_check(prediction: Any, answer: str) -> bool:
    """Normalised comparison for tasks LATM does not know: option letters, spacing, a final period."""
    if prediction is None:
        return False

    def norm(x: Any) -> str:
        return normalize_option(str(x)).rstrip(".").strip().lower()

    return norm(prediction) == norm(answer)


def checker_for(task: str) -> Checker:
    known = TASKS.get(task)
    return known.check if known else generic_check


class CaseOutcome(BaseModel):
    passed: bool
    observed: Any = None
    error: str | None = None
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


def _without_harness(traceback: str) -> str:
    """A traceback without the frames of our harness (``_latm_*``), which only confuse the model."""
    lines = traceback.splitlines()
    out, skip = [], False
    for line in lines:
        if line.startswith("  File "):
            skip = ", in _latm_" in line
        elif not line.startswith("    "):
            skip = False
        if not skip:
            out.append(line)
    return "\n".join(out)


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


def broken(tool_code: str) -> str:
    """The tool with every top-level function replaced by one that raises."""
    names = [n.name for n in ast.parse(tool_code).body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    stubs = "".join(
        f"\n\ndef {name}(*args, **kwargs):\n    raise RuntimeError('deliberately broken (vacuity check)')\n"
        for name in names
    )
    return tool_code + stubs


def _outcomes(
    results: Sequence[ExecutionResult],
    expected: Sequence[str],
    check: Checker,
    questions: Sequence[str | None],
    entry: str | None = None,
) -> list[CaseOutcome]:
    out = []
    for r, exp, question in zip(results, expected, questions, strict=True):
        if r.ok:
            value, calls = r.value, None
            if entry is not None and isinstance(value, dict):
                value, calls = value.get("ans"), value.get("calls")
            judged = normalize_value(value, question) if question and isinstance(value, str | list | tuple) else value
            out.append(CaseOutcome(passed=check(judged, exp), observed=value, entry=entry, calls=calls))
        else:
            err = r.error
            text = (err.traceback.strip().splitlines()[-1] if err and err.traceback else str(err)) if err else "failed"
            if err and err.lineno and err.traceback:
                text = _without_harness(err.traceback).strip()[-600:]
            out.append(CaseOutcome(passed=False, error=text, timed_out=r.timed_out))
    return out


def run_cases(
    sb: Sandbox,
    tool_code: str,
    cases: Sequence[str],
    expected: Sequence[str],
    check: Checker,
    questions: Sequence[str | None] | None = None,
    entry: str | None = None,
) -> list[CaseOutcome]:
    """Runs each case (code setting ``ans``) after the tool code; judges ``ans``.

    Each case sees its question's text in the variable ``question``, so it can parse its
    arguments with code instead of copying them by hand (small models mistype them). With
    ``entry``, the calls of that function are traced, for repair messages.
    """
    qs = list(questions) if questions is not None else [None] * len(cases)
    if entry is None:
        calls = [([c, q], {}) for c, q in zip(cases, qs, strict=True)]
        return _outcomes(sb.call_many(tool_code + HARNESS, "_latm_case", calls), expected, check, qs)
    calls = [([c, q, entry], {}) for c, q in zip(cases, qs, strict=True)]
    return _outcomes(sb.call_many(tool_code + HARNESS, "_latm_traced_case", calls), expected, check, qs, entry)


def run_direct(
    sb: Sandbox,
    tool_code: str,
    direct: str,
    questions: Sequence[str],
    expected: Sequence[str],
    check: Checker,
) -> list[CaseOutcome]:
    results = sb.call_many(tool_code + "\n\n" + direct + HARNESS, "_latm_direct", [([q], {}) for q in questions])
    return _outcomes(results, expected, check, questions)


def vacuous_cases(
    sb: Sandbox,
    tool_code: str,
    cases: Sequence[str],
    expected: Sequence[str],
    check: Checker,
    questions: Sequence[str | None] | None = None,
) -> list[int]:
    """Indexes of cases that still pass with a broken tool."""
    outcomes = run_cases(sb, broken(tool_code), cases, expected, check, questions)
    return [i for i, o in enumerate(outcomes) if o.passed]


class StoredCases(BaseModel):
    """A stored tool's checkable cases: its unit tests, then its use cases."""

    examples: list[VerificationExample]
    cases: list[str]
    expected: list[str]
    questions: list[str]


def stored_cases(tool: Tool) -> StoredCases:
    examples = [e for e in tool.verification.examples if e.call]
    return StoredCases(
        examples=examples,
        cases=[e.call for e in examples if e.call] + [u.call for u in tool.use_cases],
        expected=[e.expected for e in examples] + [u.answer for u in tool.use_cases],
        questions=[e.question for e in examples] + [u.question for u in tool.use_cases],
    )


def run_stored(sb: Sandbox, tool: Tool) -> list[CaseOutcome]:
    stored = stored_cases(tool)
    if not stored.cases:
        return []
    return run_cases(sb, tool.code, stored.cases, stored.expected, checker_for(tool.task), stored.questions)


def reverify(cache: ToolCache, tool: Tool, sandbox: Sandbox | None = None) -> Verification:
    """Re-runs a stored tool's verification and use cases; quarantines it on any failure."""
    check = checker_for(tool.task)
    examples = stored_cases(tool).examples
    with contextlib.ExitStack() as stack:
        sb = sandbox or stack.enter_context(Sandbox.open())
        outcomes = run_stored(sb, tool)
        if tool.direct:
            qs = [e.question for e in examples]
            outcomes += run_direct(sb, tool.code, tool.direct, qs, [e.expected for e in examples], check)
    report = Verification(
        examples=[
            VerificationExample(
                question=e.question,
                expected=e.expected,
                observed=as_text(o.observed),
                passed=o.passed,
                call=e.call,
                error=o.error,
            )
            for e, o in zip(examples, outcomes, strict=False)
        ],
        passed=sum(o.passed for o in outcomes),
        total=len(outcomes),
        attempts=tool.verification.attempts,
    )
    updated = tool.model_copy(update={"verification": report})
    if not report.ok:
        updated.status = "quarantined"
    cache.update(updated)
    return report


def as_text(value: Any) -> str | None:
    return None if value is None else str(value)


@contextlib.contextmanager
def sandbox_verifier() -> Iterator[Callable[[Tool], bool]]:
    """A verifier for ``ToolCache.import_``: re-runs a tool's cases in one shared sandbox."""
    with Sandbox.open() as sb:

        def verify(tool: Tool) -> bool:
            outcomes = run_stored(sb, tool)
            return bool(outcomes) and all(o.passed for o in outcomes)

        yield verify
