"""The local engine: a file of questions through this machine's warm sandbox pool.

The same answers as ``LATM.solve_many`` (the first direct solver in each question's lexical
ranking that accepts it decides), with less work around the sandbox:

- the ranking of the tools for a question depends only on the question's words that some tool
  knows and on its word count, so it is computed once per such signature, not per question;
- each tool's batch of a rank runs as one ``call_many``, and its rows are handed back (to be
  written) as that batch completes, one write per batch;
- the questions no direct solver accepts go through ``solve_many`` (the cheap model, the
  fallback, or a failed row that says why).
"""

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from latm.answer_file import AnswerWriter
from latm.dispatcher import DIRECT_WORKERS, ranked, tool_words, words
from latm.user import answer_of

OnRows = Callable[[list[int], list[Any]], None]


class JsonlRows(AnswerWriter):
    """The local engine's AnswerWriter, a batch of whole lines per write."""

    def write_many(self, rows: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
        target = self._fh if self._fh is not None else self.stream
        assert target is not None
        target.write(text)
        target.flush()
        self.written += len(rows)


def rank_all(questions: Sequence[str], solvers: Sequence[Any]) -> list[list[Any]]:
    """``ranked(q, solvers)`` for every question, computed once per (known words, word count)."""
    vocab = {t.id: tool_words(t) for t in solvers}
    known: set[str] = set().union(*vocab.values()) if vocab else set()
    memo: dict[tuple[frozenset[str], int], list[Any]] = {}
    out = []
    for q in questions:
        w = words(q)
        key = (frozenset(w & known), len(w))
        order = memo.get(key)
        if order is None:
            order = memo[key] = ranked(q, solvers, vocab)
        out.append(order)
    return out


def solve_local(latm: Any, questions: Sequence[str], concurrency: int, on_rows: OnRows) -> list[Any]:
    """Every question's Solution, in order; ``on_rows(indices, solutions)`` as each batch completes."""
    from latm.agent import Solution

    n = len(questions)
    sols: list[Any] = [None] * n
    solvers = [t for t in latm.dispatcher.tools() if t.direct]
    direct: list[Any] = []
    if solvers and n:
        order = rank_all(questions, solvers)
        pending = set(range(n))
        user = latm.tool_user

        def run(tool: Any, batch: list[int]) -> tuple[Any, list[int], list[Any]]:
            return tool, batch, user.direct_many(tool, [questions[i] for i in batch])

        with ThreadPoolExecutor(max_workers=DIRECT_WORKERS) as pool:
            for rank in range(len(solvers)):
                batches: dict[str, list[int]] = {}
                for i in sorted(pending):
                    if len(order[i]) > rank:
                        batches.setdefault(order[i][rank].id, []).append(i)
                if not batches:
                    break
                by_id = {t.id: t for t in solvers}
                jobs = [pool.submit(run, by_id[tid], batch) for tid, batch in batches.items()]
                for job in as_completed(jobs):
                    tool, batch, results = job.result()
                    done_i, done_s = [], []
                    for i, r in zip(batch, results, strict=True):
                        value, _ = answer_of(r, questions[i], tool)
                        if value is None:
                            continue
                        sol = Solution(
                            question=questions[i],
                            answer=value,
                            tool=tool.name,
                            tool_id=tool.id,
                            task=tool.task,
                            mode="direct",
                            route=f"direct solver of {tool.name} accepted it",
                        )
                        sols[i] = sol
                        pending.discard(i)
                        done_i.append(i)
                        done_s.append(sol)
                    if done_i:
                        direct += done_s
                        on_rows(done_i, done_s)
    latm._record(direct)  # the uses, as solve_many counts them
    rest = [i for i in range(n) if sols[i] is None]
    if rest:

        def one(j: int, sol: Any) -> None:
            on_rows([rest[j]], [sol])

        for i, sol in zip(
            rest, latm.solve_many([questions[i] for i in rest], concurrency, on_solution=one), strict=True
        ):
            sols[i] = sol
    return sols
