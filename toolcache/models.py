"""The Tool record: everything needed to run, trust, explain and account for one tool."""

import hashlib
import math
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from toolcache.bound import error_bound

SCHEMA_VERSION = 1
Status = Literal["verified", "quarantined", "retired"]
STATUSES: tuple[Status, ...] = ("verified", "quarantined", "retired")


def package_version() -> str:
    """The installed LATM's version (pyproject.toml is the one source)."""
    from importlib import metadata

    try:
        return metadata.version("latm")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def now() -> datetime:
    return datetime.now(UTC)


def tool_id(code: str, direct: str | None = None, task: str = "", rendering: str = "") -> str:
    """Content hash of what decides an answer (the code, the direct solver, the answer
    rendering) and of the task it serves: made twice, same id.

    The task is part of the hash because two tasks may share one generic function (the
    five- and seven-object variants of a task do) and each task keeps its own history. The
    rendering (``Rendering.key()``, empty for the default) is hashed too, so that changing how
    values become answers cannot hide behind an existing id.
    """
    digest = hashlib.sha256()
    digest.update(task.encode("utf-8"))
    digest.update(b"\0task\0")
    digest.update(code.encode("utf-8"))
    digest.update(b"\0direct\0")
    digest.update((direct or "").encode("utf-8"))
    if rendering:
        digest.update(b"\0rendering\0")
        digest.update(rendering.encode("utf-8"))
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


class HeldOut(BaseModel):
    """The verdict on questions the maker never saw: what judged them, and how many were right."""

    passed: int
    total: int
    source: str  # "generated" (fresh instances of a built-in task) or "kept back" (the user's examples)
    judged_by: str  # "direct solver", or "user model NAME" (the tool user wrote each call)
    seed: int | None = None  # the generator's seed, for "generated"
    failures: list[VerificationExample] = Field(default_factory=list)  # the first few, in full
    checked_at: datetime = Field(default_factory=now)

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.passed == self.total


Trust = Literal["held_out", "shown_only", "imported", "failed"]


class Evidence(BaseModel):
    """The labelled questions a tool was judged on that its maker never saw, each counted once."""

    held_out: int = 0  # held-out questions judged
    wrong: int = 0  # of them answered wrongly (a failure keeps the tool out; counted for the bound)
    kinds: dict[str, int] = Field(default_factory=dict)  # "generated", "edge", "kept back" -> questions
    batch_limit: int = 0  # the most calls the judge ran in one sandbox batch (0: unknown)
    orders: int = 1  # in how many orders the held-out questions ran (answers must not depend on it)
    functions_checked: int = 0  # held-out questions on which the function was judged with the solver's arguments
    function_completed: bool = False  # ... its value completed by a use case's call code (not an answer alone)
    argument_shapes: dict[str, list[str]] = Field(default_factory=dict)  # ... the shapes of those arguments
    synthetic_agreed: int = 0  # unlabelled questions two candidates agreed on: shown beside the bound


class Verification(BaseModel):
    examples: list[VerificationExample] = Field(default_factory=list)
    passed: int = 0
    total: int = 0
    attempts: int = 0
    checked_at: datetime = Field(default_factory=now)
    held_out: HeldOut | None = None  # None: verified on the shown examples only
    evidence: Evidence = Field(default_factory=Evidence)
    canary_questions: list[VerificationExample] = Field(default_factory=list)  # labelled, for canaries
    notes: list[str] = Field(default_factory=list)  # what the judge noticed and did not refuse
    here: bool = True  # False: imported, and not (yet) verified by this installation
    trusted: bool = False  # imported with --trust: the exporter's verdict is taken as it is

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.passed == self.total

    @property
    def trust(self) -> Trust:
        """held_out: right on questions its maker never saw; shown_only: no such questions were
        available; imported: verified elsewhere, not here (an export carries its own expected
        answers, so its record proves nothing); failed: something did not pass."""
        if not self.ok or (self.held_out is not None and not self.held_out.ok):
            return "failed"
        if not self.here and not self.trusted:
            return "imported"
        return "held_out" if self.held_out is not None else "shown_only"


