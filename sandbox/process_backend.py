"""The process backend: the fork-server worker as a local, unprivileged child process.

For machines without Docker. What it does: runs ``python -P -s`` (no user site, no script
folder on the path: isolated mode but for one variable) in a fresh private temporary directory
with an environment of one variable, ``PYTHONHASHSEED=0`` (``WORKER_ENV``: string hashing, and so
set order, is the same in every worker, so a tool answers alike wherever it runs); every call
runs in a forked child in its own process group, with rlimits on address space, CPU time,
processes, file size and open files, and is killed with its whole process group at its timeout.
When the host runs as root (where RLIMIT_NPROC does not apply) the worker first switches to an
unprivileged user (``nobody`` by default).

What it does NOT isolate, plainly: the code can read any file the unprivileged user can
read (world-readable files of the host: /etc, installed packages), can open network
connections, sees the host's process list, and a process that leaves its process group
(``setsid``) and its parent can outlive the call until its CPU limit ends it. Use the
Docker backend for untrusted code on a machine you care about.
"""

import functools
import os
import pwd
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sandbox.errors import SandboxUnavailable, WorkerCrashed
from sandbox.models import Limits
from sandbox.pool import Worker
from sandbox.settings import SandboxSettings

WORKER_SOURCE = (Path(__file__).parent / "worker.py").read_text(encoding="utf-8")
# ``-I`` would also ignore the environment, PYTHONHASHSEED included; -P -s is the rest of it, and the
# environment holds nothing else.
WORKER_FLAGS = ["-P", "-s"]
WORKER_ENV = {"PYTHONHASHSEED": "0"}
UNPRIVILEGED_USER = "nobody"


@functools.lru_cache(maxsize=8)
def _interpreter_for(uid: int | None) -> str:
    """An interpreter the worker's user can execute (root's pyenv is often 0700)."""
    override = SandboxSettings.load().python
    candidates = [override] if override else [sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"]
    for exe in candidates:
        if not exe or not os.path.exists(exe):
            continue
        try:
            probe = subprocess.run(
                [exe, "-I", "-c", "import resource, select, json"],
                user=uid,
                group=uid,
                extra_groups=[] if uid is not None else None,
                env={},
                cwd="/",
                capture_output=True,
                timeout=20,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return exe
    who = f"user {UNPRIVILEGED_USER!r}" if uid is not None else "this user"
    raise SandboxUnavailable(
        f"no Python interpreter that {who} can run was found (tried {candidates}); "
        "set LATM_SANDBOX_PYTHON to one, e.g. /usr/bin/python3"
    )


def _count_processes(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


class ProcessWorker(Worker):
    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits
        uid = None
        if os.geteuid() == 0:
            uid = pwd.getpwnam(UNPRIVILEGED_USER).pw_uid
        exe = _interpreter_for(uid)
        self.scratch = tempfile.mkdtemp(prefix="latm-sandbox-")
        if uid is not None:
            os.chown(self.scratch, uid, uid)
        self.uid = uid if uid is not None else os.getuid()
        self.proc = subprocess.Popen(
            [exe, *WORKER_FLAGS, "-c", WORKER_SOURCE, "--scratch", self.scratch],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(WORKER_ENV),
            cwd=self.scratch,
            user=uid,
            group=uid,
            extra_groups=[] if uid is not None else None,
            start_new_session=True,
            bufsize=0,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin
        self._out_fd = self.proc.stdout.fileno()
        self.wait_ready(30)

    def child_limits(self) -> dict[str, int]:
        # RLIMIT_NPROC counts every process of the uid, so leave room for those running.
        return super().child_limits() | {"processes": _count_processes(self.uid) + self.limits.pids}

    def _send(self, data: bytes) -> None:
        self._in.write(data)
        self._in.flush()

    def _recv_some(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self._out_fd], [], [], timeout)
        if not ready:
            if self.proc.poll() is not None:
                return b""
            raise WorkerCrashed("the sandbox worker stopped answering (deadline passed)", hung=True)
        return os.read(self._out_fd, 1 << 20)

    def _terminate(self) -> None:
        try:
            os.killpg(self.proc.pid, 9)
        except OSError:
            pass
        self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                stream.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
