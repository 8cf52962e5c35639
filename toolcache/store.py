"""``ToolCache``: verified tools on disk (diskcache/SQLite), safe for many processes at once.

Layout inside one diskcache directory, every value JSON text (never pickle):

- ``tool:<id>``   the Tool record without its usage stats
- ``usage:<id>``  its usage stats (small, so counting a use rewrites little)
- ``task:<task>`` the ids of the task's versions, oldest first
- ``name:<name>`` the ids of tools with that function name
- ``gone:<id>``   a tombstone naming a removed tool, for clear errors

Every write that touches more than one key runs in one SQLite transaction
(``Cache.transact``), so concurrent writers lose nothing and a writer killed half-way
leaves no half record behind.
"""

import builtins
import contextlib
import functools
import hashlib
import json
import os
import sqlite3
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

import diskcache
import pydantic

from toolcache.digest import code_digest
from toolcache.errors import (
    AmbiguousRef,
    BadRecordWarning,
    CacheImportError,
    CacheUnreadable,
    RecordUnreadable,
    ToolCacheError,
    ToolNotFound,
)
from toolcache.migrations import migrate
from toolcache.models import SCHEMA_VERSION, STATUSES, Quarantine, Status, Tool, UsageStats
from toolcache.settings import default_directory

EXPORT_FORMAT = "latm-toolcache"
MIN_PREFIX = 4  # characters an id prefix needs
Mode = Literal["direct", "llm"]
Verifier = Callable[[Tool], bool]
HARD_KEPT = 100  # remembered hard questions per task
DB_FILE = "cache.db"  # diskcache's SQLite file inside the cache directory
FIX_HINT = "`latm cache doctor --fix` moves it aside"
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _dump(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, default=str)


def _checksum(tools: list[dict[str, Any]]) -> str:
    return hashlib.sha256(_dump(tools).encode("utf-8")).hexdigest()


class BadValue(ValueError):
    """A stored value that cannot be read; ``str()`` says what is wrong, in a few words."""


def describe_error(exc: BaseException) -> str:
    """What is wrong with a stored value, in one line."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON (cut off or damaged): {exc.msg} (character {exc.pos})"
    if isinstance(exc, pydantic.ValidationError):
        parts = []
        for err in exc.errors()[:3]:
            where = ".".join(str(x) for x in err.get("loc", ()))
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            parts.append(f"{where}: {msg}" if where else msg)
        more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        return "; ".join(parts) + more
    return str(exc)


def parse_json(raw: Any) -> Any:
    """A stored value as JSON; raises BadValue saying what is wrong."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadValue(f"not UTF-8 text: {exc}") from exc
    if not isinstance(raw, str):
        raise BadValue(f"not JSON text (a stored {type(raw).__name__})")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadValue(describe_error(exc)) from exc


def parse_tool(tool_id: str, raw: Any) -> Tool:
    """A ``tool:<id>`` value as a Tool (without usage); raises BadValue saying what is wrong."""
    record = parse_json(raw)
    if not isinstance(record, dict):
        raise BadValue(f"not a tool record (a JSON {type(record).__name__})")
    try:
        tool = Tool.model_validate(record)
    except ValueError as exc:
        raise BadValue(describe_error(exc)) from exc
    if tool.id != tool_id:
        raise BadValue(f"it holds tool {tool.short_id}, not {tool_id[:12]}")
    return tool


def parse_usage(raw: Any) -> UsageStats:
    """A ``usage:<id>`` value; raises BadValue saying what is wrong."""
    data = parse_json(raw)
    try:
        return UsageStats.model_validate(data)
    except ValueError as exc:
        raise BadValue(describe_error(exc)) from exc


def parse_index(raw: Any) -> list[str]:
    """A ``task:``/``name:`` value (a list of ids); raises BadValue saying what is wrong."""
    ids = parse_json(raw)
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadValue("not a list of tool ids")
    return ids