class Rendering(BaseModel):
    """How a value the tool returned becomes the answer text: one rule per tool.

    Learned once from the shown examples and applied the same way by verification, the tool
    user and the direct solver. Text stays text (a lone letter or an option's text in a
    multiple-choice question is that option); ``sep`` joins a list or tuple; ``base`` says
    whether an integer in a multiple-choice question is a 1-based or a 0-based option position.
    """

    sep: str | None = None  # None: no list of two or more items was seen; joined by one space
    base: int | None = None  # None: no integer answer to a multiple-choice question was seen

    def key(self) -> str:
        """Empty for the default rendering (so ids made before renderings existed stay valid)."""
        return "" if self.sep is None and self.base is None else self.model_dump_json()

    def describe(self) -> str:
        parts = ["text as it is"]
        if self.sep is not None:
            parts.append(f"lists joined by {self.sep!r}")
        if self.base is not None:
            parts.append(f"an integer is the option at position {self.base}-based")
        return "; ".join(parts)


class UsageStats(BaseModel):
    uses: int = 0
    direct_uses: int = 0
    llm_uses: int = 0
    failures: int = 0
    by_source: dict[str, int] = Field(default_factory=dict)  # api, cli, mcp, openai, ray -> uses
    tokens: int = 0
    cost_usd: float = 0.0
    last_used: datetime | None = None
    canaries_passed: int = 0  # questions with known answers mixed into its work, answered rightly
    canaries_failed: int = 0

    def counts(self) -> str:
        """ "N uses (d direct, l LLM, f failed)": how a tool's uses are said everywhere."""
        return f"{self.uses} uses ({self.direct_uses} direct, {self.llm_uses} LLM, {self.failures} failed)"


class Provenance(BaseModel):
    maker_model: str = "unknown"
    created_at: datetime = Field(default_factory=now)
    package_version: str = Field(default_factory=package_version)
    prompt_version: str = "1"
    strategy: str = "latm"  # how the tool was made: "latm" (the paper's protocol) or "search"
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None  # None: the model's price is unknown
    baseline_cost_per_question_usd: float | None = None  # answering one question with the maker
    baseline_tokens_per_question: int | None = None  # ... its tokens (known where prices are not)
    trace: list[dict[str, Any]] = Field(default_factory=list)
    # An imported tool's uses in the cache that exported it: where it came from, never this cache's uses.
    exporter_usage: UsageStats | None = None


class Quarantine(BaseModel):
    """Why and when a tool stopped answering (a failed canary, a failed re-check)."""

    at: datetime = Field(default_factory=now)
    reason: str


class Payoff(BaseModel):
    """What a tool cost and when it paid for itself, computed from its record."""

    cost_to_make_usd: float | None
    cost_per_use_usd: float | None
    baseline_per_question_usd: float | None
    break_even_uses: int | None  # None: unknown prices, or never pays off
    saved_usd: float | None
    saved_tokens: int | None = None  # the same in tokens (known where prices are not: a local model)


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
    rendering: Rendering = Field(default_factory=Rendering)
    verification: Verification = Field(default_factory=Verification)
    provenance: Provenance = Field(default_factory=Provenance)
    status: Status = "verified"
    quarantine: Quarantine | None = None
    version: int = 0  # set by the cache: 1 for a task's first tool, then 2, 3...
    usage: UsageStats = Field(default_factory=UsageStats)

    def model_post_init(self, __context: Any) -> None:
        expected = tool_id(self.code, self.direct, self.task, self.rendering.key())
        if not self.id:
            self.id = expected
        elif self.id != expected:
            raise ValueError(f"tool id {self.id[:12]} does not match its code (expected {expected[:12]})")

    @property
    def labelled(self) -> tuple[int, int]:
        """(questions, wrong) of the labelled evidence: held-out questions and canaries, each once."""
        e, u = self.verification.evidence, self.usage
        return e.held_out + u.canaries_passed + u.canaries_failed, e.wrong + u.canaries_failed

    @property
    def error_bound(self) -> float | None:
        """The 95% upper bound on its error rate from its labelled evidence (None: it has none)."""
        n, wrong = self.labelled
        return error_bound(wrong, n) if n else None

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
            answered = self.usage.uses - self.usage.failures  # a failed use saved nothing
            saved = answered * base - make - self.usage.cost_usd
        tokens_base = self.provenance.baseline_tokens_per_question
        saved_tokens = None
        if tokens_base is not None:
            answered = self.usage.uses - self.usage.failures
            making = self.provenance.tokens_in + self.provenance.tokens_out
            saved_tokens = answered * tokens_base - making - self.usage.tokens
        return Payoff(
            saved_tokens=saved_tokens,
            cost_to_make_usd=make,
            cost_per_use_usd=per_use,
            baseline_per_question_usd=base,
            break_even_uses=break_even,
            saved_usd=saved,
        )
