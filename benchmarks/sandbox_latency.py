"""Median per-call latency of five ways to run one small function, side by side.

    python benchmarks/sandbox_latency.py [--runs 5]

Needs a Docker engine and the sandbox image (`latm sandbox build-image --offline`).
"""

import argparse
import json
import statistics
import time
from collections.abc import Callable

from sandbox import Limits, Sandbox
from sandbox.docker_backend import DEFAULT_IMAGE, container_options, docker_client

CODE = "def add(a, b):\n    return a + b\n"
SCRIPT = CODE + "import json\nprint(json.dumps(add(2, 3)))\n"


def median_ms(fn: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def docker_run_once() -> None:
    opts = container_options(Limits(), DEFAULT_IMAGE)
    for key in ("stdin_open", "detach", "log_config"):
        opts.pop(key)
    opts["command"] = ["python3", "-I", "-c", SCRIPT]
    out = docker_client().containers.run(**opts, remove=True)
    assert json.loads(out) == 5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="docker-run samples (slowest kind)")
    args = parser.parse_args()
    rows: list[tuple[str, float]] = []

    rows.append(("docker run per call", median_ms(docker_run_once, args.runs)))

    opts = container_options(Limits(), DEFAULT_IMAGE)
    opts.update(command=["sleep", "infinity"], detach=True)
    opts.pop("stdin_open")
    box = docker_client().containers.run(**opts)
    try:
        rows.append(
            (
                "docker exec per call",
                median_ms(lambda: box.exec_run(["python3", "-I", "-c", SCRIPT]), args.runs * 4),
            )
        )
    finally:
        box.remove(force=True)

    with Sandbox.open("docker", pool_size=1).warm() as sb:
        assert sb.call(CODE, "add", [2, 3]).value == 5
        rows.append(("warm pool call (docker)", median_ms(lambda: sb.call(CODE, "add", [2, 3]), 300)))
        calls = [([i, i], {}) for i in range(10_000)]
        t = time.perf_counter()
        results = sb.call_many(CODE, "add", calls)
        many_s = time.perf_counter() - t
        assert results[-1].value == 19_998
    with Sandbox.open("process", pool_size=1).warm() as sb:
        rows.append(("process backend call", median_ms(lambda: sb.call(CODE, "add", [2, 3]), 300)))

    def in_process() -> None:
        ns: dict[str, object] = {}
        exec(CODE, ns)  # the paper's way: no isolation at all
        assert ns["add"](2, 3) == 5  # type: ignore[operator]

    rows.append(("direct in-process exec", median_ms(in_process, 10_000)))

    width = max(len(name) for name, _ in rows)
    print(f"{'method':<{width}}  median ms/call")
    for name, ms in rows:
        print(f"{name:<{width}}  {ms:12.3f}")
    run_ms = rows[0][1]
    pool_ms = dict(rows)["warm pool call (docker)"]
    print(f"\ndocker run / warm pool call: {run_ms / pool_ms:.0f}x")
    print(f"call_many of 10,000 calls on the warm pool: {many_s:.2f} s ({many_s / 10_000 * 1e6:.0f} us/call)")


if __name__ == "__main__":
    main()
