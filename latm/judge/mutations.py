"""Mutations: each case runs again with the tool's functions replaced by ones that raise, that return
a sentinel, and that return what the tool returned for another question. A case whose answer
survives any of them does not test the tool (it types the answer in, or computes it without the
tool) and does not count; a direct solver whose answers survive them does not use the tool."""

import secrets
from collections.abc import Sequence

from latm.judge.cases import CaseRun, mutated, run_direct, run_direct_replayed, run_direct_spied, run_mutants
from latm.judge.checking import Checker, judge
from sandbox import Sandbox
from toolcache import Rendering


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
    entry: str | None = None,
) -> bool:
    """True when ``solve``'s answers do not come from the tool's functions.

    With the functions raising or returning a sentinel, any right answer gives it away; with
    them returning their first argument unchanged, all answers still right do (the solver did
    the work around a function that does nothing); with the entry function returning another
    question's result, all answers still right do too."""
    token = "latm-sentinel-" + secrets.token_hex(6)
    for mode in ("raise", "sentinel", "identity"):
        runs = run_direct(sb, mutated(tool_code, mode, token), direct, questions)  # type: ignore[arg-type]
        passed = [o.passed for o in judge(runs, expected, questions, check, rendering)]
        if all(passed) if mode == "identity" else any(passed):
            return True
    return bool(entry) and _survives_replay(sb, tool_code, direct, entry or "", questions, expected, check, rendering)


def _survives_replay(
    sb: Sandbox,
    tool_code: str,
    direct: str,
    entry: str,
    questions: Sequence[str],
    expected: Sequence[str],
    check: Checker,
    rendering: Rendering,
) -> bool:
    """With its function returning what it returned for another question (a plausible value, unlike a
    sentinel), a solver that still gives every question its own answer computes them without it."""
    runs = run_direct_spied(sb, tool_code, direct, entry, questions)
    n = len(questions)
    pairs = [
        (i, runs[(i + 1) % n].returned or "")
        for i in range(n)
        if n > 1 and runs[(i + 1) % n].returned is not None and expected[i] != expected[(i + 1) % n]
    ]
    if not pairs:
        return False
    replayed = run_direct_replayed(sb, tool_code, direct, entry, [(questions[i], value) for i, value in pairs])
    outcomes = judge(replayed, [expected[i] for i, _ in pairs], [questions[i] for i, _ in pairs], check, rendering)
    return all(o.passed for o in outcomes)
