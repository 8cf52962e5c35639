"""The fork-server worker that runs untrusted code, one fresh forked child per batch.

This file is executed *inside* the sandbox (a Docker container or an unprivileged local
process) as ``python -P -s -c <this source>`` (PYTHONHASHSEED=0 its only variable), so it must
only use the standard library and must not import anything of ours. The host imports it too, for the frame helpers.

Protocol: length-prefixed JSON frames (4-byte big-endian length, UTF-8 JSON). The host
writes requests on the worker's stdin and reads replies on its stdout. The worker moves
its protocol streams to private descriptors at start-up and points fd 0/1/2 at /dev/null,
so nothing the user's code prints can ever be read as protocol: a child's stdout and
stderr are separate pipes whose bytes travel as plain strings inside a reply.

A request runs a *batch*: ``code`` is executed once in a fresh child, then each call of
``calls`` runs in that child in order. Each call gets its own deadline, enforced by the
worker (the child is killed, the call is marked timed out, and a new child carries on
with the rest of the batch). After every batch (and after its reply, so off the caller's
clock) the worker removes every process and file the batch left behind; if it cannot prove
the container is clean it exits, and the host replaces it.
"""

import errno
import fcntl
import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import termios
import time
import traceback

FRAME_HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024
USER_FILENAME = "<tool>"
F_SETPIPE_SZ = 1031  # fcntl constants (Linux), named in fcntl only since Python 3.10
F_GETPIPE_SZ = 1032
EXIT_MEMORY = 86
# Modules a generated tool typically imports; importing them here makes them free in every child.
WARM_MODULES = [
    "math",
    "itertools",
    "functools",
    "collections",
    "re",
    "datetime",
    "fractions",
    "decimal",
    "heapq",
    "bisect",
    "string",
    "statistics",
    "operator",
    "json",
    "dataclasses",
    "typing",
    "copy",
    "enum",
    "random",
    "linecache",
    "io",
]


def encode_frame(obj: object) -> bytes:
    data = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    return FRAME_HEADER.pack(len(data)) + data


def read_exactly(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> object:
    (size,) = FRAME_HEADER.unpack(read_exactly(fd, FRAME_HEADER.size))
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes exceeds {MAX_FRAME}")
    return json.loads(read_exactly(fd, size).decode("utf-8"))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# ----------------------------------------------------------------------------------------
# The child: executes the user's code and reports one result frame per call.


def _error_info(exc: BaseException) -> dict:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == USER_FILENAME]
    lineno = frames[-1].lineno if frames else None
    if isinstance(exc, SyntaxError) and exc.filename == USER_FILENAME:
        lineno = exc.lineno
    text = "".join(traceback.format_list(frames))
    if text:
        text = "Traceback (most recent call last):\n" + text
    text += "".join(traceback.format_exception_only(type(exc), exc))
    message = str(exc)
    if isinstance(exc, MemoryError) and not message:
        message = "the code exceeded the memory limit"
    return {"type": type(exc).__name__, "message": message, "traceback": text, "lineno": lineno}


