"""The simulated USD-M Futures venue: positions at average cost, margin, leverage,
futures' own error codes, and ORDER_TRADE_UPDATE / ACCOUNT_UPDATE events."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_symbols import FuturesSymbol

D = Decimal
ALGO_ONLY = "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."


@pytest.fixture
def venue() -> FuturesExchange:
    ex = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")], clock_ms=lambda: 1_700_000_000_000)
    ex.add_account("mm", "10000000")
    ex.add_account("alice", "10000")
    ex.set_mark_price("BTCUSDT", "50000")
    return ex


def order(**kw: str) -> dict[str, str]:
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.1",
        "price": "50000",
    }
    params.update(kw)
    return {k: v for k, v in params.items() if v != ""}


def code(venue: FuturesExchange, account: str, params: dict[str, str]) -> tuple[int, str]:
    with pytest.raises(BinanceApiError) as caught:
        venue.new_order(account, params)
    return caught.value.code, caught.value.msg


def test_positions_margin_and_pnl_through_a_flip(venue: FuturesExchange) -> None:
    venue.new_order("mm", order(side="SELL", quantity="0.1"))
    response = venue.new_order("alice", order(type="MARKET", timeInForce="", price="", quantity="0.1"))
    assert (response["status"], response["executedQty"], response["avgPrice"]) == (
        "FILLED",
        "0.1",
        "50000.00000",
    )
    alice = venue.accounts["alice"]
    assert alice.wallet == D(10000) - D("2.5")  # taker fee 0.05% of 5000
    venue.set_mark_price("BTCUSDT", "51000")
    [risk] = venue.position_risk("alice")
    assert (risk["positionAmt"], risk["entryPrice"], risk["unRealizedProfit"]) == (
        "0.1",
        "50000",
        "100.00000000",
    )
    assert risk["initialMargin"] == f"{D('5100') / 20:.8f}"
    venue.new_order("mm", order(side="BUY", quantity="1", price="51000"))
    venue.new_order("alice", order(side="SELL", type="MARKET", timeInForce="", price="", quantity="0.15"))
    [short] = venue.position_risk("alice")
    assert (short["positionAmt"], short["entryPrice"]) == ("-0.05", "51000")
    trades = [t for t in venue.trades if t["_account"] == "alice"]
    assert trades[-1]["realizedPnl"] == "100.00000000"  # closed 0.1 from 50000 at 51000


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"price": "50000.05"}, (-4014, "Price not increased by tick size.")),
        ({"price": "500"}, (-4013, "Price less than min price.")),
        ({"quantity": "0.0015"}, (-4023, "Qty not increased by step size.")),
        (
            {"quantity": "0.001"},
            (-4164, "Order's notional must be no smaller than 100 (unless you choose reduce only)"),
        ),
        ({"price": "53000"}, (-4016, "Price is higher than mark price multiplier cap.")),
        ({"type": "STOP_MARKET"}, (-4120, ALGO_ONLY)),
        ({"quantity": "5"}, (-2019, "Margin is insufficient.")),
        ({"positionSide": "LONG"}, (-4061, "Order's position side does not match user's setting.")),
        ({"reduceOnly": "true"}, (-2022, "ReduceOnly Order is rejected.")),
        ({"timeInForce": "DAY"}, (-1115, "Invalid timeInForce.")),
        ({"symbol": "XYZ"}, (-1121, "Invalid symbol.")),
    ],
)
def test_futures_error_codes(
    venue: FuturesExchange, params: dict[str, str], expected: tuple[int, str]
) -> None:
    assert code(venue, "alice", order(**params)) == expected


def test_post_only_would_take_and_leverage_changes_margin(venue: FuturesExchange) -> None:
    venue.new_order("mm", order(side="SELL", quantity="1", price="50000"))
    assert code(venue, "alice", order(timeInForce="GTX")) == (
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
    )
    assert venue.change_leverage("alice", {"symbol": "BTCUSDT", "leverage": "2"})["leverage"] == 2
    assert code(venue, "alice", order(quantity="0.5", price="49000"))[0] == -2019  # 24500 / 2 > 10000
    with pytest.raises(BinanceApiError) as caught:
        venue.change_leverage("alice", {"symbol": "BTCUSDT", "leverage": "200"})
    assert caught.value.code == -4028


def test_margin_type_and_position_mode(venue: FuturesExchange) -> None:
    with pytest.raises(BinanceApiError) as same:
        venue.change_margin_type("alice", {"symbol": "BTCUSDT", "marginType": "CROSSED"})
    assert same.value.code == -4046
    assert venue.change_margin_type("alice", {"symbol": "BTCUSDT", "marginType": "ISOLATED"}) == {
        "code": 200,
        "msg": "success",
    }
    venue.change_position_mode("alice", True)
    with pytest.raises(BinanceApiError):
        venue.change_position_mode("alice", True)
    venue.new_order("mm", order(side="SELL", quantity="1"))
    venue.new_order("alice", order(positionSide="LONG"))
    venue.new_order("mm", order(side="BUY", quantity="1", price="49900"))
    venue.new_order("alice", order(side="SELL", positionSide="SHORT", price="49900"))
    sides = {r["positionSide"]: r["positionAmt"] for r in venue.position_risk("alice")}
    assert sides == {"LONG": "0.1", "SHORT": "-0.1"}, "hedge mode keeps both legs"
    with pytest.raises(BinanceApiError) as busy:
        venue.change_margin_type("alice", {"symbol": "BTCUSDT", "marginType": "CROSSED"})
    assert busy.value.code == -4048


def test_events_carry_cumulative_figures_and_positions(venue: FuturesExchange) -> None:
    venue.new_order("mm", order(side="SELL", quantity="0.05", price="50000"))
    venue.new_order("mm", order(side="SELL", quantity="0.05", price="50010"))
    venue.new_order("alice", order(price="50010", newClientOrderId="f-1"))
    updates = [e["o"] for e in venue.accounts["alice"].events if e["e"] == "ORDER_TRADE_UPDATE"]
    assert [(u["x"], u["X"], u["z"]) for u in updates] == [
        ("NEW", "NEW", "0"),
        ("TRADE", "PARTIALLY_FILLED", "0.05"),
        ("TRADE", "FILLED", "0.10"),
    ]
    accounts = [e["a"] for e in venue.accounts["alice"].events if e["e"] == "ACCOUNT_UPDATE"]
    assert accounts[-1]["P"][0]["pa"] == "0.10" and accounts[-1]["m"] == "ORDER"
    cancelled = venue.new_order("alice", order(price="49000", newClientOrderId="f-2"))
    assert (
        venue.cancel_order("alice", {"symbol": "BTCUSDT", "origClientOrderId": "f-2"})["status"] == "CANCELED"
    )
    with pytest.raises(BinanceApiError) as gone:
        venue.cancel_order("alice", {"symbol": "BTCUSDT", "orderId": str(cancelled["orderId"])})
    assert gone.value.code == -2011


def test_reducing_orders_count_what_open_orders_already_close(venue: FuturesExchange) -> None:
    venue.new_order("mm", order(side="SELL", quantity="0.1"))
    venue.new_order("alice", order(quantity="0.1"))  # long 0.1
    venue.new_order("alice", order(side="SELL", quantity="0.1", price="51000", reduceOnly="true"))
    assert code(venue, "alice", order(side="SELL", quantity="0.1", price="51000", reduceOnly="true")) == (
        -2022,
        "ReduceOnly Order is rejected.",
    )
    # Without reduceOnly, a second closing order is not margin-free any more.
    available_before = venue.available(venue.accounts["alice"])
    venue.new_order("alice", order(side="SELL", quantity="0.1", price="51000"))
    assert venue.available(venue.accounts["alice"]) < available_before


def test_hedge_mode_cannot_close_more_than_the_leg_and_ids_are_found_newest_first(
    venue: FuturesExchange,
) -> None:
    venue.change_position_mode("alice", True)
    assert code(venue, "alice", order(side="SELL", positionSide="LONG"))[0] == -2022
    venue.new_order("alice", order(price="49000", positionSide="LONG", newClientOrderId="x"))
    assert code(venue, "alice", order(price="49100", positionSide="LONG", newClientOrderId="x")) == (
        -4116,
        "clientOrderId is duplicated",
    )
    venue.cancel_order("alice", {"symbol": "BTCUSDT", "origClientOrderId": "x"})
    venue.new_order("alice", order(price="49000", positionSide="LONG", newClientOrderId="x"))
    assert (
        venue.cancel_order("alice", {"symbol": "BTCUSDT", "origClientOrderId": "x"})["status"] == "CANCELED"
    )


def test_an_order_with_nothing_to_value_it_by_is_refused() -> None:
    venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")])
    venue.add_account("alice", "10")
    assert code(venue, "alice", order(type="MARKET", timeInForce="", price="", quantity="5"))[0] == -2019


def test_entry_prices_are_plain_decimals() -> None:
    from oms.sim.binance.usdm import num

    assert num(Decimal("1000.166666666666666666666667")) == "1000.16666667"
    assert num(Decimal("1E-9")) == "0"
    assert num(Decimal("50000")) == "50000"


def test_max_open_orders_per_symbol() -> None:
    venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC", max_num_orders=3)])
    venue.add_account("mm", "10000000")
    venue.set_mark_price("BTCUSDT", "50000")
    ids = [venue.new_order("mm", order(price=str(49000 + i)))["orderId"] for i in range(3)]
    assert code(venue, "mm", order(price="48000")) == (-2025, "Reach max open order limit.")
    venue.cancel_order("mm", {"symbol": "BTCUSDT", "orderId": str(ids[0])})
    assert venue.new_order("mm", order(price="48000"))["status"] == "NEW"  # room again


def test_order_history_is_bounded_but_live_orders_stay_findable(venue: FuturesExchange) -> None:
    venue.orders.limit = 3
    live = venue.new_order("mm", order(price="49000"))["orderId"]
    for i in range(6):
        placed = venue.new_order("mm", order(price="48000", newClientOrderId=f"c{i}"))
        venue.cancel_order("mm", {"symbol": "BTCUSDT", "orderId": str(placed["orderId"])})
    assert len(venue.orders) == 3
    assert venue.get_order("mm", {"symbol": "BTCUSDT", "orderId": str(live)})["status"] == "NEW"
    assert venue.get_order("mm", {"symbol": "BTCUSDT", "origClientOrderId": "c5"})["status"] == "CANCELED"
    assert code_of_query(venue, {"symbol": "BTCUSDT", "origClientOrderId": "c0"}) == -2013  # forgotten


def code_of_query(venue: FuturesExchange, params: dict[str, str]) -> int:
    with pytest.raises(BinanceApiError) as caught:
        venue.get_order("mm", params)
    return caught.value.code
