"""The Tool record: everything needed to run, trust, explain and account for one tool."""

import hashlib
import math
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

SCHEMA_VERSION = 1
Status = Literal["verified", "quarantined", "retired"]
STATUSES: tuple[Status, ...] = ("verified", "quarantined", "retired")


def now() -> datetime:
    return datetime.now(UTC)


def tool_id(code: str, direct: str | None = None, task: str = "") -> str:
    """Content hash of the code that runs (and the task it serves): made twice, same id.

    The task is part of the hash because two tasks may share one generic function (the
    five- and seven-object variants of a task do) and each task keeps its own history.
    """
    digest = hashlib.sha256()
    digest.update(task.encode("utf-8"))
    digest.update(b"\0task\0")
    digest.update(code.encode("utf-8"))
    digest.update(b"\0direct\0")
    digest.update((direct or "").encode("utf-8"))
    return digest.hexdigest()


class Entry(BaseModel):
    """The tool's function: its name and signature as written by the maker."""

    name: str
    signature: str = ""


class UseCase(BaseModel):
    """One wrapped example: the question and the call code (which sets ``ans``)."""

    question: str
    call: str
    answer: str


class VerificationExample(BaseModel):
    question: str
    expected: str
    observed: str | None = None
    passed: bool
    call: str = ""
    error: str | None = None


class Verification(BaseModel):
    examples: list[VerificationExample] = Field(default_factory=list)
    passed: int = 0
    total: int = 0
    attempts: int = 0
    checked_at: datetime = Field(default_factory=now)

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.passed == self.total


class Provenance(BaseModel):
    maker_model: str = "unknown"
    created_at: datetime = Field(default_factory=now)
    package_version: str = "0.1.0"
    prompt_version: str = "1"
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None  # None: the model's price is unknown
    baseline_cost_per_question_usd: float | None = None  # answering one question with the maker
    trace: list[dict[str, Any]] = Field(default_factory=list)


class UsageStats(BaseModel):
    uses: int = 0
    direct_uses: int = 0
    llm_uses: int = 0
    failures: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    last_used: datetime | None = None


class Payoff(BaseModel):
    """What a tool cost and when it paid for itself, computed from its record."""

    cost_to_make_usd: float | None
    cost_per_use_usd: float | None
    baseline_per_question_usd: float | None
    break_even_uses: int | None  # None: unknown prices, or never pays off
    saved_usd: float | None


class Tool(BaseModel):
    schema_version: int = SCHEMA_VERSION
    id: str = ""
    name: str
    task: str
    description: str = ""
    entry: Entry
    code: str
    direct: str | None = None  # strict solve(question) -> str, when the maker wrote one
    use_cases: list[UseCase] = Field(default_factory=list)
    verification: Verification = Field(default_factory=Verification)
    provenance: Provenance = Field(default_factory=Provenance)
    status: Status = "verified"
    version: int = 0  # set by the cache: 1 for a task's first tool, then 2, 3...
    usage: UsageStats = Field(default_factory=UsageStats)

    def model_post_init(self, __context: Any) -> None:
        expected = tool_id(self.code, self.direct, self.task)
        if not self.id:
            self.id = expected
        elif self.id != expected:
            raise ValueError(f"tool id {self.id[:12]} does not match its code (expected {expected[:12]})")

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def payoff(self) -> Payoff:
        make = self.provenance.cost_usd
        base = self.provenance.baseline_cost_per_question_usd
        per_use = self.usage.cost_usd / self.usage.uses if self.usage.uses else 0.0
        break_even = None
        saved = None
        if make is not None and base is not None:
            margin = base - per_use
            if margin > 0:
                break_even = math.ceil(make / margin) if make > 0 else 0
            saved = self.usage.uses * base - make - self.usage.cost_usd
        return Payoff(
            cost_to_make_usd=make,
            cost_per_use_usd=per_use,
            baseline_per_question_usd=base,
            break_even_uses=break_even,
            saved_usd=saved,
        )
