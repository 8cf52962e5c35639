"""``solve_file``: a file of questions answered into an answer file, by either engine.

The steps every run takes, in this order, whichever engine answers: read the input (JSONL, or
Parquet for the Ray engine; a malformed JSONL line is said and skipped, a blank question stops the
run before any paid call), check the output (``answer_file.check_output``), say which input fields
are kept as ``input_<field>``, skip what ``--resume`` finds answered, then hand the rows to the
engine, which writes each batch as it completes. The exit status is the CLI's: 0 every question
answered, 1 some rows failed, 3 interrupted (run again with ``resume=True``); usage and input
errors are ``UserError`` raised before any work.
"""

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from latm.batch import labelled, local, parquet_file
from latm.batch.answer_file import (
    AnswerWriter,
    FileRun,
    InputRow,
    answer_row,
    check_output,
    done_keys,
    final_status,
    read_jsonl,
    renamed_fields,
    resume_key,
)
from latm.batch.ray.limits import RayOptions
from latm.batch.rows import require_ray
from latm.errors import UserError, not_utf8

Say = Callable[[str], None]


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def read_jsonl_rows(in_file: Path, say: Say) -> tuple[list[InputRow], int]:
    """The input rows with a question, and how many malformed lines were said and skipped."""
    if not in_file.exists():
        raise UserError(f"{in_file} does not exist")
    rows, skipped = [], 0
    try:
        lines = list(read_jsonl(in_file))
    except UnicodeDecodeError as exc:
        raise not_utf8(in_file, exc) from None
    for line in lines:
        error = line.error or (None if isinstance(line.data.get("question"), str) else 'no "question" text')
        if error:
            say(f"{in_file}:{line.number}: {error}; skipped")
            skipped += 1
            continue
        if not line.data["question"].strip():
            raise UserError(f"{in_file}:{line.number}: the question is empty; every question must be non-empty text")
        rows.append(InputRow(line.number, line.data))
    if not rows and not skipped:
        raise UserError(f'{in_file} holds no questions (one JSON object with a "question" a line)')
    return rows, skipped


def prepare(in_file: Path, out_file: Path | None, *, resume: bool, parquet_ok: bool, say: Say) -> FileRun:
    """Reads the input and checks the output; on resume, drops the rows already answered."""
    if parquet_file.is_parquet(in_file) and parquet_ok:
        rows, skipped = parquet_file.read_parquet_rows(in_file), 0
    else:
        rows, skipped = read_jsonl_rows(in_file, say)
    parquet_out = parquet_ok and out_file is not None and parquet_file.is_parquet(out_file)
    if out_file is not None:
        if parquet_out:
            parquet_file.check_parquet_output(out_file, in_file)
        else:
            check_output(out_file, in_file)
    elif resume:
        raise UserError("--resume needs --out (the answers to resume from)")
    clashing = renamed_fields(rows)
    if clashing:
        say("input field(s) " + ", ".join(clashing) + " kept as " + ", ".join(f"input_{f}" for f in clashing))
    by_id = bool(rows) and all("id" in r.data for r in rows)
    kept: list[str] = []
    if resume and out_file is not None:
        if parquet_out:
            keys = parquet_file.parquet_done_keys(out_file, by_id)
        else:
            keys, kept = done_keys(out_file, by_id)
        before = len(rows)
        rows = [r for r in rows if resume_key(r, by_id) not in keys]
        say(f"resuming: {before - len(rows)} question(s) already answered, {len(rows)} to go")
    return FileRun(rows=rows, out=out_file, parquet_out=parquet_out, kept=kept, skipped=skipped)


def solve_file(
    latm: Any,
    in_file: Path,
    out_file: Path | None = None,
    *,
    engine: str = "local",
    resume: bool = False,
    concurrency: int = 16,
    as_json: bool = False,
    ray: RayOptions | None = None,
    say: Say = _stderr,
    expected: str | None = None,
) -> int:
    """Answers every question of ``in_file`` into ``out_file`` (stdout when None) with ``latm``'s
    cached tools; returns the exit status (module docstring). Rows with an expected answer (the field
    ``expected``, else answer/target) get ``correct`` (``latm.batch.labelled``)."""
    if engine not in ("local", "ray"):
        raise UserError(f"unknown engine {engine!r}: use local or ray")
    if engine == "ray":
        require_ray()  # before any work: says how to install Ray
    run = prepare(in_file, out_file, resume=resume, parquet_ok=engine == "ray", say=say)
    if engine == "ray":
        from latm.batch.ray.supervision import run_on_ray

        return run_on_ray(latm, run, concurrency=concurrency, as_json=as_json, options=ray or RayOptions(), say=say)
    field = labelled.expected_field(run.rows, expected)
    if expected and not any(expected in r.data for r in run.rows):
        say(f"warning: no row has the field {expected!r}: nothing is scored")
    return _run_local(latm, run, concurrency, say, field)


def _run_local(latm: Any, run: FileRun, concurrency: int, say: Say, expected: str | None = None) -> int:
    rows, out_file = run.rows, run.out
    writer = AnswerWriter(out_file, stream=None if out_file else sys.stdout, kept=run.kept)
    sols: list[Any] = []
    started = time.monotonic()
    tally = labelled.Tally()

    def row_of(row: InputRow, sol: Any) -> dict[str, Any]:
        out = answer_row(row, sol)
        if expected is not None and expected in row.data:
            out["correct"] = labelled.is_correct(sol, row.data[expected])
            tally.add(row.question, sol, row.data[expected], out["correct"])
        return out

    def on_rows(indices: list[int], batch: list[Any]) -> None:  # one write per completed batch
        writer.write_many([row_of(rows[i], sol) for i, sol in zip(indices, batch, strict=True)])

    with writer:
        try:
            sols = local.solve_local(latm, [r.question for r in rows], concurrency, on_rows)
        except KeyboardInterrupt:
            where = f"{out_file}.partial" if out_file else "stdout"
            say(
                f"interrupted: {writer.written} of {len(rows)} answered, written to {where}; "
                "run again with --resume to finish"
            )
            return 3
        writer.finish(complete=True)
    elapsed = time.monotonic() - started
    failed = sum(not s.ok for s in sols)
    modes: dict[str, int] = {}
    for s in sols:
        modes[s.mode] = modes.get(s.mode, 0) + 1
    say(
        f"{len(sols) - failed} answered, {failed} failed in {elapsed:.2f} s ({run.skipped} malformed line(s) "
        f"skipped); modes {modes}; {latm.usage.tokens} tokens, cost {_money(latm.usage.cost_usd)}"
        + (f"; answers in {out_file}" if out_file else "")
    )
    canaries = getattr(latm, "canaries", None)
    if canaries is not None and canaries.summary():
        say(canaries.summary())
    for line in tally.lines():
        say(line)
    return final_status(run, failed, say)


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"
