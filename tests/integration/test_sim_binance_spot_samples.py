"""Every published Binance Spot sample the simulator can produce has the same field names
(recursively: nested objects and the first item of lists) as the simulator's raw JSON for
the same case: REST bodies, WebSocket API replies, user-data frames and events, market
streams, exchangeInfo. The fields naming the case (``CASE``) must also agree.

``NOT_PRODUCED`` gives the reason for every sample not produced; ``ALLOWED`` names keys a
sample lacks or adds for a reason of its own (documentation quirks, the simulator's
documented scope); ``KNOWN`` pins, exactly, differences that look like simulator gaps,
so the test fails when one changes. A difference is a path: ``a.b`` a key on one side
only, ``a[]`` a list empty on one side only, ``a:dict!=list`` a value of another kind."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import inspect
import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from oms.sim.binance import auth, limits
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.server_thread import ServerThread

FILES = ("spot_order_responses", "spot_user_data_events", "market_data_events", "exchangeInfo_spot_sample")
# reason -> the sample ids it explains
_NOT_PRODUCED = {
    "a request the client sends; the simulator only reads it": "wsapi.order.place.request "
    "wsapi.order.cancel.request wsapi.session.logon.request wsapi.userDataStream.subscribe.request "
    "wsapi.userDataStream.subscribe.signature.request spot.ws.subscribe.request spot.ws.unsubscribe.request",
    "spot listenKeys were retired 2026-02-20; the simulator serves user data on the WS API only": (
        "rest.legacy.userDataStream.POST rest.legacy.userDataStream.PUT "
        "rest.legacy.userDataStream.DELETE legacy.listenKeyExpired"
    ),
    "GET /api/v3/rateLimit/order is not served": "rest.get_rateLimit_order",
    "GET /api/v3/myFilters (where MAX_ASSET shows) is not served": "rest.get_myFilters filter.MAX_ASSET",
    "GET /api/v3/account/commission is not served": "rest.get_account_commission",
    "no deposits, withdrawals or transfers": "current.balanceUpdate legacy.balanceUpdate",
    "no margin or other external locks": "current.externalLockUpdate legacy.externalLockUpdate",
    "never sent: logout and unsubscribe just stop the events": (
        "current.eventStreamTerminated legacy.eventStreamTerminated"
    ),
    "kline, avgPrice and 24hr ticker streams are not served": "spot.ws.kline spot.ws.avgPrice spot.ws.ticker",
    "a 2021 capture in the old schema": "third_party_capture.2021-10-22.BTCUSDT",
    "no raw-request limit is counted": "rateLimit.RAW_REQUESTS",
    "legacy filters, superseded by the listed PERCENT_PRICE_BY_SIDE / NOTIONAL": (
        "filter.PERCENT_PRICE filter.MIN_NOTIONAL"
    ),
    "no iceberg orders": "filter.ICEBERG_PARTS filter.MAX_NUM_ICEBERG_ORDERS",
    "a filter the simulator does not apply, so it never lists it": "filter.MAX_NUM_ALGO_ORDERS "
    "filter.MAX_POSITION filter.MAX_NUM_ORDER_AMENDS filter.MAX_NUM_ORDER_LISTS "
    "filter.EXCHANGE_MAX_NUM_ORDERS filter.EXCHANGE_MAX_NUM_ALGO_ORDERS "
    "filter.EXCHANGE_MAX_NUM_ICEBERG_ORDERS filter.EXCHANGE_MAX_NUM_ORDER_LISTS",
}
NOT_PRODUCED = {sample: why for why, ids in _NOT_PRODUCED.items() for sample in ids.split()}
NO_SOR = "the simulator has no smart order routing (documented)"
NO_LIMITS = "the doc example has no rateLimits; every simulator reply has them (the SDKs need them)"
V_ONLY_ON_STP = "the doc example carries v (preventedMatchId), which is sent only on STP expiries"
OLD_FAQ = "the FAQ's example omits origQuoteOrderQty, which the API reference's order answers carry"
# sample id -> (paths, why the sample itself differs)
ALLOWED = {
    "rest.post_order.MARKET_expired_insufficient_liquidity": ("origQuoteOrderQty", OLD_FAQ),
    "faq.stp.scenarioA.taker_filled_place": ("origQuoteOrderQty", OLD_FAQ),
    "faq.stp.scenarioB.taker_new": ("origQuoteOrderQty", OLD_FAQ),
    "wsapi.order.place.FULL": ("result.selfTradePreventionMode", "left out of this doc block only"),
    "legacy.executionReport.NEW": ("v", V_ONLY_ON_STP),
    "current.executionReport.NEW": ("event.v", V_ONLY_ON_STP),
    "wsapi.order.cancel.single": (
        "result.stopPrice result.trailingDelta result.icebergQty result.strategyId result.strategyType",
        "documented as 'present only if set for the order'",
    ),
    "rest.amend_keepPriority.order_list": ("amendedOrder.workingTime", "the sample's order is not working"),
    "rest.exchangeInfo.doc_skeleton_ETHBTC": (
        "rateLimits.rateLimitType rateLimits.interval rateLimits.intervalNum rateLimits.limit "
        "symbols.filters[] sors[]",
        "the doc's rateLimits/filters are comment placeholders; " + NO_SOR,
    ),
    "wsapi.exchangeInfo.BNBBTC": ("result.sors[]", NO_SOR),
    "wsapi.userDataStream.subscribe.response": ("rateLimits", NO_LIMITS),
    "wsapi.userDataStream.unsubscribe.response": ("rateLimits", NO_LIMITS),
}
# sample id -> (paths, what the simulator does differently): simulator gaps, pinned exactly
KNOWN: dict[str, tuple[str, str]] = {}  # none left: the eight this test first found are fixed
# top-level fields that name the case: ours must have the sample's value
CASE = ("code", "status", "e", "x", "X", "cancelResult", "newOrderResult")


def paths(table: dict[str, tuple[str, str]], sample_id: str) -> set[str]:
    return set(table.get(sample_id, ("", ""))[0].split())


def kind(value: Any) -> str:
    return "dict" if isinstance(value, dict) else "list" if isinstance(value, list) else "value"


def shape_diff(ours: Any, published: Any, path: str = "") -> set[str]:
    """Where the field names differ (see the module docstring)."""
    if kind(ours) != kind(published):
        return {f"{path}:{kind(ours)}!={kind(published)}"}
    if isinstance(ours, list):
        if bool(ours) != bool(published):
            return {f"{path}[]"}
        return shape_diff(ours[0], published[0], path) if ours else set()
    if not isinstance(ours, dict):
        return set()
    prefix = f"{path}." if path else ""
    out = {prefix + k for k in set(ours) ^ set(published)}
    for k in set(ours) & set(published):
        out |= shape_diff(ours[k], published[k], prefix + k)
    return out


class Sim:
    """BTCUSDT; ``mm`` and ``alice`` with HMAC keys, ``ed`` an Ed25519 key of alice's."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
        for name in ("mm", "alice"):
            self.venue.add_account(name, {"BTC": "10", "USDT": "1000000"})
        self.keys = {n: auth.generate_key(auth.KeyType.HMAC, n, ["SPOT"]) for n in ("mm", "alice")}
        self.keys["ed"] = auth.generate_key(auth.KeyType.ED25519, "alice", ["SPOT"])
        self.server = SpotRestServer(self.venue, auth.KeyStore(k for k, _ in self.keys.values()))
        self.running: ServerThread | None = ServerThread(self.server)
        self.url = self.running.url

    def close(self) -> None:
        running, self.running = self.running, None
        if running is not None:
            running.close()

    def call(self, who: str, method: str, path: str, params: dict[str, str] | None = None) -> Any:
        """A raw request, HMAC-signed unless ``who`` is empty; the JSON body, whatever the status."""
        query = urllib.parse.urlencode(params or {})
        headers = {}
        if who:
            key, secret = self.keys[who]
            query += ("&" if query else "") + f"timestamp={int(time.time() * 1000)}"
            query += "&signature=" + hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
            headers["X-MBX-APIKEY"] = key.api_key
        request = urllib.request.Request(f"{self.url}{path}?{query}", method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            return json.loads(err.read())

    def order(self, who: str, side: str, qty: str, price: str = "", **extra: str) -> Any:
        params = {"symbol": "BTCUSDT", "side": side, "type": "LIMIT" if price else "MARKET"}
        params |= {"timeInForce": "GTC", "price": price} if price else {}
        return self.call(who, "POST", "/api/v3/order", params | {"quantity": qty} | extra)

    def oco_limit_leg(self, who: str) -> Any:
        """Place a sell OCO (LIMIT_MAKER 0.5 @ 52000, STOP_LOSS_LIMIT 48000/47900); its LIMIT_MAKER leg."""
        params = {"symbol": "BTCUSDT", "side": "SELL", "quantity": "0.5", "aboveType": "LIMIT_MAKER"}
        params |= {"abovePrice": "52000", "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "48000"}
        params |= {"belowPrice": "47900", "belowTimeInForce": "GTC"}
        placed = self.call(who, "POST", "/api/v3/orderList/oco", params)
        return next(r for r in placed["orderReports"] if r["type"] == "LIMIT_MAKER")

    def ws_url(self, path: str) -> str:
        return self.url.replace("http", "ws", 1) + path


class WsApi:
    """One /ws-api/v3 connection: replies by request id; every other frame kept in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, key: auth.ApiKey, secret: str) -> None:
        self.ws, self.key, self.secret = ws, key, secret
        self.frames: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    async def __call__(self, method: str, params: dict[str, Any] | None = None, sign: bool = True) -> Any:
        """Signed: apiKey, timestamp and the signature over the params sorted by name."""
        params = dict(params or {})
        if sign:
            params |= {"apiKey": self.key.api_key, "timestamp": int(time.time() * 1000)}
            text = {k: json.dumps(v) if isinstance(v, bool) else str(v) for k, v in params.items()}
            payload = "&".join(f"{k}={v}" for k, v in sorted(text.items())).encode()
            if self.key.key_type is auth.KeyType.HMAC:
                params["signature"] = hmac.new(self.secret.encode(), payload, hashlib.sha256).hexdigest()
            else:
                private = serialization.load_pem_private_key(self.secret.encode(), None)
                assert isinstance(private, ed25519.Ed25519PrivateKey)
                params["signature"] = base64.b64encode(private.sign(payload)).decode()
        request_id = next(self._ids)
        await self.ws.send_json({"id": request_id, "method": method, "params": params})
        while (frame := await self.ws.receive_json(timeout=5)).get("id") != request_id:
            self.frames.append(frame)
        return frame


# ---- producers: each drives a fresh simulator and returns {sample id: our JSON} ----


def rest_orders(sim: Sim) -> dict[str, Any]:
    out = {"rest.post_order.ACK": sim.order("mm", "SELL", "1", "50000", newOrderRespType="ACK")}
    resting = sim.order("mm", "SELL", "1", "50100", newOrderRespType="RESULT")
    out["rest.post_order.RESULT"] = sim.order("alice", "BUY", "0.1", newOrderRespType="RESULT")
    out["rest.post_order.FULL"] = sim.order("alice", "BUY", "0.1")
    test = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"}
    out["rest.post_order_test.empty"] = sim.call("alice", "POST", "/api/v3/order/test", test)
    test["computeCommissionRates"] = "true"
    out["rest.post_order_test.with_commission"] = sim.call("alice", "POST", "/api/v3/order/test", test)
    one, symbol = {"symbol": "BTCUSDT", "orderId": str(resting["orderId"])}, {"symbol": "BTCUSDT"}
    out["rest.get_order"] = sim.call("mm", "GET", "/api/v3/order", one)
    out["rest.get_openOrders"] = sim.call("mm", "GET", "/api/v3/openOrders", symbol)
    out["rest.get_allOrders"] = sim.call("mm", "GET", "/api/v3/allOrders", symbol)
    out["rest.get_myTrades"] = sim.call("alice", "GET", "/api/v3/myTrades", symbol)
    out["rest.get_account"] = sim.call("alice", "GET", "/api/v3/account")
    refused = {"BAD": "invalid_cancelRestrictions", "ONLY_PARTIALLY_FILLED": "cancelRestrictions_not_met"}
    for restriction, case in refused.items():
        restricted = one | {"cancelRestrictions": restriction}
        out[f"rest.delete_order.error_{case}"] = sim.call("mm", "DELETE", "/api/v3/order", restricted)
    out["rest.delete_order"] = sim.call("mm", "DELETE", "/api/v3/order", one)
    out["rest.error.generic"] = sim.call("mm", "GET", "/api/v3/order", one | {"symbol": "NOPE"})
    out["rest.get_time"] = sim.call("", "GET", "/api/v3/time")
    out["rest.get_ping"] = sim.call("", "GET", "/api/v3/ping")
    sim.order("alice", "BUY", "0.1", "40000")
    sim.oco_limit_leg("alice")
    out["rest.delete_openOrders"] = sim.call("alice", "DELETE", "/api/v3/openOrders", symbol)
    return out


def cancel_replace(sim: Sim) -> dict[str, Any]:
    def replace(order_id: Any, mode: str = "STOP_ON_FAILURE", **extra: str) -> Any:
        params = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC"}
        params |= {"quantity": "0.1", "price": "52000", "cancelReplaceMode": mode}
        params |= {"cancelOrderId": str(order_id)} | extra
        return sim.call("mm", "POST", "/api/v3/order/cancelReplace", params)

    sim.order("mm", "BUY", "0.1", "49000")
    success = replace(sim.order("mm", "SELL", "0.1", "51000")["orderId"])
    gone = success["newOrderResponse"]["orderId"]  # canceled by the next request
    taking = {"type": "LIMIT_MAKER", "price": "48000", "timeInForce": ""}  # would take the 49000 bid
    out = {
        "rest.cancelReplace.success": success,
        "rest.cancelReplace.cancel_ok_new_failed": replace(gone, **taking),
        "rest.cancelReplace.stop_on_failure.cancel_failed": replace(gone, **taking),
        "rest.cancelReplace.allow_failure.both_failed": replace(gone, "ALLOW_FAILURE", **taking),
        "rest.cancelReplace.allow_failure.cancel_failed_new_ok": replace(
            gone, "ALLOW_FAILURE", newOrderRespType="ACK"
        ),
    }
    sim.server.limits = limits.RequestLimits(limits.Limits(orders_per_10s=1))
    resting = sim.order("mm", "SELL", "0.1", "51000")["orderId"]
    out["rest.cancelReplace.do_nothing.order_count_exceeded"] = replace(resting)
    only = replace(resting, orderRateLimitExceededMode="CANCEL_ONLY")
    out["rest.cancelReplace.cancel_only.order_count_exceeded"] = only
    return out


def amend_and_stp(sim: Sim) -> dict[str, Any]:
    def amend(who: str, order_id: Any, qty: str) -> Any:
        params = {"symbol": "BTCUSDT", "orderId": str(order_id), "newQty": qty}
        return sim.call(who, "PUT", "/api/v3/order/amend/keepPriority", params)

    def get(order_id: Any) -> Any:
        return sim.call("mm", "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": str(order_id)})

    single = amend("mm", sim.order("mm", "SELL", "1", "60000")["orderId"], "0.5")
    in_list = amend("alice", sim.oco_limit_leg("alice")["orderId"], "0.4")
    out = {"rest.amend_keepPriority.single": single, "rest.amend_keepPriority.order_list": in_list}
    # the STP FAQ: A) a NONE self-match fills; B) EXPIRE_MAKER expires the resting maker
    maker = sim.order("mm", "BUY", "0.1", "49000", selfTradePreventionMode="NONE")["orderId"]
    taker = sim.order("mm", "SELL", "0.1", "49000", selfTradePreventionMode="NONE")
    out |= {"faq.stp.scenarioA.taker_filled_place": taker, "faq.stp.scenarioA.maker_filled_query": get(maker)}
    maker = sim.order("mm", "BUY", "0.1", "48000")["orderId"]
    taker = sim.order("mm", "SELL", "0.2", "48000", selfTradePreventionMode="EXPIRE_MAKER")
    out |= {"faq.stp.scenarioB.taker_new": taker, "faq.stp.scenarioB.maker_expired_in_match": get(maker)}
    return out


def market_expired(sim: Sim) -> dict[str, Any]:
    """The market-order FAQ: a buy for more than the book holds trades twice, then expires."""
    for price in ("50000", "50001"):
        sim.order("mm", "SELL", "0.002", price)
    out = {"rest.post_order.MARKET_expired_insufficient_liquidity": sim.order("alice", "BUY", "0.006")}
    events = list(sim.venue.accounts["alice"].events)
    out["faq.market_order_expired.sequence"] = events
    reports = ("NEW.NEW", "TRADE.PARTIALLY_FILLED", "TRADE.PARTIALLY_FILLED", "EXPIRED.EXPIRED")
    names = [f"{i}.executionReport.{r}" for i, r in enumerate(reports)] + ["4.outboundAccountPosition"]
    out |= {f"faq.market_order_expired.{n}": e for n, e in zip(names, events, strict=True)}
    out |= {"legacy.executionReport.NEW": events[0], "legacy.outboundAccountPosition": events[-1]}
    return out


def exchange_info(sim: Sim) -> dict[str, Any]:
    info = sim.call("", "GET", "/api/v3/exchangeInfo")
    out = {"rest.exchangeInfo.doc_skeleton_ETHBTC": info}
    out["RECONSTRUCTED.ETHBTC_with_all_documented_filters"] = info["symbols"][0]
    out |= {f"filter.{f['filterType']}": f for f in info["symbols"][0]["filters"]}
    out |= {f"rateLimit.{r['rateLimitType']}": r for r in info["rateLimits"]}
    return out


async def ws_api(sim: Sim) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:
        mm = WsApi(await http.ws_connect(sim.ws_url("/ws-api/v3")), *sim.keys["mm"])
        alice = WsApi(await http.ws_connect(sim.ws_url("/ws-api/v3")), *sim.keys["ed"])
        out["wsapi.session.logon.response"] = await alice("session.logon", {"returnRateLimits": False})
        out["wsapi.userDataStream.subscribe.response"] = await alice("userDataStream.subscribe", sign=False)
        sell = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC"}
        sell |= {"quantity": "0.1", "price": "50000"}
        out["wsapi.order.place.ACK"] = await mm("order.place", sell | {"newOrderRespType": "ACK"})
        placed = await mm("order.place", sell | {"newOrderRespType": "RESULT"})
        out["wsapi.order.place.RESULT"] = out["wsapi.response.success_order_place_RESULT"] = placed

        async def session(method: str, **params: Any) -> Any:  # logged on: timestamp only
            return await alice(method, params | {"timestamp": int(time.time() * 1000)}, sign=False)

        buy = sell | {"side": "BUY", "quantity": "0.15"}
        out["wsapi.order.place.FULL"] = await session("order.place", **buy)  # fills 0.1, rests 0.05
        resting = (await session("order.place", **buy | {"price": "40000"}))["result"]["orderId"]
        out["wsapi.order.cancel.single"] = await session("order.cancel", symbol="BTCUSDT", orderId=resting)
        too_much = buy | {"quantity": "1000", "price": "40000"}
        out["wsapi.response.failed_insufficient_balance"] = await session("order.place", **too_much)
        leg = sim.oco_limit_leg("alice")["orderId"]
        out["wsapi.order.cancel.order_list"] = await session("order.cancel", symbol="BTCUSDT", orderId=leg)
        unsubscribed = await alice("userDataStream.unsubscribe", sign=False)
        out["wsapi.userDataStream.unsubscribe.response"] = unsubscribed
        frames = {(f["event"]["e"], f["event"].get("x")): f for f in reversed(alice.frames)}  # 1st of each
        out["current.executionReport.NEW"] = frames["executionReport", "NEW"]
        out["current.outboundAccountPosition"] = frames["outboundAccountPosition", None]
        out["current.event_format_example"] = frames["outboundAccountPosition", None]
        out["current.listStatus"] = frames["listStatus", None]
        out["legacy.listStatus"] = frames["listStatus", None]["event"]
        time_only = await mm("time", {"returnRateLimits": False}, sign=False)
        out["wsapi.response.time_without_ratelimits"] = time_only
        out["wsapi.exchangeInfo.BNBBTC"] = await mm("exchangeInfo", sign=False)
        sim.server.ws_api.limits = limits.RequestLimits(limits.Limits(weight_per_minute=1))
        for _ in range(limits.BAN_AFTER_429S + 3):
            if (reply := await mm("ping", sign=False))["status"] == 418:
                out["wsapi.response.ip_banned_418"] = reply
                break
    return out


async def market_streams(sim: Sim) -> dict[str, Any]:
    names = ["btcusdt@depth", "btcusdt@depth5", "btcusdt@trade", "btcusdt@aggTrade", "btcusdt@bookTicker"]
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(sim.ws_url("/stream"))
        await ws.send_json({"method": "SUBSCRIBE", "params": names, "id": 1})
        out["spot.ws.subscribe.response"] = await ws.receive_json(timeout=5)
        for side, price in (("BUY", "49000"), ("SELL", "50000"), ("SELL", "51000")):
            sim.order("mm", side, "0.1", price)
        sim.order("alice", "BUY", "0.15", "50000")  # takes the 50000 ask and rests: a two-sided diff
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 3})  # answered after the events
        data: dict[str, Any] = {}
        while (frame := await ws.receive_json(timeout=5)).get("id") != 3:
            data[frame["stream"]] = frame["data"]  # the last of each stream
        out["spot.ws.list_subscriptions.response"] = frame
    streams = ("depth_diff", "depth_partial", "trade", "aggTrade", "bookTicker")
    out |= {f"spot.ws.{stream}": data[name] for stream, name in zip(streams, names, strict=True)}
    public = "depth:depth bookTicker.single:ticker/bookTicker ticker_price.single:ticker/price "
    public += "trades:trades aggTrades:aggTrades avgPrice:avgPrice"
    for sample, path in (pair.split(":") for pair in public.split()):
        out[f"spot.rest.{sample}"] = sim.call("", "GET", f"/api/v3/{path}", {"symbol": "BTCUSDT"})
    out["spot.rest.bookTicker.multi"] = sim.call("", "GET", "/api/v3/ticker/bookTicker")
    return out


async def server_shutdown(sim: Sim) -> dict[str, Any]:
    routes = {"wsapi.serverShutdown": "/ws-api/v3", "spot.ws.serverShutdown.raw": "/ws/btcusdt@trade"}
    routes["spot.ws.serverShutdown.combined"] = "/stream?streams=btcusdt@trade"
    async with aiohttp.ClientSession() as http:
        sockets = {name: await http.ws_connect(sim.ws_url(path)) for name, path in routes.items()}
        await asyncio.to_thread(sim.close)  # the frame goes out, then the server stops
        return {name: await ws.receive_json(timeout=5) for name, ws in sockets.items()}


Producer = Callable[[Sim], Any]
PRODUCERS: list[Producer] = [rest_orders, cancel_replace, amend_and_stp, market_expired, exchange_info]
PRODUCERS += [ws_api, market_streams, server_shutdown]


@pytest.fixture(scope="module")
def samples(shared_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in FILES:
        data = json.loads((shared_dir / f"reference/binance/{name}.json").read_text())
        out |= {s["id"]: s["json"] for s in data["samples"] if not s["id"].startswith("futures.")}
    return out


@pytest.fixture(scope="module")
def produced() -> dict[str, dict[str, Any]]:
    """Producer name -> what it produced (filled by the shape test, else by the inventory)."""
    return {}


def produce(producer: Producer) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        sim = Sim(monkeypatch)
        try:
            ours = producer(sim)
            if inspect.isawaitable(ours):
                ours = asyncio.run(asyncio.wait_for(ours, 10))
            return cast(dict[str, Any], ours)
        finally:
            sim.close()


@pytest.mark.parametrize("producer", PRODUCERS, ids=lambda p: p.__name__)
def test_simulator_json_has_the_published_fields(
    producer: Producer, samples: dict[str, Any], produced: dict[str, dict[str, Any]]
) -> None:
    ours = produced[producer.__name__] = produce(producer)
    found, expected = {}, {}
    for sample_id, answer in ours.items():
        published = samples[sample_id]
        diff = shape_diff(answer, published) - paths(ALLOWED, sample_id)
        if isinstance(answer, dict) and isinstance(published, dict):
            diff |= {
                f"{k}={answer[k]}" for k in CASE if k in answer and answer[k] != published.get(k, answer[k])
            }
        found[sample_id], expected[sample_id] = sorted(diff), sorted(paths(KNOWN, sample_id))
    assert found == expected


def test_every_spot_sample_is_checked_or_listed(
    samples: dict[str, Any], produced: dict[str, dict[str, Any]]
) -> None:
    for producer in PRODUCERS:
        if producer.__name__ not in produced:
            produced[producer.__name__] = produce(producer)
    covered = [sample_id for ours in produced.values() for sample_id in ours]
    assert len(covered) == len(set(covered)), "each sample is produced once"
    assert not set(covered) & set(NOT_PRODUCED)
    assert set(covered) | set(NOT_PRODUCED) == set(samples)
    assert set(ALLOWED) | set(KNOWN) <= set(covered)
