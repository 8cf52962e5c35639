"""Held-out questions: a tool is admitted on questions its maker never saw (fresh generated instances of
a built-in task, or the user's examples kept back), and the verdict is stored with the tool."""

import asyncio
import random
from collections.abc import Sequence
from typing import Any, Protocol

from latm._aio import run_sync
from latm.judge.cases import run_direct
from latm.judge.checking import CaseOutcome, Checker, as_text, checker_for, judge
from latm.models.usage import Usage
from sandbox import Sandbox
from tasks import TASKS, Example
from toolcache import HeldOut, Rendering, Tool, VerificationExample

HELD_OUT = 10  # fresh instances a built-in task's tool is judged on
HELD_OUT_SHOWN_FAILURES = 5


def fresh_instances(task: str, n: int, seen: Sequence[str], seed: int | None = None) -> tuple[list[Example], int]:
    """``n`` generated instances of a built-in task that are none of the ``seen`` questions."""
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    seen_set = {" ".join(q.split()) for q in seen}
    fresh = [e for e in TASKS[task].generate(n + len(seen_set), seed) if " ".join(e.question.split()) not in seen_set]
    return fresh[:n], seed


def held_out_verdict(
    outcomes: Sequence[CaseOutcome],
    examples: Sequence[Example],
    *,
    source: str,
    judged_by: str,
    seed: int | None = None,
) -> HeldOut:
    failures = [
        VerificationExample(
            question=ex.question, expected=ex.answer, observed=as_text(o.observed), passed=False, error=o.error
        )
        for ex, o in zip(examples, outcomes, strict=True)
        if not o.passed
    ]
    return HeldOut(
        passed=sum(o.passed for o in outcomes),
        total=len(outcomes),
        source=source,
        judged_by=judged_by,
        seed=seed,
        failures=failures[:HELD_OUT_SHOWN_FAILURES],
    )


def judge_direct(
    sb: Sandbox, tool: Tool, examples: Sequence[Example], check: Checker | None = None
) -> list[CaseOutcome]:
    """The tool's direct solver on ``examples``, judged with the tool's rendering."""
    assert tool.direct is not None
    runs = run_direct(sb, tool.code, tool.direct, [e.question for e in examples])
    questions = [e.question for e in examples]
    return judge(runs, [e.answer for e in examples], questions, check or checker_for(tool.task), tool.rendering)


def held_out_set(
    task: str, kept_back: Sequence[Example] | None, seen: Sequence[str], n: int = HELD_OUT
) -> tuple[list[Example], str, int | None]:
    """Questions the maker never saw, with where they came from: the user's kept-back examples, else
    ``n`` fresh instances of a built-in task (a new draw each time: failures are reported to the
    maker, so they count as seen), else none."""
    if kept_back:
        return list(kept_back), "kept back", None
    if task in TASKS and n > 0:
        fresh, seed = fresh_instances(task, n, seen)
        return fresh, "generated", seed
    return [], "", None


def judge_direct_held_out(
    sb: Sandbox,
    tool_code: str,
    direct: str,
    examples: Sequence[Example],
    check: Checker,
    rendering: Rendering,
    source: str,
    seed: int | None,
) -> tuple[HeldOut, list[CaseOutcome]]:
    """A direct solver on held-out questions, alone, as it will be used: the verdict and each outcome."""
    runs = run_direct(sb, tool_code, direct, [ex.question for ex in examples])
    outcomes = judge(runs, [e.answer for e in examples], [e.question for e in examples], check, rendering)
    return held_out_verdict(outcomes, examples, source=source, judged_by="direct solver", seed=seed), outcomes


class ToolUserLike(Protocol):
    """What held-out judging needs of the tool user (``latm.use.ToolUser``)."""

    async def ause(self, tool: Tool, question: str, *, skip_direct: bool = False) -> Any: ...


def judge_through_user(
    user: ToolUserLike,
    tool: Tool,
    examples: Sequence[Example],
    check: Checker,
    source: str,
    seed: int | None,
    *,
    judged_by: str,
) -> tuple[HeldOut, Usage]:
    """A tool's function on held-out questions through the tool user (its model writes each call, as
    in use); the verdict and the tokens it cost (making cost)."""

    async def answer_all() -> list[Any]:
        return list(await asyncio.gather(*(user.ause(tool, ex.question, skip_direct=True) for ex in examples)))

    answers = run_sync(answer_all())
    usage = Usage()
    outcomes = []
    for ex, answer in zip(examples, answers, strict=True):
        usage.merge(answer.usage)
        ok = answer.value is not None and check(answer.value, ex.answer)
        outcomes.append(CaseOutcome(passed=ok, observed=answer.value, error=answer.error))
    return held_out_verdict(outcomes, examples, source=source, judged_by=judged_by, seed=seed), usage
