"""``latm solve --file F --out O --engine ray``: the answer-file rules on a Ray cluster.

JSONL or Parquet in and out, by extension. The driver reads the input (a blank question stops the
run before any paid call; every row gets its ``line``), skips what ``--resume`` finds answered,
and writes the rows as their batches complete: JSONL to ``OUT.partial`` (renamed to ``OUT`` in
input order when whole), Parquet as one file per batch in the folder ``OUT.partial/`` (each file
written whole, then renamed in; the folder renamed to ``OUT`` when whole).
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

from latm.batch.answer_file import AnswerWriter, InputRow, done_keys, partial_path, renamed_fields, resume_key
from latm.batch.ray.engine import DEFAULT_BATCH_SIZE, RateLimit, questions_dataset, solve_dataset
from latm.batch.rows import ADDED_COLUMNS, require_ray
from latm.errors import UserError

ADDED = ("line", *ADDED_COLUMNS)


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def read_parquet_rows(path: Path) -> list[InputRow]:
    import pyarrow.parquet as pq

    if not path.exists():
        raise UserError(f"{path} does not exist")
    table = pq.read_table(path)
    if "question" not in table.column_names:
        raise UserError(f"{path} has no 'question' column (it has {', '.join(table.column_names)})")
    rows = []
    for n, data in enumerate(table.to_pylist(), 1):
        q = data.get("question")
        if not isinstance(q, str) or not q.strip():
            raise UserError(f"{path}: row {n}: the question is empty; every question must be non-empty text")
        rows.append(InputRow(n, data))
    return rows


def check_parquet_output(out: Path, inputs: Path) -> None:
    if out.resolve() == inputs.resolve():
        raise UserError(f"--out {out} is the input: answers would overwrite the questions; choose another path")
    folder = out.resolve().parent
    if not folder.is_dir():
        raise UserError(f"cannot write {out}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UserError(f"cannot write {out}: the folder {folder} is not writable")
    if out.exists() and not out.is_dir():
        raise UserError(f"cannot write {out}: it is a file (Parquet output is a folder of part files)")


def parquet_done_keys(out: Path, by_id: bool) -> set[Any]:
    """The keys already answered in the folder OUT.partial (else OUT)."""
    import pyarrow.parquet as pq

    source = partial_path(out) if partial_path(out).exists() else out
    keys: set[Any] = set()
    if not source.is_dir():
        return keys
    for part in sorted(source.glob("part-*.parquet")):
        column = "id" if by_id else "line"
        table = pq.read_table(part, columns=[column])
        for value in table.column(column).to_pylist():
            keys.add(("id", json.dumps(value, sort_keys=True)) if by_id else ("line", value))
    return keys


class ParquetParts:
    """One Parquet file per completed batch in OUT.partial/, each written whole and renamed in."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.folder = partial_path(out)
        if out.is_dir() and not self.folder.exists():
            os.replace(out, self.folder)  # resuming a whole output: keep its parts
        self.folder.mkdir(exist_ok=True)
        numbers = [int(p.stem.split("-")[1]) for p in self.folder.glob("part-*.parquet")]
        self.next = max(numbers, default=0) + 1
        self.written = 0

    def write(self, table: Any) -> None:
        import pyarrow.parquet as pq

        name = f"part-{self.next:06d}.parquet"
        tmp = self.folder / f".{name}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, self.folder / name)
        self.next += 1
        self.written += table.num_rows

    def finish(self) -> None:
        if self.out.exists():
            import shutil

            shutil.rmtree(self.out)
        os.replace(self.folder, self.out)


def connect(address: str | None) -> bool:
    """Ray for this run: the one already initialised, else ADDRESS, else RAY_ADDRESS, else a local
    Ray started now. Returns whether this run started (and must shut down) the connection."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
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


def solve_file_ray(
    latm: Any,
    in_file: Path,
    out_file: Path | None,
    *,
    concurrency: int,
    as_json: bool,
    resume: bool,
    address: str | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
    rate_limit: RateLimit | None = None,
    read_jsonl_rows: Any = None,
    say: Any = print,
) -> int:
    """Runs the file on Ray; returns the exit status (0 all answered, 1 some failed, 3 interrupted).
    Usage and input errors raise UserError before any work."""
    require_ray()  # before any work: says how to install Ray
    rows: list[InputRow] = read_parquet_rows(in_file) if is_parquet(in_file) else read_jsonl_rows(in_file)
    parquet_out = out_file is not None and is_parquet(out_file)
    if out_file is not None:
        if parquet_out:
            check_parquet_output(out_file, in_file)
        else:
            from latm.batch.answer_file import check_output

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
            keys = parquet_done_keys(out_file, by_id)
        else:
            keys, kept = done_keys(out_file, by_id)
        before = len(rows)
        rows = [r for r in rows if resume_key(r, by_id) not in keys]
        say(f"resuming: {before - len(rows)} question(s) already answered, {len(rows)} to go")
    return supervised(
        lambda: _run_job(
            latm,
            rows,
            out_file,
            parquet_out,
            kept,
            concurrency,
            as_json,
            address,
            workers,
            batch_size,
            rate_limit,
            say,
        ),
        out_file,
        len(rows),
        say,
    )


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
    if not real or not hasattr(os, "fork") or os.environ.get("LATM_RAY_UNSUPERVISED"):
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
        inputs = [{**{(f"input_{k}" if k in ADDED else k): v for k, v in r.data.items()}, "line": r.line} for r in rows]
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
                say(_stopped("interrupted", parts, writer, out_file, len(rows)))
            except ray.exceptions.RayError as exc:
                status = 3
                say(_stopped(f"the Ray job stopped: {_first_line(exc)}", parts, writer, out_file, len(rows)))
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
    return 1 if failed else 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _stopped(why: str, parts: ParquetParts | None, writer: AnswerWriter | None, out: Path | None, total: int) -> str:
    written = parts.written if parts is not None else (writer.written if writer is not None else 0)
    where = f"{partial_path(out)}" if out else "stdout"
    return (
        f"{why}: {written} of {total} question(s) answered, written to {where} (every row whole); "
        "run again with --resume to finish"
    )
