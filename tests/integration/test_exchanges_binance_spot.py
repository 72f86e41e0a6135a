"""BinanceSpot against the simulator, through the official SDK: the order lifecycle over
the WebSocket API with fills and states from the user-data stream (fills once, though
they also come in the answer), amend and cancel-all, balances and fills, an unknown
outcome resolved by query with the order sent once, and a local book from the stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from oms.exchanges import ExchangeConfig, create_exchange
from oms.exchanges.binance.spot import BinanceSpot
from oms.model import FillEvent, Order, OrderEvent, OrderRequest, OrderStatus, OrderType, Side, UserEvent
from oms.sim.binance import auth
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol
from tests.integration.server_thread import ServerThread

D = Decimal


class Sim:
    def __init__(self) -> None:
        self.venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
        self.venue.add_account("alice", {"BTC": "1", "USDT": "100000"})
        self.venue.add_account("mm", {"BTC": "10", "USDT": "1000000"})
        self.key, self.secret = auth.generate_key(auth.KeyType.ED25519, "alice", ["SPOT"])
        self.server = SpotRestServer(self.venue, auth.KeyStore([self.key]))
        self.running = ServerThread(self.server)
        ws = self.running.url.replace("http", "ws")
        self.config = ExchangeConfig(
            venue="binance:spot",
            api_key=self.key.api_key,
            api_secret=self.secret,
            rest_url=self.running.url,
            ws_api_url=f"{ws}/ws-api/v3",
            ws_url=ws,
            request_timeout_s=2,
        )

    def mm(self, side: str, qty: str, price: str | None = None) -> dict[str, Any]:
        """The market maker trades on the server's own loop (the venue and its sockets
        belong to that thread)."""
        params = {"symbol": "BTCUSDT", "side": side, "quantity": qty}
        params |= {"type": "LIMIT", "timeInForce": "GTC", "price": price} if price else {"type": "MARKET"}

        async def place() -> dict[str, Any]:
            return self.venue.new_order("mm", params)

        return asyncio.run_coroutine_threadsafe(place(), self.running.loop).result(5)

    def orders_named(self, client_id: str) -> int:
        return sum(1 for o in self.venue.orders.values() if o.client_order_id == client_id)


@pytest.fixture
def sim() -> Iterator[Sim]:
    s = Sim()
    try:
        yield s
    finally:
        s.running.close()


def order(spot: BinanceSpot, type_: OrderType, side: Side, qty: str, price: str | None = None) -> Order:
    request = OrderRequest(venue="binance:spot", symbol="BTC/USDT", side=side, type=type_, qty=D(qty))
    if price is not None:
        request.price = D(price)
    return Order(id="o", request=request.validate(), client_order_id=spot.new_client_order_id())


async def collect(
    spot: BinanceSpot, done: Callable[[list[UserEvent]], bool], timeout: float = 5
) -> list[UserEvent]:
    events: list[UserEvent] = []

    async def read() -> None:
        async for event in spot.user_events():
            events.append(event)
            if done(events):
                return

    await asyncio.wait_for(read(), timeout)
    return events


def run(sim: Sim, steps: Callable[[BinanceSpot], Any]) -> Any:
    async def main() -> Any:
        spot = create_exchange("binance:spot", sim.config)
        assert isinstance(spot, BinanceSpot)
        await spot.connect()
        try:
            return await steps(spot)
        finally:
            await spot.close()

    return asyncio.run(asyncio.wait_for(main(), 60))


def test_a_limit_order_fills_in_part_then_is_canceled(sim: Sim) -> None:
    async def steps(spot: BinanceSpot) -> None:
        assert "BTC/USDT" in spot.instruments and (await spot.health()).trading
        buy = order(spot, OrderType.LIMIT, Side.BUY, "0.1", "50000")
        placed = await spot.create_order(buy)
        assert (placed.status, placed.client_order_id) == (OrderStatus.NEW, buy.client_order_id)
        sim.mm("SELL", "0.04")  # takes 0.04 of alice's bid
        events = await collect(
            spot,
            lambda ev: (
                any(isinstance(e, FillEvent) for e in ev)
                and any(isinstance(e, OrderEvent) and e.status is OrderStatus.PARTIALLY_FILLED for e in ev)
            ),
        )
        [fill] = [e.fill for e in events if isinstance(e, FillEvent)]
        assert (fill.qty, fill.price, fill.client_order_id, fill.side) == (
            D("0.04"),
            D(50000),
            buy.client_order_id,
            Side.BUY,
        )
        amended = await spot.amend_order(buy, qty=D("0.08"))
        assert (amended.status, amended.filled_qty) == (OrderStatus.PARTIALLY_FILLED, D("0.04"))
        canceled = await spot.cancel_order(
            Order(id="o", request=buy.request, client_order_id=amended.client_order_id or "")
        )
        assert canceled.status is OrderStatus.CANCELED
        fetched = await spot.fetch_order("BTC/USDT", venue_order_id=placed.venue_order_id)
        assert (fetched.status, fetched.filled_qty) == (OrderStatus.CANCELED, D("0.04"))
        [mine] = await spot.fetch_fills("BTC/USDT")
        assert (mine.trade_id, mine.qty) == (fill.trade_id, D("0.04"))
        btc = next(b for b in await spot.fetch_balances() if b.asset == "BTC")
        assert btc.free == D("1.04") - fill.fee and btc.locked == 0

    run(sim, steps)


def test_a_market_fill_is_reported_once(sim: Sim) -> None:
    sim.mm("SELL", "1", "50100")

    async def steps(spot: BinanceSpot) -> list[UserEvent]:
        market = await spot.create_order(order(spot, OrderType.MARKET, Side.BUY, "0.2"))
        assert market.status is OrderStatus.FILLED
        return await collect(
            spot,
            lambda ev: any(isinstance(e, OrderEvent) and e.status is OrderStatus.FILLED for e in ev),
            timeout=5,
        )

    events = run(sim, steps)
    fills = [e for e in events if isinstance(e, FillEvent)]
    assert len(fills) == 1 and fills[0].fill.qty == D("0.2"), "from the answer and the stream: once"


def test_an_unknown_outcome_is_resolved_by_query_without_resending(sim: Sim) -> None:
    async def steps(spot: BinanceSpot) -> list[UserEvent]:
        buy = order(spot, OrderType.LIMIT, Side.BUY, "0.1", "49000")
        sim.server.faults.update({"unknown_after_accept": 1.0})
        first = await spot.create_order(buy)
        sim.server.faults.update({"unknown_after_accept": 0.0})
        assert first.status is OrderStatus.UNKNOWN
        return await collect(
            spot,
            lambda ev: any(
                isinstance(e, OrderEvent)
                and e.client_order_id == buy.client_order_id
                and e.status is OrderStatus.NEW
                for e in ev
            ),
        )

    events = run(sim, steps)
    [resolved] = [e for e in events if isinstance(e, OrderEvent) and e.status is OrderStatus.NEW]
    assert resolved.venue_order_id and sim.orders_named(resolved.client_order_id or "") == 1


def test_cancel_all_and_a_local_book_from_the_stream(sim: Sim) -> None:
    sim.mm("SELL", "1", "50100")
    sim.mm("BUY", "1", "49900")

    async def steps(spot: BinanceSpot) -> None:
        for price in ("49000", "48000"):
            await spot.create_order(order(spot, OrderType.LIMIT, Side.BUY, "0.1", price))
        assert len(await spot.fetch_open_orders("BTC/USDT")) == 2
        assert {e.status for e in await spot.cancel_all("BTC/USDT")} == {OrderStatus.CANCELED}
        assert await spot.fetch_open_orders("BTC/USDT") == []
        books = spot.watch_book("BTC/USDT")
        first = await asyncio.wait_for(books.__anext__(), 5)
        assert first.best_bid is not None and first.best_bid.price == D(49900)
        sim.mm("BUY", "0.5", "49950")
        while True:
            book = await asyncio.wait_for(books.__anext__(), 5)
            if book.best_bid is not None and book.best_bid.price == D(49950):
                break
        rest = await spot.fetch_book("BTC/USDT", 5)
        assert [(lv.price, lv.qty) for lv in book.bids[:5]] == [(lv.price, lv.qty) for lv in rest.bids]

    run(sim, steps)
