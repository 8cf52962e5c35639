"""``latm make``, ``latm solve`` and ``latm demo``: thin layers over the LATM facade."""

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from latm.cli.render import console, emit_json, err_console, fail, held_out_text, money
from latm.errors import LATMError
from latm.maker import Attempt


def attempts_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--max-attempts, --rounds and --strategy: the maker's budget and way (a small local model needs more
    than a strong one, and the search strategy)."""
    fn = click.option(
        "--strategy",
        type=click.Choice(["auto", "latm", "search"]),
        default="auto",
        show_default=True,
        help="latm: the paper's protocol; search: template discovery and sampled candidates (weak makers); "
        "auto: the paper's protocol, then search, in one budget.",
    )(fn)
    fn = click.option(
        "--rounds",
        default=1,
        show_default=True,
        type=click.IntRange(min=1),
        help="Fresh, sampled conversations to try when a making fails.",
    )(fn)
    return click.option(
        "--max-attempts",
        default=3,
        show_default=True,
        type=click.IntRange(min=1),
        help="Attempts per making step (propose, verify, wrap, direct).",
    )(fn)


def _choose_backend(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--backend: set for every sandbox the command opens; an explicit process backend is said once."""
    import os

    if value:
        os.environ["LATM_SANDBOX_BACKEND"] = value
        if value == "process":
            from sandbox.core import PROCESS_WEAKNESS

            err_console.print(f"warning: --backend process: the process backend, {PROCESS_WEAKNESS}", highlight=False)
    return value


def backend_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--backend auto|docker|process, on every command that runs tools (else LATM_SANDBOX_BACKEND)."""
    return click.option(
        "--backend",
        type=click.Choice(["auto", "docker", "process"]),
        default=None,
        expose_value=False,
        callback=_choose_backend,
        help="Sandbox backend (default: LATM_SANDBOX_BACKEND, else auto: Docker when it answers).",
    )(fn)


def model_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--maker/--user/--base-url/--api-key, shared by every command that calls models."""
    for option in reversed(
        [
            click.option("--maker", default=None, help="Strong model that makes tools (or LATM_MAKER)."),
            click.option("--user", "user_model", default=None, help="Cheap model that uses tools (or LATM_USER)."),
            click.option("--base-url", default=None, help="OpenAI-compatible endpoint (or LATM_BASE_URL)."),
            click.option("--api-key", default=None, help="API key (or LATM_API_KEY / OPENAI_API_KEY)."),
        ]
    ):
        fn = option(fn)
    return backend_option(fn)


def open_latm(
    maker: str | None,
    user_model: str | None,
    base_url: str | None,
    api_key: str | None,
    *,
    offline_ok: bool = False,
    on_attempt: Callable[[Any], None] | None = None,
    allow_shown_only: bool = False,
) -> tuple[Any, bool]:
    """The facade from CLI options; with ``offline_ok`` and no model anywhere, the demo models."""
    import os

    from latm.facade import LATM

    configured = maker or user_model or os.environ.get("LATM_MAKER") or os.environ.get("LATM_USER")
    if offline_ok and not configured:
        from latm.models.demo import demo_maker, demo_user

        return LATM(
            maker=demo_maker(),
            user=demo_user(),
            on_attempt=on_attempt,
            allow_shown_only=allow_shown_only,
            source="cli",
        ), True
    try:
        return LATM(
            maker=maker,
            user=user_model or maker,
            base_url=base_url,
            api_key=api_key,
            on_attempt=on_attempt,
            allow_shown_only=allow_shown_only,
            source="cli",
        ), False
    except LATMError as exc:
        fail(str(exc))
        raise


def show_attempt(a: Attempt) -> None:
    """One line per attempt, then the whole feedback the model was sent (indented), verbatim."""
    ok = a.outcome in ("ok", "declined")
    err_console.print(
        f"  {'' if a.round == 1 else f'round {a.round} '}{a.step:<8} attempt {a.number}: {a.outcome} "
        f"({a.duration_s:.1f} s)",
        style=None if ok else "yellow",
    )
    if a.feedback:
        err_console.print("\n".join("      " + line for line in a.feedback.splitlines()))


# -- make --------------------------------------------------------------------------------------


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
    maker: str | None,
    user_model: str | None,
    base_url: str | None,
    api_key: str | None,
    max_attempts: int,
    rounds: int,
    strategy: str,
    as_json: bool,
) -> None:
    """Make a verified tool for TASK from solved examples."""
    from latm.eval.example_files import read_examples
    from latm.facade import check_examples

    try:
        examples = read_examples(examples_file)
        check_examples(task, examples)
    except LATMError as exc:
        fail(str(exc), 2)
    latm, _ = open_latm(maker, user_model, base_url, api_key, on_attempt=None if as_json else show_attempt)
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


