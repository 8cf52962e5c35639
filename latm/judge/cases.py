"""The sandbox harness: how a tool's cases, mutants and direct solver are run.

Everything that executes a tool on questions goes through here: the maker's unit tests and
use cases, the mutation runs of the judge, the direct solver, the tool user's call code. The
harness source below is appended to the tool's code and runs *inside* the sandbox; the
functions of this module run on the host and return ``CaseRun`` records (the raw value the
code produced, or the error), leaving the judging to the rest of ``latm.judge``.

Values cross the sandbox boundary as JSON: tuples become lists, anything else that JSON does
not hold becomes its ``str``. How a value becomes an answer is the tool's rendering
(``latm.judge.rendering.render``), applied on the host.
"""

import ast
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel

from latm.judge.arguments import SHAPE_SOURCE
from latm.tracing import span
from sandbox import ExecutionResult, Sandbox
from sandbox.core import Call

Mutation = Literal["raise", "sentinel", "replay"]

HARNESS = (
    """

import ast as _latm_ast


def _latm_exec(_latm_src, _latm_question, _latm_overrides):
    _latm_ns = dict(globals())
    _latm_ns.update(_latm_overrides)
    if _latm_question is not None:
        _latm_ns["question"] = _latm_question
    exec(_latm_src, _latm_ns)
    if "ans" not in _latm_ns:
        raise NameError("the code did not set a variable named `ans`")
    return _latm_ns["ans"]


def _latm_case(_latm_src, _latm_question=None):
    return _latm_jsonable(_latm_exec(_latm_src, _latm_question, {}))


def _latm_traced_case(_latm_src, _latm_question, _latm_names, _latm_entry):
    # Like _latm_case; also reports the arguments of the first calls of the entry function
    # (for repair messages) and the repr of what each tool function returned to the case
    # (for the replay mutation).
    _latm_calls = []
    _latm_returns = {}
    _latm_depth = [0]

    def _latm_spy(_latm_name, _latm_fn):
        def _latm_spied(*args, **kwargs):
            outer = _latm_depth[0] == 0
            if outer and _latm_name == _latm_entry and len(_latm_calls) < 2:
                shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
                _latm_calls.append(shown[:300] + ("..." if len(shown) > 300 else ""))
            _latm_depth[0] += 1
            try:
                value = _latm_fn(*args, **kwargs)
            finally:
                _latm_depth[0] -= 1
            if outer:
                text = repr(value)
                _latm_returns.setdefault(_latm_name, []).append(text if len(text) <= 100000 else None)
            return value

        return _latm_spied

    _latm_spies = {n: _latm_spy(n, globals()[n]) for n in _latm_names if callable(globals().get(n))}
    _latm_ans = _latm_exec(_latm_src, _latm_question, _latm_spies)
    return {"ans": _latm_jsonable(_latm_ans), "calls": _latm_calls, "returns": _latm_returns}


def _latm_mutant_case(_latm_src, _latm_question, _latm_names, _latm_mode, _latm_token, _latm_replay):
    # The case run with every tool function replaced: one that raises, one that returns a
    # sentinel, or one that returns what the tool returned for another question.
    def _latm_raising(*args, **kwargs):
        raise RuntimeError("deliberately broken (mutation check)")

    def _latm_sentinel(*args, **kwargs):
        return _latm_token

    def _latm_replayer(values):
        queue = []
        for text in values:
            try:
                queue.append(_latm_ast.literal_eval(text))
            except Exception:
                queue.append(_latm_token)
        state = {"i": 0}

        def _latm_replayed(*args, **kwargs):
            if not queue:
                return _latm_token
            value = queue[min(state["i"], len(queue) - 1)]
            state["i"] += 1
            return value

        return _latm_replayed

    _latm_swapped = {}
    for name in _latm_names:
        if _latm_mode == "raise":
            _latm_swapped[name] = _latm_raising
        elif _latm_mode == "sentinel":
            _latm_swapped[name] = _latm_sentinel
        else:
            _latm_swapped[name] = _latm_replayer((_latm_replay or {}).get(name) or [])
    return _latm_jsonable(_latm_exec(_latm_src, _latm_question, _latm_swapped))


def _latm_direct(_latm_question):
    return _latm_jsonable(solve(_latm_question))


def _latm_spied_direct(_latm_question, _latm_entry):
    # solve(question), reporting the arguments of the entry function's one outer call (bound to
    # its parameter names; None when it was called other than once or they are not plain data).
    import inspect as _latm_inspect

    _latm_fn = globals()[_latm_entry]
    _latm_seen = []
    _latm_returned = []
    _latm_depth = [0]

    def _latm_spied(*args, **kwargs):
        outer = _latm_depth[0] == 0
        if outer:
            try:
                _latm_seen.append(dict(_latm_inspect.signature(_latm_fn).bind(*args, **kwargs).arguments))
            except TypeError:
                _latm_seen.append(None)
        _latm_depth[0] += 1
        try:
            value = _latm_fn(*args, **kwargs)
        finally:
            _latm_depth[0] -= 1
        if outer:
            _latm_returned.append(repr(value))
        return value

    globals()[_latm_entry] = _latm_spied
    try:
        _latm_ans = solve(_latm_question)
    finally:
        globals()[_latm_entry] = _latm_fn
    _latm_args = _latm_seen[0] if len(_latm_seen) == 1 else None
    if _latm_args is not None and _latm_plain(_latm_args) is None:
        _latm_args = None
    _latm_back = _latm_returned[0] if len(_latm_returned) == 1 and len(_latm_returned[0]) <= 100000 else None
    return {
        "ans": _latm_jsonable(_latm_ans),
        "args": _latm_plain(_latm_args) if _latm_args is not None else None,
        "returned": _latm_back,
    }


def _latm_replayed_direct(_latm_question, _latm_entry, _latm_value):
    # solve(question) with the entry function returning what it returned for another question.
    _latm_fn = globals()[_latm_entry]
    _latm_replay = _latm_ast.literal_eval(_latm_value)
    globals()[_latm_entry] = lambda *args, **kwargs: _latm_replay
    try:
        return _latm_jsonable(solve(_latm_question))
    finally:
        globals()[_latm_entry] = _latm_fn


def _latm_completed_case(_latm_src, _latm_question, _latm_entry, _latm_args, _latm_value=None):
    # A use case's call code, its call of the entry function answered by the entry called with
    # _latm_args instead (the arguments a direct solver gave it for _latm_question), or, with
    # _latm_value, by that value (a repr). Also reports the arguments the call code passed, bound
    # to the entry's parameters (None when they are not plain data).
    import inspect as _latm_inspect

    _latm_fn = globals()[_latm_entry]
    _latm_passed = []

    def _latm_given(*args, **kwargs):
        try:
            _latm_passed.append(_latm_plain(dict(_latm_inspect.signature(_latm_fn).bind(*args, **kwargs).arguments)))
        except TypeError:
            _latm_passed.append(None)
        if _latm_value is not None:
            return _latm_ast.literal_eval(_latm_value)
        return _latm_fn(**_latm_args)

    _latm_ans = _latm_exec(_latm_src, _latm_question, {_latm_entry: _latm_given})
    return {"ans": _latm_jsonable(_latm_ans), "passed": _latm_passed[0] if len(_latm_passed) == 1 else None}


def _latm_guarded_case(_latm_src, _latm_question, _latm_entry, _latm_judged, _latm_names=()):
    # The cheap model's call code, its calls of the entry function refused when their arguments are
    # not of the form the function was judged on, and its calls of the tool's other functions refused
    # (they were not judged on their own; the entry still calls them).
    import inspect as _latm_inspect

    def _latm_unjudged(_latm_name):
        def _latm_refused(*args, **kwargs):
            raise TypeError("call `%s`: `%s` was not judged on its own" % (_latm_entry, _latm_name))

        return _latm_refused

    _latm_fn = globals()[_latm_entry]

    def _latm_guarded(*args, **kwargs):
        try:
            bound = dict(_latm_inspect.signature(_latm_fn).bind(*args, **kwargs).arguments)
        except TypeError:
            bound = {}
        problems = _latm_off_form(bound, _latm_judged)
        if problems:
            raise TypeError("; ".join(problems))
        return _latm_fn(*args, **kwargs)

    _latm_given = {n: _latm_unjudged(n) for n in _latm_names if n != _latm_entry}
    _latm_given[_latm_entry] = _latm_guarded
    return _latm_jsonable(_latm_exec(_latm_src, _latm_question, _latm_given))


def _latm_plain(value):
    # value as JSON data when it is plain data (lists, dicts of str keys, numbers, text), else None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_latm_plain(v) for v in value]
        return None if any(i is None and v is not None for i, v in zip(items, value)) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _latm_plain(v) for k, v in value.items()}
        return None if any(items[k] is None and value[k] is not None for k in value) else items
    return None


def _latm_jsonable(value):
    if isinstance(value, (list, tuple)):
        return [_latm_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)"""
    + SHAPE_SOURCE
)


