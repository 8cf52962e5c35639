"""``latm cache ...``: inspect and manage the tool cache."""

from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from latm.cli_render import console, emit_json, fail, held_out_text, money
from toolcache import STATUSES, CacheImportError, Tool, ToolCache, ToolCacheError


def open_cache() -> ToolCache:
    return ToolCache()


def summary(tool: Tool) -> dict[str, Any]:
    pay = tool.payoff()
    uses = tool.usage.uses
    return {
        "id": tool.short_id,
        "name": tool.name,
        "task": tool.task,
        "version": tool.version,
        "status": tool.status,
        "verified": f"{tool.verification.passed}/{tool.verification.total}",
        "trust": tool.verification.trust,
        "held_out": (
            f"{tool.verification.held_out.passed}/{tool.verification.held_out.total}"
            if tool.verification.held_out
            else None
        ),
        "uses": uses,
        "direct_share": round(tool.usage.direct_uses / uses, 3) if uses else None,
        "has_direct": tool.direct is not None,
        "cost_to_make_usd": pay.cost_to_make_usd,
        "break_even_uses": pay.break_even_uses,
    }


@click.group("cache")
def cache_group() -> None:
    """The tool cache: list, show, history, remove, export, import, stats, verify."""


@cache_group.command("ls")
@click.option("--task", default=None, help="Only this task's tools.")
@click.option("--status", type=click.Choice([*STATUSES, "all"]), default="all", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def ls(task: str | None, status: str, as_json: bool) -> None:
    """List tools."""
    with open_cache() as cache:
        tools = cache.find(task=task, status=None if status == "all" else status)  # type: ignore[arg-type]
    rows = [summary(t) for t in tools]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console.print("no tools in the cache (make one with `latm make` or `latm demo`)")
        return
    table = Table(title=f"{len(rows)} tool(s)")
    for col in (
        "id",
        "name",
        "task",
        "ver",
        "status",
        "verified",
        "held-out",
        "uses",
        "direct",
        "cost to make",
        "break-even",
    ):
        table.add_column(col)
    for r in rows:
        share = "-" if r["direct_share"] is None else f"{r['direct_share']:.0%}"
        table.add_row(
            r["id"],
            r["name"],
            r["task"],
            str(r["version"]),
            r["status"],
            r["verified"],
            r["held_out"] or "shown only",
            str(r["uses"]),
            share,
            money(r["cost_to_make_usd"]),
            "-" if r["break_even_uses"] is None else str(r["break_even_uses"]),
        )
    console.print(table)


def _get(cache: ToolCache, ref: str) -> Tool:
    try:
        return cache.get(ref)
    except ToolCacheError as exc:
        fail(str(exc))
        raise  # unreachable: fail() exits


@cache_group.command("show")
@click.argument("ref")
@click.option("--code", "show_code", is_flag=True, help="Print the code (and direct solver).")
@click.option("--trace", "show_trace", is_flag=True, help="Print every attempt of the making.")
@click.option("--json", "as_json", is_flag=True)
def show(ref: str, show_code: bool, show_trace: bool, as_json: bool) -> None:
    """Show one tool: use cases, verification, provenance (REF: id, prefix, name or task)."""
    with open_cache() as cache:
        tool = _get(cache, ref)
    if as_json:
        data = tool.model_dump(mode="json")
        if not show_trace:
            data["provenance"].pop("trace", None)
        emit_json(data)
        return
    console.print(
        Panel.fit(
            f"[bold]{tool.name}[/]  task [cyan]{tool.task}[/]  v{tool.version}  {tool.status}\n"
            f"id {tool.id}\n{tool.description}",
            title="tool",
        )
    )
    if show_code:
        console.print(Syntax(tool.code, "python", line_numbers=True))
        if tool.direct:
            console.print("[bold]direct solver[/]")
            console.print(Syntax(tool.direct, "python", line_numbers=True))
    for uc in tool.use_cases:
        console.print(f"[bold]use case[/] {uc.question[:100]!r} -> {uc.answer!r}")
        console.print(Syntax(uc.call, "python"))
    v = tool.verification
    console.print(f"[bold]verification[/] {v.passed}/{v.total} passed after {v.attempts} attempt(s)")
    console.print(f"[bold]held-out[/] {escape(held_out_text(tool))}")
    for miss in v.held_out.failures if v.held_out else []:
        console.print(
            f"  [red]FAIL[/] {escape(repr(miss.question[:100]))}: expected {escape(repr(miss.expected))}, "
            f"got {escape(repr(miss.observed))}" + (f" ({escape(miss.error[-200:])})" if miss.error else "")
        )
    console.print(f"[bold]answer rendering[/] {escape(tool.rendering.describe())}")
    for ex in v.examples:
        mark = "[green]ok[/]" if ex.passed else "[red]FAIL[/]"
        console.print(f"  {mark} expected {ex.expected!r} observed {ex.observed!r}")
    p = tool.provenance
    pay = tool.payoff()
    console.print(
        f"[bold]provenance[/] maker {p.maker_model}, {p.created_at:%Y-%m-%d %H:%M}, "
        f"tokens {p.tokens_in} in / {p.tokens_out} out, cost {money(p.cost_usd)}, "
        f"latm {p.package_version}, prompts v{p.prompt_version}"
    )
    u = tool.usage
    console.print(
        f"[bold]usage[/] {u.uses} uses ({u.direct_uses} direct, {u.llm_uses} LLM, {u.failures} failed), "
        f"{u.tokens} tokens, {money(u.cost_usd)}; break-even after "
        f"{'unknown' if pay.break_even_uses is None else pay.break_even_uses} uses"
    )
    if show_trace:
        for n, step in enumerate(p.trace, 1):
            console.print(
                Panel(
                    str(step.get("reply", ""))[:4000],
                    title=f"{n}. {step.get('step', '?')} ({step.get('outcome', '')})",
                )
            )


@cache_group.command("history")
@click.argument("task")
@click.option("--json", "as_json", is_flag=True)
def history(task: str, as_json: bool) -> None:
    """Every version made for TASK, oldest first."""
    with open_cache() as cache:
        try:
            tools = cache.history(task)
            current = cache.current(task)
        except ToolCacheError as exc:
            fail(str(exc))
    rows = [
        dict(
            summary(t),
            current=current is not None and t.id == current.id,
            created_at=t.provenance.created_at.isoformat(),
        )
        for t in tools
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"history of {task}")
    for col in ("version", "id", "status", "verified", "created", "current"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["version"]),
            r["id"],
            r["status"],
            r["verified"],
            r["created_at"][:16],
            "*" if r["current"] else "",
        )
    console.print(table)