# -- solve -------------------------------------------------------------------------------------


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
@click.option("--concurrency", default=16, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--allow-shown-only",
    is_flag=True,
    help="Also route to tools verified only on the examples their maker saw (no held-out questions).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Batch engine for --file: this machine, or a Ray cluster (pip install 'latm[ray]').",
)
@click.option("--ray-address", default=None, help="Ray cluster to run on (else RAY_ADDRESS, else a local Ray).")
@click.option("--workers", default=None, type=click.IntRange(min=1), help="Ray actors at most (default CPUs - 1).")
@click.option(
    "--batch-size",
    default=None,
    type=click.IntRange(min=1),
    help="Ray: rows per batch an actor answers at once (default 2000; smaller for LLM-mode rows).",
)
@click.option("--rps", default=20.0, show_default=True, type=float, help="Ray: requests/s per endpoint, cluster-wide.")
@click.option(
    "--max-in-flight", default=8, show_default=True, type=click.IntRange(min=1), help="Ray: requests in flight."
)
@model_options
@click.option("--json", "as_json", is_flag=True)
def solve(
    question: str | None,
    in_file: Path | None,
    out_file: Path | None,
    resume: bool,
    examples_file: Path | None,
    task: str | None,
    concurrency: int,
    allow_shown_only: bool,
    engine: str,
    ray_address: str | None,
    workers: int | None,
    batch_size: int | None,
    rps: float,
    max_in_flight: int,
    maker: str | None,
    user_model: str | None,
    base_url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Answer QUESTION, or every line of --file (JSONL or Parquet with --engine ray), with the cached tools.

    Exit status: 0 answered (every question); 1 no answer (some rows failed: they say why);
    2 a usage or input error, found before any paid call; 3 interrupted (rerun with --resume).
    """
    if bool(question) == bool(in_file):
        raise click.UsageError("give either a QUESTION or --file")
    if engine == "ray":
        if not in_file:
            raise click.UsageError("--engine ray answers a --file")
        from latm.batch import require_ray

        try:
            require_ray()  # before any work
        except LATMError as exc:
            fail(str(exc), 2)
    latm, _ = open_latm(maker, user_model, base_url, api_key, allow_shown_only=allow_shown_only)
    with latm:
        if question:
            examples = None
            if examples_file:
                from latm.eval.example_files import read_examples

                examples = read_examples(examples_file)
            sol = latm.solve(question, examples=examples, task=task)  # errors: one line, by the group
            if as_json:
                emit_json(_row({}, sol))
            else:
                console.print(sol.answer if sol.answer is not None else f"no answer: {sol.error}")
                err_console.print(f"{sol.mode} via {sol.tool or '-'}; {sol.tokens} tokens, cost {money(sol.cost_usd)}")
            raise SystemExit(0 if sol.ok else 1)
        assert in_file is not None
        if engine == "ray":
            _solve_file_ray(
                latm,
                in_file,
                out_file,
                concurrency,
                as_json,
                resume,
                ray_address,
                workers,
                batch_size,
                rps,
                max_in_flight,
            )
        _solve_file(latm, in_file, out_file, concurrency, as_json, resume)


def _solve_file_ray(
    latm: Any,
    in_file: Path,
    out_file: Path | None,
    concurrency: int,
    as_json: bool,
    resume: bool,
    address: str | None,
    workers: int | None,
    batch_size: int | None,
    rps: float,
    max_in_flight: int,
) -> None:
    """The Ray engine under the same answer-file rules and exit statuses as the local one."""
    from latm.batch.ray.engine import DEFAULT_BATCH_SIZE, RateLimit
    from latm.batch.ray.supervision import solve_file_ray

    def say(text: str) -> None:
        err_console.print(text, markup=False, highlight=False)

    try:
        status = solve_file_ray(
            latm,
            in_file,
            out_file,
            concurrency=concurrency,
            as_json=as_json,
            resume=resume,
            address=address,
            workers=workers,
            batch_size=batch_size or DEFAULT_BATCH_SIZE,
            rate_limit=RateLimit(rps=rps, max_in_flight=max_in_flight),
            read_jsonl_rows=lambda path: _read_questions(path)[0],
            say=say,
        )
    except LATMError as exc:
        fail(str(exc), 2)
    raise SystemExit(status)


def _row(data: dict[str, Any], sol: Any) -> dict[str, Any]:
    return {
        **data,
        "question": sol.question,
        "answer": sol.answer,
        "tool": sol.tool,
        "mode": sol.mode,
        "tokens": sol.tokens,
        "cost_usd": sol.cost_usd,
        **({"error": sol.error} if sol.error else {}),
    }


def _read_questions(in_file: Path) -> tuple[list[Any], int]:
    """The input rows with a question; malformed lines are reported and skipped, a blank
    question is an input error (found before any paid call)."""
    from latm.batch.answer_file import InputRow
    from latm.eval.example_files import read_jsonl

    if not in_file.exists():
        fail(f"{in_file} does not exist", 2)
    rows, skipped = [], 0
    try:
        lines = list(read_jsonl(in_file))
    except UnicodeDecodeError:
        fail(f"{in_file} is not UTF-8 text", 2)
    for line in lines:
        error = line.error or (None if isinstance(line.data.get("question"), str) else 'no "question" text')
        if error:
            err_console.print(f"{in_file}:{line.number}: {error}; skipped", markup=False, highlight=False)
            skipped += 1
            continue
        if not line.data["question"].strip():
            fail(f"{in_file}:{line.number}: the question is empty; every question must be non-empty text", 2)
        rows.append(InputRow(line.number, line.data))
    return rows, skipped


def _solve_file(latm: Any, in_file: Path, out_file: Path | None, concurrency: int, as_json: bool, resume: bool) -> None:
    """Answers every question of a JSONL file; rows are written as they complete.

    Exit status: 0 every question answered; 1 the run finished and some rows failed (those
    rows say why); 2 a usage or input error, found before any paid call; 3 interrupted.
    """
    from latm.batch.answer_file import AnswerWriter, answer_row, check_output, done_keys, renamed_fields, resume_key
    from latm.batch.local import solve_local

    rows, skipped = _read_questions(in_file)
    if out_file is not None:
        try:
            check_output(out_file, in_file)
        except LATMError as exc:
            fail(str(exc), 2)
    elif resume:
        fail("--resume needs --out (the answers to resume from)", 2)
    clashing = renamed_fields(rows)
    if clashing:
        err_console.print(
            "input field(s) " + ", ".join(clashing) + " kept as " + ", ".join(f"input_{f}" for f in clashing),
            markup=False,
            highlight=False,
        )
    by_id = bool(rows) and all("id" in r.data for r in rows)
    kept: list[str] = []
    if resume and out_file is not None:
        keys, kept = done_keys(out_file, by_id)
        before = len(rows)
        rows = [r for r in rows if resume_key(r, by_id) not in keys]
        err_console.print(f"resuming: {before - len(rows)} question(s) already answered, {len(rows)} to go")
    writer = AnswerWriter(out_file, stream=None if out_file else sys.stdout, kept=kept)
    sols: list[Any] = []
    started = time.monotonic()

    def on_rows(indices: list[int], batch: list[Any]) -> None:  # one write per completed batch
        writer.write_many([answer_row(rows[i], sol) for i, sol in zip(indices, batch, strict=True)])

    with writer:
        try:
            sols = solve_local(latm, [r.question for r in rows], concurrency, on_rows)
        except KeyboardInterrupt:
            where = f"{out_file}.partial" if out_file else "stdout"
            err_console.print(
                f"interrupted: {writer.written} of {len(rows)} answered, written to {where}; "
                "run again with --resume to finish",
                markup=False,
                highlight=False,
            )
            raise SystemExit(3) from None
        writer.finish(complete=True)
    elapsed = time.monotonic() - started
    failed = sum(not s.ok for s in sols)
    modes: dict[str, int] = {}
    for s in sols:
        modes[s.mode] = modes.get(s.mode, 0) + 1
    err_console.print(
        f"{len(sols) - failed} answered, {failed} failed in {elapsed:.2f} s ({skipped} malformed line(s) skipped); "
        f"modes {modes}; {latm.usage.tokens} tokens, cost {money(latm.usage.cost_usd)}"
        + (f"; answers in {out_file}" if out_file else ""),
        markup=False,
        highlight=False,
    )
    raise SystemExit(1 if failed else 0)


# -- demo --------------------------------------------------------------------------------------


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
    maker: str | None,
    user_model: str | None,
    base_url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Make tools for the paper's tasks from 3+3 examples, then solve fresh questions with them."""
    from latm.eval.demo import run_demo

    latm, offline = open_latm(
        maker, user_model, base_url, api_key, offline_ok=True, on_attempt=None if as_json else show_attempt
    )
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
