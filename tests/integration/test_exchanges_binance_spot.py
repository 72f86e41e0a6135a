"""BinanceSpot against the simulator, through the official SDK: the order lifecycle over
the WebSocket API with fills and states from the user-data stream (fills once, though
they also come in the answer), amend (keep-priority, and cancel-replace for a new price),
OCO, a stop-loss triggering, cancel-all, balances and fills, an unknown outcome resolved
by query with the order sent once, and a local book from the stream."""

from __future__ import annotations

import asyncio

import msgspec

from oms.errors import OrderRejected
from oms.exchanges.binance.spot import BinanceSpot
from oms.model import FillEvent, Order, OrderEvent, OrderStatus, OrderType, Side, UserEvent
from tests.integration.binance_spot_sim import D, Sim, collect, drain, has, order, run, sim_fixture  # noqa: F401


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


def test_a_new_price_is_a_cancel_replace_never_above_the_quantity_asked(sim: Sim) -> None:
    """The order part-filled without our knowing (the Order says 0 filled): the new order
    is sent for the whole 0.1, the cancel reveals 0.04 filled, so it is cut to 0.06."""

    async def steps(spot: BinanceSpot) -> None:
        buy = order(spot, OrderType.LIMIT, Side.BUY, "0.1", "50000")
        await spot.create_order(buy)
        sim.mm("SELL", "0.04")
        replaced = await spot.amend_order(buy, price=D("49500"))
        assert replaced.client_order_id != buy.client_order_id and replaced.status is OrderStatus.NEW
        old, new = sim.order_named(buy.client_order_id), sim.order_named(replaced.client_order_id)
        assert (old.status, old.executed_qty) == ("CANCELED", D("0.04"))
        assert (new.price, new.orig_qty, new.status) == (D(49500), D("0.06"), "NEW")
        # Told of the fills, the next replace is sized right at once.
        told = Order(
            id="o",
            request=msgspec.structs.replace(buy.request, qty=D("0.06")),
            client_order_id=replaced.client_order_id or "",
        )
        moved = await spot.amend_order(told, price=D("49400"))
        newest = sim.order_named(moved.client_order_id)
        assert (newest.price, newest.orig_qty, newest.status) == (D(49400), D("0.06"), "NEW")
        events = await collect(spot, has(OrderStatus.CANCELED, replaced.client_order_id))
        assert has(OrderStatus.CANCELED, buy.client_order_id)(events)

    run(sim, steps)


def test_an_oco_take_profit_fills_and_the_stop_expires(sim: Sim) -> None:
    sim.mm("BUY", "0.5", "50000")
    sim.take("SELL", "0.1")  # a last price of 50000

    async def steps(spot: BinanceSpot) -> list[UserEvent]:
        above = order(spot, OrderType.LIMIT_MAKER, Side.SELL, "0.2", "51000")
        below = order(spot, OrderType.STOP_MARKET, Side.SELL, "0.2", stop="49000")
        placed = await spot.create_oco(above, below)
        assert [(e.client_order_id, e.status) for e in placed] == [
            (above.client_order_id, OrderStatus.NEW),
            (below.client_order_id, OrderStatus.NEW),
        ]
        sim.take("BUY", "0.2")  # lifts the LIMIT_MAKER leg
        expired, filled = has(OrderStatus.EXPIRED, below.client_order_id), has(OrderStatus.FILLED)
        return await collect(spot, lambda ev: expired(ev) and filled(ev))

    events = run(sim, steps)
    fills = [e.fill for e in events if isinstance(e, FillEvent)]
    assert [(f.qty, f.price, f.side) for f in fills] == [(D("0.2"), D(51000), Side.SELL)]


def test_a_stop_loss_triggers_and_fills(sim: Sim) -> None:
    sim.mm("BUY", "0.5", "50000")
    sim.take("SELL", "0.1")  # last 50000

    async def steps(spot: BinanceSpot) -> list[UserEvent]:
        stop = order(spot, OrderType.STOP_MARKET, Side.SELL, "0.3", stop="49900")
        assert (await spot.create_order(stop)).status is OrderStatus.NEW
        sim.mm("BUY", "1", "49800")
        sim.take("SELL", "0.5")  # 0.4 at 50000, then 0.1 at 49800: the stop fires
        return await collect(spot, has(OrderStatus.FILLED, stop.client_order_id))

    events = run(sim, steps)
    fills = [e.fill for e in events if isinstance(e, FillEvent)]
    assert sum(f.qty for f in fills) == D("0.3") and {f.price for f in fills} == {D(49800)}


def test_balances_and_fee_rates_are_cached_and_follow_the_stream(sim: Sim) -> None:
    async def steps(spot: BinanceSpot) -> None:
        fees = await spot.fee_rates("BTC/USDT")
        assert (fees.maker, fees.taker) == (D("0.001"), D("0.001"))
        before = await spot.balances()
        assert (before["BTC"].free, before["USDT"].free) == (D(1), D(100000))
        assert spot.ws is not None
        requests = spot.ws.sent + spot.rest.sent
        buy = order(spot, OrderType.LIMIT, Side.BUY, "0.1", "50000")
        await spot.create_order(buy)
        sim.mm("SELL", "0.1")
        await collect(spot, has(OrderStatus.FILLED, buy.client_order_id))
        await drain(spot, quiet_s=0.3)  # the balance report follows the fill
        after = await spot.balances()
        assert after["BTC"].free == D("1.1") - D("0.0001")  # 0.1 bought, 10 bps fee in BTC
        assert after["USDT"].free == D(100000) - D(5000)
        await spot.fee_rates("BTC/USDT")
        assert spot.ws.sent + spot.rest.sent == requests + 1, "only the order: the rest from cache and events"

    run(sim, steps)


def test_a_batch_goes_out_concurrently_with_one_result_per_order(sim: Sim) -> None:
    sim.mm("SELL", "1", "50100")

    async def steps(spot: BinanceSpot) -> None:
        batch = [
            order(spot, OrderType.LIMIT, Side.BUY, "0.1", "49000"),
            order(spot, OrderType.LIMIT_MAKER, Side.BUY, "0.1", "50200"),  # would take: refused
            order(spot, OrderType.LIMIT, Side.BUY, "0.1", "48000"),
        ]
        first, refused, third = await spot.create_orders(batch)
        assert isinstance(first, OrderEvent) and first.client_order_id == batch[0].client_order_id
        assert isinstance(refused, OrderRejected) and refused.venue_code == -2010
        assert isinstance(third, OrderEvent) and third.client_order_id == batch[2].client_order_id
        assert len(await spot.fetch_open_orders("BTC/USDT")) == 2

    run(sim, steps)


def test_the_book_ticker_follows_the_best_prices(sim: Sim) -> None:
    sim.mm("SELL", "1", "50100")
    sim.mm("BUY", "1", "49900")

    async def steps(spot: BinanceSpot) -> None:
        tickers = spot.watch_book_ticker("BTC/USDT")
        first = asyncio.ensure_future(tickers.__anext__())
        for _ in range(250):  # until the SDK has sent the SUBSCRIBE, then a moment for it to land
            if spot._streams is not None and spot._streams.stream_connections.stream_connections_map:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        sim.mm("BUY", "0.5", "49950")
        top = await asyncio.wait_for(first, 5)
        while top.best_bid is None or top.best_bid.price != D(49950):
            top = await asyncio.wait_for(tickers.__anext__(), 5)
        assert top.best_bid is not None and top.best_ask is not None
        assert (top.best_bid.qty, top.best_ask.price, top.best_ask.qty) == (D("0.5"), D(50100), D(1))

    run(sim, steps)
