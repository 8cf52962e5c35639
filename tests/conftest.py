"""Suite-wide fixtures: no real model calls, a private cache dir, real sandboxes.

Docker tests need an engine and the sandbox image. Outside CI they are skipped, loudly;
with CI=true (or LATM_REQUIRE_DOCKER=1) a missing engine is a failure, never a skip.
"""

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Limits, Sandbox

SHARED = Path(__file__).resolve().parents[2] / "shared"
BBH_DEV = SHARED / "bbh-dev"


def docker_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("LATM_REQUIRE_DOCKER") == "1"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own cache dir and no ambient model configuration."""
    monkeypatch.setenv("LATM_CACHE_DIR", str(tmp_path_factory.mktemp("latm-cache")))
    for var in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "LATM_MAKER",
        "LATM_USER",
        "LATM_BASE_URL",
        "LATM_API_KEY",
        "LATM_SANDBOX_BACKEND",
        "LATM_RESPONSE_CACHE",
    ):
        monkeypatch.delenv(var, raising=False)


def _docker_problem() -> str | None:
    from sandbox import SandboxUnavailable, docker_backend

    try:
        docker_backend.check_ready(docker_backend.DEFAULT_IMAGE)
    except SandboxUnavailable as exc:
        return str(exc)
    return None


@pytest.fixture(scope="session")
def docker_ready() -> None:
    problem = _docker_problem()
    if problem is None:
        return
    if docker_required():
        pytest.fail(f"Docker is required here (CI) but unavailable: {problem}")
    warnings.warn(f"SKIPPING DOCKER TESTS: {problem}", stacklevel=1)
    pytest.skip(f"DOCKER TESTS SKIPPED (not CI): {problem}")


SECURITY_LIMITS = Limits(timeout_s=3, memory_mb=128, pids=32, max_output_bytes=200_000)


@pytest.fixture(scope="session")
def docker_sandbox(docker_ready: None) -> Iterator[Sandbox]:
    with Sandbox.open("docker", SECURITY_LIMITS, pool_size=1) as sb:
        yield sb


@pytest.fixture(scope="session")
def process_sandbox() -> Iterator[Sandbox]:
    with Sandbox.open("process", SECURITY_LIMITS, pool_size=1) as sb:
        yield sb


@pytest.fixture(params=["process", "docker"])
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """Both backends: every behaviour test runs on each."""
    return request.getfixturevalue(f"{request.param}_sandbox")