def _report(res_fd: int, frame: dict, max_value_bytes: int, ack_fd: int) -> None:
    """Sends one result, then waits until the worker has collected this call's output.

    The wait (only when output is still unread) is what makes per-call stdout exact:
    nothing of the next call can be in the pipes while the worker attributes them.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if unread_bytes(1) or unread_bytes(2):
        frame["wait"] = True
    try:
        data = encode_frame(frame)
    except (TypeError, ValueError) as exc:
        frame = {
            "i": frame["i"],
            "wait": frame.get("wait", False),
            "ok": False,
            "error": {
                "type": "NotSerializable",
                "message": f"the return value is not JSON-serializable: {exc}",
                "traceback": "",
                "lineno": None,
            },
        }
        data = encode_frame(frame)
    if len(data) > max_value_bytes:
        frame = {
            "i": frame["i"],
            "wait": frame.get("wait", False),
            "ok": False,
            "error": {
                "type": "ValueTooLarge",
                "message": f"the return value takes {len(data)} bytes as JSON (limit {max_value_bytes})",
                "traceback": "",
                "lineno": None,
            },
        }
        data = encode_frame(frame)
    write_all(res_fd, data)
    if frame.get("wait") and not os.read(ack_fd, 1):
        os._exit(0)


def _apply_limits(limits: dict) -> None:
    def cap(which: int, value: int) -> None:
        try:
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    cap(resource.RLIMIT_CORE, 0)
    if limits.get("memory_bytes"):
        cap(resource.RLIMIT_AS, limits["memory_bytes"])
    if limits.get("cpu_seconds"):
        cap(resource.RLIMIT_CPU, limits["cpu_seconds"])
    if limits.get("file_bytes"):
        cap(resource.RLIMIT_FSIZE, limits["file_bytes"])
    if limits.get("open_files"):
        cap(resource.RLIMIT_NOFILE, limits["open_files"])
    if limits.get("processes"):
        cap(resource.RLIMIT_NPROC, limits["processes"])


def child_main(req: dict, first: int, res_fd: int, ack_fd: int) -> None:
    """Runs in the forked child; never returns."""
    status = 0
    try:
        limits = dict(req.get("limits", {}))
        # Backstop behind the worker's own per-call deadline: CPU seconds for the calls left.
        calls_left = len(req["calls"]) - first
        limits["cpu_seconds"] = int(float(req["timeout_s"]) * calls_left) + 2
        _apply_limits(limits)
        max_value = req.get("max_value_bytes", 8 * 1024 * 1024)
        mode = req["mode"]
        namespace = {"__name__": "__main__" if mode == "run" else "__sandbox__", "__builtins__": __builtins__}
        code_text = req["code"]
        import linecache

        linecache.cache[USER_FILENAME] = (len(code_text), None, code_text.splitlines(True), USER_FILENAME)
        calls = req["calls"]
        try:
            exec(compile(code_text, USER_FILENAME, "exec"), namespace)
            setup_error = None
        except SystemExit as exc:
            setup_error = None if (mode == "run" and exc.code in (None, 0)) else _error_info(exc)
        except MemoryError as exc:
            setup_error = dict(_error_info(exc), memory=True)
        except BaseException as exc:
            setup_error = _error_info(exc)
        if mode == "run":
            frame: dict[str, object] = {"i": first, "ok": setup_error is None, "value": None}
            if setup_error:
                frame["error"] = setup_error
            _report(res_fd, frame, max_value, ack_fd)
            os._exit(0)
        entry = req["entry"]
        func = namespace.get(entry)
        if setup_error is None and not callable(func):
            names = sorted(k for k, v in namespace.items() if callable(v) and not k.startswith("_"))
            setup_error = {
                "type": "EntryNotFound",
                "message": f"the code defines no function named {entry!r}"
                + (f" (it defines: {', '.join(names)})" if names else ""),
                "traceback": "",
                "lineno": None,
            }
        for i in range(first, len(calls)):
            if setup_error is not None:
                _report(res_fd, {"i": i, "ok": False, "error": setup_error}, max_value, ack_fd)
                continue
            args, kwargs = calls[i]
            try:
                value = func(*args, **kwargs)
                frame = {"i": i, "ok": True, "value": value}
            except MemoryError as exc:
                frame = {"i": i, "ok": False, "error": dict(_error_info(exc), memory=True)}
            except BaseException as exc:
                frame = {"i": i, "ok": False, "error": _error_info(exc)}
            _report(res_fd, frame, max_value, ack_fd)
    except MemoryError:
        status = EXIT_MEMORY
    except BaseException:
        status = 70
    os._exit(status)


# ----------------------------------------------------------------------------------------
# The worker: forks children, watches their pipes and deadlines, cleans up.


def unread_bytes(fd: int) -> int:
    """Bytes written to a pipe and not yet read (FIONREAD works from either end)."""
    try:
        return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    except OSError:
        return 0


class Collector:
    """Collects one child's result frames and its capped stdout/stderr.

    Attribution of output to calls is exact without a round trip per call: the child sends
    each result only after flushing, and waits for an acknowledgement whenever its output
    pipes still hold unread bytes; the worker reads the output pipes only while the child
    is waiting or when a pipe is filling up (a call printing a lot), never in between.
    """

    def __init__(self, out_fd: int, err_fd: int, res_fd: int, cap: int) -> None:
        self.out = {out_fd: bytearray(), err_fd: bytearray()}
        self.res_fd = res_fd
        self.cap = cap
        self.truncated = False
        self.res_buf = bytearray()
        self.res_open = True
        self.relieve_at = 1 << 20
        for fd in self.out:
            try:
                fcntl.fcntl(fd, F_SETPIPE_SZ, 1 << 20)
            except OSError:
                pass
            try:
                self.relieve_at = min(self.relieve_at, fcntl.fcntl(fd, F_GETPIPE_SZ) // 2)
            except OSError:
                self.relieve_at = min(self.relieve_at, 32768)

    def _read_output(self, fd: int) -> None:
        buf = self.out[fd]
        while (n := unread_bytes(fd)) > 0:
            data = os.read(fd, min(n, 1 << 20))
            if not data:
                return
            room = self.cap - len(buf)
            if len(data) > room:
                self.truncated = True
                data = data[: max(room, 0)]
            buf += data

    def drain(self) -> None:
        for fd in self.out:
            self._read_output(fd)

    def relieve(self) -> None:
        """Empties a pipe that is filling up, so a child printing a lot never blocks."""
        for fd in self.out:
            if unread_bytes(fd) >= self.relieve_at:
                self._read_output(fd)

    def read_results(self, timeout: float) -> bool:
        """Waits up to timeout for result bytes; returns False once the channel closed."""
        if not self.res_open:
            return False
        ready, _, _ = select.select([self.res_fd], [], [], max(timeout, 0))
        if ready:
            data = os.read(self.res_fd, 1 << 20)
            if data:
                self.res_buf += data
            else:
                self.res_open = False
        return self.res_open

    def next_result(self) -> dict | None:
        if len(self.res_buf) < FRAME_HEADER.size:
            return None
        (size,) = FRAME_HEADER.unpack(self.res_buf[: FRAME_HEADER.size])
        if size > MAX_FRAME:
            raise ValueError("oversized result frame")
        end = FRAME_HEADER.size + size
        if len(self.res_buf) < end:
            return None
        frame = json.loads(bytes(self.res_buf[FRAME_HEADER.size : end]).decode("utf-8"))
        del self.res_buf[:end]
        if not isinstance(frame, dict) or "i" not in frame:
            raise ValueError("malformed result frame")
        return frame

    def take_output(self) -> dict:
        (out_fd, err_fd) = self.out
        result = {
            "stdout": self.out[out_fd].decode("utf-8", errors="replace"),
            "stderr": self.out[err_fd].decode("utf-8", errors="replace"),
            "truncated": self.truncated,
        }
        self.out = {out_fd: bytearray(), err_fd: bytearray()}
        self.truncated = False
        return result

    def close(self) -> None:
        for fd in (*self.out, self.res_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


def _wait_status(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
        return status
    except ChildProcessError:
        return 0


def _wait_exit(pid: int, timeout: float) -> int | None:
    """The child's wait status if it exits within timeout, else None (it is still running)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return 0
        if done:
            return status
        if time.monotonic() > deadline:
            return None
        time.sleep(0.002)


