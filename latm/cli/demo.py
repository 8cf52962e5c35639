"""``latm demo``: tools for the paper's tasks from 3+3 examples, then fresh questions answered with them."""

import click
from rich.table import Table

from latm.cli.options import model_options, open_latm
from latm.cli.render import console, emit_json, err_console, show_attempt
from latm.models.usage import money
from latm.settings import Settings


@click.command("demo")
@click.option("--n", default=20, show_default=True, type=click.IntRange(min=1), help="Fresh questions per task.")
@click.option("--seed", default=0, show_default=True)
@click.option("--task", "only", multiple=True, help="Only these tasks (default: all of the paper's).")
@model_options
@click.option("--json", "as_json", is_flag=True)
def demo(
    n: int,
    seed: int,
    only: tuple[str, ...],
    settings: Settings,
    as_json: bool,
) -> None:
    """Make tools for the paper's tasks from 3+3 examples, then solve fresh questions with them."""
    from latm.eval.demo import run_demo

    latm, offline = open_latm(settings, offline_ok=True, on_attempt=None if as_json else show_attempt)
    if offline and not as_json:
        console.print(
            "offline demo: no model configured, using the scripted demo models (demo-maker priced as gpt-4o, "
            "demo-user as gpt-4o-mini). The scripted maker replies with LATM's own reference tools and the "
            "scripted user classifies with the reference parsers: the figures show the pipeline at work, not "
            "what a real model makes. Pass --maker/--user/--base-url for real models."
        )
    with latm:  # our errors become one line (a usage error exits 2), by the command group
        report = run_demo(latm, n=n, seed=seed, tasks=list(only) or None, log=None if as_json else err_console.print)
    report["offline"] = offline
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"LATM demo: {n} fresh questions per task")
    columns = ("task", "tool", "accuracy", "direct", "LLM calls", "answer tokens", "making cost", "answering cost")
    for col in (*columns, "maker alone (est.)"):
        table.add_column(col)
    for r in [*report["rows"], {"task": "total", "tool_source": "", **report["total"]}]:
        table.add_row(
            r["task"],
            r["tool_source"],
            f"{r['accuracy']:.0%}",
            f"{r['direct_share']:.0%}",
            str(r["llm_calls"]),
            str(r["tokens"]),
            money(r["making_cost_usd"]),
            money(r["answering_cost_usd"]),
            money(r["maker_alone_usd"]),
        )
    console.print(table)
    console.print(
        f"made {report['made']} tool(s), reused {report['reused']} from the cache; "
        f"{report['solved']} questions in {report['solve_seconds']:.2f} s; making cost is paid once per tool, "
        "answering cost per question"
    )
