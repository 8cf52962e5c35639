"""Tool cache speed with 10,000 tools: get, find, record_use, and `latm cache ls` end to end.

    python benchmarks/cache.py [--tools 10000]

Targets: get and find under 1 ms median; record_use under 2 ms.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.toolfactory import make_tool
from toolcache import ToolCache


def median_ms(fn: Callable[[int], object], n: int) -> float:
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = ToolCache(tmp)
        t = time.perf_counter()
        ids = [cache.put(make_tool(i, task=f"task-{i % 500}")).id for i in range(args.tools)]
        fill_s = time.perf_counter() - t
        rows = [
            ("put (filling)", fill_s / args.tools * 1000),
            ("get by id", median_ms(lambda i: cache.get(ids[i * 7 % len(ids)]), 2000)),
            ("get by task (current)", median_ms(lambda i: cache.get(f"task-{i % 500}"), 2000)),
            ("find(task=...)", median_ms(lambda i: cache.find(task=f"task-{i % 500}"), 500)),
            ("record_use", median_ms(lambda i: cache.record_use(ids[i], ok=True), 1000)),
        ]
        env = {**os.environ, "LATM_CACHE_DIR": tmp}
        ls_times = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "latm.cli", "cache", "ls", "--json"],
                env=env,
                check=True,
                capture_output=True,
            )
            ls_times.append(time.perf_counter() - t)
        rows.append(("latm cache ls --json (end to end)", statistics.median(ls_times) * 1000))
        cache.close()
    print(f"tool cache with {args.tools} tools (find returns {args.tools // 500} versions per task)")
    for name, ms in rows:
        print(f"  {name:<36} {ms:9.3f} ms (median)")


if __name__ == "__main__":
    main()
