"""Binance market-data stream messages (spot and USD-M) -> ``oms.model``.

Pure functions over the ``data`` of a combined-stream frame, so each is tested on
Binance's published samples. Depth diffs are decoded by ``depth.DepthUpdate`` (the
local book needs their update ids, not a model object).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from oms.model import BookLevel, MarkPrice, OrderBook, Side, Trade

MS = 1_000_000  # ns per ms
Message = dict[str, Any]


def trade(message: Message, venue: str, symbol: str) -> Trade:
    """``@trade`` (id ``t``) or ``@aggTrade`` (id ``a``). The side is the taker's: a
    buyer who is the maker means the seller took."""
    trade_id = message["t"] if message.get("e") == "trade" else message["a"]
    return Trade(
        venue=venue,
        symbol=symbol,
        trade_id=str(trade_id),
        price=Decimal(message["p"]),
        qty=Decimal(message["q"]),
        side=Side.SELL if message["m"] else Side.BUY,
        ts_ns=int(message["T"]) * MS,
    )


def mark_price(message: Message, venue: str, symbol: str) -> MarkPrice:
    """USD-M ``@markPrice``: mark, index, funding rate and the next funding time."""
    return MarkPrice(
        venue=venue,
        symbol=symbol,
        mark=Decimal(message["p"]),
        index=Decimal(message["i"]) if message.get("i") else None,
        funding_rate=Decimal(message["r"]) if message.get("r") else None,
        next_funding_ns=int(message["T"]) * MS if message.get("T") else None,
        ts_ns=int(message["E"]) * MS,
    )


def book_ticker(message: Message, venue: str, symbol: str, now_ns: int) -> OrderBook:
    """``@bookTicker`` as a one-level book (spot sends no time: ``now_ns``; USD-M's
    transaction time ``T``, as trades use). ``update_id`` is the ticker's ``u``."""
    ts = int(message["T"]) * MS if message.get("T") else now_ns
    return OrderBook(
        venue=venue,
        symbol=symbol,
        bids=[BookLevel(Decimal(message["b"]), Decimal(message["B"]))],
        asks=[BookLevel(Decimal(message["a"]), Decimal(message["A"]))],
        update_id=int(message["u"]),
        ts_ns=ts,
    )
