"""``python -m realty``: the same as the ``realty`` command."""

from realty.cli import main

main()
