"""``ScriptedModel``: a ChatModel that answers from a script (a list, or a function of the messages); never
touches the network. Public through ``latm.testing``."""
import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from latm.models.protocol import Completion, Message, ToolCall, Tools
from latm.models.usage import TokenCount

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

