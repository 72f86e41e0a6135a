"""A simulated Binance Spot venue for the BinanceSpot tests, and their helpers: orders
from the market maker on the server's loop, event collection, and a connector run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from oms.exchanges import ExchangeConfig, create_exchange
from oms.exchanges.binance.spot import BinanceSpot
from oms.model import Order, OrderEvent, OrderRequest, OrderStatus, OrderType, Side, UserEvent
from oms.sim.binance import auth
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.server_thread import ServerThread

D = Decimal


class Sim:
    def __init__(self) -> None:
        self.venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
        self.venue.add_account("alice", {"BTC": "1", "USDT": "100000"})
        self.venue.add_account("mm", {"BTC": "10", "USDT": "1000000"})
        self.venue.add_account("taker", {"BTC": "10", "USDT": "1000000"})
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

    def on_server(self, action: Callable[[], Any]) -> Any:
        """Run on the server's loop (the venue and its sockets belong to that thread)."""

        async def run() -> Any:
            return action()

        return asyncio.run_coroutine_threadsafe(run(), self.running.loop).result(5)

    def mm(self, side: str, qty: str, price: str | None = None, account: str = "mm") -> dict[str, Any]:
        """The market maker trades (on the server's loop)."""
        params = {"symbol": "BTCUSDT", "side": side, "quantity": qty}
        params |= {"type": "LIMIT", "timeInForce": "GTC", "price": price} if price else {"type": "MARKET"}
        return dict(self.on_server(lambda: self.venue.new_order(account, params)))

    def take(self, side: str, qty: str) -> dict[str, Any]:
        """A market order from a third account (the market maker would trade with itself)."""
        return self.mm(side, qty, account="taker")

    def order_named(self, client_id: str | None) -> Any:
        """The simulator's record of an order (read on the server's loop)."""
        return self.on_server(
            lambda: next(o for o in self.venue.orders.values() if o.client_order_id == client_id)
        )

    def orders_named(self, client_id: str) -> int:
        return sum(1 for o in self.venue.orders.values() if o.client_order_id == client_id)


@pytest.fixture(name="sim")
def sim_fixture() -> Iterator[Sim]:
    s = Sim()
    try:
        yield s
    finally:
        s.running.close()


def limit_buy(qty: str, price: str) -> OrderRequest:
    """A limit buy of BTC/USDT on the spot simulator, as the engine takes it."""
    return OrderRequest(
        venue="binance:spot",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D(price),
    )


def order(
    spot: BinanceSpot,
    type_: OrderType,
    side: Side,
    qty: str,
    price: str | None = None,
    stop: str | None = None,
) -> Order:
    request = OrderRequest(venue="binance:spot", symbol="BTC/USDT", side=side, type=type_, qty=D(qty))
    if price is not None:
        request.price = D(price)
    if stop is not None:
        request.stop_price = D(stop)
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


async def drain(spot: BinanceSpot, quiet_s: float) -> list[UserEvent]:
    """Every event until none has come for `quiet_s`."""
    events: list[UserEvent] = []
    stream = spot.user_events()
    while True:
        try:
            events.append(await asyncio.wait_for(stream.__anext__(), quiet_s))
        except TimeoutError:
            return events


def has(status: OrderStatus, client_id: str | None = None) -> Callable[[list[UserEvent]], bool]:
    return lambda ev: any(
        isinstance(e, OrderEvent)
        and e.status is status
        and (client_id is None or e.client_order_id == client_id)
        for e in ev
    )
