"""Between the wire (``oms.v1`` protobuf messages) and the model (``oms.model``).

Decimals travel as strings and are parsed with the model's own exact rules, so a bad
number fails here with the field named, before anything reaches the engine. Enums map
by name: ``SIDE_BUY`` <-> ``Side.BUY``; ``*_UNSPECIFIED`` means the model's default,
or, for fields without one, an error naming the field.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from oms.errors import InvalidInput
from oms.model import (
    Balance,
    Fill,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    Trade,
    TriggerPrice,
)
from oms.model.enums import Liquidity
from oms.model.values import EXACT
from oms.v1 import common_pb2 as pb

E = TypeVar("E", bound=StrEnum)
EXACT_ROUNDING = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)

# proto enum type name -> its value prefix ("OrderType" -> "ORDER_TYPE_")
_PREFIX = {
    Side: "SIDE_",
    OrderType: "ORDER_TYPE_",
    TimeInForce: "TIME_IN_FORCE_",
    OrderStatus: "ORDER_STATUS_",
    TriggerPrice: "TRIGGER_PRICE_",
    PositionSide: "POSITION_SIDE_",
    Liquidity: "LIQUIDITY_",
}
_PROTO_ENUM: dict[type[StrEnum], Any] = {
    Side: pb.Side,
    OrderType: pb.OrderType,
    TimeInForce: pb.TimeInForce,
    OrderStatus: pb.OrderStatus,
    TriggerPrice: pb.TriggerPrice,
    PositionSide: pb.PositionSide,
    Liquidity: pb.Liquidity,
}
# Precomputed both ways: conversion is on the order path.
_TO_MODEL: dict[type[StrEnum], dict[int, StrEnum]] = {
    kind: {_PROTO_ENUM[kind].Value(prefix + member.value): member for member in kind}
    for kind, prefix in _PREFIX.items()
}
_TO_WIRE: dict[StrEnum, int] = {
    member: number for table in _TO_MODEL.values() for number, member in table.items()
}


def enum_in(kind: type[E], number: int, field: str, default: E | None = None) -> E:
    """A model enum from its wire number; 0 (UNSPECIFIED) is ``default`` or an error."""
    member = _TO_MODEL[kind].get(number)
    if member is None:
        if number == 0 and default is not None:
            return default
        raise InvalidInput(f"{field}: {number} is not a valid {kind.__name__}", "INVALID_ENUM", field=field)
    return member  # type: ignore[return-value]


def enum_out(member: StrEnum | None) -> Any:  # the proto ValueType (an int)
    return 0 if member is None else _TO_WIRE[member]


def dec_in(text: str) -> Decimal | str | None:
    """An optional decimal: "" is unset; the model's validation parses the string
    (rejecting NaN, infinities, exponents beyond the grid) and names the field."""
    return text or None


def dec_out(value: Decimal | None) -> str:
    return "" if value is None else dec(value)


AVG_PLACES = Decimal("1E-10")


def avg_out(value: Decimal | None) -> str:
    """An average fill price: a division, so rounded (half-even) to 10 decimal places,
    two beyond any venue's price grid, rather than shown to 34 digits."""
    return "" if value is None else dec(value.quantize(AVG_PLACES, context=EXACT_ROUNDING))


def num(value: Decimal | str | int | None) -> str:
    """A request's figure as given: a client may send what the server will refuse."""
    if value is None:
        return ""
    return dec(value) if isinstance(value, Decimal) else str(value)


def dec(value: Decimal) -> str:
    """Plain notation without trailing zeros: "0.001", "0", "1000" (never "0E-8")."""
    return format(value.normalize(EXACT), "f")


def order_request_in(m: pb.OrderRequest) -> OrderRequest:
    """The model's request; enums and required fields checked here (InvalidInput naming
    the field), numbers and the rest by the engine's ``validate()``."""
    if not m.venue:
        raise InvalidInput("venue: required (exchange:market, e.g. binance:spot)", field="venue")
    if not m.symbol:
        raise InvalidInput("symbol: required (e.g. BTC/USDT)", field="symbol")
    if not m.qty and not m.close_position:
        raise InvalidInput("qty: required", field="qty")
    request = OrderRequest(
        venue=m.venue,
        symbol=m.symbol,
        side=enum_in(Side, m.side, "side"),
        type=enum_in(OrderType, m.type, "type"),
        qty=m.qty or "0",  # type: ignore[arg-type]  # validate() parses strings exactly
        price=dec_in(m.price),  # type: ignore[arg-type]
        stop_price=dec_in(m.stop_price),  # type: ignore[arg-type]
        time_in_force=enum_in(TimeInForce, m.time_in_force, "time_in_force", TimeInForce.GTC),
        expire_at_ns=m.expire_at_ns or None,
        trailing_bps=dec_in(m.trailing_bps),  # type: ignore[arg-type]
        activation_price=dec_in(m.activation_price),  # type: ignore[arg-type]
        trigger_by=enum_in(TriggerPrice, m.trigger_by, "trigger_by", TriggerPrice.LAST),
        reduce_only=m.reduce_only,
        close_position=m.close_position,
        position_side=enum_in(PositionSide, m.position_side, "position_side", PositionSide.BOTH),
        account=m.account or "default",
        client_order_id=m.client_order_id or None,
        idempotency_key=m.idempotency_key or None,
        tag=m.tag or None,
        emulate=m.emulate,
    )
    return request  # the engine validates it (once), with the field named in the error