@cache_group.command("rm")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
def rm(ref: str, as_json: bool) -> None:
    """Remove a tool."""
    with open_cache() as cache:
        try:
            tool = cache.remove(ref)
        except ToolCacheError as exc:
            fail(str(exc))
    if as_json:
        emit_json({"removed": tool.id})
    else:
        console.print(f"removed {tool.name} ({tool.short_id}, task {tool.task} v{tool.version})")


@cache_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def export(file: Path, as_json: bool) -> None:
    """Write every tool to FILE (self-describing JSON with a checksum)."""
    with open_cache() as cache:
        n = cache.export(file)
    if as_json:
        emit_json({"exported": n, "file": str(file)})
    else:
        console.print(f"exported {n} tool(s) to {file}")


@cache_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--verify", is_flag=True, help="Re-run each tool's verification in the sandbox first.")
@click.option("--json", "as_json", is_flag=True)
def import_(file: Path, verify: bool, as_json: bool) -> None:
    """Import tools from FILE (all or nothing)."""
    with open_cache() as cache:
        try:
            if verify:
                from latm.verification import sandbox_verifier

                with sandbox_verifier() as verifier:
                    tools = cache.import_(file, verify=verifier)
            else:
                tools = cache.import_(file)
        except CacheImportError as exc:
            fail(str(exc))
    if as_json:
        emit_json([summary(t) for t in tools])
    else:
        quarantined = sum(t.status == "quarantined" for t in tools)
        console.print(f"imported {len(tools)} tool(s)" + (f", {quarantined} quarantined" if quarantined else ""))


@cache_group.command("stats")
@click.option("--json", "as_json", is_flag=True)
def stats(as_json: bool) -> None:
    """Totals: tools, uses, tokens, cost to make and to use, savings and break-even."""
    with open_cache() as cache:
        data = cache.stats()
    if as_json:
        emit_json(data)
        return
    console.print(
        f"{data['tools']} tool(s) for {data['tasks']} task(s): {data['by_status']}\n"
        f"uses {data['uses']} ({data['direct_uses']} direct, {data['llm_uses']} LLM, "
        f"{data['failures']} failed)\n"
        f"tokens: {data['tokens_making']} making, {data['tokens_using']} using\n"
        f"cost: {money(data['cost_to_make_usd'])} making"
        + (f" ({data['cost_unknown_for']} tool(s) at unknown prices)" if data["cost_unknown_for"] else "")
        + f", {money(data['cost_of_uses_usd'])} using; saved {money(data['saved_usd'])} "
        "against answering every question with the maker model"
    )
    table = Table()
    for col in ("id", "name", "task", "cost to make", "per use", "baseline/question", "break-even"):
        table.add_column(col)
    for r in data["per_tool"]:
        table.add_row(
            r["id"],
            r["name"],
            r["task"],
            money(r["cost_to_make_usd"]),
            money(r["cost_per_use_usd"]),
            money(r["baseline_per_question_usd"]),
            "-" if r["break_even_uses"] is None else str(r["break_even_uses"]),
        )
    console.print(table)


@cache_group.command("verify")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
def verify(ref: str, as_json: bool) -> None:
    """Re-run REF's verification in the sandbox; quarantine it on failure."""
    from latm.verification import reverify

    with open_cache() as cache:
        tool = _get(cache, ref)
        report = reverify(cache, tool)
    if as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        colour = "green" if report.ok else "red"
        console.print(
            f"[{colour}]{tool.name} {report.passed}/{report.total} passed[/]" + ("" if report.ok else " - quarantined")
        )
    raise SystemExit(0 if report.ok else 1)