def _describe_death(status: int) -> tuple[str, bool]:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGKILL:
            return "the code was killed (SIGKILL), most likely for exceeding the memory limit", True
        if sig == signal.SIGXCPU:
            return "the code exceeded its CPU-time limit (SIGXCPU)", False
        if sig == signal.SIGXFSZ:
            return "the code wrote a file larger than the file-size limit (SIGXFSZ)", False
        return f"the code died from signal {name}", False
    code = os.WEXITSTATUS(status)
    if code == EXIT_MEMORY:
        return "the code exceeded the memory limit", True
    return f"the code ended the process (exit status {code}) before returning", False


def _error(type_: str, message: str) -> dict:
    return {"type": type_, "message": message, "traceback": "", "lineno": None}


def run_batch(req: dict, workdir: str, finished: list[int]) -> list[dict]:
    """Runs one batch; appends the pids of children killed but not yet reaped to finished."""
    calls = req["calls"] if req["mode"] == "call" else [[[], {}]]
    req = dict(req, calls=calls)
    timeout = float(req["timeout_s"])
    results: list[dict | None] = [None] * len(calls)
    first = 0
    while first < len(calls):
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        res_r, res_w = os.pipe()
        ack_r, ack_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                os.chdir(workdir)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(out_w, 1)
                os.dup2(err_w, 2)
                # fds 3 and 4 hold the worker's protocol streams, so res_w and ack_r are higher.
                os.dup2(res_w, 3)
                os.dup2(ack_r, 4)
                os.closerange(5, 65536)
                child_main(req, first, 3, 4)
            finally:
                os._exit(70)
        for fd in (out_w, err_w, res_w, ack_r):
            os.close(fd)
        col = Collector(out_r, err_r, res_r, int(req["max_output_bytes"]))
        started = time.monotonic()
        current = first
        alive = True
        protocol_error = None
        while current < len(calls) and alive:
            remaining = started + timeout - time.monotonic()
            if remaining <= 0:
                break
            alive = col.read_results(min(remaining, 0.005))
            try:
                while (frame := col.next_result()) is not None:
                    if frame["i"] != current:
                        raise ValueError("result frame out of order")
                    waiting = frame.pop("wait", False)
                    if waiting:
                        col.drain()
                    frame.update(col.take_output(), duration_s=time.monotonic() - started)
                    results[current] = frame
                    current += 1
                    started = time.monotonic()
                    if waiting:
                        write_all(ack_w, b"k")
            except (ValueError, UnicodeDecodeError, OSError) as exc:
                protocol_error = str(exc)
                break
            col.relieve()
        os.close(ack_w)
        if current >= len(calls):
            _kill_group(pid)
            col.close()
            finished.append(pid)  # reaped after the reply is sent, off the caller's clock
            break
        # The current call did not finish: it hung, died, or broke the result channel.
        timed_out = alive and protocol_error is None
        # When the result channel closed, let the child end on its own so its real cause
        # of death (signal, exit status) is reported rather than our own kill.
        exited = None if alive else _wait_exit(pid, 0.5)
        _kill_group(pid)
        status = exited if exited is not None else _wait_status(pid)
        col.drain()
        col.close()
        result = dict(col.take_output(), i=current, ok=False, duration_s=time.monotonic() - started)
        if protocol_error is not None:
            result["error"] = _error("SandboxProtocolError", f"the code corrupted the result channel: {protocol_error}")
        elif timed_out:
            result["timed_out"] = True
            result["error"] = _error("Timeout", f"the code ran longer than {timeout:g} s (limit)")
        elif exited is None:
            result["error"] = _error("ChildDied", "the code closed the result channel and kept running")
        else:
            message, memory = _describe_death(status)
            result["memory_exceeded"] = memory
            result["error"] = _error("MemoryLimit" if memory else "ChildDied", message)
        results[current] = result
        first = current + 1
    for r in results:
        assert r is not None
        err = r.get("error")
        if err and err.pop("memory", False):
            r["memory_exceeded"] = True
    return results  # type: ignore[return-value]


