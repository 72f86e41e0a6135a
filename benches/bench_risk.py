"""a. ``RiskEngine.check`` from Python, per call and in a loop, against the empty PyO3
call ``RiskEngine.noop`` (the floor) and the pure-Python engine of
``pure_python_risk.py`` (the same rules, scopes and counters, on the same orders).

Before timing, ``risk_equivalence`` proves both engines decide alike (mixed stream with
limits at every scope, an order-rate burst) and both accept the benchmark's own stream
with equal counters. The benchmark stream: 24 instruments, limit orders within 40 bps
of the reference price, 10% market orders, generous limits set at every scope kind.
"""

from __future__ import annotations

import collections
import gc
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pure_python_risk as pyrisk
import risk_equivalence as eq
from harness import (
    SEED,
    Dist,
    Report,
    Target,
    decimal_str,
    emit,
    fmt_ns,
    fmt_x,
    gc_paused,
    ratio,
    table,
    time_each,
    time_empty_loop,
    time_loop,
    time_timer,
)
from oms.risk import RiskEngine, RiskOrder


@dataclass(frozen=True)
class Sizes:
    samples: int  # per-call samples of each of check / noop / pure Python
    chunk: int  # orders per interleaved chunk (released, untimed, after each)
    batch: int  # orders in one batch-timed loop
    batch_repeats: int
    equivalence_orders: int  # mixed-stream orders checked by both engines at start-up


FULL = Sizes(samples=1_000_000, chunk=1_000, batch=100_000, batch_repeats=5, equivalence_orders=3_000)
QUICK = Sizes(samples=50_000, chunk=1_000, batch=20_000, batch_repeats=3, equivalence_orders=1_000)

ACCOUNTS = ("acct-1", "acct-2", "acct-3", "acct-4")
VENUES = ("binance", "okx")
# symbol: (reference price, qty lower bound, upper bound, decimal places of qty)
MARKETS: dict[str, tuple[str, int, int, int]] = {
    "BTC/USDT": ("50000", 1, 500, 3),
    "ETH/USDT": ("3000", 1, 500, 2),
    "SOL/USDT": ("150", 1, 500, 1),
}
REFERENCES = {(venue, symbol): spec[0] for venue in VENUES for symbol, spec in MARKETS.items()}
POSITIONS = (("acct-1", "binance", "BTC/USDT", "2.5"), ("acct-2", "okx", "ETH/USDT", "-40"))
GLOBAL: dict[str, Any] = {
    "max_order_qty": "1000",
    "max_order_notional": "10000000",
    "max_position_qty": "10000000",
    "max_gross_exposure": "10000000000",
    "max_leverage": "50",
    "price_band_bps": 100,
    "max_open_orders": 1_000_000,
}
# Generous limits at every scope kind: every order of the stream is accepted, yet each
# route resolves limits from several levels and every rule runs.
GENEROUS: eq.LimitsConfig = [
    ({}, GLOBAL),
    (
        {"venue": "okx"},
        {"max_gross_exposure": "8000000000", "max_open_orders": 900_000, "price_band_bps": 80},
    ),
    ({"account": "acct-1"}, {"max_order_notional": "5000000", "max_open_orders": 800_000}),
    ({"symbol": "BTC/USDT"}, {"max_order_qty": "600", "max_position_qty": "5000000"}),
    ({"venue": "binance", "symbol": "ETH/USDT"}, {"price_band_bps": 60, "max_open_orders": 700_000}),
]
# The same plus a global order rate that never binds: every check reads the clock.
RATE = {"max_orders_per_second": 10_000_000, "order_burst": 10_000_000}
GENEROUS_WITH_RATE: eq.LimitsConfig = [({}, GLOBAL | RATE), *GENEROUS[1:]]


def order_specs(rng: random.Random, n: int) -> list[eq.OrderSpec]:
    """The benchmark stream: 24 instruments, limit orders within 40 bps, 10% market."""
    specs: list[eq.OrderSpec] = []
    symbols = list(MARKETS)
    for _ in range(n):
        symbol = rng.choice(symbols)
        reference, low, high, places = MARKETS[symbol]
        side: eq.Side = "BUY" if rng.random() < 0.5 else "SELL"
        qty = decimal_str(rng.randint(low, high), places)
        price = None
        if rng.random() >= 0.1:
            cents = round(int(reference) * 100 * (1 + rng.uniform(-0.004, 0.004)))
            price = decimal_str(cents, 2)
        specs.append((rng.choice(ACCOUNTS), rng.choice(VENUES), symbol, side, qty, price))
    return specs


def make_engines(config: eq.LimitsConfig) -> tuple[RiskEngine, pyrisk.Engine]:
    return eq.make_engines(config, REFERENCES, POSITIONS)


