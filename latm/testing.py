"""Offline models for tests and demos (public API: use them in your own tests).

- ``ScriptedModel(responses)``: answers from a list in order, or from a function of the
  messages. Never touches the network.
- ``FakeOpenAIServer``: a local OpenAI-compatible HTTP server answering from a script, so
  the real openai client is exercised end to end; it can inject latency, 429s, 500s,
  hangs (client timeouts) and malformed bodies.

    with FakeOpenAIServer(["hello"]) as server:
        model = OpenAIModel("fake", base_url=server.url)
        assert model.complete([{"role": "user", "content": "hi"}]).text == "hello"
"""

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from latm.models import Completion, Message, ToolCall, Tools
from latm.usage import TokenCount

# A reply is text, or a function call: {"tool_calls": [{"name": ..., "arguments": {...} or "raw text"}]}.
Reply = str | dict[str, Any]
Script = Iterable[Reply] | Callable[[list[Message]], Reply]


def calls_of(reply: Reply) -> tuple[str, list[ToolCall]]:
    """The text and the function calls of a scripted reply."""
    if isinstance(reply, str):
        return reply, []
    calls = []
    for n, call in enumerate(reply.get("tool_calls", []), 1):
        args = call.get("arguments", {})
        calls.append(
            ToolCall(id=f"call_{n}", name=call["name"], arguments=args if isinstance(args, str) else json.dumps(args))
        )
    return str(reply.get("content") or ""), calls


def count_tokens(text: str) -> int:
    """A rough, deterministic token count (about 4 characters per token)."""
    return max(1, len(text) // 4)


class ScriptExhausted(AssertionError):
    """The scripted model was asked more often than it has answers."""


class _Script:
    def __init__(self, script: Script) -> None:
        self._fn = script if callable(script) else None
        self._queue = None if callable(script) else deque(script)
        self._lock = threading.Lock()
        self.requests: list[list[Message]] = []

    def next(self, messages: list[Message]) -> Any:
        with self._lock:
            self.requests.append([dict(m) for m in messages])  # a snapshot: callers keep appending
            if self._fn is not None:
                return self._fn(messages)
            assert self._queue is not None
            if not self._queue:
                raise ScriptExhausted(f"the script ran out after {len(self.requests) - 1} replies")
            return self._queue.popleft()


class ScriptedModel:
    """A ChatModel that replies from a script; token counts are estimated from lengths."""

    def __init__(
        self, responses: Script, name: str = "scripted", latency_s: float = 0.0, *, functions: bool = False
    ) -> None:
        """``functions=True``: it may be offered functions (``acomplete_tools``) and script calls."""
        self.name = name
        self.functions = functions
        self.latency_s = latency_s
        self._script = _Script(responses)
        self.temperatures: list[float] = []  # the temperature of every call, in order
        self.tools_offered: list[Tools | None] = []  # the functions offered with every call, in order

    @property
    def requests(self) -> list[list[Message]]:
        """Every message list this model was called with, in order."""
        return self._script.requests

    @property
    def calls(self) -> int:
        return len(self._script.requests)

    def _completion(self, messages: list[Message], temperature: float, tools: Tools | None = None) -> Completion:
        self.temperatures.append(temperature)
        self.tools_offered.append(tools)
        text, calls = calls_of(self._script.next(messages))
        prompt = sum(count_tokens(m.get("content", "")) for m in messages) + count_tokens(json.dumps(tools or []))
        out = count_tokens(text + "".join(c.name + c.arguments for c in calls))
        return Completion(
            text=text,
            usage=TokenCount(prompt_tokens=prompt, completion_tokens=out),
            model=self.name,
            tool_calls=calls,
        )

    async def acomplete_tools(
        self,
        messages: list[Message],
        tools: Tools,
        *,
        tool_choice: str | dict[str, Any] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> Completion:
        if not self.functions:
            raise TypeError(f"the scripted model {self.name} takes no functions (ScriptedModel(functions=True))")
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        return self._completion(messages, temperature, tools)

    def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
    ) -> Completion:
        if self.latency_s:
            time.sleep(self.latency_s)
        return self._completion(messages, temperature)

    async def acomplete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
    ) -> Completion:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        return self._completion(messages, temperature)


@dataclass
class Fault:
    """One injected failure: an HTTP status, a hang longer than the client waits, or junk."""

    status: int | None = None
    hang_s: float = 0.0
    malformed: bool = False


class FakeOpenAIServer:
    """A local OpenAI-compatible server on 127.0.0.1 that answers from a script."""

    def __init__(
        self, script: Script, *, latency_s: float = 0.0, model: str | None = None, takes_tools: bool = True
    ) -> None:
        """``takes_tools=False`` plays an endpoint that answers 400 to a request offering functions."""
        self._script = _Script(script)
        self.latency_s = latency_s
        self.model = model
        self.takes_tools = takes_tools
        self.payloads: list[dict[str, Any]] = []  # every request body, in order
        self.faults: deque[Fault] = deque()
        self.hits = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- fault injection -------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1) -> None:
        self.faults.extend(Fault(status=status) for _ in range(times))

    def hang_next(self, seconds: float, times: int = 1) -> None:
        self.faults.extend(Fault(hang_s=seconds) for _ in range(times))

    def malformed_next(self, times: int = 1) -> None:
        self.faults.extend(Fault(malformed=True) for _ in range(times))

    @property
    def requests(self) -> list[list[Message]]:
        return self._script.requests

    # -- lifetime --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> "FakeOpenAIServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(
                        200,
                        json.dumps(
                            {"object": "list", "data": [{"id": server.model or "fake", "object": "model"}]}
                        ).encode(),
                    )
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                server._serve(self, payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def _serve(self, handler: Any, payload: dict[str, Any]) -> None:
        with self._lock:
            self.hits += 1
            fault = self.faults.popleft() if self.faults else None
        if self.latency_s:
            time.sleep(self.latency_s)
        if fault is not None:
            if fault.hang_s:
                time.sleep(fault.hang_s)
                return handler._send(500, b'{"error": {"message": "hung"}}')
            if fault.status is not None:
                body = json.dumps({"error": {"message": f"injected {fault.status}", "type": "fault"}}).encode()
                return handler._send(fault.status, body)
            if fault.malformed:
                return handler._send(200, b'{"choices": [ this is not json')
        if not handler.path.rstrip("/").endswith("/chat/completions"):
            return handler._send(404, b'{"error": {"message": "unknown endpoint"}}')
        with self._lock:
            self.payloads.append(payload)
        if payload.get("tools") and not self.takes_tools:
            refusal = {"error": {"message": "tools are not supported by this endpoint", "type": "invalid"}}
            return handler._send(400, json.dumps(refusal).encode())
        messages = payload.get("messages", [])
        try:
            text, calls = calls_of(self._script.next(messages))
        except ScriptExhausted as exc:
            return handler._send(500, json.dumps({"error": {"message": str(exc)}}).encode())
        prompt = sum(count_tokens(str(m.get("content", ""))) for m in messages)
        prompt += count_tokens(json.dumps(payload.get("tools") or []))
        out = count_tokens(text + "".join(c.name + c.arguments for c in calls))
        message: dict[str, Any] = {"role": "assistant", "content": text or (None if calls else "")}
        if calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in calls
            ]
        completion = {
            "id": f"chatcmpl-fake-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model or payload.get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": "tool_calls" if calls else "stop", "message": message}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out},
        }
        return handler._send(200, json.dumps(completion).encode())

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
