"""Running a tool's cases in the sandbox and judging them ourselves.

The paper trusts the model's own asserts; we do not. Each case (a unit test, a use case or
a direct-solver call) is run in the sandbox to get its ``ans``, which the framework
compares with the known answer. A case that still gives the right answer when the tool's
functions are replaced by broken ones is *vacuous* (it types the answer in, or computes it
without the tool) and is rejected.
"""

import ast
import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pydantic import BaseModel

from sandbox import ExecutionResult, Sandbox
from tasks import TASKS
from tasks.base import normalize_option
from toolcache import Tool, ToolCache, Verification, VerificationExample

Checker = Callable[[Any, str], bool]

HARNESS = """

def _latm_case(_latm_src):
    _latm_ns = dict(globals())
    exec(_latm_src, _latm_ns)
    if "ans" not in _latm_ns:
        raise NameError("the code did not set a variable named `ans`")
    return _latm_jsonable(_latm_ns["ans"])


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

    def describe(self, expected: str) -> str:
        if self.error:
            return f"error: {self.error}"
        return f"expected {expected!r}, got {self.observed!r}"


def broken(tool_code: str) -> str:
    """The tool with every top-level function replaced by one that raises."""
    names = [n.name for n in ast.parse(tool_code).body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    stubs = "".join(
        f"\n\ndef {name}(*args, **kwargs):\n    raise RuntimeError('deliberately broken (vacuity check)')\n"
        for name in names
    )
    return tool_code + stubs


def _outcomes(results: Sequence[ExecutionResult], expected: Sequence[str], check: Checker) -> list[CaseOutcome]:
    out = []
    for r, exp in zip(results, expected, strict=True):
        if r.ok:
            out.append(CaseOutcome(passed=check(r.value, exp), observed=r.value))
        else:
            err = r.error
            text = (err.traceback.strip().splitlines()[-1] if err and err.traceback else str(err)) if err else "failed"
            if err and err.lineno and err.traceback:
                text = err.traceback.strip()[-600:]
            out.append(CaseOutcome(passed=False, error=text, timed_out=r.timed_out))
    return out


def run_cases(
    sb: Sandbox, tool_code: str, cases: Sequence[str], expected: Sequence[str], check: Checker
) -> list[CaseOutcome]:
    """Runs each case (code setting ``ans``) after the tool code; judges ``ans``."""
    results = sb.call_many(tool_code + HARNESS, "_latm_case", [([c], {}) for c in cases])
    return _outcomes(results, expected, check)


def run_direct(
    sb: Sandbox,
    tool_code: str,
    direct: str,
    questions: Sequence[str],
    expected: Sequence[str],
    check: Checker,
) -> list[CaseOutcome]:
    results = sb.call_many(tool_code + "\n\n" + direct + HARNESS, "_latm_direct", [([q], {}) for q in questions])
    return _outcomes(results, expected, check)


def vacuous_cases(
    sb: Sandbox, tool_code: str, cases: Sequence[str], expected: Sequence[str], check: Checker
) -> list[int]:
    """Indexes of cases that still pass with a broken tool."""
    outcomes = run_cases(sb, broken(tool_code), cases, expected, check)
    return [i for i, o in enumerate(outcomes) if o.passed]


def stored_cases(tool: Tool) -> tuple[list[VerificationExample], list[str], list[str]]:
    """A stored tool's verification examples, and all its cases (tests, then use cases) with answers."""
    examples = [e for e in tool.verification.examples if e.call]
    cases = [e.call for e in examples] + [u.call for u in tool.use_cases]
    expected = [e.expected for e in examples] + [u.answer for u in tool.use_cases]
    return examples, cases, expected


def reverify(cache: ToolCache, tool: Tool, sandbox: Sandbox | None = None) -> Verification:
    """Re-runs a stored tool's verification and use cases; quarantines it on any failure."""
    check = checker_for(tool.task)
    examples, cases, expected = stored_cases(tool)
    with contextlib.ExitStack() as stack:
        sb = sandbox or stack.enter_context(Sandbox.open())
        outcomes = run_cases(sb, tool.code, cases, expected, check) if cases else []
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
            _, cases, expected = stored_cases(tool)
            outcomes = run_cases(sb, tool.code, cases, expected, checker_for(tool.task)) if cases else []
            return bool(outcomes) and all(o.passed for o in outcomes)

        yield verify
