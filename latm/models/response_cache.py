"""``CachedModel``: a response cache on diskcache around any model.

``readwrite`` pays once and replays free, identical answers; ``replay`` makes a miss an error, for
deterministic runs. The key holds a version the caller names (the maker's prompt version), so a
reworded prompt never replays an old reply.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import platformdirs

from latm.errors import ModelConfigError, ResponseCacheMiss
from latm.models.protocol import ChatModel, Completion, FunctionCallingModel, Message, Tools
from latm.settings import CacheMode, Settings


def response_cache_dir() -> Path:
    return Settings.load().response_cache_dir or Path(platformdirs.user_cache_dir("latm")) / "responses"


class CachedModel:
    """Wraps a model with a response cache keyed by model, messages and parameters."""

    def __init__(
        self,
        inner: ChatModel,
        mode: CacheMode = "readwrite",
        directory: str | Path | None = None,
        *,
        version: str = "",
    ) -> None:
        """``version`` is part of every key: the caller's prompt version, so that a reworded prompt
        (or a changed reading of replies) never replays a reply recorded for the old one."""
        if mode not in ("off", "readwrite", "replay"):
            raise ModelConfigError(f"response cache mode must be off, readwrite or replay, not {mode!r}")
        import diskcache

        self.inner = inner
        self.name = inner.name
        self.version = version
        self.mode = mode
        self._db = diskcache.Cache(str(directory or response_cache_dir()))
        self._asked: dict[str, int] = {}

    def _key(self, messages: list[Message], temperature: float, max_tokens: int | None, stop: list[str] | None) -> str:
        """The request's key. A sampled request (temperature > 0) asked again by this object is
        another sample: its n-th asking has a key of its own, so a replay gives back the same
        sequence of samples and a new sample reaches the model (never the first one, again)."""
        blob = json.dumps([self.version, self.name, messages, temperature, max_tokens, stop], sort_keys=True)
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
            raise TypeError(f"{self.name} does not take functions")  # the tool user falls back to code
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

