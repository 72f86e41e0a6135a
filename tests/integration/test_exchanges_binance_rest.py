"""The connectors' REST layer against the simulator: Binance errors become oms errors
(codes the SDK drops from 5xx answers recovered), a timeout or dropped connection is an
unknown outcome with the POST sent exactly once, and a 429/418 ban keeps every request
home until it ends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from oms import errors
from oms.exchanges.base import ExchangeConfig
from oms.exchanges.binance.rest import BinanceRest
from oms.sim.binance import auth
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.server_thread import ServerThread


class Sim:
    def __init__(self) -> None:
        self.venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
        self.venue.add_account("alice", {"BTC": "2", "USDT": "100000"})
        self.key, self.secret = auth.generate_key(auth.KeyType.HMAC, "alice", ["SPOT"])
        self.server = SpotRestServer(self.venue, auth.KeyStore([self.key]))
        self.running = ServerThread(self.server)

    def rest(self, timeout_s: float = 5.0) -> BinanceRest:
        config = ExchangeConfig(
            venue="binance:spot",
            api_key=self.key.api_key,
            api_secret=self.secret,
            rest_url=self.running.url,
            request_timeout_s=timeout_s,
        )
        return BinanceRest(config, "spot")

    def orders_named(self, client_id: str) -> int:
        return sum(1 for o in self.venue.orders.values() if o.client_order_id == client_id)


@pytest.fixture
def sim() -> Iterator[Sim]:
    s = Sim()
    try:
        yield s
    finally:
        s.running.close()


def order(client_id: str, **extra: str) -> dict[str, str]:
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    return params | {"quantity": "0.1", "price": "40000", "newClientOrderId": client_id} | extra


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_answers_and_errors(sim: Sim) -> None:
    rest = sim.rest()
    placed = run(rest.call("POST", "/api/v3/order", order("ok-1"), orders=1))
    assert (placed["status"], placed["clientOrderId"]) == ("NEW", "ok-1")
    assert rest.weights.used("1m") >= 1 and rest.orders.used("10s") == 1
    with pytest.raises(errors.InvalidRequest) as bad_symbol:
        run(rest.call("POST", "/api/v3/order", order("x", symbol="NOPE"), orders=1))
    assert (bad_symbol.value.code, bad_symbol.value.venue_code, bad_symbol.value.http_status) == (
        "BAD_SYMBOL",
        -1121,
        400,
    )
    with pytest.raises(errors.InsufficientFunds) as broke:
        run(rest.call("POST", "/api/v3/order", order("x", quantity="100"), orders=1))
    assert broke.value.venue_message == "Account has insufficient balance for requested action."
    with pytest.raises(errors.OrderNotFound):
        run(rest.call("GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "never"}, weight=4))


@pytest.mark.parametrize(
    ("fault", "cls", "code"),
    [
        ("unknown_after_accept", errors.OutcomeUnknown, -1007),
        ("unexpected_after_accept", errors.OutcomeUnknown, -1006),
    ],
)
def test_5xx_codes_the_sdk_drops_are_recovered(
    sim: Sim, fault: str, cls: type[errors.OmsError], code: int
) -> None:
    sim.server.faults.update({fault: 1.0})
    rest = sim.rest()
    with pytest.raises(cls) as caught:
        run(rest.call("POST", "/api/v3/order", order(f"f{code}"), orders=1))
    assert caught.value.venue_code == code  # type: ignore[attr-defined]
    assert sim.orders_named(f"f{code}") == 1, "accepted: the order is on the book"


def test_a_failure_before_acceptance_is_a_definite_no(sim: Sim) -> None:
    sim.server.faults.update({"fail_before_accept": 1.0})
    with pytest.raises(errors.VenueUnavailable) as caught:
        run(sim.rest().call("POST", "/api/v3/order", order("f-1"), orders=1))
    assert caught.value.venue_code == -1001 and sim.orders_named("f-1") == 0


def test_a_timeout_is_unknown_and_the_post_left_once(sim: Sim) -> None:
    sim.server.faults.update({"stall_after_accept_ms": 1500})
    rest = sim.rest(timeout_s=0.3)
    with pytest.raises(errors.OutcomeUnknown):
        run(rest.call("POST", "/api/v3/order", order("slow-1"), orders=1))
    assert rest.sent == 1
    assert sim.orders_named("slow-1") == 1, "executed at the venue although we saw no answer"


def test_a_dropped_connection_is_unknown(sim: Sim) -> None:
    sim.server.faults.update({"disconnect_after_accept": 1.0})
    rest = sim.rest()
    with pytest.raises(errors.OutcomeUnknown):
        run(rest.call("POST", "/api/v3/order", order("drop-1"), orders=1))
    assert rest.sent == 1 and sim.orders_named("drop-1") == 1


def test_a_429_bans_us_until_retry_after(sim: Sim) -> None:
    rest = sim.rest()
    sim.server.faults.update({"rate_limit_storm": True})
    with pytest.raises(errors.VenueRateLimited) as first:
        run(rest.call("GET", "/api/v3/account", weight=20))
    assert first.value.http_status == 429 and first.value.retry_after > 0
    sim.server.faults.update({"rate_limit_storm": False})
    sent = rest.sent
    with pytest.raises(errors.VenueRateLimited) as held:
        run(rest.call("GET", "/api/v3/account", weight=20))
    assert rest.sent == sent, "nothing is sent during the ban"
    assert held.value.retry_after > 0
