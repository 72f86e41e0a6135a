"""The paper session ``python -m oms`` (``make run``) runs until the engine exists.

The engine, connectors, simulators and gRPC server are later issues; until they
land this runs what exists: a short paper session through the Rust core (risk
checks, fills into the shared-memory position book, a ring between two
processes), printing what it does, so a newcomer sees the core working.
"""

from __future__ import annotations

import multiprocessing
import os
from decimal import Decimal
from typing import Literal

from oms import __version__
from oms.errors import RiskRejected
from oms.positions import PositionBook
from oms.queues import ShmRing
from oms.risk import RiskEngine, RiskLimits, RiskOrder

VENUE, SYMBOL, ACCOUNT = "binance:usdm", "BTC/USDT:USDT", "paper"


def _echo(name: str) -> None:
    with ShmRing.attach(name, role="consumer") as inbox:
        message = inbox.get(timeout=5)
        print(f"  [reader pid {os.getpid()}] received {message!r} over the shm ring")


def demo() -> None:
    print(f"oms {__version__}: the Rust core (engine, connectors and gRPC arrive in later issues)\n")
    risk = RiskEngine()
    risk.set_limits(
        RiskLimits(max_order_qty="2", max_position_qty="3", price_band_bps=200, max_open_orders=10)
    )
    risk.set_reference_price(VENUE, SYMBOL, "50000")
    name = f"demo-{os.getpid()}"
    book = PositionBook.create(name, capacity=16)
    try:
        orders: list[tuple[Literal["BUY", "SELL"], str, str]] = [
            ("BUY", "1.5", "50010"),
            ("BUY", "2.5", "50000"),
            ("BUY", "1", "52000"),
            ("SELL", "0.5", "50100"),
        ]
        for side, qty, price in orders:
            order = RiskOrder(ACCOUNT, VENUE, SYMBOL, side, qty, price)
            try:
                risk.check(order)
            except RiskRejected as reject:
                print(f"  rejected {side} {qty} @ {price}: {reject.code} - {reject.message}")
                continue
            risk.on_fill(order, qty, price)
            fee = Decimal(qty) * Decimal(price) / 2500  # 4 bps taker fee
            book.apply_fill(ACCOUNT, VENUE, SYMBOL, side, qty, price, fee=fee)
            print(f"  accepted and filled {side} {qty} @ {price}")
        book.mark(VENUE, SYMBOL, "50200")
        position = book.get(ACCOUNT, VENUE, SYMBOL)
        print(f"\n  position: {position!r}")
        if position is not None:
            print(
                f"  fees {position.fees_paid}, net P&L {position.net_pnl} (marked at {position.mark_price})"
            )
        reader = PositionBook.attach(name)
        print(f"  a read-only reader sees {len(reader)} position(s), seq {reader.seq}")
        ring_name = f"demo-ring-{os.getpid()}"
        with ShmRing.create(ring_name, capacity=4096, role="producer") as outbox:
            child = multiprocessing.get_context("spawn").Process(target=_echo, args=(ring_name,))
            child.start()
            outbox.put(b"hello from the engine")
            child.join(10)
    finally:
        book.unlink()
    print("\nDone. `make test` runs the full suites; `make bench` measures the core.")
