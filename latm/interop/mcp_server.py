"""``latm serve mcp``: the tool cache as an MCP server (on the official ``mcp`` SDK, 2.x).

Every routable tool (``latm.use.exposure``: one name, description and input schema per tool) is one
MCP tool, plus ``latm_solve`` (any question, routed like ``latm solve``) and, with a maker
model, ``latm_make_tool``. ``expose="router"`` lists only ``latm_solve`` and
``latm_find_tools`` (a few matching tools with their schemas); the tools themselves stay
callable by name.

Every call runs in one ``Sandbox`` opened for the server's life (``call_exposed``), in a worker
thread so that the event loop keeps serving; a failing or timed-out tool is an ``isError``
result, never a dead server. Each use is recorded in the cache with source ``mcp``.

The tool list follows the cache: a poller compares the exposed names and ids every
``poll_s`` seconds and announces a change with ``notifications/tools/list_changed`` on every
handshake-era connection (through the connection's session) and on every 2026-era
``subscriptions/listen`` stream (through the SDK's subscription bus).
"""

import collections
import ipaddress
import json
import sys
import threading
from collections.abc import Callable
from typing import Any, Literal

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server import NotificationOptions, Server, ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ToolsListChanged

from latm.errors import LATMError, UserError
from latm.facade import LATM
from latm.judge.canaries import Canaries
from latm.use.dispatcher import routable_tools, tool_words, words
from latm.use.exposure import Exposed, call_exposed, expose, exposed_names
from latm.use.routing_index import shortlist
from sandbox import Sandbox
from tasks import Example
from toolcache import ToolCache
from toolcache.models import package_version

ExposeMode = Literal["all", "router"]
SOLVE = "latm_solve"
FIND = "latm_find_tools"
MAKE = "latm_make_tool"
PLAN = "latm_plan"
RESERVED = (SOLVE, FIND, MAKE, PLAN)
FIND_LIMIT = 5
MAX_TRACKED_SESSIONS = 256
LOOPBACK_NAMES = ("localhost",)

SOLVE_TOOL = types.Tool(
    name=SOLVE,
    description=(
        "Answer any question with LATM: it is routed to the cached, verified tool of its task (run in a "
        "sandbox), else answered by the configured models, the same as `latm solve`. The result names the "
        "tool and how the answer was made."
    ),
    input_schema={
        "type": "object",
        "properties": {"question": {"type": "string", "description": "The whole question text."}},
        "required": ["question"],
    },
)
PLAN_TOOL = types.Tool(
    name=PLAN,
    description=(
        'Answer a question that needs several LATM tools ("sort these words, and which object does Alice hold '
        'at the end?"): its independent parts are routed to their tools directly; otherwise the user model '
        "writes one plan of tool calls, run in parallel where they do not depend on each other. The result lists "
        "every call and its answer."
    ),
    input_schema={
        "type": "object",
        "properties": {"question": {"type": "string", "description": "The whole compound question."}},
        "required": ["question"],
    },
)
FIND_TOOL = types.Tool(
    name=FIND,
    description=(
        f"Find the LATM tools that fit a question or a description: up to {FIND_LIMIT} tools with their names, "
        "descriptions and input schemas. Call a found tool by its name (it is not listed here)."
    ),
    input_schema={
        "type": "object",
        "properties": {"query": {"type": "string", "description": "A question, or words describing the task."}},
        "required": ["query"],
    },
)
MAKE_TOOL = types.Tool(
    name=MAKE,
    description=(
        "Make a new verified LATM tool for a task from solved examples (the maker model writes it; LATM tests it "
        "in the sandbox and keeps it only if it answers unseen questions rightly). Give at least 4 examples; "
        "for your own task, 5 or more so that some are kept back to judge it. Takes minutes and costs maker "
        "tokens once; the new tool is then listed (tools/list_changed)."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "task": {"type": "string", "description": "A name for the task (a built-in task's name, or your own)."},
            "examples": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
                    "required": ["question", "answer"],
                },
                "description": "Solved examples of the task.",
            },
        },
        "required": ["task", "examples"],
    },
)


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) -> (host, port); UserError with the reason otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"--http takes HOST:PORT (e.g. 127.0.0.1:8000), not {text!r}")
    return host.strip("[]"), int(port)


