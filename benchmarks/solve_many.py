"""solve_many speed: LLM-mode concurrency against a slow server, and 10,000 direct questions.

    python benchmarks/solve_many.py

1. 100 LLM-mode questions against the local fake OpenAI server with 200 ms per call,
   solved one after the other (concurrency 1) and with concurrency 16: the ratio.
2. 10,000 mixed questions of the paper's tasks through `latm solve --file` (a fresh
   process, start-up included), all answered by direct solvers.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from latm import LATM
from latm.models.demo import demo_maker, user_reply
from latm.testing import FakeOpenAIServer
from sandbox import Sandbox
from tasks import TASKS, get_task
from toolcache import Tool, ToolCache

LATENCY_S = 0.2


def llm_mode(sb: Sandbox, cache_dir: str) -> None:
    """A word-sorting tool without a direct solver, so every question needs the cheap model."""
    with ToolCache(cache_dir) as cache:
        made = cache.current("word_sorting")
        assert made is not None
    record = {**made.model_dump(), "id": "", "direct": None, "task": "word_sorting_llm", "version": 0}
    llm_only = Tool.model_validate(record)
    questions = [e.question for e in get_task("word_sorting").generate(100, seed=5)]

    def script(messages: list[dict[str, str]]) -> str:
        content = messages[-1]["content"]
        if "Task:" in content and "```" not in content:
            return "Task: word_sorting_llm"
        return user_reply(messages)

    timings = {}
    for concurrency in (1, 16):
        with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer(script, latency_s=LATENCY_S) as server:
            cache = ToolCache(tmp)
            cache.put(llm_only)
            with LATM(user="gpt-4o-mini", base_url=server.url, cache=cache, sandbox=sb) as latm:
                t0 = time.perf_counter()
                sols = latm.solve_many(questions, concurrency=concurrency)
                timings[concurrency] = time.perf_counter() - t0
                assert all(s.mode == "llm" for s in sols), {s.mode for s in sols}
    print(f"100 LLM-mode questions, {LATENCY_S * 1000:.0f} ms per call (2 calls each: route + use):")
    print(f"  concurrency 1:  {timings[1]:7.2f} s")
    print(f"  concurrency 16: {timings[16]:7.2f} s   ratio {timings[16] / timings[1]:.3f} (target <= 0.1)")


def direct_file(cache_dir: str) -> None:
    rows = []
    per_task = 10_000 // len(TASKS)
    for name in TASKS:
        rows += [{"question": e.question, "task": name} for e in get_task(name).generate(per_task, seed=11)]
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "q.jsonl", Path(tmp) / "a.jsonl"
        src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        env = {**os.environ, "LATM_CACHE_DIR": cache_dir}
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "latm.cli", "solve", "--file", str(src), "--out", str(out)],
            env=env,
            check=True,
            capture_output=True,
        )
        elapsed = time.perf_counter() - t0
        answers = [json.loads(line) for line in out.read_text().splitlines()]
    direct = sum(a["mode"] == "direct" for a in answers)
    print(
        f"{len(rows)} mixed questions via `latm solve --file` (start-up included): {elapsed:.2f} s, "
        f"{direct} direct (target < 5 s)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as cache_dir, Sandbox.open() as sb:
        with LATM(maker=demo_maker(), cache=ToolCache(cache_dir), sandbox=sb) as latm:
            for name in TASKS:
                latm.make_tool(name, get_task(name).generate(6, seed=0), k=3)
        print(f"sandbox backend: {sb.backend}")
        llm_mode(sb, cache_dir)
        direct_file(cache_dir)


if __name__ == "__main__":
    main()
