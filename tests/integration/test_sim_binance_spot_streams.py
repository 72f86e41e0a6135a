"""Spot market-data streams: a client following Binance's documented procedure
(buffer diffs, fetch the REST snapshot, drop what it covers, apply the rest) ends with
exactly the venue's book; trades and the top of book arrive as Binance formats them."""

from __future__ import annotations

import asyncio
import contextlib
import random
from decimal import Decimal
from typing import Any

import aiohttp

from oms.sim.binance import auth
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol

D = Decimal


def trade_randomly(venue: SpotExchange, rng: random.Random, n: int, prefix: str) -> None:
    open_ids: list[tuple[str, int]] = []
    for i in range(n):
        who = rng.choice(["a", "b"])
        if open_ids and rng.random() < 0.25:
            account, order_id = open_ids.pop(rng.randrange(len(open_ids)))
            with contextlib.suppress(BinanceApiError):  # it may have filled meanwhile (-2011)
                venue.cancel_order(account, {"symbol": "BTCUSDT", "orderId": str(order_id)})
            continue
        side = rng.choice(["BUY", "SELL"])
        price = str(D(rng.randint(49_900, 50_100)))
        qty = str(D(rng.randint(1, 50)) / 1000)
        params = {
            "symbol": "BTCUSDT",
            "side": side,
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": qty,
            "price": price,
        }
        response = venue.new_order(who, {**params, "newClientOrderId": f"{prefix}{i}"})
        if response["status"] in ("NEW", "PARTIALLY_FILLED"):
            open_ids.append((who, response["orderId"]))


async def _follow_the_documented_procedure() -> None:
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT", min_notional=D(0))])
    for name in ("a", "b"):
        venue.add_account(name, {"BTC": "1000", "USDT": "100000000"})
    server = SpotRestServer(venue, auth.KeyStore())
    url = await server.start()
    rng = random.Random(11)
    try:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(url.replace("http", "ws") + "/stream")
            await ws.send_json(
                {"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms", "btcusdt@trade"], "id": 1}
            )
            assert (await ws.receive_json(timeout=5)) == {"result": None, "id": 1}
            trade_randomly(venue, rng, 150, "x")  # before the snapshot: must be covered or dropped
            async with http.get(f"{url}/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "5000"}) as r:
                snapshot = await r.json()
            trade_randomly(venue, rng, 150, "y")  # after: must be applied
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 2})
            frames: list[dict[str, Any]] = []
            while True:
                frame = await ws.receive_json(timeout=5)
                if frame.get("id") == 2:
                    assert frame["result"] == ["btcusdt@depth@100ms", "btcusdt@trade"]
                    break
                frames.append(frame)
            await ws.close()
    finally:
        await server.stop()

    diffs = [f["data"] for f in frames if f["stream"] == "btcusdt@depth@100ms"]
    trades = [f["data"] for f in frames if f["stream"] == "btcusdt@trade"]
    assert trades and set(trades[0]) == {"e", "E", "s", "t", "p", "q", "T", "m", "M"}
    book = {
        "b": {D(p): D(q) for p, q in snapshot["bids"]},
        "a": {D(p): D(q) for p, q in snapshot["asks"]},
    }
    update_id = snapshot["lastUpdateId"]
    pending = [d for d in diffs if d["u"] > update_id]
    assert pending[0]["U"] <= update_id + 1 <= pending[0]["u"]
    for diff in pending:
        assert diff["U"] == update_id + 1, "no gap"
        for side in ("b", "a"):
            for price, qty in diff[side]:
                if D(qty) == 0:
                    book[side].pop(D(price), None)
                else:
                    book[side][D(price)] = D(qty)
        update_id = diff["u"]
    bids, asks = venue.books["BTCUSDT"].depth(1_000_000)
    assert book["b"] == dict(bids) and book["a"] == dict(asks)
    assert update_id == venue.update_ids["BTCUSDT"]


def test_a_local_book_built_by_the_documented_procedure_matches_the_venue() -> None:
    asyncio.run(asyncio.wait_for(_follow_the_documented_procedure(), 60))


async def _watch_partial_depth() -> None:
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT", min_notional=D(0))])
    for name in ("a", "b"):
        venue.add_account(name, {"BTC": "1000", "USDT": "100000000"})
    server = SpotRestServer(venue, auth.KeyStore())
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            streams = "btcusdt@depth5/btcusdt@depth20@100ms"
            ws = await http.ws_connect(url.replace("http", "ws") + f"/stream?streams={streams}")
            trade_randomly(venue, random.Random(5), 200, "p")
            last: dict[str, dict[str, Any]] = {}
            while (
                len(last) < 2 or min(p["lastUpdateId"] for p in last.values()) < venue.update_ids["BTCUSDT"]
            ):
                frame = await ws.receive_json(timeout=5)
                last[frame["stream"]] = frame["data"]
            await ws.close()
    finally:
        await server.stop()
    for levels, name in ((5, "btcusdt@depth5"), (20, "btcusdt@depth20@100ms")):
        bids, asks = venue.books["BTCUSDT"].depth(levels)
        event = last[name]
        assert levels == 5 or len(bids) > 5  # deep enough for the 20-level check to mean something
        assert set(event) == {"lastUpdateId", "bids", "asks"}
        assert [(D(p), D(q)) for p, q in event["bids"]] == bids
        assert [(D(p), D(q)) for p, q in event["asks"]] == asks


def test_partial_depth_streams_carry_the_top_levels() -> None:
    asyncio.run(asyncio.wait_for(_watch_partial_depth(), 60))
