"""``latm make``: a verified tool for a task, from solved examples."""

from pathlib import Path
from typing import Any

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
@click.option(
    "--k",
    default=None,
    type=click.IntRange(min=1),
    help="Train and validation size (default: up to 3, leaving 3 examples kept back for your own task).",
)
@click.option(
    "--remake",
    is_flag=True,
    help="Make a new version even when the task has a cached tool (the old one stays in history).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the last making of TASK that was interrupted or made no tool: the replies it had "
    "replay free, then the model is asked for what is new.",
)
@model_options
@attempts_option
@click.option("--json", "as_json", is_flag=True)
def make(
    task: str,
    examples_file: Path,
    k: int | None,
    remake: bool,
    resume: bool,
    settings: Settings,
    max_attempts: int,
    rounds: int,
    strategy: str,
    as_json: bool,
) -> None:
    """Make a verified tool for TASK from solved examples.

    Exit status: 0 a tool was made; 1 no tool (the reason is printed); 2 a usage or input error;
    3 interrupted (`--resume` continues where it stopped).
    """
    from latm.eval.example_files import read_examples
    from latm.maker import journal
    from latm.maker.split import check_examples, default_k, describe_split

    try:
        examples = read_examples(examples_file)
        check_examples(task, examples)
        k = k or default_k(task, len(examples))
        split = describe_split(task, len(examples), k)
    except LATMError as exc:
        fail(str(exc), 2)
    if settings.maker is None and (remake or not _cached(task)):  # before anything is written
        fail(
            "making a tool needs a maker model: --maker M (with --base-url URL for a local or other "
            "OpenAI-compatible server) or LATM_MAKER",
            2,
        )
    where, earlier = journal.start(task, resume)
    if settings.response_cache == "off":  # the making's own record of every reply, for --resume
        settings = settings.model_copy(update={"response_cache": "readwrite", "response_cache_dir": where / "replies"})
    seen: list[Any] = []

    def on_attempt(attempt: Any) -> None:
        if attempt.outcome != "progress":
            seen.append(attempt)
        if not as_json:  # --json stays quiet until the one result
            show_attempt(attempt)

    latm, _ = open_latm(settings, on_attempt=on_attempt)
    latm.max_attempts, latm.rounds, latm.strategy = max_attempts, rounds, strategy
    if not as_json:
        if latm.maker_model is not None:
            err_console.print(f"making a tool for {task} with {latm.maker_model.name}", markup=False)
        err_console.print(f"{len(examples)} examples: {split}", markup=False, highlight=False)
        if earlier:
            err_console.print(
                f"resuming the making that stopped ({earlier['stopped']}) at {earlier['at']}: "
                f"its {earlier['replies_recorded']} replies ({earlier['tokens_spent']} tokens) replay free",
                markup=False,
                highlight=False,
            )
    try:
        with latm:
            cached = None if remake else latm.cache.current(task)
            if cached is not None and not as_json:
                err_console.print(
                    f"the cache already holds {cached.name} (v{cached.version}) for {task}: reusing it "
                    "(--remake makes a new version)",
                    markup=False,
                    highlight=False,
                )
            result = latm.make_tool(task, examples, k=k, reuse="never" if remake else "any")
    except KeyboardInterrupt:
        state = journal.write_state(where, task, "interrupted", seen)
        err_console.print(
            f"interrupted: what was spent is kept ({state}); `latm make --task {task} --examples "
            f"{examples_file} --resume` continues",
            markup=False,
            highlight=False,
        )
        raise SystemExit(3) from None
    except LATMError as exc:
        fail(str(exc))
    if result.ok:
        journal.finish(where)
    else:
        journal.write_state(where, task, "no tool", result.attempts)
    if as_json:
        emit_json(
            {
                "ok": result.ok,
                "reason": result.reason,
                "split": split,
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
        console.print(f"no tool: {result.reason}", markup=False)
        console.print(f"what it spent is kept: `latm make ... --resume` continues ({result.usage.tokens} tokens)")
    raise SystemExit(0 if result.ok else 1)


def _cached(task: str) -> bool:
    """Whether the cache holds a verified tool for ``task`` (then no model is needed: it is reused)."""
    from toolcache import ToolCache

    with ToolCache() as cache:
        current = cache.current(task)
    return current is not None and current.status == "verified"
