"""Errors of the tool cache; each message names the candidates or the fix."""


class ToolCacheError(Exception):
    """Base class of the tool cache's errors."""


class ToolNotFound(ToolCacheError, KeyError):
    """No tool matches the ref (or it was removed)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "tool not found"


class AmbiguousRef(ToolCacheError, KeyError):
    def __init__(self, ref: str, candidates: list[str]) -> None:
        self.ref = ref
        self.candidates = candidates
        super().__init__(f"{ref!r} matches several tools: {', '.join(candidates)}; give more of the id")

    def __str__(self) -> str:
        return str(self.args[0])


class CacheImportError(ToolCacheError):
    """An export file could not be imported; the cache was left unchanged."""


class CacheUnreadable(ToolCacheError):
    """The cache's database (or its directory) cannot be read at all; the message names the
    file and the way out (``latm cache doctor --fix``, or LATM_CACHE_DIR elsewhere)."""


class RecordUnreadable(ToolCacheError, KeyError):
    """One stored record is damaged (cut-off JSON, or edited behind its id); the rest of the
    cache is fine."""

    def __init__(self, key: str, reason: str, message: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])


class BadRecordWarning(UserWarning):
    """A damaged record was skipped; the message names it and says how to move it aside."""
