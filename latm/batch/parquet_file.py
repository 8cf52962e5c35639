"""Parquet answer files (the Ray engine's): input rows, the output checks, what ``--resume`` finds
answered, and the output written as one part file per completed batch in ``OUT.partial/`` (each
written whole, then renamed in; the folder renamed to ``OUT`` when whole)."""

import json
import os
from pathlib import Path
from typing import Any

from latm.batch.answer_file import InputRow, partial_path
from latm.errors import UserError


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
