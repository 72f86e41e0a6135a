"""f. The engine's order lifecycle from Python, the venue leg replaced by an in-process
null venue (issue 7), on the workload of the NautilusTrader peer script
(``../shared/peer-bench/nt_order_path.py``: seed 20240601, qty U(0.001, 0.1) at 6 dp,
price N(50000, 50) at 2 dp, sides "mm" with |net| kept under 0.5 BTC, ~1,000 orders
open, 10 bp commission in USDT).

For each order i: ``engine.submit`` (validation, instrument rules, Rust risk check,
PENDING_NEW, the null venue's NEW answer) and then the fill of order i-1000 as the user
stream delivers it (``OrderTracker.on_user_event``: the order, the shared-memory
position book, the risk engine, events). Every event goes to the JSONL journal's queue
(encoded when the loop gets a turn, every 100 orders here; its thread writes the files),
as in ``fast`` mode; the clock stops once the journal's queue is empty, so a writer that
falls behind cannot flatter the figure. Submit latency: every 64th submit
timed on its own. ``--rss`` children hold 1,000 and 100,000 open orders.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from harness import Dist, Report, emit, fmt_ns, fmt_x, gc_paused, ratio, table
from oms.bus.embedded_nats import EmbeddedNats
from oms.bus.publisher import JetStreamPublisher
from oms.engine import Engine
from oms.exchanges.null import NullExchange
from oms.model import (
    Fill,
    FillEvent,
    Instrument,
    InstrumentKind,
    Liquidity,
    Order,
    OrderRequest,
    OrderType,
    Side,
)
from oms.storage.journal import Journal
from oms.symbols import SymbolMap

SEED = 20240601
VENUE, SYMBOL = "null:spot", "BTC/USDT"
OPEN_WINDOW = 1000
YIELD_EVERY = 100  # orders between turns of the event loop (the journal encodes then)
ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"  # `make peer-venv`
PEER_SCRIPT = ROOT.parent / "shared" / "peer-bench" / "nt_order_path.py"
NT_PUBLISHED = (3539.0, 158.1)  # ../shared/peer-bench/README.md: orders/s, submit p99 us (n=200k)


class NullVenue(NullExchange):
    """The null venue (``oms.exchanges.null``) with the peer's one instrument, and the
    fills the benchmark hands the engine."""

    def __init__(self) -> None:
        instrument = Instrument(
            venue=VENUE,
            symbol=SYMBOL,
            native_symbol="BTCUSDT",
            kind=InstrumentKind.SPOT,
            base="BTC",
            quote="USDT",
            tick_size=Decimal("0.01"),
            step_size=Decimal("0.000001"),
            min_qty=Decimal("0.000001"),
            max_qty=Decimal("9000"),
            min_notional=Decimal("1"),
        )
        super().__init__(VENUE, [instrument])
        self.symbols = SymbolMap(VENUE, [("BTCUSDT", SYMBOL)])  # subjects of events

    def fill(self, order: Order, trade_id: str, fee: Decimal) -> FillEvent:
        """Order ``order`` filled whole, as the user stream reports it (the trade id and
        the commission computed before the clock, see ``venue_side``)."""
        r = order.request
        assert r.price is not None  # the workload's orders are limit orders
        return FillEvent(
            fill=Fill(
                venue=VENUE,
                symbol=SYMBOL,
                trade_id=trade_id,
                side=r.side,
                qty=r.qty,
                price=r.price,
                fee=fee,
                fee_asset="USDT",
                liquidity=Liquidity.MAKER,
                client_order_id=order.client_order_id,
                venue_order_id=order.venue_order_id,
                ts_ns=time.time_ns(),
            )
        )


def workload(n: int) -> list[OrderRequest]:
    """The peer script's order stream (same seed and rules)."""
    rng = random.Random(SEED)
    net = Decimal(0)
    out = []
    for _ in range(n):
        qty = Decimal(str(round(rng.uniform(0.001, 0.1), 6)))
        price = Decimal(str(round(rng.gauss(50_000, 50), 2)))
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        if net > Decimal("0.5"):
            side = Side.SELL
        elif net < Decimal("-0.5"):
            side = Side.BUY
        net += qty if side is Side.BUY else -qty
        out.append(
            OrderRequest(venue=VENUE, symbol=SYMBOL, side=side, type=OrderType.LIMIT, qty=qty, price=price)
        )
    return out


def venue_side(requests: Sequence[OrderRequest]) -> tuple[list[str], list[Decimal]]:
    """What the peer script computes before its clock for the venue's side of each fill:
    its trade id and its commission (10 bp in USDT, to 8 dp). The venue's arithmetic is
    not the OMS's work ("the exchange leg is excluded")."""
    fees = [(r.qty * (r.price or 0) * Decimal("0.001")).quantize(Decimal("0.00000001")) for r in requests]
    return [f"T{i}" for i in range(len(requests))], fees


