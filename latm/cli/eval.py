"""``latm eval``: measure LATM against chain of thought on a task; ``latm eval report`` re-renders."""

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from latm.cli.options import attempts_option, model_options, open_latm
from latm.cli.render import console, emit_json, err_console, fail
from latm.errors import LATMError
from latm.models.usage import money
from latm.settings import Settings


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
        console.print(f"{report.note}")


@click.group("eval", invoke_without_command=True)
@click.option("--task", "task_names", multiple=True, help="Task name (repeatable); default: every task.")
@click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="BIG-Bench-Hard JSON (or JSONL) instead of generated instances (one --task).",
)
@click.option("--n", default=20, show_default=True, type=click.IntRange(min=1), help="Test instances per task.")
@click.option("--seed", default=0, show_default=True)
@click.option("--k", default=3, show_default=True, type=click.IntRange(min=1))
@model_options
@attempts_option
@click.option("--baseline", type=click.Choice(["cot", "none"]), default="none", show_default=True)
@click.option(
    "--baseline-n",
    type=click.IntRange(min=1),
    default=None,
    help="Answer only the first N test instances by chain of thought (default: all of them).",
)
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
    task_names: tuple[str, ...],
    data_file: Path | None,
    n: int,
    seed: int,
    k: int,
    settings: Settings,
    max_attempts: int,
    rounds: int,
    strategy: str,
    baseline: str,
    baseline_n: int | None,
    concurrency: int,
    out_file: Path | None,
    plot_file: Path | None,
    as_json: bool,
) -> None:
    """Measure accuracy and cost of LATM (and chain-of-thought baselines) on tasks (default: all)."""
    if ctx.invoked_subcommand is not None:
        return
    from latm.eval.evaluation import EvalSuite, run_eval
    from tasks import TASKS, get_task

    names = list(dict.fromkeys(task_names)) or list(TASKS)
    for name in names:
        try:
            get_task(name)
        except KeyError as exc:
            raise click.UsageError(str(exc.args[0])) from exc
    if data_file and len(names) != 1:
        raise click.UsageError("--data holds one task's examples: name it with --task")
    if plot_file:
        _need_matplotlib()  # before the run, not after it was paid for
    latm, offline = open_latm(settings, offline_ok=True)
    latm.max_attempts, latm.rounds, latm.strategy = max_attempts, rounds, strategy
    if offline and not as_json:
        console.print("offline: no model configured, running on the scripted demo models")

    def progress(total: int) -> Any:
        from rich.progress import Progress

        bar = Progress(transient=True, console=err_console)
        job = bar.add_task("instances", total=total)
        bar.start()
        ctx.call_on_close(bar.stop)
        return lambda: bar.advance(job)

    reports = []
    with latm:
        for name in names:
            examples, data = _examples(name, data_file, n, k, seed)
            try:
                report = run_eval(
                    latm,
                    name,
                    examples,
                    k=k,
                    seed=seed,
                    baseline=baseline,  # type: ignore[arg-type]
                    baseline_n=baseline_n,
                    concurrency=concurrency,
                    offline=offline,
                    data=data,
                    progress=None if as_json else progress,
                    log=None if as_json else err_console.print,
                )
            except LATMError as exc:
                fail(str(exc))
            reports.append(report)
            if not as_json:
                render(report)
            if out_file:  # saved after every task: a long run interrupted keeps what it measured
                saved = report if len(names) == 1 else EvalSuite(reports=reports)
                out_file.write_text(saved.model_dump_json(indent=1), encoding="utf-8")
    suite = EvalSuite(reports=reports)
    if plot_file:
        plot(suite, plot_file)
    if as_json:
        brief = [json.loads(r.model_dump_json(exclude={"methods": {"__all__": {"instances"}}})) for r in reports]
        emit_json(brief[0] if len(brief) == 1 else {"reports": brief})
    elif len(reports) > 1:
        render_summary(suite)


