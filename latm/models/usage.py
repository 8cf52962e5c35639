"""Token and cost accounting: every LLM call is recorded by role and model.

Prices are USD per million tokens. A model without a known price costs *unknown*, never
zero: totals say how many calls they could not price.
"""

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

Role = Literal["maker", "user", "dispatcher", "baseline"]

# USD per 1M tokens (input, output); public list prices, override with LATM_PRICES or prices=.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o3-mini": (1.10, 4.40),
    # The offline demo models: priced like the models they stand in for, so the demo's
    # cost table shows the paper's trade-off. Real local models are unknown (None).
    "demo-maker": (2.50, 10.00),
    "demo-user": (0.15, 0.60),
}


class PriceTable(BaseModel):
    prices: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    @classmethod
    def load(cls, overrides: dict[str, tuple[float, float]] | None = None) -> "PriceTable":
        """Defaults, then the JSON file named by LATM_PRICES, then explicit overrides."""
        prices = dict(DEFAULT_PRICES)
        from latm.settings import Settings

        path = Settings.load().prices
        if path:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            prices.update({k: (float(v[0]), float(v[1])) for k, v in data.items()})
        prices.update(overrides or {})
        return cls(prices=prices)

    def price(self, model: str) -> tuple[float, float] | None:
        if model in self.prices:
            return self.prices[model]
        # dated snapshots ("gpt-4o-2024-08-06") cost what their family costs
        family = max((k for k in self.prices if model.startswith(k + "-")), key=len, default=None)
        return self.prices[family] if family else None

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        p = self.price(model)
        if p is None:
            return None
        return (prompt_tokens * p[0] + completion_tokens * p[1]) / 1_000_000


class TokenCount(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Line(BaseModel):
    """Counts for one (role, model) pair."""

    role: str
    model: str
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0


class Usage(BaseModel):
    """What LLM calls cost, split by role and model. Add two with ``+``."""

    lines: dict[str, Line] = Field(default_factory=dict)

    def record(
        self,
        role: str,
        model: str,
        tokens: TokenCount,
        *,
        cached: bool = False,
        prices: PriceTable | None = None,
    ) -> None:
        key = f"{role}|{model}"
        line = self.lines.setdefault(key, Line(role=role, model=model))
        line.calls += 1
        if cached:  # served from the response cache: free
            line.cached_calls += 1
            return
        line.prompt_tokens += tokens.prompt_tokens
        line.completion_tokens += tokens.completion_tokens
        cost = (prices or _PRICES).cost(model, tokens.prompt_tokens, tokens.completion_tokens)
        line.cost_usd = None if cost is None or line.cost_usd is None else line.cost_usd + cost

    def __add__(self, other: "Usage") -> "Usage":
        out = self.model_copy(deep=True)
        out.merge(other)
        return out

    def merge(self, other: "Usage") -> None:
        for key, line in other.lines.items():
            mine = self.lines.get(key)
            if mine is None:
                self.lines[key] = line.model_copy()
                continue
            mine.calls += line.calls
            mine.cached_calls += line.cached_calls
            mine.prompt_tokens += line.prompt_tokens
            mine.completion_tokens += line.completion_tokens
            mine.cost_usd = None if mine.cost_usd is None or line.cost_usd is None else mine.cost_usd + line.cost_usd

    @property
    def calls(self) -> int:
        return sum(line.calls for line in self.lines.values())

    @property
    def prompt_tokens(self) -> int:
        return sum(line.prompt_tokens for line in self.lines.values())

    @property
    def completion_tokens(self) -> int:
        return sum(line.completion_tokens for line in self.lines.values())

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_usd(self) -> float | None:
        """Total cost, or None when any paid call was made at an unknown price."""
        costs = [line.cost_usd for line in self.lines.values() if line.calls > line.cached_calls]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)

    @property
    def known_cost_usd(self) -> float:
        return sum(line.cost_usd or 0.0 for line in self.lines.values())

    def by_role(self) -> dict[str, TokenCount]:
        out: dict[str, TokenCount] = {}
        for line in self.lines.values():
            tc = out.setdefault(line.role, TokenCount())
            tc.prompt_tokens += line.prompt_tokens
            tc.completion_tokens += line.completion_tokens
        return out

    def calls_by_role(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in self.lines.values():
            out[line.role] = out.get(line.role, 0) + line.calls
        return out

    def summary(self) -> dict[str, object]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "by_role": {k: v.model_dump() for k, v in self.by_role().items()},
            "lines": [line.model_dump() for line in self.lines.values()],
        }


_PRICES = PriceTable.load()


def money(value: float | None, places: int = 4) -> str:
    """A USD amount, or "unknown" when a price was unknown (never shown as zero)."""
    return "unknown" if value is None else f"${value:.{places}f}"
