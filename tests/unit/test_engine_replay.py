"""Recorded events applied on a snapshot: the journal and JetStream both replayed, in
any order, with copies and with events from before the snapshot, give the same state
as one clean pass."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from oms.engine import Engine, FillUpdate, OrderUpdate
from oms.engine.replay import EventReplay
from oms.model import Fill, Order, OrderRequest, OrderStatus, OrderType, Side
from oms.storage.snapshots import write_snapshot

D = Decimal


def records() -> list[dict[str, Any]]:
    """One order's life as the engine records it (seq 10-15), plus an event from before
    the snapshot (seq 9) that must not count again."""
    request = OrderRequest(
        venue="v:spot", symbol="BTC/USDT", side=Side.BUY, type=OrderType.LIMIT, qty=D(1), price=D(100)
    )

    def update(seq: int, status: OrderStatus, filled: str) -> OrderUpdate:
        order = Order(
            id="o1",
            request=request,
            client_order_id="c1",
            status=status,
            filled_qty=D(filled),
            created_ns=1,
            updated_ns=seq,
        )
        return OrderUpdate.of(order, seq)

    def fill(seq: int, trade_id: str, qty: str, price: str) -> FillUpdate:
        f = Fill(
            venue="v:spot", symbol="BTC/USDT", trade_id=trade_id, side=Side.BUY, qty=D(qty), price=D(price)
        )
        return FillUpdate(seq=seq, order_id="o1", account="default", fill=f)

    events = [
        fill(9, "t0", "5", "1"),
        update(10, OrderStatus.PENDING_NEW, "0"),
        update(11, OrderStatus.NEW, "0"),
        fill(12, "t1", "0.4", "100"),
        update(13, OrderStatus.PARTIALLY_FILLED, "0.4"),
        fill(14, "t2", "0.6", "99.5"),
        update(15, OrderStatus.FILLED, "1"),
    ]
    return [msgspec.json.decode(msgspec.json.encode(e)) for e in events]


def replayed(*sources: list[dict[str, Any]]) -> Iterator[tuple[object, ...]]:
    engine = Engine([])
    try:
        replay = EventReplay(engine, after_seq=9)
        for source in sources:
            for record in source:
                replay.apply(record)
        replay.finish()
        order = engine.order("o1")
        [position] = engine.positions()
        yield (order.status, order.filled_qty, sorted(order.trade_ids), position.qty, position.cost_basis)
        yield (replay.last_seq, engine.events.next_seq() > replay.last_seq)
    finally:
        engine.positions_book.unlink()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_sources_in_any_order_give_the_state_of_one_clean_pass(seed: int) -> None:
    clean = list(replayed(records()[1:]))
    assert clean[0] == (OrderStatus.FILLED, D(1), ["t1", "t2"], D(1), D("99.7"))
    assert clean[1] == (15, True)
    shuffled = records() + records()[2:5]
    random.Random(seed).shuffle(shuffled)
    assert list(replayed(shuffled, records())) == clean


def test_a_snapshot_without_exact_positions_is_passed_over_for_a_full_replay(tmp_path: Path) -> None:
    """One written by an older version keeps only rounded averages: restoring it would
    make positions inexact, so everything recorded is replayed instead."""
    day = tmp_path / "logs" / "2026" / "11" / "24"
    day.mkdir(parents=True)
    lines = [msgspec.json.encode(r) for r in records()[1:]]
    (day / "orders.jsonl").write_bytes(b"\n".join(x for x in lines if b'"event":"order"' in x) + b"\n")
    (day / "trades.jsonl").write_bytes(b"\n".join(x for x in lines if b'"event":"fill"' in x) + b"\n")
    old = {"seq": 15, "ts_ns": 1, "open_orders": [], "positions": [{"account": "default", "qty": "1"}]}
    write_snapshot(tmp_path, old, 1)

    async def main() -> tuple[Decimal, Decimal]:
        engine = Engine([])
        await engine.start(recover_from=tmp_path)
        [position] = engine.positions()
        await engine.stop()
        return position.qty, position.cost_basis

    assert asyncio.run(main()) == (D(1), D("99.7"))
