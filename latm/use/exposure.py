"""What other agents see of the tool cache: one name, description and schema per routable tool.

The MCP server, the OpenAI function schemas and the Agent Skills export all build on this, so
a tool is exposed the same way everywhere:

- only routable tools (current, verified here on held-out questions);
- the exposed name is the tool's function name, with its task added where two current tools
  share one (``track_swaps_tracking_shuffled_objects_five_objects``), within the protocols'
  limits (letters, digits, ``_`` and ``-``, at most 64 characters);
- the input schema takes ``question`` (the whole question text) when the tool has a direct
  solver, and the function's own arguments: typed from its annotations, else inferred from
  the arguments its verified use cases passed (the description says which).

``call_exposed`` runs one call in the sandbox (never in the caller's process) and renders the
answer with the tool's rendering.
"""

import hashlib
from typing import Any, Literal

from pydantic import BaseModel

from latm.errors import raises_ours
from latm.judge.arguments import off_form
from latm.judge.canaries import Canaries
from latm.judge.cases import CaseRun
from latm.judge.rendering import RenderingError, render
from latm.use.dispatcher import routable_tools
from latm.use.schemas import ParametersFrom, clean_name, parameters_of
from latm.use.tool_user import ToolUser, answer_of, function_answers
from sandbox import Sandbox
from toolcache import Tool, ToolCache
from toolcache.bound import percent

NAME_LIMIT = 64
QUESTION = "question"


class Exposed(BaseModel):
    name: str
    tool: Tool
    description: str
    parameters: dict[str, Any]  # JSON schema of the function's own arguments (an object)
    parameters_from: ParametersFrom

    @property
    def takes_question(self) -> bool:
        return self.tool.direct is not None

    @property
    def takes_arguments(self) -> bool:
        """Whether the function's own value was judged as an answer (else it is called by question only)."""
        return function_answers(self.tool)

    def input_schema(self) -> dict[str, Any]:
        """The function's arguments (where its value is an answer), and ``question`` where the tool has a
        direct solver."""
        props = dict(self.parameters.get("properties", {})) if self.takes_arguments else {}
        if self.takes_question and not self.takes_arguments:
            return {"type": "object", "properties": {QUESTION: self._question_schema()}, "required": [QUESTION]}
        if self.takes_question:
            props = {QUESTION: self._question_schema(), **{k: v for k, v in props.items() if k != QUESTION}}
            return {"type": "object", "properties": props}  # either the question, or the arguments
        return {"type": "object", "properties": props, "required": list(self.parameters.get("required", []))}

    @staticmethod
    def _question_schema() -> dict[str, str]:
        return {"type": "string", "description": "A whole question of this task (the direct solver parses it)."}


class CallResult(BaseModel):
    ok: bool
    answer: str | None = None
    error: str | None = None
    mode: Literal["direct", "function"] = "direct"
    raw: Any = None


# -- names -------------------------------------------------------------------------------------


def _fit(text: str, key: str) -> str:
    """``text`` within the length limit; a cut name gets a short digest of ``key`` to stay unique."""
    if len(text) <= NAME_LIMIT:
        return text
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return text[: NAME_LIMIT - 9].rstrip("_-") + "_" + digest


def exposed_names(tools: list[Tool]) -> dict[str, str]:
    """Tool id -> its exposed name: unique among ``tools`` and stable (it depends on names and tasks only)."""
    counts: dict[str, int] = {}
    for t in tools:
        counts[clean_name(t.name)] = counts.get(clean_name(t.name), 0) + 1
    names = {}
    for t in tools:
        base = clean_name(t.name)
        wanted = base if counts[base] == 1 else f"{base}_{clean_name(t.task)}"
        names[t.id] = _fit(wanted, f"{t.name}\0{t.task}")
    return names


# -- the exposed tools -------------------------------------------------------------------------


def describe(tool: Tool, parameters_from: ParametersFrom) -> str:
    example = tool.use_cases[0].question if tool.use_cases else ""
    how = {
        "annotations": "its arguments are typed from the function's annotations",
        "judged arguments": "its argument types are those of the arguments it was judged on (unseen questions)",
        "use cases": "its argument types are inferred from the arguments its verified use cases passed",
        "unknown": "its argument types are unknown",
    }[parameters_from]
    parts = [
        f"{tool.description.rstrip('.')} (LATM tool for the task {tool.task}, verified on questions its maker "
        f"never saw; error rate {percent(tool.error_bound)} at 95% confidence).",
        f"Example question: {example[:400]}" if example else "",
        (
            "Call it with `question` (the whole question text; the answer comes back in the task's format)"
            + (f", or with the function's own arguments ({how})." if function_answers(tool) else ".")
            if tool.direct
            else f"Call it with the function's own arguments ({how})."
        ),
    ]
    return "\n".join(p for p in parts if p)


