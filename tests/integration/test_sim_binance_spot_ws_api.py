"""The official Binance Spot SDK's WebSocket API against the simulator: Ed25519
session logon, order entry, and user data through the WebSocket API subscription
(the only way spot user data flows since the REST listenKey was retired)."""

from __future__ import annotations

import asyncio
from typing import Any

from binance_common.configuration import ConfigurationWebSocketAPI
from binance_sdk_spot.spot import Spot

from oms.sim.binance import auth
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol


def make_sim() -> tuple[SpotRestServer, dict[str, tuple[auth.ApiKey, str]]]:
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
    venue.add_account("alice", {"BTC": "2", "USDT": "200000"})
    venue.add_account("mm", {"BTC": "10", "USDT": "1000000"})
    keys = {
        "ed": auth.generate_key(auth.KeyType.ED25519, "alice", ["SPOT"]),
        "hmac": auth.generate_key(auth.KeyType.HMAC, "alice", ["SPOT"]),
        "mm": auth.generate_key(auth.KeyType.HMAC, "mm", ["SPOT"]),
    }
    return SpotRestServer(venue, auth.KeyStore(k for k, _ in keys.values())), keys


def ws_client(url: str, key: auth.ApiKey, secret: str) -> Spot:
    config: dict[str, Any] = {"api_key": key.api_key, "stream_url": url.replace("http", "ws") + "/ws-api/v3"}
    config["api_secret" if key.key_type is auth.KeyType.HMAC else "private_key"] = secret
    return Spot(config_ws_api=ConfigurationWebSocketAPI(**config))


async def _session_logon_orders_and_user_data() -> None:
    server, keys = make_sim()
    url = await server.start()
    try:
        maker = await ws_client(url, *keys["mm"]).websocket_api.create_connection()
        placed = await maker.order_place(
            symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", quantity="0.5", price="50000"
        )
        assert placed.data().result.status == "NEW"
        assert {r.rate_limit_type for r in placed.data().rate_limits} == {"ORDERS", "REQUEST_WEIGHT"}

        alice = await ws_client(url, *keys["ed"]).websocket_api.create_connection()
        logon = await alice.session_logon()
        assert logon.data().result.api_key == keys["ed"][0].api_key
        subscription = await alice.user_data_stream_subscribe()
        events: list[Any] = []
        subscription.stream.on("message", events.append)
        order = await alice.order_place(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            time_in_force="GTC",
            quantity="0.2",
            price="50000",
            new_client_order_id="ws-1",
        )
        result = order.data().result
        assert (result.status, result.executed_qty, result.cummulative_quote_qty) == (
            "FILLED",
            "0.20000000",
            "10000.00000000",
        )
        for _ in range(50):
            if len(events) >= 3:
                break
            await asyncio.sleep(0.02)
        reports = [e.actual_instance for e in events]
        kinds = [(type(r).__name__, getattr(r, "x", None)) for r in reports]
        assert kinds == [
            ("ExecutionReport", "NEW"),
            ("ExecutionReport", "TRADE"),
            ("OutboundAccountPosition", None),
        ]
        trade = reports[1]
        assert (trade.c, trade.z, trade.Z, trade.X) == (
            "ws-1",
            result.executed_qty,
            result.cummulative_quote_qty,
            "FILLED",
        )
        await alice.close_connection()
        await maker.close_connection()
    finally:
        await server.stop()


def test_session_logon_orders_and_user_data() -> None:
    asyncio.run(asyncio.wait_for(_session_logon_orders_and_user_data(), 30))


async def _errors_and_signature_subscription() -> None:
    server, keys = make_sim()
    url = await server.start()
    try:
        hmac_conn = await ws_client(url, *keys["hmac"]).websocket_api.create_connection()
        refused = await hmac_conn.session_logon()
        assert refused.data()["error"] == {"code": -4056, "msg": "Invalid api key type."}
        bad = await hmac_conn.order_place(symbol="NOPE", side="BUY", type="MARKET", quantity="1")
        assert bad.data()["error"] == {"code": -1121, "msg": "Invalid symbol."}
        subscription = await hmac_conn.user_data_stream_subscribe_signature()
        assert subscription.response.data().result.subscription_id == 0
        await hmac_conn.close_connection()
    finally:
        await server.stop()


def test_errors_keep_binance_codes_and_any_key_can_subscribe_by_signature() -> None:
    asyncio.run(asyncio.wait_for(_errors_and_signature_subscription(), 30))
