"""When an engine-held conditional order fires: stops, take-profits, trailing stops
(with and without an activation price), for both sides."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oms.engine.conditional import Held, fires
from oms.model import Order, OrderRequest, OrderType, Side

D = Decimal


def order(type_: OrderType, side: Side, **kw: object) -> Order:
    request = OrderRequest(venue="v:spot", symbol="BTC/USDT", side=side, type=type_, qty=D(1), **kw)  # type: ignore[arg-type]
    return Order(id="o", request=request.validate(), client_order_id="o")


@pytest.mark.parametrize(
    ("type_", "side", "quiet", "fire"),
    [
        (OrderType.STOP_MARKET, Side.SELL, "100.01", "100"),
        (OrderType.STOP_MARKET, Side.BUY, "99.99", "100"),
        (OrderType.TAKE_PROFIT_MARKET, Side.SELL, "99.99", "100"),
        (OrderType.TAKE_PROFIT_MARKET, Side.BUY, "100.01", "100"),
    ],
)
def test_stops_and_take_profits(type_: OrderType, side: Side, quiet: str, fire: str) -> None:
    o = order(type_, side, stop_price=D(100))
    held = Held(o)
    assert not fires(o, D(quiet), held)
    assert fires(o, D(fire), held)


def test_a_trailing_sell_follows_the_high_and_fires_on_the_pullback() -> None:
    o = order(OrderType.TRAILING_STOP, Side.SELL, trailing_bps=D(100))  # 1 %
    held = Held(o)
    for price in ("100", "105", "110", "109"):
        assert not fires(o, D(price), held)
    assert held.extreme == D(110)
    assert fires(o, D("108.9"), held)  # 110 less 1 %


def test_a_trailing_buy_waits_for_its_activation_price() -> None:
    o = order(OrderType.TRAILING_STOP, Side.BUY, trailing_bps=D(200), activation_price=D(90))
    held = Held(o)
    assert not fires(o, D(95), held) and held.extreme is None, "not active above 90"
    assert not fires(o, D(89), held) and not fires(o, D(85), held)
    assert held.extreme == D(85)
    assert not fires(o, D("86.6"), held)
    assert fires(o, D("86.7"), held)  # 85 plus 2 %
