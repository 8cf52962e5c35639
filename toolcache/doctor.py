"""``diagnose`` and ``repair`` a tool cache directory: damaged records, indexes, databases.

    from toolcache.doctor import diagnose, repair
    report = diagnose(directory)   # reads only; says what is wrong and what can be saved
    report = repair(directory)     # moves the damage aside, never loses a readable tool

What ``repair`` does:

- a damaged record (cut-off JSON, a tool edited behind its id, a usage record that is not
  usage stats, a damaged index or tombstone) goes into ``quarantine-<UTC time>.jsonl`` in the
  cache directory, one ``{"key", "raw", "reason"}`` line each, and leaves the database;
  a readable usage record whose tool is unreadable or missing goes with it;
- the ``task:`` and ``name:`` indexes are rebuilt from the readable tool records (a task's
  versions in the order of their ``version`` field);
- a database SQLite cannot read (garbage, truncated, not SQLite, failing its integrity check)
  is moved aside to ``cache.db.damaged-<UTC time>`` (with its -wal/-shm files); what SQLite
  can still read of its ``tool:``/``usage:`` rows is salvaged into a fresh database;
- a file where the cache directory should be is moved aside to ``<dir>.damaged-<UTC time>``
  and a fresh cache directory takes its place.
"""

import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, computed_field

from toolcache.errors import CacheUnreadable, ToolCacheError
from toolcache.models import Tool, UsageStats
from toolcache.store import (
    DB_FILE,
    BadValue,
    ToolCache,
    _dump,
    database_error,
    parse_index,
    parse_json,
    parse_tool,
    parse_usage,
)

DB_SIDE_FILES = ("", "-wal", "-shm")
MAX_SALVAGE_ROWS = 1_000_000
SALVAGE_MISS_RUN = 2_000  # rowids in a row that yield nothing before a salvage walk gives up


class ToolInfo(BaseModel):
    id: str
    name: str
    task: str
    version: int
    status: str


class BadRecord(BaseModel):
    key: str
    tool: str | None = None  # the tool's id prefix, for tool:/usage:/gone: records
    reason: str


class MovedFile(BaseModel):
    source: str
    target: str


class DoctorReport(BaseModel):
    """What ``diagnose`` found, and (``fixed``) what ``repair`` did about it."""

    directory: str
    database: str
    fixed: bool = False  # repair() ran
    problem: str | None = None  # the database or the directory as a whole, when unreadable
    tools: list[ToolInfo] = Field(default_factory=list)  # readable (after repair: held now)
    bad_records: list[BadRecord] = Field(default_factory=list)
    index_problems: list[str] = Field(default_factory=list)
    index_fixed: list[str] = Field(default_factory=list)
    moved_aside: list[MovedFile] = Field(default_factory=list)
    quarantine_file: str | None = None
    salvaged: int | None = None  # tools saved from an unreadable database (diagnose: that can be)
    remaining: list[str] = Field(default_factory=list)  # problems left (diagnose: every one found)
    fixable: bool = True  # False: repair() would change nothing (e.g. a file above the directory)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def healthy(self) -> bool:
        """Nothing was wrong."""
        return self.problem is None and not self.bad_records and not self.index_problems

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """Nothing is wrong now: healthy, or repaired."""
        return not self.remaining


# -- reading what is there ----------------------------------------------------------------------


class _Scan:
    """Every record of one database, sorted into readable and damaged."""

    def __init__(self) -> None:
        self.tools: dict[str, Tool] = {}
        self.usage: dict[str, UsageStats] = {}
        self.indexes: dict[str, list[str]] = {}
        self.bad: list[tuple[str, Any, str]] = []  # (key, raw, reason)
        self.bad_tool_ids: set[str] = set()
        self.raw_usage: dict[str, Any] = {}

    def add(self, key: Any, raw: Any) -> None:
        if not isinstance(key, str) or raw is None:
            return
        kind, _, rest = key.partition(":")
        if kind == "usage":
            self.raw_usage[rest] = raw
        try:
            if kind == "tool":
                self.tools[rest] = parse_tool(rest, raw)
            elif kind == "usage":
                self.usage[rest] = parse_usage(raw)
            elif kind in ("task", "name"):
                self.indexes[key] = parse_index(raw)
            elif kind == "gone" and not isinstance(parse_json(raw), dict):
                raise BadValue("not a removal record")
        except BadValue as exc:
            self.bad.append((key, raw, str(exc)))
            if kind == "tool":
                self.bad_tool_ids.add(rest)

    def orphan_usage(self) -> None:
        """Readable usage records whose tool is damaged or missing go with it (nothing is lost:
        the quarantine file keeps them)."""
        for tool_id in sorted(set(self.usage) - set(self.tools)):
            why = "damaged" if tool_id in self.bad_tool_ids else "missing"
            self.bad.append((f"usage:{tool_id}", self.raw_usage.get(tool_id), f"usage of a tool whose record is {why}"))
            del self.usage[tool_id]


