"""What a venue says the account holds and how it trades: balances, positions, fee
rates and per-symbol settings."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from oms.model.enums import MarginMode, PositionSide
from oms.model.values import EXACT


class Balance(msgspec.Struct, kw_only=True, frozen=True):
    venue: str
    asset: str
    free: Decimal
    locked: Decimal = Decimal(0)
    ts_ns: int = 0

    @property
    def total(self) -> Decimal:
        return EXACT.add(self.free, self.locked)


class Position(msgspec.Struct, kw_only=True, frozen=True):
    """A venue-reported position (futures). ``qty`` is signed in one-way mode; in
    hedge mode ``side`` is LONG or SHORT and ``qty`` is positive."""

    venue: str
    symbol: str
    qty: Decimal
    side: PositionSide = PositionSide.BOTH
    entry_price: Decimal | None = None
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal = Decimal(0)
    leverage: Decimal | None = None
    margin_mode: MarginMode | None = None
    liquidation_price: Decimal | None = None
    ts_ns: int = 0


class Funding(msgspec.Struct, kw_only=True, frozen=True):
    """One futures funding payment on a perpetual: ``amount`` in ``asset``, positive
    when the account received it, negative when it paid. ``funding_id`` is the venue's
    id for the payment (Binance ``tranId``): it is applied once."""

    venue: str
    symbol: str
    amount: Decimal
    asset: str
    funding_id: str
    ts_ns: int = 0


class FeeRates(msgspec.Struct, kw_only=True, frozen=True):
    """What the account pays on one symbol, as fractions of the notional (0.001 is
    10 bps; negative is a rebate)."""

    venue: str
    symbol: str
    maker: Decimal
    taker: Decimal
    ts_ns: int = 0


class SymbolSettings(msgspec.Struct, kw_only=True, frozen=True):
    """The leverage and margin mode one futures symbol trades with."""

    venue: str
    symbol: str
    leverage: Decimal
    margin_mode: MarginMode
    ts_ns: int = 0
