"""``sandbox-run``: run a Python file (or stdin) in the sandbox, like running the program.

Exit status: 0 ran fine, 1 the code raised, 2 usage error, 3 timeout, 4 memory limit,
5 policy violation, 6 sandbox unavailable.
"""

import json
import sys
import warnings
from typing import Any, cast

import click

from sandbox import policy
from sandbox.core import BackendChoice, Sandbox
from sandbox.errors import SandboxUnavailable
from sandbox.models import ExecutionResult, Limits

EXIT_OK, EXIT_RAISED, EXIT_USAGE, EXIT_TIMEOUT, EXIT_MEMORY, EXIT_POLICY, EXIT_UNAVAILABLE = range(7)


def exit_status(result: ExecutionResult) -> int:
    if result.ok:
        return EXIT_OK
    if result.timed_out:
        return EXIT_TIMEOUT
    if result.memory_exceeded:
        return EXIT_MEMORY
    if result.error and result.error.type == "SandboxCrashed":
        return EXIT_UNAVAILABLE
    return EXIT_RAISED


def _json_arg(text: str | None, name: str, kind: type) -> Any:
    if text is None:
        return kind()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"{name} is not valid JSON: {exc}") from exc
    if not isinstance(value, kind):
        raise click.UsageError(f"{name} must be a JSON {kind.__name__}")
    return value


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
@click.option(
    "--backend",
    type=click.Choice(["auto", "docker", "process"]),
    default=None,
    help="auto: Docker when an engine answers, else the (weaker) process backend.",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0.01),
    default=5.0,
    show_default=True,
    help="Seconds the code (each call) may run.",
)
@click.option(
    "--memory",
    "memory_mb",
    type=click.IntRange(min=32),
    default=256,
    show_default=True,
    help="Memory limit in MB.",
)
@click.option("--call", "entry", default=None, help="Define the code, then call this function.")
@click.option("--args", "args_json", default=None, help="JSON list of positional arguments.")
@click.option("--kwargs", "kwargs_json", default=None, help="JSON object of keyword arguments.")
@click.option(
    "--policy",
    "policy_name",
    type=click.Choice(["none", "tool"]),
    default="none",
    show_default=True,
    help="tool: reject code that breaks the static tool policy.",
)
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object (ExecutionResult).")
def main(
    file: Any,
    backend: str | None,
    timeout_s: float,
    memory_mb: int,
    entry: str | None,
    args_json: str | None,
    kwargs_json: str | None,
    policy_name: str,
    as_json: bool,
) -> None:
    """Run FILE (or - for stdin) in the LATM sandbox."""
    warnings.showwarning = lambda message, *_args, **_kw: click.echo(f"warning: {message}", err=True)
    if backend == "process":  # said once, on stderr, as every latm command that runs tools says it
        from sandbox.core import PROCESS_WEAKNESS

        click.echo(f"warning: --backend process: the process backend, {PROCESS_WEAKNESS}", err=True)
    try:
        code = file.read()
    except UnicodeDecodeError as exc:
        click.echo(f"error: {file.name} is not UTF-8 text ({exc.reason} at byte {exc.start})", err=True)
        sys.exit(EXIT_USAGE)
    args = _json_arg(args_json, "--args", list)
    kwargs = _json_arg(kwargs_json, "--kwargs", dict)
    if (args or kwargs) and not entry:
        raise click.UsageError("--args/--kwargs need --call NAME")
    if policy_name == "tool":
        violations = policy.check(code)
        if violations:
            if as_json:
                click.echo(json.dumps({"ok": False, "policy_violations": [v.model_dump() for v in violations]}))
            else:
                for v in violations:
                    click.echo(f"policy: {v}", err=True)
            sys.exit(EXIT_POLICY)
    try:
        chosen = cast(BackendChoice | None, backend)  # click.Choice checked it
        with Sandbox.open(chosen, Limits(timeout_s=timeout_s, memory_mb=memory_mb), pool_size=1) as sb:
            result = sb.call(code, entry, args, kwargs) if entry else sb.run(code)
    except SandboxUnavailable as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "unavailable": str(exc)}))
        else:
            click.echo(f"error: sandbox unavailable: {exc}", err=True)
        sys.exit(EXIT_UNAVAILABLE)
    if as_json:
        click.echo(result.model_dump_json())
    else:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        if result.truncated:
            click.echo("[output truncated at the sandbox's limit]", err=True)
        if result.ok and entry:
            click.echo(json.dumps(result.value))
        if result.error:
            click.echo(result.error.traceback or str(result.error), err=True, nl=False)
            if not result.error.traceback.endswith("\n"):
                click.echo("", err=True)
    sys.exit(exit_status(result))