def _scan_cache(cache: ToolCache) -> _Scan:
    scan = _Scan()
    db = cache._db
    for key in list(db.iterkeys()):
        scan.add(key, db.get(key))
    scan.orphan_usage()
    return scan


def _expected_indexes(tools: Iterable[Tool], current: dict[str, list[str]]) -> dict[str, list[str]]:
    """The indexes the readable tools call for: each index's readable ids in their present order
    (once each), then any missing ones by creation time; a task's ids then (stably) in the order
    of their ``version`` field."""
    by_key: dict[str, dict[str, Tool]] = {}
    for t in tools:
        by_key.setdefault(f"task:{t.task}", {})[t.id] = t
        by_key.setdefault(f"name:{t.name}", {})[t.id] = t
    expected: dict[str, list[str]] = {}
    for key, group in by_key.items():
        kept = list(dict.fromkeys(i for i in current.get(key, []) if i in group))
        rest = sorted(
            (t for i, t in group.items() if i not in kept), key=lambda t: (t.provenance.created_at, t.version, t.id)
        )
        ids = kept + [t.id for t in rest]
        if key.startswith("task:"):
            ids.sort(key=lambda i: group[i].version)
        expected[key] = ids
    return expected


def _index_problems(scan: _Scan, expected: dict[str, list[str]]) -> list[str]:
    problems = []
    for key in sorted(set(scan.indexes) | set(expected)):
        have, want = scan.indexes.get(key), expected.get(key, [])
        if have is None:
            if any(b[0] == key for b in scan.bad):
                problems.append(f"{key} is damaged")
            else:
                problems.append(f"{key} is missing (tools {', '.join(i[:12] for i in want)})")
            continue
        if have == want:
            continue
        unreadable = [i[:12] for i in have if i not in scan.tools]
        missing = [i[:12] for i in want if i not in have]
        if unreadable:
            problems.append(f"{key} lists {', '.join(unreadable)}, with no readable record")
        if missing:
            problems.append(f"{key} does not list {', '.join(missing)}")
        if not unreadable and not missing:
            problems.append(f"{key} is out of {'version ' if key.startswith('task:') else ''}order or has duplicates")
    return problems


def _tool_infos(tools: Iterable[Tool]) -> list[ToolInfo]:
    return [
        ToolInfo(id=t.id, name=t.name, task=t.task, version=t.version, status=t.status)
        for t in sorted(tools, key=lambda t: (t.task, t.version, t.id))
    ]


def _bad_records(bad: list[tuple[str, Any, str]]) -> list[BadRecord]:
    out = []
    for key, _, reason in bad:
        kind, _, rest = key.partition(":")
        out.append(BadRecord(key=key, tool=rest[:12] if kind in ("tool", "usage", "gone") else None, reason=reason))
    return out


def _integrity_problem(db_path: Path) -> str | None:
    """None when SQLite reads the whole database; else what it says is wrong."""
    try:
        con = sqlite3.connect(db_path, timeout=60)
        try:
            rows = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        _raise_if_busy(db_path.parent, exc)
        return str(exc) or type(exc).__name__
    messages = [str(r[0]) for r in rows]
    if messages == ["ok"]:
        return None
    text = "; ".join(line.strip("* ") for m in messages for line in m.splitlines() if line.strip("* "))
    return "integrity check failed: " + (text if len(text) <= 200 else text[:197] + "...")


def _raise_if_busy(directory: Path, exc: sqlite3.DatabaseError) -> None:
    """A database another process holds locked is not damaged: say so, and touch nothing."""
    error = database_error(directory, exc)
    if not isinstance(error, CacheUnreadable):
        raise error from exc


