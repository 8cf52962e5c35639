"""``latm cache ...``: inspect and manage the tool cache."""

from pathlib import Path
from typing import Any

import click
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from latm.cli.options import sandbox_options
from latm.cli.render import bound_text, console, emit_json, fail, held_out_text
from latm.models.usage import money
from latm.settings import Settings
from latm.text import clip
from toolcache import STATUSES, CacheImportError, Tool, ToolCache, ToolCacheError
from toolcache.bound import percent


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
        "routable": tool.verification.trust == "held_out" and tool.status == "verified",
        "error_bound": tool.error_bound,
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
        "error (95%)",
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
            r["status"] if r["trust"] != "imported" else "imported: verify here",
            r["verified"],
            _trust_cell(r),
            percent(r["error_bound"]),
            str(r["uses"]),
            share,
            money(r["cost_to_make_usd"]),
            "-" if r["break_even_uses"] is None else str(r["break_even_uses"]),
        )
    console.print(table)


def _trust_cell(row: dict[str, Any]) -> str:
    words = {"imported": "imported: not verified here", "failed": "failed", "shown_only": "shown only"}
    return row["held_out"] if row["trust"] == "held_out" else words.get(row["trust"], row["trust"])


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
    header = f"{tool.name}  task {tool.task}  v{tool.version}  {tool.status}\nid {tool.id}\n{tool.description}"
    console.print(Panel.fit(Text(header), title="tool"))  # Text: a description is never read as markup
    if show_code:  # verbatim, to copy: no line numbers, no markup
        console.print(tool.code.rstrip(), markup=False, highlight=False, soft_wrap=True)
        if tool.direct:
            console.print("\n# direct solver", markup=False, highlight=False)
            console.print(tool.direct.rstrip(), markup=False, highlight=False, soft_wrap=True)
    for uc in tool.use_cases:
        console.print(f"use case {clip(uc.question, 100)!r} -> {uc.answer!r}", markup=False, highlight=False)
        console.print(uc.call.rstrip(), markup=False, highlight=False, soft_wrap=True)
    v = tool.verification
    console.print(f"verification {v.passed}/{v.total} passed after {v.attempts} attempt(s)")
    console.print(f"held-out {held_out_text(tool)}")
    console.print(f"error bound {bound_text(tool)}")
    if tool.quarantine is not None:
        console.print(f"quarantined {tool.quarantine.at:%Y-%m-%d %H:%M} UTC: {tool.quarantine.reason}")
    for miss in v.held_out.failures if v.held_out else []:
        console.print(
            f"  FAIL {clip(miss.question, 100)!r}: expected {miss.expected!r}, "
            f"got {miss.observed!r}" + (f" ({miss.error[-200:]})" if miss.error else "")
        )
    console.print(f"answer rendering {tool.rendering.describe()}")
    for ex in v.examples:
        mark = "ok" if ex.passed else "FAIL"
        console.print(f"  {mark} expected {ex.expected!r} observed {ex.observed!r}")
    p = tool.provenance
    pay = tool.payoff()
    console.print(
        f"provenance maker {p.maker_model} ({p.strategy} strategy), {p.created_at:%Y-%m-%d %H:%M}, "
        f"tokens {p.tokens_in} in / {p.tokens_out} out, cost {money(p.cost_usd)}, "
        f"latm {p.package_version}, prompts v{p.prompt_version}"
    )
    if p.exporter_usage is not None:
        e = p.exporter_usage
        console.print(f"imported: in the cache that exported it, {e.counts()}, {e.tokens} tokens; not counted here")
    u = tool.usage
    console.print(
        f"usage {u.counts()}, "
        f"{u.tokens} tokens, {money(u.cost_usd)}; break-even after "
        f"{'unknown' if pay.break_even_uses is None else pay.break_even_uses} uses"
    )
    if show_trace:
        for n, step in enumerate(p.trace, 1):
            console.print(
                Panel(
                    clip(str(step.get("reply", "")), 4000),
                    title=f"{n}. {step.get('step', '?')} ({step.get('outcome', '')})",
                )
            )
            if step.get("feedback"):
                console.print("feedback sent to the model:", style="bold")
                console.print(str(step["feedback"]))


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
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@click.option("--purge", is_flag=True, help="Delete the record too (by default it stays in history, retired).")
@sandbox_options
@click.option("--json", "as_json", is_flag=True)
def rm(ref: str, yes: bool, purge: bool, settings: Settings, as_json: bool) -> None:
    """Remove a tool: it answers nothing more and stays in `latm cache history` as retired (--purge
    deletes its record). Asks first unless --yes.

    The other direct solvers are then asked its task's questions (in the sandbox): one that answers
    them wrongly (they reached it only because the removed tool took them first) is quarantined."""
    from latm.judge.strictness import reprobe
    from latm.use.dispatcher import routable_tools

    with open_cache() as cache:
        tool = _get(cache, ref)
        if tool.status == "retired" and not purge:
            fail(f"{tool.name} v{tool.version} (task {tool.task}) is already retired; --purge deletes its record")
        what = f"{tool.name} v{tool.version} (task {tool.task}, {tool.usage.uses} uses)"
        if not yes:
            kept = "and delete its record" if purge else "(it stays in `latm cache history` as retired)"
            click.confirm(f"remove {what} {kept}?", abort=True, err=True)
        try:
            if purge:
                cache.remove(tool.id)
            else:
                cache.set_status(tool.id, "retired")
        except ToolCacheError as exc:
            fail(str(exc))
        caught: list[tuple[Tool, str]] = []
        if any(t.direct for t in routable_tools(cache)):
            with settings.open_sandbox() as sb:
                caught = reprobe(cache, tool, sb, left=True)
    if as_json:
        emit_json({"removed": tool.id, "purged": purge, "quarantined": {t.short_id: why for t, why in caught}})
        return
    console.print(f"removed {what}" + ("" if purge else "; retired, kept in history"), markup=False)
    for t, why in caught:
        console.print(f"quarantined {t.name} ({t.short_id}): {why}", markup=False, highlight=False)