class CaseRun(BaseModel):
    """What one run produced: the raw value of ``ans`` (or of ``solve``), or the error."""

    ok: bool
    value: Any = None
    error: str | None = None
    timed_out: bool = False
    calls: list[str] | None = None  # traced runs: the entry function's first arguments
    arguments: dict[str, Any] | None = None  # spied direct runs: the entry's one call, as plain data
    returned: str | None = None  # spied direct runs: repr of what that call returned
    returns: dict[str, list[str | None]] | None = None  # traced runs: repr of each function's results


def _round(sb: Sandbox, code: str, function: str, calls: Sequence[Call]) -> list[ExecutionResult]:
    """One sandbox round (a traced span: what ran, how many calls)."""
    with span("sandbox_round", **{"latm.function": function, "latm.calls": len(calls)}):
        return sb.call_many(code, function, calls)


def _one(
    sb: Sandbox, code: str, function: str, args: list[Any], kwargs: dict[str, Any] | None = None
) -> ExecutionResult:
    return _round(sb, code, function, [(args, kwargs or {})])[0]


def tool_names(code: str) -> list[str]:
    """The top-level functions and classes of a tool: what the mutations replace."""
    nodes = ast.parse(code).body
    return [n.name for n in nodes if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]


def without_harness(traceback: str) -> str:
    """A traceback without the frames of our harness (``_latm_*``), which only confuse the model."""
    out, skip = [], False
    for line in traceback.splitlines():
        if line.startswith("  File "):
            skip = ", in _latm_" in line
        elif not line.startswith("    "):
            skip = False
        if not skip:
            out.append(line)
    return "\n".join(out)


