"""The ``latm`` command line (the console script ``latm = "latm.cli:main"``).

``base`` holds the click group and its error handling; ``cache``, ``doctor``, ``eval``, ``run``,
``sandbox`` and ``serve`` hold the commands, ``render`` the shared output helpers.
"""

from latm.cli.base import LatmGroup, _shown_warnings, main

__all__ = ["LatmGroup", "_shown_warnings", "main"]
