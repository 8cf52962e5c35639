"""``resolve_model``: a ChatModel from an object or a name (or the configured one)."""

import asyncio
from pathlib import Path
from typing import Any

from latm.errors import ModelConfigError
from latm.models.openai_client import OpenAIModel
from latm.models.protocol import ChatModel, Completion, Message
from latm.models.response_cache import CachedModel
from latm.settings import CacheMode, Settings


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
    cache_dir: "str | Path | None" = None,
    version: str = "",
) -> ChatModel | None:
    """A ChatModel from an object, a name, or LATM_MAKER/LATM_USER; None when nothing is set.

    The response cache applies when ``cache`` or LATM_RESPONSE_CACHE says so; ``version`` is the
    caller's prompt version, part of every cached reply's key; ``cache_dir`` where it lives (default:
    LATM_RESPONSE_CACHE_DIR, else the user's cache directory).
    """
    settings = Settings.load(response_cache=cache)
    if model is None:
        model = settings.model_for(role)
    if model is None:
        return None
    resolved: ChatModel
    if isinstance(model, str):
        resolved = OpenAIModel(model, base_url=base_url, api_key=api_key)
    elif hasattr(model, "complete"):
        resolved = model if hasattr(model, "acomplete") else SyncOnlyAdapter(model)  # type: ignore[assignment]
    else:
        raise ModelConfigError(f"{role} must be a model name or a ChatModel, not {type(model).__name__}")
    if settings.response_cache != "off":
        resolved = CachedModel(resolved, settings.response_cache, cache_dir, version=version)
    return resolved
