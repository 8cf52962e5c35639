"""The judge: where a tool is judged, on its answers, by the framework, never by the model.

The paper trusts the model's own asserts; we do not. Every case (a unit test, a use case, a
direct-solver call, a tool-user call) runs in the sandbox (``latm.judge.cases``) to get a value,
the tool's one rendering (``latm.judge.rendering``) makes it answer text, and the task's checker
compares it with the known answer. On top of that:

- **mutations**: each case runs again with the tool's functions replaced by ones that raise,
  that return a sentinel, and that return what the tool returned for another question; a
  case whose answer survives any of them does not test the tool (it types the answer in, or
  computes it without the tool) and is refused;
- **held-out questions**: a tool is admitted on questions its maker never saw: fresh
  generated instances of a built-in task, or the user's examples kept back;
- **strictness**: a direct solver is asked the questions of every other task the registry and
  the cache know; one that answers another task's question wrongly is refused;
- **carried answers**: tool code holding the shown answers (or one shown question's own text)
  as literals is named as such.
"""

import ast
import contextlib
import random
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from latm.judge.cases import CaseRun, mutated, run_cases, run_direct, run_mutants
from latm.judge.rendering import DEFAULT, RenderingError, render
from sandbox import Sandbox
from tasks import TASKS, Example
from tasks.base import normalize_option
from toolcache import HeldOut, Rendering, Tool, ToolCache, Verification, VerificationExample

Checker = Callable[[Any, str], bool]
UNRELATED_QUESTION = "What is the capital of France? Please answer in one word."
PROBES_PER_TASK = 3
HELD_OUT = 10  # fresh instances a built-in task's tool is judged on
HELD_OUT_SHOWN_FAILURES = 5


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


# -- mutations ---------------------------------------------------------------------------------


def _other_question(i: int, runs: Sequence[CaseRun], expected: Sequence[str], check: Checker) -> int | None:
    """A case whose tool returned something else and whose answer differs: its values are replayed."""
    n = len(runs)
    for step in range(1, n):
        j = (i + step) % n
        if runs[j].returns and runs[j].returns != runs[i].returns and not check(expected[j], expected[i]):
            return j
    return None


def vacuous_cases(
    sb: Sandbox,
    tool_code: str,
    cases: Sequence[str],
    expected: Sequence[str],
    questions: Sequence[str | None],
    check: Checker,
    rendering: Rendering,
    traced: Sequence[CaseRun],
) -> list[int]:
    """Indexes of cases whose answer survives a mutated tool (so they do not test it).

    Three mutations, each in one sandbox round: every tool function raises; returns a
    sentinel; returns (in order) what the tool returned for another question with another
    answer. A case that still gives its expected answer under any of them is vacuous.
    """
    token = "latm-sentinel-" + secrets.token_hex(6)
    replays: list[dict[str, list[str | None]] | None] = []
    for i in range(len(cases)):
        j = _other_question(i, traced, expected, check)
        replays.append(traced[j].returns if j is not None else None)
    survivors: set[int] = set()
    for mode in ("raise", "sentinel"):
        runs = run_mutants(sb, tool_code, cases, questions, mode, token)  # type: ignore[arg-type]
        survivors |= {i for i, o in enumerate(judge(runs, expected, questions, check, rendering)) if o.passed}
    replayable = [i for i, r in enumerate(replays) if r is not None]
    if replayable:
        runs = run_mutants(
            sb,
            tool_code,
            [cases[i] for i in replayable],
            [questions[i] for i in replayable],
            "replay",
            token,
            [replays[i] for i in replayable],
        )
        outcomes = judge(runs, [expected[i] for i in replayable], [questions[i] for i in replayable], check, rendering)
        survivors |= {i for i, o in zip(replayable, outcomes, strict=True) if o.passed}
    return sorted(survivors)


def direct_survives_mutation(
    sb: Sandbox,
    tool_code: str,
    direct: str,
    questions: Sequence[str],
    expected: Sequence[str],
    check: Checker,
    rendering: Rendering,
) -> bool:
    """True when ``solve``'s answers do not come from the tool's functions.

    With the functions raising or returning a sentinel, any right answer gives it away; with
    them returning their first argument unchanged, all answers still right do (the solver did
    the work around a function that does nothing)."""
    token = "latm-sentinel-" + secrets.token_hex(6)
    for mode in ("raise", "sentinel", "identity"):
        runs = run_direct(sb, mutated(tool_code, mode, token), direct, questions)  # type: ignore[arg-type]
        passed = [o.passed for o in judge(runs, expected, questions, check, rendering)]
        if all(passed) if mode == "identity" else any(passed):
            return True
    return False


# -- literals of the shown examples in the tool's code -----------------------------------------


def _constants(code: str) -> tuple[list[str], list[int]]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [], []
    strings, ints = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                strings.append(" ".join(node.value.split()))
            elif isinstance(node.value, int) and not isinstance(node.value, bool):
                ints.append(node.value)
    return strings, ints


def _distinctive(answer: str, question: str) -> bool:
    """An answer worth looking for in code: long enough, not an option letter, not copied from its question."""
    text = " ".join(answer.split())
    if normalize_option(text) != text or text in " ".join(question.split()):
        return False
    return len(text) >= 6 or len(text.split()) >= 2 or (text.isdigit() and len(text) >= 3)


def carried_literals(code: str, shown: Sequence[Example]) -> list[str]:
    """What of the shown examples the code carries as literals: answers, or one question's own text.

    A generic tool computes its answers; a table of the shown answers (two or more of them: one
    fixed phrase such as "No time slot works." is a legitimate answer), or a string that makes
    up much of exactly one shown question (a lookup keyed by the question; a phrase of the
    task's vocabulary is short beside the question), is a memorised test.
    """
    strings, ints = _constants(code)
    texts = set(strings)
    answers = set()
    for ex in shown:
        answer = " ".join(ex.answer.split())
        if _distinctive(answer, ex.question) and (answer in texts or (answer.isdigit() and int(answer) in ints)):
            answers.add(answer)
    found = [f"the answer {a!r}" for a in sorted(answers)] if len(answers) >= 2 else []
    if len(shown) >= 2:
        flat = [" ".join(ex.question.split()) for ex in shown]
        found += [
            f"the text {text[:60]!r} of a shown question"
            for text in sorted(texts)
            if len(text) >= 24 and len(hits := [q for q in flat if text in q]) == 1 and len(text) >= 0.4 * len(hits[0])
        ]
    return found


# -- strictness of a direct solver -------------------------------------------------------------


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


# -- held-out questions ------------------------------------------------------------------------


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


# -- a stored tool, judged again ---------------------------------------------------------------


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
        f"{q[:80]!r}: {o.describe(e)}" for o, e, q in zip(outcomes, expected, questions, strict=True) if not o.passed
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
                        f"case {i + 1} still answers {stored.questions[i][:60]!r} with the tool broken" for i in empty
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
                sb, tool.code, tool.direct, stored.questions, stored.expected, check, tool.rendering
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
            held, seed = fresh_instances(tool.task, held_out, stored.questions)
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
    record = (
        f"stored record updated: verification re-run at {report.checked_at:%Y-%m-%d %H:%M} UTC"
        + (f", held-out {new_held.passed}/{new_held.total} ({source})" if held_ran and new_held else "")
        + (", status quarantined" if failed else "")
    )
    return Reverification(
        tool_id=tool.id, checks=checks, verified_here=held_ran and not failed, status=status, record=record
    )


def as_text(value: Any) -> str | None:
    return None if value is None else str(value)
