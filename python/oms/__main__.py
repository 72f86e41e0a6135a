"""``python -m oms`` (what ``make run`` starts, until the engine and gRPC land):
the core demo, then the paper-trading Binance Spot simulator until Ctrl-C."""

import contextlib

from oms.demo import demo
from oms.sim.binance.__main__ import main as simulator

demo()
print("\nStarting the Binance Spot simulator (paper mode); point an SDK at the URLs below.\n")
with contextlib.suppress(KeyboardInterrupt):
    import asyncio

    asyncio.run(simulator(port=0, seed=20240601))
