"""``Sandbox``: the one entry point that runs untrusted code and returns ExecutionResults."""

import atexit
import threading
import warnings
import weakref
from collections.abc import Sequence
from typing import Any, Literal

from sandbox.errors import SandboxError, SandboxUnavailable, WorkerCrashed
from sandbox.models import BackendName, ExecutionResult, Limits
from sandbox.pool import Worker, WorkerPool, json_text
from sandbox.settings import SandboxSettings

BackendChoice = Literal["auto", "docker", "process"]
Call = tuple[Sequence[Any], dict[str, Any]]
START_GRACE_S = 10.0  # beyond the calls' own timeouts, before the worker counts as hung

_open_sandboxes: "weakref.WeakSet[Sandbox]" = weakref.WeakSet()


def _close_all() -> None:
    for sb in list(_open_sandboxes):
        sb.close()


atexit.register(_close_all)


PROCESS_WEAKNESS = (
    "which does not isolate the network, the host's /tmp, world-readable host files or host processes: "
    "generated code runs as an unprivileged local process with resource limits only. Untrusted code "
    "belongs in the Docker backend (`latm sandbox build-image`)."
)


class WeakerBackendWarning(UserWarning):
    """backend='auto' fell back to the process backend."""


def resolve_backend(backend: str | None, image: str) -> BackendName:
    """Explicit argument, then LATM_SANDBOX_BACKEND, then auto-detection."""
    from sandbox import docker_backend

    choice = backend or SandboxSettings.load().backend
    if choice not in ("auto", "docker", "process"):
        raise SandboxError(f"unknown sandbox backend {choice!r}: use auto, docker or process")
    if choice == "process":
        return "process"
    if choice == "docker":
        docker_backend.check_ready(image)
        return "docker"
    try:
        docker_backend.check_ready(image)
        return "docker"
    except SandboxUnavailable as exc:
        warnings.warn(
            f"Docker sandbox unavailable ({exc}). Falling back to the weaker process backend, {PROCESS_WEAKNESS}",
            WeakerBackendWarning,
            stacklevel=3,
        )
        return "process"


class Sandbox:
    """Runs untrusted Python in warm, isolated workers.

    Start lazily (nothing runs until the first call) and close with ``close()`` or a
    ``with`` block; normal interpreter exit closes what is still open.
    """

    def __init__(
        self,
        backend: BackendName,
        limits: Limits | None = None,
        *,
        image: str | None = None,
        pool_size: int | None = None,
    ) -> None:
        from sandbox.docker_backend import DEFAULT_IMAGE

        self.backend: BackendName = backend
        self.limits = limits or Limits()
        settings = SandboxSettings.load(image=image, pool_size=pool_size)
        self.image = settings.image or DEFAULT_IMAGE
        size = settings.pool_size
        self._pool = WorkerPool(self._start_worker, size)
        self.pool_size = size  # calls that can run at once
        self._lock = threading.Lock()
        self.closed = False
        _open_sandboxes.add(self)

    @classmethod
    def open(
        cls,
        backend: BackendChoice | None = None,
        limits: Limits | None = None,
        *,
        image: str | None = None,
        pool_size: int | None = None,
    ) -> "Sandbox":
        """Picks the backend (auto: Docker when an engine answers and the image exists)."""
        from sandbox.docker_backend import DEFAULT_IMAGE

        img = SandboxSettings.load(image=image).image or DEFAULT_IMAGE
        return cls(resolve_backend(backend, img), limits, image=img, pool_size=pool_size)

    def _start_worker(self) -> Worker:
        if self.backend == "docker":
            from sandbox.docker_backend import DockerWorker

            return DockerWorker(self.limits, self.image)
        from sandbox.process_backend import ProcessWorker

        return ProcessWorker(self.limits)

    def warm(self, n: int = 1) -> "Sandbox":
        self._pool.warm(n)
        return self

    # -- running code --------------------------------------------------------------------

    def run(self, code: str) -> ExecutionResult:
        """Runs ``code`` as a script (``__name__ == "__main__"``) and captures its output."""
        return self._batch(code, "run", None, [((), {})])[0]

    def call(
        self,
        code: str,
        entry: str,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Defines ``code``, then returns ``entry(*args, **kwargs)`` as JSON."""
        return self._batch(code, "call", entry, [(args, kwargs or {})])[0]

    def call_many(self, code: str, entry: str, calls: Sequence[Call]) -> list[ExecutionResult]:
        """Many calls of one function in one round trip; each call has its own timeout."""
        normalized = [(list(a), dict(k or {})) for a, k in calls]
        if not normalized:
            return []
        return self._batch(code, "call", entry, normalized)

    def _batch(
        self, code: str, mode: str, entry: str | None, calls: list[tuple[Any, dict[str, Any]]]
    ) -> list[ExecutionResult]:
        if self.closed:
            raise SandboxError("this sandbox is closed; open a new one with Sandbox.open()")
        if not isinstance(code, str):
            raise SandboxError(f"code must be a str, not {type(code).__name__}")
        req = {
            "op": "exec",
            "mode": mode,
            "code": code,
            "entry": entry,
            "calls": [[list(a), k] for a, k in calls],
            "timeout_s": self.limits.timeout_s,
            "max_output_bytes": self.limits.max_output_bytes,
            "max_value_bytes": self.limits.max_value_bytes,
        }
        try:
            body = json_text(req)  # encoded once: this is also the check that the arguments are JSON-able
        except (TypeError, ValueError) as exc:
            return [
                ExecutionResult.failure(self.backend, "BadArguments", f"arguments must be JSON-able: {exc}")
                for _ in calls
            ]
        budget = self.limits.timeout_s * len(calls) * 1.5 + START_GRACE_S
        try:
            try:
                reply = self._request(body, budget)
            except WorkerCrashed as first:
                if first.hung:
                    raise
                # A worker that died while idle (killed, pruned, OOM) is replaced: one retry.
                reply = self._request(body, budget)
        except WorkerCrashed as exc:
            return [ExecutionResult.failure(self.backend, "SandboxCrashed", str(exc)) for _ in calls]
        if reply.get("failure"):
            return [ExecutionResult.failure(self.backend, "SandboxCrashed", str(reply["failure"])) for _ in calls]
        return [ExecutionResult.from_frame(frame, self.backend) for frame in reply["results"]]

    def _request(self, body: bytes, budget: float) -> dict[str, Any]:
        worker = self._pool.acquire()
        retire = True
        try:
            reply = worker.request(body, budget)
            retire = bool(reply.get("failure"))
            return reply
        finally:
            self._pool.release(worker, retire=retire)

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        self._pool.close()
        _open_sandboxes.discard(self)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Sandbox(backend={self.backend!r}, limits={self.limits!r})"
