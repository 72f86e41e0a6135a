"""Instruments and market data: what a venue lists and what its books and tapes say."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import msgspec

from oms.model.enums import InstrumentKind, Side


class Instrument(msgspec.Struct, kw_only=True, frozen=True):
    """One tradable instrument on one venue, with the venue's order rules.

    ``symbol`` is unified (``BTC/USDT:USDT``), ``native_symbol`` the venue's own
    (``BTCUSDT``). Rule fields left as None are not enforced by the venue. Checking
    and rounding live in :mod:`oms.instruments`."""

    venue: str
    symbol: str
    native_symbol: str
    kind: InstrumentKind
    base: str
    quote: str
    settle: str | None = None  # margin/settlement currency of derivatives
    contract_size: Decimal = Decimal(1)
    expiry_ns: int | None = None
    tick_size: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    step_size: Decimal | None = None
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    market_step_size: Decimal | None = None
    market_min_qty: Decimal | None = None
    market_max_qty: Decimal | None = None
    min_notional: Decimal | None = None
    max_notional: Decimal | None = None
    min_notional_applies_to_market: bool = True
    # Percent-price band: limit price within [ref * down, ref * up] (per side when given).
    price_up_multiplier: Decimal | None = None
    price_down_multiplier: Decimal | None = None
    bid_up_multiplier: Decimal | None = None
    bid_down_multiplier: Decimal | None = None
    ask_up_multiplier: Decimal | None = None
    ask_down_multiplier: Decimal | None = None
    max_num_orders: int | None = None
    # Tick/step grid counted from the minimum ((v - min) % step), as Binance futures state it.
    steps_from_minimum: bool = False
    trading: bool = True

    @property
    def is_inverse(self) -> bool:
        return self.settle is not None and self.settle == self.base


_SCALE = Decimal("1E-8")


class BookLevel(msgspec.Struct, frozen=True, array_like=True):
    price: Decimal
    qty: Decimal


class OrderBook(msgspec.Struct, kw_only=True):
    """A snapshot of a book: bids best (highest) first, asks best (lowest) first."""

    venue: str
    symbol: str
    bids: list[BookLevel]
    asks: list[BookLevel]
    update_id: int = 0
    ts_ns: int = 0

    @property
    def best_bid(self) -> BookLevel | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> BookLevel | None:
        return self.asks[0] if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        """Halfway between the best bid and ask, on the 10^-8 grid (ties to even): a
        touch one tick wide on a 10^-8 tick would otherwise have a ninth decimal, which
        no price in the system may have."""
        if not self.bids or not self.asks:
            return None
        return ((self.bids[0].price + self.asks[0].price) / 2).quantize(_SCALE, ROUND_HALF_EVEN)


class Trade(msgspec.Struct, kw_only=True, frozen=True):
    """A public trade on the tape; ``side`` is the aggressor's."""

    venue: str
    symbol: str
    trade_id: str
    price: Decimal
    qty: Decimal
    side: Side
    ts_ns: int = 0


class MarkPrice(msgspec.Struct, kw_only=True, frozen=True):
    venue: str
    symbol: str
    mark: Decimal
    index: Decimal | None = None
    funding_rate: Decimal | None = None
    next_funding_ns: int | None = None
    ts_ns: int = 0
