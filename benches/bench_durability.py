"""h. Durability under load (issue 7): the events of a loaded order path written to the
JSONL journal and to JetStream, the order path's submit latency with and without them,
and the time to recover from a journal of 1,000,000 events.

The order path is ``bench_engine``'s (null venue, the NautilusTrader peer's workload:
each order submitted, then the fill of the order 1,000 before it), yielding to the event
loop every 100 orders as a real venue's I/O would (so the publisher's task runs). Runs:

* ``none``: no listener; ``journal``: the JSONL writer thread; ``journal+jetstream``:
  that and the JetStream publisher to the embedded nats-server (fsync on every write).
  Submit latency is every 16th submit on its own. Throughput of a sink is its events
  (the journal's: lines, as positions go to snapshots only) over the time from the
  first submit until it has written (acknowledged) the last.
* ``recovery``: an engine from the data dir of a run whose journal (and JetStream)
  holds N events (order updates, fills, positions), ``engine.start(recover_from=...)``:
  snapshot (none), replay of every event with positions rebuilt from the fills,
  reservations, and the reconciliation of the orders still open (1,000) with the null
  venue; once from the journal files, once from JetStream alone.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench_engine import OPEN_WINDOW, NullVenue, venue_side, workload
from harness import Dist, Report, emit, gc_paused, ratio, table
from oms.bus.embedded_nats import EmbeddedNats
from oms.bus.publisher import JetStreamPublisher
from oms.bus.publisher_process import PublisherProcess
from oms.bus.replay import StreamReplay
from oms.engine import Engine
from oms.model import Order, OrderRequest
from oms.storage.journal import Journal

YIELD_EVERY = 100
SAMPLE_EVERY = 16


class Run:
    """One loaded run's figures."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.samples: list[int] = []
        self.events = 0
        self.orders_s = 0.0
        self.journal_events_s: float | None = None  # lines: positions are not journaled
        self.jetstream_events_s: float | None = None


async def loaded(
    name: str,
    requests: Sequence[OrderRequest],
    data: Path | None,
    nats_url: str | None,
    in_process: bool = False,
) -> Run:
    run = Run(name)
    venue = NullVenue()
    engine = Engine([venue])
    journal = Journal(data) if data is not None else None
    publisher: JetStreamPublisher | PublisherProcess | None = None
    if nats_url is not None:
        native = lambda v, s: "BTCUSDT"  # noqa: E731
        spill = data / "spill" if data is not None else None  # a backlog beyond the queue: on disk
        publisher = (
            JetStreamPublisher(nats_url, native, spill_dir=spill)
            if in_process
            else PublisherProcess(nats_url, native, spill_dir=spill)
        )
    if journal is not None:
        journal.start()
        engine.on_events(journal.on_events, records=True)
    if publisher is not None:
        await publisher.start()
        engine.on_events(publisher.on_events, records=True)

    trade_ids, fees = venue_side(requests)
    orders: list[Order] = []
    clock = time.perf_counter_ns
    first_seq = engine.events.last_seq
    with gc_paused():
        start = clock()
        for i, request in enumerate(requests):
            if i % SAMPLE_EVERY == 0:
                t0 = clock()
                orders.append(await engine.submit(request))
                run.samples.append(clock() - t0)
            else:
                orders.append(await engine.submit(request))
            if i >= OPEN_WINDOW:
                j = i - OPEN_WINDOW
                engine.tracker.on_user_event(venue.fill(orders[j], trade_ids[j], fees[j]))
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        engine.events.drain()  # what the loop has not yet handed to the sinks
        run.orders_s = len(requests) / ((clock() - start) / 1e9)
        # Counted by sequence, not by a listener: a per-event Python listener would make
        # every event a Python object, which no sink here needs.
        run.events = engine.events.last_seq - first_seq
        if publisher is not None:
            await publisher.stop(flush_timeout=900)
            run.jetstream_events_s = run.events / ((clock() - start) / 1e9)
        if journal is not None:
            journal.stop()
            run.journal_events_s = journal.written / ((clock() - start) / 1e9)
    engine.positions_book.unlink()
    return run


