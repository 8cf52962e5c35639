"""``latm eval``: measure LATM against chain of thought on a task; ``latm eval report`` re-renders."""

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from latm.cli_render import console, emit_json, err_console, fail, money
from latm.cli_run import model_options, open_latm
from latm.errors import LATMError


def render(report: Any) -> None:
    head = (
        "offline (scripted demo models: the CoT baselines cannot reason, their scores mean nothing)"
        if report.offline
        else f"maker {report.maker}, user {report.user}"
    )
    table = Table(
        title=f"{report.task}: {head}; {report.methods[0].n if report.methods else 0} test instances "
        f"({report.data}), {report.created_at:%Y-%m-%d}"
    )
    for col in (
        "method",
        "accuracy",
        "LLM calls",
        "tokens/q",
        "by role",
        "making tokens",
        "USD/q (amortised)",
        "USD total",
        "direct",
        "wall s",
    ):
        table.add_column(col)
    for m in report.methods:
        roles = ", ".join(f"{role} {sum(v.values()):.0f}" for role, v in m.tokens_per_instance.items()) or "-"
        table.add_row(
            m.method,
            f"{m.accuracy:.0%}",
            str(m.llm_calls),
            f"{m.tokens_per_question:.0f}",
            roles,
            str(m.making_tokens) if m.making_tokens else "-",
            money(m.usd_per_instance, 5),
            money(m.usd_total, 5),
            "-" if m.direct_share is None else f"{m.direct_share:.0%}",
            f"{m.wall_s:.1f}",
        )
    console.print(table)
    for name, be in report.break_even.items():
        usd = "unknown (prices)" if be.get("usd") is None else f"{be['usd']:.1f}"
        tok = "never" if be.get("tokens") is None else f"{be['tokens']:.1f}"
        console.print(f"break-even against {name}: after {usd} instances in USD, {tok} in tokens")
    if report.note:
        console.print(f"[yellow]{report.note}[/]")


@click.group("eval", invoke_without_command=True)
@click.option("--task", default=None, help="Task name (see `tasks.TASKS`).")
@click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="BIG-Bench-Hard JSON (or JSONL) instead of generated instances.",
)
@click.option("--n", default=20, show_default=True, type=click.IntRange(min=1), help="Test instances.")
@click.option("--seed", default=0, show_default=True)
@click.option("--k", default=3, show_default=True, type=click.IntRange(min=1))
@model_options
@click.option("--baseline", type=click.Choice(["cot", "none"]), default="none", show_default=True)
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Save the full record.")
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw accuracy and cost per method (needs matplotlib: pip install 'latm[plot]').",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def eval_group(
    ctx: click.Context,
    task: str | None,
    data_file: Path | None,
    n: int,
    seed: int,
    k: int,
    maker: str | None,
    user_model: str | None,
    base_url: str | None,
    api_key: str | None,
    baseline: str,
    concurrency: int,
    out_file: Path | None,
    plot_file: Path | None,
    as_json: bool,
) -> None:
    """Measure accuracy and cost of LATM (and chain-of-thought baselines) on a task."""
    if ctx.invoked_subcommand is not None:
        return
    if not task:
        raise click.UsageError("--task is required")
    from latm.evaluation import run_eval
    from tasks import get_task

    try:
        spec = get_task(task)
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from exc
    if data_file:
        from latm.examples_io import read_examples

        try:
            examples = read_examples(data_file)[: 2 * k + n]
        except LATMError as exc:
            fail(str(exc), 2)
        data = str(data_file)
    else:
        examples = spec.generate(2 * k + n, seed=seed)
        data = f"generated, seed {seed}"
    latm, offline = open_latm(maker, user_model, base_url, api_key, offline_ok=True)
    if offline and not as_json:
        console.print("offline: no model configured, running on the scripted demo models")

    def progress(total: int) -> Any:
        from rich.progress import Progress

        bar = Progress(transient=True, console=err_console)
        job = bar.add_task("instances", total=total)
        bar.start()
        ctx.call_on_close(bar.stop)
        return lambda: bar.advance(job)

    with latm:
        try:
            report = run_eval(
                latm,
                task,
                examples,
                k=k,
                seed=seed,
                baseline=baseline,  # type: ignore[arg-type]
                concurrency=concurrency,
                offline=offline,
                data=data,
                progress=None if as_json else progress,
                log=None if as_json else err_console.print,
            )
        except LATMError as exc:
            fail(str(exc))
    if out_file:
        out_file.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    if plot_file:
        plot(report, plot_file)
    if as_json:
        emit_json(json.loads(report.model_dump_json(exclude={"methods": {"__all__": {"instances"}}})))
    else:
        render(report)


@eval_group.command("report")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, path_type=Path))
def report_cmd(file: Path, plot_file: Path | None) -> None:
    """Render a saved `latm eval --out` record."""
    from pydantic import ValidationError

    from latm.evaluation import EvalReport

    try:
        report = EvalReport.model_validate_json(file.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        fail(f"{file} is not a saved `latm eval` record: {str(exc)[:200]}", 2)
    render(report)
    if plot_file:
        plot(report, plot_file)


def plot(report: Any, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("--plot needs matplotlib: pip install 'latm[plot]'", 2)
    names = [m.method for m in report.methods]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.bar(names, [m.accuracy * 100 for m in report.methods])
    ax1.set_ylabel("accuracy (%)")
    ax2.bar(names, [m.tokens_per_question for m in report.methods])
    ax2.set_ylabel("tokens per question")
    fig.suptitle(f"{report.task} ({'offline' if report.offline else report.maker + ' / ' + report.user})")
    fig.tight_layout()
    fig.savefig(path)
