"""``latm make``: a verified tool for a task, from solved examples."""

from pathlib import Path

import click

from latm.cli.options import attempts_option, model_options, open_latm
from latm.cli.render import console, emit_json, err_console, fail, held_out_text, show_attempt
from latm.errors import LATMError
from latm.models.usage import money
from latm.settings import Settings


@click.command("make")
@click.option("--task", required=True, help="Name of the task the tool is for.")
@click.option(
    "--examples",
    "examples_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSONL of {question, answer} (or a BIG-Bench-Hard JSON file).",
)
@click.option("--k", default=3, show_default=True, type=click.IntRange(min=1), help="Train and validation size.")
@model_options
@attempts_option
@click.option("--json", "as_json", is_flag=True)
def make(
    task: str,
    examples_file: Path,
    k: int,
    settings: Settings,
    max_attempts: int,
    rounds: int,
    strategy: str,
    as_json: bool,
) -> None:
    """Make a verified tool for TASK from solved examples."""
    from latm.eval.example_files import read_examples
    from latm.maker.split import check_examples

    try:
        examples = read_examples(examples_file)
        check_examples(task, examples)
    except LATMError as exc:
        fail(str(exc), 2)
    latm, _ = open_latm(settings, on_attempt=None if as_json else show_attempt)
    latm.max_attempts, latm.rounds, latm.strategy = max_attempts, rounds, strategy
    if not as_json:
        err_console.print(f"making a tool for {task} with {latm.maker_model.name if latm.maker_model else '?'}")
    try:
        with latm:
            result = latm.make_tool(task, examples, k=k)
    except LATMError as exc:
        fail(str(exc))
    if as_json:
        emit_json(
            {
                "ok": result.ok,
                "reason": result.reason,
                "tool": result.tool.model_dump(mode="json", exclude={"provenance": {"trace"}}) if result.tool else None,
                "attempts": result.attempts_per_step(),
                "failures": result.failures(),
                "usage": result.usage.summary(),
            }
        )
    elif result.tool:
        t = result.tool
        console.print(
            f"made {t.name} (id {t.short_id}, task {t.task} v{t.version}): "
            f"verified {t.verification.passed}/{t.verification.total}, held-out {held_out_text(t)}, "
            f"direct solver: {'yes' if t.direct else 'no'}, {result.usage.calls} calls, "
            f"{result.usage.tokens} tokens, cost {money(result.usage.cost_usd)}"
        )
    else:
        console.print(f"no tool: {result.reason}")
    raise SystemExit(0 if result.ok else 1)
