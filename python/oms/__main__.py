"""``python -m oms`` (what ``make run`` starts, until the engine and gRPC land): the core
demo, then the paper-trading Binance Spot and USD-M Futures simulators until Ctrl-C.
With arguments it is the ``oms`` command (``python -m oms sim binance --spot-port 8080``)."""

import sys

from oms.cli import main
from oms.demo import demo

if len(sys.argv) > 1:
    main()
else:
    demo()
    print("\nStarting the Binance simulators (paper mode); point an SDK at the URLs below.\n")
    main(["sim", "binance"])
