"""USD-M Futures market data through the official SDK's stream client: a local book kept
by Binance's documented futures procedure (snapshot, then diffs chained by ``pu``) ends
equal to the venue's book, and trades and mark prices arrive in the futures shapes."""

from __future__ import annotations

import asyncio
import contextlib
import random
from decimal import Decimal
from typing import Any

import aiohttp
from binance_common.configuration import ConfigurationWebSocketStreams
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)

from oms.sim.binance import auth
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_rest import FuturesRestServer
from oms.sim.binance.usdm_symbols import FuturesSymbol

D = Decimal


def trade_randomly(venue: FuturesExchange, rng: random.Random, n: int) -> None:
    """Two accounts place, cross and cancel limit orders around 50,000."""
    open_ids: list[tuple[str, int]] = []
    for _ in range(n):
        if open_ids and rng.random() < 0.25:
            account, order_id = open_ids.pop(rng.randrange(len(open_ids)))
            with contextlib.suppress(BinanceApiError):  # it may have filled meanwhile (-2011)
                venue.cancel_order(account, {"symbol": "BTCUSDT", "orderId": str(order_id)})
            continue
        who = rng.choice(["a", "b"])
        params = {
            "symbol": "BTCUSDT",
            "side": rng.choice(["BUY", "SELL"]),
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": str(D(rng.randint(3, 50)) / 1000),  # >= 100 USDT notional
            "price": str(rng.randint(49_900, 50_100)),
        }
        response = venue.new_order(who, params)
        if response["status"] in ("NEW", "PARTIALLY_FILLED"):
            open_ids.append((who, response["orderId"]))


async def _received(events: list[dict[str, Any]], wanted: int) -> None:
    while len(events) < wanted:
        await asyncio.sleep(0.01)


async def _keep_a_local_book() -> None:
    venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")])
    for name in ("a", "b"):
        venue.add_account(name, "100000000")
    server = FuturesRestServer(venue, auth.KeyStore())
    url = await server.start()
    config = ConfigurationWebSocketStreams(stream_url=url.replace("http", "ws"))
    streams = DerivativesTradingUsdsFutures(config_ws_streams=config).websocket_streams
    connection = await streams.create_connection()
    depth: list[dict[str, Any]] = []
    trades: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    partial: list[dict[str, Any]] = []
    rng = random.Random(7)
    try:
        for handle, sink in (
            (await connection.diff_book_depth_streams(symbol="btcusdt"), depth),
            (await connection.aggregate_trade_streams(symbol="btcusdt"), trades),
            (await connection.mark_price_stream(symbol="btcusdt"), marks),
            (await connection.partial_book_depth_streams(symbol="btcusdt", levels=5), partial),
        ):
            handle.on("message", lambda event, sink=sink: sink.append(event.model_dump(by_alias=True)))
        await asyncio.sleep(0.3)  # the SDK subscribes asynchronously
        trade_randomly(venue, rng, 150)  # before the snapshot: covered by it or dropped
        query = {"symbol": "BTCUSDT", "limit": "1000"}
        async with aiohttp.ClientSession() as http, http.get(f"{url}/fapi/v1/depth", params=query) as r:
            snapshot = await r.json()
        trade_randomly(venue, rng, 150)  # after: must be applied
        venue.set_mark_price("BTCUSDT", "50012.5")
        await asyncio.wait_for(_received(marks, 1), 10)
        await asyncio.wait_for(_received(depth, 1), 10)
        while depth[-1]["u"] != venue.market.update_ids["BTCUSDT"] or partial[-1]["u"] != depth[-1]["u"]:
            await asyncio.sleep(0.01)
    finally:
        await connection.close_connection(close_session=True)
        await server.stop()

    assert marks[0]["e"] == "markPriceUpdate" and D(marks[0]["p"]) == D("50012.5")
    assert trades and trades[0]["e"] == "aggTrade" and trades[0]["nq"] == trades[0]["q"]
    book = {
        "b": {D(p): D(q) for p, q in snapshot["bids"]},
        "a": {D(p): D(q) for p, q in snapshot["asks"]},
    }
    last = snapshot["lastUpdateId"]
    pending = [d for d in depth if d["u"] >= last]  # futures: drop u < lastUpdateId
    assert pending[0]["U"] <= last <= pending[0]["u"]
    previous = None
    for diff in pending:
        if previous is not None:
            assert diff["pu"] == previous, "each diff chains to the one before"
        for side in ("b", "a"):
            for price, qty in diff[side]:
                if D(qty) == 0:
                    book[side].pop(D(price), None)
                else:
                    book[side][D(price)] = D(qty)
        previous = diff["u"]
    bids, asks = venue.books["BTCUSDT"].depth(1_000_000)
    assert book["b"] == dict(bids) and book["a"] == dict(asks)
    top = partial[-1]
    assert (top["e"], top["pu"]) == ("depthUpdate", depth[-1]["pu"])
    assert [(D(p), D(q)) for p, q in top["b"]] == bids[:5] and [(D(p), D(q)) for p, q in top["a"]] == asks[:5]


def test_a_futures_local_book_kept_through_the_sdk_matches_the_venue() -> None:
    asyncio.run(asyncio.wait_for(_keep_a_local_book(), 60))