async def recover(data: Path, nats_url: str | None = None) -> tuple[float, int]:
    """Seconds for ``engine.start(recover_from=data)`` (reading JetStream too with a
    ``nats_url``); the orders it holds after."""
    streams = StreamReplay(nats_url) if nats_url is not None else None
    engine = Engine([NullVenue()], streams=streams)
    start = time.perf_counter()
    await engine.start(recover_from=data)
    elapsed = time.perf_counter() - start
    held = len(engine.orders())
    await engine.stop()
    if streams is not None:
        await streams.close()
    return elapsed, held


def run(report: Report, quick: bool) -> None:
    n = 10_000 if quick else 40_000
    emit("## h. Durability under load: journal and JetStream while orders flow, and recovery")
    emit()
    requests = [workload(n) for _ in range(4)]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, EmbeddedNats(Path(tmp) / "nats") as nats_server:
        runs.append(asyncio.run(loaded("none", requests[0], None, None)))
        runs.append(asyncio.run(loaded("journal", requests[1], Path(tmp) / "j1", None)))
        runs.append(
            asyncio.run(
                loaded(
                    "journal+jetstream (publisher process)", requests[2], Path(tmp) / "j2", nats_server.url
                )
            )
        )
        runs.append(
            asyncio.run(
                loaded("journal+jetstream (in-process)", requests[3], Path(tmp) / "j3", nats_server.url, True)
            )
        )
    rows = []
    for r in runs:
        d = Dist.of(r.samples)
        rows.append(
            [
                r.name,
                f"{r.orders_s:,.0f}",
                f"{d.p50 / 1000:.1f}",
                f"{d.p99 / 1000:.1f}",
                f"{d.p999 / 1000:.1f}",
                f"{r.events:,}",
                "-" if r.journal_events_s is None else f"{r.journal_events_s:,.0f}",
                "-" if r.jetstream_events_s is None else f"{r.jetstream_events_s:,.0f}",
            ]
        )
    emit(
        table(
            [
                "listeners",
                "orders/s",
                "submit p50 us",
                "p99 us",
                "p99.9 us",
                "events",
                "JSONL lines/s",
                "JetStream ev/s",
            ],
            rows,
        )
    )
    emit()
    base = Dist.of(runs[0].samples).p99
    moved = [ratio(Dist.of(r.samples).p99, base) for r in runs[1:]]
    emit(
        f"submit p99 with the journal / without: {moved[0]:.2f}x; with journal and JetStream: {moved[1]:.2f}x"
    )
    emit()
    report.notes.append(
        f"submit p99 moved {moved[0]:.2f}x by the journal, {moved[1]:.2f}x by journal+JetStream "
        f"(target: not moved); JetStream {runs[2].jetstream_events_s or 0:,.0f} events/s under load"
    )
    recovery(report, quick)


def recovery(report: Report, quick: bool) -> None:
    events_wanted = 100_000 if quick else 1_000_000
    orders = events_wanted // 4  # journaled per order: PENDING_NEW, NEW, FILLED, and its fill
    with tempfile.TemporaryDirectory() as tmp, EmbeddedNats(Path(tmp) / "nats") as server:
        data = Path(tmp) / "data"
        built = asyncio.run(loaded("build", workload(orders), data, server.url, True))
        journaled = sum(1 for p in data.rglob("*.jsonl") for _ in p.open("rb"))
        seconds, held = asyncio.run(recover(data))
        shutil.rmtree(data / "logs")  # now only JetStream has the events
        js_seconds, js_held = asyncio.run(recover(data, server.url))
    emit(
        f"recovery from a journal of {journaled:,} events ({orders:,} orders, "
        f"{built.events:,} engine events): {seconds:.1f} s ({journaled / seconds:,.0f} events/s), "
        f"{held:,} orders restored"
    )
    emit()
    emit(
        f"the same from JetStream alone (journal files deleted; ORDERS, TRADES and POSITIONS "
        f"read back): {js_seconds:.1f} s ({journaled / js_seconds:,.0f} events/s), "
        f"{js_held:,} orders restored"
    )
    emit()
    report.notes.append(
        f"recovery of {journaled:,} journaled events: {seconds:.1f} s from the journal, "
        f"{js_seconds:.1f} s from JetStream"
    )