def order_request_out(r: OrderRequest) -> pb.OrderRequest:
    return pb.OrderRequest(
        venue=r.venue,
        symbol=r.symbol,
        side=enum_out(r.side),
        type=enum_out(r.type),
        qty=num(r.qty),
        price=num(r.price),
        stop_price=num(r.stop_price),
        time_in_force=enum_out(r.time_in_force),
        expire_at_ns=r.expire_at_ns or 0,
        trailing_bps=num(r.trailing_bps),
        activation_price=num(r.activation_price),
        trigger_by=enum_out(r.trigger_by),
        reduce_only=r.reduce_only,
        close_position=r.close_position,
        position_side=enum_out(r.position_side),
        account=r.account,
        client_order_id=r.client_order_id or "",
        idempotency_key=r.idempotency_key or "",
        tag=r.tag or "",
        emulate=r.emulate,
    )


def order_out(o: Order) -> pb.Order:
    return pb.Order(
        order_id=o.id,
        client_order_id=o.client_order_id,
        venue_order_id=o.venue_order_id or "",
        request=order_request_out(o.request),
        status=enum_out(o.status),
        filled_qty=dec(o.filled_qty),
        avg_price=avg_out(o.avg_price),
        fees={asset: dec(amount) for asset, amount in o.fees.items()},
        reason=o.reason or "",
        created_ns=o.created_ns,
        updated_ns=o.updated_ns,
    )


def fill_out(f: Fill, order_id: str = "", account: str = "") -> pb.Fill:
    return pb.Fill(
        order_id=order_id,
        venue=f.venue,
        symbol=f.symbol,
        trade_id=f.trade_id,
        side=enum_out(f.side),
        qty=dec(f.qty),
        price=dec(f.price),
        fee=dec(f.fee),
        fee_asset=f.fee_asset or "",
        liquidity=enum_out(f.liquidity),
        client_order_id=f.client_order_id or "",
        venue_order_id=f.venue_order_id or "",
        ts_ns=f.ts_ns,
        account=account,
    )


def position_out(p: Any) -> pb.Position:
    """From the core's ``Position`` (oms._core) or an event's ``PositionUpdate``."""
    mark = getattr(p, "mark_price", None)
    net = getattr(p, "net_pnl", p.realized_pnl + p.unrealized_pnl - p.fees_paid + p.funding)
    return pb.Position(
        account=p.account,
        venue=p.venue,
        symbol=p.symbol,
        qty=dec(p.qty),
        avg_entry_price=dec_out(p.avg_entry_price),
        mark_price=dec_out(mark),
        realized_pnl=dec(p.realized_pnl),
        unrealized_pnl=dec(p.unrealized_pnl),
        fees_paid=dec(p.fees_paid),
        net_pnl=dec(net),
        updated_ns=getattr(p, "updated_ns", 0) or getattr(p, "ts_ns", 0),
        funding=dec(p.funding),
    )


def aggregate_out(a: Any) -> pb.AggregatePosition:
    return pb.AggregatePosition(
        base=a.base,
        quote=a.quote,
        net_qty=dec(a.net_qty),
        long_qty=dec(a.long_qty),
        short_qty=dec(a.short_qty),
        realized_pnl=dec(a.realized_pnl),
        unrealized_pnl=dec(a.unrealized_pnl),
        fees_paid=dec(a.fees_paid),
        positions=a.positions,
        funding=dec(a.funding),
    )


def balance_out(b: Balance) -> pb.Balance:
    return pb.Balance(venue=b.venue, asset=b.asset, free=dec(b.free), locked=dec(b.locked))


def book_out(book: OrderBook, depth: int) -> pb.OrderBook:
    return pb.OrderBook(
        venue=book.venue,
        symbol=book.symbol,
        bids=[pb.BookLevel(price=dec(lv.price), qty=dec(lv.qty)) for lv in book.bids[:depth]],
        asks=[pb.BookLevel(price=dec(lv.price), qty=dec(lv.qty)) for lv in book.asks[:depth]],
        update_id=book.update_id,
        ts_ns=book.ts_ns,
    )


def trade_out(t: Trade) -> pb.Trade:
    return pb.Trade(
        venue=t.venue,
        symbol=t.symbol,
        trade_id=t.trade_id,
        price=dec(t.price),
        qty=dec(t.qty),
        taker_side=enum_out(t.side),
        ts_ns=t.ts_ns,
    )
