"""Spot conditional orders and OCO lists through the official Spot SDK: stop-loss and
trailing take-profit triggered by the last trade, funds locked once per OCO, the other
leg expiring when one executes, cancels of a leg or the list, and Binance's answers to
bad lists. The published cancel-list answer and listStatus event have our fields."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from binance_common.configuration import ConfigurationRestAPI
from binance_common.errors import BadRequestError
from binance_sdk_spot.spot import Spot

from oms.sim.binance import auth
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.server_thread import ServerThread

NAMES = ("alice", "bob", "mm")


@dataclass
class Sim:
    venue: SpotExchange
    clients: dict[str, Any]

    def balance(self, who: str, asset: str) -> tuple[Decimal, Decimal]:
        """(free, locked)."""
        account = self.venue.accounts[who]
        return account.free.get(asset, Decimal(0)), account.locked.get(asset, Decimal(0))

    def events(self, who: str, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.venue.accounts[who].events if e["e"] == kind]


@pytest.fixture
def sim() -> Iterator[Sim]:
    """mm quotes 0.1 @ 50000 and 0.1 @ 50500 to sell, 1 @ 49000 and 1 @ 48000 to buy;
    bob's 0.1 market buy makes 50000 the last price."""
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
    for name in NAMES:
        venue.add_account(name, {"BTC": "2", "USDT": "200000"})
    keys = {name: auth.generate_key(auth.KeyType.HMAC, name, ["SPOT"]) for name in NAMES}
    running = ServerThread(SpotRestServer(venue, auth.KeyStore(k for k, _ in keys.values())))
    clients = {}
    for name, (key, secret) in keys.items():
        config = ConfigurationRestAPI(
            api_key=key.api_key, api_secret=secret, base_path=running.url, timeout=5000, retries=0
        )
        clients[name] = Spot(config_rest_api=config).rest_api
    mm = clients["mm"]
    for side, qty, price in (("SELL", "0.1", "50000"), ("SELL", "0.1", "50500"), ("BUY", "1", "49000")):
        mm.new_order(
            symbol="BTCUSDT", side=side, type="LIMIT", time_in_force="GTC", quantity=qty, price=price
        )
    mm.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity="1", price="48000")
    clients["bob"].new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1")
    try:
        yield Sim(venue, clients)
    finally:
        running.close()


def sell(sim: Sim, qty: str) -> None:
    sim.clients["bob"].new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity=qty)


def test_stop_loss_limit_waits_then_trades_when_the_last_price_reaches_it(sim: Sim) -> None:
    alice = sim.clients["alice"]
    placed = alice.new_order(
        symbol="BTCUSDT",
        side="SELL",
        type="STOP_LOSS_LIMIT",
        time_in_force="GTC",
        quantity="0.5",
        price="48500",
        stop_price="49000",
        new_client_order_id="sl",
    ).data()
    waiting = alice.get_order(symbol="BTCUSDT", order_id=placed.order_id).data()
    assert (waiting.status, waiting.is_working, waiting.working_time, waiting.stop_price) == (
        "NEW",
        False,
        -1,
        "49000.00000000",
    )
    assert sim.balance("alice", "BTC") == (Decimal("1.50000000"), Decimal("0.50000000")), (
        "funds locked while it waits"
    )
    assert [o.client_order_id for o in alice.get_open_orders(symbol="BTCUSDT").data()] == ["sl"]
    sell(sim, "0.1")  # trades at 49000: the stop fires, its LIMIT 48500 takes the 49000 bid
    done = alice.get_order(symbol="BTCUSDT", order_id=placed.order_id).data()
    assert (done.status, done.executed_qty, done.is_working) == ("FILLED", "0.50000000", True)
    assert done.cummulative_quote_qty == "24500.00000000"
    reports = [(e["x"], e["X"], e["w"]) for e in sim.events("alice", "executionReport")]
    assert reports == [("NEW", "NEW", False), ("NEW", "NEW", True), ("TRADE", "FILLED", False)]
    assert sim.balance("alice", "BTC") == (Decimal("1.50000000"), 0), "nothing left locked"


