"""The form of a tool function's arguments: what it was judged on, and whether a call keeps to it.

A function is judged on unseen questions with the arguments its direct solver's parser gave it. A
cheap model (or another agent over MCP) that calls the function by itself may pass another form of
the same data (the text where the solver passed its words as a list), which takes a path of the
function nothing unseen judged. So the shapes the judge saw are stored with the tool
(``Evidence.argument_shapes``), and a call whose arguments have another shape is refused with a
message that says which form the tool takes: function calls on the host (``off_form``), the cheap
model's call code inside the sandbox (the same source, in the harness).
"""

from collections.abc import Iterable, Mapping
from typing import Any

# One source, run here and inside the sandbox's harness (``latm.judge.cases``).
SHAPE_SOURCE = """
def _latm_shape(value):
    # A JSON value's shape: its type, and for an array the shape its items share.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        items = {_latm_shape(v) for v in value}
        return "array" if not items else "array<%s>" % (items.pop() if len(items) == 1 else "mixed")
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _latm_off_form(arguments, judged):
    # Why the arguments are not of the form the function was judged on (empty: they are).
    out = []
    for name, value in arguments.items():
        if judged and name not in judged:
            taken = ", ".join(sorted(judged))
            out.append("`%s` was never passed when the tool was judged: it takes %s" % (name, taken))
            continue
        forms = (judged or {}).get(name)
        got = _latm_shape(value)
        fits = not forms or got in forms or (got == "array" and any(f.startswith("array") for f in forms))
        fits = fits or (got == "integer" and "number" in forms)
        if not fits:
            out.append("`%s` must be %s (the form the tool was judged on), not %s" % (name, " or ".join(forms), got))
    return out
"""
_namespace: dict[str, Any] = {}
exec(SHAPE_SOURCE, _namespace)  # our own source, not a tool's
shape = _namespace["_latm_shape"]
_off_form = _namespace["_latm_off_form"]


def shapes_seen(calls: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Every parameter's shapes over the judged calls."""
    seen: dict[str, set[str]] = {}
    for args in calls:
        for name, value in args.items():
            seen.setdefault(name, set()).add(shape(value))
    return {name: sorted(shapes) for name, shapes in seen.items()}


def off_form(arguments: Mapping[str, Any], judged: Mapping[str, list[str]]) -> list[str]:
    """Why ``arguments`` are not of the form the function was judged on (empty: they are, or nothing
    was recorded)."""
    return list(_off_form(dict(arguments), dict(judged))) if judged else []
