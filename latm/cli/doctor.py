"""``latm cache doctor [--fix]``: find damaged records and databases in the tool cache, and
(with --fix) move them aside without losing a readable tool."""

import click

from latm.cli.render import console, emit_json
from toolcache.doctor import DoctorReport, diagnose, repair
from toolcache.store import default_directory


def _say(text: str, style: str | None = None) -> None:
    """One line of user data, printed verbatim (text like ``[bold]`` is not markup)."""
    console.print(text, style=style, markup=False, highlight=False)


def _count(report: DoctorReport) -> str:
    tasks = len({t.task for t in report.tools})
    return f"{len(report.tools)} readable tool(s) for {tasks} task(s)"


def render(report: DoctorReport) -> None:
    _say(f"tool cache {report.directory}")
    if report.healthy:
        _say(f"healthy: {_count(report)}", "green")
        return
    if report.problem:
        _say(f"problem: {report.problem}", "red")
        if not report.fixed and report.salvaged is not None:
            _say(
                f"  {report.salvaged} tool(s) can still be read from it"
                if report.salvaged
                else "  nothing in it can be read (nothing to salvage)"
            )
    for bad in report.bad_records:
        who = f" (tool {bad.tool})" if bad.tool else ""
        _say(f"damaged record {bad.key}{who}: {bad.reason}", "yellow")
    for problem in report.index_problems:
        _say(f"index: {problem}", "yellow")
    if not report.fixed:
        _say(_count(report))
        if not report.fixable:
            return
        _say(
            "run `latm cache doctor --fix` to move the damage aside (damaged records into a quarantine "
            "file, an unreadable database to cache.db.damaged-<time>) and rebuild the indexes; "
            "no readable tool is lost",
        )
        return
    for moved in report.moved_aside:
        _say(f"moved aside: {moved.source} -> {moved.target}")
    if report.salvaged is not None:
        _say(f"salvaged {report.salvaged} tool(s) into a fresh database")
    if report.quarantine_file:
        _say(f"quarantined {len(report.bad_records)} record(s) into {report.quarantine_file}")
    for fixed in report.index_fixed:
        _say(f"index: {fixed}")
    if report.remaining:
        for problem in report.remaining:
            _say(f"still wrong: {problem}", "red")
    else:
        _say(f"repaired: {_count(report)}", "green")


@click.command("doctor")
@click.option("--fix", is_flag=True, help="Move damaged records and databases aside and rebuild the indexes.")
@click.option("--json", "as_json", is_flag=True)
def doctor(fix: bool, as_json: bool) -> None:
    """Check the tool cache for damage; --fix repairs it (exit 1: problems remain)."""
    directory = default_directory()
    report = repair(directory) if fix else diagnose(directory)
    if as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        render(report)
    raise SystemExit(0 if report.ok else 1)
