"""Plans of several tool calls, for a question no one tool answers (the LLMCompiler idea, on LATM's tools).

The cheap model writes the whole plan in one reply: numbered calls of cached tools, by their exposed
names, with JSON arguments that may refer to an earlier call's answer as ``$N``, and the final answer,
which may refer to them too. Either as JSON::

    {"calls": [{"tool": "sort_words", "arguments": {"question": "..."}}, ...], "answer": "$1 and $2"}

or in the LLMCompiler text form, one call a line and the answer last::

    1. sort_words({"question": "..."})
    2. track_swaps({"question": "..."})
    answer: $1; $2

LATM checks the plan before anything runs (known tools, arguments by each tool's schema, references to
earlier calls only, so no cycles), then runs every call whose inputs are ready at once in the sandbox
pool (def-use order, at most as many in flight as the pool has workers), hands each answer to the
calls that name it, and puts the final answer together. A plan that fails a check or a call is asked
for once more, with the error (at most one re-plan).
"""

import contextvars
import json
import re
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from pydantic import BaseModel, Field

from latm.errors import RetrySignal
from latm.models.usage import Usage
from latm.use.exposure import QUESTION, CallResult, Exposed

REFERENCE = re.compile(r"\$(\d+)")
TEXT_CALL = re.compile(r"^\s*(\d+)[.)]\s*([\w-]+)\s*\((.*)\)\s*$")
TEXT_ANSWER = re.compile(r"^\s*(?:answer|join|final answer)\s*[:=]\s*(.*)$", re.I)


class PlanError(RetrySignal, ValueError):
    """A plan that cannot run: unreadable, or failing a check (the message is for the re-plan)."""


class PlannedCall(BaseModel):
    number: int  # 1-based: what ``$N`` names
    tool: str  # an exposed name
    arguments: dict[str, Any] = Field(default_factory=dict)

    def needs(self, literal: frozenset[str] = frozenset()) -> set[int]:
        """The earlier calls whose answers its arguments name (``literal``: ``$N`` texts that are text)."""
        found = REFERENCE.findall(json.dumps(self.arguments, ensure_ascii=False))
        return {int(n) for n in found if f"${n}" not in literal}


class Plan(BaseModel):
    calls: list[PlannedCall]
    answer: str  # the final answer, with ``$N`` standing for the N-th call's answer
    literal: frozenset[str] = frozenset()  # ``$N`` texts the question itself holds (a price): not references


class CallOutcome(BaseModel):
    number: int
    tool: str
    arguments: dict[str, Any]
    answer: str | None = None
    error: str | None = None
    mode: str = "direct"


def plan_prompt(question: str, exposed: Sequence[Exposed], error: str | None = None) -> str:
    """The one request for a plan: the tools, the two forms, and (for the re-plan) what went wrong."""
    listing = "\n".join(
        f"- {e.name}: {e.description.splitlines()[0][:300]}\n  arguments: {json.dumps(e.input_schema())}"
        for e in exposed
    )
    again = f"\n\nYour last plan could not be used: {error}\nWrite a corrected plan." if error else ""
    return (
        "Answer the question below by calling the tools listed here, in one plan. Write every call at once, "
        "numbered from 1, then the final answer. An argument or the answer may use `$N` for the answer of "
        "call N (only of an earlier call). A tool that takes `question` is given a whole question of its "
        "task, worded like its example. Reply with JSON only:\n"
        '{"calls": [{"tool": "NAME", "arguments": {...}}, ...], "answer": "... $1 ... $2 ..."}\n\n'
        f"Tools:\n{listing}\n\nQuestion: {question}{again}"
    )


def parse_plan(text: str) -> Plan:
    """A plan from a reply: JSON (alone or in a code block) or the numbered text form."""
    blob = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", blob, re.S)
    if fenced:
        blob = fenced.group(1).strip()
    if blob.startswith("{"):
        try:
            data = json.loads(blob)
        except json.JSONDecodeError as exc:
            raise PlanError(f"the plan is not valid JSON ({exc.msg})") from None
        calls = data.get("calls") if isinstance(data, dict) else None
        if not isinstance(calls, list) or not calls:
            raise PlanError('the plan has no "calls" list')
        planned = []
        for i, c in enumerate(calls, 1):
            if not isinstance(c, dict) or not isinstance(c.get("tool"), str):
                raise PlanError(f'call {i} has no "tool" name')
            arguments = c.get("arguments", {})
            if not isinstance(arguments, dict):
                raise PlanError(f"the arguments of call {i} are not a JSON object")
            planned.append(PlannedCall(number=i, tool=c["tool"], arguments=arguments))
        return Plan(calls=planned, answer=str(data.get("answer", " ".join(f"${c.number}" for c in planned))))
    calls, answer = [], None
    for line in blob.splitlines():
        if m := TEXT_CALL.match(line):
            try:
                arguments = json.loads(m.group(3) or "{}")
            except json.JSONDecodeError:
                raise PlanError(f"the arguments of call {m.group(1)} are not a JSON object") from None
            if not isinstance(arguments, dict):
                raise PlanError(f"the arguments of call {m.group(1)} are not a JSON object")
            calls.append(PlannedCall(number=int(m.group(1)), tool=m.group(2), arguments=arguments))
        elif m := TEXT_ANSWER.match(line):
            answer = m.group(1).strip()
    if not calls:
        raise PlanError("no calls found: reply with the JSON plan")
    return Plan(calls=calls, answer=answer if answer is not None else " ".join(f"${c.number}" for c in calls))


