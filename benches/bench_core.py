"""Python-side benchmarks of the Rust core (``oms._core``) against Python baselines.

Run: ``.venv/bin/python benches/bench_core.py [--quick] [--section NAME ...]``. Prints
markdown to stdout. Sections (each baseline is measured in the same run, interleaved
where it matters):

a. ``risk``: ``RiskEngine.check`` vs the empty PyO3 call and the pure-Python engine
   (``bench_risk.py``, after the equivalence proof of ``risk_equivalence.py``).
b. ``queues``: ``oms.queues.Queue`` vs ``queue.Queue``, ``SimpleQueue``, ``deque``.
c. ``ring``: ``ShmRing`` cross-process round trip vs ``multiprocessing.Pipe``
   (b and c in ``bench_queues.py``).
d. ``positions``: ``PositionBook.apply_fill`` vs a pure-Python average-cost book
   (``bench_positions.py``).
e. ``binance_orders`` / ``binance_parse``: order entry send -> ack over the WebSocket
   API vs REST, and user-data event parsing vs ``json.loads`` (``bench_binance.py``).
f. ``engine``: the order lifecycle on a null venue, on the NautilusTrader peer's
   workload (``bench_engine.py``).
g. ``api``: gRPC ingress into the engine vs a bare grpcio echo, batched orders/s, and
   the round trip through ``oms run`` to the simulator (``bench_api.py``).
h. ``durability``: journal and JetStream throughput while orders flow, the submit p99
   with and without them, and recovery from 1,000,000 journaled events
   (``bench_durability.py``).

Timing never fails the run: the summary at the end says MET / NOT MET for each target.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# The sibling modules must be importable however this script was started, here and
# in the spawned echo processes ('spawn' hands the parent's sys.path to the child).
BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import bench_api  # noqa: E402
import bench_binance  # noqa: E402
import bench_durability  # noqa: E402
import bench_engine  # noqa: E402
import bench_positions  # noqa: E402
import bench_queues  # noqa: E402
import bench_risk  # noqa: E402
from harness import Report, emit, header  # noqa: E402

# In the order they run and print.
SECTIONS: dict[str, Callable[[Report, bool], None]] = {
    "risk": bench_risk.run,
    "queues": bench_queues.run_queues,
    "ring": bench_queues.run_ring,
    "positions": bench_positions.run,
    "binance_orders": bench_binance.run_orders,
    "binance_parse": bench_binance.run_parse,
    "engine": bench_engine.run,
    "api": bench_api.run,
    "durability": bench_durability.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller counts (a few seconds)")
    parser.add_argument(
        "--section",
        action="append",
        choices=list(SECTIONS),
        help="run only this section (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    chosen = set(args.section or SECTIONS)
    started = time.monotonic()
    header(args.quick)
    report = Report()
    for name, run in SECTIONS.items():
        if name in chosen:
            run(report, args.quick)
    report.summary()
    emit(f"Total time: {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
