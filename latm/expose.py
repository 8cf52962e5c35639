"""What other agents see of the tool cache: one name, description and schema per routable tool.

The MCP server, the OpenAI function schemas and the Agent Skills export all build on this, so
a tool is exposed the same way everywhere (``../shared/DECISIONS.md`` 3 and 4):

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

import ast
import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel

from latm.answers import RenderingError, render
from latm.dispatcher import routable_tools
from latm.harness import CaseRun
from latm.user import ToolUser, answer_of
from sandbox import Sandbox
from toolcache import Tool, ToolCache

NAME_LIMIT = 64
QUESTION = "question"
ParametersFrom = Literal["annotations", "use cases", "unknown"]


class Exposed(BaseModel):
    name: str
    tool: Tool
    description: str
    parameters: dict[str, Any]  # JSON schema of the function's own arguments (an object)
    parameters_from: ParametersFrom

    @property
    def takes_question(self) -> bool:
        return self.tool.direct is not None

    def input_schema(self) -> dict[str, Any]:
        """The function's arguments, and ``question`` where the tool has a direct solver."""
        props = dict(self.parameters.get("properties", {}))
        if self.takes_question:
            props = {
                QUESTION: {
                    "type": "string",
                    "description": "A whole question of this task (the direct solver parses it).",
                },
                **{k: v for k, v in props.items() if k != QUESTION},
            }
            return {"type": "object", "properties": props}  # either the question, or the arguments
        return {"type": "object", "properties": props, "required": list(self.parameters.get("required", []))}


class CallResult(BaseModel):
    ok: bool
    answer: str | None = None
    error: str | None = None
    mode: Literal["direct", "function"] = "direct"
    raw: Any = None


# -- names -------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", text).strip("_") or "tool"


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
        counts[_clean(t.name)] = counts.get(_clean(t.name), 0) + 1
    names = {}
    for t in tools:
        base = _clean(t.name)
        wanted = base if counts[base] == 1 else f"{base}_{_clean(t.task)}"
        names[t.id] = _fit(wanted, f"{t.name}\0{t.task}")
    return names


# -- parameters --------------------------------------------------------------------------------

_ANNOTATIONS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object"}


def _schema_of_annotation(node: ast.expr | None) -> dict[str, Any]:
    if node is None:
        return {}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "list[str]" as a string
        try:
            return _schema_of_annotation(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return {}
    if isinstance(node, ast.Name):
        if node.id in _ANNOTATIONS:
            return {"type": _ANNOTATIONS[node.id]}
        if node.id in ("list", "tuple", "set", "List", "Tuple", "Sequence"):
            return {"type": "array"}
        return {}
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        outer = node.value.id
        inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer in ("list", "List", "Sequence", "set", "Set"):
            return {"type": "array", "items": _schema_of_annotation(inner[0])}
        if outer in ("tuple", "Tuple"):
            items = [_schema_of_annotation(e) for e in inner if not (isinstance(e, ast.Constant) and e.value is ...)]
            return {"type": "array", "items": items[0] if len(set(map(str, items))) == 1 else {}}
        if outer in ("dict", "Dict", "Mapping"):
            return {"type": "object", "additionalProperties": _schema_of_annotation(inner[-1])}
        if outer == "Optional":
            return _schema_of_annotation(inner[0])
    return {}


def _schema_of_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list | tuple | set):
        items = [_schema_of_value(v) for v in value]
        same = items and all(i == items[0] for i in items)
        return {"type": "array", "items": items[0] if same else {}}
    if isinstance(value, dict):
        values = [_schema_of_value(v) for v in value.values()]
        same = values and all(v == values[0] for v in values)
        return {"type": "object", "additionalProperties": values[0] if same else {}}
    return {}


def _literal(node: ast.expr, known: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name) and node.id in known:
        return known[node.id]
    return ast.literal_eval(node)


def _use_case_arguments(tool: Tool, params: list[str]) -> dict[str, list[Any]]:
    """The literal arguments the tool's use cases passed to its function, per parameter."""
    seen: dict[str, list[Any]] = {p: [] for p in params}
    for use in tool.use_cases:
        try:
            tree = ast.parse(use.call)
        except SyntaxError:
            continue
        known: dict[str, Any] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                try:
                    known[stmt.targets[0].id] = _literal(stmt.value, known)
                except (ValueError, SyntaxError, TypeError):
                    pass
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == tool.entry.name:
                pairs = list(zip(params, node.args, strict=False)) + [(k.arg, k.value) for k in node.keywords if k.arg]
                for name, arg in pairs:
                    try:
                        seen.setdefault(name, []).append(_literal(arg, known))
                    except (ValueError, SyntaxError, TypeError):
                        pass
    return seen


def parameters_of(tool: Tool) -> tuple[dict[str, Any], ParametersFrom]:
    """The JSON schema of the tool function's arguments, and where its types came from."""
    try:
        fn = next(n for n in ast.parse(tool.code).body if isinstance(n, ast.FunctionDef) and n.name == tool.entry.name)
    except (StopIteration, SyntaxError):
        return {"type": "object", "properties": {}}, "unknown"
    args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
    names = [a.arg for a in args]
    n_defaults = len(fn.args.defaults)
    positional = fn.args.posonlyargs + fn.args.args
    optional = {a.arg for a in positional[len(positional) - n_defaults :]} if n_defaults else set()
    optional |= {a.arg for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True) if d is not None}
    props = {a.arg: _schema_of_annotation(a.annotation) for a in args}
    source: ParametersFrom = "annotations"
    if any(not schema for schema in props.values()):
        seen = _use_case_arguments(tool, names)
        for name in names:
            if not props[name] and seen.get(name):
                props[name] = _schema_of_value(seen[name][0])
                source = "use cases"
        if any(not s for s in props.values()) and source == "annotations":
            source = "unknown"
    required = [n for n in names if n not in optional]
    return {"type": "object", "properties": props, "required": required}, source


# -- the exposed tools -------------------------------------------------------------------------


def describe(tool: Tool, parameters_from: ParametersFrom) -> str:
    example = tool.use_cases[0].question if tool.use_cases else ""
    how = {
        "annotations": "its arguments are typed from the function's annotations",
        "use cases": "its argument types are inferred from the arguments its verified use cases passed",
        "unknown": "its argument types are unknown",
    }[parameters_from]
    parts = [
        f"{tool.description.rstrip('.')} (LATM tool for the task {tool.task}, verified on questions its maker "
        "never saw).",
        f"Example question: {example[:400]}" if example else "",
        (
            "Call it with `question` (the whole question text; the answer comes back in the task's format), "
            f"or with the function's own arguments ({how})."
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


def call_exposed(sandbox: Sandbox, exposed: Exposed, arguments: dict[str, Any]) -> CallResult:
    """One call, in the sandbox: by question (the direct solver) or by the function's arguments."""
    tool = exposed.tool
    if not isinstance(arguments, dict):
        return CallResult(ok=False, error="the arguments must be a JSON object")
    if tool.direct and set(arguments) == {QUESTION}:  # the whole question: the direct solver answers
        question = arguments[QUESTION]
        if not isinstance(question, str) or not question.strip():
            return CallResult(ok=False, error="`question` must be non-empty text")
        run: CaseRun = ToolUser(None, sandbox).direct_many(tool, [question])[0]
        answer, why = answer_of(run, question, tool)
        return CallResult(ok=answer is not None, answer=answer, error=why, mode="direct", raw=run.value)
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
