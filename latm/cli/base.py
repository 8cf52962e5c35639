"""The ``latm`` command: a thin layer over the Python API, rendered with rich.

Errors of ours (``LATMError``, which the sandbox's, the cache's and the tasks' errors are handed on
as) reach the user as one line, ``error: ...``, never as a traceback: a ``UserError`` exits 2, any
other 1. Warnings are ``warning: ...`` lines on stderr (no Python source line).
"""

import warnings
from typing import Any

import click

from latm.cli.cache import cache_group
from latm.cli.demo import demo
from latm.cli.doctor import doctor
from latm.cli.eval import eval_group
from latm.cli.make import make
from latm.cli.render import err_console, fail
from latm.cli.sandbox import sandbox_group
from latm.cli.serve import serve_group
from latm.cli.solve import solve
from latm.cli.ui import ui
from latm.errors import LEAF_ERRORS, LATMError, UserError, ours
from latm.settings import Settings

_shown_warnings: set[str] = set()


def _show_warning(message: Any, category: Any, *_: Any, **__: Any) -> None:
    """A warning as a CLI message on stderr, once per text."""
    text = str(message)
    if text not in _shown_warnings:
        _shown_warnings.add(text)
        err_console.print(f"warning: {text}", markup=False, highlight=False)


class LatmGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        warnings.showwarning = _show_warning
        try:
            return super().invoke(ctx)
        except LEAF_ERRORS as exc:
            fail(str(ours(exc)), 1)
        except UserError as exc:
            fail(str(exc), 2)
        except LATMError as exc:
            fail(str(exc), 1)
        except OSError as exc:  # a file the command was pointed at: missing, unwritable, a folder...
            fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), 1)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit, KeyboardInterrupt):
            raise  # click's own (a usage error, a declined confirmation) and the exits we chose
        except Exception as exc:
            if Settings.load().debug:
                raise
            fail(
                f"internal error ({type(exc).__name__}: {exc}). This is a bug in LATM; "
                "run again with LATM_DEBUG=1 for the traceback and report it.",
                1,
            )


@click.group(cls=LatmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="latm")
def main() -> None:
    """LATM: LLMs as tool makers. Make verified tools once, reuse them cheaply."""


main.add_command(sandbox_group)
cache_group.add_command(doctor)
main.add_command(cache_group)
main.add_command(make)
main.add_command(solve)
main.add_command(demo)
main.add_command(eval_group)
main.add_command(serve_group)
main.add_command(ui)
