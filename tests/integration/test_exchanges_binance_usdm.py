"""BinanceUsdm against the simulator through the official SDK: settings, a limit order
filled in part and modified and canceled with events from the listenKey stream,
conditional orders on the algo endpoint, a batch with a refused item, a listenKey that
expires and is replaced, and an unknown outcome resolved by query."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from oms import errors
from oms.exchanges import ExchangeConfig, create_exchange
from oms.exchanges.binance.usdm import BinanceUsdm
from oms.model import (
    FillEvent,
    MarginMode,
    Order,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEvent,
    Side,
    TriggerPrice,
    UserEvent,
)
from oms.sim.binance import auth
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_rest import FuturesRestServer
from oms.sim.binance.usdm_symbols import FuturesSymbol
from oms.sim.server_thread import ServerThread
from tests.integration.waiting import until

D = Decimal


class Sim:
    def __init__(self) -> None:
        self.venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")])
        self.venue.add_account("alice", "100000")
        self.venue.add_account("mm", "10000000")
        self.venue.set_mark_price("BTCUSDT", "50000")
        self.key, self.secret = auth.generate_key(auth.KeyType.HMAC, "alice", ["FUTURES"])
        self.server = FuturesRestServer(self.venue, auth.KeyStore([self.key]))
        self.running = ServerThread(self.server)
        ws = self.running.url.replace("http", "ws")
        self.config = ExchangeConfig(
            venue="binance:usdm",
            api_key=self.key.api_key,
            api_secret=self.secret,
            rest_url=self.running.url,
            ws_api_url=f"{ws}/ws-fapi/v1",
            ws_url=ws,
            request_timeout_s=2,
        )

    def on_server(self, action: Callable[[], Any]) -> Any:
        """Run on the server's loop (the venue and its sockets belong to that thread)."""

        async def run() -> Any:
            return action()

        return asyncio.run_coroutine_threadsafe(run(), self.running.loop).result(5)

    def mm(self, side: str, qty: str, price: str | None = None) -> Any:
        params = {"symbol": "BTCUSDT", "side": side, "quantity": qty}
        params |= {"type": "LIMIT", "timeInForce": "GTC", "price": price} if price else {"type": "MARKET"}
        return self.on_server(lambda: self.venue.new_order("mm", params))


@pytest.fixture(name="sim")
def sim_fixture() -> Iterator[Sim]:
    s = Sim()
    try:
        yield s
    finally:
        s.running.close()


def order(usdm: BinanceUsdm, type_: OrderType, side: Side, qty: str, **kw: Any) -> Order:
    fields: dict[str, Any] = {"venue": "binance:usdm", "symbol": "BTC/USDT:USDT", "side": side, "type": type_}
    request = OrderRequest(**(fields | {"qty": D(qty)} | kw)).validate()
    return Order(id="o", request=request, client_order_id=usdm.new_client_order_id())


async def collect(
    usdm: BinanceUsdm, done: Callable[[list[UserEvent]], bool], timeout: float = 5
) -> list[UserEvent]:
    events: list[UserEvent] = []

    async def read() -> None:
        async for event in usdm.user_events():
            events.append(event)
            if done(events):
                return

    await asyncio.wait_for(read(), timeout)
    return events


async def drain(usdm: BinanceUsdm, quiet_s: float) -> list[UserEvent]:
    """Every event until none has come for `quiet_s`."""
    events: list[UserEvent] = []
    stream = usdm.user_events()
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


def run(sim: Sim, steps: Callable[[BinanceUsdm], Any]) -> Any:
    async def main() -> Any:
        usdm = create_exchange("binance:usdm", sim.config)
        assert isinstance(usdm, BinanceUsdm)
        await usdm.connect()
        try:
            return await steps(usdm)
        finally:
            await usdm.close()

    return asyncio.run(asyncio.wait_for(main(), 60))


def test_settings_and_a_limit_order_lifecycle(sim: Sim) -> None:
    async def steps(usdm: BinanceUsdm) -> None:
        await usdm.set_leverage("BTC/USDT:USDT", D(10))
        await usdm.set_margin_mode("BTC/USDT:USDT", MarginMode.ISOLATED)
        await usdm.set_margin_mode("BTC/USDT:USDT", MarginMode.ISOLATED)  # already so: fine
        await usdm.set_position_mode(False)  # already one-way: fine
        buy = order(usdm, OrderType.LIMIT, Side.BUY, "0.1", price=D("50000"))
        placed = await usdm.create_order(buy)
        assert placed.status is OrderStatus.NEW
        sim.mm("SELL", "0.04")
        events = await collect(
            usdm,
            lambda ev: (
                has(OrderStatus.PARTIALLY_FILLED)(ev) and any(isinstance(e, PositionEvent) for e in ev)
            ),
        )
        [fill] = [e.fill for e in events if isinstance(e, FillEvent)]
        assert (fill.qty, fill.price, fill.fee_asset) == (D("0.04"), D(50000), "USDT")
        [position] = await usdm.fetch_positions()
        assert (position.qty, position.entry_price) == (D("0.04"), D(50000))
        modified = await usdm.amend_order(buy, price=D("49900"))
        assert (modified.status, modified.filled_qty) == (OrderStatus.PARTIALLY_FILLED, D("0.04"))
        canceled = await usdm.cancel_order(buy)
        assert canceled.status is OrderStatus.CANCELED
        [mine] = await usdm.fetch_fills("BTC/USDT:USDT")
        assert mine.trade_id == fill.trade_id
        [usdt] = await usdm.fetch_balances()
        assert usdt.asset == "USDT" and usdt.free > 0

    run(sim, steps)


