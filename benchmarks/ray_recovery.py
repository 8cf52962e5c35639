"""Ray's overhead where it is measured hardest: a simulated 2-node cluster, LATM's code and tools
shipped to the workers (as to nodes that cannot see this disk), a solving worker killed mid-job;
against the local engine on the same questions, side by side in one run.

    python benchmarks/ray_recovery.py [--n 40000] [--batch-size 2000] [--kill-at 0.25]

Printed: the local engine's time (``solve_local`` with a fresh sandbox pool, this process), Ray's time
with no kill and with one worker killed once ``--kill-at`` of the rows are out (cluster start excluded:
from ``solve_dataset`` to the last row), their ratios to the local engine, and the phases that make
the difference: the same job shape doing nothing, first on the fresh cluster (it pays for shipping
LATM's code) and again (Ray's own floor: actors started, blocks moved), an actor's set-up measured alone
(the snapshot restored, a sandbox pool warmed, the routing index built), the time to the first rows,
the rate in between, and the stall after the kill (the replacement's set-up and the redone batch).
Every run's answers are checked against the labels.
"""

import argparse
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from latm import LATM
from latm.batch.local import direct_solvers, solve_local
from latm.batch.ray.engine import ACTOR_CPUS, init_ray, questions_dataset, solve_dataset
from latm.batch.ray.snapshot import restore, snapshot
from latm.models.demo import demo_maker
from latm.use.dispatcher import routing_index
from sandbox import Sandbox
from tasks import TASKS, get_task
from toolcache import ToolCache


def make_tools(cache_dir: str) -> None:
    with Sandbox.open("process") as sb, LATM(maker=demo_maker(), cache=ToolCache(cache_dir), sandbox=sb) as latm:
        for name in TASKS:
            latm.make_tool(name, get_task(name).generate(6, seed=0), k=3)


def local_engine(cache_dir: str, questions: list[str], expected: list[str]) -> float:
    started = time.perf_counter()
    with Sandbox.open("process") as sb, LATM(cache=ToolCache(cache_dir), sandbox=sb) as latm:
        sols = solve_local(latm, questions, 16, lambda *_: None, record=False)
    elapsed = time.perf_counter() - started
    assert [s.answer for s in sols] == expected, "the local engine answered wrongly"
    return elapsed


def actor_set_up(cache_dir: str) -> float:
    """What each SolveWorker does before its first batch, measured alone in this process."""
    with ToolCache(cache_dir) as cache:
        bundle = snapshot(cache, False, None)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        restored = restore(bundle, os.path.join(tmp, "tools"))
        with Sandbox.open("process", pool_size=2).warm(2) as sb, LATM(cache=restored, sandbox=sb) as latm:
            routing_index(direct_solvers(latm))
            elapsed = time.perf_counter() - started
        restored.close()
    return elapsed


class Echo:
    """A Ray Data callable class that does nothing: the floor of an actor-pool job (no LATM)."""

    def __call__(self, batch: Any) -> Any:
        return batch


def ray_floor(rows: list[dict[str, Any]], batch_size: int) -> tuple[float, float]:
    """(seconds to the first rows, seconds to the last) of the same job shape with nothing solved."""
    import ray

    started = time.perf_counter()
    ds = questions_dataset(rows, batch_size).map_batches(
        Echo,
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=2),
        batch_size=batch_size,
        batch_format="pyarrow",
        num_cpus=ACTOR_CPUS,
    )
    first = None
    for _ in ds.iter_batches(batch_format="pyarrow", batch_size=None):
        first = first or time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started


