"""``NullExchange``: a venue in the process, with no I/O. Every order is NEW at once and
a cancel is CANCELED at once; fills happen only when the caller hands them to the
engine. What the engine's benchmarks and unit tests drive the order path with, the
exchange leg left out (issue 7: "fed by an in-process null venue")."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterable, Sequence

from oms.errors import OmsError
from oms.exchanges.base import Capabilities, Exchange, ExchangeConfig, VenueHealth
from oms.model import (
    Balance,
    Fill,
    Instrument,
    Order,
    OrderBook,
    OrderEvent,
    OrderStatus,
    OrderType,
    TimeInForce,
    Trade,
    UserEvent,
)


class NullExchange(Exchange):
    capabilities = Capabilities(order_types=frozenset(OrderType), time_in_force=frozenset(TimeInForce))

    def __init__(self, venue: str, instruments: Iterable[Instrument]) -> None:
        super().__init__(ExchangeConfig(venue=venue))
        self.instruments = {i.symbol: i for i in instruments}
        self._venue_ids = itertools.count(1)

    async def create_order(self, order: Order) -> OrderEvent:
        return OrderEvent(
            venue=self.venue,
            symbol=order.request.symbol,
            status=OrderStatus.NEW,
            client_order_id=order.client_order_id,
            venue_order_id=f"V{next(self._venue_ids)}",
        )

    async def create_orders(self, orders: Sequence[Order]) -> list[OrderEvent | OmsError]:
        """The batch at once (as a venue's native batch answers), every order NEW."""
        venue, ids, new = self.venue, self._venue_ids, OrderStatus.NEW
        return [
            OrderEvent(
                venue=venue,
                symbol=o.request.symbol,
                status=new,
                client_order_id=o.client_order_id,
                venue_order_id=f"V{next(ids)}",
            )
            for o in orders
        ]

    async def cancel_order(self, order: Order) -> OrderEvent:
        return OrderEvent(
            venue=self.venue,
            symbol=order.request.symbol,
            status=OrderStatus.CANCELED,
            client_order_id=order.client_order_id,
        )

    async def connect(self) -> None: ...
    async def close(self) -> None: ...

    async def health(self) -> VenueHealth:
        return VenueHealth(venue=self.venue, connected=True, trading=True)

    async def server_time(self) -> int:
        return time.time_ns()

    async def load_instruments(self) -> list[Instrument]:
        return list(self.instruments.values())

    async def fetch_order(
        self, symbol: str, *, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> OrderEvent:
        return OrderEvent(
            venue=self.venue, symbol=symbol, status=OrderStatus.NEW, client_order_id=client_order_id
        )

    async def fetch_open_orders(self, symbol: str | None = None) -> list[OrderEvent]:
        return []

    async def fetch_fills(self, symbol: str, since_ns: int = 0) -> list[Fill]:
        return []

    async def fetch_balances(self) -> list[Balance]:
        return []

    async def user_events(self) -> AsyncIterator[UserEvent]:
        await asyncio.Event().wait()  # fills are handed to the engine by the caller
        nothing: tuple[UserEvent, ...] = ()
        for event in nothing:  # never reached: makes this an async generator
            yield event

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        raise self._unsupported("books")

    def watch_book(self, symbol: str) -> AsyncIterator[OrderBook]:
        raise self._unsupported("books")

    def watch_trades(self, symbol: str) -> AsyncIterator[Trade]:
        raise self._unsupported("trades")
