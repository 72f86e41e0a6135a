"""Funding and liquidation on the simulated USD-M venue, seen through the official SDK:
funding paid by longs to shorts at the mark, its income rows and history, settlement
when a mark arrives past the funding time, the liquidation price, a margin call, and a
liquidation that closes the position at market."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from binance_common.configuration import ConfigurationRestAPI
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)

from oms.sim.binance import auth
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_funding import INTERVAL_MS
from oms.sim.binance.usdm_rest import FuturesRestServer
from oms.sim.binance.usdm_symbols import FuturesSymbol
from oms.sim.server_thread import ServerThread

NAMES = ("mm", "alice", "bob")
START_MS = 1_700_000_000_000


class Sim:
    def __init__(self) -> None:
        self.clock = [START_MS]
        self.venue = FuturesExchange(
            [FuturesSymbol(symbol="BTCUSDT", base="BTC")], clock_ms=lambda: self.clock[0]
        )
        for name, usdt in zip(NAMES, ("10000000", "1000", "20000"), strict=True):
            self.venue.add_account(name, usdt)
        self.venue.set_mark_price("BTCUSDT", "50000")
        self.keys = {n: auth.generate_key(auth.KeyType.HMAC, n, ["FUTURES"]) for n in NAMES}
        # The venue runs on a clock the tests move; the server checks request times on the real one.
        server = FuturesRestServer(self.venue, auth.KeyStore(k for k, _ in self.keys.values()))
        self.running = ServerThread(server)

    def client(self, who: str) -> Any:
        key, secret = self.keys[who]
        config = ConfigurationRestAPI(
            api_key=key.api_key, api_secret=secret, base_path=self.running.url, timeout=5000, retries=0
        )
        return DerivativesTradingUsdsFutures(config_rest_api=config).rest_api

    def wallet(self, who: str) -> Decimal:
        return self.venue.accounts[who].wallet

    def events(self, who: str, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.venue.accounts[who].events if e["e"] == kind]


@pytest.fixture
def sim() -> Iterator[Sim]:
    s = Sim()
    try:
        yield s
    finally:
        s.running.close()


def trade(sim: Sim, buyer: str, seller: str, qty: str, price: str) -> None:
    sim.client(seller).new_order(
        symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", quantity=qty, price=price
    )
    sim.client(buyer).new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=qty)


def test_funding_moves_from_longs_to_shorts_at_the_mark(sim: Sim) -> None:
    trade(sim, "alice", "bob", "0.1", "50000")
    before = {who: sim.wallet(who) for who in ("alice", "bob")}
    request = urllib.request.Request(
        f"{sim.running.url}/admin/funding?symbol=BTCUSDT&rate=0.001", method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert sim.wallet("alice") == before["alice"] - Decimal("5")  # 0.1 x 50000 x 0.1%
    assert sim.wallet("bob") == before["bob"] + Decimal("5")
    rows = sim.client("alice").get_income_history(income_type="FUNDING_FEE").data()
    assert [(r.income_type, r.income, r.symbol) for r in rows] == [("FUNDING_FEE", "-5.00000000", "BTCUSDT")]
    assert sim.events("bob", "ACCOUNT_UPDATE")[-1]["a"]["m"] == "FUNDING_FEE"
    premium = sim.client("alice").mark_price(symbol="BTCUSDT").data().actual_instance
    assert (premium.last_funding_rate, premium.mark_price) == ("0.00100000", "50000.00000000")
    assert premium.next_funding_time == START_MS + INTERVAL_MS - START_MS % INTERVAL_MS
    [settled] = sim.client("alice").get_funding_rate_history(symbol="BTCUSDT").data()
    assert (settled.funding_rate, settled.mark_price) == ("0.00100000", "50000.00000000")


def test_funding_settles_when_a_mark_arrives_past_the_funding_time(sim: Sim) -> None:
    trade(sim, "alice", "bob", "0.1", "50000")
    due = sim.venue.funding.next_time["BTCUSDT"]
    sim.clock[0] = due - 1
    sim.venue.set_mark_price("BTCUSDT", "50000")
    assert not sim.client("alice").get_income_history(income_type="FUNDING_FEE").data()
    sim.clock[0] = due + 500
    sim.venue.set_mark_price("BTCUSDT", "51000")
    [row] = sim.client("alice").get_income_history(income_type="FUNDING_FEE").data()
    assert row.income == "-0.51000000"  # 0.1 x 51000 x the default 0.01%
    assert sim.venue.funding.next_time["BTCUSDT"] == due + INTERVAL_MS


def test_margin_call_then_liquidation_at_the_liquidation_price(sim: Sim) -> None:
    """alice: 1,000 USDT, long 0.3 at 50,000 (20x) for 7.5 of taker fee. Maintenance
    0.4%: liquidated where 992.5 + (P - 50000) x 0.3 = 0.3 x P x 0.004, so
    P = 14007.5 / 0.2988 = 46879.18; a margin call from 80% of the balance (P <= 46926)."""
    trade(sim, "alice", "bob", "0.3", "50000")
    assert sim.wallet("alice") == Decimal("992.5")
    [position] = sim.client("alice").position_information_v3(symbol="BTCUSDT").data()
    assert Decimal(position.liquidation_price).quantize(Decimal("0.01")) == Decimal("46879.18")
    sim.client("mm").new_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity="1", price="46700"
    )
    sim.venue.set_mark_price("BTCUSDT", "47000")
    assert not sim.events("alice", "MARGIN_CALL"), "maintenance is 61% of the balance"
    sim.venue.set_mark_price("BTCUSDT", "46900")
    [call] = sim.events("alice", "MARGIN_CALL")
    assert (call["p"][0]["s"], call["p"][0]["pa"], call["p"][0]["mt"]) == ("BTCUSDT", "0.3", "CROSSED")
    sim.venue.set_mark_price("BTCUSDT", "46890")
    assert len(sim.events("alice", "MARGIN_CALL")) == 1, "one call until she recovers"
    assert sim.client("alice").position_information_v3(symbol="BTCUSDT").data(), "not yet liquidated"
    sim.venue.set_mark_price("BTCUSDT", "46870")
    assert sim.client("alice").position_information_v3(symbol="BTCUSDT").data() == []
    closing = [
        e["o"] for e in sim.events("alice", "ORDER_TRADE_UPDATE") if e["o"]["c"].startswith("autoclose-")
    ]
    assert closing and closing[-1]["X"] == "FILLED" and closing[-1]["ap"].startswith("46700")
    assert sim.wallet("alice") < Decimal("100"), "the loss is realized"


def test_an_isolated_position_has_its_own_margin_and_is_liquidated_alone(sim: Sim) -> None:
    """alice, isolated at 10x: buying 0.1 at 50,000 moves 500 into the position (plus
    2.5 fee from the wallet). Liquidation where 500 + (P - 50000) x 0.1 = 0.1 x P x 0.004:
    P = 4500 / 0.0996 = 45180.72; closed at mm's 45,100 bid, 10 comes back."""
    alice = sim.client("alice")
    alice.change_margin_type(symbol="BTCUSDT", margin_type="ISOLATED")
    alice.change_initial_leverage(symbol="BTCUSDT", leverage=10)
    trade(sim, "alice", "bob", "0.1", "50000")
    assert sim.wallet("alice") == Decimal("497.5")
    [position] = alice.position_information_v3(symbol="BTCUSDT").data()
    assert (position.isolated_wallet, position.isolated_margin) == ("500.00000000", "500.00000000")
    assert Decimal(position.liquidation_price).quantize(Decimal("0.01")) == Decimal("45180.72")
    assert sim.venue.accounts["alice"].events[-1]["a"]["P"][0]["iw"] == "500.00000000"
    balance = alice.futures_account_balance_v3().data()[0]
    assert (balance.balance, balance.cross_wallet_balance) == ("997.50000000", "497.50000000")
    sim.client("mm").new_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity="1", price="45100"
    )
    sim.venue.set_mark_price("BTCUSDT", "45200")
    assert alice.position_information_v3(symbol="BTCUSDT").data(), "above the liquidation price"
    sim.venue.set_mark_price("BTCUSDT", "45150")
    assert alice.position_information_v3(symbol="BTCUSDT").data() == []
    assert not sim.events("alice", "MARGIN_CALL"), "isolated: no cross margin call"
    # 497.5 + the 10 left in the position - the 2.255 fee of the closing sale
    assert sim.wallet("alice") == Decimal("505.245")
