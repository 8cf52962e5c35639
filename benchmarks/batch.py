"""Batch engines on one 100,000-question file: the local engine, Ray on one node, Ray on a
simulated 2-node cluster (``ray.cluster_utils.Cluster``, both nodes on this machine).

    python benchmarks/batch.py [--n 100000] [--batch-size 2000] [--only local,ray1,ray2]

Each run is ``latm solve --file q.jsonl --out a.jsonl`` in a fresh process (start-up included),
every question answered by a direct solver. Per-core throughput divides by the physical cores
the run could use (a simulated cluster still runs on this machine's cores).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from latm import LATM
from latm.models.demo import demo_maker
from sandbox import Sandbox
from tasks import TASKS, get_task
from toolcache import ToolCache


def make_tools(cache_dir: str) -> None:
    with Sandbox.open("process") as sb, LATM(maker=demo_maker(), cache=ToolCache(cache_dir), sandbox=sb) as latm:
        for name in TASKS:
            latm.make_tool(name, get_task(name).generate(6, seed=0), k=3)


def run(label: str, args: list[str], src: Path, out: Path, env: dict[str, str], n: int) -> dict[str, float]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "latm.cli",
            "solve",
            "--file",
            str(src),
            "--out",
            str(out),
            "--backend",
            "process",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{label} failed ({done.returncode}): {done.stderr[-2000:]}")
    answers = sum(1 for _ in out.open())
    assert answers == n, (label, answers)
    out.unlink()
    return {"wall": wall, "qps": n / wall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument(
        "--batch-size",
        default=None,
        help="rows per Ray batch; several (500,2000): Ray on 1 node with each",
    )
    parser.add_argument("--only", default="local,ray1,ray2", help="which runs (local, ray1, ray2)")
    parser.add_argument("--questions", type=Path, help="a JSONL file of questions to reuse (generating takes minutes)")
    args = parser.parse_args()
    n = args.n
    only = set(args.only.split(","))
    sizes = [int(b) for b in args.batch_size.split(",")] if args.batch_size else []
    ray_args = ["--engine", "ray"] + (["--batch-size", str(sizes[0])] if len(sizes) == 1 else [])
    cores = os.cpu_count() or 1
    per_task = n // len(TASKS)
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = str(Path(tmp) / "tools")
        make_tools(cache_dir)
        src, out = Path(tmp) / "q.jsonl", Path(tmp) / "a.jsonl"
        if args.questions:
            src = args.questions
            n = sum(1 for _ in src.open())
        else:
            with src.open("w") as fh:
                for name in TASKS:
                    for e in get_task(name).generate(per_task, seed=11):
                        fh.write(json.dumps({"question": e.question, "task": name}) + "\n")
            n = per_task * len(TASKS)
        env = {**os.environ, "LATM_CACHE_DIR": cache_dir}
        env.pop("RAY_ADDRESS", None)
        results = {}
        if "local" in only:
            results["local engine"] = run("local", [], src, out, env, n)
        if "ray1" in only:
            results["ray, 1 node (local Ray)"] = run("ray1", ray_args, src, out, env, n)
        for size in sizes if len(sizes) > 1 else []:  # a comparison of batch sizes, Ray on one node
            args_b = ["--engine", "ray", "--batch-size", str(size)]
            results[f"ray, 1 node, batch {size}"] = run(f"ray1-{size}", args_b, src, out, env, n)
        if "ray2" in only:
            from ray.cluster_utils import Cluster

            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
            cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            try:
                results["ray, simulated 2 nodes"] = run(
                    "ray2", [*ray_args, "--ray-address", cluster.address], src, out, env, n
                )
            finally:
                cluster.shutdown()
    base = next(iter(results.values()))["qps"]
    print(f"{n:,} direct questions via `latm solve --file` (start-up included), {cores} cores:")
    print(f"  {'engine':<26} {'wall s':>8} {'questions/s':>12} {'per core':>9} {'vs first':>9}")
    for label, r in results.items():
        print(f"  {label:<26} {r['wall']:8.1f} {r['qps']:12,.0f} {r['qps'] / cores:9,.0f} {r['qps'] / base:9.2f}")
    if "ray, 1 node (local Ray)" in results:
        ray_core = results["ray, 1 node (local Ray)"]["qps"] / cores
        days = 1e9 / ray_core / 86400
        print(f"a billion questions at the Ray per-core rate ({ray_core:,.0f}/s): {days:,.1f} core-days")


if __name__ == "__main__":
    main()
