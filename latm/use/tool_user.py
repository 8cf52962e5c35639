"""ToolUser: answers a question with a cached tool, by its direct solver or a cheap model.

Direct mode first: the tool's strict ``solve(question)`` runs in the sandbox and costs no
LLM call. When there is none, or it does not accept the question, the cheap model is asked,
in one of two ways (``calling``):

- ``functions``: the model is offered the tool's function (its JSON schema) and returns one
  ``tool_calls`` entry with the arguments; no generated code runs, only the tool, and it costs
  a fraction of the tokens;
- ``code``: the paper's protocol: the model sees the wrapped tool (function and use cases) and
  writes the call code that sets ``ans``, which runs in the sandbox;
- ``auto`` (default): functions where the model takes them, else code (on a 400, a model
  without function calling, or a reply without a call), remembered per model.

A failing call is retried once with the error shown to the model; then it is a clear failure.
The tool's one answer rendering applies the same way in both.
"""

import asyncio
import contextlib
import json
import time
import weakref
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from latm import replies
from latm._aio import run_sync
from latm.errors import ModelError, ModelHTTPError, UserError, public_errors
from latm.judge.arguments import off_form
from latm.judge.cases import CaseRun, run_call, run_direct, run_function
from latm.judge.rendering import RenderingError, normalize_value, render
from latm.models import ChatModel, Completion, FunctionCallingModel, Message
from latm.models.usage import PriceTable, Usage
from latm.text import clip
from latm.tracing import record_tokens, span
from latm.use.routing_index import missing_words, outside_frame, words
from sandbox import Sandbox
from toolcache import Tool

__all__ = ["Answer", "ToolUser", "answer_of", "direct_only", "function_answers", "normalize_value", "tool_prompt"]

Mode = Literal["direct", "llm", "failed"]
Calling = Literal["auto", "functions", "code"]
_TAKES_FUNCTIONS: "weakref.WeakKeyDictionary[Any, bool]" = weakref.WeakKeyDictionary()  # what auto mode learned


def _learned(model: Any) -> bool:
    try:
        return _TAKES_FUNCTIONS.get(model, True)
    except TypeError:  # not weakly referenceable: ask every time
        return True


def _learn(model: Any, takes: bool) -> None:
    with contextlib.suppress(TypeError):
        _TAKES_FUNCTIONS[model] = takes


class Answer(BaseModel):
    value: str | None
    mode: Mode
    usage: Usage = Field(default_factory=Usage)
    duration_s: float = 0.0
    error: str | None = None
    calling: Literal["functions", "code"] | None = None  # how the model was asked (LLM mode)

    @property
    def ok(self) -> bool:
        return self.value is not None


def function_prompt(tool: Tool, question: str, name: str) -> str:
    """The function-calling request: the question, and one verified example call where there is one."""
    from latm.use.schemas import example_call

    example = example_call(tool)
    shown = f"\nExample question: {example[0]}\nIts call: {name}({example[1]})\n" if example else ""
    return (
        f"Answer the question by calling `{name}`: copy its arguments out of the question exactly.{shown}\n"
        f"Question: {question}"
    )


def tool_prompt(tool: Tool, question: str) -> str:
    """The paper's tool-using prompt: the wrapped tool, its use cases, then the question."""
    cases = "\n\n".join(f"Question: {u.question}\nSolution:\n```python\n{u.call}\n```" for u in tool.use_cases)
    return (
        f"Here is a function to solve a class of problems:\n```python\n{tool.code.strip()}\n```\n\n"
        f"Use cases:\n{cases}\n\n"
        "Write the solution code for the new question in exactly the same format: parse the question "
        f"into arguments, call `{tool.entry.name}`, and set `ans`. The variable `question` holds the "
        "question's text. Reply with one ```python block.\n\n"
        f"Question: {question}\nSolution:"
    )


def answer_of(run: CaseRun, question: str, tool: Tool) -> tuple[str | None, str | None]:
    """(answer, None) or (None, why not): the run's value under the tool's one rendering."""
    if not run.ok:
        return None, (run.error or "failed").strip().splitlines()[-1]
    try:
        value = render(run.value, question, tool.rendering)
    except RenderingError as exc:
        return None, str(exc)
    return (value, None) if value is not None else (None, "the code set `ans` to None")


def direct_only(tool: Tool) -> bool:
    """A tool judged on unseen questions through its direct solver whose function was not judged there on
    its own (it returns a part that the solver completes, or a value the solver only gates on): the
    cheap model may not call that function, whose answers nothing unseen has checked."""
    e = tool.verification.evidence
    held = tool.verification.held_out
    return (
        bool(tool.direct)
        and e.held_out > 0
        and e.functions_checked == 0
        and (held is not None and held.judged_by == "direct solver")
    )


