"""Instrument rules: each filter named in its rejection, exact, and rounding on request."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oms.errors import FilterViolation, InvalidInput
from oms.instruments import check_order, round_price, round_qty
from oms.model import Instrument, InstrumentKind, OrderType, Side

D = Decimal

# Figures of Binance's BTCUSDT spot filters (tick 0.01, step 0.00001, notional 5).
SPOT = Instrument(
    venue="binance:spot",
    symbol="BTC/USDT",
    native_symbol="BTCUSDT",
    kind=InstrumentKind.SPOT,
    base="BTC",
    quote="USDT",
    tick_size=D("0.01"),
    min_price=D("0.01"),
    max_price=D("1000000"),
    step_size=D("0.00001"),
    min_qty=D("0.00001"),
    max_qty=D("9000"),
    market_step_size=D("0.00001"),
    market_min_qty=D("0.00001"),
    market_max_qty=D("100"),
    min_notional=D("5"),
    max_notional=D("9000000"),
    bid_up_multiplier=D("5"),
    bid_down_multiplier=D("0.2"),
    ask_up_multiplier=D("5"),
    ask_down_multiplier=D("0.2"),
)
FUTURES = Instrument(
    venue="binance:usdm",
    symbol="BTC/USDT:USDT",
    native_symbol="BTCUSDT",
    kind=InstrumentKind.SWAP,
    base="BTC",
    quote="USDT",
    settle="USDT",
    tick_size=D("0.10"),
    min_price=D("556.80"),
    step_size=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D("100"),
    steps_from_minimum=True,
)


def limit(inst: Instrument = SPOT, **kw: object) -> None:
    args: dict[str, object] = {"side": Side.BUY, "type": OrderType.LIMIT, "qty": "0.001", "price": "50000"}
    args.update(kw)
    check_order(inst, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "code", "rule", "words"),
    [
        ({"price": "0.001"}, "PRICE_TOO_LOW", "PRICE_FILTER", "price 0.001 is below the minimum 0.01"),
        ({"price": "2000000"}, "PRICE_TOO_HIGH", "PRICE_FILTER", "above the maximum 1000000"),
        ({"price": "50000.005"}, "PRICE_TICK", "PRICE_FILTER", "not a multiple of the tick 0.01"),
        ({"qty": "0.000001"}, "QTY_TOO_LOW", "LOT_SIZE", "below the minimum 0.00001"),
        ({"qty": "9001"}, "QTY_TOO_HIGH", "LOT_SIZE", "above the maximum 9000"),
        ({"qty": "0.000015"}, "QTY_STEP", "LOT_SIZE", "not a multiple of the step 0.00001"),
        ({"qty": "0.00005"}, "MIN_NOTIONAL", "NOTIONAL", "notional 2.50000 is below the minimum 5"),
        ({"qty": "200", "price": "50000"}, "MAX_NOTIONAL", "NOTIONAL", "above the maximum 9000000"),
        (
            {"price": "9000", "reference_price": "50000"},
            "PERCENT_PRICE",
            "PERCENT_PRICE",
            "below the band's bottom",
        ),
        (
            {"type": OrderType.MARKET, "price": None, "qty": "101"},
            "MARKET_QTY_TOO_HIGH",
            "MARKET_LOT_SIZE",
            "100",
        ),
        (
            {"type": OrderType.STOP_LIMIT, "stop_price": "49999.999"},
            "PRICE_TICK",
            "PRICE_FILTER",
            "stop_price",
        ),
    ],
)
def test_each_rule_names_itself_the_value_and_the_limit(
    kw: dict[str, object], code: str, rule: str, words: str
) -> None:
    with pytest.raises(FilterViolation) as caught:
        limit(**kw)
    err = caught.value
    assert (err.code, err.rule) == (code, rule)
    assert words in err.message
    assert isinstance(err, InvalidInput)


def test_valid_orders_pass() -> None:
    limit()
    limit(type=OrderType.MARKET, price=None, qty="0.5", reference_price="50000")
    limit(side=Side.SELL, price="240000", reference_price="50000")


def test_market_orders_use_the_reference_price_for_notional() -> None:
    with pytest.raises(FilterViolation) as caught:
        limit(type=OrderType.MARKET, price=None, qty="0.00005", reference_price="50000")
    assert caught.value.code == "MIN_NOTIONAL"


def test_futures_grid_counts_from_the_minimum() -> None:
    limit(FUTURES, price="556.90", qty="0.2")  # 556.80 + 1 tick
    with pytest.raises(FilterViolation) as caught:
        limit(FUTURES, price="557.05", qty="0.2")
    assert caught.value.code == "PRICE_TICK"


def test_not_trading_and_bad_numbers() -> None:
    halted = Instrument(
        venue="x:y",
        symbol="A/B",
        native_symbol="AB",
        kind=InstrumentKind.SPOT,
        base="A",
        quote="B",
        trading=False,
    )
    with pytest.raises(FilterViolation) as caught:
        limit(halted)
    assert caught.value.code == "INSTRUMENT_NOT_TRADING"
    for bad in ({"qty": "-1"}, {"qty": 0.1}, {"price": "NaN"}):
        with pytest.raises(InvalidInput):
            limit(**bad)


def test_rounding_only_when_asked_and_exact() -> None:
    assert round_price(SPOT, "50000.005") == D("50000.00")
    assert round_price(SPOT, "50000.015") == D("50000.02")  # half-even
    assert round_price(SPOT, "50000.011", "up") == D("50000.02")
    assert round_price(SPOT, "50000.019", "down") == D("50000.01")
    assert round_qty(SPOT, "0.123456789") == D("0.12345")
    assert round_qty(SPOT, "0.000001") == 0
    assert round_qty(FUTURES, "1.0009", "up") == D("1.001")
    with pytest.raises(InvalidInput):
        round_qty(SPOT, "1", "sideways")  # type: ignore[arg-type]
