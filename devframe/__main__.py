"""``python -m devframe``: the ``devframe`` command."""

from devframe.cli import main

if __name__ == "__main__":
    main(prog_name="devframe")
