"""The tool maker on a real model, every task: what it made, what it cost, how it failed.

    # an OpenAI-compatible server (llama.cpp, vLLM, Ollama) serving qwen2.5-coder-1.5b / -0.5b on 127.0.0.1:8765
    python benchmarks/real_models.py [--maker qwen2.5-coder-1.5b] [--tasks a,b] [--out runs.json]

For each task: k train + k validation examples (generated, seeded; the real BIG-Bench-Hard
format), one ToolMaker.make with the model, then the made tool's direct solver on held-out
instances (no LLM involved) so "verified" can be compared with "really works". Prints per
task: verified or not, attempts per step, tokens, seconds, held-out accuracy, and the kind
of every failed attempt. ``--out`` keeps every prompt and reply for reading afterwards.
``--response-cache DIR`` replays identical conversations for free (readwrite mode); ``--cache DIR``
keeps the verified tools, made from exactly the examples ``latm eval --seed S --k K`` makes
them from, so ``LATM_CACHE_DIR=DIR latm eval ...`` reuses them instead of making them again.
"""

import argparse
import json
import os
import time
from pathlib import Path

from latm.judge import judge_direct
from latm.maker import MakeResult, ToolMaker, prompts
from latm.models import CachedModel, ChatModel, OpenAIModel
from sandbox import Sandbox
from tasks import TASKS, get_task
from toolcache import ToolCache


def held_out_accuracy(sb: Sandbox, result: MakeResult, task: str, n: int, seed: int) -> str:
    """The direct solver's accuracy on fresh instances: the tool answering alone, no LLM."""
    tool = result.tool
    if tool is None:
        return "-"
    if not tool.direct:
        return "no solver"
    data = get_task(task).generate(n, seed=seed + 1000)
    outcomes = judge_direct(sb, tool, data)
    return f"{sum(o.passed for o in outcomes)}/{n}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default=os.environ.get("LATM_BASE_URL", "http://127.0.0.1:8765/v1"))
    parser.add_argument("--maker", default="qwen2.5-coder-1.5b")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated task names (default: all)")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-attempts", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1, help="fresh sampled conversations after a failed one")
    parser.add_argument("--strategy", default="auto", choices=["auto", "latm", "search"], help="how to make tools")
    parser.add_argument("--samples", type=int, default=4, help="candidates per search round")
    parser.add_argument("--budget", type=int, default=60_000, help="tokens per task")
    parser.add_argument("--held-out", type=int, default=20, help="fresh instances for the direct solver")
    parser.add_argument("--out", type=Path, help="write every attempt (prompt, reply, outcome) as JSON")
    parser.add_argument("--response-cache", type=Path, help="replay identical model calls from this directory")
    parser.add_argument(
        "--cache", type=Path, help="tool cache to keep the verified tools in (e.g. for `latm eval` to reuse)"
    )
    args = parser.parse_args()

    model: ChatModel = OpenAIModel(args.maker, base_url=args.base_url)
    if args.response_cache:
        model = CachedModel(model, "readwrite", directory=args.response_cache, version=prompts.PROMPT_VERSION)
    names = [t.strip() for t in args.tasks.split(",") if t.strip()]
    print(
        f"tool maker {args.maker} at {args.base_url}, k={args.k}, seed {args.seed}, "
        f"max {args.max_attempts}/step, {args.rounds} round(s), strategy {args.strategy}, "
        f"{args.samples} samples/round, budget {args.budget} tokens/task"
    )
    header = f"{'task':<40} {'verified':<8} {'attempts p/v/w/d':<17} {'tokens':>7} {'s':>6} {'held-out':>9}  failures"
    print(header)
    runs = []
    totals = {"verified": 0, "tokens": 0, "seconds": 0.0}
    with Sandbox.open() as sb:
        cache = ToolCache(args.cache) if args.cache else None
        maker = ToolMaker(
            model,
            sandbox=sb,
            cache=cache,
            max_attempts=args.max_attempts,
            rounds=args.rounds,
            strategy=args.strategy,
            samples=args.samples,
            token_budget=args.budget,
        )
        for name in names:
            data = get_task(name).generate(2 * args.k, seed=args.seed)
            t0 = time.monotonic()
            result = maker.make(name, data[: args.k], data[args.k :])
            seconds = time.monotonic() - t0
            per = result.attempts_per_step()
            steps = "/".join(str(per.get(s, 0)) for s in ("propose", "verify", "wrap", "direct"))
            held = held_out_accuracy(sb, result, name, args.held_out, args.seed)
            fails = ", ".join(result.failures()) or "-"
            print(
                f"{name:<40} {'yes' if result.ok else 'no':<8} {steps:<17} {result.usage.tokens:>7} "
                f"{seconds:>6.0f} {held:>9}  {fails}",
                flush=True,
            )
            if not result.ok:
                print(f"{'':<40} reason: {result.reason}", flush=True)
            totals["verified"] += result.ok
            totals["tokens"] += result.usage.tokens
            totals["seconds"] += seconds
            runs.append({"held_out": held, "seconds": seconds, **json.loads(result.model_dump_json())})
            if args.out:  # after every task: a long run stopped midway keeps what it has
                args.out.write_text(json.dumps(runs, indent=1), encoding="utf-8")
    print(
        f"verified {totals['verified']}/{len(names)}, {totals['tokens']} tokens, {totals['seconds']:.0f} s in all "
        f"(backend {sb.backend})"
    )
    if args.out:
        print(f"attempts written to {args.out}")


if __name__ == "__main__":
    main()
