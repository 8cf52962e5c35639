"""A stored tool judged again (``latm cache verify``, an import): every check runs anew in the sandbox
and the verdict is written back; a tool that fails any check is quarantined."""

import contextlib
from collections.abc import Sequence

from pydantic import BaseModel, Field

from latm.judge.cases import run_cases
from latm.judge.checking import CaseOutcome, as_text, checker_for, judge
from latm.judge.held_out import HELD_OUT, fresh_instances, held_out_verdict, judge_direct
from latm.judge.mutations import direct_survives_mutation, vacuous_cases
from latm.judge.strictness import captured, reprobe, strictness_probes
from latm.text import clip
from sandbox import Sandbox
from tasks import TASKS, Example
from toolcache import HeldOut, Tool, ToolCache, Verification, VerificationExample


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


class Check(BaseModel):
    """One check of a stored tool: how many of its cases passed, or why it could not run."""

    name: str
    passed: int = 0
    total: int = 0
    skipped: str | None = None
    failures: list[str] = Field(default_factory=list)  # the first few, described

    @property
    def ok(self) -> bool:
        return self.skipped is None and self.passed == self.total


class Reverification(BaseModel):
    """What ``reverify`` ran on a stored tool, what failed, and what it wrote back."""

    tool_id: str
    checks: list[Check]
    verified_here: bool  # every check ran and passed, the held-out one included
    status: str
    record: str  # what was written to the stored record

    @property
    def ok(self) -> bool:
        return all(c.ok or c.skipped for c in self.checks)


def _check(name: str, outcomes: Sequence[CaseOutcome], expected: Sequence[str], questions: Sequence[str]) -> Check:
    failures = [
        f"{clip(q, 80)!r}: {o.describe(e)}"
        for o, e, q in zip(outcomes, expected, questions, strict=True)
        if not o.passed
    ]
    return Check(name=name, passed=sum(o.passed for o in outcomes), total=len(outcomes), failures=failures[:5])


def reverify(
    cache: ToolCache,
    tool: Tool,
    sandbox: Sandbox | None = None,
    examples: Sequence[Example] | None = None,
    held_out: int = HELD_OUT,
) -> Reverification:
    """Runs every check of a stored tool again, in the sandbox, and writes the verdict back.

    The checks: its unit tests and use cases (judged by us, with its rendering), the mutations
    of those cases, its direct solver on the stored examples, that solver's use of the tool and
    its strictness, and the held-out questions: fresh generated instances of a built-in task,
    else ``examples`` (given by the user, e.g. at import). A tool that fails any check is
    quarantined; one that passes them all, held-out included, is verified here. (An imported
    record's own expected answers prove nothing by themselves: a forger edits both.)
    """
    check = checker_for(tool.task)
    stored = stored_cases(tool)
    n_tests = len(stored.examples)
    checks: list[Check] = []
    new_held: HeldOut | None = tool.verification.held_out
    held_ran = False
    with contextlib.ExitStack() as stack:
        sb = sandbox or stack.enter_context(Sandbox.open())
        outcomes: list[CaseOutcome] = []
        if stored.cases:
            runs = run_cases(sb, tool.code, stored.cases, stored.questions, tool.entry.name)
            outcomes = judge(runs, stored.expected, stored.questions, check, tool.rendering)
            split = [(0, n_tests, "unit tests"), (n_tests, len(stored.cases), "use cases")]
            for a, b, name in split:
                if b > a:
                    checks.append(_check(name, outcomes[a:b], stored.expected[a:b], stored.questions[a:b]))
            empty = vacuous_cases(
                sb, tool.code, stored.cases, stored.expected, stored.questions, check, tool.rendering, runs
            )
            checks.append(
                Check(
                    name="mutations (each case fails with a broken tool)",
                    passed=len(stored.cases) - len(empty),
                    total=len(stored.cases),
                    failures=[
                        f"case {i + 1} still answers {clip(stored.questions[i], 60)!r} with the tool broken"
                        for i in empty
                    ],
                )
            )
        else:
            checks.append(Check(name="unit tests and use cases", skipped="the record holds no runnable case"))
        shown = [Example(question=q, answer=a) for q, a in zip(stored.questions, stored.expected, strict=True)]
        if tool.direct:
            direct = judge_direct(sb, tool, shown, check)
            checks.append(_check("direct solver on the stored examples", direct, stored.expected, stored.questions))
            vacuous = direct_survives_mutation(
                sb, tool.code, tool.direct, stored.questions, stored.expected, check, tool.rendering, tool.entry.name
            )
            checks.append(
                Check(
                    name="direct solver uses the tool",
                    passed=0 if vacuous else 1,
                    total=1,
                    failures=["it answers without the tool's functions"] if vacuous else [],
                )
            )
            probes = strictness_probes(tool.task, cache)
            caught = captured(sb, tool.code, tool.direct, probes, tool.rendering)
            checks.append(
                Check(
                    name="direct solver strictness (other tasks' questions)",
                    passed=len(probes) - len(caught),
                    total=len(probes),
                    failures=[f"answered {a!r} to a {p.task} question" for p, a in caught[:5]],
                )
            )
        if tool.task in TASKS:
            held, seed, _ = fresh_instances(tool.task, held_out, stored.questions)
            source = "generated"
        elif examples:
            held, seed, source = list(examples), None, "given at import"
        else:
            held, seed, source = [], None, ""
        if not held:
            checks.append(
                Check(name="held-out questions", skipped="a task LATM cannot generate: give examples (--examples FILE)")
            )
        elif not tool.direct:
            checks.append(
                Check(name="held-out questions", skipped="no direct solver; judging the function needs a user model")
            )
        else:
            held_outcomes = judge_direct(sb, tool, held, check)
            new_held = held_out_verdict(held_outcomes, held, source=source, judged_by="direct solver", seed=seed)
            held_ran = True
            checks.append(
                _check(
                    f"held-out questions ({source})",
                    held_outcomes,
                    [e.answer for e in held],
                    [e.question for e in held],
                )
            )
    failed = any(not c.ok and c.skipped is None for c in checks)
    here = tool.verification.here if not held_ran else not failed
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
            for e, o in zip(stored.examples, outcomes, strict=False)
        ],
        passed=sum(c.passed for c in checks if c.skipped is None),
        total=sum(c.total for c in checks if c.skipped is None),
        attempts=tool.verification.attempts,
        held_out=new_held,
        here=here and not failed,
        trusted=tool.verification.trusted,
    )
    status = "quarantined" if failed else tool.status
    cache.update(tool.model_copy(update={"verification": report, "status": status}))
    if failed or (held_ran and not failed):  # a tool that left the routable ones, or joined them
        reprobe(cache, tool, sb, left=failed)
    record = (
        f"stored record updated: verification re-run at {report.checked_at:%Y-%m-%d %H:%M} UTC"
        + (f", held-out {new_held.passed}/{new_held.total} ({source})" if held_ran and new_held else "")
        + (", status quarantined" if failed else "")
    )
    return Reverification(
        tool_id=tool.id, checks=checks, verified_here=held_ran and not failed, status=status, record=record
    )
