"""Instrument rules: each filter named in its rejection, exact, and rounding on request;
the core's fixed-point filters pass exactly the orders the exact check passes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.errors import FilterViolation, InvalidInput
from oms.instruments import check_exact_order, check_order, fast_filters, round_price, round_qty
from oms.model import Instrument, InstrumentKind, OrderType, Side
from oms.risk import RiskOrder

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


# ---- the core's filters decide as the exact check does ----

_steps = st.sampled_from([None, *(Decimal(1).scaleb(-k) for k in range(9))])
_SIDES, _TYPES = list(Side), [OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_LIMIT, OrderType.STOP_MARKET]


def _near(draw: st.DrawFn, value: Decimal, step: Decimal | None) -> Decimal:
    """``value`` or a step or two away (on or off the grid): where rules pass or refuse."""
    nudge = draw(st.sampled_from([0, 0, 0, 1, -1, 2]))
    unit = step or Decimal("0.00000001")
    moved = value + nudge * unit + (Decimal("0.00000001") if draw(st.integers(0, 9)) == 0 else 0)
    return max(moved, Decimal("0.00000001"))


def _maybe(draw: st.DrawFn, value: Decimal) -> Decimal | None:
    return value if draw(st.booleans()) else None


@st.composite
def _instrument_and_order(draw: st.DrawFn) -> tuple[Instrument, dict[str, Any]]:
    tick, step, market_step = draw(_steps), draw(_steps), draw(_steps)
    price = Decimal(draw(st.integers(1, 10**6))) * (tick or Decimal("0.01"))
    qty = Decimal(draw(st.integers(1, 10**4))) * (step or Decimal("0.001"))
    away = draw(st.sampled_from(["0.9", "0.95", "0.99", "1", "1.01", "1.05", "1.1"]))
    reference = (price * Decimal(away)).quantize(Decimal("0.00000001")) if draw(st.booleans()) else None
    notional = (qty * price).quantize(Decimal("0.01"))
    inst = msgspec.structs.replace(
        SPOT,
        tick_size=tick,
        min_price=_maybe(draw, _near(draw, price, tick)),
        max_price=_maybe(draw, _near(draw, price, tick)),
        step_size=step,
        min_qty=_maybe(draw, _near(draw, qty, step)),
        max_qty=_maybe(draw, _near(draw, qty, step)),
        market_step_size=market_step,
        market_min_qty=_maybe(draw, _near(draw, qty, market_step)),
        market_max_qty=_maybe(draw, _near(draw, qty, market_step)),
        min_notional=_maybe(draw, _near(draw, notional, Decimal("0.01"))),
        max_notional=_maybe(draw, _near(draw, notional, Decimal("0.01"))),
        price_up_multiplier=_maybe(draw, Decimal("1.05")),
        price_down_multiplier=_maybe(draw, Decimal("0.95")),
        bid_up_multiplier=_maybe(draw, Decimal("1.01")),
        bid_down_multiplier=None,
        ask_up_multiplier=None,
        ask_down_multiplier=_maybe(draw, Decimal("0.99")),
        contract_size=draw(st.sampled_from([Decimal(1), Decimal("0.001"), Decimal(100)])),
        steps_from_minimum=draw(st.booleans()),
        min_notional_applies_to_market=draw(st.booleans()),
        trading=draw(st.integers(0, 19)) > 0,
    )
    type_ = draw(st.sampled_from(_TYPES))
    order = {
        "side": draw(st.sampled_from(_SIDES)),
        "type": type_,
        "qty": _near(draw, qty, step),
        "price": _near(draw, price, tick) if type_.has_limit_price else None,
        "stop_price": _near(draw, price, tick) if type_.is_conditional else None,
        "reference_price": reference,
    }
    return inst, order


@settings(max_examples=2000, derandomize=True, deadline=None)
@given(_instrument_and_order())
def test_the_core_filters_pass_exactly_the_orders_the_exact_check_passes(
    case: tuple[Instrument, dict[str, Any]],
) -> None:
    inst, order = case
    filters = fast_filters(inst)
    assert filters is not None
    risk_order = RiskOrder("a", inst.venue, inst.symbol, order["side"].value, order["qty"], order["price"])
    core = filters.passes(
        risk_order, not order["type"].has_limit_price, order["stop_price"], order["reference_price"]
    )
    try:
        check_exact_order(inst, **order)
    except FilterViolation:
        exact = False
    else:
        exact = True
    assert core == exact


def test_instruments_the_core_cannot_hold_are_left_to_the_exact_check() -> None:
    assert fast_filters(msgspec.structs.replace(SPOT, tick_size=D("0.000000001"))) is None
    assert fast_filters(msgspec.structs.replace(SPOT, bid_up_multiplier=D(0))) is None
    assert fast_filters(SPOT) is not None
