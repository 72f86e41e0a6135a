"""Public market-data REST answers of both simulated venues: recent trades, aggregate
trades, book and price tickers, the average price. Computed from the venue's books and
its publisher's recent trades (each fill is its own aggregate trade: the simulator's
fills never share a taker order and price the way Binance aggregates them)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from oms.matching import MatchingEngine
from oms.sim.binance import errors
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.market_data import MarketPublisher
from oms.sim.binance.spot_orders import int_param

AVG_PRICE_MINUTES = 5


class MarketVenue(Protocol):
    books: dict[str, MatchingEngine]
    market: MarketPublisher

    def now(self) -> int: ...


def _symbols(venue: MarketVenue, params: Mapping[str, str]) -> list[str] | None:
    """``symbol``, ``symbols`` (a JSON list), or neither (all: None means one answer per
    symbol as a list); -1121 for one the venue does not list."""
    if params.get("symbol") and params.get("symbols"):
        raise BinanceApiError(-1101, "Parameter 'symbol' and 'symbols' cannot be sent together.")
    if params.get("symbol"):
        names = [params["symbol"]]
    elif params.get("symbols"):
        try:
            names = [str(n) for n in json.loads(params["symbols"])]
        except (ValueError, TypeError):
            raise errors.illegal_chars("symbols", '["BTCUSDT","ETHUSDT"]') from None
    else:
        return None
    for name in names:
        if name not in venue.books:
            raise BinanceApiError(-1121, "Invalid symbol.")
    return names


def _one_or_all(
    venue: MarketVenue, params: Mapping[str, str], row: Any
) -> dict[str, Any] | list[dict[str, Any]]:
    names = _symbols(venue, params)
    if names is not None and params.get("symbol"):
        return row(names[0])  # type: ignore[no-any-return]
    return [row(name) for name in (names or list(venue.books))]


def book_ticker(venue: MarketVenue, params: Mapping[str, str], text: Any, futures: bool) -> Any:
    """``GET ticker/bookTicker``: best bid and ask with their quantities."""

    def row(symbol: str) -> dict[str, Any]:
        book = venue.books[symbol]
        (bid, bid_qty), (ask, ask_qty) = book.best_bid() or (0, 0), book.best_ask() or (0, 0)
        out = {
            "symbol": symbol,
            "bidPrice": text(Decimal(bid)),
            "bidQty": text(Decimal(bid_qty)),
            "askPrice": text(Decimal(ask)),
            "askQty": text(Decimal(ask_qty)),
        }
        return out | ({"time": venue.now()} if futures else {})

    return _one_or_all(venue, params, row)


def price_ticker(venue: MarketVenue, params: Mapping[str, str], text: Any, futures: bool) -> Any:
    """``GET ticker/price``: the last trade price (0 before any trade)."""

    def row(symbol: str) -> dict[str, Any]:
        recent = venue.market.recent[symbol]
        out = {"symbol": symbol, "price": recent[-1]["price"] if recent else text(Decimal(0))}
        return out | ({"time": venue.now()} if futures else {})

    return _one_or_all(venue, params, row)


def _limit(params: Mapping[str, str], default: int) -> int:
    limit = int_param(params, "limit", default)
    if not 1 <= limit <= 1000:
        raise errors.illegal_chars("limit", "1-1000")
    return limit


def _symbol(venue: MarketVenue, params: Mapping[str, str]) -> str:
    if not params.get("symbol"):
        raise errors.mandatory("symbol")
    if params["symbol"] not in venue.books:
        raise BinanceApiError(-1121, "Invalid symbol.")
    return params["symbol"]


def recent_trades(venue: MarketVenue, params: Mapping[str, str], futures: bool) -> list[dict[str, Any]]:
    """``GET trades``: the last ``limit`` trades (500 by default), oldest first."""
    rows = list(venue.market.recent[_symbol(venue, params)])[-_limit(params, 500) :]
    return [r if futures else r | {"isBestMatch": True} for r in rows]


def agg_trades(venue: MarketVenue, params: Mapping[str, str]) -> list[dict[str, Any]]:
    """``GET aggTrades``: from ``fromId``, else the last ``limit`` (500)."""
    rows = list(venue.market.recent[_symbol(venue, params)])
    if params.get("fromId"):
        first = int_param(params, "fromId", 0)
        rows = [r for r in rows if r["id"] >= first][: _limit(params, 500)]
    else:
        rows = rows[-_limit(params, 500) :]
    return [
        {"a": r["id"], "p": r["price"], "q": r["qty"], "f": r["id"], "l": r["id"], "T": r["time"]}
        | {"m": r["isBuyerMaker"], "M": True}
        for r in rows
    ]


def avg_price(venue: MarketVenue, params: Mapping[str, str], text: Any) -> dict[str, Any]:
    """``GET avgPrice``: the volume-weighted price of the last 5 minutes' trades (the
    last trade's price when none is that recent)."""
    recent = venue.market.recent[_symbol(venue, params)]
    now = venue.now()
    window = [r for r in recent if r["time"] >= now - AVG_PRICE_MINUTES * 60_000] or list(recent)[-1:]
    qty = sum((Decimal(r["qty"]) for r in window), Decimal(0))
    quote = sum((Decimal(r["quoteQty"]) for r in window), Decimal(0))
    price = quote / qty if qty else Decimal(0)
    close = window[-1]["time"] if window else now
    return {"mins": AVG_PRICE_MINUTES, "price": text(price), "closeTime": close}
