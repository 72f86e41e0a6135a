"""The core's order path (``OrderPath``) on a real Engine over the null venue: what a
user of ``Engine.submit`` and of the user streams would check after acceptance, a venue
report and a fill. Refusals keep nothing; a plain request is taken as it is, any other
shape is validated (and made canonical) first; a fill is applied once, books the fee in
the quote currency, frees the reservation when it ends the order; events come in order
and encode as msgspec encodes the Structs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from oms.engine import Engine
from oms.engine.events import FillUpdate, KeptEvent, OrderUpdate, PositionUpdate, materialize
from oms.engine.tracking import CATCH_UP, CHANGED, TRIGGERED_NOW
from oms.errors import FilterViolation, InvalidInput, RiskRejected, UnknownSymbol, UnknownVenue
from oms.exchanges.null import NullExchange
from oms.model import (
    Fill,
    FillEvent,
    Instrument,
    InstrumentKind,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from oms.risk import RiskLimits
from oms.storage.journal import Journal, read_jsonl

D = Decimal
VENUE, SYMBOL = "null:spot", "BTC/USDT"
INSTRUMENT = Instrument(
    venue=VENUE,
    symbol=SYMBOL,
    native_symbol="BTCUSDT",
    kind=InstrumentKind.SPOT,
    base="BTC",
    quote="USDT",
    tick_size=D("0.01"),
    step_size=D("0.0001"),
    min_qty=D("0.0001"),
    max_qty=D("100"),
    min_notional=D("5"),
)


@pytest.fixture(name="engine")
def engine_fixture() -> Iterator[Engine]:
    engine = Engine([NullExchange(VENUE, [INSTRUMENT])])
    yield engine
    asyncio.run(engine.stop())


def limit(qty: str = "0.5", price: str = "20000", **kw: object) -> OrderRequest:
    fields: dict[str, object] = {
        "venue": VENUE,
        "symbol": SYMBOL,
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "qty": D(qty),
        "price": D(price),
    }
    return OrderRequest(**(fields | kw))  # type: ignore[arg-type]


def fill_of(engine: Engine, order_id: str, trade_id: str, qty: str, **kw: object) -> Fill:
    order = engine.order(order_id)
    fields: dict[str, object] = {
        "venue": VENUE,
        "symbol": SYMBOL,
        "trade_id": trade_id,
        "side": order.request.side,
        "qty": D(qty),
        "price": order.request.price,
        "fee": D("0.01"),
        "fee_asset": "USDT",
        "client_order_id": order.client_order_id,
        "venue_order_id": order.venue_order_id,
        "ts_ns": 1_700_000_000_000_000_000,
    }
    return Fill(**(fields | kw))  # type: ignore[arg-type]


def submit(engine: Engine, request: OrderRequest) -> str:
    async def go() -> str:
        return (await engine.submit(request)).id

    return asyncio.run(go())


def test_a_plain_request_is_accepted_reserved_and_kept_as_it_is(engine: Engine) -> None:
    request = limit()
    order = engine.path.accept(request)
    assert order.status is OrderStatus.PENDING_NEW and order.request is request
    assert engine.order(order.id) is order and engine.registry.by_client_id(order.client_order_id) is order
    assert engine.exchanges[VENUE].is_our_client_id(order.client_order_id)
    assert engine.risk.open_orders(venue=VENUE) == 1 and order.reservation is not None
    assert (order.filled_qty, order.remaining_qty) == (D(0), D("0.5"))


class NotedRequest(OrderRequest, kw_only=True):
    note: str = ""


class NotedFill(Fill, kw_only=True):
    note: str = ""


def test_subclasses_of_the_request_and_the_fill_are_read_as_well(engine: Engine) -> None:
    """The core reads OrderRequest and Fill fields from their slots; a subclass (its
    own layout) is read by attribute, with the same outcome."""
    request = NotedRequest(
        venue=VENUE,
        symbol=SYMBOL,
        side=Side.SELL,
        type=OrderType.LIMIT,
        qty=D("0.25"),
        price=D("20000.5"),
        note="x",
    )
    order = engine.path.accept(request)
    assert (order.request.side, order.remaining_qty, order.request.price) == (
        Side.SELL,
        D("0.25"),
        D("20000.5"),
    )
    engine.path.report(
        order, OrderEvent(venue=VENUE, symbol=SYMBOL, status=OrderStatus.NEW, venue_order_id="V7")
    )
    fill = fill_of(engine, order.id, "T1", "0.25")
    noted = NotedFill(**msgspec.structs.asdict(fill), note="y")
    assert engine.path.fill(noted) is order
    assert order.status is OrderStatus.FILLED and order.avg_price == D("20000.5")


def test_other_shapes_are_validated_first_and_made_canonical(engine: Engine) -> None:
    request = limit(qty="0.50", price="2E+4", time_in_force=TimeInForce.IOC, client_order_id="mine-1")
    order = engine.path.accept(request)
    assert (str(request.qty), str(request.price)) == ("0.5", "20000")  # what validate() made them
    assert order.client_order_id == "mine-1" and order.remaining_qty == D("0.5")


@pytest.mark.parametrize(
    ("request_", "error", "field"),
    [
        (limit(price="0"), InvalidInput, "price"),
        (limit(type=OrderType.MARKET), InvalidInput, "price"),
        (limit(client_order_id="no spaces"), InvalidInput, "client_order_id"),
        (limit(reduce_only=True, close_position=True), InvalidInput, "close_position"),
        (limit(qty="0.00001"), FilterViolation, "qty"),
        (limit(price="20000.001"), InvalidInput, "price"),
    ],
)
def test_a_refused_request_keeps_nothing(
    engine: Engine, request_: OrderRequest, error: type[Exception], field: str
) -> None:
    with pytest.raises(error) as raised:
        engine.path.accept(request_)
    assert raised.value.details.get("field") == field  # type: ignore[attr-defined]
    assert engine.orders() == [] and engine.risk.open_orders(venue=VENUE) == 0


def test_unknown_markets_and_risk_refusals_keep_nothing(engine: Engine) -> None:
    with pytest.raises(UnknownVenue):
        engine.path.accept(limit(venue="nowhere:spot"))
    with pytest.raises(UnknownSymbol):
        engine.path.accept(limit(symbol="ETH/USDT"))
    engine.risk.set_limits(RiskLimits(max_order_qty=D("0.1")))
    with pytest.raises(RiskRejected):
        engine.path.accept(limit())
    assert engine.orders() == [] and engine.risk.open_orders(venue=VENUE) == 0


def test_reports_move_the_order_and_say_what_the_engine_must_do(engine: Engine) -> None:
    order = engine.path.accept(limit())
    new = OrderEvent(venue=VENUE, symbol=SYMBOL, status=OrderStatus.NEW, venue_order_id="V7")
    assert engine.path.report(order, new) == CHANGED
    assert (order.status, order.venue_order_id) == (OrderStatus.NEW, "V7")
    assert engine.path.by_venue_id(VENUE, "V7") is order
    assert engine.path.report(order, new) == 0  # a repeat
    stale = OrderEvent(venue=VENUE, symbol=SYMBOL, status=OrderStatus.PENDING_NEW)
    assert engine.path.report(order, stale) == 0 and order.status is OrderStatus.NEW
    ahead = OrderEvent(venue=VENUE, symbol=SYMBOL, status=OrderStatus.PARTIALLY_FILLED, filled_qty=D("0.2"))
    assert engine.path.report(order, ahead) == CATCH_UP  # the fills themselves move it
    assert order.status is OrderStatus.NEW
    stop = engine.path.accept(limit(type=OrderType.STOP_LIMIT, stop_price=D("21000")))
    triggered = OrderEvent(venue=VENUE, symbol=SYMBOL, status=OrderStatus.TRIGGERED)
    assert engine.path.report(stop, triggered) == CHANGED | TRIGGERED_NOW
    canceled = OrderEvent(venue=VENUE, symbol=SYMBOL, status=OrderStatus.CANCELED, reason="by user")
    assert engine.path.report(order, canceled) == CHANGED
    assert (order.status, order.reason) == (OrderStatus.CANCELED, "by user")
    assert engine.risk.open_orders(venue=VENUE) == 1 and order.reservation is None


def test_a_fill_is_booked_once_and_the_last_one_frees_the_reservation(engine: Engine) -> None:
    order_id = submit(engine, limit(qty="0.5"))
    order = engine.order(order_id)
    first = fill_of(engine, order_id, "T1", "0.2", fee=D("0.0001"), fee_asset="BTC")
    assert engine.path.fill(first) is order
    assert engine.path.fill(first) is None  # the same trade again: nothing changes
    assert (order.status, order.filled_qty, order.fees) == (
        OrderStatus.PARTIALLY_FILLED,
        D("0.2"),
        {"BTC": D("0.0001")},
    )
    position = engine.positions_book.get("default", VENUE, SYMBOL)
    assert position is not None and position.qty == D("0.2")
    assert position.fees_paid == D("2")  # 0.0001 BTC at 20000: booked in USDT
    assert engine.path.fill(fill_of(engine, order_id, "T2", "0.3", fee_asset="BNB")) is order
    assert order.status is OrderStatus.FILLED and order.avg_price == D("20000")
    position = engine.positions_book.get("default", VENUE, SYMBOL)
    assert (
        position is not None and position.qty == D("0.5") and position.fees_paid == D("2")
    )  # BNB stays on the order
    assert engine.risk.open_orders(venue=VENUE) == 0 and order.reservation is None


def test_an_overfill_is_booked_and_reported(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    order_id = submit(engine, limit(qty="0.5"))
    with caplog.at_level(logging.ERROR):
        assert engine.path.fill(fill_of(engine, order_id, "T1", "0.7")) is not None
    order = engine.order(order_id)
    assert (order.status, order.filled_qty, order.overfill_qty) == (OrderStatus.FILLED, D("0.7"), D("0.2"))
    position = engine.positions_book.get("default", VENUE, SYMBOL)
    assert position is not None and position.qty == D("0.7")  # it happened at the venue
    assert f"overfill on {order_id}: 0.2" in caplog.text


def test_a_fill_found_by_venue_id_and_a_stray_one(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    order_id = submit(engine, limit())
    by_venue_id = fill_of(engine, order_id, "T1", "0.1", client_order_id=None)
    assert engine.path.fill(by_venue_id) is engine.order(order_id)
    with caplog.at_level(logging.WARNING):
        assert (
            engine.path.fill(fill_of(engine, order_id, "T2", "0.1", client_order_id="x", venue_order_id="y"))
            is None
        )
    assert "not ours" in caplog.text and engine.order(order_id).filled_qty == D("0.1")


def test_events_come_in_order_and_the_core_encodes_them_as_msgspec_does(engine: Engine) -> None:
    kept: list[KeptEvent] = []
    engine.on_events(kept.extend, records=True)
    order_id = submit(engine, limit())
    engine.path.set_price(VENUE, SYMBOL, D("20100"))
    engine.path.fill(fill_of(engine, order_id, "T1", "0.5", liquidity="MAKER"))
    engine.events.drain()
    events = materialize(kept)
    assert [type(e) for e in events] == [OrderUpdate, OrderUpdate, PositionUpdate, FillUpdate, OrderUpdate]
    assert [e.seq for e in events] == sorted(e.seq for e in events) and len({e.seq for e in events}) == 5
    assert [e.status for e in events if isinstance(e, OrderUpdate)] == [
        OrderStatus.PENDING_NEW,
        OrderStatus.NEW,
        OrderStatus.FILLED,
    ]
    position = events[2]
    assert isinstance(position, PositionUpdate) and position.unrealized_pnl == D("50")  # marked at once
    encoder = msgspec.json.Encoder()
    for record, event in zip(kept, events, strict=True):
        if hasattr(record, "json"):
            assert msgspec.json.decode(record.json()) == msgspec.json.decode(encoder.encode(event))


def test_the_journal_writes_the_cores_records_as_msgspec_writes_their_events(
    engine: Engine, tmp_path: Path
) -> None:
    """The records go to the journal's thread as they are and are encoded there: each
    line is what msgspec writes for the event, plus its ``time``, in order, per file."""
    journal = Journal(tmp_path)
    journal.start()
    kept: list[KeptEvent] = []
    engine.on_events(kept.extend, records=True)
    engine.on_events(journal.on_events, records=True)
    order_id = submit(engine, limit())
    engine.path.fill(fill_of(engine, order_id, "T1", "0.5", liquidity="MAKER"))
    engine.events.drain()
    journal.stop()
    events = materialize(kept)
    encoder = msgspec.json.Encoder()
    for name, kinds in (("orders.jsonl", (OrderUpdate,)), ("trades.jsonl", (FillUpdate,))):
        files = sorted((tmp_path / "logs").glob(f"*/*/*/{name}*"))  # each event in its own day's
        lines = sorted((line for f in files for line in read_jsonl(f)), key=lambda line: line["seq"])
        assert [line.pop("time") for line in lines]  # stamped
        expected = [msgspec.json.decode(encoder.encode(e)) for e in events if isinstance(e, kinds)]
        assert lines == expected and lines
    assert journal.written == 4 and journal.dropped == 0


def test_a_batch_is_accepted_order_by_order_and_only_the_accepted_are_sent(engine: Engine) -> None:
    """``submit_many`` (``OrderPath.accept_many``): one result per request, in order; a
    refusal is that request's result, keeps nothing and sends nothing; a risk refusal
    is also an event."""
    engine.risk.set_limits(RiskLimits(max_order_qty=D("1")))
    decisions: list[object] = []
    engine.on_event(decisions.append)
    requests = [
        limit("0.5"),
        limit("0.5", price="20000.001"),  # off the tick
        limit("2"),  # over the risk limit
        limit("0.5", symbol="ETH/USDT"),
        limit("0.25", side=Side.SELL),
    ]

    results = asyncio.run(engine.submit_many(requests))

    assert [type(r).__name__ for r in results] == [
        "Order",
        "FilterViolation",
        "RiskRejected",
        "UnknownSymbol",
        "Order",
    ]
    first, last = results[0], results[4]
    assert not isinstance(first, Exception) and not isinstance(last, Exception)
    assert (first.status, last.status) == (OrderStatus.NEW, OrderStatus.NEW)
    assert (
        first.venue_order_id != last.venue_order_id
        and engine.path.by_venue_id(VENUE, last.venue_order_id) is last
    )
    assert {o.id for o in engine.orders()} == {first.id, last.id}
    assert engine.risk.open_orders(venue=VENUE) == 2
    assert [getattr(e, "code", None) for e in decisions if type(e).__name__ == "RiskDecision"] == [
        results[2].code
    ]  # type: ignore[union-attr]


def test_a_batch_of_user_events_applies_each_fill_once_and_logs_the_bad_ones(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """``OrderTracker.on_user_events``: fills in one call to the core, in order; a fill
    seen before applies nothing, a fill the order refuses is logged and the ones
    after it are still applied; a venue report in the batch keeps its place."""
    order_id = submit(engine, limit("0.5"))
    order = engine.order(order_id)
    events = [
        FillEvent(fill=fill_of(engine, order_id, "T1", "0.2")),
        FillEvent(fill=fill_of(engine, order_id, "T1", "0.2")),  # the same trade again
        FillEvent(fill=fill_of(engine, order_id, "T2", "0.1", side=Side.SELL)),  # the wrong side
        FillEvent(fill=fill_of(engine, order_id, "T3", "0.3")),
        OrderEvent(
            venue=VENUE, symbol=SYMBOL, status=OrderStatus.FILLED, client_order_id=order.client_order_id
        ),
    ]

    with caplog.at_level(logging.ERROR):
        engine.tracker.on_user_events(events)

    assert order.status is OrderStatus.FILLED and order.filled_qty == D("0.5")
    assert order.trade_ids == {"T1", "T3"}
    position = engine.positions_book.get("default", VENUE, SYMBOL)
    assert position is not None and position.qty == D("0.5") and position.fill_count == 2
    assert engine.risk.open_orders(venue=VENUE) == 0 and order.reservation is None
    assert "could not apply" in caplog.text and "T2" in caplog.text


def test_only_the_newest_closed_orders_are_kept(caplog: pytest.LogCaptureFixture) -> None:
    """An engine that runs all day forgets the orders that ended long ago (the newest
    ``keep_closed`` stay): its maps, idempotency keys and groups stop naming them, a
    late fill for one is a stray, and an open order is never forgotten however old."""
    engine = Engine([NullExchange(VENUE, [INSTRUMENT])], keep_closed=3)

    async def go() -> tuple[list[str], str, list[str]]:
        oldest_open = (await engine.submit(limit(price="19000"))).id
        closed = []
        for i in range(600):
            order = await engine.submit(limit(qty="0.001", idempotency_key=f"k{i}"))
            engine.tracker.on_user_event(FillEvent(fill=fill_of(engine, order.id, f"T{i}", "0.001")))
            closed.append(order.id)
        again = [(await engine.submit(limit(qty="0.001", idempotency_key=k))).id for k in ("k0", "k599")]
        return closed, oldest_open, again

    try:
        closed, oldest_open, (first_again, last_again) = asyncio.run(go())
        kept = [o.id for o in engine.orders() if o.status is OrderStatus.FILLED]
        assert 3 <= len(kept) < 600 and kept == closed[-len(kept) :]  # the newest, in order
        assert engine.path.closed_count == len(kept)
        assert engine.order(oldest_open).status is OrderStatus.NEW
        gone = closed[0]
        assert engine.registry.get(gone) is None and engine.registry.by_client_id(gone) is None
        assert engine.path.by_venue_id(VENUE, "V2") is None  # the first filled order's venue id
        assert first_again not in closed  # its key was forgotten with it: a new order
        assert last_again == closed[-1]  # a kept order's key still answers with it
        with caplog.at_level(logging.WARNING):
            late = Fill(
                venue=VENUE,
                symbol=SYMBOL,
                trade_id="late",
                side=Side.BUY,
                qty=D("0.001"),
                price=D("20000"),
                client_order_id=gone,
            )
            assert engine.path.fill(late) is None
        assert "not ours" in caplog.text
        assert engine.risk.open_orders(venue=VENUE) == 2  # the oldest and the re-submitted k0
    finally:
        asyncio.run(engine.stop())


def test_a_negative_bound_on_closed_orders_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        Engine([NullExchange(VENUE, [INSTRUMENT])], keep_closed=-1)
    assert refused.value.code == "INVALID_ARGUMENT" and refused.value.details == {"field": "keep_closed"}


def test_a_group_is_forgotten_with_its_last_leg() -> None:
    engine = Engine([NullExchange(VENUE, [INSTRUMENT])], keep_closed=0)

    async def go() -> None:
        legs = [await engine.submit(limit(qty="0.001")) for _ in range(2)]
        group_id = engine.conditional.link("OCO", legs)
        for i, leg in enumerate(legs):
            engine.tracker.on_user_event(FillEvent(fill=fill_of(engine, leg.id, f"G{i}", "0.001")))
        assert group_id in engine.conditional.groups  # both ended, not yet forgotten
        for i in range(300):  # enough others ending to forget the oldest
            order = await engine.submit(limit(qty="0.001"))
            engine.tracker.on_user_event(FillEvent(fill=fill_of(engine, order.id, f"T{i}", "0.001")))
        assert group_id not in engine.conditional.groups
        assert all(engine.registry.get(leg.id) is None for leg in legs)

    try:
        asyncio.run(go())
    finally:
        asyncio.run(engine.stop())
