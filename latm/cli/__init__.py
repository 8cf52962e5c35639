"""The ``latm`` command line (the console script ``latm = "latm.cli:main"``).

``base`` holds the click group and its error handling; one module a command or group (``make``,
``solve``, ``demo``, ``cache``, ``doctor``, ``eval``, ``sandbox``, ``serve``), each a thin layer over the
public API; ``options`` the options several commands share, ``render`` the shared output helpers.
"""

from latm.cli.base import LatmGroup, _shown_warnings, main

__all__ = ["LatmGroup", "_shown_warnings", "main"]
