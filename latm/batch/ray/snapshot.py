"""The tool cache as it travels with a Ray job: the driver exports its routable tools (the checksummed
export bundle) into the object store; each worker restores them into a private temporary cache (the
checksum verified, the driver's verdict trusted). A worker never reads the driver's cache directory."""

import tempfile
from pathlib import Path
from typing import Any


def snapshot(cache: Any, allow_shown_only: bool = False, max_error: float | None = None) -> bytes | None:
    """The routable tools as an export bundle (JSON with a checksum); None when there are none."""
    from latm.use.dispatcher import routable_tools

    tools = routable_tools(cache, allow_shown_only, max_error)
    if not tools:
        return None
    with tempfile.TemporaryDirectory(prefix="latm-snapshot-") as tmp:
        path = Path(tmp) / "tools.json"
        cache.export(path, refs=[t.id for t in tools])
        return path.read_bytes()


def restore(bundle: bytes | None, directory: str) -> Any:
    """A private cache at ``directory`` holding the bundle's tools (checksum verified, driver trusted)."""
    from toolcache import ToolCache

    cache = ToolCache(directory)
    if bundle is not None:
        path = Path(directory).parent / (Path(directory).name + "-bundle.json")
        path.write_bytes(bundle)
        try:
            cache.import_(path, trust=True)  # CacheImportError when the checksum does not match
        finally:
            path.unlink()
    return cache
