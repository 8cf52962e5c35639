"""Held-out questions: a tool is admitted on questions its maker never saw (fresh generated instances of
a built-in task, or the user's examples kept back), and the verdict and its evidence are stored with
the tool.

A direct solver costs nothing to judge, so a built-in task's is judged on ``HELD_OUT_DIRECT`` fresh
questions (all right bounds its error rate at 1.0% with 95% confidence; a 2% bug is caught with
probability 1 - 0.98**300, over 99.7%), a tenth of them beyond the real distribution's edges where
the task has such a generator (words in no list of the code base, longer inputs). They run as one
sandbox batch, then again in reverse order in a fresh one: answers must not depend on order or on
how many calls came before (``Evidence.batch_limit`` records how many ran in one batch, and use
never runs more in one). The tool's function is judged too, with the arguments the solver's own
parser gave it (rendered, or completed by a use case's call code): a solver that gates on its
function but answers by itself fails there. A tool
judged through the user model costs tokens, so it gets ``HELD_OUT`` questions unless asked for more.
"""

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from latm._aio import run_sync
from latm.judge.arguments import shapes_seen
from latm.judge.cases import CaseRun, run_completed, run_completed_with, run_direct, run_direct_spied, run_functions
from latm.judge.checking import CaseOutcome, Checker, as_text, checker_for, judge
from latm.models.usage import Usage
from sandbox import Sandbox
from tasks import TASKS, Example
from toolcache import Evidence, HeldOut, Rendering, Tool, UseCase, VerificationExample

HELD_OUT = 10  # fresh instances of a built-in task for a tool judged through the user model (tokens)
HELD_OUT_DIRECT = 300  # ... for a direct solver (free): 0 wrong of 300 bounds the error rate at 1.0%
EDGE_SHARE = 10  # one in EDGE_SHARE generated held-out questions lies beyond the real distribution's edges
HELD_OUT_SHOWN_FAILURES = 5


