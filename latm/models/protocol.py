"""What LATM needs of a model: the ``ChatModel`` protocol and the records a completion is made of."""

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from latm.models.usage import TokenCount

Message = dict[str, str]


class ToolCall(BaseModel):
    """One function call a model asked for (OpenAI ``tool_calls``); ``arguments`` is raw JSON text."""

    id: str = ""
    name: str
    arguments: str = "{}"


class Completion(BaseModel):
    text: str
    usage: TokenCount
    model: str
    cached: bool = False
    tool_calls: list[ToolCall] = Field(default_factory=list)


Tools = list[dict[str, Any]]  # OpenAI function tool specs: [{"type": "function", "function": {...}}]


@runtime_checkable
class ChatModel(Protocol):
    """What LATM needs of a model: a name, and chat completion (sync and async)."""

    name: str

    def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
    ) -> Completion: ...

    async def acomplete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
    ) -> Completion: ...


@runtime_checkable
class FunctionCallingModel(ChatModel, Protocol):
    """A ChatModel that can also be offered functions (``tools``) and reply with ``tool_calls``."""

    async def acomplete_tools(
        self,
        messages: list[Message],
        tools: Tools,
        *,
        tool_choice: str | dict[str, Any] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> Completion: ...

