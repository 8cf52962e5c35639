"""What the MCP server adds to one tool call: a warm round trip against a direct sandbox call.

    python benchmarks/mcp_roundtrip.py [--n 200] [--backend process|docker|auto] [--cache DIR]

Both sides call the same tool function (`sort_words` by its arguments) in the same kind of
sandbox: the MCP side through `latm serve mcp` over stdio with the SDK's client (call_tool to
result), the direct side with `Sandbox.call`. Both are warmed first; the median and p90 of N
calls each are printed, and the difference (the aim: under 10 ms). Without --cache the tools
come from the offline demo, made in a temporary cache.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["pear", "apple", "fig", "banana", "kiwi", "cherry"]


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(0.9 * (len(ordered) - 1))] * 1000


def fill_cache(directory: Path) -> None:
    from click.testing import CliRunner

    from latm.cli import main

    env = {"LATM_CACHE_DIR": str(directory), "LATM_MAKER": None, "LATM_USER": None}
    result = CliRunner().invoke(main, ["demo", "--n", "1", "--json"], env=env)
    if result.exit_code != 0:
        raise SystemExit(f"the demo failed: {result.output}")


def direct(directory: Path, backend: str, n: int) -> list[float]:
    from latm.use.exposure import expose
    from sandbox import Sandbox
    from toolcache import ToolCache

    with ToolCache(directory) as cache:
        tool = next(e for e in expose(cache) if e.name == "sort_words").tool
    with Sandbox.open(backend) as sb:  # type: ignore[arg-type]
        for _ in range(10):
            assert sb.call(tool.code, tool.entry.name, [], {"words": WORDS}).ok
        times = []
        for _ in range(n):
            started = time.perf_counter()
            result = sb.call(tool.code, tool.entry.name, [], {"words": WORDS})
            times.append(time.perf_counter() - started)
            assert result.ok
    return times


async def over_mcp(directory: Path, backend: str, n: int) -> list[float]:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "latm.cli", "serve", "mcp", "--backend", backend],
        env={**os.environ, "LATM_CACHE_DIR": str(directory)},
        cwd=str(ROOT),
    )
    times = []
    with open(os.devnull, "w") as quiet:
        async with stdio_client(params, errlog=quiet) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()  # the client validates results against listed tools
            for _ in range(10):
                assert not (await session.call_tool("sort_words", {"words": WORDS})).is_error
            for _ in range(n):
                started = time.perf_counter()
                result = await session.call_tool("sort_words", {"words": WORDS})
                times.append(time.perf_counter() - started)
                assert not result.is_error
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--backend", default="process", choices=["auto", "docker", "process"])
    parser.add_argument("--cache", type=Path, default=None, help="a cache with a sort_words tool (default: the demo's)")
    args = parser.parse_args()
    os.environ["LATM_SANDBOX_BACKEND"] = args.backend
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.cache or Path(tmp)
        if args.cache is None:
            fill_cache(directory)
        direct_times = direct(directory, args.backend, args.n)
        mcp_times = anyio.run(over_mcp, directory, args.backend, args.n)
    d_med, d_p90 = percentiles(direct_times)
    m_med, m_p90 = percentiles(mcp_times)
    print(f"sort_words by arguments, {args.backend} sandbox, N={args.n} each (warm)")
    print(f"  direct Sandbox.call   median {d_med:7.2f} ms   p90 {d_p90:7.2f} ms")
    print(f"  MCP call_tool (stdio) median {m_med:7.2f} ms   p90 {m_p90:7.2f} ms")
    print(f"  MCP adds              median {m_med - d_med:7.2f} ms   p90 {m_p90 - d_p90:7.2f} ms   (aim: under 10 ms)")


if __name__ == "__main__":
    main()
