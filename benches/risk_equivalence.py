"""Proof that the pure-Python baseline (``pure_python_risk.py``) decides exactly like the
Rust ``RiskEngine``: the same accept or reject (code, level, figures, message) order by
order, and the same open orders, exposure (global, per venue, per account), positions,
trading state and daily P&L after every step.

``bench_risk.py`` runs it once at start-up; run it by hand over many seeds with::

    .venv/bin/python benches/risk_equivalence.py --seeds 20 --orders 3000

Order rates: the Python API of the core has no clock injection, so the mixed stream
only carries generous rate limits (their code runs, they never bind), and
``verify_rate_burst`` fires a burst that clearly exceeds 1-2 orders/s limits at every
level: both engines see the whole burst inside one emission interval (checked; retried
if the machine stalls), where the core's real clock decides like the Python engine's
frozen one. ``verify_gcra_steps`` checks the Python GCRA alone with a stepped clock.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Literal

import pure_python_risk as pyrisk
from harness import SEED, decimal_str
from oms.errors import InvalidInput, RiskRejected
from oms.risk import RiskEngine, RiskLimits, RiskOrder

Side = Literal["BUY", "SELL"]
Scope = dict[str, str]  # set_limits keywords: {}, account=, venue=, symbol= (+ venue=)
LimitsConfig = Sequence[tuple[Scope, dict[str, Any]]]
Instrument = tuple[str, str, str]
OrderSpec = tuple[str, str, str, Side, str, str | None]

ACCOUNTS = ("acct-1", "acct-2", "acct-3")
VENUES = ("binance", "okx")
# symbol: (reference price, qty from, qty to, decimal places): notional up to ~300k each.
MARKETS: dict[str, tuple[str, int, int, int]] = {
    "BTC/USDT": ("50000", 1, 60, 1),
    "ETH/USDT": ("3000", 1, 100, 0),
    "SOL/USDT": ("150", 10, 2000, 0),
}
NO_REFERENCE_UNTIL_HALF_WAY = ("okx", "ETH/USDT")

ACCT3_VARIANTS: tuple[dict[str, Any], ...] = (
    {"max_leverage": "5", "max_order_qty": "1500"},
    {"max_leverage": "3", "max_open_orders": 5},
)
BTC_OKX_VARIANTS: tuple[dict[str, Any], ...] = (
    {},
    {"max_order_qty": "2", "max_open_orders": 2, "max_leverage": "2"},
)
# Every scope kind, tight enough that each rule binds at several levels.
SCOPED_LIMITS: LimitsConfig = [
    (
        {},
        {
            "max_order_qty": "1900",
            "max_order_notional": "280000",
            "max_position_qty": "3000",
            "max_gross_exposure": "4000000",
            "max_leverage": "20",
            "price_band_bps": 200,
            "max_open_orders": 22,
            "daily_loss_limit": "5000",
        },
    ),
    (
        {"venue": "okx"},
        {
            "max_order_notional": "250000",
            "price_band_bps": 150,
            "max_leverage": "10",
            "max_gross_exposure": "1600000",
        },
    ),
    ({"venue": "binance"}, {"max_open_orders": 14}),
    ({"account": "acct-1"}, {"max_open_orders": 8, "price_band_bps": 180}),
    # Generous order rate: runs the GCRA on every acct-2 order, never binds.
    (
        {"account": "acct-2"},
        {
            "max_order_notional": "200000",
            "max_position_qty": "1000",
            "max_gross_exposure": "1000000",
            "max_orders_per_second": 1000,
            "order_burst": 10000,
        },
    ),
    ({"account": "acct-3"}, ACCT3_VARIANTS[0]),
    ({"symbol": "BTC/USDT"}, {"max_order_qty": "5", "max_position_qty": "8", "price_band_bps": 120}),
    ({"symbol": "ETH/USDT"}, {"max_position_qty": "150", "max_open_orders": 3}),
    ({"venue": "binance", "symbol": "ETH/USDT"}, {"max_order_qty": "80", "max_order_notional": "150000"}),
    ({"symbol": "SOL/USDT"}, {"max_gross_exposure": "250000"}),
    (
        {"venue": "okx", "symbol": "SOL/USDT"},
        {
            "max_order_qty": "1700",
            "max_position_qty": "2000",
            "max_orders_per_second": 5000,
            "order_burst": 50000,
        },
    ),
]
# 1-2 orders/s at every level; ETH on okx merges rate 1 (okx) with burst 4 (any venue).
RATE_LIMITS: LimitsConfig = [
    ({}, {"max_orders_per_second": 1, "order_burst": 25}),
    ({"venue": "okx"}, {"max_orders_per_second": 1, "order_burst": 10}),
    ({"account": "acct-1"}, {"max_orders_per_second": 1, "order_burst": 8}),
    ({"venue": "binance", "symbol": "BTC/USDT"}, {"max_orders_per_second": 1, "order_burst": 3}),
    ({"symbol": "ETH/USDT"}, {"max_orders_per_second": 2, "order_burst": 4}),
    (
        {"venue": "okx", "symbol": "ETH/USDT"},
        {"max_orders_per_second": 1, "order_burst": 9, "max_order_qty": "50"},
    ),
]
SHORTEST_RATE_INTERVAL_NS = 500_000_000  # 2 orders/s


def apply_limits(core: RiskEngine, py: pyrisk.Engine, scope: Scope, limits: dict[str, Any]) -> None:
    core.set_limits(RiskLimits(**limits), **scope)
    py.set_limits(pyrisk.Limits(**limits), **scope)


def make_engines(
    config: LimitsConfig,
    references: dict[tuple[str, str], str],
    positions: Sequence[tuple[str, str, str, str]] = (),
    py_clock: Callable[[], int] = time.monotonic_ns,
) -> tuple[RiskEngine, pyrisk.Engine]:
    core, py = RiskEngine(), pyrisk.Engine(clock=py_clock)
    for scope, limits in config:
        apply_limits(core, py, scope, limits)
    for (venue, symbol), price in references.items():
        core.set_reference_price(venue, symbol, price)
        py.set_reference_price(venue, symbol, price)
    for account, venue, symbol, qty in positions:
        core.set_position(account, venue, symbol, qty)
        py.set_position(account, venue, symbol, qty)
    return core, py


Outcome = str | tuple[Any, ...]
Call = tuple[Any, ...]  # (callable, *args)


def outcome(call: Callable[..., object], *args: Any) -> Outcome:
    """``"ACCEPTED"``, or what was raised: a reject in full, an invalid input by class."""
    try:
        call(*args)
    except RiskRejected as e:
        return (e.code, e.level, e.value, e.limit, e.message)
    except InvalidInput as e:
        return type(e).__name__
    return "ACCEPTED"


def same_outcome(what: str, core_call: Call, py_call: Call) -> Outcome:
    got, py_got = outcome(*core_call), outcome(*py_call)
    assert got == py_got, f"{what}: core {got!r}, python {py_got!r}"
    return got


def assert_same_state(
    core: RiskEngine, py: pyrisk.Engine, instruments: Sequence[Instrument], where: str
) -> None:
    views: list[tuple[str, dict[str, str]]] = [("global", {})]
    views += [(f"venue {v}", {"venue": v}) for v in {i[1] for i in instruments}]
    views += [(f"account {a}", {"account": a}) for a in {i[0] for i in instruments}]
    for name, scope in views:
        a, b = core.open_orders(**scope), py.open_orders(**scope)
        assert a == b, f"{where}: open orders ({name}) {a} != {b}"
        x, y = core.gross_exposure(**scope), py.gross_exposure(**scope)
        assert x == y, f"{where}: gross exposure ({name}) {x} != {y}"
    for account, venue, symbol in instruments:
        p, q = core.position(account, venue, symbol), py.position(account, venue, symbol)
        assert p == q, f"{where}: position {account} {venue} {symbol}: {p} != {q}"
    states = (core.trading_state, core.trading_state_cause, core.daily_pnl)
    py_states = (py.trading_state, py.trading_state_cause, py.daily_pnl)
    assert states == py_states, f"{where}: state {states} != {py_states}"


def all_instruments() -> list[Instrument]:
    return [(a, v, s) for a in ACCOUNTS for v in VENUES for s in MARKETS]


def label(result: Outcome) -> str:
    return result if isinstance(result, str) else f"{result[0]}/{result[1]}"


class MixedStream:
    """One seeded run of the mixed stream (``verify_mixed``)."""

    def __init__(self, rng: random.Random, n_orders: int) -> None:
        self.rng, self.n_orders = rng, n_orders
        self.references = {
            (v, s): spec[0]
            for v in VENUES
            for s, spec in MARKETS.items()
            if (v, s) != NO_REFERENCE_UNTIL_HALF_WAY
        }
        self.core, self.py = make_engines(SCOPED_LIMITS, self.references)
        self.seen: collections.Counter[str] = collections.Counter()
        self.live: list[tuple[RiskOrder, pyrisk.Order]] = []
        self.done: list[tuple[RiskOrder, pyrisk.Order]] = []
        self.rejected: list[tuple[RiskOrder, pyrisk.Order]] = []
        self.variant = {"acct-3": 0, "btc-okx": 0}

    def same(
        self, what: str, call: Callable[..., object], py_call: Callable[..., object], *args: Any
    ) -> Outcome:
        """The same call on both engines (configuration: identical arguments)."""
        return same_outcome(what, (call, *args), (py_call, *args))

    def quantity(self, symbol: str, scale: int = 1) -> str:
        _ref, low, high, places = MARKETS[symbol]
        return decimal_str(self.rng.randint(low, high) * scale, places)

    def order(self) -> tuple[OrderSpec, bool]:
        rng = self.rng
        account, venue, symbol = rng.choice(ACCOUNTS), rng.choice(VENUES), rng.choice(list(MARKETS))
        side: Side = "BUY" if rng.random() < 0.5 else "SELL"
        price = None
        if rng.random() >= 0.15:
            reference = Decimal(self.references.get((venue, symbol), MARKETS[symbol][0]))
            price = decimal_str(round(reference * 100 * Decimal(1 + rng.uniform(-0.025, 0.025))), 2)
        return (account, venue, symbol, side, self.quantity(symbol), price), rng.random() < 0.1

    def events(self, step: int) -> None:
        """Everything but new orders: configuration, state, prices, positions."""
        rng, core, py, same = self.rng, self.core, self.py, self.same
        if step == self.n_orders // 2:
            venue, symbol = NO_REFERENCE_UNTIL_HALF_WAY
            self.references[venue, symbol] = MARKETS[symbol][0]
            same("late reference", core.set_reference_price, py.set_reference_price, venue, symbol, "3000")
        event = rng.random()
        if event < 0.02:  # by hand: mostly resuming
            state = rng.choice(("ACTIVE",) * 8 + ("REDUCING", "HALTED"))
            same("state", core.set_trading_state, py.set_trading_state, state)
        elif event < 0.03:
            pnl = decimal_str(rng.randint(-550_000, 100_000), 2)
            same("daily pnl", core.update_daily_pnl, py.update_daily_pnl, pnl)
        elif event < 0.05:
            same("reset daily", core.reset_daily, py.reset_daily)
        elif event < 0.09:
            account, venue, symbol = rng.choice(all_instruments())
            qty = self.quantity(symbol, rng.choice((-2, -1, 1, 2)))
            same("set position", core.set_position, py.set_position, account, venue, symbol, qty)
        elif event < 0.14:
            venue, symbol = rng.choice(list(self.references))
            base = Decimal(MARKETS[symbol][0])
            price = decimal_str(round(base * 100 * Decimal(1 + rng.uniform(-0.01, 0.01))), 2)
            self.references[venue, symbol] = price
            same("reference", core.set_reference_price, py.set_reference_price, venue, symbol, price)
        elif event < 0.18:
            leverage = rng.choice(("1", "2", "3", "4", "5", "8", "10", "15", "20", "25"))
            instrument = rng.choice(all_instruments())
            got = same("leverage", core.set_leverage, py.set_leverage, *instrument, leverage)
            self.seen[f"set_leverage {label(got)}"] += 1
        elif event < 0.19:
            self.variant["acct-3"] ^= 1
            apply_limits(core, py, {"account": "acct-3"}, ACCT3_VARIANTS[self.variant["acct-3"]])
        elif event < 0.20:
            self.variant["btc-okx"] ^= 1
            scope = {"venue": "okx", "symbol": "BTC/USDT"}
            apply_limits(core, py, scope, BTC_OKX_VARIANTS[self.variant["btc-okx"]])

    def order_life(self, where: str) -> None:
        """Releases and fills of earlier orders (partial, full, beyond, after the end)."""
        rng, core, py, live = self.rng, self.core, self.py, self.live
        if live and rng.random() < 0.1:
            c, p = live.pop(rng.randrange(len(live)))
            assert core.release(c) == py.release(p), f"{where}: release"
            self.done.append((c, p))
        if live and rng.random() < 0.1:
            index = rng.randrange(len(live))
            c, p = live[index]
            fill = rng.choice((c.remaining, (c.qty / 3).quantize(Decimal("1e-8")), c.qty))
            price = c.price if c.price is not None else Decimal(self.references[c.venue, c.symbol])
            if fill > 0:
                same_outcome(f"{where}: fill", (core.on_fill, c, fill, price), (py.on_fill, p, fill, price))
                if c.state == "DONE":
                    self.done.append(live.pop(index))
        for pool, chance in ((self.done, 0.03), (self.rejected, 0.01)):
            if pool and rng.random() < chance:  # a late fill, or one for an order never accepted
                c, p = pool[rng.randrange(len(pool))]
                price = c.price or Decimal(1)
                same_outcome(
                    f"{where}: late fill", (core.on_fill, c, c.qty, price), (py.on_fill, p, c.qty, price)
                )
        for c, p in live:
            assert (c.state, c.remaining) == (p.state_name, Decimal(p.remaining).scaleb(-8)), where

    def run(self) -> collections.Counter[str]:
        core, py, rng = self.core, self.py, self.rng
        instruments = all_instruments()
        for step in range(self.n_orders):
            where = f"step {step}"
            self.events(step)
            self.order_life(where)
            spec, reduce_only = self.order()
            c, p = RiskOrder(*spec, reduce_only=reduce_only), pyrisk.Order(*spec, reduce_only=reduce_only)
            got = same_outcome(
                f"{where}: check {spec} reduce_only={reduce_only}", (core.check, c), (py.check, p)
            )
            self.seen[label(got)] += 1
            if got == "ACCEPTED":
                self.live.append((c, p))
            else:
                self.rejected.append((c, p))
            if rng.random() < 0.03 and (self.live or self.done):  # an open or finished order again
                c, p = rng.choice(self.live + self.done)
                again = same_outcome(f"{where}: check again", (core.check, c), (py.check, p))
                assert label(again) == "DUPLICATE_ORDER/global", f"{where}: {again}"
                self.seen[label(again)] += 1
            assert_same_state(core, py, instruments, where)
        for c, p in self.live:
            assert core.release(c) == py.release(p)
        assert_same_state(core, py, instruments, "end")
        assert core.open_orders() == 0, "orders left open at the end"
        return self.seen


def verify_mixed(seed: int, n_orders: int) -> collections.Counter[str]:
    """The mixed stream under ``SCOPED_LIMITS``: returns how often each outcome occurred."""
    return MixedStream(random.Random(seed), n_orders).run()


def frozen_clock(now_ns: int) -> Callable[[], int]:
    return lambda: now_ns


def verify_rate_burst(rng: random.Random, n_orders: int = 80, attempts: int = 3) -> collections.Counter[str]:
    """A burst far beyond ``RATE_LIMITS``, decided the same by both engines.

    The Python engine's clock is frozen; the core's is real, which decides the same as
    long as the whole burst fits in one emission interval: checked, and retried with
    fresh engines (and the same orders) if the machine stalled.
    """
    specs: list[OrderSpec] = []
    for _ in range(n_orders):
        symbol = rng.choice(("BTC/USDT", "ETH/USDT"))
        side: Side = "BUY" if rng.random() < 0.5 else "SELL"
        spec: OrderSpec = (
            rng.choice(ACCOUNTS),
            rng.choice(VENUES),
            symbol,
            side,
            str(rng.randint(1, 60)),
            None,
        )
        specs.append(spec)
    releases = [rng.random() < 0.3 for _ in specs]
    references = {(v, s): MARKETS[s][0] for v in VENUES for s in MARKETS}
    instruments = all_instruments()
    for _attempt in range(attempts):
        core, py = make_engines(RATE_LIMITS, references, py_clock=frozen_clock(time.monotonic_ns()))
        seen: collections.Counter[str] = collections.Counter()
        started = time.monotonic_ns()
        for index, (spec, release) in enumerate(zip(specs, releases, strict=True)):
            c, p = RiskOrder(*spec), pyrisk.Order(*spec)
            got = same_outcome(f"rate burst order {index} {spec}", (core.check, c), (py.check, p))
            seen[label(got)] += 1
            if release:  # frees the open order, not the rate slot
                assert core.release(c) == py.release(p)
            assert_same_state(core, py, instruments, f"rate burst order {index}")
        if time.monotonic_ns() - started < SHORTEST_RATE_INTERVAL_NS // 2:
            assert any(name.startswith("ORDER_RATE") for name in seen), f"no rate reject: {seen}"
            return seen
    raise RuntimeError("the rate burst never fit in 0.25 s: machine too loaded to compare rates")


def verify_gcra_steps() -> None:
    """The Python GCRA with a stepped clock, as the core's ``gcra_allows_the_burst_then_the_rate``."""
    now = [1_000]
    engine = pyrisk.Engine(clock=lambda: now[0])
    engine.set_limits(pyrisk.Limits(max_orders_per_second=10, order_burst=3))  # 3 at once, then 1 per 0.1 s
    engine.set_reference_price("binance", "BTC/USDT", "50000")

    def check() -> str:
        return label(outcome(engine.check, pyrisk.Order("acct-1", "binance", "BTC/USDT", "BUY", "1")))

    assert [check() for _ in range(4)] == ["ACCEPTED"] * 3 + ["ORDER_RATE/global"]
    now[0] += 100_000_000
    assert [check(), check()] == ["ACCEPTED", "ORDER_RATE/global"]
    now[0] += 250_000_000
    assert [check(), check(), check()] == ["ACCEPTED", "ACCEPTED", "ORDER_RATE/global"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rust vs pure-Python risk engine: same decisions.")
    parser.add_argument("--seeds", type=int, default=10, help="how many seeds (from SEED + 1)")
    parser.add_argument("--orders", type=int, default=2000, help="orders per seed in the mixed stream")
    args = parser.parse_args(argv)
    verify_gcra_steps()
    mixed: collections.Counter[str] = collections.Counter()
    rates: collections.Counter[str] = collections.Counter()
    started = time.monotonic()
    for seed in range(SEED + 1, SEED + 1 + args.seeds):
        mixed += verify_mixed(seed, args.orders)
        rates += verify_rate_burst(random.Random(seed))
    elapsed = time.monotonic() - started
    print(f"{args.seeds} seeds x {args.orders} orders: same decisions and state ({elapsed:.1f} s)")
    print("mixed stream outcomes (code/level):")
    for name, count in sorted(mixed.items()):
        print(f"  {name}: {count}")
    print("rate burst outcomes:")
    for name, count in sorted(rates.items()):
        print(f"  {name}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
