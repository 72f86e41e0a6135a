"""Enumerations shared by every venue. Values are the strings that travel in JSON,
gRPC and logs, so they are stable and upper-case (they match Binance's spelling)."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"  # post-only limit: rejected rather than taking liquidity
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
    TRAILING_STOP = "TRAILING_STOP"

    @property
    def has_limit_price(self) -> bool:
        return self in _LIMIT_PRICED

    @property
    def is_conditional(self) -> bool:
        return self in _CONDITIONAL


_LIMIT_PRICED = frozenset(
    {OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT}
)
_CONDITIONAL = frozenset(
    {
        OrderType.STOP_MARKET,
        OrderType.STOP_LIMIT,
        OrderType.TAKE_PROFIT_MARKET,
        OrderType.TAKE_PROFIT_LIMIT,
        OrderType.TRAILING_STOP,
    }
)


class TimeInForce(StrEnum):
    GTC = "GTC"  # good till canceled
    IOC = "IOC"  # immediate or cancel
    FOK = "FOK"  # fill or kill
    GTX = "GTX"  # post-only (Binance futures spelling)
    GTD = "GTD"  # good till date (needs expire_at_ns)


class OrderStatus(StrEnum):
    """Lifecycle of an order; the transition table is in :mod:`oms.model.state`."""

    PENDING_NEW = "PENDING_NEW"  # accepted by us, not yet acknowledged by the venue
    NEW = "NEW"  # acknowledged: working on the book (or waiting for its trigger)
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    PENDING_REPLACE = "PENDING_REPLACE"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    TRIGGERED = "TRIGGERED"  # a conditional order whose trigger fired; now working
    UNKNOWN = "UNKNOWN"  # sent, outcome not known; resolved by querying, never by resending

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        return self not in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


class PositionSide(StrEnum):
    BOTH = "BOTH"  # one-way mode
    LONG = "LONG"  # hedge mode
    SHORT = "SHORT"


class MarginMode(StrEnum):
    CROSS = "CROSS"
    ISOLATED = "ISOLATED"


class InstrumentKind(StrEnum):
    SPOT = "SPOT"
    SWAP = "SWAP"  # perpetual
    FUTURE = "FUTURE"  # dated


class Liquidity(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class TriggerPrice(StrEnum):
    """Which price fires a conditional order."""

    LAST = "LAST"
    MARK = "MARK"
    BID_ASK = "BID_ASK"
