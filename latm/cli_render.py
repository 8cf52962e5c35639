"""Shared output helpers of the CLI: JSON for scripts, rich for people."""

import json
from typing import Any

import click
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def fail(message: str, code: int = 1) -> None:
    """Prints an actionable error (never a traceback) and exits."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise SystemExit(code)
