"""The ``latm`` command: a thin layer over the Python API, rendered with rich."""

import click

from latm.cli_cache import cache_group
from latm.cli_eval import eval_group
from latm.cli_run import demo, make, solve
from latm.cli_sandbox import sandbox_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="latm")
def main() -> None:
    """LATM: LLMs as tool makers. Make verified tools once, reuse them cheaply."""


main.add_command(sandbox_group)
main.add_command(cache_group)
main.add_command(make)
main.add_command(solve)
main.add_command(demo)
main.add_command(eval_group)


if __name__ == "__main__":
    main()
