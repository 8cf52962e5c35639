"""Tools for tasks LATM does not ship: make one per task file, then answer the rest of the file.

    python benchmarks/own_tasks.py FILE.jsonl [FILE.jsonl ...] [--examples 9] [--rest 100]
        [--maker M --user M --base-url URL] [--strategy auto|latm|search] [--minutes 20] [--out results.json]

Each file is JSONL of {"question", "answer"} (any format; ``benchmarks/own_task_files.py`` writes eight).
The first ``--examples`` (default 9: 3 shown for training, 3 for validation, 3 kept back) make the tool
with the default settings, as ``latm make`` would; the next ``--rest`` questions are answered with
``solve_many`` (direct solver, else the user model, else the fallback). Near-variants of those
questions (a fixed word changed, a clause added: ``latm.judge.strictness.near_misses``) measure
whether the tool's solver refuses what is not its task. Printed per task: tool or not, maker tokens,
seconds, the held-out verdict, accuracy on the rest of the file (and how much of it direct), and
the share of near-variants refused. Models come from the options or LATM_MAKER / LATM_USER.
With ``--minutes`` each task runs in a child process stopped at that limit (reported as no tool, with
the reason), so one search that finds nothing cannot hold up the rest.
"""

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from latm import LATM
from latm.judge import checker_for
from latm.judge.strictness import near_misses
from latm.models import Completion
from latm.use.dispatcher import route_direct
from tasks import Example
from toolcache import ToolCache


def read(path: Path) -> list[Example]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(question=r["question"], answer=str(r.get("answer", r.get("target")))) for r in rows]


def run_task(path: Path, args: argparse.Namespace, cache_dir: str, spent: Any = None) -> dict[str, Any]:
    """One task's row; ``spent`` (a shared integer) follows the tokens so far, for a run stopped at its limit."""
    task = path.stem
    examples = read(path)
    making, rest = examples[: args.examples], examples[args.examples : args.examples + args.rest]
    row: dict[str, Any] = {"task": task}
    with (
        ToolCache(Path(cache_dir) / task) as cache,
        LATM(maker=args.maker, user=args.user, base_url=args.base_url, cache=cache, strategy=args.strategy) as latm,
    ):
        if spent is not None and latm.maker_model is not None:
            latm.maker_model = Counted(latm.maker_model, spent)  # type: ignore[assignment]
        started = time.monotonic()
        result = latm.make_tool(task, making)
        row.update(
            tool=result.tool is not None,
            tokens=result.usage.tokens,
            make_s=round(time.monotonic() - started, 1),
            reason=None if result.tool else result.reason or "",
            split=result.split,
        )
        if result.tool is None:
            return row
        tool = result.tool
        held = tool.verification.held_out
        row["held_out"] = f"{held.passed}/{held.total}" if held else "shown only"
        row["bound"] = tool.error_bound
        check = checker_for(task)
        started = time.monotonic()
        solutions = latm.solve_many([e.question for e in rest])
        row["solve_s"] = round(time.monotonic() - started, 1)
        right = [s.answer is not None and check(s.answer, e.answer) for s, e in zip(solutions, rest, strict=True)]
        row["accuracy"] = sum(right) / max(1, len(rest))
        row["direct"] = sum(s.mode == "direct" for s in solutions) / max(1, len(rest))
        if tool.direct:
            variants = near_misses(task, [e.question for e in rest[:20]], seed=1)
            found = route_direct(latm.tool_user, [v.question for v in variants], [tool])
            row["variants_refused"] = 1 - len(found.answered) / max(1, len(variants))
    return row


class Counted:
    """The maker model, adding each reply's tokens to ``spent`` as it comes (LATM totals a making at
    its end, which a run stopped at its limit never reaches)."""

    def __init__(self, model: Any, spent: Any) -> None:
        self.model, self.spent, self.name = model, spent, model.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def _add(self, done: Completion) -> Completion:
        if not done.cached:
            self.spent.value += done.usage.prompt_tokens + done.usage.completion_tokens
        return done

    def complete(self, messages: list[Any], **kw: Any) -> Completion:
        return self._add(self.model.complete(messages, **kw))

    async def acomplete(self, messages: list[Any], **kw: Any) -> Completion:
        return self._add(await self.model.acomplete(messages, **kw))


def _child(path: Path, args: argparse.Namespace, cache_dir: str, out: Any, spent: Any = None) -> None:
    out.put(run_task(path, args, cache_dir, spent))


def run_limited(path: Path, args: argparse.Namespace, cache_dir: str) -> dict[str, Any]:
    """``run_task`` in a child process, stopped after ``args.minutes``."""
    if not args.minutes:
        return run_task(path, args, cache_dir)
    context = multiprocessing.get_context("spawn")
    out, spent = context.Queue(), context.Value("q", 0)
    child = context.Process(target=_child, args=(path, args, cache_dir, out, spent))
    child.start()
    try:
        return out.get(timeout=args.minutes * 60)
    except Exception:  # queue.Empty: the limit passed
        return {
            "task": path.stem,
            "tool": False,
            "tokens": spent.value,
            "make_s": args.minutes * 60,
            "reason": f"stopped at the {args.minutes}-minute limit",
        }
    finally:
        child.terminate()  # SIGTERM first: the child's sandbox pool removes its containers
        child.join(30)
        child.kill()
        child.join()


def pct(row: dict[str, Any], key: str) -> str:
    return f"{row[key]:.0%}" if isinstance(row.get(key), float) else "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--examples", type=int, default=9)
    parser.add_argument("--rest", type=int, default=100)
    parser.add_argument("--maker")
    parser.add_argument("--user")
    parser.add_argument("--base-url")
    parser.add_argument("--strategy", default="auto")
    parser.add_argument("--minutes", type=float, help="stop each task's run after this many minutes")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = []
    columns = ("tool", 4), ("tokens", 7), ("make s", 7), ("held-out", 9), ("accuracy", 9), ("direct", 7)
    print(f"{'task':<24} " + " ".join(f"{c:>{w}}" for c, w in columns) + f" {'variants refused':>17}", flush=True)
    with tempfile.TemporaryDirectory() as cache_dir:
        for path in args.files:
            row = run_limited(path, args, cache_dir)
            rows.append(row)

            print(
                f"{row['task']:<24} {'yes' if row['tool'] else 'no':>4} {row['tokens']:>7} {row['make_s']:>7} "
                f"{row.get('held_out', '-'):>9} {pct(row, 'accuracy'):>9} {pct(row, 'direct'):>7} "
                f"{pct(row, 'variants_refused'):>17}" + (f"  ({row['reason']})" if row.get("reason") else ""),
                flush=True,
            )
            if args.out:
                args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
