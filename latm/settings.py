"""One ``Settings``: an explicit argument, then the ``LATM_*`` variable, then the default.

This is the only module of ``latm`` that reads ``os.environ``; everything else is handed a
``Settings`` (the CLI builds one from its options and passes it down, never writing the
environment). The sandbox's and the cache's own variables are read by their packages' one
reader each (``sandbox.settings``, ``toolcache.settings``), since those packages work alone.

| variable                          | what                                                  | default        |
|-----------------------------------|-------------------------------------------------------|----------------|
| LATM_MAKER, LATM_USER             | the strong and the cheap model's names                | none           |
| LATM_BASE_URL / OPENAI_BASE_URL   | an OpenAI-compatible endpoint                          | OpenAI's       |
| LATM_API_KEY / OPENAI_API_KEY     | its key (a local endpoint needs none)                  | none           |
| LATM_TIMEOUT                      | seconds per model request                              | 120 (900 local)|
| LATM_RESPONSE_CACHE               | off, readwrite or replay                               | off            |
| LATM_RESPONSE_CACHE_DIR           | where recorded replies live                            | user cache dir |
| LATM_PRICES                       | a JSON file of prices per 1M tokens                    | list prices    |
| LATM_DEBUG                        | the CLI prints tracebacks of internal errors           | off            |
| RAY_ADDRESS                       | the Ray cluster for ``--engine ray``                   | a local Ray    |
| LATM_RAY_UNSUPERVISED             | run a Ray job in this process, not a forked child      | off            |
| LATM_SANDBOX_*, LATM_CACHE_DIR    | see ``sandbox.settings`` and ``toolcache.settings``    |                |
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from latm.errors import ModelConfigError, UserError
from sandbox.settings import SandboxSettings

if TYPE_CHECKING:
    from sandbox import Limits, Sandbox

CacheMode = Literal["off", "readwrite", "replay"]


def _env(*names: str) -> str | None:
    """The first of the variables that is set and not empty."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _timeout(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ModelConfigError(f"LATM_TIMEOUT must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ModelConfigError(f"LATM_TIMEOUT must be positive, not {raw!r}")
    return value


class Settings(BaseModel):
    """Everything LATM is configured by. Build it with ``Settings.load(...)``: each field from its
    argument when given, else from its variable, else its default."""

    model_config = ConfigDict(frozen=True)

    maker: str | None = None
    user: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    timeout: float | None = None  # None: 120 s, or 900 s for a local endpoint
    response_cache: CacheMode = "off"
    response_cache_dir: Path | None = None
    prices: Path | None = None
    debug: bool = False
    ray_address: str | None = None
    ray_unsupervised: bool = False
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)

    @classmethod
    def load(
        cls,
        *,
        maker: str | None = None,
        user: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        response_cache: str | None = None,
        backend: str | None = None,
        ray_address: str | None = None,
    ) -> "Settings":
        mode = response_cache or _env("LATM_RESPONSE_CACHE") or "off"
        if mode not in ("off", "readwrite", "replay"):
            raise ModelConfigError(f"response cache mode must be off, readwrite or replay, not {mode!r}")
        cache_dir = _env("LATM_RESPONSE_CACHE_DIR")
        prices = _env("LATM_PRICES")
        chosen = backend or None
        if chosen is not None and chosen not in ("auto", "docker", "process"):
            raise UserError(f"unknown sandbox backend {chosen!r}: use auto, docker or process")
        return cls(
            maker=maker or _env("LATM_MAKER"),
            user=user or _env("LATM_USER"),
            base_url=base_url or _env("LATM_BASE_URL", "OPENAI_BASE_URL"),
            api_key=api_key or _env("LATM_API_KEY", "OPENAI_API_KEY"),
            timeout=_timeout(_env("LATM_TIMEOUT")),
            response_cache=mode,  # type: ignore[arg-type]
            response_cache_dir=Path(cache_dir) if cache_dir else None,
            prices=Path(prices) if prices else None,
            debug=bool(_env("LATM_DEBUG")),
            ray_address=ray_address or _env("RAY_ADDRESS"),
            ray_unsupervised=bool(_env("LATM_RAY_UNSUPERVISED")),
            sandbox=SandboxSettings.load(backend=chosen),
        )

    def open_sandbox(self, limits: "Limits | None" = None, *, pool_size: int | None = None) -> "Sandbox":
        """A sandbox with these settings' backend, image and pool size (``pool_size`` overrides)."""
        from sandbox import Sandbox

        backend = self.sandbox.backend
        return Sandbox.open(
            backend,  # type: ignore[arg-type]
            limits,
            image=self.sandbox.image,
            pool_size=pool_size or self.sandbox.pool_size,
        )

    def model_for(self, role: str) -> str | None:
        """The configured model name of a role (the dispatcher is the user's)."""
        return self.maker if role == "maker" else self.user