def _examples(name: str, data_file: Path | None, n: int, k: int, seed: int) -> tuple[list[Any], str]:
    """The task's examples (k train + k validation + n test) and a description of where they came from."""
    from tasks import get_task

    if data_file:
        from latm.eval.example_files import read_examples

        try:
            return read_examples(data_file)[: 2 * k + n], str(data_file)
        except LATMError as exc:
            fail(str(exc), 2)
    return get_task(name).generate(2 * k + n, seed=seed), f"generated, seed {seed}"


def render_summary(suite: Any) -> None:
    """One row per task: every method's accuracy and tokens per question, side by side."""
    methods = list(dict.fromkeys(m.method for r in suite.reports for m in r.methods))
    first = suite.reports[0]
    head = "offline demo models" if first.offline else f"maker {first.maker}, user {first.user}"
    table = Table(title=f"all tasks: {head}, {first.created_at:%Y-%m-%d}")
    table.add_column("task")
    table.add_column("n")
    table.add_column("making tokens")
    for m in methods:
        table.add_column(f"{m} acc")
    for m in methods:
        table.add_column(f"{m} tokens/q")
    for r in suite.reports:
        by = {m.method: m for m in r.methods}
        sizes = list(dict.fromkeys(m.n for m in r.methods))
        n = " / ".join(f"{m.method} {m.n}" for m in r.methods) if len(sizes) > 1 else str(sizes[0] if sizes else 0)
        table.add_row(
            r.task,
            n,
            str(r.making_tokens or (by["latm"].making_tokens if "latm" in by else 0))
            + ("" if "latm" in by else " (no tool)"),
            *[f"{by[m].accuracy:.0%}" if m in by else "-" for m in methods],
            *[f"{by[m].tokens_per_question:.0f}" if m in by else "-" for m in methods],
        )
    console.print(table)


@eval_group.command("report")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, path_type=Path))
def report_cmd(file: Path, plot_file: Path | None) -> None:
    """Render a saved `latm eval --out` record."""
    from pydantic import ValidationError

    from latm.eval.evaluation import EvalSuite

    try:
        suite = EvalSuite.load(file.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        fail(f"{file} is not a saved `latm eval` record: {str(exc)[:200]}", 2)
    for report in suite.reports:
        render(report)
    if len(suite.reports) > 1:
        render_summary(suite)
    if plot_file:
        plot(suite, plot_file)


def _need_matplotlib() -> None:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        fail("--plot needs matplotlib: pip install 'latm[plot]'", 2)


def plot(suite: Any, path: Path) -> None:
    """Accuracy and tokens per question, one group of bars per task, one bar per method."""
    _need_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [r.task for r in suite.reports]
    methods = list(dict.fromkeys(m.method for r in suite.reports for m in r.methods))
    width = 0.8 / max(len(methods), 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(max(9, 1.6 * len(tasks) + 4), 4))
    span = [0, 1000]  # questions answered: the paper's point, making once then answering, over many questions
    for j, method in enumerate(methods):
        xs = [i + j * width for i in range(len(tasks))]
        found = [{m.method: m for m in r.methods}.get(method) for r in suite.reports]
        ax1.bar(xs, [m.accuracy * 100 if m else 0 for m in found], width, label=method)
        making = sum(m.making_tokens for m in found if m)
        per_question = sum(m.tokens_per_question for m in found if m)
        ax2.plot(span, [making + per_question * n for n in span], label=method)
    ax1.set_xticks([i + width * (len(methods) - 1) / 2 for i in range(len(tasks))], tasks, rotation=30, ha="right")
    ax1.set_ylabel("accuracy (%)")
    ax2.set_xlabel("questions answered (every task)")
    ax2.set_ylabel("tokens, making included")
    ax2.set_ylim(bottom=0)
    ax1.legend()
    ax2.legend()
    first = suite.reports[0]
    fig.suptitle("offline demo models" if first.offline else f"maker {first.maker}, user {first.user}")
    fig.tight_layout()
    fig.savefig(path)