def verify_benchmark_stream(config: eq.LimitsConfig, n_orders: int) -> None:
    """The benchmark's own stream: both engines accept every order, same counters."""
    core, py = make_engines(config)
    instruments = [(a, v, s) for a in ACCOUNTS for v in VENUES for s in MARKETS]
    pairs = [(RiskOrder(*s), pyrisk.Order(*s)) for s in order_specs(random.Random(SEED), n_orders)]
    for c, p in pairs:
        got = eq.same_outcome("benchmark stream", (core.check, c), (py.check, p))
        assert got == "ACCEPTED", f"benchmark stream: {got}"
    eq.assert_same_state(core, py, instruments, "benchmark stream")
    for c, p in pairs:
        assert core.release(c) and py.release(p)
    eq.assert_same_state(core, py, instruments, "benchmark stream released")


def verify(sizes: Sizes) -> None:
    eq.verify_gcra_steps()
    mixed = eq.verify_mixed(SEED + 1, sizes.equivalence_orders)
    burst = eq.verify_rate_burst(random.Random(SEED + 1))
    for config in (GENEROUS, GENEROUS_WITH_RATE):
        verify_benchmark_stream(config, 500)
    codes: collections.Counter[str] = collections.Counter()  # orders, by code
    leverage: collections.Counter[str] = collections.Counter()  # set_leverage calls
    for name, count in mixed.items():
        code = name.removeprefix("set_leverage ").split("/")[0]
        (leverage if name.startswith("set_leverage") else codes)[code] += count
    rate_levels = sorted(name.split("/")[1] for name in burst if name.startswith("ORDER_RATE"))
    emit(
        f"Equivalence: the pure-Python engine gave the same decision as `RiskEngine.check` (code, level, "
        f"figures and message) and kept the same counters on {sizes.equivalence_orders:,} mixed steps with "
        f"limits at every scope (seed {SEED + 1}; {len(mixed)} distinct (outcome, level) pairs; orders: "
        + ", ".join(f"{code} {n}" for code, n in sorted(codes.items()))
        + "; set_leverage: "
        + ", ".join(f"{code} {n}" for code, n in sorted(leverage.items()))
        + f"), on a burst of {sum(burst.values())} orders against 1-2 orders/s "
        "limits (ORDER_RATE at "
        + ", ".join(rate_levels)
        + " level), and accepted the first 500 orders of the benchmark stream like the core, "
        "with and without a rate limit. By hand: `benches/risk_equivalence.py --seeds N`."
    )
    emit()


def warm_up(core: RiskEngine, py: pyrisk.Engine, specs: list[eq.OrderSpec]) -> None:
    """Check and release untimed: the first order of each instrument builds its route."""
    for spec in specs:
        c, p = RiskOrder(*spec), pyrisk.Order(*spec)
        core.check(c)
        py.check(p)
        core.release(c)
        py.release(p)


