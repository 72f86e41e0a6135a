"""RiskEngine from Python: every reject code reachable, figures in the error,
reservations released exactly once."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from oms.errors import InvalidInput, RiskRejected
from oms.risk import REJECT_CODES, RiskEngine, RiskLimits, RiskOrder, TradingState

V, S, A = "binance:usdm", "BTC/USDT:USDT", "main"


def order(side: str = "BUY", qty: str = "1", price: str | None = "100", **kw: object) -> RiskOrder:
    return RiskOrder(kw.pop("account", A), kw.pop("venue", V), kw.pop("symbol", S), side, qty, price, **kw)  # type: ignore[arg-type]


def engine(**limits: object) -> RiskEngine:
    e = RiskEngine()
    e.set_limits(RiskLimits(**limits))  # type: ignore[arg-type]
    e.set_reference_price(V, S, "100")
    return e


def reject_code(e: RiskEngine, o: RiskOrder) -> str:
    try:
        e.check(o)
    except RiskRejected as r:
        return r.code
    return "OK"


def test_reject_carries_code_level_figures_and_a_sentence() -> None:
    e = engine(max_order_qty="2")
    with pytest.raises(RiskRejected) as caught:
        e.check(order(qty="2.5"))
    r = caught.value
    assert (r.code, r.level, r.value, r.limit) == ("MAX_ORDER_QTY", "global", Decimal("2.5"), Decimal(2))
    assert (
        r.message
        == "BUY 2.5 BTC/USDT:USDT on binance:usdm for main: order quantity 2.5 exceeds the global limit of 2"
    )


# One scenario per code; the test below checks the list covers REJECT_CODES.
def _max_order_qty() -> str:
    return reject_code(engine(max_order_qty="1"), order(qty="1.1"))


def _max_order_notional() -> str:
    return reject_code(engine(max_order_notional="500"), order(qty="6"))


def _max_position() -> str:
    e = engine(max_position_qty="2")
    e.check(order(qty="1.5"))
    return reject_code(e, order(qty="1"))


def _max_gross_exposure() -> str:
    e = RiskEngine()
    e.set_limits(RiskLimits(max_gross_exposure="1000"), venue=V)
    e.set_reference_price(V, S, "100")
    e.check(order(qty="6"))
    return reject_code(e, order(side="SELL", qty="5"))


def _max_leverage() -> str:
    e = engine()
    e.set_leverage(A, V, S, "50")
    e.set_limits(RiskLimits(max_leverage="20"), symbol=S)
    return reject_code(e, order())


def _price_band() -> str:
    return reject_code(engine(price_band_bps=50), order(price="101"))


def _no_reference_price() -> str:
    return reject_code(engine(price_band_bps=50), order(symbol="ETH/USDT:USDT"))


def _order_rate() -> str:
    e = engine(max_orders_per_second=1, order_burst=2)
    codes = [reject_code(e, order()) for _ in range(3)]
    assert codes[:2] == ["OK", "OK"]
    return codes[2]


def _max_open_orders() -> str:
    e = engine()
    e.set_limits(RiskLimits(max_open_orders=1), account=A)
    e.check(order())
    return reject_code(e, order())


def _daily_loss() -> str:
    e = engine(daily_loss_limit="1000")
    assert e.update_daily_pnl("-1000") == TradingState.HALTED
    return reject_code(e, order())


def _trading_halted() -> str:
    e = engine()
    e.set_trading_state("HALTED")
    return reject_code(e, order())


def _reduce_only() -> str:
    return reject_code(engine(), order(side="SELL", reduce_only=True))


def _duplicate_order() -> str:
    e = engine()
    o = order()
    e.check(o)
    return reject_code(e, o)


SCENARIOS = {
    "MAX_ORDER_QTY": _max_order_qty,
    "MAX_ORDER_NOTIONAL": _max_order_notional,
    "MAX_POSITION": _max_position,
    "MAX_GROSS_EXPOSURE": _max_gross_exposure,
    "MAX_LEVERAGE": _max_leverage,
    "PRICE_BAND": _price_band,
    "NO_REFERENCE_PRICE": _no_reference_price,
    "ORDER_RATE": _order_rate,
    "MAX_OPEN_ORDERS": _max_open_orders,
    "DAILY_LOSS": _daily_loss,
    "TRADING_HALTED": _trading_halted,
    "REDUCE_ONLY": _reduce_only,
    "DUPLICATE_ORDER": _duplicate_order,
}


def test_every_reject_code_has_a_scenario() -> None:
    assert sorted(SCENARIOS) == sorted(REJECT_CODES)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_every_reject_code_is_reachable(code: str) -> None:
    assert SCENARIOS[code]() == code


def test_daily_loss_goes_active_reducing_halted_and_reset_lifts_it() -> None:
    e = engine(daily_loss_limit="1000", daily_loss_reducing="600")
    e.set_position(A, V, S, "3")
    assert e.update_daily_pnl("-599.99") == "ACTIVE"
    assert e.update_daily_pnl("-600") == TradingState.REDUCING
    assert reject_code(e, order(side="BUY")) == "REDUCE_ONLY"
    assert reject_code(e, order(side="SELL", qty="2")) == "OK", "reducing orders still pass"
    assert e.update_daily_pnl("-1200") == "HALTED"
    assert e.trading_state_cause == "DAILY_LOSS"
    assert e.daily_pnl == Decimal(-1200)
    e.reset_daily()
    assert (e.trading_state, e.daily_pnl) == ("ACTIVE", 0)


def test_kill_switch_by_hand_survives_a_new_day() -> None:
    e = engine()
    e.set_trading_state("HALTED")
    e.reset_daily()
    assert (e.trading_state, e.trading_state_cause) == ("HALTED", "MANUAL")
    e.set_trading_state("ACTIVE")
    assert reject_code(e, order()) == "OK"


def test_fills_and_release_move_reservations_exactly_once() -> None:
    e = engine(max_position_qty="10", max_gross_exposure="100000")
    o = order(qty="4", price="100")
    e.check(o)
    assert (o.state, o.remaining, e.open_orders(), e.gross_exposure()) == ("OPEN", 4, 1, 400)
    e.on_fill(o, "1.5", "99")
    assert (o.remaining, e.position(A, V, S)) == (Decimal("2.5"), Decimal("1.5"))
    assert e.release(o) is True
    assert e.release(o) is False
    assert (o.state, e.open_orders(), e.gross_exposure(venue=V)) == ("DONE", 0, Decimal(150))
    with pytest.raises(InvalidInput):
        e.on_fill(order(), "1", "100")  # never checked


def test_scoped_limits_are_stored_and_validated() -> None:
    e = RiskEngine()
    limits = RiskLimits(max_order_qty="5", price_band_bps=100)
    e.set_limits(limits, venue=V)
    assert e.limits(venue=V) == limits
    assert e.limits(account=A) is None
    assert repr(limits) == "RiskLimits(max_order_qty=5, price_band_bps=100)"
    with pytest.raises(InvalidInput, match="daily loss"):
        e.set_limits(RiskLimits(daily_loss_limit="10"), venue=V)
    with pytest.raises(InvalidInput, match="max_order_qty"):
        e.set_limits(RiskLimits(max_order_qty="0"))
    with pytest.raises(InvalidInput, match="scope"):
        e.set_limits(limits, account=A, venue=V)
    with pytest.raises(InvalidInput):
        RiskLimits(max_order_qty=0.5)  # type: ignore[arg-type]


def test_venue_limit_applies_only_to_that_venue() -> None:
    e = RiskEngine()
    e.set_limits(RiskLimits(max_order_qty="1"), venue="binance:spot")
    assert reject_code(e, order(venue="binance:spot", symbol="BTC/USDT", qty="2")) == "MAX_ORDER_QTY"
    assert reject_code(e, order(venue="bybit:spot", symbol="BTC/USDT", qty="2")) == "OK"


def test_threads_checking_at_once_never_exceed_the_open_order_cap() -> None:
    e = engine(max_open_orders=50)
    accepted: list[RiskOrder] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(200):
            o = order(qty="0.01")
            if reject_code(e, o) == "OK":
                with lock:
                    accepted.append(o)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(accepted) == 50
    assert e.open_orders() == 50


def test_bad_orders_are_refused_before_any_check() -> None:
    for kwargs in ({"qty": "-1"}, {"qty": "0"}, {"price": "0"}, {"side": "LONG"}):
        with pytest.raises(InvalidInput):
            order(**kwargs)  # type: ignore[arg-type]
    assert repr(order(price=None)) == "RiskOrder(main binance:usdm BTC/USDT:USDT BUY 1 @ MARKET)"
