"""A Ray job's limits: one rate limit per model endpoint for the whole cluster (a named limiter actor:
requests per second and in flight; a 429's Retry-After pauses every worker), the models each worker
rebuilds behind it, and the job's knobs (``RayOptions``)."""

import time
from dataclasses import dataclass
from typing import Any

from latm.errors import ModelHTTPError, ModelUnreachable

DEFAULT_RPS = 20.0
DEFAULT_IN_FLIGHT = 8
MAX_MODEL_RETRIES = 8


@dataclass
class RateLimit:
    """One endpoint's limit for the whole cluster: requests per second and requests in flight."""

    rps: float = DEFAULT_RPS
    max_in_flight: int = DEFAULT_IN_FLIGHT


@dataclass
class RayOptions:
    """The Ray engine's knobs (``latm solve --engine ray``)."""

    address: str | None = None  # else RAY_ADDRESS, else a local Ray
    workers: int | None = None  # actors at most (default: the cluster's CPUs - 1)
    batch_size: int | None = None  # rows an actor answers at once
    rps: float = DEFAULT_RPS  # model requests per second per endpoint, cluster-wide
    max_in_flight: int = DEFAULT_IN_FLIGHT

    @property
    def rate_limit(self) -> RateLimit:
        return RateLimit(rps=self.rps, max_in_flight=self.max_in_flight)


def model_spec(model: Any) -> Any:
    """What a worker needs to rebuild a model: the settings of an OpenAI-compatible one (no open
    clients travel), else the (picklable) model object itself."""
    from latm.models import OpenAIModel

    if isinstance(model, OpenAIModel):
        return {"openai": model.name, "base_url": model.base_url, "api_key": model._key, "timeout": model.timeout}
    return model


def endpoint_of(spec: Any) -> str | None:
    return (spec["base_url"] or "https://api.openai.com/v1") if isinstance(spec, dict) else None


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc.__cause__, "response", None)
    raw = getattr(response, "headers", {}).get("retry-after") if response is not None else None
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


class LimitedModel:
    """A model whose every request takes a slot from the cluster's limiter for its endpoint.
    The SDK's own retries are off; a 429 or 5xx is retried here, after the Retry-After the server
    asked for (every worker pauses), else with exponential backoff."""

    def __init__(self, inner: Any, limiter: Any, retries: int = MAX_MODEL_RETRIES) -> None:
        self.inner = inner
        self.name = inner.name
        self.limiter = limiter
        self.retries = retries

    async def _limited(self, method: str, *args: Any, **kw: Any) -> Any:
        for attempt in range(self.retries + 1):
            await self.limiter.acquire.remote()
            pause: float | None = None
            try:
                return await getattr(self.inner, method)(*args, **kw)
            except ModelHTTPError as exc:
                if (exc.status != 429 and exc.status < 500) or attempt == self.retries:
                    raise
                pause = _retry_after(exc) if exc.status == 429 else None
                pause = pause if pause is not None else min(0.25 * 2**attempt, 8.0)
            except ModelUnreachable:
                if attempt == self.retries:
                    raise
                pause = min(0.25 * 2**attempt, 8.0)
            finally:
                await self.limiter.release.remote(pause)
        raise AssertionError("unreachable")

    async def acomplete(self, messages: Any, **kw: Any) -> Any:
        return await self._limited("acomplete", messages, **kw)

    def complete(self, messages: Any, **kw: Any) -> Any:
        from latm._aio import run_sync

        return run_sync(self.acomplete(messages, **kw))


class LimitedToolsModel(LimitedModel):
    async def acomplete_tools(self, messages: Any, tools: Any, **kw: Any) -> Any:
        return await self._limited("acomplete_tools", messages, tools, **kw)


def build_model(spec: Any, limiters: dict[str, Any]) -> Any:
    if not isinstance(spec, dict):
        return spec
    from latm.models import OpenAIModel

    model = OpenAIModel(
        spec["openai"], spec["base_url"], spec["api_key"], timeout=spec["timeout"], max_retries=0
    )  # retries are the limiter's
    limiter = limiters.get(endpoint_of(spec) or "")
    return LimitedToolsModel(model, limiter) if limiter is not None else model


class RateLimiter:
    """One endpoint's limit for the whole cluster (an async actor: waiting costs no thread)."""

    def __init__(self, rps: float, max_in_flight: int) -> None:
        import asyncio

        self.interval = 1.0 / rps if rps > 0 else 0.0
        self.max_in_flight = max(1, max_in_flight)
        self.in_flight = 0
        self.peak = 0
        self.requests = 0
        self.paused = 0
        self.next_start = 0.0
        self.blocked_until = 0.0
        self.cond = asyncio.Condition()

    async def acquire(self) -> None:
        import asyncio

        async with self.cond:
            await self.cond.wait_for(lambda: self.in_flight < self.max_in_flight)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.requests += 1
            now = time.monotonic()
            start = max(now, self.next_start, self.blocked_until)
            self.next_start = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)

    async def release(self, pause: float | None = None) -> None:
        async with self.cond:
            self.in_flight -= 1
            if pause:
                self.paused += 1
                self.blocked_until = max(self.blocked_until, time.monotonic() + pause)
            self.cond.notify_all()

    def stats(self) -> dict[str, Any]:
        return {"requests": self.requests, "peak_in_flight": self.peak, "paused": self.paused}
