"""The Ray engine under ``solve_file``: the job run and supervised from the driver.

``solve_file`` has read the input and applied the answer-file rules; here the rows go to Ray as a
dataset and are written as their batches complete: JSONL to ``OUT.partial`` (renamed to ``OUT`` in
input order when whole), Parquet as one file per batch in the folder ``OUT.partial/``. The job runs
in a forked child (``supervised``) so a cluster that goes away is said plainly, with exit 3.
"""

import json
import os
import pickle
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from latm.batch.answer_file import (
    AnswerWriter,
    FileRun,
    InputRow,
    final_status,
    input_fields,
    partial_path,
    stopped,
)
from latm.batch.parquet_file import ParquetParts
from latm.batch.ray.engine import DEFAULT_BATCH_SIZE, questions_dataset, solve_dataset
from latm.batch.ray.limits import RateLimit, RayOptions
from latm.batch.rows import require_ray
from latm.errors import UserError
from latm.judge.canaries import describe
from latm.settings import Settings


def connect(address: str | None) -> bool:
    """Ray for this run: the one already initialised, else ADDRESS, else RAY_ADDRESS, else a local
    Ray started now. Returns whether this run started (and must shut down) the connection."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    address = Settings.load(ray_address=address).ray_address
    import logging

    from latm.batch.ray.engine import init_ray

    try:
        init_ray(address, logging_level=logging.WARNING)
    except Exception as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise UserError(f"cannot start or reach {where}: {type(exc).__name__}: {exc}") from exc
    return True


def quiet_ray_data() -> None:
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    for attr in ("print_on_execution_start", "enable_operator_progress_bars"):
        if hasattr(ctx, attr):
            setattr(ctx, attr, False)


def supervised(job: Callable[[], int], out: Path | None, total: int, say: Any) -> int:
    """Runs ``job`` in a forked child and returns its status (or re-raises its error).

    Ray ends a driver whose node goes away at once, from C++ ("the connection to the plasma
    store is failed. Terminate the process"): no Python handler runs there, so the process that
    the user's shell waits for must be another one. When the child ends without a result, the
    cluster went away: that is said plainly, with what was written (every row whole), and the
    status is 3 (run again with --resume). Without real stdout/stderr file descriptors (an
    in-memory console, as in tests) or without fork, the job runs in this process."""
    try:
        real = sys.stdout.fileno() >= 0 and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        real = False
    if not real or not hasattr(os, "fork") or Settings.load().ray_unsupervised:
        return job()
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the job; its result (a status or an error) goes back through the pipe
        os.close(read_end)
        result: tuple[int, BaseException | None] = (1, None)
        try:
            result = (job(), None)
        except BaseException as exc:  # re-raised in the parent, where the CLI reports it
            result = (2, exc)
        try:
            payload = pickle.dumps(result)
        except Exception:
            payload = pickle.dumps((2, RuntimeError(f"{type(result[1]).__name__}: {result[1]}")))
        sys.stdout.flush()
        sys.stderr.flush()
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write_end)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the child, which stops cleanly
    try:
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        _, wait_status = os.waitpid(pid, 0)
    finally:
        signal.signal(signal.SIGINT, previous)
    if payload:
        status, error = pickle.loads(payload)
        if error is not None:
            raise error
        return int(status)
    code = os.waitstatus_to_exitcode(wait_status)
    how = f"signal {-code}" if code < 0 else f"exit {code}"
    say(
        f"the Ray cluster went away mid-job (Ray ended the driver process, {how}): "
        f"{rows_written(out)} of {total} question(s) answered, written to "
        f"{partial_path(out) if out else 'stdout'} (every row whole); run again with --resume to finish"
    )
    return 3


def rows_written(out: Path | None) -> int | str:
    """The whole rows in OUT.partial (JSONL lines, or the rows of Parquet part files)."""
    if out is None:
        return "some"
    partial = partial_path(out)
    if partial.is_dir():
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in partial.glob("part-*.parquet"))
    if not partial.exists():
        return 0
    return partial.read_bytes().count(b"\n")


def _run_job(
    latm: Any,
    rows: list[InputRow],
    out_file: Path | None,
    parquet_out: bool,
    kept: list[str],
    concurrency: int,
    as_json: bool,
    address: str | None,
    workers: int | None,
    batch_size: int | None,
    rate_limit: RateLimit | None,
    say: Any,
) -> int:
    ray = require_ray()
    started_ray = connect(address)
    started = time.monotonic()
    summary: dict[str, Any] = {}
    status = 0
    parts: ParquetParts | None = None
    writer: AnswerWriter | None = None
    job: Any = None
    try:
        quiet_ray_data()
        # the row contract: input fields (clashing ones as input_<field>), then line, then the answer's
        inputs = [input_fields(r) for r in rows]
        if inputs:  # lazy; checks the sandbox backend on every node before anything is written
            ds = questions_dataset(inputs, batch_size or DEFAULT_BATCH_SIZE)
            job = solve_dataset(
                latm, ds, concurrency=concurrency, workers=workers, batch_size=batch_size, rate_limit=rate_limit
            )
        if parquet_out:
            assert out_file is not None
            parts = ParquetParts(out_file)
        else:
            writer = AnswerWriter(out_file, stream=None if out_file else sys.stdout, kept=kept)
            writer.__enter__()
        if job is not None:
            try:
                for table in job.dataset.iter_batches(batch_format="pyarrow", batch_size=None):
                    if parts is not None:
                        parts.write(table)
                    elif writer is not None:
                        writer.write_many(table.to_pylist())
            except KeyboardInterrupt:
                status = 3
                say(stopped("interrupted", _written(parts, writer), len(rows), out_file))
            except ray.exceptions.RayError as exc:
                status = 3
                say(stopped(f"the Ray job stopped: {_first_line(exc)}", _written(parts, writer), len(rows), out_file))
        if status == 0:
            if parts is not None:
                parts.finish()
            elif writer is not None:
                writer.finish(complete=True)
    finally:
        if writer is not None:
            writer.finish(complete=False)
        if job is not None:
            try:
                summary = job.merge(latm)
            except Exception as exc:  # the cluster went away with the ledger
                say(f"warning: the uses of this job could not be recorded: {_first_line(exc)}")
        if started_ray:
            ray.shutdown()
    if status:
        return status
    wall = time.monotonic() - started
    n = summary.get("rows", 0)
    failed = summary.get("failed", 0)
    report = {
        "engine": "ray",
        "rows": n,
        "answered": n - failed,
        "failed": failed,
        "modes": summary.get("modes", {}),
        "workers": summary.get("workers", 0),
        "wall_s": round(wall, 3),
        "questions_per_s": round(n / wall, 1) if wall > 0 else None,
        "tokens": latm.usage.tokens,
        "cost_usd": latm.usage.cost_usd,
        "out": str(out_file) if out_file else None,
    }
    if as_json and out_file is not None:
        print(json.dumps(report))
    else:
        say(
            f"{n} rows: {n - failed} answered, {failed} failed; modes {report['modes']}; "
            f"{report['workers']} worker(s); {wall:.2f} s ({report['questions_per_s']} questions/s); "
            f"{latm.usage.tokens} tokens" + (f"; answers in {out_file}" if out_file else "")
        )
    canaries = describe(
        summary.get("canaries_passed", 0),
        summary.get("canaries_failed", 0),
        list(summary.get("quarantined", {}).values()),
    )
    if canaries:
        say(canaries)
    return 1 if failed else 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _written(parts: ParquetParts | None, writer: AnswerWriter | None) -> int:
    return parts.written if parts is not None else (writer.written if writer is not None else 0)


def run_on_ray(latm: Any, run: FileRun, *, concurrency: int, as_json: bool, options: RayOptions, say: Any) -> int:
    """Runs the rows on Ray, supervised; returns the exit status (0, 1, or 3 when stopped; 1 also when
    some input lines could not be read)."""
    status = supervised(
        lambda: _run_job(
            latm,
            run.rows,
            run.out,
            run.parquet_out,
            run.kept,
            concurrency,
            as_json,
            options.address,
            options.workers,
            options.batch_size or DEFAULT_BATCH_SIZE,
            options.rate_limit,
            say,
        ),
        run.out,
        len(run.rows),
        say,
    )
    if status == 0:
        return final_status(run, 0, say)
    return status
