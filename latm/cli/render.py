"""Shared output helpers of the CLI: JSON for scripts, rich for people."""

import json
import sys
from typing import Any

import click
from rich.console import Console

from toolcache import Tool

# Piped output (scripts, CI logs) gets wide tables instead of rich's 80-column default,
# so names and ids are never cut; a terminal uses its own width.
_PIPE_WIDTH = 180
# Markup and emoji codes are off: answers, code and messages print verbatim ("[bold]", "[/]",
# ":smile:" in an answer are the answer). Style goes through ``style=``, never through the text.
console = Console(width=None if sys.stdout.isatty() else _PIPE_WIDTH, markup=False, emoji=False)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else _PIPE_WIDTH, markup=False, emoji=False)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def fail(message: str, code: int = 1) -> None:
    """Prints an actionable error (never a traceback) and exits."""
    err_console.print("error: " + message, markup=False, highlight=False)
    raise SystemExit(code)


def held_out_text(tool: Tool) -> str:
    """How far a tool is trusted, in words: its verdict on questions its maker never saw."""
    held = tool.verification.held_out
    if tool.verification.trust == "imported":
        return "imported, not verified here: answers no question until `latm cache verify` passes"
    if held is None:
        return "verified on the shown examples only (routed only with --allow-shown-only)"
    seed = f", seed {held.seed}" if held.seed is not None else ""
    trusted = " - trusted as imported (--trust), not verified here" if tool.verification.trusted else ""
    return f"{held.passed}/{held.total} right on {held.source} questions (judged by {held.judged_by}{seed}){trusted}"


def show_attempt(a: Any) -> None:
    """One line per attempt, then the whole feedback the model was sent (indented), verbatim."""
    ok = a.outcome in ("ok", "declined")
    err_console.print(
        f"  {'' if a.round == 1 else f'round {a.round} '}{a.step:<8} attempt {a.number}: {a.outcome} "
        f"({a.duration_s:.1f} s)",
        style=None if ok else "yellow",
    )
    if a.feedback:
        err_console.print("\n".join("      " + line for line in a.feedback.splitlines()))