def test_conditional_orders_batches_and_a_refused_item(sim: Sim) -> None:
    sim.mm("BUY", "1", "49000")

    async def steps(usdm: BinanceUsdm) -> None:
        stop = order(
            usdm, OrderType.STOP_MARKET, Side.BUY, "0.01", stop_price=D("51000"), trigger_by=TriggerPrice.MARK
        )
        placed = await usdm.create_order(stop)
        assert (placed.status, placed.client_order_id) == (OrderStatus.NEW, stop.client_order_id)
        assert (placed.venue_order_id or "").startswith("algo:")
        canceled = await usdm.cancel_order(stop)
        assert canceled.status is OrderStatus.CANCELED
        good = [order(usdm, OrderType.LIMIT, Side.SELL, "0.01", price=D(p)) for p in ("52000", "52100")]
        bad = order(usdm, OrderType.LIMIT, Side.SELL, "0.01", price=D("52000.05"))
        results = await usdm.create_orders([good[0], bad, good[1]])
        assert isinstance(results[0], OrderEvent) and results[0].status is OrderStatus.NEW
        assert isinstance(results[1], errors.VenueFilterRejected) and results[1].venue_code == -4014
        assert isinstance(results[2], OrderEvent) and results[2].client_order_id == good[1].client_order_id
        assert {e.status for e in await usdm.cancel_all("BTC/USDT:USDT")} == {OrderStatus.CANCELED}

    run(sim, steps)


def test_an_expired_listen_key_is_replaced_and_events_keep_coming(sim: Sim) -> None:
    async def steps(usdm: BinanceUsdm) -> None:
        first = usdm.listen_key
        request = urllib.request.Request(f"{sim.running.url}/admin/expire-listen-keys", method="POST")
        await asyncio.to_thread(urllib.request.urlopen, request, timeout=5)
        for _ in range(50):
            if usdm.listen_key != first:
                break
            await asyncio.sleep(0.1)
        assert usdm.listen_key and usdm.listen_key != first
        buy = order(usdm, OrderType.LIMIT, Side.BUY, "0.01", price=D("45000"))
        await usdm.create_order(buy)
        await collect(usdm, has(OrderStatus.NEW, buy.client_order_id))

    run(sim, steps)


def test_an_unknown_outcome_is_resolved_by_query(sim: Sim) -> None:
    async def steps(usdm: BinanceUsdm) -> None:
        buy = order(usdm, OrderType.LIMIT, Side.BUY, "0.01", price=D("45000"))
        sim.server.faults.update({"unknown_after_accept": 1.0})
        first = await usdm.create_order(buy)
        sim.server.faults.update({"unknown_after_accept": 0.0})
        assert first.status is OrderStatus.UNKNOWN
        events = await collect(
            usdm, lambda ev: sum(has(OrderStatus.NEW, buy.client_order_id)([e]) for e in ev) >= 1
        )
        assert sum(1 for o in sim.venue.orders.values() if o.client_order_id == buy.client_order_id) == 1
        assert events

    run(sim, steps)


def test_a_fill_missed_while_the_stream_was_down_is_recovered_once(sim: Sim) -> None:
    """The account's stream listeners are detached on the server while a fill happens (a
    stream outage; the simulator has no fault that drops only user data), then the gap
    is filled from REST: the fill appears, once."""

    async def steps(usdm: BinanceUsdm) -> list[UserEvent]:
        buy = order(usdm, OrderType.LIMIT, Side.BUY, "0.1", price=D("50000"))
        await usdm.create_order(buy)
        await collect(usdm, has(OrderStatus.NEW, buy.client_order_id))
        account = sim.venue.accounts["alice"]
        listeners = sim.on_server(lambda: [account.listeners.pop() for _ in list(account.listeners)])
        sim.mm("SELL", "0.03")
        sim.on_server(lambda: account.listeners.extend(listeners))
        await usdm.fill_gap()
        await usdm.fill_gap()  # again: nothing doubles
        return await drain(usdm, quiet_s=0.5)

    events = run(sim, steps)
    fills = [e.fill for e in events if isinstance(e, FillEvent)]
    assert [(f.qty, f.price) for f in fills] == [(D("0.03"), D(50000))]
    assert any(isinstance(e, OrderEvent) and e.filled_qty == D("0.03") for e in events)


