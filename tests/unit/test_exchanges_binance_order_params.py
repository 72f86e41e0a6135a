"""OrderRequest -> Binance parameters, proven by placing each kind on the simulated
venues (which check them as Binance does) and reading back what they became."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from oms.errors import NotSupported
from oms.exchanges.binance.order_params import spot_params, usdm_params
from oms.model import OrderRequest, OrderType, PositionSide, Side, TimeInForce, TriggerPrice
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_symbols import FuturesSymbol

D = Decimal


def request(type_: OrderType, side: Side = Side.SELL, **kw: Any) -> OrderRequest:
    fields: dict[str, Any] = {"venue": "binance:spot", "symbol": "BTC/USDT", "side": side, "type": type_}
    return OrderRequest(**(fields | {"qty": D("0.01")} | kw)).validate()


@pytest.fixture
def spot() -> SpotExchange:
    """Last trade 50,000; bids to 49,000, asks from 50,100."""
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
    for name in ("mm", "alice"):
        venue.add_account(name, {"BTC": "10", "USDT": "1000000"})
    base = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}
    venue.new_order("mm", base | {"side": "SELL", "quantity": "0.1", "price": "50000"})
    venue.new_order("alice", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"})
    venue.new_order("mm", base | {"side": "SELL", "quantity": "1", "price": "50100"})
    venue.new_order("mm", base | {"side": "BUY", "quantity": "1", "price": "49000"})
    return venue


@pytest.mark.parametrize(
    ("req", "binance_type", "status"),
    [
        (request(OrderType.MARKET, Side.BUY), "MARKET", "FILLED"),
        (request(OrderType.LIMIT, price=D("49500"), time_in_force=TimeInForce.IOC), "LIMIT", "EXPIRED"),
        (request(OrderType.LIMIT_MAKER, price=D("50050")), "LIMIT_MAKER", "NEW"),
        (request(OrderType.STOP_MARKET, stop_price=D("49500")), "STOP_LOSS", "NEW"),
        (request(OrderType.STOP_LIMIT, stop_price=D("49500"), price=D("49400")), "STOP_LOSS_LIMIT", "NEW"),
        (request(OrderType.TAKE_PROFIT_MARKET, stop_price=D("51000")), "TAKE_PROFIT", "NEW"),
        (
            request(OrderType.TAKE_PROFIT_LIMIT, stop_price=D("51000"), price=D("51000")),
            "TAKE_PROFIT_LIMIT",
            "NEW",
        ),
        (request(OrderType.TRAILING_STOP, trailing_bps=D(100)), "STOP_LOSS", "NEW"),
        (request(OrderType.LIMIT, Side.BUY, qty=D("1E-3"), price=D("4.9E+4")), "LIMIT", "NEW"),
    ],
)
def test_every_spot_kind_is_placed_as_meant(
    spot: SpotExchange, req: OrderRequest, binance_type: str, status: str
) -> None:
    params = spot_params(req, "BTCUSDT", "cid1")
    placed = spot.new_order("alice", params)
    order = spot.get_order("alice", {"symbol": "BTCUSDT", "orderId": str(placed["orderId"])})
    assert (order["type"], order["status"], order["clientOrderId"]) == (binance_type, status, "cid1")
    assert "e" not in params["quantity"].lower() and "e" not in params.get("price", "").lower()
    if req.type is OrderType.TRAILING_STOP:
        assert order["trailingDelta"] == 100


@pytest.mark.parametrize(
    "req",
    [
        request(OrderType.LIMIT, price=D(1), time_in_force=TimeInForce.GTX),
        request(OrderType.MARKET, reduce_only=True),
        request(OrderType.STOP_MARKET, stop_price=D(1), trigger_by=TriggerPrice.MARK),
        request(OrderType.TRAILING_STOP, trailing_bps=D("12.5")),
    ],
)
def test_what_spot_cannot_express_is_refused_before_sending(req: OrderRequest) -> None:
    with pytest.raises(NotSupported):
        spot_params(req, "BTCUSDT", "cid")


@pytest.fixture
def futures() -> FuturesExchange:
    venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")])
    for name in ("mm", "alice"):
        venue.add_account(name, "1000000")
    venue.set_mark_price("BTCUSDT", "50000")
    base = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}
    venue.new_order("mm", base | {"side": "SELL", "quantity": "0.1", "price": "50000"})
    venue.new_order("alice", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"})
    venue.new_order("mm", base | {"side": "SELL", "quantity": "1", "price": "50100"})
    venue.new_order("mm", base | {"side": "BUY", "quantity": "1", "price": "49000"})
    return venue


def test_futures_plain_orders(futures: FuturesExchange) -> None:
    endpoint, params = usdm_params(
        request(OrderType.MARKET, reduce_only=True, qty=D("0.05")), "BTCUSDT", "f2"
    )
    placed = futures.new_order("alice", params)
    assert (endpoint, placed["status"], placed["reduceOnly"]) == ("order", "FILLED", True)
    endpoint, params = usdm_params(
        request(OrderType.LIMIT_MAKER, Side.BUY, price=D("49900")), "BTCUSDT", "f1"
    )
    placed = futures.new_order("alice", params)
    assert (endpoint, placed["type"], placed["timeInForce"], placed["status"]) == (
        "order",
        "LIMIT",
        "GTX",
        "NEW",
    )


@pytest.mark.parametrize(
    ("req", "algo_type", "extra"),
    [
        (
            request(OrderType.STOP_MARKET, stop_price=D(49000), trigger_by=TriggerPrice.MARK),
            "STOP_MARKET",
            {"workingType": "MARK_PRICE"},
        ),
        (request(OrderType.STOP_LIMIT, stop_price=D(49000), price=D(48900)), "STOP", {"price": "48900"}),
        (
            request(OrderType.TAKE_PROFIT_MARKET, close_position=True, stop_price=D(52000)),
            "TAKE_PROFIT_MARKET",
            {"closePosition": True, "quantity": "0"},
        ),
        (request(OrderType.TAKE_PROFIT_LIMIT, stop_price=D(52000), price=D(52000)), "TAKE_PROFIT", {}),
        (
            request(OrderType.TRAILING_STOP, trailing_bps=D(150), activation_price=D(51000)),
            "TRAILING_STOP_MARKET",
            {"callbackRate": "1.5", "activatePrice": "51000"},
        ),
    ],
)
def test_futures_conditionals_go_to_the_algo_endpoint(
    futures: FuturesExchange, req: OrderRequest, algo_type: str, extra: dict[str, Any]
) -> None:
    endpoint, params = usdm_params(req, "BTCUSDT", "algo1")
    assert endpoint == "algoOrder"
    placed = futures.algos.place("alice", params)
    assert (placed["orderType"], placed["algoStatus"], placed["clientAlgoId"]) == (algo_type, "NEW", "algo1")
    assert {k: placed[k] for k in extra} == extra


def test_hedge_mode_names_the_side_instead_of_reduce_only(futures: FuturesExchange) -> None:
    futures.change_position_mode("alice", True)
    req = request(
        OrderType.LIMIT, Side.SELL, price=D("50200"), reduce_only=True, position_side=PositionSide.SHORT
    )
    _, params = usdm_params(req, "BTCUSDT", "h1")
    assert "reduceOnly" not in params and params["positionSide"] == "SHORT"
    assert futures.new_order("alice", params)["positionSide"] == "SHORT"
    with pytest.raises(NotSupported):
        usdm_params(request(OrderType.MARKET, close_position=True), "BTCUSDT", "x")
