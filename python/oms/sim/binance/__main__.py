"""``python -m oms.sim.binance``: the same as ``oms sim binance``."""

import sys

from oms.cli import main

main(["sim", "binance", *sys.argv[1:]])
