"""A worker is one warm fork-server (a container or a local process); a pool keeps some ready.

Both backends speak the same frame protocol (see ``sandbox.worker``); they only differ in
how the byte stream is carried, which ``Worker`` subclasses hide behind ``_send`` and
``_recv_some``.
"""

import abc
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from sandbox.errors import SandboxError, WorkerCrashed
from sandbox.models import Limits
from sandbox.worker import FRAME_HEADER, MAX_FRAME


def json_text(obj: object) -> bytes:
    """The compact JSON text of ``obj``, as the frame protocol carries it."""
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


class Worker(abc.ABC):
    """One fork-server. Not thread-safe: the pool hands it to one caller at a time."""

    limits: Limits

    def __init__(self) -> None:
        self._buf = bytearray()
        self.alive = True
        self.batches = 0

    @abc.abstractmethod
    def _send(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def _recv_some(self, timeout: float) -> bytes:
        """Returns the next bytes of the worker's protocol stream; b'' at end of stream."""

    @abc.abstractmethod
    def _terminate(self) -> None: ...

    def _recv_exactly(self, n: int, deadline: float) -> bytes:
        while len(self._buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerCrashed("the sandbox worker stopped answering (deadline passed)", hung=True)
            chunk = self._recv_some(remaining)
            if not chunk:
                raise WorkerCrashed("the sandbox worker exited unexpectedly")
            self._buf += chunk
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def recv_frame(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        (size,) = FRAME_HEADER.unpack(self._recv_exactly(FRAME_HEADER.size, deadline))
        if size > MAX_FRAME:
            raise WorkerCrashed(f"the sandbox worker sent an oversized frame ({size} bytes)")
        frame = json.loads(self._recv_exactly(size, deadline).decode("utf-8"))
        if not isinstance(frame, dict):
            raise WorkerCrashed("the sandbox worker sent a malformed frame")
        return frame

    def child_limits(self) -> dict[str, int]:
        """The rlimits the worker applies to each child it forks."""
        mib = 1024 * 1024
        return {
            "memory_bytes": self.limits.memory_mb * mib,
            "file_bytes": self.limits.file_mb * mib,
            "open_files": self.limits.open_files,
        }

    def wait_ready(self, timeout: float) -> None:
        frame = self.recv_frame(timeout)
        if not frame.get("ready"):
            raise WorkerCrashed(f"the sandbox worker did not start properly: {frame!r}")

    def request(self, body: bytes, timeout: float) -> dict[str, Any]:
        """Sends one batch and waits for its reply; any failure marks the worker dead.

        ``body`` is a request object's JSON text (``json_text``), encoded once by the caller; the
        child limits, which may change from one request to the next, are spliced into it here."""
        data = body[:-1] + b',"limits":' + json_text(self.child_limits()) + b"}"
        try:
            self._send(FRAME_HEADER.pack(len(data)) + data)
            reply = self.recv_frame(timeout)
        except (OSError, ValueError, WorkerCrashed) as exc:
            self.close()
            if isinstance(exc, WorkerCrashed):
                raise
            raise WorkerCrashed(f"lost the sandbox worker: {exc}") from exc
        self.batches += 1
        return reply

    def close(self) -> None:
        if self.alive:
            self.alive = False
            try:
                self._terminate()
            except Exception:
                pass


class WorkerPool:
    """Keeps up to ``size`` warm workers; starts them lazily, replaces dead ones."""

    def __init__(self, start: Callable[[], Worker], size: int) -> None:
        if size < 1:
            raise SandboxError("pool size must be at least 1")
        self._start = start
        self._size = size
        self._idle: list[Worker] = []
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False

    @property
    def size(self) -> int:
        """How many workers it keeps at most (calls that can run at once)."""
        return self._size

    def acquire(self) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise SandboxError("the sandbox is closed")
                if self._idle:
                    return self._idle.pop()
                if self._count < self._size:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            return self._start()
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def release(self, worker: Worker, retire: bool = False) -> None:
        if retire or not worker.alive:
            worker.close()
        with self._cond:
            if worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                self._count -= 1
                worker.close()
            self._cond.notify()

    def warm(self, n: int = 1) -> None:
        """Starts up to ``n`` workers now, so the first calls do not pay the start-up."""
        workers = [self.acquire() for _ in range(min(n, self._size))]
        for w in workers:
            self.release(w)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for w in idle:
            w.close()