def expose(cache: ToolCache, allow_shown_only: bool = False) -> list[Exposed]:
    tools = routable_tools(cache, allow_shown_only)
    names = exposed_names(tools)
    out = []
    for tool in tools:
        parameters, source = parameters_of(tool)
        out.append(
            Exposed(
                name=names[tool.id],
                tool=tool,
                description=describe(tool, source),
                parameters=parameters,
                parameters_from=source,
            )
        )
    return out


def call_exposed(
    sandbox: Sandbox, exposed: Exposed, arguments: dict[str, Any], canaries: Canaries | None = None
) -> CallResult:
    """One call, in the sandbox: by question (the direct solver, with ``canaries`` mixed in: a failed
    one quarantines the tool and the call answers nothing) or by the function's arguments."""
    tool = exposed.tool
    if not isinstance(arguments, dict):
        return CallResult(ok=False, error="the arguments must be a JSON object")
    if tool.direct and set(arguments) == {QUESTION}:  # the whole question: the direct solver answers
        question = arguments[QUESTION]
        if not isinstance(question, str) or not question.strip():
            return CallResult(ok=False, error="`question` must be non-empty text")
        user = ToolUser(None, sandbox)
        if canaries is None:
            run: CaseRun = user.direct_many(tool, [question])[0]
        else:
            mixed = canaries.mix(tool, [question])
            runs, ok = canaries.judge(tool, mixed, user.direct_many(tool, mixed.questions))
            if not ok:
                reason = canaries.quarantined.get(tool.id, "a canary failed")
                return CallResult(ok=False, error=f"the tool {exposed.name} was quarantined: {reason}", mode="direct")
            run = runs[0]
        answer, why = answer_of(run, question, tool)
        return CallResult(ok=answer is not None, answer=answer, error=why, mode="direct", raw=run.value)
    if not exposed.takes_arguments:
        return CallResult(
            ok=False,
            error=(
                f"{exposed.name} takes `question` only: its function's own value was judged only as part of an "
                "answer its solver completes"
            ),
            mode="function",
        )
    expected = set(exposed.parameters.get("properties", {}))
    unknown = sorted(set(arguments) - expected)
    missing = [p for p in exposed.parameters.get("required", []) if p not in arguments]
    if unknown or missing:
        parts = [
            f"unknown argument(s) {', '.join(unknown)}" if unknown else "",
            f"missing {', '.join(missing)}" if missing else "",
        ]
        hint = f"; it takes {', '.join(sorted(expected)) or 'no arguments'}" + (" or `question`" if tool.direct else "")
        return CallResult(ok=False, error="; ".join(p for p in parts if p) + hint, mode="function")
    if problems := off_form(arguments, tool.verification.evidence.argument_shapes):
        return CallResult(ok=False, error="; ".join(problems), mode="function")
    result = sandbox.call(tool.code, tool.entry.name, [], arguments)
    if not result.ok:
        err = result.error
        text = "timed out" if result.timed_out else (f"{err.type}: {err.message}" if err else "failed")
        return CallResult(
            ok=False, error=f"the tool raised {text}" if not result.timed_out else f"the tool {text}", mode="function"
        )
    try:
        answer = render(result.value, None, tool.rendering)
    except RenderingError as exc:
        return CallResult(ok=False, error=str(exc), mode="function", raw=result.value)
    return CallResult(ok=answer is not None, answer=answer, mode="function", raw=result.value)


@raises_ours
def run_tool_call(
    tool_call: Any,
    cache: ToolCache,
    sandbox: Sandbox | None = None,
    *,
    allow_shown_only: bool = False,
    source: str = "openai",
) -> dict[str, str]:
    """Runs one ``tool_calls`` entry of a chat completion in the sandbox and returns the
    ``{"role": "tool", ...}`` message to append to the conversation.

    ``tool_call`` is the openai SDK's object or its dict form (``{"id", "function": {"name",
    "arguments"}}``) for a function of ``openai_tools(cache)``. Errors (an unknown function,
    arguments that are not JSON, a tool that raises or times out) come back as the message's
    content, starting with ``error:``, for the model to read; every use is counted in the cache.
    """
    import contextlib
    import json

    def field(obj: Any, name: str) -> Any:
        return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)

    call_id = str(field(tool_call, "id") or "")
    function = field(tool_call, "function") or {}
    name, raw = str(field(function, "name") or ""), field(function, "arguments") or "{}"
    exposed = {e.name: e for e in expose(cache, allow_shown_only)}

    def reply(content: str) -> dict[str, str]:
        return {"role": "tool", "tool_call_id": call_id, "content": content}

    if name not in exposed:
        return reply(f"error: no LATM tool is named {name!r}; the tools are: {', '.join(sorted(exposed)) or 'none'}")
    try:
        arguments = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        return reply(f"error: the arguments are not valid JSON ({exc.msg})")
    with contextlib.ExitStack() as stack:
        sb = sandbox or stack.enter_context(Sandbox.open())
        result = call_exposed(sb, exposed[name], arguments, Canaries(cache))
    cache.record_use(exposed[name].tool.id, ok=result.ok, mode="direct", source=source)
    return reply(result.answer if result.ok and result.answer is not None else f"error: {result.error}")