def error_text(result: ExecutionResult) -> str:
    err = result.error
    if err is None:
        return "failed"
    text = err.traceback.strip().splitlines()[-1] if err.traceback else str(err)
    if err.lineno and err.traceback:
        text = without_harness(err.traceback).strip()[-600:]
    return text


def _runs(results: Sequence[ExecutionResult], traced: bool = False) -> list[CaseRun]:
    out = []
    for r in results:
        if not r.ok:
            out.append(CaseRun(ok=False, error=error_text(r), timed_out=r.timed_out))
        elif traced and isinstance(r.value, dict):
            out.append(CaseRun(ok=True, value=r.value.get("ans"), calls=r.value["calls"], returns=r.value["returns"]))
        else:
            out.append(CaseRun(ok=True, value=r.value))
    return out


def run_cases(
    sb: Sandbox,
    tool_code: str,
    cases: Sequence[str],
    questions: Sequence[str | None] | None = None,
    entry: str | None = None,
) -> list[CaseRun]:
    """Runs each case (code that sets ``ans``) after the tool code, in one sandbox round.

    Each case sees its question's text in the variable ``question``. With ``entry``, the runs
    are traced: the entry's arguments and every tool function's return values are reported.
    """
    qs = list(questions) if questions is not None else [None] * len(cases)
    if entry is None:
        plain: list[Call] = [([c, q], {}) for c, q in zip(cases, qs, strict=True)]
        return _runs(_round(sb, tool_code + HARNESS, "_latm_case", plain))
    names = tool_names(tool_code)
    traced: list[Call] = [([c, q, names, entry], {}) for c, q in zip(cases, qs, strict=True)]
    return _runs(_round(sb, tool_code + HARNESS, "_latm_traced_case", traced), traced=True)


def run_mutants(
    sb: Sandbox,
    tool_code: str,
    cases: Sequence[str],
    questions: Sequence[str | None],
    mode: Mutation,
    token: str,
    replays: Sequence[dict[str, list[str | None]] | None] | None = None,
) -> list[CaseRun]:
    """Runs each case with every tool function mutated (see ``_latm_mutant_case``)."""
    names = tool_names(tool_code)
    plays = list(replays) if replays is not None else [None] * len(cases)
    calls: list[Call] = [([c, q, names, mode, token, p], {}) for c, q, p in zip(cases, questions, plays, strict=True)]
    return _runs(_round(sb, tool_code + HARNESS, "_latm_mutant_case", calls))


def mutated(tool_code: str, mode: Literal["raise", "sentinel", "identity"], token: str) -> str:
    """The tool with every top-level function replaced by one that raises, returns ``token``, or
    returns its first argument unchanged (``identity``)."""
    body = {
        "raise": "raise RuntimeError('deliberately broken (mutation check)')",
        "sentinel": f"return {token!r}",
        "identity": f"return args[0] if args else next(iter(kwargs.values()), {token!r})",
    }[mode]
    stubs = "".join(f"\n\ndef {name}(*args, **kwargs):\n    {body}\n" for name in tool_names(tool_code))
    return tool_code + stubs


def run_direct(sb: Sandbox, tool_code: str, direct: str, questions: Sequence[str]) -> list[CaseRun]:
    """Runs the direct solver ``solve(question)`` on each question, in one sandbox round."""
    code = tool_code + "\n\n" + direct + HARNESS
    return _runs(_round(sb, code, "_latm_direct", [([q], {}) for q in questions]))


