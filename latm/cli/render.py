"""Shared output helpers of the CLI: JSON for scripts, rich for people."""

import json
import sys
from typing import Any

import click
from rich.console import Console

from toolcache import Tool
from toolcache.bound import percent

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
    if a.outcome == "progress":  # a live line while a step runs
        err_console.print(f"  {a.step:<8} {a.duration_s:5.0f} s  {a.feedback}", markup=False, highlight=False)
        return
    ok = a.outcome in ("ok", "declined")
    err_console.print(
        f"  {'' if a.round == 1 else f'round {a.round} '}{a.step:<8} attempt {a.number}: {a.outcome} "
        f"({a.duration_s:.1f} s)",
        style=None if ok else "yellow",
    )
    if a.feedback:
        err_console.print("\n".join("      " + line for line in a.feedback.splitlines()))


def bound_text(tool: Tool) -> str:
    """The tool's error bound and the evidence it rests on, in words."""
    n, wrong = tool.labelled
    if not n:
        return "none: no labelled questions its maker never saw (verified on the shown examples only)"
    e, u = tool.verification.evidence, tool.usage
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(e.kinds.items())) or "held-out"
    canaries = f"; canaries {u.canaries_passed} passed, {u.canaries_failed} failed" if (
        u.canaries_passed or u.canaries_failed
    ) else ""
    synthetic = f"; {e.synthetic_agreed} synthetic questions agreed (not in the bound)" if e.synthetic_agreed else ""
    return (
        f"{percent(tool.error_bound)} wrong at 95% confidence, from {n} labelled questions ({wrong} wrong): "
        f"held-out {e.held_out} ({kinds}){canaries}{synthetic}"
    )
