"""The official USD-M Futures SDK against the simulator: orders into positions,
leverage, futures' error codes and its success-shaped quirk, and user data through a
listenKey on the private stream (with expiry)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from binance_common.configuration import ConfigurationRestAPI
from binance_common.errors import BadRequestError
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)
from binance_sdk_derivatives_trading_usds_futures.rest_api.models import (
    ModifyMultipleOrdersBatchOrdersParameterInner,
    PlaceMultipleOrdersBatchOrdersParameterInner,
)

from oms.sim.binance import auth
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_rest import FuturesRestServer
from oms.sim.binance.usdm_symbols import FuturesSymbol
from oms.sim.server_thread import ServerThread


class Sim:
    def __init__(self) -> None:
        self.venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")])
        self.venue.add_account("mm", "10000000")
        self.venue.add_account("alice", "10000")
        self.venue.set_mark_price("BTCUSDT", "50000")
        self.keys = {n: auth.generate_key(auth.KeyType.HMAC, n, ["FUTURES"]) for n in ("mm", "alice")}
        self.server = FuturesRestServer(self.venue, auth.KeyStore(k for k, _ in self.keys.values()))
        self.running = ServerThread(self.server)
        self.url = self.running.url

    def client(self, who: str) -> Any:
        key, secret = self.keys[who]
        config = ConfigurationRestAPI(
            api_key=key.api_key, api_secret=secret, base_path=self.url, timeout=5000, retries=0
        )
        return DerivativesTradingUsdsFutures(config_rest_api=config).rest_api

    def close(self) -> None:
        self.running.close()


@pytest.fixture
def sim() -> Iterator[Sim]:
    s = Sim()
    try:
        yield s
    finally:
        s.close()


def test_orders_positions_leverage_and_errors(sim: Sim) -> None:
    mm, alice = sim.client("mm"), sim.client("alice")
    mm.new_order(
        symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", quantity="0.5", price="50000"
    )
    assert alice.change_initial_leverage(symbol="BTCUSDT", leverage=5).data().leverage == 5
    changed = alice.change_margin_type(symbol="BTCUSDT", margin_type="ISOLATED")
    assert changed.data().code == 200  # a success that looks like an error: the simulator keeps the quirk
    placed = alice.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1").data()
    assert (placed.status, placed.executed_qty) == ("FILLED", "0.1")
    [position] = alice.position_information_v3(symbol="BTCUSDT").data()
    assert (position.position_amt, position.entry_price, position.position_side) == ("0.1", "50000", "BOTH")
    assert position.initial_margin == f"{5000 / 5:.8f}"
    with pytest.raises(BadRequestError) as caught:
        alice.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity="0.1", price="50000.05"
        )
    assert (caught.value.status_code, caught.value.error_message) == (
        -4014,
        "Price not increased by tick size.",
    )
    with pytest.raises(BadRequestError) as algo:
        alice.new_order(symbol="BTCUSDT", side="SELL", type="STOP_MARKET", quantity="0.1")
    assert algo.value.status_code == -4120


async def _user_data(sim: Sim) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    key = await asyncio.to_thread(lambda: sim.client("alice").start_user_data_stream().data().listen_key)
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(sim.url.replace("http", "ws") + "/private/stream")
        await ws.send_json({"method": "SUBSCRIBE", "params": [key], "id": "u1"})
        assert (await ws.receive_json(timeout=5)) == {"result": None, "id": "u1"}
        mm, alice = sim.client("mm"), sim.client("alice")
        await asyncio.to_thread(
            mm.new_order,
            symbol="BTCUSDT",
            side="SELL",
            type="LIMIT",
            time_in_force="GTC",
            quantity="0.5",
            price="50000",
        )
        await asyncio.to_thread(alice.new_order, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1")
        events = []
        while len(events) < 4:
            frame = await ws.receive_json(timeout=5)
            assert frame["stream"] == key
            events.append(frame["data"])
        async with http.post(f"{sim.url}/admin/expire-listen-keys") as response:
            assert (await response.json())["expired"] == 1
        expired = (await ws.receive_json(timeout=5))["data"]
        await ws.close()
        return events, expired


def test_user_data_through_a_listen_key_until_it_expires(sim: Sim) -> None:
    events, expired = asyncio.run(asyncio.wait_for(_user_data(sim), 30))
    kinds = [(e["e"], e.get("o", {}).get("x")) for e in events]
    assert kinds == [
        ("ORDER_TRADE_UPDATE", "NEW"),
        ("TRADE_LITE", None),  # the fast trade event comes first, as on Binance
        ("ORDER_TRADE_UPDATE", "TRADE"),
        ("ACCOUNT_UPDATE", None),
    ]
    assert events[2]["o"]["z"] == "0.1" and events[3]["a"]["P"][0]["pa"] == "0.1"
    assert expired["e"] == "listenKeyExpired"


def test_batch_orders_answer_each_item_and_account_views_follow(sim: Sim) -> None:
    """A batch with a good and a bad order: HTTP 200, the order and the error in request
    order; then open orders, cancel-all, balance and account agree with what happened."""
    alice = sim.client("alice")
    good = PlaceMultipleOrdersBatchOrdersParameterInner(
        symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity=0.01, price=49000
    )
    tiny = PlaceMultipleOrdersBatchOrdersParameterInner(
        symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity=0.001, price=49000
    )
    response = alice.place_multiple_orders(batch_orders=[good, tiny])
    assert response.status == 200
    placed, refused = response.data()  # one model with both order and {code, msg} fields
    assert (placed.code, placed.status, placed.orig_qty, placed.price) == (None, "NEW", "0.01", "49000")
    assert (refused.code, refused.msg) == (
        -4164,
        "Order's notional must be no smaller than 100 (unless you choose reduce only)",
    )
    [open_order] = alice.current_all_open_orders(symbol="BTCUSDT").data()
    assert open_order.order_id == placed.order_id
    [usdt] = alice.futures_account_balance_v3().data()
    assert (usdt.asset, usdt.balance) == ("USDT", "10000.00000000")
    margin = Decimal("0.01") * 49000 / 20  # default leverage 20
    assert Decimal(usdt.available_balance) == 10000 - margin
    account = alice.account_information_v3().data()
    assert Decimal(account.total_open_order_initial_margin) == margin
    done = alice.cancel_all_open_orders(symbol="BTCUSDT").data()
    assert (done.code, done.msg) == (200, "The operation of cancel all open order is done.")
    assert alice.current_all_open_orders(symbol="BTCUSDT").data() == []
    assert Decimal(alice.account_information_v3().data().available_balance) == 10000
    with pytest.raises(BadRequestError) as too_many:
        alice.place_multiple_orders(batch_orders=[good] * 6)
    assert too_many.value.status_code == -4082


def test_modify_order_moves_it_to_the_back_and_can_trade(sim: Sim) -> None:
    """PUT /fapi/v1/order: same id, new price and quantity, margin re-reserved, an
    AMENDMENT update; repriced through the spread it trades at once; same values -5027."""
    mm, alice = sim.client("mm"), sim.client("alice")
    mm.new_order(
        symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", quantity="0.05", price="50100"
    )
    bid = alice.new_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity="0.01", price="49000"
    ).data()
    moved = alice.modify_order(
        symbol="BTCUSDT", side="BUY", order_id=bid.order_id, quantity=0.02, price=49500
    ).data()
    assert (moved.order_id, moved.orig_qty, moved.price, moved.status) == (
        bid.order_id,
        "0.02",
        "49500",
        "NEW",
    )
    margin = Decimal("0.02") * 49500 / 20
    assert Decimal(alice.futures_account_balance_v3().data()[0].available_balance) == 10000 - margin
    with pytest.raises(BadRequestError) as same:
        alice.modify_order(symbol="BTCUSDT", side="BUY", order_id=bid.order_id, quantity=0.02, price=49500)
    assert (same.value.status_code, same.value.error_message) == (-5027, "No need to modify the order.")
    taken = alice.modify_order(
        symbol="BTCUSDT", side="BUY", order_id=bid.order_id, quantity=0.02, price=50100
    ).data()
    assert (taken.status, taken.executed_qty) == ("FILLED", "0.02")
    queried = alice.query_order(symbol="BTCUSDT", order_id=bid.order_id).data()
    assert queried.avg_price == "50100.00000"  # traded at the resting ask
    updates = [e["o"]["x"] for e in sim.venue.accounts["alice"].events if e["e"] == "ORDER_TRADE_UPDATE"]
    assert updates == ["NEW", "AMENDMENT", "AMENDMENT", "TRADE"]


def test_income_history_records_transfers_pnl_and_commissions(sim: Sim) -> None:
    """A round trip with a profit: the ledger has the deposit, two commissions and the
    realized P&L, and they add up to the wallet balance."""
    mm, alice = sim.client("mm"), sim.client("alice")
    mm.new_order(
        symbol="BTCUSDT", side="SELL", type="LIMIT", time_in_force="GTC", quantity="0.1", price="50000"
    )
    alice.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1")
    mm.new_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity="0.1", price="50100"
    )
    alice.new_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.1")
    rows = alice.get_income_history().data()
    kinds = [(r.income_type, r.income) for r in rows]
    fee_in, fee_out = Decimal("5000") * Decimal("0.0005"), Decimal("5010") * Decimal("0.0005")
    assert kinds == [
        ("TRANSFER", "10000.00000000"),
        ("COMMISSION", f"{-fee_in:.8f}"),
        ("REALIZED_PNL", "10.00000000"),
        ("COMMISSION", f"{-fee_out:.8f}"),
    ]
    wallet = alice.futures_account_balance_v3().data()[0].balance
    assert sum(Decimal(r.income) for r in rows) == Decimal(wallet)
    pnl_only = alice.get_income_history(income_type="REALIZED_PNL", symbol="BTCUSDT").data()
    assert [r.income for r in pnl_only] == ["10.00000000"]


def test_batch_modify_and_batch_cancel_answer_each_item(sim: Sim) -> None:
    """PUT batchOrders reprices each order (or says why not); DELETE batchOrders cancels
    each id (an unknown one gets its own -2011 inside the HTTP 200)."""
    alice = sim.client("alice")
    ids = [
        alice.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity="0.01", price=str(price)
        )
        .data()
        .order_id
        for price in (48000, 48100)
    ]
    changes = [
        ModifyMultipleOrdersBatchOrdersParameterInner(
            order_id=ids[0], symbol="BTCUSDT", side="BUY", quantity=0.01, price=48500
        ),
        ModifyMultipleOrdersBatchOrdersParameterInner(
            order_id=ids[1], symbol="BTCUSDT", side="BUY", quantity=0.01, price=48100
        ),
    ]
    repriced, unchanged = alice.modify_multiple_orders(batch_orders=changes).data()
    assert (repriced.order_id, repriced.price) == (ids[0], "48500")
    assert (unchanged.code, unchanged.msg) == (-5027, "No need to modify the order.")
    first, second, unknown = alice.cancel_multiple_orders(symbol="BTCUSDT", order_id_list=[*ids, 999]).data()
    assert (first.status, second.status) == ("CANCELED", "CANCELED")
    assert (unknown.code, unknown.msg) == (-2011, "Unknown order sent.")
    assert alice.current_all_open_orders(symbol="BTCUSDT").data() == []
