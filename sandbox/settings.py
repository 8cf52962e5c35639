"""The sandbox's settings: explicit argument, then ``LATM_SANDBOX_*``, then default.

The one module of the ``sandbox`` package that reads the environment (the package is usable
alone, so it reads its own variables; ``latm.settings`` reads them through here).

| variable              | what                                              | default          |
|-----------------------|---------------------------------------------------|------------------|
| LATM_SANDBOX_BACKEND  | auto, docker or process                           | auto             |
| LATM_SANDBOX_IMAGE    | the Docker image                                  | latm-sandbox:VER |
| LATM_SANDBOX_POOL     | warm workers per sandbox                          | 2                |
| LATM_SANDBOX_PYTHON   | the process backend's interpreter                 | found            |
| LATM_DEBIAN_SUITE     | ``build-image``: the Debian suite                 | bookworm         |
| LATM_DEBIAN_MIRROR    | ``build-image``: the Debian mirror                | deb.debian.org   |
"""

import os

from pydantic import BaseModel

from sandbox.errors import SandboxError


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


class SandboxSettings(BaseModel):
    backend: str = "auto"
    image: str | None = None  # None: docker_backend.DEFAULT_IMAGE
    pool_size: int = 2
    python: str | None = None
    debian_suite: str | None = None
    debian_mirror: str | None = None

    @classmethod
    def load(
        cls,
        backend: str | None = None,
        image: str | None = None,
        pool_size: int | None = None,
    ) -> "SandboxSettings":
        """Each field from its argument, else its variable, else its default."""
        pool = pool_size or _env("LATM_SANDBOX_POOL") or 0
        try:
            pool = int(pool)
        except ValueError:
            raise SandboxError(f"LATM_SANDBOX_POOL must be a whole number, not {pool!r}") from None
        return cls(
            backend=backend or _env("LATM_SANDBOX_BACKEND") or "auto",
            image=image or _env("LATM_SANDBOX_IMAGE"),
            pool_size=pool or 2,
            python=_env("LATM_SANDBOX_PYTHON"),
            debian_suite=_env("LATM_DEBIAN_SUITE"),
            debian_mirror=_env("LATM_DEBIAN_MIRROR"),
        )
