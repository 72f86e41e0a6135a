"""``python -m oms``: the ``oms`` command; with no arguments, ``oms run --demo`` (what
``make run`` starts: the whole system in paper mode)."""

import sys

from oms.cli import main

main(sys.argv[1:] or ["run", "--demo"])
