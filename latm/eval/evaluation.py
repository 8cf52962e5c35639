"""``latm eval``: LATM against chain-of-thought prompting, accuracy and cost side by side.

The data is split as in the paper: k train and k validation examples make the tool, the
rest are test instances. LATM answers them with the tool (direct solver first, the user
model otherwise); with ``baseline="cot"`` the maker and the user model also answer every
test instance by few-shot chain of thought (our prompt, built from the train examples).
Costs include making the tool, amortised over the instances, and the break-even count says
after how many instances LATM became cheaper than each baseline.
"""

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from latm._aio import run_sync
from latm.errors import ModelError, UserError
from latm.facade import LATM
from latm.models import ChatModel
from latm.models.usage import Usage
from latm.use.fallback import cot_prompt, parse_final_answer
from latm.use.tool_user import ToolUser
from tasks import Example, get_task

Baseline = Literal["cot", "none"]


class InstanceRecord(BaseModel):
    question: str
    answer: str
    prediction: str | None
    correct: bool
    route: str  # direct, llm, failed (LATM) or cot
    calls: int
    tokens: dict[str, dict[str, int]]  # role -> prompt/completion tokens
    cost_usd: float | None
    error: str | None = None


class MethodReport(BaseModel):
    method: str
    models: dict[str, str]
    n: int
    accuracy: float
    llm_calls: int
    tokens_per_instance: dict[str, dict[str, float]]  # role -> prompt/completion per instance
    usd_total: float | None
    usd_per_instance: float | None
    making_usd: float | None = None
    making_tokens: int = 0
    direct_share: float | None = None
    wall_s: float
    instances: list[InstanceRecord] = Field(default_factory=list)

    @property
    def tokens_per_question(self) -> float:
        return sum(v["prompt"] + v["completion"] for v in self.tokens_per_instance.values())


class EvalReport(BaseModel):
    task: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    offline: bool
    maker: str
    user: str
    k: int
    seed: int
    data: str
    tool_id: str | None = None
    tool_made: bool = False
    making_tokens: int = 0  # spent on making in this run, whether or not a tool came out of it
    methods: list[MethodReport]
    break_even: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    note: str = ""


class EvalSuite(BaseModel):
    """Several tasks measured in one run (``latm eval`` without ``--task``)."""

    reports: list[EvalReport]

    @classmethod
    def load(cls, text: str) -> "EvalSuite":
        """A saved run: a suite, or a single task's report (as ``--task`` saves it)."""
        data = json.loads(text)
        if isinstance(data, dict) and "reports" in data:
            return cls.model_validate(data)
        return cls(reports=[EvalReport.model_validate(data)])


def _tokens(usage: Usage) -> dict[str, dict[str, int]]:
    return {role: {"prompt": t.prompt_tokens, "completion": t.completion_tokens} for role, t in usage.by_role().items()}


def _summarise(
    method: str,
    models: dict[str, str],
    records: list[InstanceRecord],
    wall_s: float,
    *,
    making: Usage | None = None,
    making_usd: float | None = None,
) -> MethodReport:
    n = max(len(records), 1)
    per_role: dict[str, dict[str, float]] = {}
    for r in records:
        for role, t in r.tokens.items():
            acc = per_role.setdefault(role, {"prompt": 0.0, "completion": 0.0})
            acc["prompt"] += t["prompt"] / n
            acc["completion"] += t["completion"] / n
    use_costs = [r.cost_usd for r in records]
    use_usd = None if any(c is None for c in use_costs) else sum(c for c in use_costs if c is not None)
    total = None if use_usd is None or (making is not None and making_usd is None) else use_usd + (making_usd or 0)
    return MethodReport(
        method=method,
        models=models,
        n=len(records),
        accuracy=sum(r.correct for r in records) / n,
        llm_calls=sum(r.calls for r in records),
        tokens_per_instance=per_role,
        usd_total=total,
        usd_per_instance=None if total is None else total / n,
        making_usd=making_usd,
        making_tokens=making.tokens if making else 0,
        direct_share=(sum(r.route == "direct" for r in records) / n) if making is not None else None,
        wall_s=wall_s,
        instances=records,
    )


async def _bounded(
    items: Sequence[Any], fn: Callable[[Any], Any], concurrency: int, tick: Callable[[], None] | None
) -> list[Any]:
    sem = asyncio.Semaphore(concurrency)

    async def one(item: Any) -> Any:
        async with sem:
            out = await fn(item)
        if tick:
            tick()
        return out

    return list(await asyncio.gather(*(one(i) for i in items)))


async def _latm_method(
    latm: LATM, task: str, test: list[Example], concurrency: int, tick: Callable[[], None] | None
) -> list[InstanceRecord]:
    tool = latm.cache.current(task)
    assert tool is not None
    user = ToolUser(latm.user_model, latm.sandbox, prices=latm.prices)
    check = get_task(task).check if task in _known() else None

    async def one(ex: Example) -> InstanceRecord:
        ans = await user.ause(tool, ex.question)
        correct = check(ans.value, ex.answer) if check else ans.value == ex.answer
        return InstanceRecord(
            question=ex.question,
            answer=ex.answer,
            prediction=ans.value,
            correct=correct,
            route=ans.mode,
            calls=ans.usage.calls,
            tokens=_tokens(ans.usage),
            cost_usd=ans.usage.cost_usd,
            error=ans.error,
        )

    return await _bounded(test, one, concurrency, tick)