@cache_group.command("export")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "skills", "openai-tools"]),
    default="json",
    show_default=True,
    help="json: every tool, for `cache import`; skills: an Agent Skills folder per routable tool "
    "(FILE is a directory, created if missing); openai-tools: OpenAI function schemas of the routable tools.",
)
@click.option("--json", "as_json", is_flag=True)
def export(file: Path, fmt: str, as_json: bool) -> None:
    """Write the tools to FILE.

    json (default): every tool, self-describing JSON with a checksum, for `latm cache import`.
    skills: one Agent Skills folder per routable tool (SKILL.md, scripts/solve.py, references/);
    the skill hands the tool's code to the agent, which runs it where it runs its own code.
    openai-tools: `[{"type": "function", "function": {...}}]` for every routable tool.
    """
    if fmt == "skills":
        if file.exists() and not file.is_dir():
            fail(f"cannot write skills to {file}: it is a file, not a folder", 2)
        from latm.interop.skills import export_skills

        with open_cache() as cache:
            folders = export_skills(cache, file)
        if as_json:
            emit_json({"exported": len(folders), "directory": str(file), "skills": [f.name for f in folders]})
        elif folders:
            console.print(f"exported {len(folders)} skill(s) to {file}: {', '.join(f.name for f in folders)}")
        else:
            console.print(f"exported no skills to {file}: no tool is routable (verified here on held-out questions)")
        return
    if file.is_dir():
        fail(f"cannot write {file}: it is a folder", 2)
    if not file.resolve().parent.is_dir():
        fail(f"cannot write {file}: the folder {file.resolve().parent} does not exist", 2)
    if fmt == "openai-tools":
        import json

        from latm.interop.openai_tools import openai_tools

        with open_cache() as cache:
            tools = openai_tools(cache)
        file.write_text(json.dumps(tools, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        n = len(tools)
    else:
        with open_cache() as cache:
            n = cache.export(file)
    if as_json:
        emit_json({"exported": n, "file": str(file), "format": fmt})
    else:
        what = "OpenAI function schema(s) of routable tools" if fmt == "openai-tools" else "tool(s)"
        console.print(f"exported {n} {what} to {file}")


@cache_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--verify", is_flag=True, help="Run every check of `cache verify` on each tool, in the sandbox.")
@click.option(
    "--examples",
    "examples_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Held-out examples (JSONL or BBH JSON) to judge tools of a task LATM cannot generate.",
)
@click.option("--trust", is_flag=True, help="Take the exporter's verdict as it is (kept in the record, shown).")
@sandbox_options
@click.option("--json", "as_json", is_flag=True)
def import_(
    file: Path, verify: bool, examples_file: Path | None, trust: bool, settings: Settings, as_json: bool
) -> None:
    """Import tools from FILE (all or nothing).

    An imported tool answers no question until it is verified here (`--verify` now, or `latm
    cache verify REF` later): an export carries its own expected answers, so its record proves
    nothing. A built-in task's tool is judged on fresh generated questions; another task's on
    --examples. --trust routes it on the exporter's word instead.
    """
    examples = None
    if examples_file:
        from latm.eval.example_files import read_examples

        examples = read_examples(examples_file)
    with open_cache() as cache:
        try:
            tools = cache.import_(file, trust=trust)
        except CacheImportError as exc:
            fail(str(exc))
        reports = _verify_all(cache, tools, examples, settings) if verify or examples else {}
        tools = [cache.get(t.id) for t in tools]
    if as_json:
        emit_json([{**summary(t), "checks": _checks_json(reports.get(t.id))} for t in tools])
        return
    for t in tools:
        if t.id in reports:
            _print_checks(t, reports[t.id])
    quarantined = sum(t.status == "quarantined" for t in tools)
    retired = [t for t in tools if t.status == "retired"]
    unverified = sum(t.verification.trust == "imported" for t in tools if t.status == "verified")
    console.print(
        f"imported {len(tools)} tool(s)"
        + (f", {quarantined} quarantined" if quarantined else "")
        + (
            f", {len(retired)} left retired as this cache had them ({', '.join(t.short_id for t in retired)}; "
            "making the task again here routes it)"
            if retired
            else ""
        )
        + (
            f"; {unverified} answer no question until verified here (`latm cache verify REF`, or import with "
            "--verify; a task LATM cannot generate also needs --examples)"
            if unverified
            else ""
        )
    )


def _verify_all(cache: ToolCache, tools: list[Tool], examples: Any, settings: Settings) -> dict[str, Any]:
    from latm.judge import reverify

    with settings.open_sandbox() as sb:
        return {t.id: reverify(cache, t, sb, examples) for t in tools}


def _checks_json(report: Any) -> Any:
    return None if report is None else report.model_dump(mode="json")


def _print_checks(tool: Tool, report: Any) -> None:
    """Every check that ran, with what failed; what was written back."""
    console.print(f"{tool.name} ({tool.short_id}, task {tool.task}):", style="bold")
    for c in report.checks:
        if c.skipped:
            console.print(f"  skipped  {c.name}: {c.skipped}")
            continue
        console.print(
            f"  {'ok  ' if c.ok else 'FAIL'}     {c.name}: {c.passed}/{c.total}", style=None if c.ok else "red"
        )
        for f in c.failures:
            console.print(f"           {f}")
    console.print(f"  {report.record}")
    if report.verified_here:
        console.print("  verified here: it answers questions", style="green")


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
        f"{data['failures']} failed)"
        + (", from " + ", ".join(f"{src} {n}" for src, n in data["by_source"].items()) if data["by_source"] else "")
        + "\n"
        f"tokens: {data['tokens_making']} making, {data['tokens_using']} using\n"
        f"cost: {money(data['cost_to_make_usd'])} making"
        + (f" ({data['cost_unknown_for']} tool(s) at unknown prices)" if data["cost_unknown_for"] else "")
        + f", {money(data['cost_of_uses_usd'])} using; saved {money(data['saved_usd'])} "
        f"({data['saved_tokens']:,} tokens, estimated) against answering every question with the maker model"
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
@click.option(
    "--examples",
    "examples_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Held-out examples (JSONL or BBH JSON) for a task LATM cannot generate.",
)
@sandbox_options
@click.option("--json", "as_json", is_flag=True)
def verify(ref: str, examples_file: Path | None, settings: Settings, as_json: bool) -> None:
    """Run every check of REF again in the sandbox; quarantine it on any failure.

    Lists each check (unit tests, use cases, mutations, the direct solver on the stored
    examples, its use of the tool and strictness, held-out questions) and what it wrote back.
    """
    examples = None
    if examples_file:
        from latm.eval.example_files import read_examples

        examples = read_examples(examples_file)
    with open_cache() as cache:
        tool = _get(cache, ref)
        report = _verify_all(cache, [tool], examples, settings)[tool.id]
    if as_json:
        emit_json(_checks_json(report))
    else:
        _print_checks(tool, report)
    raise SystemExit(0 if report.ok else 1)