def _reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _other_pids() -> list[int]:
    me = os.getpid()
    try:
        return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me]
    except OSError:
        return []


def clean_container(scratch_dirs: list[str], children: list[int]) -> bool:
    """Kills every other process in the container and empties the scratch dirs.

    Runs as PID 1 of the container's PID namespace, where ``kill(-1)`` reaches every other
    process however it detached itself (setsid, double fork). Returns True when the
    container is provably back to its pristine state.
    """
    for attempt in range(200):
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise
        if attempt == 0:
            for pid in children:
                _wait_status(pid)
        _reap_all()
        if not _other_pids():
            break
        time.sleep(0.001)
    clean = not _other_pids()
    for d in scratch_dirs:
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            path = os.path.join(d, name)
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            except OSError:
                clean = False
        if os.listdir(d):
            clean = False
    return clean


def make_undumpable() -> bool:
    """PR_SET_DUMPABLE=0: the code (same uid) cannot ptrace us or read /proc/<worker>/mem."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(4, 0, 0, 0, 0) == 0  # PR_SET_DUMPABLE
    except (ImportError, OSError, AttributeError):
        return False


def main() -> None:
    container = "--container" in sys.argv
    os.umask(0o077)
    make_undumpable()
    proto_in = os.dup(0)
    proto_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.environ.clear()
    for name in WARM_MODULES:
        try:
            __import__(name)
        except ImportError:
            pass
    scratch = sys.argv[sys.argv.index("--scratch") + 1] if "--scratch" in sys.argv else "/tmp"
    write_all(proto_out, encode_frame({"ready": True, "python": sys.version.split()[0], "pid": os.getpid()}))
    batch_no = 0
    while True:
        try:
            req = read_frame(proto_in)
        except EOFError:
            return
        if not isinstance(req, dict):
            return
        if req.get("op") == "ping":
            write_all(proto_out, encode_frame({"pong": True}))
            continue
        batch_no += 1
        workdir = os.path.join(scratch, f"run-{batch_no}")
        os.makedirs(workdir, mode=0o700, exist_ok=True)
        finished: list[int] = []
        try:
            results = run_batch(req, workdir, finished)
            failure = None
        except Exception as exc:
            results, failure = [], f"{type(exc).__name__}: {exc}"
        write_all(proto_out, encode_frame({"results": results, "failure": failure}))
        # Clean up after replying, so the caller does not wait for it. A worker that cannot
        # prove it is clean exits: the host sees it gone and retries on a fresh one.
        if container and os.getpid() == 1:
            clean = clean_container([scratch, "/dev/shm"], finished)
        else:
            for pid in finished:
                _wait_status(pid)
            shutil.rmtree(workdir, ignore_errors=True)
            clean = not os.path.exists(workdir)
        if not clean or failure is not None:
            return


if __name__ == "__main__":
    main()
