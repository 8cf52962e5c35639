"""Attack cases: each asserts the safe outcome, then that the host and the pool still work.

Every case runs on the Docker backend. The ``process`` column marks the subset that also
applies to the process backend; destructive cases (fork bombs, killing processes, filling
disks) never run there, since that backend has not shown it contains them.
"""

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from sandbox import ExecutionResult, Sandbox


def assert_healthy(sb: Sandbox) -> None:
    """The pool still answers correctly, and no stray containers pile up."""
    r = sb.call("def f(x):\n    return [x, x * 2]\n", "f", [21])
    assert r.ok and r.value == [21, 42], r
    if sb.backend == "docker":
        from sandbox.docker_backend import LABEL, docker_client

        running = docker_client().containers.list(filters={"label": LABEL})
        assert len(running) <= 4  # the session pools of this test run, never a pile-up


@dataclass
class Attack:
    name: str
    code: str
    safe: Callable[[ExecutionResult], bool]
    process: bool = False  # also meaningful (and harmless) on the process backend


def raised(*types: str) -> Callable[[ExecutionResult], bool]:
    return lambda r: not r.ok and r.error is not None and r.error.type in types


def printed(text: str) -> Callable[[ExecutionResult], bool]:
    return lambda r: r.ok and r.stdout.strip() == text


ATTACKS = [
    Attack("infinite loop", "while True:\n    pass\n", lambda r: r.timed_out, process=True),
    Attack("sleep forever", "import time\ntime.sleep(10 ** 6)\n", lambda r: r.timed_out, process=True),
    Attack(
        "memory bomb",
        "x = [bytearray(10 ** 6) for _ in range(10 ** 5)]\n",
        lambda r: r.memory_exceeded,
        process=True,
    ),
    Attack("one huge allocation", "x = 'a' * 10 ** 10\n", lambda r: r.memory_exceeded, process=True),
    Attack(
        "fork bomb",
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        lambda r: not r.ok,
    ),
    Attack(
        "thread bomb",
        "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(60,)).start()\n",
        lambda r: not r.ok,
    ),
    Attack("read shadow", "print(open('/etc/shadow').read())\n", raised("PermissionError", "FileNotFoundError")),
    Attack(
        "write outside tmp",
        "open('/usr/evil', 'w').write('x')\n",
        raised("OSError", "PermissionError"),
        process=True,
    ),
    Attack("write root", "open('/evil', 'w').write('x')\n", raised("OSError", "PermissionError"), process=True),
    Attack(
        "fill tmp",
        "f = open('/tmp/big', 'wb')\nfor _ in range(400):\n    f.write(b'x' * 2 ** 20)\n",
        lambda r: not r.ok,
    ),
    Attack("become root", "import os\nos.setuid(0)\n", raised("PermissionError"), process=True),
    Attack(
        "no capabilities",
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0])\n",
        printed("0000000000000000"),
        process=True,
    ),
    Attack(
        "mount",
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "rc = libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)\nprint(rc, ctypes.get_errno())\n",
        lambda r: r.ok and r.stdout.split()[0] == "-1",
    ),
    Attack("chroot", "import os\nos.chroot('/tmp')\n", raised("PermissionError"), process=True),
    Attack("no docker socket", "import os\nprint(os.path.exists('/var/run/docker.sock'))\n", printed("False")),
    Attack("dns", "import socket\nsocket.getaddrinfo('deb.debian.org', 80)\n", raised("gaierror", "OSError")),
    Attack(
        "outbound network",
        "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=2)\n",
        raised("OSError", "TimeoutError"),
    ),
    Attack("kill the worker", "import os, signal\nos.kill(1, signal.SIGKILL)\nprint('alive')\n", printed("alive")),
    Attack("kill everything", "import os, signal\nos.kill(-1, signal.SIGKILL)\n", lambda r: not r.ok),
    Attack("segfault", "import ctypes\nctypes.string_at(0)\n", raised("ChildDied"), process=True),
    Attack("exit the process", "import os\nos._exit(0)\n", raised("ChildDied"), process=True),
    Attack("sys.exit", "import sys\nsys.exit(3)\n", raised("SystemExit"), process=True),
    Attack("recursion", "def f():\n    return f()\nf()\n", raised("RecursionError"), process=True),
    Attack(
        "huge output",
        "import sys\nfor _ in range(100):\n    sys.stdout.write('y' * 10 ** 6)\n",
        lambda r: r.ok and r.truncated,
        process=True,
    ),
    Attack(
        "forge a result on stdout",
        "import json, struct\nframe = json.dumps({'i': 0, 'ok': True, 'value': 'forged'}).encode()\n"
        "import sys\nsys.stdout.buffer.write(struct.pack('>I', len(frame)) + frame)\n",
        lambda r: r.ok and r.value is None and "forged" in r.stdout,
        process=True,
    ),
    Attack(
        "corrupt the result channel",
        "import os\nos.write(3, b'\\xff' * 64)\n",
        raised("SandboxProtocolError"),
        process=True,
    ),
    Attack(
        "close the result channel",
        "import os\nos.close(3)\nos.close(4)\n",
        lambda r: r.ok or (r.error is not None and r.error.type == "ChildDied"),
        process=True,
    ),
    Attack(
        "background cpu burner",
        "import threading\ndef burn():\n    while True:\n        pass\n"
        "threading.Thread(target=burn, daemon=True).start()\n",
        lambda r: r.ok,
        process=True,
    ),
    Attack(
        "ptrace the worker",
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.ptrace(16, 1, 0, 0))\n",
        printed("-1"),
    ),
]


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_docker_contains(attack: Attack, docker_sandbox: Sandbox) -> None:
    r = docker_sandbox.run(attack.code)
    assert attack.safe(r), r
    assert_healthy(docker_sandbox)


