"""The tool user in both modes, side by side: function calling against code (the paper's protocol).

    # an OpenAI-compatible server serving qwen2.5-coder-0.5b-tools on 127.0.0.1:8765
    python benchmarks/tool_user_modes.py --n 5

The tools are the offline demo's (LATM's reference tools) with their direct solvers removed, so
every question goes to the user model. Each task's questions are fresh generated instances; the
same model (default: the local ``qwen2.5-coder-0.5b-tools``) answers them once with
``calling="functions"`` and once with ``calling="code"``. Printed per task and in total:
accuracy, tokens and seconds per question in each mode, and the token ratio.
"""

import argparse
import os
import tempfile
import time

from latm.facade import LATM
from latm.models import OpenAIModel
from latm.models.demo import demo_maker
from latm.use.tool_user import ToolUser
from sandbox import Sandbox
from tasks import TASKS, get_task
from toolcache import Tool, ToolCache


def demo_tools(sb: Sandbox) -> dict[str, Tool]:
    with LATM(maker=demo_maker(), cache=ToolCache(tempfile.mkdtemp()), sandbox=sb) as latm:
        out = {}
        for name in TASKS:
            made = latm.make_tool(name, get_task(name).generate(6, seed=0), k=3)
            assert made.tool is not None, made.reason
            out[name] = made.tool.model_copy(update={"direct": None})
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default=os.environ.get("LATM_BASE_URL", "http://127.0.0.1:8765/v1"))
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-tools")
    parser.add_argument("--n", type=int, default=5, help="questions per task")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tasks", default=",".join(TASKS))
    args = parser.parse_args()
    names = [t for t in args.tasks.split(",") if t]
    model = OpenAIModel(args.model, base_url=args.base_url)
    print(f"tool user {args.model} at {args.base_url}, {args.n} fresh questions per task, direct solvers off")
    print(f"{'task':<40} {'mode':<9} {'right':>6} {'tokens/q':>9} {'s/q':>6}")
    totals = {m: {"right": 0, "tokens": 0, "seconds": 0.0, "n": 0} for m in ("functions", "code")}
    with Sandbox.open() as sb:
        tools = demo_tools(sb)
        for name in names:
            task = get_task(name)
            questions = task.generate(args.n, seed=args.seed)
            for mode in ("functions", "code"):
                user = ToolUser(model, sb, calling=mode)  # type: ignore[arg-type]
                right = tokens = 0
                started = time.monotonic()
                for ex in questions:
                    answer = user.use(tools[name], ex.question)
                    right += task.check(answer.value, ex.answer)
                    tokens += answer.usage.tokens
                seconds = time.monotonic() - started
                t = totals[mode]
                t["right"] += right
                t["tokens"] += tokens
                t["seconds"] += seconds
                t["n"] += len(questions)
                print(
                    f"{name:<40} {mode:<9} {right:>3}/{len(questions):<2} {tokens / len(questions):>9.0f} "
                    f"{seconds / len(questions):>6.1f}",
                    flush=True,
                )
    f, c = totals["functions"], totals["code"]
    for mode, t in totals.items():
        n = max(t["n"], 1)
        print(f"{'total':<40} {mode:<9} {t['right']:>3}/{t['n']:<2} {t['tokens'] / n:>9.0f} {t['seconds'] / n:>6.1f}")
    if c["tokens"]:
        print(f"function calling used {f['tokens'] / c['tokens']:.2f}x the code mode's tokens per question")


if __name__ == "__main__":
    main()
