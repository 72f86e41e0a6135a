"""Spot conditional orders: STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT,
with a ``stopPrice``, a ``trailingDelta`` (BIPS), or both.

A conditional order locks its funds at once (a market buy at its stop price) but waits
off the book, in the Rust core's ``TriggerBook`` of its symbol, fed with the last
trade price. A stop-loss buys going up and sells going down, a take-profit the
reverse. When it fires the venue puts it on the book as MARKET or as LIMIT at its
price (``SpotExchange.activate``). An order the last price already triggers is
refused with ``-2010 Order would trigger immediately.``

Trailing stops: without a stop price the order follows the best price from the last
trade on (the high for a sell, the low for a buy) and fires ``trailingDelta`` BIPS
away from it. With one, the stop price is where trailing starts: for a take-profit it
is an activation price the core checks itself; for a stop-loss (activation against
the trailing direction) the order first waits for its stop price as a plain level,
then trails from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from oms.errors import InvalidInput
from oms.model import Side
from oms.sim.binance import errors
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.spot_orders import SpotOrder, int_param, number_param
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.triggers import TriggerBook

if TYPE_CHECKING:
    from oms.sim.binance.spot import SpotExchange

STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
MIN_TRAILING_DELTA, MAX_TRAILING_DELTA = 10, 2000  # BIPS, the TRAILING_DELTA filter


def rises_to_fire(order_type: str, side: Side) -> bool:
    """A stop-loss buy and a take-profit sell fire on the way up; the others going down."""
    return (side is Side.BUY) == order_type.startswith("STOP_LOSS")


class SpotStops:
    def __init__(self, venue: SpotExchange) -> None:
        self.venue = venue
        self._books: dict[str, TriggerBook] = {}
        self._waiting: dict[tuple[str, int], SpotOrder] = {}  # (symbol, orderId)
        self._arming: set[tuple[str, int]] = set()  # stop-loss trailers waiting for their stop
        self._firing = False

    def parse(self, params: Mapping[str, str], order_type: str, symbol: SpotSymbol) -> tuple[Decimal, int]:
        """(stopPrice, trailingDelta) of a new order; zeros for other types, which may
        not carry them."""
        stop = number_param(params, "stopPrice", required=False)
        delta = int_param(params, "trailingDelta", 0)
        if order_type not in STOP_TYPES:
            if stop is not None:
                raise BinanceApiError(-1106, "Parameter 'stopPrice' sent when not required.")
            if delta:
                raise BinanceApiError(-1106, "Parameter 'trailingDelta' sent when not required.")
            return Decimal(0), 0
        if stop is None and not delta:
            raise BinanceApiError(
                -1102, "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!"
            )
        if delta and not MIN_TRAILING_DELTA <= delta <= MAX_TRAILING_DELTA:
            raise BinanceApiError(-1013, "Filter failure: TRAILING_DELTA")
        if stop is not None and stop <= 0:
            raise errors.illegal_chars("stopPrice", "a positive price")
        return stop or Decimal(0), delta

    def _book(self, symbol: str) -> TriggerBook:
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = TriggerBook()
            last = self.venue.last_price.get(symbol)
            if last is not None:
                book.on_price(last)
        return book

    def wait(self, order: SpotOrder) -> None:
        """Put a new conditional order in its trigger book (-2010 if it fires now)."""
        book, key = self._book(order.symbol.symbol), (order.symbol.symbol, order.order_id)
        try:
            if order.trailing_delta and not (order.stop_price and order.type.startswith("STOP_LOSS")):
                activation = order.stop_price or None
                book.add_trailing(order.order_id, order.side.value, order.trailing_delta, activation)
            else:
                rising = rises_to_fire(order.type, order.side)
                book.add_level(order.order_id, "AT_OR_ABOVE" if rising else "AT_OR_BELOW", order.stop_price)
                if order.trailing_delta:
                    self._arming.add(key)
        except InvalidInput as err:
            if err.code != "WOULD_TRIGGER":
                raise
            raise BinanceApiError(-2010, "Order would trigger immediately.") from None
        self._waiting[key] = order

    def remove(self, order: SpotOrder) -> None:
        key = (order.symbol.symbol, order.order_id)
        if self._waiting.pop(key, None) is not None:
            self._book(order.symbol.symbol).remove(order.order_id)
        self._arming.discard(key)

    def after_trades(self, symbol: str) -> None:
        """Feed the symbol's last price to its triggers and activate what fires; the
        activated orders trade and may move the price again, so go on until it rests."""
        book, last = self._books.get(symbol), self.venue.last_price.get(symbol)
        if book is None or last is None or self._firing:
            return
        self._firing = True
        try:
            price = None
            while last != price:
                price = last
                for order_id in book.on_price(price):
                    self._fire(book, (symbol, order_id))
                last = self.venue.last_price.get(symbol, price)
        finally:
            self._firing = False

    def _fire(self, book: TriggerBook, key: tuple[str, int]) -> None:
        order = self._waiting.pop(key)
        if key in self._arming:  # a stop-loss trailer reached its stop: now it trails
            self._arming.discard(key)
            book.add_trailing(order.order_id, order.side.value, order.trailing_delta)
            self._waiting[key] = order
            return
        self.venue.activate(order)
