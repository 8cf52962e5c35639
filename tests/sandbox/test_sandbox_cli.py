"""sandbox-run and `latm sandbox` through click's CliRunner, as a user types them."""

import json

import pytest
from click.testing import CliRunner

from latm.cli import main as latm_main
from sandbox.cli import main as sandbox_run


def run(args: list[str], code: str) -> "CliRunner.invoke":
    return CliRunner().invoke(sandbox_run, ["--backend", "process", *args], input=code)


def test_plain_run_passes_output_through() -> None:
    r = run(["-"], "print('hello')\n")
    assert r.exit_code == 0 and r.stdout == "hello\n"


def test_json_prints_exactly_one_result_object() -> None:
    r = run(
        ["--json", "--call", "add", "--args", "[2, 3]", "--kwargs", '{"c": 4}'],
        "def add(a, b, c=0):\n    return a + b + c\n",
    )
    data = json.loads(r.stdout)
    assert r.exit_code == 0 and data["value"] == 9 and data["backend"] == "process"
    assert set(data) >= {
        "ok",
        "value",
        "stdout",
        "stderr",
        "error",
        "timed_out",
        "memory_exceeded",
        "truncated",
        "duration_s",
        "backend",
    }


@pytest.mark.parametrize(
    ("args", "code", "status"),
    [
        ([], "raise ValueError('x')\n", 1),
        (["--timeout", "0.3"], "while True:\n    pass\n", 3),
        (["--memory", "64"], "x = bytearray(10 ** 9)\n", 4),
        (["--policy", "tool"], "import os\n", 5),
        (["--args", "[1"], "pass\n", 2),
        (["--args", "[1]"], "pass\n", 2),
    ],
)
def test_exit_status_tells_what_happened(args: list[str], code: str, status: int) -> None:
    assert run(args, code).exit_code == status


def test_policy_violation_names_line() -> None:
    r = run(["--policy", "tool"], "x = 1\nimport subprocess\n")
    assert "line 2" in r.output and "subprocess" in r.output


def test_unavailable_docker_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LATM_SANDBOX_IMAGE", "latm-sandbox:missing")
    r = CliRunner().invoke(sandbox_run, ["--backend", "docker", "-"], input="pass\n")
    assert r.exit_code == 6
    assert "build-image" in r.output or "dockerd" in r.output


def test_latm_sandbox_status_json() -> None:
    r = CliRunner().invoke(latm_main, ["sandbox", "status", "--json"])
    data = json.loads(r.stdout)
    assert r.exit_code == 0 and set(data) >= {"engine", "image_exists", "backend"}


def test_latm_sandbox_prune_leaves_no_containers(docker_ready: None) -> None:
    from sandbox import Sandbox
    from sandbox.docker_backend import LABEL, docker_client

    sb = Sandbox.open("docker").warm(1)
    r = CliRunner().invoke(latm_main, ["sandbox", "prune", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["removed"] >= 1
    sb.close()
    leftovers = docker_client().containers.list(all=True, filters={"label": LABEL})
    # only the session-scoped pools of other tests may remain
    assert all(c.status == "running" for c in leftovers)
