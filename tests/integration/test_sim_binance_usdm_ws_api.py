"""The official USD-M SDK's WebSocket API client against the simulator: orders placed,
modified, queried and canceled over ``/ws-fapi/v1``; account views; a listenKey from
``userDataStream.start`` that carries the order's updates on the private stream."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from binance_common.configuration import ConfigurationWebSocketAPI
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)

from oms.sim.binance import auth
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_rest import FuturesRestServer
from oms.sim.binance.usdm_symbols import FuturesSymbol


async def _orders_over_the_ws_api() -> None:
    venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")])
    venue.add_account("alice", "10000")
    venue.set_mark_price("BTCUSDT", "50000")
    key, secret = auth.generate_key(auth.KeyType.HMAC, "alice", ["FUTURES"])
    server = FuturesRestServer(venue, auth.KeyStore([key]))
    url = await server.start()
    config = ConfigurationWebSocketAPI(
        api_key=key.api_key, api_secret=secret, stream_url=url.replace("http", "ws") + "/ws-fapi/v1"
    )
    conn = await DerivativesTradingUsdsFutures(config_ws_api=config).websocket_api.create_connection()
    try:
        listen_key = (await conn.start_user_data_stream()).data().result.listen_key
        async with aiohttp.ClientSession() as http:
            private = await http.ws_connect(url.replace("http", "ws") + f"/private/ws/{listen_key}")
            placed = await conn.new_order(
                symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity=0.01, price=49000
            )
            order = placed.data().result
            assert (order.status, order.orig_qty) == ("NEW", "0.01")
            assert {r.rate_limit_type for r in placed.data().rate_limits} >= {"REQUEST_WEIGHT", "ORDERS"}
            modified = await conn.modify_order(
                symbol="BTCUSDT", side="BUY", order_id=order.order_id, quantity=0.02, price=49100
            )
            assert (modified.data().result.orig_qty, modified.data().result.price) == ("0.02", "49100")
            status = (await conn.query_order(symbol="BTCUSDT", order_id=order.order_id)).data().result
            assert status.price == "49100"
            balance = (await conn.futures_account_balance_v2()).data().result
            margin = 0.02 * 49100 / 20
            assert float(balance[0].available_balance) == 10000 - margin
            canceled = (await conn.cancel_order(symbol="BTCUSDT", order_id=order.order_id)).data().result
            assert canceled.status == "CANCELED"
            updates: list[Any] = []
            while len(updates) < 3:
                updates.append((await private.receive_json(timeout=5))["o"]["x"])
            assert updates == ["NEW", "AMENDMENT", "CANCELED"]
            await private.close()
        assert (await conn.close_user_data_stream()).data().result == {}
    finally:
        await conn.close_connection()
        await server.stop()


def test_orders_account_and_user_data_over_the_futures_ws_api() -> None:
    asyncio.run(asyncio.wait_for(_orders_over_the_ws_api(), 60))


async def _algo_orders_over_the_ws_api() -> None:
    venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")])
    venue.add_account("alice", "10000")
    venue.set_mark_price("BTCUSDT", "50000")
    key, secret = auth.generate_key(auth.KeyType.HMAC, "alice", ["FUTURES"])
    server = FuturesRestServer(venue, auth.KeyStore([key]))
    url = await server.start()
    config = ConfigurationWebSocketAPI(
        api_key=key.api_key, api_secret=secret, stream_url=url.replace("http", "ws") + "/ws-fapi/v1"
    )
    conn = await DerivativesTradingUsdsFutures(config_ws_api=config).websocket_api.create_connection()
    try:
        placed = await conn.new_algo_order(
            algo_type="CONDITIONAL",
            symbol="BTCUSDT",
            side="BUY",
            type="STOP_MARKET",
            quantity=0.01,
            trigger_price=52000,
            working_type="MARK_PRICE",
            client_algo_id="breakout",
        )
        algo = placed.data().result
        assert (algo.algo_status, algo.client_algo_id, algo.working_type) == ("NEW", "breakout", "MARK_PRICE")
        assert "ORDERS" in {r.rate_limit_type for r in placed.data().rate_limits}
        canceled = (await conn.cancel_algo_order(algo_id=algo.algo_id)).data().result
        assert (canceled.algo_id, canceled.client_algo_id) == (algo.algo_id, "breakout")
        assert [e["o"]["X"] for e in venue.accounts["alice"].events if e["e"] == "ALGO_UPDATE"] == [
            "NEW",
            "CANCELED",
        ]
    finally:
        await conn.close_connection()
        await server.stop()


def test_algo_orders_over_the_futures_ws_api() -> None:
    asyncio.run(asyncio.wait_for(_algo_orders_over_the_ws_api(), 60))
