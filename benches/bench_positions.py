"""d. ``PositionBook.apply_fill`` from Python vs a pure-Python average-cost position book
in ``Decimal`` (the same accounting rules), one key, alternating BUY / SELL fills.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from harness import SEED, Report, decimal_str, emit, fmt_ns, fmt_x, gc_paused, ratio, table
from oms.errors import InvalidInput
from oms.positions import PositionBook

Side = Literal["BUY", "SELL"]


@dataclass(frozen=True)
class Sizes:
    fills: int
    fill_repeats: int


FULL = Sizes(fills=100_000, fill_repeats=5)
QUICK = Sizes(fills=10_000, fill_repeats=5)

Q8 = Decimal("1e-8")
Q16 = Decimal("1e-16")
ZERO = Decimal(0)


class PyPosition:
    __slots__ = (
        "avg_entry_price",
        "cost_basis",
        "fees_paid",
        "fill_count",
        "qty",
        "realized_pnl",
        "updated_ns",
    )

    def __init__(self) -> None:
        self.qty = ZERO
        self.cost_basis = ZERO  # signed: qty x entry price
        self.realized_pnl = ZERO
        self.fees_paid = ZERO
        self.avg_entry_price = ZERO
        self.fill_count = 0
        self.updated_ns = 0


class PyPositionBook:
    """Pure-Python average-cost positions (the same rules as the core's accounting)."""

    def __init__(self) -> None:
        self._positions: dict[tuple[str, str, str], PyPosition] = {}

    def get(self, account: str, venue: str, symbol: str) -> PyPosition | None:
        return self._positions.get((account, venue, symbol))

    def apply_fill(
        self,
        account: str,
        venue: str,
        symbol: str,
        side: Side,
        qty: Decimal | str,
        price: Decimal | str,
        fee: Decimal | str | None = None,
    ) -> None:
        qty = qty if isinstance(qty, Decimal) else Decimal(qty)
        price = price if isinstance(price, Decimal) else Decimal(price)
        if qty <= 0 or price <= 0:
            raise InvalidInput(f"fill quantity {qty} and price {price} must be positive")
        if side == "BUY":
            signed = qty
        elif side == "SELL":
            signed = -qty
        else:
            raise InvalidInput(f"side {side!r} must be BUY or SELL")
        key = (account, venue, symbol)
        pos = self._positions.get(key)
        if pos is None:
            pos = self._positions[key] = PyPosition()
        held = pos.qty
        if not held or (held > 0) == (signed > 0):  # open or add
            pos.qty = held + signed
            pos.cost_basis += signed * price
        else:  # reduce, close or flip
            closing = min(qty, abs(held))
            if closing == abs(held):
                removed = pos.cost_basis
            else:
                removed = (pos.cost_basis * closing / abs(held)).quantize(Q16)
            exit_value = closing * price if held > 0 else -closing * price
            pos.realized_pnl += exit_value - removed
            pos.cost_basis -= removed
            pos.qty = held - closing if held > 0 else held + closing
            opening = qty - closing
            if opening:
                pos.qty = opening if signed > 0 else -opening
                pos.cost_basis = pos.qty * price
        if fee is not None:
            pos.fees_paid += fee if isinstance(fee, Decimal) else Decimal(fee)
        pos.fill_count += 1
        pos.avg_entry_price = (pos.cost_basis / pos.qty).quantize(Q8) if pos.qty else ZERO
        pos.updated_ns = time.time_ns()


FillSpec = tuple[Side, Any, Any]


def fill_stream(rng: random.Random, n: int) -> list[tuple[Side, str, str]]:
    fills: list[tuple[Side, str, str]] = []
    for i in range(n):
        side: Side = "BUY" if i % 2 == 0 else "SELL"
        fills.append(
            (side, decimal_str(rng.randint(1, 1000), 3), decimal_str(rng.randint(4_900_000, 5_100_000), 2))
        )
    return fills


def time_fills(apply: Callable[..., object], fills: Sequence[FillSpec]) -> float:
    account, venue, symbol = "acct-1", "binance", "BTC/USDT"
    clock = time.perf_counter_ns
    start = clock()
    for side, qty, price in fills:
        apply(account, venue, symbol, side, qty, price)
    return (clock() - start) / len(fills)


def run(report: Report, quick: bool) -> None:
    sizes = QUICK if quick else FULL
    emit("## d. PositionBook.apply_fill from Python (one key, alternating BUY/SELL)")
    emit()
    str_fills: list[FillSpec] = list(fill_stream(random.Random(SEED + 2), sizes.fills))
    dec_fills: list[FillSpec] = [(side, Decimal(q), Decimal(p)) for side, q, p in str_fills]
    book = PositionBook.create(f"bench-{os.getpid()}", capacity=64)
    py_book = PyPositionBook()
    variants: list[tuple[str, str, Callable[..., object], list[FillSpec]]] = [
        ("`PositionBook.apply_fill`", "str", book.apply_fill, str_fills),
        ("pure Python (Decimal)", "str", py_book.apply_fill, str_fills),
        ("`PositionBook.apply_fill`", "Decimal", book.apply_fill, dec_fills),
        ("pure Python (Decimal)", "Decimal", py_book.apply_fill, dec_fills),
    ]
    results: list[list[float]] = [[] for _ in variants]
    try:
        time_fills(book.apply_fill, str_fills[:1000])  # warm-up, same fills on both
        time_fills(py_book.apply_fill, str_fills[:1000])
        gc.collect()
        for _ in range(sizes.fill_repeats):
            for index, (_label, _kind, apply, fills) in enumerate(variants):
                with gc_paused():
                    results[index].append(time_fills(apply, fills))
        core_pos, py_pos = (
            book.get("acct-1", "binance", "BTC/USDT"),
            py_book.get("acct-1", "binance", "BTC/USDT"),
        )
        assert core_pos is not None and py_pos is not None
        core_view = (core_pos.qty, core_pos.cost_basis, core_pos.realized_pnl, core_pos.fill_count)
        py_view = (py_pos.qty, py_pos.cost_basis, py_pos.realized_pnl, py_pos.fill_count)
        same = core_view == py_view and core_pos.avg_entry_price == py_pos.avg_entry_price
    finally:
        book.unlink()
    median = [statistics.median(values) for values in results]
    emit(
        f"{sizes.fills:,} fills per run with str qty/price, and the same fills as pre-made Decimal; "
        f"batch-timed, median and min of {sizes.fill_repeats} interleaved runs; no fee, no timestamp "
        "argument (both sides take the clock). The baseline ends in the same position as the book: "
        + ("yes" if same else f"NO (core {core_view}, Python {py_view})")
        + "."
    )
    emit()
    rows = []
    for index, (label, kind, _apply, _fills) in enumerate(variants):
        core_index = index - index % 2
        rows.append(
            [
                label,
                kind,
                fmt_ns(median[index]),
                fmt_ns(min(results[index])),
                fmt_x(ratio(median[index], median[core_index])),
            ]
        )
    emit(
        table(
            ["implementation", "qty/price", "ns/fill (median)", "ns/fill (min)", "this / PositionBook"], rows
        )
    )
    emit()
    if not same:
        report.notes.append("d. the pure-Python position baseline did not end in the same state as the book")
    report.notes.append(
        f"d. pure-Python / PositionBook.apply_fill: {fmt_x(ratio(median[1], median[0]))} (str), "
        f"{fmt_x(ratio(median[3], median[2]))} (Decimal) - no target"
    )
