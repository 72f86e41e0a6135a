"""Conditional orders on the simulated USD-M venue through the official SDK's algo-order
calls: stop-loss on the last price, take-profit on the mark price, trailing stops, the
ALGO_UPDATE lifecycle, and Binance's answers to bad algo orders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from binance_common.configuration import ConfigurationRestAPI
from binance_common.errors import BadRequestError
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)

from oms.sim.binance import auth
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_rest import FuturesRestServer
from oms.sim.binance.usdm_symbols import FuturesSymbol
from oms.sim.server_thread import ServerThread

NAMES = ("mm", "alice", "bob")


class Sim:
    def __init__(self) -> None:
        self.venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")])
        for name, usdt in zip(NAMES, ("10000000", "20000", "20000"), strict=True):
            self.venue.add_account(name, usdt)
        self.venue.set_mark_price("BTCUSDT", "50000")
        self.keys = {n: auth.generate_key(auth.KeyType.HMAC, n, ["FUTURES"]) for n in NAMES}
        self.server = FuturesRestServer(self.venue, auth.KeyStore(k for k, _ in self.keys.values()))
        self.running = ServerThread(self.server)

    def client(self, who: str) -> Any:
        key, secret = self.keys[who]
        config = ConfigurationRestAPI(
            api_key=key.api_key, api_secret=secret, base_path=self.running.url, timeout=5000, retries=0
        )
        return DerivativesTradingUsdsFutures(config_rest_api=config).rest_api

    def algo_events(self, who: str) -> list[tuple[str, str]]:
        """(clientAlgoId, status) of every ALGO_UPDATE on the account's stream so far."""
        return [
            (e["o"]["caid"], e["o"]["X"]) for e in self.venue.accounts[who].events if e["e"] == "ALGO_UPDATE"
        ]


@pytest.fixture
def sim() -> Iterator[Sim]:
    s = Sim()
    try:
        yield s
    finally:
        s.running.close()


def limit(client: Any, side: str, qty: str, price: str) -> Any:
    return client.new_order(
        symbol="BTCUSDT", side=side, type="LIMIT", time_in_force="GTC", quantity=qty, price=price
    ).data()


def open_long(sim: Sim, qty: str = "0.1") -> None:
    """alice buys `qty` at 50000 from mm (last price 50000)."""
    limit(sim.client("mm"), "SELL", qty, "50000")
    sim.client("alice").new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=qty)


def position(sim: Sim, who: str = "alice") -> str:
    rows = sim.client(who).position_information_v3(symbol="BTCUSDT").data()
    return rows[0].position_amt if rows else "0"


def test_stop_loss_fires_on_the_last_price_and_closes_the_position(sim: Sim) -> None:
    alice, mm, bob = sim.client("alice"), sim.client("mm"), sim.client("bob")
    open_long(sim)
    placed = alice.new_algo_order(
        algo_type="CONDITIONAL",
        symbol="BTCUSDT",
        side="SELL",
        type="STOP_MARKET",
        trigger_price="49000",
        close_position="true",
        client_algo_id="sl-1",
    ).data()
    assert (placed.algo_status, placed.order_type, placed.trigger_price) == ("NEW", "STOP_MARKET", "49000")
    assert [o.client_algo_id for o in alice.current_all_algo_open_orders(symbol="BTCUSDT").data()] == ["sl-1"]
    limit(mm, "BUY", "1", "48900")  # liquidity below the stop
    limit(mm, "BUY", "1", "49500")
    bob.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.01")  # trades at 49500
    assert alice.query_algo_order(client_algo_id="sl-1").data().algo_status == "NEW", (
        "49500 is above the stop"
    )
    bob.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="1")  # sweeps to 48900
    done = alice.query_algo_order(client_algo_id="sl-1").data()
    assert done.algo_status == "FINISHED"
    assert done.actual_order_id
    child = alice.query_order(symbol="BTCUSDT", order_id=int(done.actual_order_id)).data()
    assert (child.type, child.side, child.status, child.executed_qty) == ("MARKET", "SELL", "FILLED", "0.1")
    assert child.avg_price.startswith("48900")
    assert position(sim) == "0"
    assert sim.algo_events("alice") == [
        ("sl-1", "NEW"),
        ("sl-1", "TRIGGERING"),
        ("sl-1", "TRIGGERED"),
        ("sl-1", "FINISHED"),
    ]
    assert alice.current_all_algo_open_orders(symbol="BTCUSDT").data() == []


def test_take_profit_limit_on_the_mark_price_rests_its_order(sim: Sim) -> None:
    alice = sim.client("alice")
    open_long(sim)
    alice.new_algo_order(
        algo_type="CONDITIONAL",
        symbol="BTCUSDT",
        side="SELL",
        type="TAKE_PROFIT",
        quantity="0.1",
        price="52100",
        trigger_price="52000",
        working_type="MARK_PRICE",
        time_in_force="GTC",
        reduce_only="true",
        client_algo_id="tp-1",
    )
    sim.venue.set_mark_price("BTCUSDT", "51999.9")
    assert alice.query_algo_order(client_algo_id="tp-1").data().algo_status == "NEW"
    sim.venue.set_mark_price("BTCUSDT", "52000")
    fired = alice.query_algo_order(client_algo_id="tp-1").data()
    assert fired.algo_status == "TRIGGERED", "its LIMIT order rests until it trades"
    [resting] = alice.current_all_open_orders(symbol="BTCUSDT").data()
    assert (str(resting.order_id), resting.type, resting.price, resting.reduce_only) == (
        fired.actual_order_id,
        "LIMIT",
        "52100",
        True,
    )
    limit(sim.client("bob"), "BUY", "0.1", "52100")
    assert alice.query_algo_order(client_algo_id="tp-1").data().algo_status == "FINISHED"
    assert position(sim) == "0"


