"""The simulated Binance Spot venue, driven directly (the HTTP/WS layers come next):
Binance's shapes, codes and messages; balances that add up; fills on both the
response and the user-data stream."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_orders import parse_params
from oms.sim.binance.spot_symbols import SpotSymbol

D = Decimal


def reference(shared_dir: Path, name: str) -> dict[str, Any]:
    data = json.loads((shared_dir / "reference" / "binance" / name).read_text())
    return {s["id"]: s["json"] for s in data["samples"]}


@pytest.fixture
def venue() -> SpotExchange:
    ex = SpotExchange(
        [SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")], clock_ms=lambda: 1_700_000_000_000
    )
    ex.add_account("maker", {"BTC": "10", "USDT": "1000000"})
    ex.add_account("taker", {"BTC": "10", "USDT": "1000000"})
    return ex


def order(**kw: str) -> dict[str, str]:
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "1",
        "price": "50000",
    }
    params.update(kw)
    return {k: v for k, v in params.items() if v != ""}


def error(venue: SpotExchange, account: str, params: dict[str, str]) -> tuple[int, str]:
    with pytest.raises(BinanceApiError) as caught:
        venue.new_order(account, params)
    return caught.value.code, caught.value.msg


def test_exchange_info_has_every_field_binance_documents(venue: SpotExchange, shared_dir: Path) -> None:
    documented = reference(shared_dir, "exchangeInfo_spot_sample.json")[
        "rest.exchangeInfo.doc_skeleton_ETHBTC"
    ]
    ours = venue.exchange_info()
    assert set(documented) <= set(ours)
    assert set(documented["symbols"][0]) <= set(ours["symbols"][0])
    filters = {f["filterType"] for f in ours["symbols"][0]["filters"]}
    assert {
        "PRICE_FILTER",
        "LOT_SIZE",
        "MARKET_LOT_SIZE",
        "NOTIONAL",
        "PERCENT_PRICE_BY_SIDE",
        "MAX_NUM_ORDERS",
    } <= filters


def test_responses_have_binance_shapes(venue: SpotExchange, shared_dir: Path) -> None:
    samples = reference(shared_dir, "spot_order_responses.json")
    resting = venue.new_order("maker", order(side="SELL", newClientOrderId="ask-1"))
    assert resting["status"] == "NEW" and resting["fills"] == []
    ack = venue.new_order("maker", order(side="SELL", price="50001", newOrderRespType="ACK"))
    assert set(ack) == set(samples["rest.post_order.ACK"])
    full = venue.new_order("taker", order(type="MARKET", timeInForce="", price="", quantity="0.4"))
    assert set(full) == set(samples["rest.post_order.FULL"])
    assert set(full["fills"][0]) == set(samples["rest.post_order.FULL"]["fills"][0])
    assert (full["status"], full["executedQty"], full["cummulativeQuoteQty"]) == (
        "FILLED",
        "0.40000000",
        "20000.00000000",
    )
    assert full["fills"][0]["commission"] == "0.00040000" and full["fills"][0]["commissionAsset"] == "BTC"
    assert set(venue.get_order("maker", {"symbol": "BTCUSDT", "origClientOrderId": "ask-1"})) == set(
        samples["rest.get_order"]
    )
    assert set(venue.account_info("taker")) == set(samples["rest.get_account"])
    assert set(venue.my_trades("taker", "BTCUSDT")[0]) == set(samples["rest.get_myTrades"][0])
    cancel = venue.cancel_order("maker", {"symbol": "BTCUSDT", "orderId": str(ack["orderId"])})
    assert set(cancel) == set(samples["rest.delete_order"]) and cancel["status"] == "CANCELED"


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        ({"symbol": ""}, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."),
        ({"symbol": "XYZ"}, -1121, "Invalid symbol."),
        ({"side": "LONG"}, -1117, "Invalid side."),
        ({"type": "ICEBERG"}, -1116, "Invalid orderType."),
        ({"type": "STOP_LOSS_LIMIT"}, -1102, "Param 'stopPrice' or 'trailingDelta' must be sent"),
        ({"type": "STOP_LOSS_LIMIT", "trailingDelta": "5"}, -1013, "Filter failure: TRAILING_DELTA"),
        ({"stopPrice": "49000"}, -1106, "Parameter 'stopPrice' sent when not required."),
        (
            {"timeInForce": ""},
            -1102,
            "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
        ),
        ({"timeInForce": "DAY"}, -1115, "Invalid timeInForce."),
        ({"type": "MARKET", "timeInForce": ""}, -1106, "Parameter 'price' sent when not required."),
        ({"quantity": "1,5"}, -1100, "Illegal characters found in parameter 'quantity'"),
        (
            {"newClientOrderId": "has space"},
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'",
        ),
        ({"price": "50000.001"}, -1013, "Filter failure: PRICE_FILTER"),
        ({"quantity": "0.000001"}, -1013, "Filter failure: LOT_SIZE"),
        ({"quantity": "0.00001", "price": "100"}, -1013, "Filter failure: NOTIONAL"),
        (
            {"quantity": "100", "price": "50000"},
            -2010,
            "Account has insufficient balance for requested action.",
        ),
    ],
)
def test_bad_orders_get_binance_codes_and_messages(
    venue: SpotExchange, params: dict[str, str], code: int, msg: str
) -> None:
    got_code, got_msg = error(venue, "taker", order(**params))
    assert got_code == code
    assert got_msg.startswith(msg)


def test_order_types_the_symbol_does_not_list_are_refused() -> None:
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT", order_types=("LIMIT",))])
    venue.add_account("taker", {"USDT": "100000"})
    params = order(type="STOP_LOSS", stopPrice="49000", price="", timeInForce="")
    assert error(venue, "taker", params) == (-2010, "Stop loss orders are not supported for this symbol.")
    assert venue.exchange_info()["symbols"][0]["ocoAllowed"] is False


def test_percent_price_duplicate_ids_and_post_only(venue: SpotExchange) -> None:
    venue.new_order("maker", order(side="SELL", quantity="0.1"))
    venue.new_order("taker", order(quantity="0.1"))  # trade at 50000 sets the reference
    assert error(venue, "taker", order(price="300000"))[1] == "Filter failure: PERCENT_PRICE_BY_SIDE"
    venue.new_order("maker", order(side="SELL", price="50010", newClientOrderId="dup"))
    assert error(venue, "maker", order(side="SELL", price="50020", newClientOrderId="dup")) == (
        -2010,
        "Duplicate order sent.",
    )
    assert error(venue, "taker", order(type="LIMIT_MAKER", timeInForce="", price="50010")) == (
        -2010,
        "Order would immediately match and take.",
    )
    venue.cancel_order("maker", {"symbol": "BTCUSDT", "origClientOrderId": "dup"})
    venue.new_order("maker", order(side="SELL", price="50020", newClientOrderId="dup"))  # free again


def test_balances_lock_move_and_add_up(venue: SpotExchange) -> None:
    def total(asset: str) -> Decimal:
        return sum(
            (a.free.get(asset, D(0)) + a.locked.get(asset, D(0)) for a in venue.accounts.values()), D(0)
        )

    rest = venue.new_order("maker", order(quantity="2", price="49000"))
    maker = venue.accounts["maker"]
    assert (maker.free["USDT"], maker.locked["USDT"]) == (D(1000000 - 98000), D(98000))
    venue.new_order("taker", order(side="SELL", type="MARKET", timeInForce="", price="", quantity="1.5"))
    taker = venue.accounts["taker"]
    assert taker.free["USDT"] == D(1000000) + D("73500") - D("73.5")  # taker fee in quote
    assert maker.free["BTC"] == D(10) + D("1.5") - D("0.0015")  # maker fee in base
    assert maker.locked["USDT"] == D(49000) * D("0.5")
    fees_btc, fees_usdt = D("0.0015"), D("73.5")
    assert (total("BTC"), total("USDT")) == (D(20) - fees_btc, D(2000000) - fees_usdt)
    venue.cancel_order("maker", {"symbol": "BTCUSDT", "orderId": str(rest["orderId"])})
    assert maker.locked["USDT"] == 0


def test_a_fill_is_on_the_response_and_the_stream_with_the_same_totals(venue: SpotExchange) -> None:
    venue.new_order("maker", order(side="SELL", quantity="0.3", price="50000"))
    venue.new_order("maker", order(side="SELL", quantity="0.3", price="50001"))
    venue.accounts["taker"].events.clear()
    response = venue.new_order("taker", order(quantity="0.5", price="50001", newClientOrderId="t1"))
    stream = venue.accounts["taker"].events
    events = [e for e in stream if e["e"] == "executionReport" and e["c"] == "t1"]
    assert [(e["x"], e["X"]) for e in events] == [
        ("NEW", "NEW"),
        ("TRADE", "PARTIALLY_FILLED"),
        ("TRADE", "FILLED"),
    ]
    assert events[-1]["z"] == response["executedQty"] == "0.50000000"
    assert events[-1]["Z"] == response["cummulativeQuoteQty"] == "25000.20000000"
    assert [e["t"] for e in events[1:]] == [f["tradeId"] for f in response["fills"]]
    maker_events = [
        e for e in venue.accounts["maker"].events if e["e"] == "executionReport" and e["x"] == "TRADE"
    ]
    assert {e["m"] for e in maker_events} == {True}
    balances = stream[-1]
    assert balances["e"] == "outboundAccountPosition", "balances are reported after the order events"
    assert {b["a"]: b["f"] for b in balances["B"]}["BTC"] == "10.49950000"  # 10 + 0.5 - 0.1% fee


def test_self_trade_prevention_and_market_expiry(venue: SpotExchange) -> None:
    venue.new_order("maker", order(side="SELL", quantity="0.2"))
    stp = venue.new_order("maker", order(quantity="0.1"))
    assert (stp["status"], stp["fills"]) == ("EXPIRED_IN_MATCH", [])
    expired = venue.new_order("taker", order(type="MARKET", timeInForce="", price="", quantity="0.5"))
    assert (expired["status"], expired["executedQty"]) == ("EXPIRED", "0.20000000")
    assert venue.accounts["taker"].locked.get("USDT", D(0)) == 0


def test_unknown_orders_and_ws_params(venue: SpotExchange) -> None:
    with pytest.raises(BinanceApiError) as caught:
        venue.cancel_order("taker", {"symbol": "BTCUSDT", "orderId": "999"})
    assert (caught.value.code, caught.value.msg) == (-2011, "Unknown order sent.")
    with pytest.raises(BinanceApiError) as caught:
        venue.get_order("taker", {"symbol": "BTCUSDT", "orderId": "999"})
    assert (caught.value.code, caught.value.msg) == (-2013, "Order does not exist.")
    with pytest.raises(BinanceApiError) as caught:
        venue.get_order("taker", {"symbol": "BTCUSDT"})
    assert caught.value.code == -1102
    assert parse_params({"quantity": "0.1", "timestamp": 17, "flag": True}) == {
        "quantity": "0.1",
        "timestamp": "17",
        "flag": "true",
    }


def test_cancel_report_carries_the_cancel_id_and_the_original(venue: SpotExchange) -> None:
    venue.new_order("maker", order(side="SELL", price="51000", newClientOrderId="orig1"))
    response = venue.cancel_order(
        "maker", {"symbol": "BTCUSDT", "origClientOrderId": "orig1", "newClientOrderId": "cxl1"}
    )
    report = [e for e in venue.accounts["maker"].events if e["e"] == "executionReport"][-1]
    assert (report["x"], report["c"], report["C"]) == ("CANCELED", "cxl1", "orig1")
    assert response["clientOrderId"] == "cxl1" and response["origClientOrderId"] == "orig1"


def test_market_buy_with_expire_maker_cannot_overspend(venue: SpotExchange) -> None:
    venue.add_account("poor", {"USDT": "55000", "BTC": "1"})
    venue.new_order("poor", order(side="SELL", quantity="1", price="50000"))
    venue.new_order("maker", order(side="SELL", quantity="1", price="60000"))
    code, msg = error(
        venue,
        "poor",
        order(type="MARKET", timeInForce="", price="", quantity="1", selfTradePreventionMode="EXPIRE_MAKER"),
    )
    assert (code, msg) == (-2010, "Account has insufficient balance for requested action.")
    assert venue.accounts["poor"].free["USDT"] == D(55000)


def test_a_buy_filled_below_its_limit_frees_the_difference_at_once(venue: SpotExchange) -> None:
    venue.new_order("maker", order(side="SELL", quantity="1", price="40000"))
    venue.new_order("taker", order(quantity="2", price="50000"))
    taker = venue.accounts["taker"]
    assert taker.locked["USDT"] == D(50000)  # only the resting 1 @ 50000
    assert taker.free["USDT"] == D(1000000) - D(40000) - D(50000)


@pytest.mark.parametrize("bad", ["1\n", "²", "-1"])
def test_ids_and_numbers_are_ascii_digits_only(venue: SpotExchange, bad: str) -> None:
    with pytest.raises(BinanceApiError) as caught:
        venue.get_order("taker", {"symbol": "BTCUSDT", "orderId": bad})
    assert caught.value.code == -1100
    assert error(venue, "taker", order(quantity=bad))[0] == -1100


def test_history_is_bounded_but_live_orders_are_never_forgotten(venue: SpotExchange) -> None:
    venue.orders.limit = 5
    resting = [
        venue.new_order("maker", order(side="SELL", price=str(60000 + i), quantity="0.01"))["orderId"]
        for i in range(8)
    ]
    for i in range(10):
        venue.new_order("maker", order(side="SELL", price="61000", quantity="0.01", newClientOrderId=f"c{i}"))
        venue.cancel_order("maker", {"symbol": "BTCUSDT", "origClientOrderId": f"c{i}"})
    assert all(
        venue.get_order("maker", {"symbol": "BTCUSDT", "orderId": str(i)})["status"] == "NEW" for i in resting
    )
    # The bound is applied as orders are added: the 8 live ones stay, plus the last one.
    assert len(venue.orders) == 9
    assert venue.get_order("maker", {"symbol": "BTCUSDT", "origClientOrderId": "c9"})["status"] == "CANCELED"
    with pytest.raises(BinanceApiError):
        venue.get_order("maker", {"symbol": "BTCUSDT", "origClientOrderId": "c0"})


def test_max_open_orders_per_symbol() -> None:
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT", max_num_orders=2)])
    venue.add_account("maker", {"BTC": "10", "USDT": "1000000"})
    first = venue.new_order("maker", order(price="49000"))
    venue.new_order("maker", order(price="49001"))
    assert error(venue, "maker", order(price="49002")) == (-1013, "Filter failure: MAX_NUM_ORDERS")
    venue.cancel_order("maker", {"symbol": "BTCUSDT", "orderId": str(first["orderId"])})
    assert venue.new_order("maker", order(price="49002"))["status"] == "NEW"  # room again


def test_cancel_restrictions(venue: SpotExchange) -> None:
    """ONLY_PARTIALLY_FILLED leaves a NEW order alone (-2011 with Binance's message);
    ONLY_NEW cancels it; an unknown restriction is -1145."""
    placed = venue.new_order("maker", order(price="49000"))
    cancel = {"symbol": "BTCUSDT", "orderId": str(placed["orderId"])}
    with pytest.raises(BinanceApiError) as kept:
        venue.cancel_order("maker", cancel | {"cancelRestrictions": "ONLY_PARTIALLY_FILLED"})
    assert (kept.value.code, kept.value.msg) == (-2011, "Order was not canceled due to cancel restrictions.")
    with pytest.raises(BinanceApiError) as invalid:
        venue.cancel_order("maker", cancel | {"cancelRestrictions": "SOMETIMES"})
    assert (invalid.value.code, invalid.value.msg) == (-1145, "Invalid cancelRestrictions")
    assert venue.cancel_order("maker", cancel | {"cancelRestrictions": "ONLY_NEW"})["status"] == "CANCELED"