def function_answers(tool: Tool) -> bool:
    """Whether the function's own value, rendered, was judged as an answer: a tool without a direct
    solver (judged through the user model, or on its shown examples), or one whose function was judged
    alone with its solver's arguments. (A function whose value a use case's call code completes is
    called by call code only; one never judged alone is not called at all: ``direct_only``.)"""
    return not direct_only(tool) and not tool.verification.evidence.function_completed


@public_errors
class ToolUser:
    """Uses tools cheaply: the direct solver first, the cheap model (``model``) otherwise."""

    def __init__(
        self,
        model: ChatModel | None = None,
        sandbox: Sandbox | None = None,
        *,
        prices: PriceTable | None = None,
        max_tokens: int | None = 1024,
        calling: Calling = "auto",
    ) -> None:
        if calling not in ("auto", "functions", "code"):
            raise UserError(f"calling must be auto, functions or code, not {calling!r}")
        self.calling = calling
        self.model = model
        self._sandbox = sandbox
        self._own: Sandbox | None = None
        self.prices = prices
        self.max_tokens = max_tokens

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._own = self._sandbox = Sandbox.open()
        return self._sandbox

    def close(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = self._sandbox = None

    # -- direct mode ---------------------------------------------------------------------------

    def direct_many(self, tool: Tool, questions: Sequence[str], *, fitted: bool = False) -> list[CaseRun]:
        """Runs the tool's direct solver on many questions, in sandbox batches of at most as many
        calls as the judge ran in one (each batch a fresh child): no tool runs in a state the
        judge did not see (its 41st call in one process, when the judge never ran 41).

        A question that lacks a fixed word of the tool's task (``latm.use.routing_index``) is another
        task's, whatever the solver would make of it: it is refused without running (``fitted``: the
        caller already offered only questions that fit)."""
        if not tool.direct:
            raise UserError(f"tool {tool.name} has no direct solver")
        refused: dict[int, CaseRun] = {}
        if not fitted:
            for i, q in enumerate(questions):
                if lacking := missing_words(tool, words(q)):
                    shown = ", ".join(repr(w) for w in lacking[:5])
                    why = f"ValueError: not a question of the task {tool.task}: it lacks the word(s) {shown}"
                    refused[i] = CaseRun(ok=False, error=why)
                elif outside_frame(tool, q):
                    why = f"ValueError: not a question of the task {tool.task}: text before or after its form"
                    refused[i] = CaseRun(ok=False, error=why)
        asked = [q for i, q in enumerate(questions) if i not in refused]
        limit = tool.verification.evidence.batch_limit or len(asked) or 1
        runs: list[CaseRun] = []
        for start in range(0, len(asked), limit):
            runs.extend(run_direct(self.sandbox, tool.code, tool.direct, asked[start : start + limit]))
        if not refused:
            return runs
        ran = iter(runs)
        return [refused[i] if i in refused else next(ran) for i in range(len(questions))]

    # -- one question ----------------------------------------------------------------------------

    def use(self, tool: Tool, question: str) -> Answer:
        return run_sync(self.ause(tool, question))

    async def ause(
        self, tool: Tool, question: str, *, skip_direct: bool = False, direct_error: str | None = None
    ) -> Answer:
        started = time.monotonic()
        if tool.direct and not skip_direct:
            run = (await asyncio.to_thread(self.direct_many, tool, [question]))[0]
            value, direct_error = answer_of(run, question, tool)
            if value is not None:
                return Answer(value=value, mode="direct", duration_s=time.monotonic() - started)
            if direct_only(tool):
                why = (
                    "its direct solver did not accept the question, and its function was never judged on unseen "
                    f"questions alone (only through the solver), so it answers nothing else ({direct_error})"
                )
                return Answer(value=None, mode="failed", error=why, duration_s=time.monotonic() - started)
        answer = await self._llm(tool, question)
        if answer.value is None and direct_error:
            answer.error = f"{answer.error} (direct solver: {direct_error})"
        answer.duration_s = time.monotonic() - started
        return answer

    # -- LLM mode --------------------------------------------------------------------------------

    async def _llm(self, tool: Tool, question: str) -> Answer:
        usage = Usage()
        if self.model is None:
            return Answer(
                value=None,
                mode="failed",
                usage=usage,
                error="the tool's direct solver did not accept the question and no user model is set",
            )
        if self._offers_functions() and function_answers(tool):
            answer = await self._by_function(tool, question, usage)
            if answer is not None:
                return answer
        return await self._by_code(tool, question, usage)

    def _offers_functions(self) -> bool:
        if self.calling == "code" or self.model is None:
            return False
        if self.calling == "functions":
            return True
        return isinstance(self.model, FunctionCallingModel) and _learned(self.model)

    def _no_functions(self, why: str, usage: Usage) -> Answer | None:
        """In auto mode: remember that this model does not call functions, and fall back to code."""
        assert self.model is not None
        if self.calling == "auto":
            _learn(self.model, False)
            return None
        return Answer(value=None, mode="failed", usage=usage, error=why, calling="functions")

    async def _by_function(self, tool: Tool, question: str, usage: Usage) -> Answer | None:
        """One ``tool_calls`` entry with JSON arguments; the tool runs with them in the sandbox."""
        from latm.use.schemas import clean_name, function_spec

        assert self.model is not None
        spec = function_spec(tool)
        name = clean_name(tool.entry.name)
        messages: list[Message] = [{"role": "user", "content": function_prompt(tool, question, name)}]
        error = "no attempt"
        for attempt in range(2):
            try:
                with span("model_call", **{"latm.role": "user", "latm.calling": "functions"}) as current:
                    done: Completion = await self.model.acomplete_tools(  # type: ignore[attr-defined]
                        messages,
                        [spec],
                        tool_choice={"type": "function", "function": {"name": name}},
                        temperature=0.0,
                        max_tokens=self.max_tokens,
                    )
                    record_tokens(current, done.model, done.usage.prompt_tokens, done.usage.completion_tokens)
            except ModelHTTPError as exc:
                if exc.status == 400:
                    return self._no_functions(f"the endpoint does not take functions: {exc}", usage)
                return Answer(value=None, mode="failed", usage=usage, error=f"user model failed: {exc}")
            except (TypeError, AttributeError) as exc:
                return self._no_functions(f"{self.model.name} does not take functions ({exc})", usage)
            except ModelError as exc:
                return Answer(value=None, mode="failed", usage=usage, error=f"user model failed: {exc}")
            usage.record("user", done.model, done.usage, cached=done.cached, prices=self.prices)
            if not done.tool_calls and attempt == 0:
                return self._no_functions(f"{self.model.name} replied without a function call", usage)
            call = next((c for c in done.tool_calls if c.name == name), None)
            try:
                if call is None:
                    called = ", ".join(c.name for c in done.tool_calls) or "nothing"
                    raise ValueError(f"it called {called}; the only function is {name}")
                arguments = json.loads(call.arguments or "{}")
                if not isinstance(arguments, dict):
                    raise ValueError("the arguments are not a JSON object")
            except (ValueError, json.JSONDecodeError) as exc:
                error = f"unusable call: {exc}"
            else:
                if problems := off_form(arguments, tool.verification.evidence.argument_shapes):
                    error = f"calling {name}({clip(call.arguments, 200)}) refused: {'; '.join(problems)}"
                    messages.append(
                        {"role": "user", "content": f"{error}\nCall `{name}` again with corrected arguments."}
                    )
                    continue
                run = await asyncio.to_thread(run_function, self.sandbox, tool.code, tool.entry.name, arguments)
                value, why = answer_of(run, question, tool)
                if value is not None:
                    return Answer(value=value, mode="llm", usage=usage, calling="functions")
                error = f"calling {name}({clip(call.arguments, 200)}) failed: {why}"
            messages.append({"role": "user", "content": f"{error}\nCall `{name}` again with corrected arguments."})
        return Answer(value=None, mode="failed", usage=usage, error=error, calling="functions")

    async def _by_code(self, tool: Tool, question: str, usage: Usage) -> Answer:
        """The paper's protocol: the model writes call code in the use cases' format."""
        assert self.model is not None
        messages: list[Message] = [{"role": "user", "content": tool_prompt(tool, question)}]
        error = "no attempt"
        for attempt in range(2):  # the first try, and one retry with the error shown
            try:
                with span("model_call", **{"latm.role": "user", "latm.calling": "code"}) as current:
                    done = await self.model.acomplete(messages, temperature=0.0, max_tokens=self.max_tokens)
                    record_tokens(current, done.model, done.usage.prompt_tokens, done.usage.completion_tokens)
            except ModelError as exc:
                return Answer(value=None, mode="failed", usage=usage, error=f"user model failed: {exc}")
            usage.record("user", done.model, done.usage, cached=done.cached, prices=self.prices)
            messages.append({"role": "assistant", "content": done.text})
            try:
                call = "\n".join(replies.require_code(done.text))
                problem = replies.syntax_problem(call)
                if problem:
                    raise problem
            except replies.ReplyProblem as problem:
                error = f"{problem.kind}: {problem}"
                messages.append({"role": "user", "content": str(problem)})
                continue
            shapes = tool.verification.evidence.argument_shapes
            code = replies.answer_code(call)
            run = await asyncio.to_thread(run_call, self.sandbox, tool.code, code, question, tool.entry.name, shapes)
            value, why = answer_of(run, question, tool)
            if value is not None:
                return Answer(value=value, mode="llm", usage=usage, calling="code")
            error = why or "no answer"
            if attempt == 0:
                messages.append(
                    {
                        "role": "user",
                        "content": (
                            f"Running your code failed: {run.error or error}\n"
                            "Fix it and reply with the corrected solution code (it must set `ans`)."
                        ),
                    }
                )
        return Answer(value=None, mode="failed", usage=usage, error=error, calling="code")
