"""What certified tools cost, side by side: the judge's 300 held-out questions (and their two orders and
the function check) against the 10 it ran before, and canaries in use against none.

    python benchmarks/certify.py [--questions 5000] [--backend process|docker]

Making: the offline demo maker (LATM's reference tools as its replies) makes each built-in task's tool
twice in one run, judged on 10 held-out questions, then on 300 (the default); the tokens are the
maker's (a direct solver is judged free). Use: ``solve_many`` over mixed direct questions of every
task, with canaries (the default: about one in 100, at least one a batch) and without, in one run.
"""

import argparse
import statistics
import tempfile
import time

from latm import LATM
from latm.maker import ToolMaker
from latm.models.demo import demo_maker
from sandbox import Sandbox
from tasks import TASKS, get_task
from toolcache import ToolCache


def make_all(sb: Sandbox, held_out_direct: int) -> tuple[float, int, list[float | None]]:
    """Seconds and maker tokens to make every task's tool, and each tool's error bound."""
    started, tokens, bounds = time.perf_counter(), 0, []
    with tempfile.TemporaryDirectory() as tmp, ToolCache(tmp) as cache:
        maker = ToolMaker(demo_maker(), sb, cache, strategy="latm", held_out_direct=held_out_direct)
        for name in TASKS:
            examples = get_task(name).generate(6, seed=0)
            result = maker.make(name, examples[:3], examples[3:])
            tokens += result.usage.tokens
            bounds.append(result.tool.error_bound if result.tool else None)
    return time.perf_counter() - started, tokens, bounds


def solve_all(sb: Sandbox, cache_dir: str, questions: list[str], canaries: bool) -> float:
    with ToolCache(cache_dir) as cache, LATM(cache=cache, sandbox=sb, canaries=canaries) as latm:
        started = time.perf_counter()
        solutions = latm.solve_many(questions)
        elapsed = time.perf_counter() - started
        assert all(s.mode == "direct" for s in solutions), "every question should be answered directly"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=5000)
    parser.add_argument("--backend", default="process")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with Sandbox.open(args.backend, pool_size=2) as sb:
        sb.warm(2)
        before_s, before_tokens, before_bounds = make_all(sb, 10)
        after_s, after_tokens, after_bounds = make_all(sb, 300)
        print(f"making the {len(TASKS)} built-in tools ({args.backend} sandbox):")
        print(f"  10 held-out questions:  {before_s:6.2f} s, {before_tokens} maker tokens")
        print(f"  300 held-out questions: {after_s:6.2f} s, {after_tokens} maker tokens")
        print(f"  ratio: {after_s / before_s:.2f}x the time, {after_tokens / max(before_tokens, 1):.2f}x the tokens")
        worst = max(b for b in after_bounds if b is not None)
        first = max(b for b in before_bounds if b is not None)
        print(f"  error bound (95%): at most {first:.1%} with 10, at most {worst:.1%} with 300")
        with tempfile.TemporaryDirectory() as tmp:
            with ToolCache(tmp) as cache:
                maker = ToolMaker(demo_maker(), sb, cache, strategy="latm")
                for name in TASKS:
                    examples = get_task(name).generate(6, seed=0)
                    maker.make(name, examples[:3], examples[3:])
            per_task = args.questions // len(TASKS)
            questions = [e.question for name in TASKS for e in get_task(name).generate(per_task, seed=9)]
            with_c, without = [], []
            for _ in range(args.repeats):  # alternated, so drift on this machine hits both alike
                without.append(solve_all(sb, tmp, questions, canaries=False))
                with_c.append(solve_all(sb, tmp, questions, canaries=True))
        a, b = statistics.median(without), statistics.median(with_c)
        print(f"solve_many, {len(questions)} direct questions (median of {args.repeats}):")
        print(f"  without canaries: {a:6.2f} s ({len(questions) / a:,.0f} q/s)")
        print(f"  with canaries:    {b:6.2f} s ({len(questions) / b:,.0f} q/s)")
        print(f"  ratio: {b / a:.2f}x the time with canaries; 0 model tokens either way (direct solvers)")


if __name__ == "__main__":
    main()
