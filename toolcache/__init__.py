"""The persistent, inspectable store of verified tools (diskcache underneath, JSON values).

    from toolcache import ToolCache, Tool
    cache = ToolCache()            # LATM_CACHE_DIR, else the user cache dir
    tool = cache.get("word_sorting")

Depends on nothing else of LATM: no sandbox, no LLM.
"""

from toolcache.bound import error_bound
from toolcache.errors import (
    AmbiguousRef,
    BadRecordWarning,
    CacheImportError,
    CacheUnreadable,
    RecordUnreadable,
    ToolCacheError,
    ToolNotFound,
)
from toolcache.models import (
    SCHEMA_VERSION,
    STATUSES,
    Entry,
    Evidence,
    HeldOut,
    Payoff,
    Provenance,
    Quarantine,
    Rendering,
    Status,
    Tool,
    Trust,
    UsageStats,
    UseCase,
    Verification,
    VerificationExample,
    tool_id,
)
from toolcache.store import ToolCache, default_directory

__all__ = [
    "SCHEMA_VERSION",
    "STATUSES",
    "AmbiguousRef",
    "BadRecordWarning",
    "CacheImportError",
    "CacheUnreadable",
    "Entry",
    "Evidence",
    "HeldOut",
    "Payoff",
    "Provenance",
    "Quarantine",
    "RecordUnreadable",
    "Rendering",
    "Status",
    "Tool",
    "ToolCache",
    "ToolCacheError",
    "ToolNotFound",
    "Trust",
    "UsageStats",
    "UseCase",
    "Verification",
    "VerificationExample",
    "default_directory",
    "error_bound",
    "tool_id",
]
