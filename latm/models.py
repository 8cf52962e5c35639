"""The model layer: one ChatModel protocol; this is the only module that imports openai.

``OpenAIModel`` speaks to any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama,
llama.cpp server...). ``CachedModel`` wraps any model with a response cache on diskcache:
``readwrite`` pays once and replays free, identical answers; ``replay`` makes a miss an
error, for deterministic runs. Offline models for tests live in ``latm.testing``.
"""

import asyncio
import hashlib
import json
import os
import weakref
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import platformdirs
from pydantic import BaseModel, Field

from latm.errors import (
    ModelConfigError,
    ModelError,
    ModelHTTPError,
    ModelUnreachable,
    ResponseCacheMiss,
    UnexpectedModelBehavior,
)
from latm.usage import TokenCount

Message = dict[str, str]
CacheMode = Literal["off", "readwrite", "replay"]
LOCAL_HOSTS = ("localhost", "127.", "0.0.0.0", "[::1]")


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


def _setting(explicit: str | None, *names: str) -> str | None:
    """Explicit argument first, then the first environment variable that is set."""
    if explicit:
        return explicit
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


REMOTE_TIMEOUT = 120.0
LOCAL_TIMEOUT = 900.0


def _timeout_setting(default: float) -> float:
    raw = os.environ.get("LATM_TIMEOUT")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ModelConfigError(f"LATM_TIMEOUT must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ModelConfigError(f"LATM_TIMEOUT must be positive, not {raw!r}")
    return value


class OpenAIModel:
    """A chat model behind any OpenAI-compatible endpoint.

    Settings: arguments, then LATM_BASE_URL/OPENAI_BASE_URL, LATM_API_KEY/OPENAI_API_KEY and
    LATM_TIMEOUT (seconds per request). A local endpoint (localhost) needs no key and gets a
    longer default timeout, because a CPU server can take minutes for one long reply. The SDK
    retries 429, 5xx, timeouts and dropped connections with exponential backoff (``max_retries``).
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | None = None,
        max_retries: int = 3,
    ) -> None:
        if not model:
            raise ModelConfigError("no model name: pass model= (e.g. 'gpt-4o') or set LATM_MAKER/LATM_USER")
        self.name = model
        self.base_url = _setting(base_url, "LATM_BASE_URL", "OPENAI_BASE_URL")
        key = _setting(api_key, "LATM_API_KEY", "OPENAI_API_KEY")
        local = bool(self.base_url) and any(h in str(self.base_url) for h in LOCAL_HOSTS)
        if key is None and local:
            key = "local"  # local servers (llama.cpp, vLLM, Ollama) do not check keys
        if key is None:
            raise ModelConfigError(
                f"no API key for model {model!r}: set OPENAI_API_KEY (or LATM_API_KEY), pass api_key=, "
                "or point --base-url/LATM_BASE_URL at a local OpenAI-compatible server"
            )
        self._key = key
        self.timeout = timeout if timeout is not None else _timeout_setting(LOCAL_TIMEOUT if local else REMOTE_TIMEOUT)
        self.max_retries = max_retries
        self._client: Any = None
        self._aclients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"OpenAIModel({self.name!r}, base_url={self.base_url!r})"

    def _sync(self) -> Any:
        if self._client is None:
            import openai

            self._client = openai.OpenAI(
                api_key=self._key, base_url=self.base_url, timeout=self.timeout, max_retries=self.max_retries
            )
        return self._client

    def _async(self) -> Any:
        """One async client per event loop: an httpx pool cannot outlive the loop it was made in."""
        loop = asyncio.get_running_loop()
        client = self._aclients.get(loop)
        if client is None:
            import openai

            client = openai.AsyncOpenAI(
                api_key=self._key, base_url=self.base_url, timeout=self.timeout, max_retries=self.max_retries
            )
            self._aclients[loop] = client
        return client

    def _params(
        self, messages: list[Message], temperature: float, max_tokens: int | None, stop: list[str] | None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.name, "messages": messages, "temperature": temperature}
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        if stop:
            params["stop"] = stop
        return params

    def _completion(self, response: Any) -> Completion:
        try:
            choice = response.choices[0]
            text = choice.message.content or ""
        except (AttributeError, IndexError, TypeError) as exc:
            raise UnexpectedModelBehavior(f"{self.name}: the reply has no message ({exc})") from exc
        usage = getattr(response, "usage", None)
        tokens = TokenCount(
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        )
        calls = []
        for call in getattr(choice.message, "tool_calls", None) or []:
            fn = getattr(call, "function", None)
            if fn is not None and getattr(fn, "name", None):
                calls.append(ToolCall(id=str(call.id or ""), name=fn.name, arguments=fn.arguments or "{}"))
        return Completion(
            text=text, usage=tokens, model=getattr(response, "model", None) or self.name, tool_calls=calls
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
        """A chat completion offered ``tools``; an endpoint that does not take them answers 400
        (``ModelHTTPError``)."""
        import openai

        params = self._params(messages, temperature, max_tokens, None)
        params["tools"] = tools
        if tool_choice is not None:
            params["tool_choice"] = tool_choice
        try:
            response = await self._async().chat.completions.create(**params)
        except (openai.OpenAIError, ValueError) as exc:
            raise self._translate(exc) from exc
        return self._completion(response)

    def _translate(self, exc: Exception) -> ModelError:
        import openai

        where = self.base_url or "the OpenAI API"
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return ModelConfigError(  # type: ignore[return-value]
                f"{where} refused the API key ({exc.status_code}): check OPENAI_API_KEY / LATM_API_KEY"
            )
        if isinstance(exc, openai.NotFoundError):
            return ModelConfigError(  # type: ignore[return-value]
                f"{where} does not know model {self.name!r} (404): check the model name or --base-url"
            )
        if isinstance(exc, openai.APITimeoutError):
            return ModelUnreachable(f"{where} did not answer within {self.timeout:g} s ({self.max_retries} retries)")
        if isinstance(exc, openai.APIConnectionError):
            return ModelUnreachable(
                f"cannot reach {where} after {self.max_retries} retries: is the server running? "
                "check --base-url / LATM_BASE_URL / OPENAI_BASE_URL"
            )
        if isinstance(exc, openai.APIStatusError):
            return ModelHTTPError(exc.status_code, f"{where}: {exc.message}")
        if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError | ValueError):
            return UnexpectedModelBehavior(f"{where} sent a malformed reply: {exc}")
        return ModelError(f"{where}: {type(exc).__name__}: {exc}")

    def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
    ) -> Completion:
        import openai

        try:
            response = self._sync().chat.completions.create(**self._params(messages, temperature, max_tokens, stop))
        except (openai.OpenAIError, ValueError) as exc:
            raise self._translate(exc) from exc
        return self._completion(response)

    async def acomplete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
    ) -> Completion:
        import openai

        try:
            response = await self._async().chat.completions.create(
                **self._params(messages, temperature, max_tokens, stop)
            )
        except (openai.OpenAIError, ValueError) as exc:
            raise self._translate(exc) from exc
        return self._completion(response)


def response_cache_dir() -> Path:
    env = os.environ.get("LATM_RESPONSE_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("latm")) / "responses"


class CachedModel:
    """Wraps a model with a response cache keyed by model, messages and parameters."""

    def __init__(self, inner: ChatModel, mode: CacheMode = "readwrite", directory: str | Path | None = None) -> None:
        if mode not in ("off", "readwrite", "replay"):
            raise ModelConfigError(f"response cache mode must be off, readwrite or replay, not {mode!r}")
        import diskcache

        self.inner = inner
        self.name = inner.name
        self.mode = mode
        self._db = diskcache.Cache(str(directory or response_cache_dir()))
        self._asked: dict[str, int] = {}

    def _key(self, messages: list[Message], temperature: float, max_tokens: int | None, stop: list[str] | None) -> str:
        """The request's key. A sampled request (temperature > 0) asked again by this object is
        another sample: its n-th asking has a key of its own, so a replay gives back the same
        sequence of samples and a new sample reaches the model (never the first one, again)."""
        # The prompt version is part of the key: a reworded prompt must never replay an old reply.
        from latm.maker.prompts import PROMPT_VERSION

        blob = json.dumps([PROMPT_VERSION, self.name, messages, temperature, max_tokens, stop], sort_keys=True)
        key = hashlib.sha256(blob.encode()).hexdigest()
        if temperature > 0:
            n = self._asked[key] = self._asked.get(key, 0) + 1
            key = key if n == 1 else f"{key}#{n}"
        return key

    def _lookup(self, key: str) -> Completion | None:
        if self.mode == "off":
            return None
        raw = self._db.get(key)
        if raw is not None:
            return Completion.model_validate_json(raw).model_copy(update={"cached": True})
        if self.mode == "replay":
            raise ResponseCacheMiss(
                f"replay mode: no recorded response of {self.name} for this request; record it first "
                "with LATM_RESPONSE_CACHE=readwrite"
            )
        return None

    def _store(self, key: str, completion: Completion) -> Completion:
        if self.mode == "readwrite":
            self._db.set(key, completion.model_dump_json())
        return completion

    def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
    ) -> Completion:
        key = self._key(messages, temperature, max_tokens, stop)
        hit = self._lookup(key)
        if hit is not None:
            return hit
        done = self.inner.complete(messages, temperature=temperature, max_tokens=max_tokens, stop=stop)
        return self._store(key, done)

    async def acomplete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
    ) -> Completion:
        key = self._key(messages, temperature, max_tokens, stop)
        hit = self._lookup(key)
        if hit is not None:
            return hit
        done = await self.inner.acomplete(messages, temperature=temperature, max_tokens=max_tokens, stop=stop)
        return self._store(key, done)

    async def acomplete_tools(
        self,
        messages: list[Message],
        tools: Tools,
        *,
        tool_choice: str | dict[str, Any] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> Completion:
        if not isinstance(self.inner, FunctionCallingModel):
            raise TypeError(f"{self.name} does not take functions")
        key = self._key(
            [*messages, {"role": "tools", "content": json.dumps([tools, tool_choice])}], temperature, max_tokens, None
        )
        hit = self._lookup(key)
        if hit is not None:
            return hit
        done = await self.inner.acomplete_tools(
            messages, tools, tool_choice=tool_choice, temperature=temperature, max_tokens=max_tokens
        )
        return self._store(key, done)


class SyncOnlyAdapter:
    """Gives any object with ``complete`` an ``acomplete`` (run in a worker thread)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name

    def complete(self, messages: list[Message], **kw: Any) -> Completion:
        return self.inner.complete(messages, **kw)  # type: ignore[no-any-return]

    async def acomplete(self, messages: list[Message], **kw: Any) -> Completion:
        return await asyncio.to_thread(self.inner.complete, messages, **kw)


def resolve_model(
    model: "str | ChatModel | None",
    *,
    role: str,
    base_url: str | None = None,
    api_key: str | None = None,
    cache: CacheMode | None = None,
) -> ChatModel | None:
    """A ChatModel from an object, a name, or LATM_MAKER/LATM_USER; None when nothing is set.

    The response cache applies when ``cache`` or LATM_RESPONSE_CACHE says so.
    """
    env_name = {"maker": "LATM_MAKER", "user": "LATM_USER", "dispatcher": "LATM_USER"}.get(role, "")
    if model is None:
        model = os.environ.get(env_name) or None
    if model is None:
        return None
    resolved: ChatModel
    if isinstance(model, str):
        resolved = OpenAIModel(model, base_url=base_url, api_key=api_key)
    elif hasattr(model, "complete"):
        resolved = model if hasattr(model, "acomplete") else SyncOnlyAdapter(model)  # type: ignore[assignment]
    else:
        raise ModelConfigError(f"{role} must be a model name or a ChatModel, not {type(model).__name__}")
    mode = cache or os.environ.get("LATM_RESPONSE_CACHE") or "off"
    if mode != "off":
        resolved = CachedModel(resolved, mode)  # type: ignore[arg-type]
    return resolved
