"""``python -m closer``: the same command line as ``closer``."""

from .cli import main

main()