def fresh_instances(
    task: str, n: int, seen: Sequence[str], seed: int | None = None, edges: int = 0
) -> tuple[list[Example], int, int]:
    """``n`` generated instances of a built-in task that are none of the ``seen`` questions, ``edges``
    of them (at most) beyond the real distribution's edges, spread among the others; with the seed
    and how many edge instances are among them."""
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    seen_set = {" ".join(q.split()) for q in seen}
    edge = [e for e in TASKS[task].generate_edges(edges, seed) if " ".join(e.question.split()) not in seen_set]
    regular = [e for e in TASKS[task].generate(n + len(seen_set), seed) if " ".join(e.question.split()) not in seen_set]
    mixed = regular[: n - len(edge)]
    step = max(1, len(mixed) // max(1, len(edge)))
    for i, e in enumerate(edge):
        mixed.insert(min(len(mixed), i * (step + 1)), e)
    chosen = mixed[:n]
    edge_questions = {e.question for e in edge}
    return chosen, seed, sum(e.question in edge_questions for e in chosen)


@dataclass
class HeldOutSet:
    """Questions the maker never saw, with where they came from."""

    examples: list[Example]
    source: str  # "generated" or "kept back" ("" when there are none)
    seed: int | None = None
    kinds: dict[str, int] = field(default_factory=dict)  # "generated", "edge", "kept back" -> how many


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


def held_out_set(task: str, kept_back: Sequence[Example] | None, seen: Sequence[str], n: int = HELD_OUT) -> HeldOutSet:
    """Questions the maker never saw: the user's kept-back examples, else ``n`` fresh instances of a
    built-in task (a new draw each time: failures are reported to the maker, so they count as seen;
    a tenth beyond the real distribution's edges where the task has them), else none."""
    if kept_back:
        return HeldOutSet(list(kept_back), "kept back", None, {"kept back": len(kept_back)})
    if task in TASKS and n > 0:
        wanted_edges = n // EDGE_SHARE if n >= EDGE_SHARE else 0
        fresh, seed, edges = fresh_instances(task, n, seen, edges=wanted_edges)
        kinds = {"generated": len(fresh) - edges, **({"edge": edges} if edges else {})}
        return HeldOutSet(fresh, "generated", seed, kinds)
    return HeldOutSet([], "")


def _order_outcomes(forward: Sequence[CaseRun], backward: Sequence[CaseRun]) -> list[str | None]:
    """For each question: why its answer depends on the order the questions ran in (None: it does not)."""
    out: list[str | None] = []
    for f, b in zip(forward, backward, strict=True):
        if f.ok != b.ok or (f.ok and f.value != b.value):
            first = f.value if f.ok else f"an error ({(f.error or '').splitlines()[-1:]})"
            second = b.value if b.ok else f"an error ({(b.error or '').splitlines()[-1:]})"
            out.append(f"answered {first!r} in one order and {second!r} in another")
        else:
            out.append(None)
    return out


def judge_direct_held_out(
    sb: Sandbox,
    tool_code: str,
    direct: str,
    entry: str,
    held: HeldOutSet,
    check: Checker,
    rendering: Rendering,
    shown: Sequence[Example] = (),
    use_cases: Sequence[UseCase] = (),
) -> tuple[HeldOut, list[CaseOutcome], Evidence]:
    """A direct solver on held-out questions, alone, as it will be used, in two orders; and its
    function on them too, with the arguments the solver's own parser gave it: its value rendered
    where it answers the ``shown`` examples that way by itself, else completed by a use case's call
    code where one completes every shown example's answer from those arguments (a function that
    returns a part of the answer). Returns the verdict, each question's outcome (a question passes
    only when all of that holds) and the evidence."""
    examples = held.examples
    questions, expected = [e.question for e in examples], [e.answer for e in examples]
    runs = run_direct_spied(sb, tool_code, direct, entry, questions)
    backward = list(reversed(run_direct(sb, tool_code, direct, list(reversed(questions)))))
    outcomes = judge(runs, expected, questions, check, rendering)
    for i, why in enumerate(_order_outcomes(runs, backward)):
        if why is not None:
            outcomes[i] = CaseOutcome(passed=False, observed=outcomes[i].observed, error=why, failure="wrong")
    called = [i for i, r in enumerate(runs) if r.ok and r.arguments is not None and outcomes[i].passed]
    path = _function_path(sb, tool_code, direct, entry, shown, use_cases, check, rendering) if called else None
    if path is None:
        called = []  # the function was not judged on its own: the cheap model never calls it (direct only)
    else:
        how, function_runs = path.run(sb, tool_code, entry, [(questions[i], runs[i].arguments or {}) for i in called])
        judged = judge(function_runs, [expected[i] for i in called], [questions[i] for i in called], check, rendering)
        for i, fn in zip(called, judged, strict=True):
            if not fn.passed:
                why = f"the solver answered rightly, but `{entry}` called with the solver's own arguments{how} " + (
                    f"gave {fn.observed!r}" if fn.error is None else f"failed: {fn.error}"
                )
                outcomes[i] = CaseOutcome(passed=False, observed=fn.observed, error=why, failure="wrong")
    verdict = held_out_verdict(outcomes, examples, source=held.source, judged_by="direct solver", seed=held.seed)
    evidence = Evidence(
        held_out=len(outcomes),
        wrong=sum(not o.passed for o in outcomes),
        kinds=dict(held.kinds),
        batch_limit=len(questions),
        orders=2,
        functions_checked=len(called),
        function_completed=path is not None and path.call is not None and bool(called),
        argument_shapes=shapes_seen(runs[i].arguments or {} for i in called),
    )
    return verdict, outcomes, evidence


class ToolUserLike(Protocol):
    """What held-out judging needs of the tool user (``latm.use.ToolUser``)."""

    async def ause(self, tool: Tool, question: str, *, skip_direct: bool = False) -> Any: ...


@dataclass
class FunctionPath:
    """How the function's value becomes an answer without the solver: rendered as it is (``call``
    None), or completed by a use case's call code."""

    call: str | None = None

    def run(
        self, sb: Sandbox, tool_code: str, entry: str, given: Sequence[tuple[str, dict[str, Any]]]
    ) -> tuple[str, list[CaseRun]]:
        """The function on each (question, arguments); with a phrase saying how it was called."""
        if self.call is None:
            return "", run_functions(sb, tool_code, entry, [a for _, a in given])
        return " (completed by a use case's call code)", run_completed(sb, tool_code, self.call, entry, given)


def _function_path(
    sb: Sandbox,
    tool_code: str,
    direct: str,
    entry: str,
    shown: Sequence[Example],
    use_cases: Sequence[UseCase],
    check: Checker,
    rendering: Rendering,
) -> FunctionPath | None:
    """How the function, called with the solver's arguments, answers every shown example without the
    solver: by itself, or completed by one use case's call code (the same code for every example, so
    it is generic), where that code passes the function the same form of arguments the solver does
    and completes the answer from the function's value alone; None when neither holds (the function
    is then judged only through the solver)."""
    if not shown:
        return None
    runs = run_direct_spied(sb, tool_code, direct, entry, [e.question for e in shown])
    if not all(r.ok and r.arguments is not None for r in runs):
        return None
    given = [(e.question, r.arguments or {}) for e, r in zip(shown, runs, strict=True)]
    answers, questions = [e.answer for e in shown], [e.question for e in shown]
    for path in [FunctionPath(), *(FunctionPath(u.call) for u in use_cases if entry in u.call)]:
        _, values = path.run(sb, tool_code, entry, given)
        if not all(o.passed for o in judge(values, answers, questions, check, rendering)):
            continue
        if path.call is None:
            return path
        same_form = all(
            v.arguments is not None and shapes_seen([v.arguments]) == shapes_seen([a])
            for v, (_, a) in zip(values, given, strict=True)
        )
        if same_form and _completes_from_value(sb, tool_code, entry, path.call, shown, runs, check, rendering):
            return path
    return None


def _completes_from_value(
    sb: Sandbox,
    tool_code: str,
    entry: str,
    call: str,
    shown: Sequence[Example],
    runs: Sequence[CaseRun],
    check: Checker,
    rendering: Rendering,
) -> bool:
    """Whether the call code, its function answering the value it returned for one shown question while
    the code runs on another, gives the first question's answer: the answer comes from the function's
    value (a call code that checks the value only as a gate and works the answer out itself does not)."""
    if len(shown) < 2 or any(r.returned is None for r in runs):
        return False
    crossed = [(shown[(k + 1) % len(shown)].question, runs[k].returned or "") for k in range(len(shown))]
    values = run_completed_with(sb, tool_code, call, entry, crossed)
    outcomes = judge(values, [e.answer for e in shown], [e.question for e in shown], check, rendering)
    return all(o.passed for o in outcomes)


def judge_through_user(
    user: ToolUserLike, tool: Tool, held: HeldOutSet, check: Checker, *, judged_by: str
) -> tuple[HeldOut, Usage, Evidence]:
    """A tool's function on held-out questions through the tool user (its model writes each call, as
    in use); the verdict, the tokens it cost (making cost) and the evidence."""
    examples, source, seed = held.examples, held.source, held.seed

    async def answer_all() -> list[Any]:
        return list(await asyncio.gather(*(user.ause(tool, ex.question, skip_direct=True) for ex in examples)))

    answers = run_sync(answer_all())
    usage = Usage()
    outcomes = []
    for ex, answer in zip(examples, answers, strict=True):
        usage.merge(answer.usage)
        ok = answer.value is not None and check(answer.value, ex.answer)
        outcomes.append(CaseOutcome(passed=ok, observed=answer.value, error=answer.error))
    verdict = held_out_verdict(outcomes, examples, source=source, judged_by=judged_by, seed=seed)
    wrong = sum(not o.passed for o in outcomes)
    return verdict, usage, Evidence(held_out=len(outcomes), wrong=wrong, kinds=dict(held.kinds), batch_limit=1)