def run_direct_spied(sb: Sandbox, tool_code: str, direct: str, entry: str, questions: Sequence[str]) -> list[CaseRun]:
    """``run_direct``, each run also reporting the arguments the solver gave the entry function
    (when it called it once, with plain data): what judging the function on its own needs."""
    code = tool_code + "\n\n" + direct + HARNESS
    results = _round(sb, code, "_latm_spied_direct", [([q, entry], {}) for q in questions])
    out = []
    for run in _runs(results):
        if run.ok and isinstance(run.value, dict):
            run = CaseRun(
                ok=True, value=run.value.get("ans"), arguments=run.value.get("args"), returned=run.value.get("returned")
            )
        out.append(run)
    return out


def run_direct_replayed(
    sb: Sandbox, tool_code: str, direct: str, entry: str, calls: Sequence[tuple[str, str]]
) -> list[CaseRun]:
    """The direct solver on each (question, value): its entry function returning ``value`` (a repr)."""
    code = tool_code + "\n\n" + direct + HARNESS
    return _runs(_round(sb, code, "_latm_replayed_direct", [([q, entry, v], {}) for q, v in calls]))


def run_functions(sb: Sandbox, tool_code: str, entry: str, arguments: Sequence[dict[str, Any]]) -> list[CaseRun]:
    """The tool's function called with each set of keyword arguments, in one sandbox round."""
    results = _round(sb, tool_code, entry, [([], dict(a)) for a in arguments])
    return [
        CaseRun(ok=True, value=_jsonable(r.value))
        if r.ok
        else CaseRun(
            ok=False,
            error="timed out" if r.timed_out else (f"{r.error.type}: {r.error.message}" if r.error else "failed"),
            timed_out=r.timed_out,
        )
        for r in results
    ]


def run_completed(
    sb: Sandbox, tool_code: str, call: str, entry: str, runs: Sequence[tuple[str, dict[str, Any]]]
) -> list[CaseRun]:
    """A use case's call code once per (question, arguments): ``question`` set to the question, and the
    code's call of ``entry`` answered by ``entry(**arguments)``. This judges a function that returns a
    part of the answer (which the call code completes) on questions other than the use case's own."""
    calls: list[Call] = [([call, q, entry, dict(a)], {}) for q, a in runs]
    return _completed(_round(sb, tool_code + HARNESS, "_latm_completed_case", calls))


def run_completed_with(
    sb: Sandbox, tool_code: str, call: str, entry: str, runs: Sequence[tuple[str, str]]
) -> list[CaseRun]:
    """A use case's call code once per (question, value): its call of ``entry`` answered by ``value`` (a
    repr). An answer that follows the value, not the question, is completed from the value alone."""
    calls: list[Call] = [([call, q, entry, {}, v], {}) for q, v in runs]
    return _completed(_round(sb, tool_code + HARNESS, "_latm_completed_case", calls))


def _completed(results: Sequence[ExecutionResult]) -> list[CaseRun]:
    out = []
    for run in _runs(results):
        if run.ok and isinstance(run.value, dict):
            run = CaseRun(ok=True, value=run.value.get("ans"), arguments=run.value.get("passed"))
        out.append(run)
    return out


def run_call(
    sb: Sandbox,
    tool_code: str,
    call: str,
    question: str,
    entry: str | None = None,
    judged: dict[str, Any] | None = None,
) -> CaseRun:
    """Runs one piece of call code (the tool user's) after the tool code; with ``entry`` and the argument
    shapes it was ``judged`` on, a call of it with arguments of another form raises TypeError."""
    if entry and judged:
        names = tool_names(tool_code)
        return _runs([_one(sb, tool_code + HARNESS, "_latm_guarded_case", [call, question, entry, judged, names])])[0]
    return _runs([_one(sb, tool_code + HARNESS, "_latm_case", [call, question])])[0]


def run_function(sb: Sandbox, tool_code: str, entry: str, arguments: dict[str, Any]) -> CaseRun:
    """Calls the tool's function with keyword arguments (from a function call), in the sandbox."""
    result = _one(sb, tool_code, entry, [], arguments)
    if not result.ok:
        err = result.error
        text = "timed out" if result.timed_out else (f"{err.type}: {err.message}" if err else "failed")
        return CaseRun(ok=False, error=text, timed_out=result.timed_out)
    return CaseRun(ok=True, value=_jsonable(result.value))


def _jsonable(value: Any) -> Any:
    """What ``_latm_jsonable`` makes of a value inside the sandbox (for values that came out as JSON)."""
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
