"""Normalized events: what every connector's user-data stream yields, and what the
engine publishes. Tagged (``{"type": "order", ...}``) so one decoder reads any of them."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from oms.model.account import Balance, Funding, Position
from oms.model.enums import OrderStatus, OrderType, Side
from oms.model.orders import Fill


class OrderEvent(msgspec.Struct, kw_only=True, frozen=True, tag="order"):
    """The venue says an order is now in `status` (with cumulative fill figures)."""

    venue: str
    symbol: str
    status: OrderStatus
    client_order_id: str | None = None
    venue_order_id: str | None = None
    filled_qty: Decimal | None = None
    filled_quote: Decimal | None = None
    reason: str | None = None
    ts_ns: int = 0
    # What the order is, where the venue's answer says it (queries, open-order lists):
    # lets recovery adopt an order of ours that it has no record of.
    side: Side | None = None
    order_type: OrderType | None = None  # ("type" is the union's tag)
    qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None


class FillEvent(msgspec.Struct, kw_only=True, frozen=True, tag="fill"):
    fill: Fill


class BalanceEvent(msgspec.Struct, kw_only=True, frozen=True, tag="balance"):
    balances: list[Balance]


class PositionEvent(msgspec.Struct, kw_only=True, frozen=True, tag="position"):
    positions: list[Position]


class FundingEvent(msgspec.Struct, kw_only=True, frozen=True, tag="funding"):
    funding: Funding


UserEvent = OrderEvent | FillEvent | BalanceEvent | PositionEvent | FundingEvent

_decoder = msgspec.json.Decoder(UserEvent)


def encode_event(event: UserEvent) -> bytes:
    return msgspec.json.encode(event)


def decode_event(data: bytes) -> UserEvent:
    event: UserEvent = _decoder.decode(data)
    return event
