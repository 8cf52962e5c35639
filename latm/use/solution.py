"""``Solution``: one question answered (or not), how, by which tool, at what cost; and the check every
batch of questions gets before any paid call."""

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from latm.errors import UserError
from latm.models.usage import Usage
from latm.use.dispatcher import Route
from latm.use.tool_user import Answer
from toolcache import Tool

SolveMode = Literal["direct", "llm", "fallback", "failed"]


class Solution(BaseModel):
    question: str
    answer: str | None
    tool: str | None = None  # the tool's name
    tool_id: str | None = None
    task: str | None = None
    mode: SolveMode
    usage: Usage = Field(default_factory=Usage)
    duration_s: float = 0.0
    route: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.answer is not None

    @property
    def cost_usd(self) -> float | None:
        return self.usage.cost_usd

    @property
    def tokens(self) -> int:
        return self.usage.tokens


def check_questions(questions: Sequence[object]) -> None:
    """Every question non-empty text, or a UserError naming the bad ones (before any paid call)."""
    bad = [i for i, q in enumerate(questions) if not isinstance(q, str) or not q.strip()]
    if bad:
        listed = ", ".join(str(i) for i in bad[:10]) + (" ..." if len(bad) > 10 else "")
        raise UserError(f"every question must be non-empty text; not question(s) {listed} (0-based)")


def solution_of(question: str, tool: Tool, answer: Answer, usage: Usage, route: Route) -> Solution:
    return Solution(
        question=question,
        answer=answer.value,
        tool=tool.name,
        tool_id=tool.id,
        task=tool.task,
        mode=answer.mode,
        usage=usage,
        route=route.reason,
        error=answer.error,
        duration_s=answer.duration_s,
    )
