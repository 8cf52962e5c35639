"""``OpenAIModel``: any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp server...).

The only module of LATM that imports ``openai``.
"""

import asyncio
import json
import re
import weakref
from typing import Any

from latm.errors import (
    ModelConfigError,
    ModelError,
    ModelHTTPError,
    ModelUnreachable,
    UnexpectedModelBehavior,
)
from latm.models.protocol import Completion, Message, ToolCall, Tools
from latm.models.usage import TokenCount
from latm.settings import Settings

LOCAL_HOSTS = ("localhost", "127.", "0.0.0.0", "[::1]")

REMOTE_TIMEOUT = 120.0
LOCAL_TIMEOUT = 900.0


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
        settings = Settings.load(base_url=base_url, api_key=api_key)
        self.base_url = settings.base_url
        if self.base_url is not None and not re.match(r"https?://[^/\s]+", str(self.base_url)):
            raise ModelConfigError(
                f"--base-url/LATM_BASE_URL {self.base_url!r} is not a URL: give one like http://127.0.0.1:8000/v1"
            )
        key = settings.api_key
        local = bool(self.base_url) and any(h in str(self.base_url) for h in LOCAL_HOSTS)
        if key is None and local:
            key = "local"  # local servers (llama.cpp, vLLM, Ollama) do not check keys
        if key is None:
            raise ModelConfigError(
                f"no API key for model {model!r}: set OPENAI_API_KEY (or LATM_API_KEY), pass api_key=, "
                "or point LATM_BASE_URL (--base-url, base_url=) at a local OpenAI-compatible server; "
                "offline, latm.models.demo's demo_maker() and demo_user() play both models"
            )
        self._key = key
        default = LOCAL_TIMEOUT if local else REMOTE_TIMEOUT
        self.timeout = timeout if timeout is not None else (settings.timeout or default)
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