def _guarded(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """SQLite's errors (a damaged or foreign database file) become one CacheUnreadable."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise database_error(Path(args[0].directory), exc) from exc  # type: ignore[attr-defined]

    return wrapper


def database_error(directory: Path, exc: BaseException) -> ToolCacheError:
    """The one error for a cache database SQLite cannot read: it names the file and the way out."""
    db = directory / DB_FILE
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in reason or "busy" in reason):
        return ToolCacheError(
            f"the tool cache database {db} is busy ({reason}); try again, or point LATM_CACHE_DIR elsewhere"
        )
    return CacheUnreadable(
        f"the tool cache database {db} is unreadable ({reason}): run `latm cache doctor --fix` to move it "
        "aside and salvage the tools it still holds, or point LATM_CACHE_DIR elsewhere"
    )


def not_a_directory(directory: Path) -> CacheUnreadable:
    return CacheUnreadable(
        f"the tool cache directory {directory} is a file, not a directory: run `latm cache doctor --fix` "
        "to move it aside, or point LATM_CACHE_DIR elsewhere"
    )


RECENT_FAILURES = 50  # questions a tool failed or refused, kept per tool (the newest)


class ToolCache:
    """A persistent, inspectable store of tools. Cheap to open; safe across processes."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()
        self._warned: set[str] = set()  # keys of damaged records already warned about
        if self.directory.exists() and not self.directory.is_dir():
            raise not_a_directory(self.directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            blocker = next((p for p in self.directory.parents if p.exists() and not p.is_dir()), None)
            why = f"{blocker} is a file" if blocker is not None else (exc.strerror or str(exc))
            raise CacheUnreadable(
                f"cannot create the tool cache directory {self.directory} ({why}); point LATM_CACHE_DIR elsewhere"
            ) from exc
        # Every value stays inside SQLite (no side files), so a transaction covers it whole:
        # diskcache writes large values to files outside the transaction, and a writer killed
        # mid-update could leave an index pointing at a deleted file.
        try:
            self._db = diskcache.Cache(
                str(self.directory), timeout=60, eviction_policy="none", size_limit=2**40, disk_min_file_size=2**30
            )
        except sqlite3.DatabaseError as exc:  # garbage, truncated, or not SQLite at all
            raise database_error(self.directory, exc) from exc

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "ToolCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @_guarded
    def __len__(self) -> int:
        return sum(1 for _ in self._ids())

    def __repr__(self) -> str:
        return f"ToolCache({str(self.directory)!r})"

    # -- low level -----------------------------------------------------------------------

    def _get_json(self, key: str, default: Any = None) -> Any:
        raw = self._db.get(key)
        return default if raw is None else json.loads(raw)

    def _set_json(self, key: str, value: Any) -> None:
        self._db.set(key, _dump(value))

    def _ids(self) -> Iterator[str]:
        for key in self._db.iterkeys():
            if isinstance(key, str) and key.startswith("tool:"):
                yield key[5:]

    # -- damaged records: skipped with one warning each, never a traceback ----------------

    def _warn_bad(self, key: str, reason: str, consequence: str) -> None:
        """Warns once per instance and key: names the record, what is wrong and the way out."""
        if key in self._warned:
            return
        self._warned.add(key)
        warnings.warn(
            f"{self._record_name(key)} in {self.directory / DB_FILE} is unreadable ({reason}); {consequence}. "
            f"{FIX_HINT} (into a quarantine file)",
            BadRecordWarning,
            stacklevel=4,
        )

    @staticmethod
    def _record_name(key: str) -> str:
        kind, _, rest = key.partition(":")
        if kind in ("tool", "usage", "gone"):
            return f"the {kind} record of tool {rest[:12]} (key {key})"
        return f"the index record {key}"

    def _unreadable(self, key: str, reason: str) -> RecordUnreadable:
        return RecordUnreadable(
            key,
            reason,
            f"{self._record_name(key)} in {self.directory / DB_FILE} is unreadable ({reason}); {FIX_HINT}",
        )

    def _read_tool(self, tool_id: str) -> Tool | None:
        """The stored tool, None when there is none; raises RecordUnreadable when it is damaged.
        A damaged usage record only loses the tool its counts (with a warning)."""
        key = f"tool:{tool_id}"
        raw = self._db.get(key)
        if raw is None:
            return None
        try:
            tool = parse_tool(tool_id, raw)
        except BadValue as exc:
            raise self._unreadable(key, str(exc)) from exc
        raw_usage = self._db.get(f"usage:{tool_id}")
        if raw_usage is not None:
            try:
                tool.usage = parse_usage(raw_usage)
            except BadValue as exc:
                self._warn_bad(f"usage:{tool_id}", str(exc), "its usage counts start again from zero")
        return tool

    def _load(self, tool_id: str) -> Tool | None:
        """The stored tool; None when there is none or it is damaged (skipped, with a warning)."""
        try:
            return self._read_tool(tool_id)
        except RecordUnreadable as exc:
            self._warn_bad(exc.key, exc.reason, "skipped")
            return None

    def _index(self, key: str) -> list[str]:
        """The ids of a ``task:``/``name:`` index; a damaged one is rebuilt from the tool records."""
        raw = self._db.get(key)
        if raw is None:
            return []
        try:
            return parse_index(raw)
        except BadValue as exc:
            self._warn_bad(key, str(exc), "rebuilt from the tool records")
        kind, _, value = key.partition(":")
        tools = [t for t in self.list() if (t.task if kind == "task" else t.name) == value]
        return [t.id for t in sorted(tools, key=lambda t: (t.version, t.provenance.created_at, t.id))]

    def _gone(self, tool_id: str) -> dict[str, Any] | None:
        raw = self._db.get(f"gone:{tool_id}")
        if raw is None:
            return None
        try:
            gone = parse_json(raw)
        except BadValue as exc:
            self._warn_bad(f"gone:{tool_id}", str(exc), "ignored")
            return None
        return gone if isinstance(gone, dict) else None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._db.transact():
            yield

    # -- writing -------------------------------------------------------------------------

    @_guarded
    def put(self, tool: Tool, *, judged_here: bool = False) -> Tool:
        """Stores a tool. Idempotent by id; a new id for a known task becomes its next version.
        (A damaged record under the same id is replaced by the good one.) A retired tool (``latm cache
        rm`` without ``--purge``) made and judged again in this installation (``judged_here``, the
        maker's call; never an import) answers again: the new record, with its version and uses,
        unless a canary ever caught it."""
        with self._transaction():
            existing = self._load(tool.id)
            if (
                judged_here
                and existing is not None
                and existing.status == "retired"
                and tool.status == "verified"
                and existing.usage.canaries_failed == 0
            ):
                again = tool.model_copy(update={"version": existing.version, "usage": existing.usage}, deep=True)
                self._set_json(f"tool:{again.id}", again.model_dump(mode="json", exclude={"usage"}))
                return again
            if existing is not None:
                return existing
            versions = self._index(f"task:{tool.task}")
            stored = tool.model_copy(deep=True)
            stored.version = versions.index(stored.id) + 1 if stored.id in versions else len(versions) + 1
            record = stored.model_dump(mode="json", exclude={"usage"})
            self._set_json(f"tool:{stored.id}", record)
            self._set_json(f"usage:{stored.id}", stored.usage.model_dump(mode="json"))
            if stored.id not in versions:
                self._set_json(f"task:{stored.task}", [*versions, stored.id])
            names = self._index(f"name:{stored.name}")
            if stored.id not in names:
                self._set_json(f"name:{stored.name}", [*names, stored.id])
            self._db.delete(f"gone:{stored.id}")
        return stored

    @_guarded
    def record_use(
        self,
        ref: str,
        *,
        ok: bool,
        mode: Mode = "direct",
        tokens: int = 0,
        cost_usd: float = 0.0,
        count: int = 1,
        source: str = "api",
    ) -> UsageStats:
        """Counts ``count`` uses of a tool atomically (safe from many processes at once).

        ``mode`` is how the answer was made (direct, llm); ``source`` where the request came
        from (api, cli, mcp, openai, ray)."""
        if mode not in ("direct", "llm"):
            raise ValueError(f"mode must be 'direct' or 'llm', not {mode!r}")
        tool_id = self.resolve(ref)
        with self._transaction():
            stats = self._usage_of(tool_id)
            stats.uses += count
            if mode == "direct":
                stats.direct_uses += count
            else:
                stats.llm_uses += count
            if not ok:
                stats.failures += count
            stats.by_source[source] = stats.by_source.get(source, 0) + count
            stats.tokens += tokens
            stats.cost_usd += cost_usd
            stats.last_used = datetime.now(UTC)
            self._set_json(f"usage:{tool_id}", stats.model_dump(mode="json"))
        return stats

    def _usage_of(self, tool_id: str) -> UsageStats:
        """A tool's stored usage counts (from zero, said once, when the record is damaged)."""
        raw = self._db.get(f"usage:{tool_id}")
        try:
            return UsageStats() if raw is None else parse_usage(raw)
        except BadValue as exc:
            self._warn_bad(f"usage:{tool_id}", str(exc), "its usage counts start again from zero")
            return UsageStats()

    def _refusals(self, task: str) -> dict[str, str]:
        raw = self._db.get(f"refused:{task}")
        try:
            data = {} if raw is None else parse_json(raw)
        except BadValue as exc:
            self._warn_bad(f"refused:{task}", str(exc), "its remembered refusals start again")
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    @_guarded
    def refusals(self, task: str) -> dict[str, str]:
        """Digests of code judged wrong on unseen questions of ``task``, with why: a verdict is final for
        the code it judged, in every later making too."""
        return self._refusals(task)

    @_guarded
    def refuse(
        self,
        task: str,
        digests: builtins.list[str],
        reason: str,
        failed: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Remembers that this code answered unseen questions of ``task`` wrongly, and those questions
        (with their answers): every later candidate for the task is asked them too, so a variant of
        refused code cannot pass on a luckier draw. (They are never shown to a maker.)"""
        with self._transaction():
            known = self._refusals(task)
            known.update({d: reason[:300] for d in digests})
            self._set_json(f"refused:{task}", known)
            if failed:
                kept = self.hard_questions(task)
                kept += [(q, a) for q, a in failed if (q, a) not in kept]
                self._set_json(f"hard:{task}", [list(p) for p in kept[-HARD_KEPT:]])

    def hard_questions(self, task: str) -> builtins.list[tuple[str, str]]:
        """Unseen questions of ``task`` that refused code answered wrongly (question, answer)."""
        raw = self._db.get(f"hard:{task}")
        try:
            data = [] if raw is None else parse_json(raw)
        except BadValue:
            return []
        return [(str(p[0]), str(p[1])) for p in data if isinstance(p, list) and len(p) == 2]

    @_guarded
    def record_canaries(self, ref: str, *, passed: int, failed: int = 0) -> UsageStats:
        """Counts canaries (questions with known answers mixed into the tool's work) atomically;
        they are labelled evidence for the tool's error bound."""
        tool_id = self.resolve(ref)
        with self._transaction():
            stats = self._usage_of(tool_id)
            stats.canaries_passed += passed
            stats.canaries_failed += failed
            self._set_json(f"usage:{tool_id}", stats.model_dump(mode="json"))
        return stats

    @_guarded
    def record_failures(self, ref: str, failures: builtins.list[tuple[str, str]]) -> None:
        """Keeps the questions a tool failed or refused lately, with why (the newest ``RECENT_FAILURES``)."""
        tool_id = self.resolve(ref)
        if not failures:
            return
        with self._transaction():
            kept = self._get_json(f"failures:{tool_id}", [])
            at = datetime.now(UTC).isoformat(timespec="seconds")
            kept += [{"at": at, "question": q[:2000], "why": why[:500]} for q, why in failures]
            self._set_json(f"failures:{tool_id}", kept[-RECENT_FAILURES:])

    @_guarded
    def recent_failures(self, ref: str) -> builtins.list[dict[str, str]]:
        """The questions a tool failed or refused lately, newest last: {"at", "question", "why"}."""
        return list(self._get_json(f"failures:{self.resolve(ref)}", []))

    @_guarded
    def set_status(self, ref: str, status: Status, reason: str | None = None) -> Tool:
        """Sets a tool's status; quarantining records when and why (``reason``), shown by ``cache show``."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        tool_id = self.resolve(ref)
        with self._transaction():
            record = self._get_json(f"tool:{tool_id}")
            record["status"] = status
            if status == "quarantined" and reason:
                record["quarantine"] = Quarantine(reason=reason).model_dump(mode="json")
            elif status != "quarantined":
                record["quarantine"] = None
            self._set_json(f"tool:{tool_id}", record)
        return self.get(tool_id)

    @_guarded
    def update(self, tool: Tool) -> Tool:
        """Rewrites a stored tool's record (verification, status...); the code cannot change."""
        with self._transaction():
            if self._db.get(f"tool:{tool.id}") is None:
                raise ToolNotFound(f"no tool with id {tool.short_id} to update; put() it first")
            self._set_json(f"tool:{tool.id}", tool.model_dump(mode="json", exclude={"usage"}))
        return self.get(tool.id)

    @_guarded
    def remove(self, ref: str) -> Tool:
        tool = self.get(ref)
        with self._transaction():
            for key in (f"tool:{tool.id}", f"usage:{tool.id}"):
                self._db.delete(key)
            for index in (f"task:{tool.task}", f"name:{tool.name}"):
                ids = [i for i in self._index(index) if i != tool.id]
                if ids:
                    self._set_json(index, ids)
                else:
                    self._db.delete(index)
            self._set_json(f"gone:{tool.id}", {"name": tool.name, "task": tool.task})
        return tool

    # -- reading -------------------------------------------------------------------------

    @_guarded
    def resolve(self, ref: str) -> str:
        """The id a ref names: an id, a unique id prefix, a tool name, or a task (current).
        Raises RecordUnreadable when the tool it names is damaged."""
        tool_id = self._resolve(ref)
        self._read_tool(tool_id)
        return tool_id

    def _resolve(self, ref: str) -> str:
        if not ref:
            raise ToolNotFound("an empty ref names no tool")
        if self._db.get(f"tool:{ref}") is not None:
            return ref
        task_ids = self._index(f"task:{ref}")
        current = self._current(task_ids) if task_ids else None
        if current is not None:
            return current
        named = self._index(f"name:{ref}")
        if named:
            by_task: dict[str, list[str]] = {}
            for tool in (self._load(i) for i in named):
                if tool is not None:
                    by_task.setdefault(tool.task, []).append(tool.id)
            if len(by_task) > 1:  # one function name, several tasks' tools: say which
                listed = [
                    f"{cur[:12]} ({ref}, task {task})" for task, ids in by_task.items() if (cur := self._current(ids))
                ]
                raise AmbiguousRef(ref, listed)
            current = self._current(named)
            if current is not None:
                return current
        gone = self._gone(ref)
        if gone:
            raise ToolNotFound(f"tool {ref[:12]} ({gone.get('name', '?')}, task {gone.get('task', '?')}) was removed")
        matches = [i for i in self._ids() if i.startswith(ref)] if len(ref) >= MIN_PREFIX else []
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise AmbiguousRef(ref, [f"{m[:12]} ({self._name_of(m)})" for m in matches[:10]])
        candidates = sorted({t.name for t in self.list()} | {t.task for t in self.list()})
        close = [c for c in candidates if ref.lower() in c.lower() or c.lower() in ref.lower()]
        hint = f"; did you mean {', '.join(close[:5])}?" if close else ""
        known = f"; known: {', '.join(candidates[:10])}" if candidates and not close else ""
        known = known if candidates else " (the cache holds no tools)"
        short = f" (an id prefix needs at least {MIN_PREFIX} characters)" if len(ref) < MIN_PREFIX else ""
        raise ToolNotFound(f"no tool matches {ref!r}{short}{hint}{known}")

    def _current(self, ids: list[str]) -> str | None:
        """The newest verified version, else the newest of any status (damaged ones skipped)."""
        live = [t for t in (self._load(i) for i in ids) if t is not None]
        for t in reversed(live):
            if t.status == "verified":
                return t.id
        return live[-1].id if live else None

    def _name_of(self, tool_id: str) -> str:
        try:
            record = parse_json(self._db.get(f"tool:{tool_id}"))
        except BadValue:
            return "unreadable"
        return str(record.get("name", "?")) if isinstance(record, dict) else "unreadable"

    @_guarded
    def get(self, ref: str) -> Tool:
        """The tool a ref names; raises RecordUnreadable when that tool's record is damaged."""
        tool = self._read_tool(self._resolve(ref))
        if tool is None:  # removed between resolve and load
            raise ToolNotFound(f"tool {ref!r} was removed")
        return tool

    @_guarded
    def current(self, task: str) -> Tool | None:
        """The task's current tool (newest verified version), or None."""
        ids = self._index(f"task:{task}")
        for tool_id in reversed(ids):
            tool = self._load(tool_id)
            if tool is not None and tool.status == "verified":
                return tool
        return None

    @_guarded
    def history(self, task: str) -> list[Tool]:
        ids = self._index(f"task:{task}")
        if not ids:
            raise ToolNotFound(f"no tool was ever made for task {task!r}")
        return [t for t in (self._load(i) for i in ids) if t is not None]

    @_guarded
    def list(self) -> builtins.list[Tool]:
        tools = [t for t in (self._load(i) for i in self._ids()) if t is not None]
        return sorted(tools, key=lambda t: (t.task, t.version))

    @_guarded
    def find(
        self, task: str | None = None, text: str | None = None, status: Status | None = "verified"
    ) -> builtins.list[Tool]:
        """Tools of a task and/or whose name, task or description contains text."""
        if task is not None:
            ids = self._index(f"task:{task}")
            tools = [t for t in (self._load(i) for i in ids) if t is not None]
        else:
            tools = self.list()
        if status is not None:
            tools = [t for t in tools if t.status == status]
        if text:
            needle = text.lower()
            tools = [t for t in tools if needle in f"{t.name} {t.task} {t.description}".lower()]
        return tools

    @_guarded
    def tasks(self) -> builtins.list[str]:
        return sorted({t.task for t in self.list()})

    # -- accounting ----------------------------------------------------------------------

    @_guarded
    def stats(self) -> dict[str, Any]:
        tools = self.list()
        make_costs = [t.provenance.cost_usd for t in tools]
        known = [c for c in make_costs if c is not None]
        return {
            "tools": len(tools),
            "tasks": len({t.task for t in tools}),
            "by_status": {s: sum(t.status == s for t in tools) for s in STATUSES},
            "uses": sum(t.usage.uses for t in tools),
            "direct_uses": sum(t.usage.direct_uses for t in tools),
            "llm_uses": sum(t.usage.llm_uses for t in tools),
            "failures": sum(t.usage.failures for t in tools),
            "by_source": {
                src: sum(t.usage.by_source.get(src, 0) for t in tools)
                for src in sorted({s for t in tools for s in t.usage.by_source})
            },
            "tokens_making": sum(t.provenance.tokens_in + t.provenance.tokens_out for t in tools),
            "tokens_using": sum(t.usage.tokens for t in tools),
            "cost_to_make_usd": sum(known) if known else None,
            "cost_unknown_for": len(make_costs) - len(known),
            "cost_of_uses_usd": sum(t.usage.cost_usd for t in tools),
            "saved_usd": sum(p.saved_usd for t in tools if (p := t.payoff()).saved_usd is not None),
            "saved_tokens": sum(p.saved_tokens for t in tools if (p := t.payoff()).saved_tokens is not None),
            "per_tool": [{"id": t.short_id, "name": t.name, "task": t.task, **t.payoff().model_dump()} for t in tools],
        }

    # -- exchange ------------------------------------------------------------------------

    @_guarded
    def export(self, path: str | os.PathLike[str], refs: builtins.list[str] | None = None) -> int:
        """Writes a self-describing JSON file (with a checksum); returns the tool count."""
        tools = [self.get(r) for r in refs] if refs else self.list()
        records = [t.model_dump(mode="json") for t in tools]
        doc = {
            "format": EXPORT_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "exported_at": datetime.now(UTC).isoformat(),
            "count": len(records),
            "checksum": _checksum(records),
            "tools": records,
        }
        target = Path(path)
        fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
        os.replace(tmp, target)
        return len(records)

    @_guarded
    def import_(
        self, path: str | os.PathLike[str], verify: bool | Verifier = False, *, trust: bool = False
    ) -> builtins.list[Tool]:
        """Imports an export file: all of it or (on any problem) nothing.

        Uses are this cache's own: an imported tool starts with none (the exporter's figures are kept in
        ``provenance.exporter_usage``). Every imported tool is marked as
        not verified here (``Verification.here``), whatever
        its record says: an export carries its own expected answers, so the record proves
        nothing, and such a tool answers no question until this installation verifies it
        (``latm cache verify``). ``trust`` takes the exporter's verdict instead (kept in the
        record). ``verify`` is a callable that re-runs a tool's checks (this package has no
        sandbox); tools it rejects are imported as quarantined.
        """
        if verify is True:
            raise CacheImportError(
                "toolcache cannot verify by itself (it has no sandbox): pass a verifier callable, "
                "or use `latm cache import --verify`"
            )
        tools = [  # uses are this cache's own: the exporter's are kept as provenance, never as uses
            t.model_copy(
                update={
                    "verification": t.verification.model_copy(update={"here": False, "trusted": trust}),
                    "usage": UsageStats(),
                    "provenance": t.provenance.model_copy(
                        update={"exporter_usage": t.usage if t.usage.uses else t.provenance.exporter_usage}
                    ),
                }
            )
            for t in self._read_export(Path(path))
        ]
        tools = [self._unless_refused(t) for t in tools]
        if callable(verify):
            tools = [t if verify(t) else t.model_copy(update={"status": "quarantined"}) for t in tools]
        with self._transaction():
            return [self.put(t) for t in tools]

    def _unless_refused(self, tool: Tool) -> Tool:
        """An imported tool whose code this cache refused (wrong on unseen questions, or caught by a
        canary: ``refusals``) comes in quarantined, whatever the exporter's verdict, ``--trust`` or not."""
        known = self._refusals(tool.task)
        caught = next((known[d] for d in (code_digest(tool.code), code_digest(tool.direct or "")) if d in known), None)
        if caught is None:
            return tool
        why = f"this cache refused its code before: {caught}"
        return tool.model_copy(update={"status": "quarantined", "quarantine": Quarantine(reason=why[:300])})

    def _read_export(self, path: Path) -> builtins.list[Tool]:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CacheImportError(f"{path} does not exist") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CacheImportError(f"{path} is not valid JSON (truncated or damaged?): {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
            raise CacheImportError(f"{path} is not a LATM tool export (no format {EXPORT_FORMAT!r})")
        version = doc.get("schema_version")
        if not isinstance(version, int):
            raise CacheImportError(f"{path} has no schema_version")
        if version > SCHEMA_VERSION:
            raise CacheImportError(
                f"{path} uses tool schema {version}, newer than this LATM knows ({SCHEMA_VERSION}); "
                "upgrade latm to import it"
            )
        records = doc.get("tools")
        if not isinstance(records, list) or doc.get("count") != len(records):
            raise CacheImportError(f"{path} is incomplete: its tool count does not match")
        if doc.get("checksum") != _checksum(records):
            raise CacheImportError(f"{path} was modified or damaged: its checksum does not match")
        tools = []
        for n, record in enumerate(records, 1):
            try:
                tools.append(Tool.model_validate(migrate(record, version)))
            except ValueError as exc:
                raise CacheImportError(f"tool #{n} of {path} is invalid: {exc}") from exc
        return tools
