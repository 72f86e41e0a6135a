"""What the JetStream publisher queues from a batch of engine events (no server needed:
the queue is filled before anything is sent): subjects, ids and JSON payloads in
order, and an event that cannot be encoded costing only itself."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import msgspec
import pytest

from oms.bus.publisher import JetStreamPublisher, Outgoing, bus_messages, one_message
from oms.engine import Engine
from oms.engine.events import KeptEvent, materialize
from oms.errors import RiskRejected
from oms.exchanges.null import NullExchange
from oms.model import FillEvent, Liquidity, OrderStatus, Side
from oms.risk import RiskLimits
from tests.unit.sample_events import fill, update
from tests.unit.test_order_path import INSTRUMENT, VENUE, fill_of, limit

D = Decimal


def test_a_batch_is_queued_in_order_and_a_bad_event_costs_only_itself() -> None:
    publisher = JetStreamPublisher("nats://127.0.0.1:1", lambda venue, symbol: symbol.replace("/", ""))
    bad = msgspec.structs.replace(update(2), reason=object())
    publisher.on_events([update(1), bad, fill(3), update(4, status=OrderStatus.FILLED)])
    queued: list[Outgoing] = publisher.queue.get_many(10)
    assert [(m.subject, m.msg_id) for m in queued] == [
        ("orders.binance.spot.BTCUSDT", "order:o1:NEW:0"),
        ("trades.binance.spot.BTCUSDT", "fill:binance:spot:3"),
        ("orders.binance.spot.BTCUSDT", "order:o1:FILLED:0"),
    ]
    assert [msgspec.json.decode(m.payload)["seq"] for m in queued] == [1, 3, 4]
    assert publisher.dropped == 1
    publisher.on_events([update(5, status=OrderStatus.CANCELED)])  # a good batch: one call, all of it
    assert [m.msg_id for m in publisher.queue.get_many(10)] == ["order:o1:CANCELED:0"]


def test_the_cores_messages_are_the_ones_python_makes_of_the_same_events() -> None:
    """The order path's records are encoded in the core (``BusMessages``); an event
    Python makes (here a risk refusal) by msgspec. Either way each message is what
    ``one_message`` makes of the event's Struct: the same subject, the same
    ``Nats-Msg-Id`` (a resend by either is recognised) and the same JSON."""
    engine = Engine([NullExchange(VENUE, [INSTRUMENT])])
    engine.risk.set_limits(RiskLimits(max_order_qty=D("5")))
    kept: list[KeptEvent] = []
    engine.on_events(kept.extend, records=True)

    async def trade() -> None:
        first = await engine.submit(limit("0.5", "20000.5"))
        engine.tracker.on_user_event(
            FillEvent(
                fill=fill_of(
                    engine, first.id, "T1", "0.2", fee=D("0.0001"), fee_asset="BTC", liquidity=Liquidity.MAKER
                )
            )
        )
        engine.tracker.on_user_event(FillEvent(fill=fill_of(engine, first.id, "T2", "0.3")))
        second = await engine.submit(limit("0.7", "19999.99", side=Side.SELL))
        engine.tracker.on_user_event(
            FillEvent(
                fill=fill_of(engine, second.id, 'T"3', "0.25", fee_asset="BNB", liquidity=Liquidity.TAKER)
            )
        )
        await engine.cancel(second.id)
        with pytest.raises(RiskRejected):
            await engine.submit(limit("6", "20000"))
        engine.events.drain()

    try:
        asyncio.run(trade())
    finally:
        asyncio.run(engine.stop())
    native = lambda venue, symbol: symbol.replace("/", "")  # noqa: E731
    encoder = msgspec.json.Encoder()
    assert {type(e).__name__ for e in kept} >= {
        "OrderUpdateRecord",
        "FillUpdateRecord",
        "PositionUpdateRecord",
    }
    core = [Outgoing.parse(raw) for raw in bus_messages(encoder, native).messages(kept)]
    python = [one_message(encoder, event, native) for event in materialize(kept)]
    assert len(core) == len(kept) >= 12
    for ours, theirs in zip(core, python, strict=True):
        assert theirs is not None
        assert (ours.subject, ours.msg_id) == (theirs.subject, theirs.msg_id)
        assert msgspec.json.decode(ours.payload) == msgspec.json.decode(theirs.payload)
        assert ours.payload == theirs.payload  # byte for byte: the journal's lines are these too
