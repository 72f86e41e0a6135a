"""The order model and state machine: legal paths, exact fills, clear errors."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.errors import DuplicateFill, IllegalTransition, InvalidInput, Overfill
from oms.model import (
    BookLevel,
    Fill,
    FillEvent,
    Order,
    OrderBook,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    decode_event,
    encode_event,
)
from oms.model.state import TRANSITIONS
from oms.model.values import to_decimal

S = OrderStatus


def request(**kw: object) -> OrderRequest:
    fields: dict[str, object] = {
        "venue": "binance:spot",
        "symbol": "BTC/USDT",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "qty": Decimal("1"),
        "price": Decimal("100"),
    }
    fields.update(kw)
    return OrderRequest(**fields)  # type: ignore[arg-type]


def order(qty: str = "1", side: Side = Side.BUY) -> Order:
    return Order(id="o1", request=request(qty=Decimal(qty), side=side).validate(), client_order_id="c1")


def fill(trade_id: str, qty: str, price: str = "100", side: Side = Side.BUY) -> Fill:
    return Fill(
        venue="binance:spot",
        symbol="BTC/USDT",
        trade_id=trade_id,
        side=side,
        qty=Decimal(qty),
        price=Decimal(price),
        fee=Decimal("0.001"),
        fee_asset="BNB",
    )


# ---- requests ----


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price": None}, "price"),
        ({"type": OrderType.MARKET}, "price"),
        ({"type": OrderType.STOP_LIMIT}, "stop_price"),
        ({"stop_price": Decimal(90)}, "stop_price"),
        ({"type": OrderType.TRAILING_STOP, "price": None}, "trailing_bps"),
        ({"time_in_force": TimeInForce.GTD}, "expire_at_ns"),
        ({"expire_at_ns": 5}, "expire_at_ns"),
        ({"type": OrderType.LIMIT_MAKER, "time_in_force": TimeInForce.IOC}, "time_in_force"),
        ({"qty": Decimal("-1")}, "qty"),
        ({"qty": Decimal("0")}, "qty"),
        ({"qty": Decimal("NaN")}, "qty"),
        ({"qty": Decimal("Infinity")}, "qty"),
        ({"qty": Decimal("0.000000001")}, "qty"),
        ({"price": Decimal("-5")}, "price"),
        ({"close_position": True, "reduce_only": True}, "close_position"),
    ],
)
def test_malformed_requests_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        request(**changes).validate()
    assert caught.value.message.startswith(field)


def test_valid_requests_of_every_type() -> None:
    request(type=OrderType.MARKET, price=None).validate()
    request(type=OrderType.STOP_MARKET, price=None, stop_price=Decimal(90)).validate()
    request(type=OrderType.TAKE_PROFIT_LIMIT, stop_price=Decimal(110)).validate()
    request(type=OrderType.TRAILING_STOP, price=None, trailing_bps=Decimal(50)).validate()
    request(time_in_force=TimeInForce.GTD, expire_at_ns=1).validate()


def test_structs_round_trip_through_json_exactly() -> None:
    r = request(qty=Decimal("0.00000001"), price=Decimal("12345.6789"))
    back = msgspec.json.decode(msgspec.json.encode(r), type=OrderRequest)
    assert back == r
    event = FillEvent(fill=fill("t1", "0.5"))
    assert decode_event(encode_event(event)) == event
    assert b'"qty":"0.5"' in encode_event(event)


# ---- state machine ----


def test_a_normal_life() -> None:
    o = order("2")
    assert o.transition(S.NEW)
    assert not o.transition(S.NEW), "a repeated report is a no-op"
    o.apply_fill(fill("t1", "0.5", "100"))
    o.apply_fill(fill("t2", "1.5", "101"))
    assert (o.status, o.filled_qty, o.remaining_qty) == (S.FILLED, 2, 0)
    assert o.filled_quote == Decimal("201.5")
    assert o.avg_price == Decimal("100.75")
    assert o.fees == {"BNB": Decimal("0.002")}


def test_terminal_states_stay_terminal() -> None:
    for terminal in (S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED):
        assert TRANSITIONS[terminal] == frozenset()
    o = order()
    o.transition(S.REJECTED, reason="insufficient balance")
    with pytest.raises(IllegalTransition) as caught:
        o.transition(S.NEW)
    assert caught.value.code == "ILLEGAL_TRANSITION"
    assert "REJECTED cannot become NEW" in caught.value.message
    with pytest.raises(IllegalTransition):
        o.apply_fill(fill("t1", "1"))
    assert o.filled_qty == 0


def test_unknown_is_resolved_by_what_the_venue_reports() -> None:
    o = order()
    o.transition(S.UNKNOWN, reason="timeout after send")
    with pytest.raises(IllegalTransition):
        o.transition(S.PENDING_NEW)  # never "resend"
    o.transition(S.REJECTED, reason="venue has no such order")
    assert o.status is S.REJECTED
    filled = order()
    filled.transition(S.UNKNOWN)
    filled.apply_fill(fill("t9", "1"))
    assert filled.status is S.FILLED


def test_cancel_rejected_reverts_and_fills_during_cancel_count() -> None:
    o = order("2")
    o.transition(S.NEW)
    o.transition(S.PENDING_CANCEL)
    o.apply_fill(fill("t1", "0.5"))
    assert o.status is S.PENDING_CANCEL
    o.revert_pending(reason="-2011 Unknown order sent")
    assert o.status is S.PARTIALLY_FILLED
    o.transition(S.PENDING_REPLACE)
    o.apply_fill(fill("t2", "1.5"))
    assert o.status is S.FILLED
    with pytest.raises(IllegalTransition):
        o.revert_pending()


def test_duplicate_fill_changes_nothing() -> None:
    o = order("2")
    o.transition(S.NEW)
    o.apply_fill(fill("t1", "1"))
    with pytest.raises(DuplicateFill) as caught:
        o.apply_fill(fill("t1", "1"))
    assert caught.value.code == "DUPLICATE_FILL"
    assert (o.filled_qty, o.status) == (1, S.PARTIALLY_FILLED)


def test_overfill_is_recorded_and_reported_not_absorbed() -> None:
    o = order("1")
    o.transition(S.NEW)
    o.apply_fill(fill("t1", "0.8"))
    with pytest.raises(Overfill) as caught:
        o.apply_fill(fill("t2", "0.5"))
    assert caught.value.details["excess"] == Decimal("0.3")
    assert (o.filled_qty, o.overfill_qty, o.status) == (Decimal("1.3"), Decimal("0.3"), S.FILLED)


def test_late_fill_after_cancel_is_recorded_and_wrong_side_is_refused() -> None:
    o = order("2")
    o.transition(S.NEW)
    o.transition(S.CANCELED)
    o.apply_fill(fill("late", "0.5"))
    assert (o.status, o.filled_qty) == (S.CANCELED, Decimal("0.5"))
    with pytest.raises(InvalidInput):
        o.apply_fill(fill("x", "0.1", side=Side.SELL))


venue_events = st.lists(
    st.one_of(
        st.sampled_from(list(OrderStatus)).map(lambda s: ("status", s)),
        st.tuples(st.sampled_from(["t1", "t2", "t3", "t4", "t5"]), st.integers(1, 60)).map(
            lambda t: ("fill", (t[0], Decimal(t[1]) / 100))
        ),
        st.just(("revert", None)),
    ),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(venue_events)
def test_any_event_sequence_leaves_a_legal_state(events: list[tuple[str, object]]) -> None:
    o = order("1")
    applied: dict[str, Decimal] = {}
    previous = o.status
    for kind, payload in events:
        try:
            if kind == "status":
                assert isinstance(payload, OrderStatus)
                o.transition(payload)
            elif kind == "revert":
                o.revert_pending()
            else:
                trade_id, qty = payload  # type: ignore[misc]
                try:
                    o.apply_fill(fill(trade_id, str(qty)))
                finally:
                    if trade_id in o.trade_ids:
                        applied.setdefault(trade_id, qty)
        except (IllegalTransition, DuplicateFill, Overfill):
            pass
        # Invariants after every event:
        assert o.status in OrderStatus
        if previous.is_terminal:
            assert o.status == previous, "nothing leaves a terminal state"
        assert o.filled_qty == sum(applied.values(), Decimal(0))
        if o.filled_qty > o.qty:
            assert o.overfill_qty == o.filled_qty - o.qty, "an overfill is always reported"
        else:
            assert o.overfill_qty == 0
        previous = o.status


def test_order_event_decodes_by_tag() -> None:
    raw = b'{"type":"order","venue":"binance:usdm","symbol":"BTC/USDT:USDT","status":"CANCELED"}'
    event = decode_event(raw)
    assert isinstance(event, OrderEvent) and event.status is S.CANCELED


def test_a_book_mid_stays_on_the_price_grid() -> None:
    """A touch one 10^-8 tick wide: the plain average has a ninth decimal, which the
    engine would refuse as a reference price (so a tracked price would never move)."""

    def book(bid: str, ask: str) -> OrderBook:
        return OrderBook(
            venue="v",
            symbol="S",
            bids=[BookLevel(Decimal(bid), Decimal(1))],
            asks=[BookLevel(Decimal(ask), Decimal(1))],
        )

    tight = book("0.00000001", "0.00000002").mid
    assert tight == Decimal("0.00000002")  # 0.000000015, ties to even
    assert to_decimal(tight, "price") == tight
    assert book("0.00000002", "0.00000003").mid == Decimal("0.00000002")
    assert book("50000.01", "50000.02").mid == Decimal("50000.015")
    assert OrderBook(venue="v", symbol="S", bids=[], asks=[]).mid is None
