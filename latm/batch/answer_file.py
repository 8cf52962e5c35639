"""Answer files: every answer written as it completes, nothing lost, nothing overwritten.

The rules:

- A run writes ``OUT.partial`` and renames it to ``OUT`` once every question has a row, so a
  partial file is never taken for a whole one. Rows are whole JSON lines, flushed one by one.
- ``--resume`` skips the questions already answered in ``OUT.partial`` (or ``OUT``), by the
  input's ``id`` field where every row has one, else by input line number (every row carries
  ``line``).
- An input field that a row would overwrite (``answer``, ``ok``...) is kept as
  ``input_<field>``; labelled data keeps its labels.
- The output is checked (its folder exists and is writable, it is not the input) before the
  first question is sent.
"""

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from latm.batch.rows import ADDED_COLUMNS, solution_values
from latm.errors import UserError

ADDED_FIELDS = ("line", *ADDED_COLUMNS)


@dataclass
class InputRow:
    line: int
    data: dict[str, Any]

    @property
    def question(self) -> str:
        return str(self.data["question"])


def partial_path(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


def check_output(out: Path, inputs: Path) -> None:
    """Refuses an output that would overwrite the input or that cannot be written, before any work."""
    if out.resolve() == inputs.resolve():
        raise UserError(f"--out {out} is the input file: answers would overwrite the questions; choose another file")
    folder = out.resolve().parent
    if not folder.is_dir():
        raise UserError(f"cannot write {out}: the folder {folder} does not exist")
    if out.is_dir():
        raise UserError(f"cannot write {out}: it is a folder")
    if not os.access(folder, os.W_OK):
        raise UserError(f"cannot write {out}: the folder {folder} is not writable")


@dataclass
class FileRun:
    """The rows still to answer, and what the run keeps from an earlier one."""

    rows: list[InputRow]
    out: Path | None
    parquet_out: bool = False
    kept: list[str] = field(default_factory=list)  # whole JSONL rows kept from OUT.partial on resume
    skipped: int = 0  # malformed input lines

    @property
    def kept_failed(self) -> int:
        """Rows kept from the earlier run that have no answer: a resumed run's status counts them."""
        return sum(1 for raw in self.kept if not json.loads(raw).get("ok", True))


def final_status(run: FileRun, failed: int, say: Callable[[str], None]) -> int:
    """0 when every question of the file has an answer: this run's, and on resume the earlier run's."""
    kept_failed = run.kept_failed
    if kept_failed:
        say(f"{kept_failed} row(s) kept from the earlier run have no answer: exit status 1")
    if run.skipped:
        say(f"{run.skipped} input line(s) could not be read (said above): exit status 1")
    return 1 if failed or run.skipped or kept_failed else 0


def stopped(why: str, written: int, total: int, out: Path | None) -> str:
    """What an interrupted run says: how far it got, where the rows are, how to finish."""
    where = f"{partial_path(out)}" if out else "stdout"
    return (
        f"{why}: {written} of {total} question(s) answered, written to {where} (every row whole); "
        "run again with --resume to finish"
    )


def renamed_fields(rows: Iterable[InputRow]) -> list[str]:
    """The input fields a row would overwrite (kept as ``input_<field>``)."""
    return sorted({k for r in rows for k in r.data if k in ADDED_FIELDS})


def resume_key(row: InputRow, by_id: bool) -> Any:
    return ("id", json.dumps(row.data.get("id"), sort_keys=True)) if by_id else ("line", row.line)


def done_keys(out: Path, by_id: bool) -> tuple[set[Any], list[str]]:
    """The keys already answered in OUT.partial (else OUT), and those whole rows, to keep."""
    source = partial_path(out) if partial_path(out).exists() else out
    if not source.exists():
        return set(), []
    keys, kept = set(), []
    for raw in source.read_text(encoding="utf-8").split("\n"):  # not splitlines: U+2028 may be in a row
        try:
            row = json.loads(raw)
        except json.JSONDecodeError:
            continue  # a line cut off by an interrupt: that question is answered again
        if not isinstance(row, dict):
            continue
        if by_id:
            if "id" not in row:
                continue
            keys.add(("id", json.dumps(row["id"], sort_keys=True)))
        else:
            if "line" not in row:
                continue
            keys.add(("line", row["line"]))
        kept.append(raw)
    return keys, kept


@dataclass
class AnswerWriter:
    """Writes answer rows as they complete: to ``OUT.partial`` (renamed to ``OUT`` when whole) or
    to a stream (stdout).

    Rows land in the order they complete; the whole file is put in input order at the end from an
    index of where each row landed (its ``line``, offset and size), without parsing the rows again."""

    out: Path | None
    stream: IO[str] | None = None
    kept: list[str] = field(default_factory=list)
    _fh: IO[str] | None = None
    written: int = 0
    _index: list[tuple[int, int, int]] = field(default_factory=list)
    _offset: int = 0

    def __enter__(self) -> "AnswerWriter":
        if self.out is not None:
            self._fh = open(partial_path(self.out), "w", encoding="utf-8", newline="\n")
            lines = [_line_of(raw) for raw in self.kept]
            self._put(lines, [raw + "\n" for raw in self.kept], count=False)
        return self

    def write(self, row: dict[str, Any]) -> None:
        self.write_many([row])

    def write_many(self, rows: list[dict[str, Any]]) -> None:
        """Whole lines, in one write."""
        texts = [json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows]
        self._put([r.get("line", 0) for r in rows], texts)

    def _put(self, lines: list[int], texts: list[str], count: bool = True) -> None:
        if self._fh is not None:
            for line, text in zip(lines, texts, strict=True):
                size = len(text.encode("utf-8"))
                self._index.append((line, self._offset, size))
                self._offset += size
        target = self._fh if self._fh is not None else self.stream
        assert target is not None
        target.write("".join(texts))
        target.flush()
        if count:
            self.written += len(texts)

    def finish(self, complete: bool) -> None:
        """Closes the file; renames it to OUT, rows in input order, only when every question has a row."""
        if self._fh is None:
            return
        self._fh.close()
        self._fh = None
        if complete and self.out is not None:
            part = partial_path(self.out)
            data = part.read_bytes()
            self._index.sort(key=lambda entry: entry[0])  # stable: rows of one line keep their order
            tmp = self.out.with_name(self.out.name + ".tmp")
            with open(tmp, "wb") as fh:
                fh.writelines(data[offset : offset + size] for _, offset, size in self._index)
            os.replace(tmp, self.out)
            part.unlink()

    def __exit__(self, *exc: object) -> None:
        self.finish(complete=False)


def _line_of(raw: str) -> int:
    row = json.loads(raw)  # a kept row was parsed whole when it was read (``done_keys``)
    return row.get("line", 0) if isinstance(row, dict) else 0


def input_fields(row: InputRow) -> dict[str, Any]:
    """The input's fields, a clashing one as ``input_<field>``, and its ``line``."""
    return {**{(f"input_{k}" if k in ADDED_FIELDS else k): v for k, v in row.data.items()}, "line": row.line}


def answer_row(row: InputRow, solution: Any) -> dict[str, Any]:
    """The input's fields (``input_fields``) and the answer's."""
    return {**input_fields(row), **solution_values(solution)}


@dataclass
class JsonLine:
    number: int
    data: dict[str, Any]
    error: str | None = None


def read_jsonl(path: str | Path) -> Iterator[JsonLine]:
    """Every non-blank line as a JSON object; malformed lines come back with an error, not raised."""
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield JsonLine(number, {}, f"not valid JSON ({exc.msg})")
                continue
            if not isinstance(data, dict):
                yield JsonLine(number, {}, "not a JSON object")
                continue
            yield JsonLine(number, data)