def test_stop_that_would_fire_now_is_refused(sim: Sim) -> None:
    with pytest.raises(BadRequestError) as caught:
        sim.clients["alice"].new_order(
            symbol="BTCUSDT", side="SELL", type="STOP_LOSS", quantity="0.5", stop_price="50500"
        )
    assert (caught.value.status_code, caught.value.error_message) == (
        -2010,
        "Order would trigger immediately.",
    )


def test_trailing_take_profit_follows_the_high(sim: Sim) -> None:
    alice = sim.clients["alice"]
    placed = alice.new_order(
        symbol="BTCUSDT", side="SELL", type="TAKE_PROFIT", quantity="0.2", trailing_delta=150
    ).data()  # follows the high from 50000; fires 1.5% below it
    sim.clients["bob"].new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1")  # 50500 high
    status = lambda: alice.get_order(symbol="BTCUSDT", order_id=placed.order_id).data()  # noqa: E731
    assert status().status == "NEW"
    assert status().trailing_delta == 150
    sell(sim, "0.1")  # trades at 49000, under 50500 x (1 - 1.5%) = 49742.5: it fires
    done = status()
    assert (done.status, done.executed_qty) == ("FILLED", "0.20000000")


def place_oco(sim: Sim, **overrides: Any) -> Any:
    params: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "quantity": "0.5",
        "above_type": "LIMIT_MAKER",
        "above_price": "52000",
        "below_type": "STOP_LOSS_LIMIT",
        "below_stop_price": "48000",
        "below_price": "47900",
        "below_time_in_force": "GTC",
        "list_client_order_id": "bracket",
    }
    return sim.clients["alice"].order_list_oco(**(params | overrides)).data()


def test_oco_locks_once_and_the_other_leg_expires_when_one_fills(sim: Sim) -> None:
    placed = place_oco(sim)
    assert (placed.contingency_type, placed.list_order_status, placed.list_status_type) == (
        "OCO",
        "EXECUTING",
        "EXEC_STARTED",
    )
    assert [r.type for r in placed.order_reports] == ["STOP_LOSS_LIMIT", "LIMIT_MAKER"]
    assert {r.order_list_id for r in placed.order_reports} == {placed.order_list_id}
    assert sim.balance("alice", "BTC") == (Decimal("1.50000000"), Decimal("0.50000000")), (
        "0.5 locked once, not per leg"
    )
    [listed] = sim.clients["alice"].open_order_list().data()
    assert listed.list_client_order_id == "bracket"
    # bob lifts 0.1 @ 50500 from mm, then alice's 0.5 @ 52000
    sim.clients["bob"].new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.6")
    stop, limit = (
        sim.clients["alice"].get_order(symbol="BTCUSDT", order_id=r.order_id).data()
        for r in placed.order_reports
    )
    assert (limit.status, stop.status) == ("FILLED", "EXPIRED")
    assert sim.balance("alice", "BTC") == (Decimal("1.50000000"), 0)
    assert sim.balance("alice", "USDT")[0] == Decimal("225974"), "52000 x 0.5 less the 0.1% fee"
    statuses = [(e["l"], e["L"]) for e in sim.events("alice", "listStatus")]
    assert statuses == [("EXEC_STARTED", "EXECUTING"), ("ALL_DONE", "ALL_DONE")]
    assert sim.clients["alice"].open_order_list().data() == []


def test_oco_stop_leg_triggering_expires_the_limit_leg(sim: Sim) -> None:
    placed = place_oco(sim, below_stop_price="49000", below_price="48000")
    sell(sim, "0.1")  # 49000: the stop fires and sells into the 49000 bid
    stop, limit = (
        sim.clients["alice"].get_order(symbol="BTCUSDT", order_id=r.order_id).data()
        for r in placed.order_reports
    )
    assert (stop.status, limit.status) == ("FILLED", "EXPIRED")
    assert sim.balance("alice", "BTC") == (Decimal("1.50000000"), 0)


