"""The offline pipeline on every task: accuracy, instances per second end to end, direct share.

    python benchmarks/eval_offline.py [--n 50] [--backend docker|process] [--bbh DIR]

Uses real BIG-Bench-Hard examples from --bbh DIR (one TASK.json per task) when given,
generated instances otherwise. Tools are made by the offline demo maker (reference tools as
its replies) into a temporary cache; questions are answered through LATM.solve_many.
"""

import argparse
import tempfile
import time
from pathlib import Path

from latm import LATM
from latm.models.demo import demo_maker, demo_user
from sandbox import Sandbox
from tasks import TASKS, get_task, load_bbh
from toolcache import ToolCache


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--bbh", type=Path, default=None, help="a folder of BIG-Bench-Hard TASK.json files")
    args = parser.parse_args()
    bbh = args.bbh if args.bbh and args.bbh.is_dir() else None
    source = "real BBH dev" if bbh else "generated"
    print(f"offline pipeline, {source} examples, {args.n} per task")
    print(f"{'task':<42} {'acc':>6} {'inst/s':>8} {'direct':>7} {'user calls':>10}")
    with tempfile.TemporaryDirectory() as tmp, Sandbox.open(args.backend) as sb:
        user = demo_user()
        with LATM(maker=demo_maker(), user=user, cache=ToolCache(tmp), sandbox=sb) as latm:
            for name in TASKS:
                task = get_task(name)
                data = load_bbh(bbh / f"{name}.json")[: args.n] if bbh else task.generate(args.n, 7)
                latm.make_tool(name, task.generate(6, seed=0), k=3)
                before = user.calls
                t0 = time.perf_counter()
                sols = latm.solve_many([e.question for e in data])
                elapsed = time.perf_counter() - t0
                acc = sum(task.check(s.answer, e.answer) for s, e in zip(sols, data, strict=True)) / len(data)
                direct = sum(s.mode == "direct" for s in sols) / len(sols)
                print(f"{name:<42} {acc:>6.0%} {len(data) / elapsed:>8.0f} {direct:>7.0%} {user.calls - before:>10}")
            print(f"backend: {sb.backend}")


if __name__ == "__main__":
    main()
