"""``FakeOpenAIServer``: a local OpenAI-compatible HTTP server answering from a script, so the real openai
client is exercised end to end; it injects latency, 429s, 500s, hangs and malformed bodies. Public through
``latm.testing``."""
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from latm.models.protocol import Message
from latm.models.scripted import Script, ScriptExhausted, _Script, calls_of, count_tokens


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