def test_canceling_a_leg_or_the_list_cancels_both(sim: Sim, shared_dir: Path) -> None:
    alice = sim.clients["alice"]
    first = place_oco(sim)
    alice.delete_order(symbol="BTCUSDT", order_id=first.order_reports[1].order_id)
    assert {
        alice.get_order(symbol="BTCUSDT", order_id=r.order_id).data().status for r in first.order_reports
    } == {"CANCELED"}
    second = place_oco(sim, list_client_order_id="again")
    canceled = alice.delete_order_list(symbol="BTCUSDT", order_list_id=second.order_list_id)
    answer = canceled.data()
    assert (answer.list_order_status, [r.status for r in answer.order_reports]) == (
        "ALL_DONE",
        ["CANCELED", "CANCELED"],
    )
    assert sim.balance("alice", "BTC") == (Decimal("2.00000000"), 0)
    samples = json.loads((shared_dir / "reference/binance/spot_order_responses.json").read_text())
    published = next(
        s["json"]["result"] for s in samples["samples"] if s["id"] == "wsapi.order.cancel.order_list"
    )
    raw = canceled.data().to_dict()
    assert set(raw) == set(published)
    assert set(raw["orderReports"][0]) == set(published["orderReports"][0])
    events = json.loads((shared_dir / "reference/binance/spot_user_data_events.json").read_text())
    event = next(s["json"]["event"] for s in events["samples"] if s["id"] == "current.listStatus")
    assert set(sim.events("alice", "listStatus")[-1]) == set(event)
    with pytest.raises(BadRequestError) as gone:
        alice.delete_order_list(symbol="BTCUSDT", order_list_id=second.order_list_id)
    assert gone.value.status_code == -2011


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        (
            {"below_type": "LIMIT_MAKER", "below_price": "48000"},
            -1168,
            "At least one OCO order must be contingent.",
        ),
        (
            {"above_type": "STOP_LOSS", "above_stop_price": "52000", "above_price": None},
            -1197,
            "A stop loss order in a sell OCO must be below.",
        ),
        ({"above_price": "49500"}, -2010, "The relationship of the prices for the orders is not correct."),
        ({"quantity": "5"}, -2010, "Account has insufficient balance for requested action."),
    ],
)
def test_bad_oco_lists_get_binance_answers(
    sim: Sim, overrides: dict[str, Any], code: int, message: str
) -> None:
    with pytest.raises(BadRequestError) as caught:
        place_oco(sim, **overrides)  # a None is not sent
    assert (caught.value.status_code, caught.value.error_message) == (code, message)
    assert sim.clients["alice"].open_order_list().data() == []
    assert sim.balance("alice", "BTC") == (Decimal("2.00000000"), 0), "nothing placed, nothing locked"


def test_amending_an_oco_leg_shrinks_both_and_frees_the_lock_once(sim: Sim) -> None:
    placed = place_oco(sim)
    stop, limit = placed.order_reports
    answer = sim.clients["alice"].order_amend_keep_priority(
        symbol="BTCUSDT", order_id=limit.order_id, new_qty=0.3
    )
    assert answer.data().list_status.order_list_id == placed.order_list_id
    legs = [
        sim.clients["alice"].get_order(symbol="BTCUSDT", order_id=r.order_id).data() for r in (stop, limit)
    ]
    assert [(leg.orig_qty, leg.status) for leg in legs] == [("0.30000000", "NEW")] * 2
    assert sim.balance("alice", "BTC") == (Decimal("1.7"), Decimal("0.3"))
    assert all(o.locked_left >= 0 for o in sim.venue.orders.values())
