"""JSON schemas of a tool's function: from its annotations, else from its use cases' arguments.

Shared by what other agents see of a tool (``latm.use.exposure``) and by the tool user when it calls
the tool by function calling (``ToolUser(calling="functions")``).
"""

import ast
import json
import re
from typing import Any, Literal

from toolcache import Tool

ParametersFrom = Literal["annotations", "judged arguments", "use cases", "unknown"]


def clean_name(text: str) -> str:
    """A name as function-calling protocols take it: letters, digits, ``_`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text).strip("_") or "tool"


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


def _schema_of_shape(shape: str) -> dict[str, Any]:
    """The JSON schema of an argument shape (``latm.judge.arguments``); {} for one it cannot say."""
    if shape.startswith("array<") and shape != "array<mixed>":
        items = _schema_of_shape(shape[len("array<") : -1])
        return {"type": "array", **({"items": items} if items else {})}
    plain = {"string", "integer", "number", "boolean", "object"}
    return {"type": shape} if shape in plain else {"type": "array"} if shape == "array" else {}


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


def use_case_arguments(tool: Tool, params: list[str]) -> dict[str, list[Any]]:
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
    judged = tool.verification.evidence.argument_shapes
    for name in names:  # the form the function was judged on, where its annotations say nothing
        if not props[name] and len(judged.get(name, [])) == 1:
            props[name] = _schema_of_shape(judged[name][0])
            source = "judged arguments" if props[name] else source
    if any(not schema for schema in props.values()):
        seen = use_case_arguments(tool, names)
        for name in names:
            if not props[name] and seen.get(name):
                props[name] = _schema_of_value(seen[name][0])
                source = "use cases"
        if any(not s for s in props.values()) and source == "annotations":
            source = "unknown"
    required = [n for n in names if n not in optional]
    return {"type": "object", "properties": props, "required": required}, source


def parameter_names(tool: Tool) -> list[str]:
    return list(parameters_of(tool)[0].get("properties", {}))


def function_spec(tool: Tool) -> dict[str, Any]:
    """The tool's function as one OpenAI function-calling spec (its own arguments only)."""
    parameters, _ = parameters_of(tool)
    return {
        "type": "function",
        "function": {"name": clean_name(tool.entry.name), "description": tool.description, "parameters": parameters},
    }


def example_call(tool: Tool) -> tuple[str, str] | None:
    """A use case's question and its call's arguments as JSON, where they are all literals."""
    names = parameter_names(tool)
    for use in tool.use_cases:
        seen = use_case_arguments(tool.model_copy(update={"use_cases": [use]}), names)
        args = {k: v[0] for k, v in seen.items() if v}
        if names and set(args) == set(names):
            return use.question, json.dumps(args)
    return None
