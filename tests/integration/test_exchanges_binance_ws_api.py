"""The connectors' WebSocket API layer against the simulator: results and Binance errors,
Ed25519 session logon, and the unknown outcomes (a -1007 reply, no reply in time, the
socket closing after the frame left), each with the order placed exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from oms import errors
from oms.exchanges.base import ExchangeConfig
from oms.exchanges.binance.ws_api import BinanceWsApi
from oms.sim.binance import auth
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.server_thread import ServerThread


class Sim:
    def __init__(self) -> None:
        self.venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
        self.venue.add_account("alice", {"BTC": "2", "USDT": "100000"})
        self.keys = {kind: auth.generate_key(kind, "alice", ["SPOT"]) for kind in auth.KeyType}
        self.server = SpotRestServer(self.venue, auth.KeyStore(k for k, _ in self.keys.values()))
        self.running = ServerThread(self.server)

    def ws_api(self, kind: auth.KeyType = auth.KeyType.HMAC, timeout_s: float = 5.0) -> BinanceWsApi:
        key, secret = self.keys[kind]
        config = ExchangeConfig(
            venue="binance:spot",
            api_key=key.api_key,
            api_secret=secret,
            ws_api_url=self.running.url.replace("http", "ws") + "/ws-api/v3",
            request_timeout_s=timeout_s,
        )
        return BinanceWsApi(config, "spot")

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


async def session(sim: Sim, kind: auth.KeyType, steps: Any, timeout_s: float = 5.0) -> Any:
    api = sim.ws_api(kind, timeout_s)
    await api.connect()
    try:
        return await steps(api)
    finally:
        await api.close()


@pytest.mark.parametrize("kind", [auth.KeyType.HMAC, auth.KeyType.ED25519])
def test_results_and_errors(sim: Sim, kind: auth.KeyType) -> None:
    async def steps(api: BinanceWsApi) -> None:
        placed = await api.call("order.place", order(f"ok-{kind.value}"))
        assert (placed["status"], placed["clientOrderId"]) == ("NEW", f"ok-{kind.value}")
        account = await api.call("account.status", {}, weight=20)
        assert any(b["asset"] == "USDT" for b in account["balances"])
        with pytest.raises(errors.InsufficientFunds) as broke:
            await api.call("order.place", order("x", quantity="100"))
        assert broke.value.venue_code == -2010
        with pytest.raises(errors.OrderNotFound):
            await api.call("order.status", {"symbol": "BTCUSDT", "origClientOrderId": "never"})

    asyncio.run(asyncio.wait_for(session(sim, kind, steps), 30))


@pytest.mark.parametrize(
    ("fault", "value", "code"),
    [
        ("unknown_after_accept", 1.0, -1007),
        ("stall_after_accept_ms", 1500, None),
        ("disconnect_after_accept", 1.0, None),
    ],
)
def test_unknown_outcomes_with_the_order_placed_once(
    sim: Sim, fault: str, value: float, code: int | None
) -> None:
    async def steps(api: BinanceWsApi) -> errors.OutcomeUnknown:
        sim.server.faults.update({fault: value})
        with pytest.raises(errors.OutcomeUnknown) as caught:
            await api.call("order.place", order(f"u-{fault}"))
        assert api.sent == 1
        return caught.value

    unknown = asyncio.run(asyncio.wait_for(session(sim, auth.KeyType.HMAC, steps, timeout_s=0.5), 30))
    assert unknown.venue_code == code
    assert sim.orders_named(f"u-{fault}") == 1, "the venue did place it"
