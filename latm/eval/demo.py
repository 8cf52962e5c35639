"""The demo: make the paper's tools from 3+3 examples, then answer fresh questions with them."""

import time
from collections.abc import Callable
from typing import Any

from latm.errors import UserError
from latm.facade import LATM
from tasks import TASKS, get_task

Log = Callable[[str], None] | None


def run_demo(
    latm: LATM, *, n: int = 20, seed: int = 0, tasks: list[str] | None = None, log: Log = None
) -> dict[str, Any]:
    names = tasks or list(TASKS)
    for name in names:
        if name not in TASKS:  # unknown names fail before anything is spent
            raise UserError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}")
    made, reused, tools, making_cost = 0, 0, {}, {}
    for name in names:
        task = get_task(name)
        examples = task.generate(6, seed=seed)
        before = latm.usage.model_copy(deep=True)
        if log:
            log(f"{name}")
        result = latm.make_tool(name, examples, k=3, reuse="same-maker")
        spent = latm.usage.known_cost_usd - before.known_cost_usd
        if result.tool is None:
            if log:
                log(f"  no tool: {result.reason}")
            continue
        fresh = bool(result.attempts)
        made += fresh
        reused += not fresh
        if log and not fresh:
            log(f"  reused {result.tool.name} v{result.tool.version} from the cache")
        tools[name] = ("made" if fresh else "cache", result.tool)
        making_cost[name] = spent if fresh else 0.0
    questions, owners = [], []
    for name in tools:
        for ex in get_task(name).generate(n, seed=seed + 1000):
            questions.append(ex.question)
            owners.append((name, ex.answer))
    started = time.monotonic()
    solutions = latm.solve_many(questions, progress=log is not None)
    elapsed = time.monotonic() - started
    rows: list[dict[str, Any]] = []
    for name, (source, tool) in tools.items():
        mine = [(s, a) for s, (owner, a) in zip(solutions, owners, strict=True) if owner == name]
        check = get_task(name).check
        base = tool.provenance.baseline_cost_per_question_usd
        use_cost = sum(s.usage.known_cost_usd for s, _ in mine)
        rows.append(
            {
                "task": name,
                "tool": tool.name,
                "tool_source": source,
                "accuracy": sum(check(s.answer, a) for s, a in mine) / len(mine),
                "direct_share": sum(s.mode == "direct" for s, _ in mine) / len(mine),
                "llm_calls": sum(s.usage.calls for s, _ in mine),
                "tokens": sum(s.usage.tokens for s, _ in mine),
                "making_cost_usd": making_cost[name],
                "answering_cost_usd": use_cost,
                "cost_usd": use_cost + making_cost[name],
                "maker_alone_usd": None if base is None else base * len(mine),
            }
        )
    known = [r["maker_alone_usd"] for r in rows]
    total = {
        "accuracy": sum(r["accuracy"] for r in rows) / max(len(rows), 1),
        "direct_share": sum(r["direct_share"] for r in rows) / max(len(rows), 1),
        "llm_calls": sum(r["llm_calls"] for r in rows),
        "tokens": sum(r["tokens"] for r in rows),
        "making_cost_usd": sum(r["making_cost_usd"] for r in rows),
        "answering_cost_usd": sum(r["answering_cost_usd"] for r in rows),
        "cost_usd": sum(r["cost_usd"] for r in rows),
        "maker_alone_usd": None if any(k is None for k in known) else sum(k for k in known if k is not None),
    }
    return {
        "rows": rows,
        "total": total,
        "made": made,
        "reused": reused,
        "solved": len(solutions),
        "solve_seconds": elapsed,
        "usage": latm.usage.summary(),
    }