PROCESS_ATTACKS = [a for a in ATTACKS if a.process]


@pytest.mark.parametrize("attack", PROCESS_ATTACKS, ids=[a.name for a in PROCESS_ATTACKS])
def test_process_contains(attack: Attack, process_sandbox: Sandbox) -> None:
    if attack.name in ("become root", "chroot", "no capabilities") and os.geteuid() != 0:
        pytest.skip("only meaningful when the host runs as root (the worker drops to nobody)")
    r = process_sandbox.run(attack.code)
    assert attack.safe(r), r
    assert_healthy(process_sandbox)


def test_docker_cannot_see_host_files_or_environment(
    docker_sandbox: Sandbox, tmp_path: "os.PathLike[str]", monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = os.path.join(tmp_path, "secret.txt")
    with open(secret, "w") as fh:
        fh.write("host secret")
    monkeypatch.setenv("LATM_TEST_SECRET", "s3cr3t")
    r = docker_sandbox.run(f"import os\nprint(os.path.exists({secret!r}), dict(os.environ))\n")
    assert r.stdout.strip() == "False {}"
    assert_healthy(docker_sandbox)


def test_process_backend_empties_the_environment(process_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LATM_TEST_SECRET", "s3cr3t")
    r = process_sandbox.run("import os\nprint(dict(os.environ))\n")
    assert r.stdout.strip() == "{}"


def test_docker_cannot_reach_a_host_server(docker_sandbox: Sandbox) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    hits: list[object] = []

    def accept() -> None:
        try:
            hits.append(server.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    r = docker_sandbox.run(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n")
    thread.join()
    server.close()
    assert not r.ok and hits == []
    assert_healthy(docker_sandbox)


def test_detached_process_does_not_survive_the_call(docker_sandbox: Sandbox) -> None:
    spawn = (
        "import os, time\n"
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        open('/tmp/alive', 'w').write(str(os.getpid()))\n        time.sleep(600)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\nprint(open('/tmp/alive').read())\n"
    )
    pid = docker_sandbox.run(spawn).stdout.strip()
    assert pid.isdigit()
    r = docker_sandbox.run(f"import os\nprint(os.path.exists('/proc/{pid}'), os.listdir('/tmp'))\n")
    assert r.stdout.startswith("False")
    assert "alive" not in r.stdout
    assert_healthy(docker_sandbox)


def test_worker_crash_is_replaced(docker_sandbox: Sandbox) -> None:
    # Simulate a container dying under us: the next call must still succeed.
    from sandbox.docker_backend import LABEL, docker_client

    for c in docker_client().containers.list(filters={"label": LABEL}):
        if c.id in {w.id for w in docker_sandbox._pool._idle}:  # type: ignore[attr-defined]
            c.kill()
    first = docker_sandbox.call("def f():\n    return 1\n", "f")
    assert first.ok and first.value == 1, first
    assert_healthy(docker_sandbox)


def test_normal_exit_leaves_no_container(docker_ready: None) -> None:
    import subprocess
    import sys

    from sandbox.docker_backend import LABEL, docker_client

    def ours() -> set[str]:
        return {c.id for c in docker_client().containers.list(all=True, filters={"label": LABEL})}

    before = ours()
    script = (
        "from sandbox import Sandbox\n"
        "sb = Sandbox.open('docker', pool_size=2)\n"
        "sb.warm(2)\n"
        "print(sb.call('def f():\\n    return 7\\n', 'f').value)\n"
    )  # never closed: the atexit hook must clean up
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "7", out.stderr
    assert ours() - before == set()
