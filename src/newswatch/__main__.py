"""``python -m newswatch``: the same as the ``newswatch`` command."""

from newswatch.cli import main

main()