def test_trailing_stop_follows_the_high_after_activation(sim: Sim) -> None:
    alice = sim.client("alice")
    open_long(sim)
    limit(sim.client("mm"), "BUY", "1", "50000")
    alice.new_algo_order(
        algo_type="CONDITIONAL",
        symbol="BTCUSDT",
        side="SELL",
        type="TRAILING_STOP_MARKET",
        quantity="0.1",
        activate_price="51000",
        callback_rate="1",
        working_type="MARK_PRICE",
        reduce_only="true",
        client_algo_id="trail",
    )
    status = lambda: alice.query_algo_order(client_algo_id="trail").data().algo_status  # noqa: E731
    for mark in ("50400", "51000", "51500", "51000", "50985.1"):  # high 51500: fires at <= 50985
        sim.venue.set_mark_price("BTCUSDT", mark)
        assert status() == "NEW", mark
    sim.venue.set_mark_price("BTCUSDT", "50985")
    assert status() == "FINISHED"
    assert position(sim) == "0"


def test_refused_trigger_cancels_with_the_reason(sim: Sim) -> None:
    """A reduce-only stop whose position is gone by the time it fires: CANCELED, rm set."""
    alice = sim.client("alice")
    alice.new_algo_order(
        algo_type="CONDITIONAL",
        symbol="BTCUSDT",
        side="SELL",
        type="STOP_MARKET",
        quantity="0.1",
        trigger_price="49000",
        working_type="MARK_PRICE",
        reduce_only="true",
        client_algo_id="orphan",
    )
    sim.venue.set_mark_price("BTCUSDT", "48000")
    assert alice.query_algo_order(client_algo_id="orphan").data().algo_status == "CANCELED"
    [last] = [e for e in sim.venue.accounts["alice"].events if e["e"] == "ALGO_UPDATE"][-1:]
    assert last["o"]["rm"] == "ReduceOnly Order is rejected."


def test_cancel_query_and_history(sim: Sim) -> None:
    alice = sim.client("alice")
    ids = []
    for n, trigger in enumerate(("45000", "46000", "47000")):
        placed = alice.new_algo_order(
            algo_type="CONDITIONAL",
            symbol="BTCUSDT",
            side="BUY",
            type="TAKE_PROFIT_MARKET",
            quantity="0.01",
            trigger_price=trigger,
            working_type="MARK_PRICE",
            client_algo_id=f"buy-dip-{n}",
        ).data()
        ids.append(placed.algo_id)
    canceled = alice.cancel_algo_order(algo_id=ids[0]).data()
    assert (canceled.algo_id, canceled.client_algo_id) == (ids[0], "buy-dip-0")
    with pytest.raises(BadRequestError) as again:
        alice.cancel_algo_order(algo_id=ids[0])
    assert (again.value.status_code, again.value.error_message) == (-2011, "Unknown order sent.")
    assert alice.cancel_all_algo_open_orders(symbol="BTCUSDT").data().code == 200
    assert alice.current_all_algo_open_orders().data() == []
    history = alice.query_all_algo_orders(symbol="BTCUSDT").data()
    assert [(o.algo_id, o.algo_status) for o in history] == [(i, "CANCELED") for i in ids]
    with pytest.raises(BadRequestError) as missing:
        alice.query_algo_order(client_algo_id="never")
    assert missing.value.status_code == -2013


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        (
            {"type": "STOP_MARKET", "quantity": "0.1", "trigger_price": "51000"},
            -2021,
            "Order would immediately trigger.",
        ),
        ({"type": "STOP_MARKET", "quantity": "0.1"}, -1102, "Mandatory parameter 'triggerPrice'"),
        (
            {"type": "STOP_MARKET", "quantity": "0.1", "trigger_price": "45000", "close_position": "true"},
            -4137,
            "Quantity must be zero with closePosition equals true",
        ),
        (
            {"type": "STOP", "quantity": "0.1", "trigger_price": "45000"},
            -1102,
            "Mandatory parameter 'price'",
        ),
        (
            {"type": "TRAILING_STOP_MARKET", "quantity": "0.1", "callback_rate": "11"},
            -1102,
            "Mandatory parameter 'callbackRate'",
        ),
        (
            {"type": "STOP_MARKET", "quantity": "0.1", "trigger_price": "45000.05"},
            -4014,
            "Price not increased by tick size.",
        ),
        (
            {"type": "STOP_MARKET", "quantity": "0.1", "trigger_price": "45000", "working_type": "INDEX"},
            -4031,
            "Invalid parameter working type",
        ),
    ],
)
def test_bad_algo_orders_get_binance_answers(
    sim: Sim, params: dict[str, str], code: int, message: str
) -> None:
    """The last price is 50000 after open_long: a sell stop at 51000 would fire at once."""
    open_long(sim)
    base = {"algo_type": "CONDITIONAL", "symbol": "BTCUSDT", "side": "SELL"}
    with pytest.raises(BadRequestError) as caught:
        sim.client("alice").new_algo_order(**(base | params))
    assert caught.value.status_code == code
    assert caught.value.error_message.startswith(message)
