"""Every published USD-M response and user-data sample that the simulator can produce has
the same fields as what the simulator sends for the same case (raw JSON, not the SDK's
models, which would hide missing or extra keys).

Documented differences, each allowed by name only where the sample itself is the odd one:
the order samples are of TRAILING_STOP_MARKET orders, whose ``activatePrice`` /
``priceRate`` (``AP`` / ``cr`` in events) exist only for that type, which now lives on the
algo endpoint; the PUT /fapi/v1/order sample carries COIN-M's ``pair`` / ``cumBase``
instead of ``cumQuote`` (a doc quirk the reference notes); the GET order sample predates
``priceMatch`` / ``selfTradePreventionMode`` / ``goodTillDate``, which the openOrders
sample of the same page has."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oms.sim.binance import auth
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_rest import FuturesRestServer
from oms.sim.binance.usdm_symbols import FuturesSymbol
from oms.sim.server_thread import ServerThread

TRAILING_ONLY = {"activatePrice", "priceRate"}
NAMES = ("mm", "alice")


class Sim:
    def __init__(self) -> None:
        self.venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")])
        for name in NAMES:
            self.venue.add_account(name, "1000000")
        self.venue.set_mark_price("BTCUSDT", "50000")
        self.keys = {n: auth.generate_key(auth.KeyType.HMAC, n, ["FUTURES"]) for n in NAMES}
        self.running = ServerThread(
            FuturesRestServer(self.venue, auth.KeyStore(k for k, _ in self.keys.values()))
        )

    def call(self, who: str, method: str, path: str, params: dict[str, str] | None = None) -> Any:
        """A raw HMAC-signed request; the JSON body, whatever the status."""
        key, secret = self.keys[who]
        query = urllib.parse.urlencode((params or {}) | {"timestamp": str(int(time.time() * 1000))})
        query += "&signature=" + hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        request = urllib.request.Request(f"{self.running.url}{path}?{query}", method=method)
        request.add_header("X-MBX-APIKEY", key.api_key)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            return json.loads(err.read())

    def events(self, who: str, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.venue.accounts[who].events if e["e"] == kind]


@pytest.fixture
def sim() -> Iterator[Sim]:
    s = Sim()
    try:
        yield s
    finally:
        s.running.close()


@pytest.fixture
def samples(shared_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("futures_responses.json", "futures_user_data_events.json"):
        data = json.loads((shared_dir / "reference/binance" / name).read_text())
        out |= {s["id"]: s["json"] for s in data["samples"]}
    return out


def assert_shape(
    ours: Any, published: Any, ignore: set[str] = frozenset(), nested: tuple[str, ...] = ()
) -> None:
    ours = ours[0] if isinstance(ours, list) else ours
    published = published[0] if isinstance(published, list) else published
    assert set(ours) - ignore == set(published) - ignore, (sorted(set(ours) ^ set(published)), ours)
    for key in nested:
        assert_shape(ours[key], published[key], ignore)


def limit(side: str, qty: str, price: str) -> dict[str, str]:
    return {
        "symbol": "BTCUSDT",
        "side": side,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": qty,
        "price": price,
    }


def test_order_answers_have_the_published_fields(sim: Sim, samples: dict[str, Any]) -> None:
    order = sim.call("mm", "POST", "/fapi/v1/order", limit("SELL", "1", "50000"))
    assert_shape(order, samples["rest.post_order"])
    one = {"symbol": "BTCUSDT", "orderId": str(order["orderId"])}
    open_sample = samples["rest.get_openOrders"]
    assert_shape(
        sim.call("mm", "GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"}), open_sample, TRAILING_ONLY
    )
    assert_shape(sim.call("mm", "GET", "/fapi/v1/order", one), open_sample, TRAILING_ONLY)
    assert set(samples["rest.get_order"]) - TRAILING_ONLY <= set(open_sample[0])
    modified = sim.call(
        "mm", "PUT", "/fapi/v1/order", one | {"side": "SELL", "quantity": "1", "price": "50001"}
    )
    assert_shape(modified, samples["rest.put_order_modify"], {"pair", "cumBase", "cumQuote"})
    assert_shape(sim.call("mm", "DELETE", "/fapi/v1/order", one), samples["rest.delete_order"], TRAILING_ONLY)
    batch = {"batchOrders": json.dumps([limit("SELL", "1", "51000")])}
    assert_shape(sim.call("mm", "POST", "/fapi/v1/batchOrders", batch), samples["rest.post_batchOrders"])
    cancel_all = sim.call("mm", "DELETE", "/fapi/v1/allOpenOrders", {"symbol": "BTCUSDT"})
    assert_shape(cancel_all, samples["rest.delete_allOpenOrders"])


def test_account_answers_and_events_have_the_published_fields(sim: Sim, samples: dict[str, Any]) -> None:
    sim.call("mm", "POST", "/fapi/v1/order", limit("SELL", "1", "50000"))
    leverage = sim.call("alice", "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": "10"})
    assert_shape(leverage, samples["rest.post_leverage"])
    market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"}
    sim.call("alice", "POST", "/fapi/v1/order", market)
    margin = sim.call("mm", "POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "ISOLATED"})
    assert_shape(margin, samples["rest.post_marginType"])
    assert_shape(sim.call("mm", "GET", "/fapi/v1/positionSide/dual"), samples["rest.get_positionSide_dual"])
    assert_shape(
        sim.call("alice", "GET", "/fapi/v3/positionRisk"), samples["rest.get_positionRisk_v3.one_way"]
    )
    trades = sim.call("alice", "GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT"})
    assert_shape(trades, samples["rest.get_userTrades"])
    assert_shape(sim.call("alice", "GET", "/fapi/v1/income"), samples["rest.get_income"])
    published = samples["ORDER_TRADE_UPDATE.NEW.TRAILING_STOP_MARKET"]
    for event in sim.events("alice", "ORDER_TRADE_UPDATE"):
        assert_shape(event, published, {"AP", "cr"}, nested=("o",))
    [account_update] = sim.events("alice", "ACCOUNT_UPDATE")
    assert_shape(account_update, samples["ACCOUNT_UPDATE.ORDER"], nested=("a",))
    [config] = sim.events("alice", "ACCOUNT_CONFIG_UPDATE")
    assert_shape(config, samples["ACCOUNT_CONFIG_UPDATE.leverage"], nested=("ac",))
    assert config["ac"] == {"s": "BTCUSDT", "l": 10}
    [lite] = sim.events("alice", "TRADE_LITE")
    assert_shape(lite, samples["TRADE_LITE"])
    assert (lite["l"], lite["L"], lite["S"]) == ("0.1", "50000", "BUY")


def test_algo_answers_and_events_have_the_published_fields(sim: Sim, samples: dict[str, Any]) -> None:
    """The ALGO_UPDATE sample is a CANCELED one with a reason: a reduce-only stop whose
    position is gone when it fires."""
    stop = {"algoType": "CONDITIONAL", "symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET"}
    stop |= {"quantity": "0.01", "triggerPrice": "49000", "workingType": "MARK_PRICE", "reduceOnly": "true"}
    placed = sim.call("alice", "POST", "/fapi/v1/algoOrder", stop)
    assert_shape(placed, samples["rest.post_algoOrder"])
    sim.venue.set_mark_price("BTCUSDT", "48000")
    last = sim.events("alice", "ALGO_UPDATE")[-1]
    assert last["o"]["X"] == "CANCELED"
    assert_shape(last, samples["ALGO_UPDATE.CANCELED"], nested=("o",))