async def lifecycle(
    requests: Sequence[OrderRequest], data_dir: Path, nats_url: str | None = None
) -> tuple[float, list[int], Engine]:
    """``nats_url``: strict durability (each intent acknowledged by JetStream first)."""
    venue = NullVenue()
    publisher = None
    if nats_url is not None:
        publisher = JetStreamPublisher(nats_url, lambda v, s: "BTCUSDT")
        await publisher.start()
    engine = Engine([venue], intents=publisher)
    journal = Journal(data_dir)
    journal.start()
    engine.on_events(journal.on_events, records=True)
    tracker, submit = engine.tracker, engine.submit
    trade_ids, fees = venue_side(requests)
    window: deque[Order] = deque()  # the open ones (a strategy keeps what it still works)
    samples: list[int] = []
    clock = time.perf_counter_ns
    with gc_paused():
        start = clock()
        for i, request in enumerate(requests):
            if i % 64 == 0:
                t0 = clock()
                order = await submit(request)
                samples.append(clock() - t0)
            else:
                order = await submit(request)
            window.append(order)
            if i >= OPEN_WINDOW:
                j = i - OPEN_WINDOW
                tracker.on_user_event(venue.fill(window.popleft(), trade_ids[j], fees[j]))
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # as any asyncio program does between its I/O
        engine.events.drain()  # what the loop has not yet handed to the journal
        while journal.written < journal.queued:  # the writer's backlog counts: its pace is part of the path
            time.sleep(0.0002)
        elapsed = clock() - start
    journal.stop()
    if publisher is not None:
        await publisher.stop()
    check_all_filled(engine, len(requests))
    return elapsed / len(requests), samples, engine


async def batched(requests: Sequence[OrderRequest], batch: int = 100) -> float:
    """ns per order with ``submit_many`` in batches of ``batch``, and the fills handed
    over in batches as well (``OrderTracker.on_user_events``, as a stream read that
    found several messages waiting)."""
    venue = NullVenue()
    engine = Engine([venue])
    tracker = engine.tracker
    trade_ids, fees = venue_side(requests)
    window: deque[Order] = deque()
    filled = 0
    clock = time.perf_counter_ns
    with gc_paused():
        start = clock()
        for i in range(0, len(requests), batch):
            results = await engine.submit_many(requests[i : i + batch])
            window += [r for r in results if isinstance(r, Order)]
            due = range(filled, filled + max(0, len(window) - OPEN_WINDOW))
            tracker.on_user_events([venue.fill(window.popleft(), trade_ids[j], fees[j]) for j in due])
            filled = due.stop
        elapsed = clock() - start
    check_all_filled(engine, len(requests))
    engine.positions_book.unlink()
    return elapsed / len(requests)


def check_all_filled(engine: Engine, submitted: int) -> None:
    """Every order but the last ``OPEN_WINDOW`` filled once (the orders themselves are
    not kept: the engine forgets the oldest that ended, as a strategy does)."""
    position = engine.positions_book.get("default", VENUE, SYMBOL)
    assert position is not None and position.fill_count == submitted - OPEN_WINDOW, position
    open_orders = engine.risk.open_orders(venue=VENUE)
    assert open_orders == OPEN_WINDOW, f"{open_orders} open"


def rss_child(open_orders: int) -> None:
    """Print the RSS growth (KB) of holding ``open_orders`` open orders."""

    async def main() -> None:
        engine = Engine([NullVenue()])
        requests = workload(open_orders)
        before = _rss_kb()
        for request in requests:
            await engine.submit(request)
        after = _rss_kb()
        print(json.dumps({"open": open_orders, "rss_kb": after, "growth_kb": after - before}))
        engine.positions_book.unlink()

    asyncio.run(main())


