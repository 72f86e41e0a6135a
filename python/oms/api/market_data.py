"""``oms.v1.MarketDataService``: books and trades as the venue connectors see them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from oms.api import convert
from oms.engine import Engine
from oms.errors import InvalidInput, UnknownVenue
from oms.exchanges import Exchange
from oms.v1 import common_pb2 as pb
from oms.v1 import market_data_pb2 as rpc

DEFAULT_DEPTH = 10
MAX_DEPTH = 1_000


class MarketDataService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def get_book(self, request: rpc.GetBookRequest, context: Any) -> pb.OrderBook:
        exchange, depth = self._exchange(request.venue, request.symbol, request.depth)
        return convert.book_out(await exchange.fetch_book(request.symbol, depth), depth)

    async def stream_book(self, request: rpc.StreamBookRequest, context: Any) -> AsyncIterator[pb.OrderBook]:
        exchange, depth = self._exchange(request.venue, request.symbol, request.depth)
        async for book in exchange.watch_book(request.symbol):
            yield convert.book_out(book, depth)

    async def stream_trades(self, request: rpc.StreamTradesRequest, context: Any) -> AsyncIterator[pb.Trade]:
        exchange, _ = self._exchange(request.venue, request.symbol, 0)
        async for trade in exchange.watch_trades(request.symbol):
            yield convert.trade_out(trade)

    def _exchange(self, venue: str, symbol: str, depth: int) -> tuple[Exchange, int]:
        exchange = self.engine.exchanges.get(venue)
        if exchange is None:
            known = ", ".join(sorted(self.engine.exchanges))
            raise UnknownVenue(f"no venue {venue!r} (known: {known})", venue=venue)
        exchange.symbols.to_native(symbol)  # UnknownSymbol, with suggestions, before any request
        if not 0 <= depth <= MAX_DEPTH:
            raise InvalidInput(f"depth: 1 to {MAX_DEPTH} (0 = {DEFAULT_DEPTH})", field="depth")
        return exchange, depth or DEFAULT_DEPTH
