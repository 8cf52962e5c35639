"""The row contract shared by both engines, and the tallies of uses a batch reports."""

from collections.abc import Sequence
from typing import Any

from latm.errors import UserError

ADDED_COLUMNS = ("answer", "ok", "mode", "tool", "tool_id", "error", "tokens", "cost_usd")
RAY_MISSING = (
    "the Ray engine needs Ray, which is not installed: pip install 'latm[ray]' (or pip install 'ray[data]>=2.51')"
)


def require_ray() -> Any:
    """The ``ray`` module (with Ray Data), or a UserError saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise UserError(RAY_MISSING) from None
    return ray


def solution_values(sol: Any) -> dict[str, Any]:
    """The added columns of one answered (or failed) question."""
    return {
        "answer": sol.answer,
        "ok": sol.ok,
        "mode": sol.mode,
        "tool": sol.tool,
        "tool_id": sol.tool_id,
        "error": sol.error,
        "tokens": sol.tokens,
        "cost_usd": sol.cost_usd,
    }


def tallies(solutions: Sequence[Any]) -> list[dict[str, Any]]:
    """Uses per (tool id, mode, ok), as ``LATM._record`` counts them: what the driver's cache records."""
    groups: dict[tuple[str, str, bool], dict[str, Any]] = {}
    for s in solutions:
        if s.tool_id and s.mode in ("direct", "llm", "failed"):
            mode = "direct" if s.mode == "direct" else "llm"
            g = groups.setdefault(
                (s.tool_id, mode, s.ok),
                {"tool_id": s.tool_id, "mode": mode, "ok": s.ok, "count": 0, "tokens": 0, "cost_usd": 0.0},
            )
            g["count"] += 1
            g["tokens"] += s.usage.tokens
            g["cost_usd"] += s.usage.known_cost_usd
    return list(groups.values())