async def _cot_method(
    model: ChatModel,
    role: str,
    task: str,
    train: list[Example],
    test: list[Example],
    concurrency: int,
    prices: Any,
    tick: Callable[[], None] | None,
) -> list[InstanceRecord]:
    check = get_task(task).check

    async def one(ex: Example) -> InstanceRecord:
        usage = Usage()
        prediction, error = None, None
        try:
            done = await model.acomplete(
                [{"role": "user", "content": cot_prompt(ex.question, train)}], temperature=0.0, max_tokens=1024
            )
            usage.record(role, done.model, done.usage, cached=done.cached, prices=prices)
            prediction = parse_final_answer(done.text)
        except ModelError as exc:
            error = str(exc)
        return InstanceRecord(
            question=ex.question,
            answer=ex.answer,
            prediction=prediction,
            correct=check(prediction, ex.answer),
            route="cot",
            calls=usage.calls,
            tokens=_tokens(usage),
            cost_usd=usage.cost_usd,
            error=error,
        )

    return await _bounded(test, one, concurrency, tick)


def _known() -> set[str]:
    from tasks import TASKS

    return set(TASKS)


def _break_even(latm_report: MethodReport, baseline: MethodReport) -> dict[str, float | None]:
    """Instances after which LATM (making included) is cheaper than the baseline, in USD and in tokens."""
    out: dict[str, float | None] = {}
    n = max(latm_report.n, 1)
    use_tokens = latm_report.tokens_per_question
    base_tokens = baseline.tokens_per_question
    margin = base_tokens - use_tokens
    out["tokens"] = (latm_report.making_tokens / margin) if margin > 0 else None
    if (
        latm_report.usd_total is not None
        and baseline.usd_per_instance is not None
        and latm_report.making_usd is not None
    ):
        use_usd = (latm_report.usd_total - latm_report.making_usd) / n
        m = baseline.usd_per_instance - use_usd
        out["usd"] = latm_report.making_usd / m if m > 0 else None
    else:
        out["usd"] = None
    return out


def run_eval(
    latm: LATM,
    task: str,
    examples: Sequence[Example],
    *,
    k: int = 3,
    seed: int = 0,
    baseline: Baseline = "cot",
    concurrency: int = 8,
    offline: bool = False,
    data: str = "generated",
    progress: Callable[[int], Callable[[], None]] | None = None,
    log: Callable[[str], None] | None = None,
    baseline_n: int | None = None,
) -> EvalReport:
    """Makes (or reuses) the task's tool from k+k examples and measures every method on the rest.

    ``baseline_n`` limits the chain-of-thought baselines to the first instances of the test
    set (they cost the most: a long reasoned answer per question); the report says so.
    """
    examples = list(examples)
    if len(examples) < 2 * k + 1:
        raise UserError(f"eval needs more than {2 * k} examples (k={k} train + k validation + test)")
    if latm.maker_model is None or latm.user_model is None:
        raise UserError("eval needs a maker and a user model (or none at all, for the offline demo models)")
    train, test = examples[: 2 * k], examples[2 * k :]
    if log:
        log(f"making the tool for {task} from {k}+{k} examples")
    made = latm.make_tool(task, train, k=k, reuse="same-maker")
    methods: list[MethodReport] = []
    base_test = test[:baseline_n] if baseline_n else test
    tick = progress(len(test) + (2 * len(base_test) if baseline == "cot" else 0)) if progress else None
    if made.tool is not None:
        fresh = bool(made.attempts)
        making = made.usage if fresh else Usage()
        making_usd = made.usage.cost_usd if fresh else made.tool.provenance.cost_usd
        if not fresh:  # reused: charge what it cost to make, as recorded
            from latm.models.usage import TokenCount

            making.record(
                "maker",
                made.tool.provenance.maker_model,
                TokenCount(
                    prompt_tokens=made.tool.provenance.tokens_in, completion_tokens=made.tool.provenance.tokens_out
                ),
                prices=latm.prices,
            )
        t0 = time.monotonic()
        records = run_sync(_latm_method(latm, task, test, concurrency, tick))
        methods.append(
            _summarise(
                "latm",
                {"maker": latm.maker_model.name, "user": latm.user_model.name},
                records,
                time.monotonic() - t0,
                making=making,
                making_usd=making_usd,
            )
        )
    elif log:
        log(f"no tool: {made.reason}")
    if baseline == "cot":
        for role, model in (("maker", latm.maker_model), ("user", latm.user_model)):
            t0 = time.monotonic()
            records = run_sync(
                _cot_method(model, "baseline", task, train[:k], base_test, concurrency, latm.prices, tick)
            )
            methods.append(_summarise(f"cot-{role}", {role: model.name}, records, time.monotonic() - t0))
    report = EvalReport(
        task=task,
        offline=offline,
        maker=latm.maker_model.name,
        user=latm.user_model.name,
        k=k,
        seed=seed,
        data=data,
        tool_id=made.tool.id if made.tool else None,
        tool_made=bool(made.attempts) and made.tool is not None,
        making_tokens=made.usage.tokens if made.attempts else 0,
        methods=methods,
        note="" if made.tool else f"no tool was made: {made.reason}",
    )
    if baseline == "cot" and len(base_test) < len(test):
        report.note = (report.note + " " if report.note else "") + (
            f"chain-of-thought baselines measured on the first {len(base_test)} of the {len(test)} test instances"
        )
    ours = next((m for m in methods if m.method == "latm"), None)
    if ours:
        report.break_even = {m.method: _break_even(ours, m) for m in methods if m.method != "latm"}
    return report
