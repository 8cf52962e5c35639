"""Where the local engine's time goes: 10,000 mixed direct questions, end to end and phase by phase.

    python benchmarks/local_engine.py [--n 10000] [--runs 3]

1. End to end: ``latm solve --file q.jsonl --out a.jsonl`` in a fresh process (import included), the
   fastest of ``--runs``; and the time the run reports for itself (after start-up).
2. The phases of that work, each measured alone in this process on the same questions and tools:
   start-up (``import latm.cli`` in a fresh interpreter, less a bare interpreter's start), reading the
   file, the routing gates (signature index and frames), the direct solvers in the sandbox (each tool's
   questions in batches of as many calls as its judge ran, two workers side by side, as the engine
   runs them), rendering the answers, building and writing the rows; with canaries on and off.

The phases are printed with their share of the end-to-end time and the 1 s aim, so what is left is
named, not guessed. The tools are the paper's eight, made by the scripted demo maker; the process
sandbox (the Docker one adds its own per-call cost: ``benchmarks/sandbox_latency.py``).
"""

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from latm import LATM
from latm.batch.answer_file import AnswerWriter, answer_row
from latm.batch.local import direct_solvers, solve_local
from latm.batch.solve_file import read_jsonl_rows
from latm.judge.cases import HARNESS, run_direct
from latm.judge.rendering import render
from latm.models.demo import demo_maker
from latm.use.dispatcher import DIRECT_WORKERS, routing_index
from latm.use.routing_index import outside_frame, words
from sandbox import Sandbox
from tasks import TASKS, get_task
from toolcache import ToolCache


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def fastest(runs: int, work: Callable[[], Any]) -> float:
    return min(timed(work)[0] for _ in range(runs))


def end_to_end(src: Path, cache_dir: str, runs: int) -> tuple[float, float]:
    """(wall, the run's own figure), the fastest of ``runs`` fresh processes."""
    env = {**os.environ, "LATM_CACHE_DIR": cache_dir}
    best = (float("inf"), float("inf"))
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "latm.cli", "solve", "--file", str(src), "--out", f"{tmp}/a.jsonl"]

        def solve() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*command, "--backend", "process"], env=env, capture_output=True, text=True, check=True
            )

        for _ in range(runs):
            wall, done = timed(solve)
            inside = re.search(r"failed in ([0-9.]+) s", done.stderr)
            best = min(best, (wall, float(inside.group(1)) if inside else float("nan")))
    return best


def start_up(runs: int) -> float:
    def interpreter(code: str) -> float:
        return fastest(runs, lambda: subprocess.run([sys.executable, "-c", code], check=True))

    return interpreter("import latm.cli") - interpreter("pass")


def phases(src: Path, cache_dir: str, runs: int) -> dict[str, float]:
    out: dict[str, float] = {}
    out["reading the file"] = fastest(runs, lambda: read_jsonl_rows(src, lambda _: None))
    rows, _ = read_jsonl_rows(src, lambda _: None)
    questions = [r.question for r in rows]
    with Sandbox.open("process") as sb, LATM(cache=ToolCache(cache_dir), sandbox=sb) as latm:
        solvers = direct_solvers(latm)

        def gates() -> list[list[Any]]:
            index = routing_index(solvers)
            found = index.candidates_all([words(q) for q in questions])
            return [[t for t in tools if not outside_frame(t, q)] for tools, q in zip(found, questions, strict=True)]

        out["routing gates (index, frames)"] = fastest(runs, gates)
        owner = [tools[0] for tools in gates()]
        by_tool: dict[str, list[int]] = {}
        for i, tool in enumerate(owner):
            by_tool.setdefault(tool.id, []).append(i)
        tools = {t.id: t for t in solvers}

        def solve_all() -> dict[int, Any]:
            def one(tool_id: str) -> list[tuple[int, Any]]:
                tool, asked = tools[tool_id], by_tool[tool_id]
                limit = tool.verification.evidence.batch_limit or len(asked)
                got = []
                for start in range(0, len(asked), limit):
                    part = asked[start : start + limit]
                    ran = run_direct(sb, tool.code, tool.direct or "", [questions[i] for i in part])
                    got += list(zip(part, ran, strict=True))
                return got

            with ThreadPoolExecutor(DIRECT_WORKERS) as pool:
                return dict(pair for batch in pool.map(one, by_tool) for pair in batch)

        sb.warm(DIRECT_WORKERS)
        out["direct solvers in the sandbox"], runs_of = min((timed(solve_all) for _ in range(runs)), key=lambda p: p[0])

        def in_process() -> None:  # the same solvers, no sandbox: what the solving itself costs
            for tool_id, asked in by_tool.items():
                namespace: dict[str, Any] = {}
                exec(tools[tool_id].code + "\n\n" + (tools[tool_id].direct or "") + HARNESS, namespace)
                for i in asked:
                    namespace["_latm_direct"](questions[i])

        out["... the same solvers run in this process, one core, no sandbox"] = fastest(runs, in_process)

        def rendered() -> list[str | None]:
            return [
                render(runs_of[i].value, questions[i], owner[i].rendering) if runs_of[i].ok else None
                for i in range(len(questions))
            ]

        out["rendering the answers"] = fastest(runs, rendered)
        sols = solve_local(latm, questions, 16, lambda *_: None, record=False)

        def write() -> None:
            with AnswerWriter(None, stream=io.StringIO()) as writer:
                writer.write_many([answer_row(r, s) for r, s in zip(rows, sols, strict=True)])

        out["building and writing the rows"] = fastest(runs, write)
        out["solve_local, in this process (all of it but reading and writing)"] = fastest(
            runs, lambda: solve_local(latm, questions, 16, lambda *_: None, record=False)
        )
        with LATM(cache=latm.cache, sandbox=sb, canaries=False) as plain:
            out["... the same without canaries"] = fastest(
                runs, lambda: solve_local(plain, questions, 16, lambda *_: None, record=False)
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = f"{tmp}/tools"
        with Sandbox.open("process") as sb, LATM(maker=demo_maker(), cache=ToolCache(cache_dir), sandbox=sb) as latm:
            for name in TASKS:
                latm.make_tool(name, get_task(name).generate(6, seed=0), k=3)
        per_task = args.n // len(TASKS)
        src = Path(tmp) / "q.jsonl"
        src.write_text(
            "".join(
                json.dumps({"question": e.question}) + "\n"
                for name in TASKS
                for e in get_task(name).generate(per_task, seed=11)
            )
        )
        wall, inside = end_to_end(src, cache_dir, args.runs)
        measured = {"start-up (import latm.cli)": start_up(args.runs), **phases(src, cache_dir, args.runs)}
    n = per_task * len(TASKS)
    print(f"{n} mixed direct questions, `latm solve --file` (process sandbox), fastest of {args.runs}:")
    print(f"  end to end {wall:.2f} s wall ({inside:.2f} s inside the run); aim 1 s: {wall - 1:+.2f} s to go")
    print(f"  {'phase, measured alone':<66} {'s':>6} {'share':>6}")
    for name, seconds in measured.items():
        print(f"  {name:<66} {seconds:6.3f} {seconds / wall:6.0%}")


if __name__ == "__main__":
    main()
