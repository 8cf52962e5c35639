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
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import diskcache
import platformdirs

from toolcache.errors import AmbiguousRef, CacheImportError, ToolNotFound
from toolcache.migrations import migrate
from toolcache.models import SCHEMA_VERSION, STATUSES, Status, Tool, UsageStats

EXPORT_FORMAT = "latm-toolcache"
Mode = Literal["direct", "llm"]
Verifier = Callable[[Tool], bool]


def default_directory() -> Path:
    """LATM_CACHE_DIR, else the user's cache directory."""
    env = os.environ.get("LATM_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("latm")) / "tools"


def _dump(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, default=str)


def _checksum(tools: list[dict[str, Any]]) -> str:
    return hashlib.sha256(_dump(tools).encode("utf-8")).hexdigest()


class ToolCache:
    """A persistent, inspectable store of tools. Cheap to open; safe across processes."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()
        self.directory.mkdir(parents=True, exist_ok=True)
        # Every value stays inside SQLite (no side files), so a transaction covers it whole:
        # diskcache writes large values to files outside the transaction, and a writer killed
        # mid-update could leave an index pointing at a deleted file.
        self._db = diskcache.Cache(
            str(self.directory), timeout=60, eviction_policy="none", size_limit=2**40, disk_min_file_size=2**30
        )

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "ToolCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    def _load(self, tool_id: str) -> Tool | None:
        record = self._get_json(f"tool:{tool_id}")
        if record is None:
            return None
        usage = self._get_json(f"usage:{tool_id}")
        tool = Tool.model_validate(record)
        if usage is not None:
            tool.usage = UsageStats.model_validate(usage)
        return tool

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._db.transact():
            yield

    # -- writing -------------------------------------------------------------------------

    def put(self, tool: Tool) -> Tool:
        """Stores a tool. Idempotent by id; a new id for a known task becomes its next version."""
        with self._transaction():
            existing = self._load(tool.id)
            if existing is not None:
                return existing
            versions: list[str] = self._get_json(f"task:{tool.task}", [])
            stored = tool.model_copy(deep=True)
            stored.version = len(versions) + 1
            record = stored.model_dump(mode="json", exclude={"usage"})
            self._set_json(f"tool:{stored.id}", record)
            self._set_json(f"usage:{stored.id}", stored.usage.model_dump(mode="json"))
            self._set_json(f"task:{stored.task}", [*versions, stored.id])
            names: list[str] = self._get_json(f"name:{stored.name}", [])
            self._set_json(f"name:{stored.name}", [*names, stored.id])
            self._db.delete(f"gone:{stored.id}")
        return stored

    def record_use(
        self,
        ref: str,
        *,
        ok: bool,
        mode: Mode = "direct",
        tokens: int = 0,
        cost_usd: float = 0.0,
        count: int = 1,
    ) -> UsageStats:
        """Counts ``count`` uses of a tool atomically (safe from many processes at once)."""
        if mode not in ("direct", "llm"):
            raise ValueError(f"mode must be 'direct' or 'llm', not {mode!r}")
        tool_id = self.resolve(ref)
        with self._transaction():
            stats = UsageStats.model_validate(self._get_json(f"usage:{tool_id}", {}))
            stats.uses += count
            if mode == "direct":
                stats.direct_uses += count
            else:
                stats.llm_uses += count
            if not ok:
                stats.failures += count
            stats.tokens += tokens
            stats.cost_usd += cost_usd
            stats.last_used = datetime.now(UTC)
            self._set_json(f"usage:{tool_id}", stats.model_dump(mode="json"))
        return stats

    def set_status(self, ref: str, status: Status) -> Tool:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        tool_id = self.resolve(ref)
        with self._transaction():
            record = self._get_json(f"tool:{tool_id}")
            record["status"] = status
            self._set_json(f"tool:{tool_id}", record)
        return self.get(tool_id)

    def update(self, tool: Tool) -> Tool:
        """Rewrites a stored tool's record (verification, status...); the code cannot change."""
        with self._transaction():
            if self._get_json(f"tool:{tool.id}") is None:
                raise ToolNotFound(f"no tool with id {tool.short_id} to update; put() it first")
            self._set_json(f"tool:{tool.id}", tool.model_dump(mode="json", exclude={"usage"}))
        return self.get(tool.id)

    def remove(self, ref: str) -> Tool:
        tool = self.get(ref)
        with self._transaction():
            for key in (f"tool:{tool.id}", f"usage:{tool.id}"):
                self._db.delete(key)
            for index in (f"task:{tool.task}", f"name:{tool.name}"):
                ids = [i for i in self._get_json(index, []) if i != tool.id]
                if ids:
                    self._set_json(index, ids)
                else:
                    self._db.delete(index)
            self._set_json(f"gone:{tool.id}", {"name": tool.name, "task": tool.task})
        return tool

    # -- reading -------------------------------------------------------------------------

    def resolve(self, ref: str) -> str:
        """The id a ref names: an id, a unique id prefix, a tool name, or a task (current)."""
        if not ref:
            raise ToolNotFound("an empty ref names no tool")
        if self._db.get(f"tool:{ref}") is not None:
            return ref
        for index in (f"task:{ref}", f"name:{ref}"):
            ids: list[str] = self._get_json(index, [])
            if ids:
                current = self._current(ids)
                if current is not None:
                    return current
        gone = self._get_json(f"gone:{ref}")
        if gone:
            raise ToolNotFound(f"tool {ref[:12]} ({gone['name']}, task {gone['task']}) was removed")
        matches = [i for i in self._ids() if i.startswith(ref)] if len(ref) >= 4 else []
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise AmbiguousRef(ref, [f"{m[:12]} ({self._name_of(m)})" for m in matches[:10]])
        candidates = sorted({t.name for t in self.list()} | {t.task for t in self.list()})
        close = [c for c in candidates if ref.lower() in c.lower() or c.lower() in ref.lower()]
        hint = f"; did you mean {', '.join(close[:5])}?" if close else ""
        known = f" Known: {', '.join(candidates[:10])}" if candidates and not close else ""
        raise ToolNotFound(f"no tool matches {ref!r}{hint}{known}")

    def _current(self, ids: list[str]) -> str | None:
        """The newest verified version, else the newest of any status."""
        records = [(i, self._get_json(f"tool:{i}")) for i in ids]
        live = [(i, r) for i, r in records if r is not None]
        for i, r in reversed(live):
            if r["status"] == "verified":
                return i
        return live[-1][0] if live else None

    def _name_of(self, tool_id: str) -> str:
        record = self._get_json(f"tool:{tool_id}") or {}
        return str(record.get("name", "?"))

    def get(self, ref: str) -> Tool:
        tool = self._load(self.resolve(ref))
        if tool is None:  # removed between resolve and load
            raise ToolNotFound(f"tool {ref!r} was removed")
        return tool

    def current(self, task: str) -> Tool | None:
        """The task's current tool (newest verified version), or None."""
        ids: list[str] = self._get_json(f"task:{task}", [])
        for tool_id in reversed(ids):
            tool = self._load(tool_id)
            if tool is not None and tool.status == "verified":
                return tool
        return None

    def history(self, task: str) -> list[Tool]:
        ids: list[str] = self._get_json(f"task:{task}", [])
        if not ids:
            raise ToolNotFound(f"no tool was ever made for task {task!r}")
        return [t for t in (self._load(i) for i in ids) if t is not None]

    def list(self) -> builtins.list[Tool]:
        tools = [t for t in (self._load(i) for i in self._ids()) if t is not None]
        return sorted(tools, key=lambda t: (t.task, t.version))

    def find(
        self, task: str | None = None, text: str | None = None, status: Status | None = "verified"
    ) -> builtins.list[Tool]:
        """Tools of a task and/or whose name, task or description contains text."""
        if task is not None:
            ids: builtins.list[str] = self._get_json(f"task:{task}", [])
            tools = [t for t in (self._load(i) for i in ids) if t is not None]
        else:
            tools = self.list()
        if status is not None:
            tools = [t for t in tools if t.status == status]
        if text:
            needle = text.lower()
            tools = [t for t in tools if needle in f"{t.name} {t.task} {t.description}".lower()]
        return tools

    def tasks(self) -> builtins.list[str]:
        return sorted({t.task for t in self.list()})

    # -- accounting ----------------------------------------------------------------------

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
            "tokens_making": sum(t.provenance.tokens_in + t.provenance.tokens_out for t in tools),
            "tokens_using": sum(t.usage.tokens for t in tools),
            "cost_to_make_usd": sum(known) if known else None,
            "cost_unknown_for": len(make_costs) - len(known),
            "cost_of_uses_usd": sum(t.usage.cost_usd for t in tools),
            "saved_usd": sum(p.saved_usd for t in tools if (p := t.payoff()).saved_usd is not None),
            "per_tool": [{"id": t.short_id, "name": t.name, "task": t.task, **t.payoff().model_dump()} for t in tools],
        }

    # -- exchange ------------------------------------------------------------------------

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

    def import_(self, path: str | os.PathLike[str], verify: bool | Verifier = False) -> builtins.list[Tool]:
        """Imports an export file: all of it or (on any problem) nothing.

        ``verify`` is a callable that re-runs a tool's verification (this package has no
        sandbox; ``latm cache import --verify`` passes one). Tools it rejects are imported
        as quarantined.
        """
        if verify is True:
            raise CacheImportError(
                "toolcache cannot verify by itself (it has no sandbox): pass a verifier callable, "
                "or use `latm cache import --verify`"
            )
        tools = self._read_export(Path(path))
        if callable(verify):
            tools = [t if verify(t) else t.model_copy(update={"status": "quarantined"}) for t in tools]
        with self._transaction():
            return [self.put(t) for t in tools]

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