def rss_after_lifecycles(n: int) -> None:
    """Print the RSS (KB) after ``n`` full lifecycles with the journal (1,000 left open):
    the engine keeps the newest ``keep_closed`` ended orders, so it stays flat however
    long it runs (the issue quotes ~960 MB for NautilusTrader after 200k orders)."""
    requests = workload(n)
    with tempfile.TemporaryDirectory() as tmp:
        _, _, engine = asyncio.run(lifecycle(requests, Path(tmp)))
        print(json.dumps({"orders": n, "rss_kb": _rss_kb(), "kept": len(engine.orders())}))
        engine.positions_book.unlink()


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run(report: Report, quick: bool) -> None:
    n, repeats = (5_000, 2) if quick else (50_000, 3)
    emit("## f. Engine order lifecycle (null venue; the NautilusTrader peer's workload)")
    emit()
    requests_per_round = [workload(n) for _ in range(repeats)]
    per_order, latencies = [], []
    for requests in requests_per_round:
        with tempfile.TemporaryDirectory() as tmp:
            ns, samples, engine = asyncio.run(lifecycle(requests, Path(tmp)))
            engine.positions_book.unlink()
        per_order.append(ns)
        latencies += samples
    per_order.sort()
    median = per_order[len(per_order) // 2]
    dist = Dist.of(latencies)
    rows = [
        [
            "lifecycle (submit -> NEW -> fill -> position, journaled)",
            f"{n:,} x {repeats}",
            fmt_ns(median),
            f"{1e9 / median:,.0f}",
        ],
    ]
    emit(table(["path", "orders", "ns/order (median)", "orders/s"], rows))
    emit()
    emit(
        f"submit latency (every 64th): p50 {dist.p50 / 1000:.1f} us, p99 {dist.p99 / 1000:.1f} us, "
        f"p99.9 {dist.p999 / 1000:.1f} us (n={dist.n})"
    )
    emit()
    ns_batched = asyncio.run(batched(workload(n)))
    emit(
        f"batched (`submit_many` and `on_user_events`, 100 per call, no journal): "
        f"{ns_batched / 1000:.1f} us/order, {1e9 / ns_batched:,.0f} orders/s (target >= 1,000,000/s)"
    )
    emit()
    strict_n = 300 if quick else 3_000
    with tempfile.TemporaryDirectory() as tmp, EmbeddedNats(tmp) as nats_server:
        ns_strict, strict_samples, engine = asyncio.run(
            lifecycle(workload(strict_n + OPEN_WINDOW), Path(tmp), nats_server.url)
        )
        engine.positions_book.unlink()
    strict = Dist.of(strict_samples)
    emit(
        f"strict durability (each intent acknowledged by the embedded JetStream, fsync per write, "
        f"before the send), {strict_n + OPEN_WINDOW:,} orders: {1e9 / ns_strict:,.0f} orders/s, submit p50 "
        f"{strict.p50 / 1000:.0f} us, p99 {strict.p99 / 1000:.0f} us (fast mode above: "
        f"{fmt_x(ratio(ns_strict, median))} faster)"
    )
    emit()
    rss = [
        json.loads(
            subprocess.run(
                [sys.executable, __file__, "--rss", str(k)], capture_output=True, text=True, check=True
            ).stdout
        )
        for k in (1_000, 10_000 if quick else 100_000)
    ]
    for row in rss:
        emit(
            f"RSS holding {row['open']:,} open orders: {row['rss_kb'] / 1024:.0f} MB "
            f"(+{row['growth_kb'] / 1024:.0f} MB for the orders)"
        )
    lifecycles = 20_000 if quick else 200_000
    child = [sys.executable, __file__, "--rss-lifecycles", str(lifecycles)]
    after = json.loads(subprocess.run(child, capture_output=True, text=True, check=True).stdout)
    emit(
        f"RSS after {after['orders']:,} lifecycles (journaled, 1,000 left open, "
        f"{after['kept']:,} orders kept, the bench's requests held): {after['rss_kb'] / 1024:.0f} MB"
    )
    emit()
    throughput = 1e9 / median
    peer = nautilus(n, repeats)
    if peer is None:
        (nt_rate, nt_p99), source = NT_PUBLISHED, "published figure (no .venv-peer: `make peer-venv`)"
    else:
        (nt_rate, nt_p99), source = peer, f"measured in this run, n={n:,} x {repeats}"
    emit(
        table(
            ["", "orders/s", "submit p99 us"],
            [
                ["oms Engine", f"{throughput:,.0f}", f"{dist.p99 / 1000:.1f}"],
                [f"NautilusTrader 1.221 ({source})", f"{nt_rate:,.0f}", f"{nt_p99:.1f}"],
                ["ratio", fmt_x(ratio(throughput, nt_rate)), fmt_x(ratio(nt_p99, dist.p99 / 1000))],
            ],
        )
    )
    emit()
    report.notes.append(
        f"Engine lifecycle {throughput:,.0f} orders/s = {fmt_x(ratio(throughput, nt_rate))} NautilusTrader "
        f"({source}; target >= 100x); submit p99 {dist.p99 / 1000:.1f} us (target <= 10 us)"
    )


def nautilus(n: int, repeats: int) -> tuple[float, float] | None:
    """The peer's lifecycle on the same workload, in its own virtualenv: (orders/s, p99 us)."""
    if not (PEER_PYTHON.exists() and PEER_SCRIPT.exists()):
        return None
    args = [
        str(PEER_PYTHON),
        str(PEER_SCRIPT),
        "--n",
        str(n),
        "--repeat",
        str(repeats),
        "--phases",
        "lifecycle",
    ]
    done = subprocess.run(args, capture_output=True, text=True, check=True, timeout=1800)
    metrics = json.loads(done.stdout.strip().splitlines()[-1])["metrics"]
    return metrics["lifecycle_orders_per_s"]["median"], metrics["lifecycle_submit_lat_p99_ns"][
        "median"
    ] / 1000


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--rss":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        rss_child(int(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "--rss-lifecycles":
        rss_after_lifecycles(int(sys.argv[2]))
