"""The official Binance Spot SDK against the simulator's REST API on loopback:
signed requests with HMAC, Ed25519 and RSA keys, Binance's errors as the SDK sees them,
and the usage headers it parses."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from binance_common.configuration import ConfigurationRestAPI
from binance_common.errors import BadRequestError, TooManyRequestsError, UnauthorizedError
from binance_sdk_spot.spot import Spot

from oms.sim.binance import auth
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.server_thread import ServerThread


@dataclass
class Sim:
    url: str
    venue: SpotExchange
    server: SpotRestServer
    keys: dict[str, tuple[auth.ApiKey, str]]


@pytest.fixture
def sim() -> Iterator[Sim]:
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
    venue.add_account("alice", {"BTC": "2", "USDT": "200000"})
    venue.add_account("mm", {"BTC": "10", "USDT": "1000000"})
    keys = {kind.value: auth.generate_key(kind, "alice", ["SPOT"]) for kind in auth.KeyType}
    keys["mm"] = auth.generate_key(auth.KeyType.HMAC, "mm", ["SPOT"])
    server = SpotRestServer(venue, auth.KeyStore(k for k, _ in keys.values()))
    running = ServerThread(server)
    try:
        yield Sim(running.url, venue, server, keys)
    finally:
        running.close()


def client(sim: Sim, who: str) -> Spot:
    key, secret = sim.keys[who]
    config = {"api_key": key.api_key, "base_path": sim.url, "timeout": 5000, "retries": 0}
    if key.key_type is auth.KeyType.HMAC:
        config["api_secret"] = secret
    else:
        config["private_key"] = secret
    return Spot(config_rest_api=ConfigurationRestAPI(**config))  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["HMAC", "ED25519", "RSA"])
def test_signed_orders_with_every_key_type(sim: Sim, kind: str) -> None:
    mm = client(sim, "mm").rest_api
    mm.new_order(
        symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", quantity="0.5", price="50000"
    )
    alice = client(sim, kind).rest_api
    response = alice.new_order(
        symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.2", new_client_order_id="a-1"
    )
    data = response.data()
    assert (data.status, data.executed_qty, data.cummulative_quote_qty) == (
        "FILLED",
        "0.20000000",
        "10000.00000000",
    )
    assert data.fills[0].commission_asset == "BTC"
    limits = {(r.rateLimitType, r.intervalNum, r.interval): r.count for r in response.rate_limits}
    assert limits[("REQUEST_WEIGHT", 1, "MINUTE")] >= 1
    assert limits[("ORDERS", 10, "SECOND")] == 1
    queried = alice.get_order(symbol="BTCUSDT", orig_client_order_id="a-1").data()
    assert (queried.status, queried.order_id) == ("FILLED", data.order_id)
    balances = {b.asset: b.free for b in alice.get_account().data().balances}
    assert balances["BTC"] == "2.19980000"


def test_binance_errors_reach_the_sdk_with_their_codes(sim: Sim) -> None:
    alice = client(sim, "HMAC").rest_api
    with pytest.raises(BadRequestError) as caught:
        alice.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity="1", price="0.001"
        )
    assert (caught.value.status_code, caught.value.error_message) == (-1013, "Filter failure: PRICE_FILTER")
    with pytest.raises(BadRequestError) as caught:
        alice.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity=0.00001, price=50000
        )
    assert caught.value.status_code == -1100, "floats go out as 1e-05, which Binance refuses"
    with pytest.raises(BadRequestError) as caught:
        alice.get_order(symbol="NOPE", order_id=1)
    assert (caught.value.status_code, caught.value.error_message) == (-1121, "Invalid symbol.")


def test_wrong_secret_and_unknown_key(sim: Sim) -> None:
    key, _ = sim.keys["HMAC"]
    forged = Spot(
        config_rest_api=ConfigurationRestAPI(
            api_key=key.api_key, api_secret="not-the-secret", base_path=sim.url, timeout=5000, retries=0
        )
    ).rest_api
    with pytest.raises(BadRequestError) as caught:
        forged.get_account()
    assert (caught.value.status_code, caught.value.error_message) == (
        -1022,
        "Signature for this request is not valid.",
    )
    stranger = Spot(
        config_rest_api=ConfigurationRestAPI(
            api_key="nobody", api_secret="x", base_path=sim.url, timeout=5000, retries=0
        )
    ).rest_api
    with pytest.raises(UnauthorizedError) as caught:
        stranger.get_account()
    assert caught.value.status_code == -2015


def test_public_endpoints_and_the_weight_limit(sim: Sim) -> None:
    from oms.sim.binance import limits

    public = Spot(config_rest_api=ConfigurationRestAPI(base_path=sim.url, timeout=5000, retries=0)).rest_api
    info = public.exchange_info().data()
    assert info.symbols[0].symbol == "BTCUSDT"
    assert {f.actual_instance.filter_type for f in info.symbols[0].filters} >= {"PRICE_FILTER", "LOT_SIZE"}
    assert public.time().data().server_time > 0
    sim.server.limits = limits.RequestLimits(limits.Limits(weight_per_minute=45))
    public.exchange_info()
    public.exchange_info()
    with pytest.raises(TooManyRequestsError) as caught:
        public.exchange_info()
    assert caught.value.status_code == -1003
    assert "request weight" in caught.value.error_message


def test_test_orders_order_history_and_cancel_all(sim: Sim) -> None:
    """order/test validates without placing; allOrders pages through history; DELETE
    openOrders cancels every open order of the symbol and releases the funds."""
    alice = client(sim, "HMAC").rest_api
    test = alice.order_test(
        symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity=0.1, price=40000
    )
    assert test.data().to_dict() == {}
    rates = alice.order_test(
        symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.1, compute_commission_rates=True
    ).data()
    assert rates.standard_commission_for_order.taker == "0.00100000"
    with pytest.raises(BadRequestError) as bad:
        alice.order_test(
            symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity=0.1, price=0.001
        )
    assert bad.value.status_code == -1013  # the filters still apply
    assert alice.get_open_orders(symbol="BTCUSDT").data() == []  # nothing was placed
    for price in (40000, 41000, 42000):
        alice.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity=0.1, price=price
        )
    history = alice.all_orders(symbol="BTCUSDT").data()
    assert [o.price for o in history] == ["40000.00000000", "41000.00000000", "42000.00000000"]
    later = alice.all_orders(symbol="BTCUSDT", order_id=history[1].order_id, limit=1).data()
    assert [o.order_id for o in later] == [history[1].order_id]
    canceled = alice.delete_open_orders(symbol="BTCUSDT").data()
    assert sorted(o.status for o in canceled) == ["CANCELED"] * 3
    assert alice.get_open_orders(symbol="BTCUSDT").data() == []
    usdt = next(b for b in alice.get_account().data().balances if b.asset == "USDT")
    assert (usdt.free, usdt.locked) == ("200000.00000000", "0.00000000")
    with pytest.raises(BadRequestError) as none_left:
        alice.delete_open_orders(symbol="BTCUSDT")
    assert none_left.value.status_code == -2011


def test_amend_keep_priority_lowers_quantity_without_losing_the_queue(sim: Sim, shared_dir: Path) -> None:
    """Two asks at one price; amending the first keeps it first in line, frees its funds,
    reports REPLACED, and answers in the published shape (``cumulativeQuoteQty`` sic)."""
    mm, alice = client(sim, "mm").rest_api, client(sim, "HMAC").rest_api
    first, _ = (
        mm.new_order(
            symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", quantity=1, price=50000
        ).data()
        for _ in range(2)
    )
    raw = mm.order_amend_keep_priority(symbol="BTCUSDT", order_id=first.order_id, new_qty=0.4)
    amended = raw.data().amended_order
    assert (amended.order_id, amended.qty, amended.status) == (first.order_id, "0.40000000", "NEW")
    samples = json.loads((shared_dir / "reference/binance/spot_order_responses.json").read_text())
    [sample] = [s["json"] for s in samples["samples"] if s["id"] == "rest.amend_keepPriority.single"]
    answer = raw.data().to_dict()
    assert set(answer) == set(sample) and set(answer["amendedOrder"]) == set(sample["amendedOrder"])
    replaced = [e for e in sim.venue.accounts["mm"].events if e.get("x") == "REPLACED"]
    assert [(e["i"], e["q"]) for e in replaced] == [(first.order_id, "0.40000000")]
    btc = next(b for b in mm.get_account().data().balances if b.asset == "BTC")
    assert (btc.free, btc.locked) == ("8.60000000", "1.40000000")
    alice.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.5)
    assert mm.get_order(symbol="BTCUSDT", order_id=first.order_id).data().status == "FILLED"  # still first
    with pytest.raises(BadRequestError) as increase:
        mm.order_amend_keep_priority(symbol="BTCUSDT", order_id=first.order_id + 1, new_qty=2)
    assert (increase.value.status_code, increase.value.error_message) == (
        -2038,
        "Order amend (quantity increase) is not supported.",
    )


def signed_request(sim: Sim, who: str, method: str, path: str, params: dict[str, str]) -> tuple[int, Any]:
    """A raw HMAC-signed request, for answers the SDK turns into bare exceptions."""
    key, secret = sim.keys[who]
    query = urllib.parse.urlencode(params | {"timestamp": str(int(time.time() * 1000))})
    query += "&signature=" + hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{sim.url}{path}?{query}", method=method)
    request.add_header("X-MBX-APIKEY", key.api_key)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_cancel_replace_outcomes_match_binance(sim: Sim, shared_dir: Path) -> None:
    """Both halves succeed (200), the new half fails after a cancel (409 -2021), the
    cancel fails and stops (400 -2022, new NOT_ATTEMPTED) or both fail (400 -2022); the
    bodies have the published shapes."""
    samples = json.loads((shared_dir / "reference/binance/spot_order_responses.json").read_text())
    sample = {s["id"]: s["json"] for s in samples["samples"]}
    mm = client(sim, "mm").rest_api
    mm.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity=0.1, price=49000)
    resting = mm.new_order(
        symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", quantity=0.1, price=51000
    ).data()
    base = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1"}
    status, body = signed_request(
        sim,
        "mm",
        "POST",
        "/api/v3/order/cancelReplace",
        base
        | {"price": "52000", "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": str(resting.order_id)},
    )
    assert status == 200 and (body["cancelResult"], body["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert set(body) == set(sample["rest.cancelReplace.success"])
    assert set(body["cancelResponse"]) == set(sample["rest.cancelReplace.success"]["cancelResponse"])
    replacement = body["newOrderResponse"]["orderId"]
    assert [o.order_id for o in mm.get_open_orders(symbol="BTCUSDT").data() if o.side == "SELL"] == [
        replacement
    ]

    taking = base | {"type": "LIMIT_MAKER", "price": "48000", "cancelReplaceMode": "STOP_ON_FAILURE"}
    del taking["timeInForce"]
    status, body = signed_request(
        sim, "mm", "POST", "/api/v3/order/cancelReplace", taking | {"cancelOrderId": str(replacement)}
    )
    expected = sample["rest.cancelReplace.cancel_ok_new_failed"]
    assert status == 409 and (body["code"], body["msg"]) == (expected["code"], expected["msg"])
    assert body["data"]["newOrderResponse"] == expected["data"]["newOrderResponse"]  # -2010 would take
    assert body["data"]["cancelResponse"]["status"] == "CANCELED"

    status, body = signed_request(
        sim, "mm", "POST", "/api/v3/order/cancelReplace", taking | {"cancelOrderId": str(replacement)}
    )
    assert (status, body) == (400, sample["rest.cancelReplace.stop_on_failure.cancel_failed"])

    status, body = signed_request(
        sim,
        "mm",
        "POST",
        "/api/v3/order/cancelReplace",
        taking | {"cancelOrderId": str(replacement), "cancelReplaceMode": "ALLOW_FAILURE"},
    )
    assert (status, body) == (400, sample["rest.cancelReplace.allow_failure.both_failed"])


def test_market_orders_sized_in_quote(sim: Sim) -> None:
    """quoteOrderQty spends (or raises) that much quote across the book, in whole steps."""
    mm, alice = client(sim, "mm").rest_api, client(sim, "HMAC").rest_api
    for price in (50000, 50010):
        mm.new_order(
            symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", quantity=0.01, price=price
        )
    bought = alice.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quote_order_qty=700).data()
    # 0.01 at 50000 (500 USDT), then 200 / 50010 = 0.0039992 -> floored to 0.00399
    assert (bought.executed_qty, bought.orig_quote_order_qty) == ("0.01399000", "700.000000")
    assert Decimal(bought.cummulative_quote_qty) == Decimal("500") + Decimal("0.00399") * 50010
    with pytest.raises(BadRequestError) as both:
        alice.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.1, quote_order_qty=700)
    assert both.value.status_code == -1106
    with pytest.raises(BadRequestError) as neither:
        alice.new_order(symbol="BTCUSDT", side="BUY", type="MARKET")
    assert (neither.value.status_code, neither.value.error_message) == (
        -1102,
        "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
    )


def test_cancel_replace_past_the_order_limit_follows_its_mode(sim: Sim, shared_dir: Path) -> None:
    """One order per 10 s: DO_NOTHING refuses the whole request (-1015, the order stays);
    CANCEL_ONLY cancels and reports the new half's -1015 in a -2021, as published."""
    from oms.sim.binance import limits

    samples = json.loads((shared_dir / "reference/binance/spot_order_responses.json").read_text())
    sample = {s["id"]: s["json"] for s in samples["samples"]}
    sim.server.limits = limits.RequestLimits(limits.Limits(orders_per_10s=1))
    mm = client(sim, "mm").rest_api
    resting = mm.new_order(
        symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", quantity=0.1, price=51000
    ).data()
    base = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1"}
    base |= {"price": "52000", "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": str(resting.order_id)}
    status, body = signed_request(sim, "mm", "POST", "/api/v3/order/cancelReplace", base)
    assert (status, body["code"]) == (429, -1015)
    assert set(body) == set(sample["rest.cancelReplace.do_nothing.order_count_exceeded"])
    assert mm.get_order(symbol="BTCUSDT", order_id=resting.order_id).data().status == "NEW"
    only = base | {"orderRateLimitExceededMode": "CANCEL_ONLY"}
    status, body = signed_request(sim, "mm", "POST", "/api/v3/order/cancelReplace", only)
    published = sample["rest.cancelReplace.cancel_only.order_count_exceeded"]
    assert (status, body["code"], body["data"]["cancelResult"], body["data"]["newOrderResult"]) == (
        409,
        -2021,
        "SUCCESS",
        "FAILURE",
    )
    assert body["data"]["newOrderResponse"] == published["data"]["newOrderResponse"]
    assert set(body["data"]["cancelResponse"]) == set(published["data"]["cancelResponse"])
    assert mm.get_order(symbol="BTCUSDT", order_id=resting.order_id).data().status == "CANCELED"
    assert mm.get_open_orders(symbol="BTCUSDT").data() == []
