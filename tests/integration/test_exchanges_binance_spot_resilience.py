"""BinanceSpot when things go wrong, against the simulator: the WebSocket API session
dropped mid-fill (rebuilt, resubscribed, the gap filled from REST with no fill missed or
doubled), orders over REST while the session is down, a 429 storm ending in a 418 ban
(honoured locally: nothing is sent while banned), and clock skew (measured and
corrected; beyond the receive window, trading stops with a clear error)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from oms.errors import ClockSkew, VenueRateLimited
from oms.exchanges.binance import connector
from oms.exchanges.binance.spot import BinanceSpot
from oms.model import FillEvent, OrderStatus, OrderType, Side, UserEvent
from tests.integration.binance_spot_sim import D, Sim, collect, drain, has, order, run, sim_fixture  # noqa: F401
from tests.integration.waiting import until


def drop_sockets_then(sim: Sim, params: dict[str, str]) -> None:
    """Drop every WebSocket and, before any client can come back, let the market maker
    trade (in one step on the server's loop): the fill happens with nobody subscribed."""

    async def step() -> Any:
        await sim.server.disconnect_sockets()
        return sim.venue.new_order("mm", {"symbol": "BTCUSDT"} | params)

    asyncio.run_coroutine_threadsafe(step(), sim.running.loop).result(5)


def test_a_fill_while_the_session_was_down_arrives_once_after_it_is_rebuilt(sim: Sim) -> None:
    async def steps(spot: BinanceSpot) -> list[UserEvent]:
        buy = order(spot, OrderType.LIMIT, Side.BUY, "0.1", "50000")
        await spot.create_order(buy)
        sim.mm("SELL", "0.03")
        await collect(spot, lambda ev: any(isinstance(e, FillEvent) for e in ev))
        drop_sockets_then(sim, {"side": "SELL", "type": "MARKET", "quantity": "0.07"})
        events = await collect(spot, has(OrderStatus.FILLED, buy.client_order_id), timeout=10)
        assert spot.reconnects == 1 and spot.ws is not None and spot.ws.connected
        sim.mm("BUY", "0.01", "49000")  # the renewed subscription carries new events
        more = await drain(spot, quiet_s=0.5)
        assert spot.reconnects == 1
        return events + more

    events = run(sim, steps)
    fills = [e.fill for e in events if isinstance(e, FillEvent)]
    assert [f.qty for f in fills] == [D("0.07")], "the 0.03 came before; the gap's 0.07 once"


def test_orders_go_over_rest_while_the_session_is_down(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connector, "RECONNECT_DELAYS_S", (1.5,))

    async def steps(spot: BinanceSpot) -> None:
        assert spot.ws is not None
        sim.on_server(lambda: asyncio.ensure_future(sim.server.disconnect_sockets()))
        await until(lambda: spot.ws is not None and not spot.ws.connected)
        over_ws, over_rest = spot.ws.sent, spot.rest.sent
        placed = await spot.create_order(order(spot, OrderType.LIMIT, Side.BUY, "0.1", "49000"))
        assert placed.status is OrderStatus.NEW
        assert (spot.ws.sent, spot.rest.sent) == (over_ws, over_rest + 1)
        await until(lambda: spot.reconnects == 1)
        over_ws, over_rest = spot.ws.sent, spot.rest.sent
        await spot.create_order(order(spot, OrderType.LIMIT, Side.BUY, "0.1", "48000"))
        assert (spot.ws.sent, spot.rest.sent) == (over_ws + 1, over_rest), "back on the WebSocket API"

    run(sim, steps)


def test_a_429_storm_is_honoured_and_ends_in_a_ban_that_sends_nothing(sim: Sim) -> None:
    """Each 429's Retry-After is waited out locally (a call inside it never leaves); the
    simulator bans a client whose requests keep meeting 429s, and during the 418 ban
    every call is refused here with the time left."""

    async def steps(spot: BinanceSpot) -> list[str]:
        assert spot.ws is not None
        sim.server.faults.update({"rate_limit_storm": True})
        codes: list[str] = []
        while "IP_BANNED" not in codes:
            try:
                await spot.create_order(order(spot, OrderType.LIMIT, Side.BUY, "0.1", "49000"))
            except VenueRateLimited as err:
                codes.append(err.code)
                sent = spot.ws.sent
                with pytest.raises(VenueRateLimited) as local:
                    await spot.create_order(order(spot, OrderType.LIMIT, Side.BUY, "0.1", "49000"))
                assert spot.ws.sent == sent, "refused here, inside the Retry-After"
                assert local.value.retry_after > 0
                if err.code == "RATE_LIMITED":
                    await asyncio.sleep(err.retry_after + 0.05)
                else:
                    assert err.retry_after > 60  # the ban's length
            assert len(codes) < 10
        sim.server.faults.update({"rate_limit_storm": False})
        sent = spot.rest.sent + spot.ws.sent
        with pytest.raises(VenueRateLimited):
            await spot.fetch_open_orders("BTC/USDT")  # REST shares the ban
        assert spot.rest.sent + spot.ws.sent == sent
        return codes

    codes = run(sim, steps)
    assert codes[-1] == "IP_BANNED" and set(codes[:-1]) == {"RATE_LIMITED"} and len(codes) >= 2


def test_a_skewed_venue_clock_is_measured_and_corrected(sim: Sim) -> None:
    sim.server.faults.update({"clock_skew_ms": -3000})  # the venue is 3 s behind us

    async def steps(spot: BinanceSpot) -> None:
        health = await spot.health()
        assert health.trading and health.clock_offset_ms is not None
        assert -3200 < health.clock_offset_ms < -2800
        placed = await spot.create_order(order(spot, OrderType.LIMIT, Side.BUY, "0.1", "49000"))
        assert placed.status is OrderStatus.NEW  # our local timestamps would be -1021

    run(sim, steps)


def test_a_clock_jump_beyond_the_receive_window_stops_trading_until_fixed(sim: Sim) -> None:
    async def steps(spot: BinanceSpot) -> None:
        sim.server.faults.update({"clock_skew_ms": -20_000})
        with pytest.raises(ClockSkew):  # the venue's -1021, which starts a new measurement
            await spot.create_order(order(spot, OrderType.LIMIT, Side.BUY, "0.1", "49000"))
        await until(lambda: spot.clock.offset_ms < -19_000)
        assert not (await spot.health()).trading
        sent = spot.ws.sent if spot.ws else 0
        with pytest.raises(ClockSkew, match="trading stopped"):
            await spot.create_order(order(spot, OrderType.LIMIT, Side.BUY, "0.1", "49000"))
        assert (spot.ws.sent if spot.ws else 0) == sent, "refused here, not sent"
        sim.server.faults.update({"clock_skew_ms": 0})
        for _ in range(6):  # the periodic re-measurement, run now until old samples age out
            await spot._resync_clock()
        assert (await spot.health()).trading
        placed = await spot.create_order(order(spot, OrderType.LIMIT, Side.BUY, "0.1", "49000"))
        assert placed.status is OrderStatus.NEW

    run(sim, steps)


def test_the_local_book_resyncs_after_lost_diffs_and_a_dropped_stream(sim: Sim) -> None:
    sim.mm("SELL", "1", "50100")
    sim.mm("BUY", "1", "49900")

    async def until_bid(books: Any, price: str) -> Any:
        while True:
            book = await asyncio.wait_for(books.__anext__(), 5)
            if book.best_bid is not None and book.best_bid.price == D(price):
                return book

    async def same_as_rest(spot: BinanceSpot, book: Any) -> None:
        rest = await spot.fetch_book("BTC/USDT", 20)
        assert [(lv.price, lv.qty) for lv in book.bids[:20]] == [(lv.price, lv.qty) for lv in rest.bids]
        assert [(lv.price, lv.qty) for lv in book.asks[:20]] == [(lv.price, lv.qty) for lv in rest.asks]

    async def steps(spot: BinanceSpot) -> None:
        books = spot.watch_book("BTC/USDT")
        await until_bid(books, "49900")
        requests = spot.rest.sent
        sim.server.faults.update({"drop_depth_updates": 0.5})
        for i in range(10):
            sim.mm("BUY", "0.1", str(49000 + 10 * i))
        sim.server.faults.update({"drop_depth_updates": 0.0})
        sim.mm("BUY", "0.1", "49950")
        await same_as_rest(spot, await until_bid(books, "49950"))
        assert spot.rest.sent > requests + 1, "a lost diff was noticed and a new snapshot taken"
        sim.on_server(lambda: asyncio.ensure_future(sim.server.disconnect_sockets()))
        await until(lambda: spot.stream_rebuilds == 1)
        sim.mm("BUY", "0.2", "49960")
        await same_as_rest(spot, await until_bid(books, "49960"))

    run(sim, steps)
