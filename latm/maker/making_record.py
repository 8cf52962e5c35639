"""The record of a making: its attempts, its result, its session state, and the tool it yields."""

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from latm import replies
from latm.judge import (
    CaseOutcome,
    Checker,
    as_text,
)
from latm.maker import prompts
from latm.models import Message
from latm.models.usage import PriceTable, Usage
from tasks import Example
from toolcache import (
    Entry,
    Evidence,
    HeldOut,
    Provenance,
    Rendering,
    Tool,
    UseCase,
    Verification,
    VerificationExample,
)


class Attempt(BaseModel):
    """One exchange of the making: what was asked, what came back, what we made of it."""

    step: str
    number: int
    prompt: str
    round: int = 1
    reply: str = ""
    code: str = ""
    outcome: str = "ok"  # ok, or the failure kind (no_code, wrong_answers, vacuous...)
    feedback: str = ""  # the repair message sent back
    observations: list[dict[str, Any]] = Field(default_factory=list)
    duration_s: float = 0.0


class MakeResult(BaseModel):
    task: str
    tool: Tool | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    reason: str | None = None  # why no tool was made
    duration_s: float = 0.0
    split: str = ""  # how the examples were used (``latm.maker.split.describe_split``)

    @property
    def ok(self) -> bool:
        return self.tool is not None

    def attempts_per_step(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.attempts:
            out[a.step] = out.get(a.step, 0) + 1
        return out

    def failures(self) -> list[str]:
        return [f"{a.step}: {a.outcome}" for a in self.attempts if a.outcome != "ok"]


@dataclass
class Session:
    """The state of one making: the conversation and what has been established so far."""

    task: str
    train: list[Example]
    valid: list[Example]
    check: Checker
    messages: list[Message] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    code: str = ""
    entry: str = ""
    signature: str = ""
    tests: list[str] = field(default_factory=list)
    test_outcomes: list[CaseOutcome] = field(default_factory=list)
    use_cases: list[UseCase] = field(default_factory=list)
    direct: str | None = None
    verify_attempts: int = 0
    round: int = 1
    rendering: Rendering = field(default_factory=Rendering)
    kept_back: list[Example] | None = None  # the user's held-out examples (None: generate, if built in)
    held_out: HeldOut | None = None
    evidence: Evidence = field(default_factory=Evidence)  # what the held-out verdict rests on
    wrong_unseen: HeldOut | None = None  # a direct solver's wrong answers on unseen questions
    strategy: str = "latm"  # how this tool was made: the paper's protocol, or search
    notes: list[str] = field(default_factory=list)  # what the judge noticed and did not refuse
    carried: list[str] = field(default_factory=list)  # literals of the shown examples, left to unseen questions

    @property
    def shown(self) -> list[Example]:
        return self.train + self.valid

    def fresh(self) -> "Session":
        """A new session of the same task that carries this one's attempts and cost (a later round, the
        next way of making, another view's function): nothing judged before carries over."""
        return Session(
            task=self.task,
            train=self.train,
            valid=self.valid,
            check=self.check,
            kept_back=self.kept_back,
            attempts=self.attempts,
            usage=self.usage,
            strategy=self.strategy,
            round=self.round,
        )


def tool_record(s: Session, model: str, prices: PriceTable | None) -> Tool:
    """The tool a finished session made, with its verification and provenance."""
    examples = [
        VerificationExample(
            question=ex.question,
            expected=ex.answer,
            observed=as_text(o.observed),
            passed=o.passed,
            call=call,
        )
        for ex, o, call in zip(s.valid, s.test_outcomes, s.tests, strict=True)
    ]
    cost = s.usage.cost_usd
    baseline = _baseline_cost(s, model, prices)
    return Tool(
        name=s.entry,
        task=s.task,
        description=_description(s),
        entry=Entry(name=s.entry, signature=s.signature),
        code=s.code,
        direct=s.direct,
        use_cases=s.use_cases,
        rendering=s.rendering,
        verification=Verification(
            examples=examples,
            passed=sum(e.passed for e in examples),
            total=len(examples),
            attempts=s.verify_attempts,
            held_out=s.held_out,
            evidence=s.evidence if s.held_out is not None else Evidence(),
            notes=list(dict.fromkeys(s.notes)),
            canary_questions=[  # a user's kept-back examples: labelled questions for canaries in use
                VerificationExample(question=ex.question, expected=ex.answer, passed=True)
                for ex in (s.kept_back or [])
            ],
        ),
        provenance=Provenance(
            maker_model=model,
            prompt_version=prompts.PROMPT_VERSION,
            strategy=s.strategy,
            tokens_in=s.usage.prompt_tokens,
            tokens_out=s.usage.completion_tokens,
            cost_usd=cost,
            baseline_cost_per_question_usd=baseline,
            baseline_tokens_per_question=sum(_baseline_tokens(s)),
            trace=[a.model_dump(mode="json") for a in s.attempts],
        ),
    )


def functions_of(code: str) -> list[Any]:
    try:
        return replies.top_level_functions(code)
    except SyntaxError:
        return []


def _description(s: Session) -> str:
    for fn in functions_of(s.code):
        if fn.name == s.entry:
            import ast

            doc = ast.get_docstring(fn)
            if doc:
                return doc.strip().splitlines()[0]
    return f"Solves {s.task.replace('_', ' ')} questions."


def _baseline_tokens(s: Session) -> tuple[int, int]:
    """The tokens of answering one question with the maker model, estimated from the examples: a
    few-shot chain-of-thought prompt (the train examples plus the question) and a reasoned answer of
    about 300 tokens; ``latm eval --baseline cot`` measures the real figure."""
    return sum(len(ex.question) + len(ex.answer) for ex in s.train + s.valid[:1]) // 4 + 60, 300


def _baseline_cost(s: Session, model: str, prices: PriceTable | None) -> float | None:
    """What answering one question with the maker model costs (``_baseline_tokens`` at its price)."""
    table = prices or PriceTable.load()
    return table.cost(model, *_baseline_tokens(s))
