"""The Docker backend: warm, hardened containers, each running the fork-server worker.

Every container is created with no network, a read-only root filesystem, a small
size-capped tmpfs at /tmp, the unprivileged user 65534, all capabilities dropped,
no-new-privileges, memory (swap included), pids and CPU limits, no IPC namespace sharing
(and so no /dev/shm), an empty environment, no mounts at all (never the Docker socket),
and no log driver. The worker's source is passed on the command line, so the image only
needs a CPython and its standard library, and never goes stale against this library.

The worker runs as PID 1 of the container's PID namespace: after every batch it kills
every other process of the container (``kill(-1)`` reaches detached ones too) and empties
/tmp, and reports whether the container is provably clean; a container that is not clean,
or that stops answering, is retired and replaced.
"""

import select
import socket
import struct
import threading
from typing import Any

from sandbox.errors import SandboxUnavailable, WorkerCrashed
from sandbox.models import Limits
from sandbox.pool import Worker
from sandbox.process_backend import WORKER_ENV, WORKER_FLAGS, WORKER_SOURCE

LABEL = "latm.sandbox"


def _package_version() -> str:
    """The installed distribution's version (pyproject.toml is the one source)."""
    from importlib import metadata

    try:
        return metadata.version("latm")
    except metadata.PackageNotFoundError:
        return "0+unknown"


PACKAGE_VERSION = _package_version()
DEFAULT_IMAGE = f"latm-sandbox:{PACKAGE_VERSION}"
MEMORY_HEADROOM_MB = 64  # the worker itself, on top of what the code may use
_MUX_HEADER = struct.Struct(">BxxxI")

_client_lock = threading.Lock()
_client: Any = None


def docker_client() -> Any:
    """A shared docker SDK client; raises SandboxUnavailable naming the fix."""
    global _client
    with _client_lock:
        if _client is None:
            try:
                import docker

                client = docker.from_env(timeout=60)
                client.ping()
            except Exception as exc:
                raise SandboxUnavailable(
                    f"no Docker engine answers ({type(exc).__name__}: {exc}); start one "
                    "(e.g. `dockerd &`) or choose the weaker process backend (--backend process, "
                    "LATM_SANDBOX_BACKEND=process, or backend='process' in Python)"
                ) from exc
            _client = client
        return _client


def engine_available() -> bool:
    try:
        docker_client()
    except SandboxUnavailable:
        return False
    return True


def image_exists(image: str = DEFAULT_IMAGE) -> bool:
    import docker.errors

    try:
        docker_client().images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


def require_image(image: str) -> None:
    if not image_exists(image):
        raise SandboxUnavailable(
            f"the sandbox image {image} does not exist; build it with "
            "`latm sandbox build-image` (add --offline where no registry is reachable)"
        )


def container_options(limits: Limits, image: str) -> dict[str, Any]:
    """The hardened settings of every sandbox container (kept in one place to audit)."""
    memory = f"{limits.memory_mb + MEMORY_HEADROOM_MB}m"
    return {
        "image": image,
        "command": ["python3", *WORKER_FLAGS, "-c", WORKER_SOURCE, "--container"],
        # detach=False with stdin_open makes docker-py set StdinOnce: when we detach (or die),
        # the worker sees end of input and exits.
        "stdin_open": True,
        "tty": False,
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,nosuid,nodev,noexec,size={limits.tmpfs_mb}m,mode=1777"},
        "user": "65534:65534",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "mem_limit": memory,
        "memswap_limit": memory,
        "pids_limit": limits.pids,
        "nano_cpus": int(limits.cpus * 1e9),
        "ipc_mode": "none",
        "environment": {"PATH": "/usr/local/bin:/usr/bin:/bin", **WORKER_ENV},
        "working_dir": "/tmp",
        "labels": {LABEL: "1", f"{LABEL}.version": PACKAGE_VERSION},
        "log_config": {"type": "none", "config": {}},
        "detach": False,
    }


class DockerWorker(Worker):
    def __init__(self, limits: Limits, image: str) -> None:
        super().__init__()
        self.limits = limits
        client = docker_client()
        opts = container_options(limits, image)
        self.container = client.containers.create(**opts)
        try:
            attached = self.container.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            self._sock: socket.socket = getattr(attached, "_sock", attached)
            self._attached = attached
            self._sock.setblocking(True)
            self.container.start()
            self._raw = bytearray()
            self.wait_ready(60)
        except BaseException:
            self.close()
            raise

    @property
    def id(self) -> str:
        return str(self.container.id)

    def _send(self, data: bytes) -> None:
        self._sock.sendall(data)

    def _recv_some(self, timeout: float) -> bytes:
        """Demultiplexes Docker's attach stream; returns the worker's stdout bytes."""
        while True:
            while len(self._raw) >= _MUX_HEADER.size:
                kind, size = _MUX_HEADER.unpack(self._raw[: _MUX_HEADER.size])
                end = _MUX_HEADER.size + size
                if len(self._raw) < end:
                    break
                payload = bytes(self._raw[_MUX_HEADER.size : end])
                del self._raw[:end]
                if kind == 1 and payload:
                    return payload
            ready, _, _ = select.select([self._sock], [], [], timeout)
            if not ready:
                raise WorkerCrashed("the sandbox container stopped answering (deadline passed)", hung=True)
            chunk = self._sock.recv(1 << 20)
            if not chunk:
                return b""
            self._raw += chunk

    def _terminate(self) -> None:
        for closer in (self._sock_close, lambda: self.container.remove(force=True)):
            try:
                closer()
            except Exception:
                pass

    def _sock_close(self) -> None:
        sock = getattr(self, "_sock", None)
        if sock is not None:
            sock.close()


def prune(client: Any = None) -> int:
    """Removes every container LATM ever started (running or not); returns how many."""
    client = client or docker_client()
    removed = 0
    for c in client.containers.list(all=True, filters={"label": LABEL}):
        try:
            c.remove(force=True)
            removed += 1
        except Exception:
            pass
    return removed


def check_ready(image: str) -> None:
    docker_client()
    require_image(image)


__all__ = ["DEFAULT_IMAGE", "LABEL", "DockerWorker", "SandboxUnavailable", "prune"]