def _salvage(db_path: Path) -> _Scan:
    """The ``tool:``/``usage:`` rows SQLite can still read from a damaged database, read from a
    temporary copy (the damaged file itself is left as it is). Nothing readable: an empty scan."""
    scan = _Scan()
    with tempfile.TemporaryDirectory(prefix="latm-salvage-") as tmp:
        copy = Path(tmp) / "salvage.db"
        for suffix in DB_SIDE_FILES:
            source = Path(f"{db_path}{suffix}")
            if source.is_file():
                shutil.copyfile(source, f"{copy}{suffix}")
        if not copy.exists():
            return scan
        rows: dict[Any, Any] = {}
        try:
            con = sqlite3.connect(copy)
            # Reads a file shorter than its header says (truncated) instead of refusing it whole.
            con.execute("PRAGMA writable_schema = ON")
        except sqlite3.Error:
            return scan
        try:
            _read_rows(con, rows)
        finally:
            con.close()
    for key, value in rows.items():
        if isinstance(key, str) and key.startswith(("tool:", "usage:")):
            scan.add(key, value)
    scan.orphan_usage()
    return scan


def _read_rows(con: sqlite3.Connection, rows: dict[Any, Any]) -> None:
    """Every (key, value) row of diskcache's Cache table SQLite can still read: in one scan, and
    when a damaged page stops it, row by row around the damage."""
    try:
        for key, value in con.execute("SELECT key, value FROM Cache"):
            rows[key] = value
        return
    except sqlite3.DatabaseError:
        pass
    try:
        top = int(con.execute("SELECT max(rowid) FROM Cache").fetchone()[0] or 0)
    except sqlite3.DatabaseError:
        top = None  # unknown: walk on until a long run of rowids yields nothing
    misses, rowid = 0, 0
    while rowid < MAX_SALVAGE_ROWS and (rowid < top if top is not None else misses < SALVAGE_MISS_RUN):
        rowid += 1
        try:
            row = con.execute("SELECT key, value FROM Cache WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None:
            misses += 1
            continue
        misses = 0
        rows.setdefault(row[0], row[1])


def _unreadable_db(directory: Path) -> str | None:
    """Why the cache database cannot be used as it is, or None."""
    db_path = directory / DB_FILE
    if not db_path.exists():
        return None
    problem = _integrity_problem(db_path)
    return f"the database {db_path} is unreadable ({problem})" if problem else None


def _not_a_directory(directory: Path) -> str:
    return f"the cache directory {directory} is a file, not a directory"


# -- diagnose ---------------------------------------------------------------------------------------


def diagnose(directory: str | os.PathLike[str]) -> DoctorReport:
    """What is wrong with the cache in ``directory``, and what can be saved. Changes nothing
    (a healthy database is opened as every command opens it)."""
    directory = Path(directory)
    report = DoctorReport(directory=str(directory), database=str(directory / DB_FILE))
    if directory.exists() and not directory.is_dir():
        report.problem = _not_a_directory(directory)
        report.salvaged = _count_salvage(_salvage(directory), report)
        report.remaining = [report.problem]
        return report
    if not directory.exists():
        blocker = next((p for p in directory.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:  # not ours to move: say so, and leave it to the user
            report.problem = (
                f"{blocker}, above the cache directory {directory}, is a file; point LATM_CACHE_DIR elsewhere"
            )
            report.remaining = [report.problem]
            report.fixable = False
        return report  # else no cache yet: healthy and empty
    if not (directory / DB_FILE).exists():
        return report  # no cache yet: healthy and empty
    problem = _unreadable_db(directory)
    scan = None
    if problem is None:
        try:
            with ToolCache(directory) as cache:
                scan = _scan_cache(cache)
        except sqlite3.DatabaseError as exc:
            _raise_if_busy(directory, exc)
            problem = f"the database {directory / DB_FILE} is unreadable ({_reason_of(exc)})"
        except CacheUnreadable as exc:
            problem = f"the database {directory / DB_FILE} is unreadable ({_reason_of(exc)})"
    if problem is not None or scan is None:
        report.problem = problem
        report.salvaged = _count_salvage(_salvage(directory / DB_FILE), report)
        report.remaining = [str(problem)]
        return report
    expected = _expected_indexes(scan.tools.values(), scan.indexes)
    report.tools = _tool_infos(scan.tools.values())
    report.bad_records = _bad_records(scan.bad)
    report.index_problems = _index_problems(scan, expected)
    report.remaining = [f"{b.key}: {b.reason}" for b in report.bad_records] + report.index_problems
    return report


def _count_salvage(scan: _Scan, report: DoctorReport) -> int:
    report.tools = _tool_infos(scan.tools.values())
    report.bad_records = _bad_records(scan.bad)
    return len(scan.tools)


def _reason_of(exc: BaseException) -> str:
    cause = exc.__cause__ if isinstance(exc, ToolCacheError) and exc.__cause__ is not None else exc
    return str(cause) or type(cause).__name__


# -- repair -----------------------------------------------------------------------------------------


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _free_name(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``... (for it and its -wal/-shm files), whichever is free."""
    candidate, n = path, 1
    while any(Path(f"{candidate}{s}").exists() for s in DB_SIDE_FILES):
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _quarantine(directory: Path, bad: list[tuple[str, Any, str]], stamp: str) -> Path | None:
    """Appends the damaged records to the quarantine file (synced to disk before they leave the database)."""
    if not bad:
        return None
    path = directory / f"quarantine-{stamp}.jsonl"
    with path.open("a", encoding="utf-8") as fh:
        for key, raw, reason in bad:
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8", errors="backslashreplace")
            elif raw is not None and not isinstance(raw, str):
                raw = repr(raw)
            fh.write(json.dumps({"key": key, "raw": raw, "reason": reason}, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return path


def _write_indexes(db: Any, scan: _Scan, report: DoctorReport) -> None:
    expected = _expected_indexes(scan.tools.values(), scan.indexes)
    damaged = {key for key, _, _ in scan.bad if key.startswith(("task:", "name:"))}
    for key in sorted(set(scan.indexes) | set(expected) | damaged):
        want = expected.get(key)
        if scan.indexes.get(key) == want:
            continue
        if want:
            db.set(key, _dump(want))
            report.index_fixed.append(f"rebuilt {key} ({len(want)} tool(s))")
        else:
            db.delete(key)
            report.index_fixed.append(f"dropped {key} (no readable tool)")


def repair(directory: str | os.PathLike[str]) -> DoctorReport:
    """Moves every damaged thing aside and rebuilds the indexes; never loses a readable tool."""
    directory = Path(directory)
    try:
        return _repair(directory)
    except sqlite3.DatabaseError as exc:  # damage that showed only now, or a database held locked
        raise database_error(directory, exc) from exc


def _repair(directory: Path) -> DoctorReport:
    found = diagnose(directory)
    report = found.model_copy(deep=True)
    report.fixed = True
    report.index_fixed = []
    if found.healthy or not found.fixable:
        return report
    stamp = _stamp()
    if found.problem is not None:
        if directory.exists() and not directory.is_dir():
            source = directory
            target = _free_name(directory.with_name(f"{directory.name}.damaged-{stamp}"))
            os.replace(source, target)
            report.moved_aside.append(MovedFile(source=str(source), target=str(target)))
            damaged = target
        else:
            damaged = _free_name(directory / f"{DB_FILE}.damaged-{stamp}")
            for suffix in DB_SIDE_FILES:
                source = Path(f"{directory / DB_FILE}{suffix}")
                if source.exists():
                    os.replace(source, f"{damaged}{suffix}")
                    report.moved_aside.append(MovedFile(source=str(source), target=f"{damaged}{suffix}"))
        scan = _salvage(damaged)
        directory.mkdir(parents=True, exist_ok=True)
        quarantine = _quarantine(directory, scan.bad, stamp)
        with ToolCache(directory) as cache:
            db = cache._db
            with db.transact():
                for tool in scan.tools.values():
                    db.set(f"tool:{tool.id}", _dump(tool.model_dump(mode="json", exclude={"usage"})))
                    usage = scan.usage.get(tool.id, UsageStats())
                    db.set(f"usage:{tool.id}", _dump(usage.model_dump(mode="json")))
                scan.indexes = {}
                _write_indexes(db, scan, report)
        report.salvaged = len(scan.tools)
    else:
        with ToolCache(directory) as cache:
            db = cache._db
            with db.transact():  # no writer can slip in between the scan and the repair
                scan = _scan_cache(cache)
                quarantine = _quarantine(directory, scan.bad, stamp)
                for key, _, _ in scan.bad:
                    db.delete(key)
                _write_indexes(db, scan, report)
    report.quarantine_file = str(quarantine) if quarantine else None
    after = diagnose(directory)
    report.tools = after.tools
    report.remaining = after.remaining
    return report