def ray_run(
    cache_dir: str, rows: list[dict[str, Any]], expected: dict[str, str], batch_size: int, kill_at: float | None
) -> dict[str, Any]:
    import ray

    with LATM(cache=ToolCache(cache_dir)) as latm:
        started = time.perf_counter()
        job = solve_dataset(latm, questions_dataset(rows, batch_size), batch_size=batch_size, backend="process")
        seen: list[dict[str, Any]] = []
        marks: list[tuple[float, int]] = []
        killed_at = None
        for table in job.dataset.iter_batches(batch_format="pyarrow", batch_size=None):
            seen += table.select(["id", "answer"]).to_pylist()
            marks.append((time.perf_counter() - started, len(seen)))
            if kill_at is not None and killed_at is None and len(seen) >= kill_at * len(rows):
                pids = ray.get(job.ledger.worker_pids.remote())
                os.kill(sorted(pids.values())[0], signal.SIGKILL)
                killed_at = marks[-1][0]
        total = time.perf_counter() - started
        summary = job.merge(latm)
    assert sorted(r["id"] for r in seen) == sorted(expected), "a row was lost or written twice"
    assert all(r["answer"] == expected[r["id"]] for r in seen), "Ray answered wrongly"
    first = marks[0][0]
    before = [(t, n) for t, n in marks if killed_at is None or t <= killed_at]
    rate = (before[-1][1] - before[0][1]) / max(before[-1][0] - before[0][0], 1e-9) if len(before) > 1 else 0.0
    stall = None
    if killed_at is not None:
        after = [t for t, _ in marks if t > killed_at]
        gaps = [b - a for a, b in zip([killed_at, *after], after, strict=False)]
        stall = max(gaps) if gaps else 0.0
    return {"total": total, "first": first, "rate": rate, "stall": stall, "workers": summary["workers"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40_000)
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--kill-at", type=float, default=0.25)
    args = parser.parse_args()
    from ray.cluster_utils import Cluster

    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = str(Path(tmp) / "tools")
        make_tools(cache_dir)
        per_task = args.n // len(TASKS)
        rows, labels = [], {}
        for name in TASKS:
            for i, e in enumerate(get_task(name).generate(per_task, seed=11)):
                rows.append({"id": f"{name}-{i}", "question": e.question})
                labels[f"{name}-{i}"] = e.answer
        questions = [r["question"] for r in rows]
        local = local_engine(cache_dir, questions, [labels[r["id"]] for r in rows])
        set_up = actor_set_up(cache_dir)
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        try:
            init_ray(cluster.address)  # LATM's code shipped to the workers, as to another machine
            shipped = ray_floor(rows, args.batch_size)  # the first job: it also ships LATM's code
            floor = ray_floor(rows, args.batch_size)
            calm = ray_run(cache_dir, rows, labels, args.batch_size, None)
            hit = ray_run(cache_dir, rows, labels, args.batch_size, args.kill_at)
        finally:
            import ray

            ray.shutdown()
            cluster.shutdown()
    n = len(rows)
    print(f"{n:,} direct questions, 2 simulated 1-CPU nodes on {os.cpu_count()} cores, batches of {args.batch_size}:")
    print(f"  local engine (fresh sandbox pool, this process)   {local:7.2f} s  {n / local:8,.0f} q/s")
    for label, r in (("Ray, no kill", calm), (f"Ray, a worker killed at {args.kill_at:.0%}", hit)):
        print(f"  {label:<49} {r['total']:7.2f} s  {n / r['total']:8,.0f} q/s  {r['total'] / local:5.2f}x local")
    print("  where Ray's time goes (no kill / killed):")
    lines = [
        ("the first job on the cluster, doing nothing (LATM's code shipped)", f"{shipped[1]:.2f} s"),
        ("the same job again: Ray's own floor, to its first rows / to the last", f"{floor[0]:.2f} / {floor[1]:.2f} s"),
        ("an actor's set-up, measured alone (snapshot, sandbox pool, index)", f"{set_up:.2f} s"),
        ("to the first rows", f"{calm['first']:.2f} / {hit['first']:.2f} s"),
        ("rate between the first rows and the kill", f"{calm['rate']:,.0f} / {hit['rate']:,.0f} q/s"),
        ("longest wait for rows after the kill (replacement, redone batch)", f"{hit['stall'] or 0:.2f} s"),
        ("workers that reported", f"{calm['workers']} / {hit['workers']}"),
    ]
    for what, figure in lines:
        print(f"    {what:<68} {figure}")


if __name__ == "__main__":
    main()