def check_plan(plan: Plan, exposed: Sequence[Exposed]) -> None:
    """Raises PlanError on a plan that cannot run: calls numbered 1..n, known tools, arguments the tool's
    schema takes (required ones present), references to earlier calls only (so no cycles)."""
    by_name = {e.name: e for e in exposed}
    problems = []
    if [c.number for c in plan.calls] != list(range(1, len(plan.calls) + 1)):
        problems.append("the calls must be numbered 1, 2, 3, ... in order")
    for c in plan.calls:
        e = by_name.get(c.tool)
        if e is None:
            problems.append(f"call {c.number}: no tool named {c.tool!r} (the tools: {', '.join(sorted(by_name))})")
            continue
        schema = e.input_schema()
        known = set(schema.get("properties", {}))
        unknown = sorted(set(c.arguments) - known)
        missing = [p for p in schema.get("required", []) if p not in c.arguments]
        if e.takes_question and QUESTION in c.arguments and not isinstance(c.arguments[QUESTION], str):
            problems.append(f"call {c.number}: `question` must be text")
        if unknown:
            problems.append(f"call {c.number}: {c.tool} takes no argument(s) {', '.join(unknown)}")
        if missing:
            problems.append(f"call {c.number}: {c.tool} needs {', '.join(missing)}")
        later = sorted(n for n in c.needs(plan.literal) if n >= c.number or n < 1)
        if later:
            problems.append(f"call {c.number} refers to ${later[0]}: only an earlier call's answer can be used")
    bad = sorted(
        int(n)
        for n in REFERENCE.findall(plan.answer)
        if f"${n}" not in plan.literal and not 1 <= int(n) <= len(plan.calls)
    )
    if bad:
        problems.append(f"the answer refers to ${bad[0]}, which is no call")
    if problems:
        raise PlanError("; ".join(problems))


def _filled(value: Any, answers: dict[int, str], literal: frozenset[str] = frozenset()) -> Any:
    """``value`` with each ``$N`` replaced by call N's answer (a string that is just ``$N`` becomes it);
    a ``$N`` the question itself holds stays as it is (text copied from the question is not a reference)."""
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value.strip())
        if whole and whole.group(0) not in literal:
            return answers[int(whole.group(1))]
        return REFERENCE.sub(lambda m: m.group(0) if m.group(0) in literal else answers[int(m.group(1))], value)
    if isinstance(value, list):
        return [_filled(v, answers, literal) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, answers, literal) for k, v in value.items()}
    return value


def literals_of(question: str) -> frozenset[str]:
    """The ``$N`` texts a question holds itself (a price, an amount): in a plan they stay text."""
    return frozenset(m.group(0) for m in REFERENCE.finditer(question))


def with_literals(plan: Plan, question: str) -> Plan:
    """The plan with the question's own ``$N`` texts marked as text, not references."""
    return plan.model_copy(update={"literal": literals_of(question)})


def run_plan(
    plan: Plan,
    exposed: Sequence[Exposed],
    call: Callable[[Exposed, dict[str, Any]], CallResult],
    workers: int,
) -> tuple[list[CallOutcome], str | None]:
    """Runs every call whose inputs are ready, at most ``workers`` at once; returns each call's outcome
    and the final answer (None when a call failed: the outcomes say which and why)."""
    by_name = {e.name: e for e in exposed}
    pending = {c.number: c for c in plan.calls}
    answers: dict[int, str] = {}
    outcomes: dict[int, CallOutcome] = {}
    running: dict[Future[CallResult], PlannedCall] = {}
    failed = False
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while (pending or running) and not failed:
            ready = [c for c in pending.values() if c.needs(plan.literal) <= set(answers)]
            for c in ready[: max(0, workers - len(running))]:
                del pending[c.number]
                arguments = _filled(c.arguments, answers, plan.literal)
                outcomes[c.number] = CallOutcome(number=c.number, tool=c.tool, arguments=arguments)
                running[pool.submit(contextvars.copy_context().run, call, by_name[c.tool], arguments)] = c
            if not running:
                break  # nothing ready and nothing in flight: cannot happen for a checked plan
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                c = running.pop(future)
                result = future.result()
                outcome = outcomes[c.number]
                outcome.mode = "direct" if result.mode == "direct" else "llm"
                if result.ok and result.answer is not None:
                    outcome.answer = answers[c.number] = result.answer
                else:
                    outcome.error = result.error or "no answer"
                    failed = True
    ordered = [outcomes[n] for n in sorted(outcomes)]
    if failed or len(answers) < len(plan.calls):
        return ordered, None
    return ordered, _filled(plan.answer, answers, plan.literal)


class PlanSolution(BaseModel):
    """A question answered by several calls: split into parts direct solvers took, or by a plan."""

    question: str
    answer: str | None
    mode: str  # "split" (no model call), "plan", or "failed"
    calls: list[CallOutcome] = Field(default_factory=list)
    plans: int = 0  # plans the model wrote (at most 2: one re-plan)
    usage: Usage = Field(default_factory=Usage)
    error: str | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.answer is not None


def parts_of(question: str) -> list[str]:
    """The independent parts of a compound question: its paragraphs (blank-line separated)."""
    return [p.strip() for p in re.split(r"\n\s*\n", question) if p.strip()]