def test_dropped_sockets_mid_fill_are_rebuilt_and_the_fill_arrives_once(sim: Sim) -> None:
    """Every WebSocket (user stream and WebSocket API) is dropped and a fill happens
    before any client can come back: the stream client is rebuilt, the listenKey
    subscribed again, the gap filled from REST; later events come on the new stream."""

    async def steps(usdm: BinanceUsdm) -> list[UserEvent]:
        buy = order(usdm, OrderType.LIMIT, Side.BUY, "0.1", price=D("50000"))
        await usdm.create_order(buy)
        await collect(usdm, has(OrderStatus.NEW, buy.client_order_id))

        async def drop_then_fill() -> Any:
            await sim.server.disconnect_sockets()
            return sim.venue.new_order(
                "mm", {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.1"}
            )

        asyncio.run_coroutine_threadsafe(drop_then_fill(), sim.running.loop).result(5)
        events = await collect(usdm, has(OrderStatus.FILLED, buy.client_order_id), timeout=10)
        assert usdm.stream_rebuilds == 1
        later = order(usdm, OrderType.LIMIT, Side.BUY, "0.01", price=D("49000"))
        await usdm.create_order(later)
        events += await collect(usdm, has(OrderStatus.NEW, later.client_order_id))
        return events + await drain(usdm, quiet_s=0.5)

    events = run(sim, steps)
    fills = [e.fill for e in events if isinstance(e, FillEvent)]
    assert [(f.qty, f.price) for f in fills] == [(D("0.1"), D(50000))]


def test_the_account_is_cached_and_kept_current_by_events(sim: Sim) -> None:
    """Fee rates, leverage/margin mode, position mode and positions are read from the
    venue once; our own changes, ACCOUNT_CONFIG_UPDATE and ACCOUNT_UPDATE keep them
    current without further requests."""
    symbol = "BTC/USDT:USDT"

    async def steps(usdm: BinanceUsdm) -> None:
        fees = await usdm.fee_rates(symbol)
        assert (fees.maker, fees.taker) == (D("0.0002"), D("0.0005"))
        settings = await usdm.symbol_settings(symbol)
        assert (settings.leverage, settings.margin_mode) == (D(20), MarginMode.CROSS)
        assert await usdm.position_mode() is False
        assert await usdm.positions() == {}
        await usdm.set_leverage(symbol, D(10))
        await usdm.set_margin_mode(symbol, MarginMode.ISOLATED)
        sent = usdm.rest.sent
        settings = await usdm.symbol_settings(symbol)
        assert (settings.leverage, settings.margin_mode) == (D(10), MarginMode.ISOLATED)
        # Changed elsewhere (another client): the venue's ACCOUNT_CONFIG_UPDATE says so.
        sim.on_server(lambda: sim.venue.change_leverage("alice", {"symbol": "BTCUSDT", "leverage": "7"}))
        await until(lambda: usdm.account.cached_settings(symbol).leverage == D(7))  # type: ignore[union-attr]
        await usdm.create_order(order(usdm, OrderType.LIMIT, Side.BUY, "0.1", price=D("50000")))
        sim.mm("SELL", "0.1")
        await collect(usdm, lambda ev: any(isinstance(e, PositionEvent) for e in ev))
        positions = await usdm.positions()
        assert [(p.qty, p.entry_price) for p in positions.values()] == [(D("0.1"), D(50000))]
        assert (await usdm.fee_rates(symbol)).taker == D("0.0005")
        assert usdm.rest.sent == sent, "no REST request since the changes: cache and events"

    run(sim, steps)


def test_a_stop_on_the_mark_price_triggers_and_its_order_fills(sim: Sim) -> None:
    sim.mm("BUY", "1", "49000")

    async def steps(usdm: BinanceUsdm) -> list[UserEvent]:
        stop = order(
            usdm,
            OrderType.STOP_MARKET,
            Side.SELL,
            "0.02",
            stop_price=D("49500"),
            trigger_by=TriggerPrice.MARK,
        )
        assert (await usdm.create_order(stop)).status is OrderStatus.NEW
        sim.on_server(lambda: sim.venue.set_mark_price("BTCUSDT", "49400"))
        return await collect(
            usdm,
            lambda ev: (
                has(OrderStatus.TRIGGERED, stop.client_order_id)(ev)
                and has(OrderStatus.FILLED, stop.client_order_id)(ev)
            ),
        )

    events = run(sim, steps)
    fills = [e.fill for e in events if isinstance(e, FillEvent)]
    assert [(f.qty, f.price, f.side) for f in fills] == [(D("0.02"), D(49000), Side.SELL)]