def _text(text: str, *, error: bool = False, data: dict[str, Any] | None = None) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=data, is_error=error
    )


def _error(message: str) -> types.CallToolResult:
    return _text(message, error=True)


class ToolServer:
    """The MCP server over one tool cache, one sandbox and one LATM facade (all opened by the caller)."""

    def __init__(
        self,
        cache: ToolCache,
        sandbox: Sandbox,
        latm: LATM,
        *,
        expose_mode: ExposeMode = "all",
        allow_shown_only: bool = False,
        poll_s: float = 1.0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if expose_mode not in ("all", "router"):
            raise UserError(f"expose_mode must be 'all' or 'router', not {expose_mode!r}")
        self.cache = cache
        self.canaries = Canaries(cache)  # known questions mixed into each direct call
        self.sandbox = sandbox
        self.latm = latm
        self.expose_mode: ExposeMode = expose_mode
        self.allow_shown_only = allow_shown_only
        self.poll_s = poll_s
        self._log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self._lock = threading.Lock()
        self._signature: frozenset[tuple[str, str]] = frozenset()
        self._exposed: dict[str, Exposed] = {}
        self._sessions: collections.deque[ServerSession] = collections.deque(maxlen=MAX_TRACKED_SESSIONS)
        self.bus = InMemorySubscriptionBus()
        self.refresh()
        self.server: Server[Any] = Server(
            "latm",
            version=package_version(),
            instructions=(
                "LATM tools: each is a verified Python tool made by an LLM for one task; every call runs in LATM's "
                "sandbox. Call a tool with `question` (a whole question of its task) where its schema offers it, "
                "or with the function's own arguments. `latm_solve` answers any question."
            ),
            on_list_tools=self._on_list_tools,
            on_call_tool=self._on_call_tool,
            on_subscriptions_listen=ListenHandler(self.bus),
        )
        self.server.middleware.append(self._track_sessions)

    # -- the tool list -----------------------------------------------------------------------------

    @property
    def can_make(self) -> bool:
        return self.latm.maker_model is not None

    def refresh(self) -> bool:
        """Reads the cache's routable tools; True when the exposed names or ids changed (cheap otherwise)."""
        tools = routable_tools(self.cache, self.allow_shown_only)
        names = exposed_names(tools)
        signature = frozenset((name, tool_id) for tool_id, name in names.items())
        with self._lock:
            if signature == self._signature:
                return False
        exposed = {e.name: e for e in expose(self.cache, self.allow_shown_only) if e.name not in RESERVED}
        with self._lock:
            changed = signature != self._signature
            self._signature, self._exposed = signature, exposed
        return changed

    def exposed(self) -> list[Exposed]:
        with self._lock:
            return list(self._exposed.values())

    def _lookup(self, name: str) -> Exposed | None:
        with self._lock:
            found = self._exposed.get(name)
        if found is None and self.refresh():  # made a moment ago, before the poller saw it
            with self._lock:
                found = self._exposed.get(name)
        return found

    def listed_tools(self) -> list[types.Tool]:
        if self.expose_mode == "router":
            return [SOLVE_TOOL, FIND_TOOL]
        tools = [
            types.Tool(name=e.name, description=e.description, input_schema=e.input_schema()) for e in self.exposed()
        ]
        return [*tools, SOLVE_TOOL, PLAN_TOOL, *([MAKE_TOOL] if self.can_make else [])]

    async def _track_sessions(self, ctx: ServerRequestContext[Any, Any], call_next: Any) -> Any:
        """Remembers each handshake-era connection (by a session on it) to announce list changes to."""
        result = await call_next(ctx)
        if ctx.method == "notifications/initialized":
            self._sessions.append(ctx.session)
        return result

    async def announce(self) -> None:
        """``notifications/tools/list_changed`` to every connection and listen stream (best effort)."""
        if self.expose_mode == "router":  # the listed tools never change
            return
        for session in list(self._sessions):
            try:
                await session.send_tool_list_changed()
            except Exception as exc:  # a closed connection: it simply misses the notification
                self._log(f"warning: could not announce the tool list change: {exc}")
        await self.bus.publish(ToolsListChanged())

    async def watch(self) -> None:
        """Polls the cache every ``poll_s`` seconds; announces each change of the exposed tools."""
        while True:
            await anyio.sleep(self.poll_s)
            try:
                changed = await anyio.to_thread.run_sync(self.refresh)
            except Exception as exc:  # a damaged cache must not end the server; the next poll tries again
                self._log(f"warning: could not read the tool cache: {exc}")
                continue
            if changed:
                await self.announce()

    # -- handlers ----------------------------------------------------------------------------------

    async def _on_list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self.listed_tools())

    async def _on_call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        result, changed = await anyio.to_thread.run_sync(self.call, params.name, params.arguments or {})
        if changed:
            await self.announce()
        return result

    def call(self, name: str, arguments: dict[str, Any]) -> tuple[types.CallToolResult, bool]:
        """One tool call (blocking: run it in a worker thread); the result, and whether the tool list changed."""
        try:
            if name == SOLVE:
                return self._solve(arguments), False
            if name == FIND:
                return self._find(arguments), False
            if name == PLAN:
                return self._plan(arguments), False
            if name == MAKE and self.can_make:
                return self._make(arguments)
            exposed = self._lookup(name)
            if exposed is None:
                how = "latm_find_tools finds tools" if self.expose_mode == "router" else "tools/list lists them"
                return _error(f"unknown tool {name!r}: no routable LATM tool has this name ({how})"), False
            return self._call_tool(exposed, arguments), False
        except Exception as exc:  # never a dead server: every failure is the call's error result
            return _error(f"{type(exc).__name__}: {exc}"), False

    def _call_tool(self, exposed: Exposed, arguments: dict[str, Any]) -> types.CallToolResult:
        try:
            result = call_exposed(self.sandbox, exposed, arguments, self.canaries)
            ok, answer, error = result.ok, result.answer, result.error
        except Exception as exc:  # the sandbox itself failed (closed, unavailable): the call's error
            ok, answer, error, result = False, None, f"the sandbox failed: {type(exc).__name__}: {exc}", None
        try:
            self.cache.record_use(exposed.tool.id, ok=ok, mode="direct", source="mcp")
        except Exception as exc:
            self._log(f"warning: could not record the use of {exposed.name}: {exc}")
        if not ok or answer is None:
            return _error(f"{exposed.name}: {error or 'no answer'}")
        data = {
            "answer": answer,
            "tool": exposed.name,
            "tool_id": exposed.tool.id,
            "task": exposed.tool.task,
            "called_with": "question" if result is not None and result.mode == "direct" else "arguments",
        }
        if result is not None and result.mode == "function":
            data["value"] = result.raw
        return _text(answer, data=data)

    @staticmethod
    def _question(name: str, arguments: dict[str, Any]) -> str | types.CallToolResult:
        """The one `question` argument of latm_solve / latm_plan, or the error result saying so."""
        question = arguments.get("question")
        if set(arguments) != {"question"} or not isinstance(question, str) or not question.strip():
            return _error(f"{name} takes one argument, `question` (non-empty text)")
        return question

    def _solve(self, arguments: dict[str, Any]) -> types.CallToolResult:
        question = self._question(SOLVE, arguments)
        if not isinstance(question, str):
            return question
        try:
            sol = self.latm.solve(question)
        except LATMError as exc:
            return _error(str(exc))
        data = {
            "answer": sol.answer,
            "mode": sol.mode,
            "tool": sol.tool,
            "tool_id": sol.tool_id,
            "task": sol.task,
            "tokens": sol.tokens,
            "cost_usd": sol.cost_usd,
            "error": sol.error,
        }
        if sol.answer is None:
            return _text(f"no answer: {sol.error or sol.route}", error=True, data=data)
        return _text(sol.answer, data=data)

    def _plan(self, arguments: dict[str, Any]) -> types.CallToolResult:
        question = self._question(PLAN, arguments)
        if not isinstance(question, str):
            return question
        try:
            sol = self.latm.solve_plan(question)
        except LATMError as exc:
            return _error(str(exc))
        data = {
            "answer": sol.answer,
            "mode": sol.mode,
            "calls": [c.model_dump() for c in sol.calls],
            "plans": sol.plans,
            "tokens": sol.usage.tokens,
            "error": sol.error,
        }
        if sol.answer is None:
            return _text(f"no answer: {sol.error}", error=True, data=data)
        return _text(sol.answer, data=data)

    def _find(self, arguments: dict[str, Any]) -> types.CallToolResult:
        query = arguments.get("query")
        if set(arguments) != {"query"} or not isinstance(query, str) or not query.strip():
            return _error(f"{FIND} takes one argument, `query` (non-empty text)")
        self.refresh()
        by_id = {e.tool.id: e for e in self.exposed()}
        wanted = words(query)
        found = [
            by_id[t.id]
            for t in shortlist(query, [e.tool for e in by_id.values()], FIND_LIMIT, tool_words)
            if wanted & tool_words(t)
        ][:FIND_LIMIT]
        listing = [{"name": e.name, "description": e.description, "input_schema": e.input_schema()} for e in found]
        text = json.dumps(listing, indent=1) if listing else "no LATM tool matches; latm_solve answers any question"
        return _text(text, data={"tools": listing})

    def _make(self, arguments: dict[str, Any]) -> tuple[types.CallToolResult, bool]:
        task, raw = arguments.get("task"), arguments.get("examples")
        if not isinstance(task, str) or not task.strip() or not isinstance(raw, list):
            return _error(f"{MAKE} takes `task` (text) and `examples` (a list of {{question, answer}})"), False
        try:
            examples = [Example.model_validate(e) for e in raw]
        except ValueError as exc:
            return _error(f"every example needs `question` and `answer` text: {exc}"), False
        try:
            made = self.latm.make_tool(task.strip(), examples)
        except LATMError as exc:
            return _error(str(exc)), False
        changed = self.refresh()
        if made.tool is None:
            return _error(f"no tool was made: {made.reason}"), changed
        name = exposed_names(routable_tools(self.cache, self.allow_shown_only)).get(made.tool.id)
        data = {"tool": name, "tool_id": made.tool.id, "task": made.tool.task, "routable": name is not None}
        text = f"tool {name} is ready" if name else f"made tool {made.tool.id[:12]}, but it is not routable"
        return _text(text, data=data), changed

    # -- running -----------------------------------------------------------------------------------

    def initialization_options(self) -> Any:
        return self.server.create_initialization_options(NotificationOptions(tools_changed=True))

    async def serve_stdio(self) -> None:
        from mcp.server.stdio import stdio_server

        async with stdio_server() as (read_stream, write_stream), anyio.create_task_group() as tg:
            tg.start_soon(self.watch)
            tg.start_soon(self._warm)
            await self.server.run(read_stream, write_stream, self.initialization_options())
            tg.cancel_scope.cancel()

    async def serve_http(self, host: str, port: int) -> None:
        import uvicorn

        app = self.server.streamable_http_app(host=host)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning")
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.watch)
            tg.start_soon(self._warm)
            self._log(f"serving MCP on http://{host if ':' not in host else f'[{host}]'}:{port}/mcp")
            await uvicorn.Server(config).serve()
            tg.cancel_scope.cancel()

    async def _warm(self) -> None:
        try:
            await anyio.to_thread.run_sync(self.sandbox.warm, 1)
        except Exception as exc:  # the first call will say what is wrong
            self._log(f"warning: could not start a sandbox worker: {exc}")
