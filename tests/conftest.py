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


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A process sandbox with the default limits (not process_sandbox's tighter SECURITY_LIMITS), for the
    maker, search, judge and tool-user tests. Module scope, as each of those modules had with its own
    copy: the maker's tests time out and kill its worker, which stays within the module."""
    with Sandbox.open("process", pool_size=1) as s:
        yield s


@pytest.fixture(params=["process", "docker"])
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """Both backends: every behaviour test runs on each."""
    return request.getfixturevalue(f"{request.param}_sandbox")


@pytest.fixture(scope="session")
def demo_tools_dir(tmp_path_factory: pytest.TempPathFactory, process_sandbox: Sandbox) -> Path:
    """A cache directory holding a tool for every task, made by the offline demo maker."""
    from latm.maker import ToolMaker
    from latm.models.demo import demo_maker
    from tasks import TASKS
    from toolcache import ToolCache

    directory = tmp_path_factory.mktemp("demo-tools")
    with ToolCache(directory) as cache:
        for name, task in TASKS.items():
            ex = task.generate(6, seed=1)
            result = ToolMaker(demo_maker(), process_sandbox, cache).make(name, ex[:3], ex[3:])
            assert result.tool is not None, result.reason
    return directory


@pytest.fixture
def demo_cache(demo_tools_dir: Path, tmp_path: Path) -> Iterator["ToolCache"]:  # noqa: F821
    """A private copy of the demo tools, so a test may count uses or remove tools."""
    import shutil

    from toolcache import ToolCache

    target = tmp_path / "tools"
    shutil.copytree(demo_tools_dir, target)
    with ToolCache(target) as cache:
        yield cache


@pytest.fixture
def process_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """LATM_SANDBOX_BACKEND=process: what the CLI opens runs without Docker (autouse in tests/cli/,
    asked for by tests/eval/)."""
    monkeypatch.setenv("LATM_SANDBOX_BACKEND", "process")
