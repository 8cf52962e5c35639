"""The tool cache's one setting: where it lives (``LATM_CACHE_DIR``, else the user's cache directory).

The one module of the ``toolcache`` package that reads the environment.
"""

import os
from pathlib import Path

import platformdirs


def default_directory() -> Path:
    """LATM_CACHE_DIR, else the user's cache directory."""
    env = os.environ.get("LATM_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("latm")) / "tools"
