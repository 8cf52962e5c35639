"""``latm solve``: one question, or a file of them (``latm.batch.solve_file``, either engine)."""

from pathlib import Path
from typing import Any

import click

from latm.batch.ray.limits import RayOptions
from latm.batch.rows import require_ray
from latm.batch.solve_file import solve_file
from latm.cli.options import model_options, open_latm, ray_options
from latm.cli.render import console, emit_json, err_console
from latm.models.usage import money
from latm.settings import Settings


@click.command("solve")
@click.argument("question", required=False)
@click.option(
    "--file", "in_file", type=click.Path(dir_okay=False, path_type=Path), help="JSONL with a `question` field per line."
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the answers (JSONL; written as they complete). Default: stdout.",
)
@click.option("--resume", is_flag=True, help="Skip the questions --out already answers (after an interrupt).")
@click.option(
    "--examples",
    "examples_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Examples to make a tool from when no cached tool fits.",
)
@click.option("--task", default=None, help="Task name for a tool made from --examples.")
@click.option(
    "--plan",
    "as_plan",
    is_flag=True,
    help="QUESTION needs several tools: its parts go to their tools, or the user model writes one plan of calls.",
)
@click.option("--concurrency", default=16, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--allow-shown-only",
    is_flag=True,
    help="Also route to tools verified only on the examples their maker saw (no held-out questions).",
)
@click.option(
    "--max-error",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=None,
    help="Route only to tools whose error bound (95% confidence) is at or under this rate, e.g. 0.01.",
)
@click.option(
    "--expected",
    default=None,
    help="Field of each row holding the expected answer (default: answer or target when present): adds "
    "`correct` to the rows and prints accuracy by tool and mode, and the first mistakes.",
)
@click.option(
    "--canaries",
    "llm_canaries",
    is_flag=True,
    help="Also check tools the cheap model calls (LLM mode) with known questions, about 1% (they cost user "
    "tokens); direct-mode canaries always run.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Batch engine for --file: this machine, or a Ray cluster (pip install 'latm[ray]').",
)
@ray_options
@model_options
@click.option("--json", "as_json", is_flag=True)
def solve(
    question: str | None,
    in_file: Path | None,
    out_file: Path | None,
    resume: bool,
    examples_file: Path | None,
    task: str | None,
    as_plan: bool,
    concurrency: int,
    allow_shown_only: bool,
    max_error: float | None,
    expected: str | None,
    llm_canaries: bool,
    engine: str,
    ray: RayOptions,
    settings: Settings,
    as_json: bool,
) -> None:
    """Answer QUESTION, or every line of --file (JSONL or Parquet with --engine ray), with the cached tools.

    Exit status: 0 answered (every question); 1 no answer (some rows failed: they say why);
    2 a usage or input error, found before any paid call; 3 interrupted (rerun with --resume).
    """
    if bool(question) == bool(in_file):
        raise click.UsageError("give either a QUESTION or --file")
    if as_plan and in_file:
        raise click.UsageError("--plan answers one QUESTION")
    if engine == "ray":
        if not in_file:
            raise click.UsageError("--engine ray answers a --file")
        require_ray()  # before any work
        if expected:
            raise click.UsageError("--expected is read by the local engine (--engine local)")
    latm, _ = open_latm(settings, allow_shown_only=allow_shown_only, max_error=max_error, llm_canaries=llm_canaries)
    with latm:
        if question and as_plan:
            plan = latm.solve_plan(question)
            if as_json:
                emit_json(plan.model_dump(mode="json"))
            else:
                for c in plan.calls:
                    got = c.answer if c.answer is not None else f"failed: {c.error}"
                    err_console.print(f"  {c.number}. {c.tool}: {got}", markup=False, highlight=False)
                console.print(plan.answer if plan.answer is not None else f"no answer: {plan.error}", markup=False)
                err_console.print(
                    f"{plan.mode}; {len(plan.calls)} call(s), {plan.plans} plan(s), {plan.usage.tokens} tokens"
                )
            raise SystemExit(0 if plan.ok else 1)
        if question:
            examples = None
            if examples_file:
                from latm.eval.example_files import read_examples

                examples = read_examples(examples_file)
            sol = latm.solve(question, examples=examples, task=task)  # errors: one line, by the group
            if as_json:
                emit_json(_row(sol))
            else:
                console.print(sol.answer if sol.answer is not None else f"no answer: {sol.error}")
                how = f"{sol.mode} via {sol.tool}" if sol.tool else sol.mode
                err_console.print(f"{how}; {sol.tokens} tokens, cost {money(sol.cost_usd)}", markup=False)
            raise SystemExit(0 if sol.ok else 1)
        assert in_file is not None
        status = solve_file(
            latm,
            in_file,
            out_file,
            engine=engine,
            resume=resume,
            concurrency=concurrency,
            as_json=as_json,
            ray=ray,
            say=lambda text: err_console.print(text, markup=False, highlight=False),
            expected=expected,
        )
    raise SystemExit(status)


def _row(sol: Any) -> dict[str, Any]:
    return {
        "question": sol.question,
        "answer": sol.answer,
        "tool": sol.tool,
        "mode": sol.mode,
        "tokens": sol.tokens,
        "cost_usd": sol.cost_usd,
        **({"error": sol.error} if sol.error else {}),
    }
