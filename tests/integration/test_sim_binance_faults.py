"""Fault injection: each knob produces the documented behaviour, as the official SDK
(or a raw client, for streams) experiences it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from binance_common.configuration import ConfigurationRestAPI
from binance_common.errors import (
    BadRequestError,
    NetworkError,
    RateLimitBanError,
    ServerError,
    TooManyRequestsError,
)
from binance_sdk_spot.spot import Spot

from oms.sim.binance import auth
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.server_thread import ServerThread


class Sim:
    def __init__(self) -> None:
        self.venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
        self.venue.add_account("alice", {"BTC": "2", "USDT": "200000"})
        self.venue.add_account("bob", {"BTC": "2", "USDT": "200000"})
        self.key, self.secret = auth.generate_key(auth.KeyType.HMAC, "alice", ["SPOT"])
        self.bob_key, self.bob_secret = auth.generate_key(auth.KeyType.HMAC, "bob", ["SPOT"])
        self.server = SpotRestServer(self.venue, auth.KeyStore([self.key, self.bob_key]))
        self.running = ServerThread(self.server)
        self.url = self.running.url

    def faults(self, **settings: Any) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/admin/faults", data=json.dumps(settings).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def client(self, timeout_ms: int = 5000, bob: bool = False) -> Any:
        key, secret = (self.bob_key, self.bob_secret) if bob else (self.key, self.secret)
        config = ConfigurationRestAPI(
            api_key=key.api_key,
            api_secret=secret,
            base_path=self.url,
            timeout=timeout_ms,
            retries=0,
        )
        return Spot(config_rest_api=config).rest_api

    def close(self) -> None:
        self.running.close()


@pytest.fixture
def sim() -> Iterator[Sim]:
    s = Sim()
    try:
        yield s
    finally:
        s.close()


def place(client: Any, client_id: str) -> Any:
    return client.new_order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        time_in_force="GTC",
        quantity="0.1",
        price="40000",
        new_client_order_id=client_id,
    )


def test_unknown_outcome_the_order_is_on_the_book_though_the_sdk_saw_a_503(sim: Sim) -> None:
    sim.faults(unknown_after_accept=1.0)
    client = sim.client()
    with pytest.raises(ServerError) as caught:
        place(client, "u-1")
    assert caught.value.status_code == 503  # the SDK drops Binance's -1007: see docs/notes
    sim.faults(unknown_after_accept=0.0)
    assert client.get_order(symbol="BTCUSDT", orig_client_order_id="u-1").data().status == "NEW"


def test_unexpected_response_and_a_dropped_connection_are_unknown_outcomes_too(sim: Sim) -> None:
    """-1006 (HTTP 500) and a connection closed without an answer: the order is there."""
    client = sim.client()
    sim.faults(unexpected_after_accept=1.0)
    with pytest.raises(ServerError) as caught:
        place(client, "x-1")
    assert caught.value.status_code == 500
    sim.faults(unexpected_after_accept=0.0, disconnect_after_accept=1.0)
    with pytest.raises(Exception) as dropped:
        place(client, "x-2")
    assert not isinstance(dropped.value, (BadRequestError, ServerError)), "no HTTP answer at all"
    sim.faults(disconnect_after_accept=0.0)
    for client_id in ("x-1", "x-2"):
        assert client.get_order(symbol="BTCUSDT", orig_client_order_id=client_id).data().status == "NEW"


def test_order_faults_apply_to_the_websocket_api(sim: Sim) -> None:
    """Over /ws-api/v3: -1007 in the reply, a reply held past the client's patience, and
    a socket closed unanswered; each order is on the book."""

    async def request(ws: aiohttp.ClientWebSocketResponse, client_id: str) -> dict[str, Any]:
        params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
        params |= {"quantity": "0.1", "price": "40000", "newClientOrderId": client_id}
        params |= {"apiKey": sim.key.api_key, "timestamp": int(time.time() * 1000)}
        payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        params["signature"] = hmac.new(sim.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        await ws.send_json({"id": client_id, "method": "order.place", "params": params})
        return await ws.receive_json(timeout=5)  # type: ignore[no-any-return]

    async def scenario() -> tuple[dict[str, Any], bool, bool]:
        url = sim.url.replace("http", "ws") + "/ws-api/v3"
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(url)
            sim.faults(unknown_after_accept=1.0)
            unknown = await request(ws, "w-1")
            sim.faults(unknown_after_accept=0.0, stall_after_accept_ms=1500)
            try:
                await asyncio.wait_for(request(ws, "w-2"), 0.3)
                stalled = False
            except TimeoutError:
                stalled = True
            sim.faults(stall_after_accept_ms=0, disconnect_after_accept=1.0)
            ws = await http.ws_connect(url)
            try:
                await request(ws, "w-3")
                closed = False
            except (TypeError, aiohttp.ClientError, ConnectionError):  # receive_json on a CLOSE frame
                closed = True
            closed = closed or ws.closed
            sim.faults(disconnect_after_accept=0.0)
            return unknown, stalled, closed

    unknown, stalled, closed = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert (unknown["status"], unknown["error"]["code"]) == (503, -1007)
    assert stalled and closed
    client = sim.client()
    for client_id in ("w-1", "w-2", "w-3"):
        assert client.get_order(symbol="BTCUSDT", orig_client_order_id=client_id).data().status == "NEW"


def test_a_stalled_answer_times_out_yet_the_order_exists(sim: Sim) -> None:
    sim.faults(stall_after_accept_ms=1500)
    with pytest.raises(NetworkError):
        place(sim.client(timeout_ms=300), "s-1")
    sim.faults(stall_after_accept_ms=0)
    assert sim.client().get_order(symbol="BTCUSDT", orig_client_order_id="s-1").data().status == "NEW"


def test_a_failure_before_acceptance_leaves_nothing(sim: Sim) -> None:
    sim.faults(fail_before_accept=1.0)
    client = sim.client()
    with pytest.raises(ServerError) as caught:
        place(client, "f-1")
    assert caught.value.status_code == 500
    sim.faults(fail_before_accept=0.0)
    with pytest.raises(BadRequestError) as missing:
        client.get_order(symbol="BTCUSDT", orig_client_order_id="f-1")
    assert missing.value.status_code == -2013


def test_rate_limit_storm_then_ban_and_clock_skew(sim: Sim) -> None:
    client = sim.client()
    sim.faults(rate_limit_storm=True)
    for _ in range(4):
        with pytest.raises(TooManyRequestsError) as caught:
            client.get_account()
        assert caught.value.status_code == -1003
    with pytest.raises(RateLimitBanError) as banned:
        client.get_account()
    assert "banned" in banned.value.error_message
    sim.server.limits = type(sim.server.limits)()
    sim.faults(rate_limit_storm=False, clock_skew_ms=-20_000)
    with pytest.raises(BadRequestError) as skewed:
        client.get_account()
    assert skewed.value.status_code == -1021
    assert "ahead of the server's time" in skewed.value.error_message
    with pytest.raises(urllib.error.HTTPError):
        sim.faults(no_such_fault=1)


def test_dropped_depth_updates_leave_a_gap_and_disconnect_drops_sockets(sim: Sim) -> None:
    sim.faults(drop_depth_updates=1.0)

    async def scenario() -> tuple[list[str], int, bool]:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(
                sim.url.replace("http", "ws") + "/stream?streams=btcusdt@depth/btcusdt@trade"
            )
            client = sim.client()
            await asyncio.to_thread(place, client, "d-1")
            await asyncio.to_thread(
                sim.client(bob=True).new_order, symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.05"
            )
            streams = []
            while len(streams) < 1:
                streams.append((await ws.receive_json(timeout=5))["stream"])
            async with http.post(f"{sim.url}/admin/disconnect") as response:
                closed = (await response.json())["closed"]
            message = await ws.receive(timeout=5)
            return streams, closed, message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)

    streams, closed, was_closed = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert streams == ["btcusdt@trade"], "the depth diffs were dropped, trades still flow"
    assert closed == 1 and was_closed


def test_reordered_depth_updates_arrive_out_of_order(sim: Sim) -> None:
    """With the reorder fault on, each held diff arrives right after the one that follows
    it: a client sees ``u`` go backwards and must resynchronise."""
    sim.faults(reorder_depth_updates=1.0)

    async def scenario() -> list[int]:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(sim.url.replace("http", "ws") + "/stream?streams=btcusdt@depth")
            client = sim.client()
            for i in range(4):
                await asyncio.to_thread(place, client, f"r-{i}")
            return [(await ws.receive_json(timeout=5))["data"]["u"] for _ in range(4)]

    ids = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert ids == [ids[1] + 1, ids[1], ids[1] + 3, ids[1] + 2]
