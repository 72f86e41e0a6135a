"""Protocol details a raw client sees: signatures over the query exactly as sent,
errors always as Binance JSON, strict admin settings, stream shutdown frames."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from oms.sim.binance import auth
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol

KEY = auth.hmac_key("rawkey", "rawsecret", "alice", ["SPOT"])
NON_ASCII = "\uff11\uff12\uff13"  # fullwidth digits, as in Binance's own signature example


async def _scenario() -> dict[str, Any]:
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
    venue.add_account("alice", {"USDT": "1000"})
    server = SpotRestServer(venue, auth.KeyStore([KEY]))
    url = await server.start()
    out: dict[str, Any] = {}
    try:
        async with aiohttp.ClientSession(headers={"X-MBX-APIKEY": KEY.api_key}) as http:
            query = f"symbol={quote(NON_ASCII, safe='')}&orderId=1&timestamp={int(time.time() * 1000)}"
            encoded = hmac.new(b"rawsecret", query.encode(), hashlib.sha256).hexdigest()
            decoded = hmac.new(
                b"rawsecret", query.replace(quote(NON_ASCII, safe=""), NON_ASCII).encode(), hashlib.sha256
            ).hexdigest()
            for name, signature in (("encoded", encoded), ("decoded", decoded)):
                target = URL(f"{url}/api/v3/order?{query}&signature={signature}", encoded=True)
                async with http.get(target) as response:
                    out[name] = await response.json()
            async with http.get(
                f"{url}/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "abc"}
            ) as response:
                out["bad_limit"] = (response.status, response.content_type, await response.json())
            async with http.post(f"{url}/admin/faults", json={"rate_limit_storm": "false"}) as response:
                out["string_bool"] = response.status
            async with http.post(f"{url}/admin/faults", json=[1]) as response:
                out["not_object"] = response.status
            ws = await http.ws_connect(url.replace("http", "ws") + "/stream?streams=btcusdt@trade")
            stopping = asyncio.create_task(server.stop())
            out["shutdown"] = await ws.receive_json(timeout=5)
            await stopping
    finally:
        await server.stop()
    return out


def test_protocol_details() -> None:
    out = asyncio.run(asyncio.wait_for(_scenario(), 30))
    assert out["encoded"] == {"code": -1121, "msg": "Invalid symbol."}, (
        "signature over the percent-encoded query passes"
    )
    assert out["decoded"] == {"code": -1022, "msg": "Signature for this request is not valid."}
    status, content_type, body = out["bad_limit"]
    assert (status, content_type, body["code"]) == (400, "application/json", -1100)
    assert (out["string_bool"], out["not_object"]) == (400, 400)
    assert out["shutdown"] == {
        "stream": "!serverShutdown",
        "data": {"e": "serverShutdown", "E": out["shutdown"]["data"]["E"]},
    }
