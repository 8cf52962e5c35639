"""The local engine: a file of questions through this machine's warm sandbox pool.

The same answers as ``LATM.solve_many`` (the first direct solver in each question's lexical
ranking that accepts it decides; ``latm.use.dispatcher.route_direct`` for both), with less work
around the sandbox: each tool's batch of a rank runs as one ``call_many`` and its rows are handed
back (to be written) as that batch completes, one write per batch, without the per-question
coroutine of ``solve_many``. The questions no direct solver accepts go through ``solve_many``
(the cheap model, the fallback, or a failed row that says why), which does not offer them to the
direct solvers again.
"""

from collections.abc import Callable, Sequence
from typing import Any

from latm.use.dispatcher import route_direct

OnRows = Callable[[list[int], list[Any]], None]


def direct_solvers(latm: Any) -> list[Any]:
    """The routable tools that have a direct solver."""
    return [t for t in latm.dispatcher.tools() if t.direct]


def solve_local(
    latm: Any,
    questions: Sequence[str],
    concurrency: int,
    on_rows: OnRows,
    record: bool = True,
    solvers: list[Any] | None = None,
) -> list[Any]:
    """Every question's Solution, in order; ``on_rows(indices, solutions)`` as each batch completes.
    ``record=False``: the direct uses are counted elsewhere (a Ray worker reports them to its ledger).
    ``solvers``: the routable direct solvers, when the caller holds them (a Ray worker's snapshot
    does not change, so it reads them once, not once per batch)."""
    from latm.use.solution import Solution

    n = len(questions)
    sols: list[Any] = [None] * n
    if solvers is None:
        solvers = direct_solvers(latm)
    direct: list[Any] = []
    notes: dict[int, list[str]] = {}

    def accepted(tool: Any, took: list[tuple[int, str]]) -> None:
        done = []
        for i, value in took:
            sols[i] = Solution(
                question=questions[i],
                answer=value,
                tool=tool.name,
                tool_id=tool.id,
                task=tool.task,
                mode="direct",
                route=f"direct solver of {tool.name} accepted it",
            )
            done.append(sols[i])
        direct.extend(done)
        on_rows([i for i, _ in took], done)

    if solvers and n:
        notes = route_direct(
            latm.tool_user, questions, solvers, on_accepted=accepted, canaries=getattr(latm, "canaries", None)
        ).notes
    if record:
        latm._record(direct)  # the uses, as solve_many counts them
    rest = [i for i in range(n) if sols[i] is None]
    if rest:

        def one(j: int, sol: Any) -> None:
            on_rows([rest[j]], [sol])

        tried = {j: notes.get(i, []) for j, i in enumerate(rest)} if solvers else None
        for i, sol in zip(
            rest, latm.solve_many([questions[i] for i in rest], concurrency, on_solution=one, tried=tried), strict=True
        ):
            sols[i] = sol
    return sols