def per_call(sizes: Sizes, rng: random.Random, core: RiskEngine, py: pyrisk.Engine) -> dict[str, Dist]:
    """Per-call samples of noop / check / pure Python / the timer, interleaved in chunks."""
    kinds = ("noop", "check", "python", "timer")
    samples: dict[str, list[int]] = {kind: [] for kind in kinds}
    gc.collect()
    for index in range(sizes.samples // sizes.chunk):
        specs = order_specs(rng, sizes.chunk)
        core_orders = [RiskOrder(*s) for s in specs]
        py_orders = [pyrisk.Order(*s) for s in specs]
        calls: dict[str, tuple[Callable[[Any], object], list[Any]]] = {
            "noop": (core.noop, core_orders),
            "check": (core.check, core_orders),
            "python": (py.check, py_orders),
        }
        order = kinds[index % 4 :] + kinds[: index % 4]  # rotate: no kind always goes first
        with gc_paused():
            for kind in order:
                if kind == "timer":
                    time_timer(len(specs), samples[kind])
                else:
                    fn, args = calls[kind]
                    time_each(fn, args, samples[kind])
        for c in core_orders:
            core.release(c)
        for p in py_orders:
            py.release(p)
    return {kind: Dist.of(values) for kind, values in samples.items()}


def batched(
    sizes: Sizes, rng: random.Random, engines: dict[str, tuple[RiskEngine, pyrisk.Engine]]
) -> dict[str, float]:
    """ns/call of whole loops over fresh orders, median of the repeats (interleaved)."""
    core = engines["plain"][0]
    batch: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(sizes.batch_repeats):
        specs = order_specs(rng, sizes.batch)
        # (name, check, release, fresh orders): core and Python, without and with a rate limit
        runs: list[tuple[str, Callable[[Any], object], Callable[[Any], object], list[Any]]] = []
        for name, (c, p) in engines.items():
            runs.append((f"check {name}", c.check, c.release, [RiskOrder(*s) for s in specs]))
            runs.append((f"python {name}", p.check, p.release, [pyrisk.Order(*s) for s in specs]))
        noop_orders = runs[0][3]  # noop first: it leaves them unchecked
        gc.collect()
        with gc_paused():
            batch["loop"].append(time_empty_loop(noop_orders))
            batch["noop"].append(time_loop(core.noop, noop_orders))
            for name, check, _release, orders in runs:
                batch[name].append(time_loop(check, orders))
        for _name, _check, release, orders in runs:
            for o in orders:
                release(o)
        del runs, noop_orders
    return {kind: statistics.median(values) for kind, values in batch.items()}


def run(report: Report, quick: bool) -> None:
    sizes = QUICK if quick else FULL
    emit("## a. Risk check from Python")
    emit()
    verify(sizes)
    rng = random.Random(SEED)
    engines = {"plain": make_engines(GENEROUS), "rate": make_engines(GENEROUS_WITH_RATE)}
    warmup = order_specs(rng, sizes.chunk)
    for core, py in engines.values():
        warm_up(core, py, warmup)
    dists = per_call(sizes, rng, *engines["plain"])
    per_call_ns = batched(sizes, rng, engines)
    timer = dists["timer"]

    def row(label: str, kind: str) -> list[str]:
        d = dists[kind]
        batch = per_call_ns[{"check": "check plain", "python": "python plain"}.get(kind, kind)]
        return [label, fmt_ns(d.p50), fmt_ns(d.p99), fmt_ns(d.p999), fmt_ns(d.p50 - timer.p50), fmt_ns(batch)]

    limits = "; ".join(
        (", ".join(f"{k}={v}" for k, v in scope.items()) or "global")
        + ": "
        + ", ".join(f"{k}={v}" for k, v in values.items())
        for scope, values in GENEROUS
    )
    emit(
        f"Per call: {dists['check'].n:,} samples each, interleaved in chunks of {sizes.chunk:,} "
        f"(released untimed). Batch: one loop over {sizes.batch:,} fresh orders, median of "
        f"{sizes.batch_repeats}. Limits (every order accepted): {limits}; reference prices set; "
        "no rate limit (the clock is not read)."
    )
    emit()
    emit(
        table(
            ["call", "p50 ns", "p99 ns", "p99.9 ns", "p50 - timer ns", "batch ns/call"],
            [
                [
                    "timer: 2x perf_counter_ns",
                    fmt_ns(timer.p50),
                    fmt_ns(timer.p99),
                    fmt_ns(timer.p999),
                    "-",
                    "-",
                ],
                ["empty `for` loop", "-", "-", "-", "-", fmt_ns(per_call_ns["loop"])],
                row("`engine.noop(order)` (floor)", "noop"),
                row("`engine.check(order)`", "check"),
                row("pure-Python `check(order)`", "python"),
            ],
        )
    )
    emit()
    batch_check, batch_python = per_call_ns["check plain"], per_call_ns["python plain"]

    def ratios(label: str, num: str, den: str, batch: float, target: str) -> list[str]:
        a, b = dists[num], dists[den]
        net = ratio(a.p50 - timer.p50, b.p50 - timer.p50)
        return [
            label,
            fmt_x(ratio(a.p50, b.p50)),
            fmt_x(ratio(a.p99, b.p99)),
            fmt_x(ratio(a.p999, b.p999)),
            fmt_x(net),
            fmt_x(batch),
            target,
        ]

    emit(
        table(
            ["ratio", "p50", "p99", "p99.9", "p50 net of timer", "batch", "target"],
            [
                ratios("check / noop", "check", "noop", ratio(batch_check, per_call_ns["noop"]), "p99 <= 3x"),
                ratios(
                    "pure Python / check",
                    "python",
                    "check",
                    ratio(batch_python, batch_check),
                    ">= 20x (p50 net of timer; batch)",
                ),
            ],
        )
    )
    emit()
    emit(
        "With an order-rate limit (global max_orders_per_second=10,000,000, order_burst=10,000,000, "
        "never binding; otherwise the same limits), batch-timed in the same loops:"
    )
    emit()
    emit(
        table(
            ["call", "batch ns/call, no rate", "batch ns/call, rate", "difference ns"],
            [
                [
                    label,
                    fmt_ns(per_call_ns[f"{kind} plain"]),
                    fmt_ns(per_call_ns[f"{kind} rate"]),
                    fmt_ns(per_call_ns[f"{kind} rate"] - per_call_ns[f"{kind} plain"]),
                ]
                for label, kind in (
                    ("`engine.check(order)`", "check"),
                    ("pure-Python `check(order)`", "python"),
                )
            ],
        )
    )
    emit()
    d = dists
    report.targets += [
        Target("a. check p99 / noop p99 (per call)", ratio(d["check"].p99, d["noop"].p99), "<=", 3),
        Target("a. check / noop (batch ns/call)", ratio(batch_check, per_call_ns["noop"]), "<=", 3),
        # Speed compares the implementations, so the timer both samples carry comes off.
        Target(
            "a. pure-Python p50 / check p50, net of the timer (per call)",
            ratio(d["python"].p50 - d["timer"].p50, d["check"].p50 - d["timer"].p50),
            ">=",
            20,
        ),
        Target("a. pure-Python / check (batch ns/call)", ratio(batch_python, batch_check), ">=", 20),
    ]
    report.notes.append(
        "a. pure-Python p50 / check p50 with the timer left in (per call): "
        f"{fmt_x(ratio(d['python'].p50, d['check'].p50))} - the timer's ~50 ns is most of a check's sample"
    )
    report.notes.append(
        "a. with a global rate limit: pure-Python / check (batch) "
        f"{fmt_x(ratio(per_call_ns['python rate'], per_call_ns['check rate']))} - no target"
    )
