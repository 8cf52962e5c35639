"""``python -m latm.cli``: the same as the ``latm`` command."""

from latm.cli.base import main

if __name__ == "__main__":
    main()
