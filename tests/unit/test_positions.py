"""PositionBook: exact accounting, shared memory across processes, torn-free reads."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from oms.errors import BookFull, InvalidInput, ReadOnlyError, ShmBusy, ShmExists, ShmNotFound
from oms.positions import HEADER_SIZE, RECORD_FIELDS, RECORD_SIZE, SLOT_SIZE, PositionBook

V, S, A = "binance:usdm", "BTC/USDT:USDT", "main"


def test_layout_is_exported_not_retyped(shm_dir: Path, name: str) -> None:
    assert (RECORD_SIZE, SLOT_SIZE, HEADER_SIZE) == (224, 256, 4096)
    names = [f.name for f in RECORD_FIELDS]
    assert names[:5] == ["cost_basis", "realized_pnl", "fees_paid", "unrealized_pnl", "qty"]
    assert all(f.offset + f.size <= RECORD_SIZE for f in RECORD_FIELDS)
    book = PositionBook.create(name, capacity=10)
    assert Path(book.path).stat().st_size == HEADER_SIZE + 10 * SLOT_SIZE


def test_open_increase_reduce_flip_and_pnl(name: str) -> None:
    book = PositionBook.create(name, capacity=8)
    book.apply_fill(A, V, S, "BUY", "1", "100", fee="0.1")
    book.apply_fill(A, V, S, "BUY", Decimal("1"), Decimal("110"), fee="0.11")
    p = book.get(A, V, S)
    assert p is not None
    assert (p.qty, p.avg_entry_price, p.fill_count) == (Decimal(2), Decimal(105), 2)
    book.apply_fill(A, V, S, "SELL", "3", "120")  # close 2 (+30), open 1 short at 120
    book.mark(V, S, "118")
    p = book.get(A, V, S)
    assert p is not None
    assert (p.qty, p.avg_entry_price) == (Decimal(-1), Decimal(120))
    assert (p.realized_pnl, p.unrealized_pnl, p.fees_paid) == (Decimal(30), Decimal(2), Decimal("0.21"))
    assert p.net_pnl == Decimal("31.79")
    assert p.mark_price == Decimal(118)
    assert p.event_fields() == (  # the engine's PositionUpdate after its seq, in field order
        A, V, S, Decimal(-1), Decimal(120), Decimal(30), Decimal(2), Decimal("0.21"),
        p.update_seq, p.updated_ns, Decimal(0),
    )  # fmt: skip


def test_funding_counts_in_net_pnl_and_in_the_asset_total(name: str) -> None:
    book = PositionBook.create(name, capacity=8)
    book.apply_fill(A, V, S, "BUY", "2", "100", fee="0.1")
    book.apply_funding(A, V, S, "-0.02")  # a long pays a positive rate
    book.apply_funding(A, "okx:swap", S, Decimal("0.005"))  # a short elsewhere receives
    p = book.get(A, V, S)
    assert p is not None
    assert (p.funding, p.net_pnl, p.qty) == (Decimal("-0.02"), Decimal("-0.12"), Decimal(2))
    (btc,) = book.aggregate(A)
    assert (btc.funding, btc.positions) == (Decimal("-0.015"), 2)
    with pytest.raises(InvalidInput):
        book.apply_funding(A, V, S, "1e-17")  # finer than the amount scale: refused, not rounded


def test_many_fills_ending_flat_realize_exactly_the_cash_flow(name: str) -> None:
    import random

    rng = random.Random(20240601)
    book = PositionBook.create(name, capacity=4)
    cash = Decimal(0)
    for _ in range(2000):
        side = rng.choice(["BUY", "SELL"])
        qty = Decimal(rng.randint(1, 10**6)) / 10**6
        price = Decimal(rng.randint(1, 10**9)) / 10**4
        book.apply_fill(A, V, S, side, qty, price)
        cash += (-qty if side == "BUY" else qty) * price
    p = book.get(A, V, S)
    assert p is not None
    if p.qty:
        side = "SELL" if p.qty > 0 else "BUY"
        book.apply_fill(A, V, S, side, abs(p.qty), "123.4567")
        cash += (abs(p.qty) if side == "SELL" else -abs(p.qty)) * Decimal("123.4567")
    final = book.get(A, V, S)
    assert final is not None
    assert final.qty == 0
    assert final.realized_pnl == cash


def test_aggregate_nets_per_asset_across_venues(name: str) -> None:
    book = PositionBook.create(name, capacity=8)
    book.apply_fill(A, "binance:spot", "BTC/USDT", "BUY", "2", "100")
    book.apply_fill(A, "binance:usdm", "BTC/USDT:USDT", "SELL", "1.5", "101")
    book.apply_fill("hedge", "bybit:linear", "BTC/USDT:USDT", "SELL", "0.25", "102")
    book.apply_fill(A, "binance:spot", "ETH/USDT", "BUY", "3", "10")
    rows = {(r.base, r.quote): r for r in book.aggregate()}
    btc = rows[("BTC", "USDT")]
    assert (btc.net_qty, btc.long_qty, btc.short_qty, btc.positions) == (
        Decimal("0.25"),
        Decimal(2),
        Decimal("1.75"),
        3,
    )
    assert rows[("ETH", "USDT")].net_qty == 3
    assert {(r.base, r.net_qty) for r in book.aggregate(account="hedge")} == {("BTC", Decimal("-0.25"))}
    assert len(book.positions(account=A)) == 3


def test_roles_and_lifecycle(name: str) -> None:
    with pytest.raises(ShmNotFound):
        PositionBook.attach(name)
    writer = PositionBook.create(name, capacity=1)
    with pytest.raises(ShmExists):
        PositionBook.create(name, capacity=1)
    with pytest.raises(ShmBusy):
        PositionBook.create(name, capacity=1, reopen=True)
    reader = PositionBook.attach(name)
    assert (writer.writable, reader.writable) == (True, False)
    with pytest.raises(ReadOnlyError):
        reader.apply_fill(A, V, S, "BUY", "1", "1")
    writer.apply_fill(A, V, S, "BUY", "1", "1")
    with pytest.raises(BookFull):
        writer.apply_fill(A, V, "ETH/USDT:USDT", "BUY", "1", "1")
    del writer  # an engine restart: positions survive in shared memory
    again = PositionBook.create(name, capacity=1, reopen=True)
    again.apply_fill(A, V, S, "BUY", "2", "4")
    seen = reader.get(A, V, S)
    assert seen is not None and seen.qty == 3 and seen.avg_entry_price == 3
    again.unlink()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((A, V, S, "BUY", "0", "1"), "qty"),
        ((A, V, S, "BUY", "1", "-5"), "price"),
        ((A, V, S, "HOLD", "1", "1"), "side"),
        ((A, V, S, "BUY", 1.5, "1"), "qty"),
        (("", V, S, "BUY", "1", "1"), "account"),
        ((A, V, "X" * 33, "BUY", "1", "1"), "symbol"),
    ],
)
def test_bad_fills_are_refused_with_the_field_named(name: str, args: tuple[str, ...], field: str) -> None:
    book = PositionBook.create(name, capacity=2)
    with pytest.raises(InvalidInput) as caught:
        book.apply_fill(*args)  # type: ignore[arg-type]
    assert field in caught.value.message
    assert len(book) <= 1


def _read_until_stopped(name: str, ready: Any, stop: Any, out: Any) -> None:
    """Child: keep reading one slot; count reads and torn records."""
    book = PositionBook.attach(name)
    reads = torn = 0
    ready.set()
    while not stop.is_set() or reads == 0:
        p = book.get(A, V, S)
        if p is None:
            continue
        n = p.qty
        # The writer buys 1 at price k for k = 1, 2, ...: cost = n(n+1)/2, fills = n.
        if p.cost_basis != n * (n + 1) / 2 or p.fill_count != n or p.update_seq != n:
            torn += 1
        reads += 1
    out.put((reads, torn))


def test_a_reader_process_never_sees_a_torn_slot(name: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    book = PositionBook.create(name, capacity=4)
    book.apply_fill(A, V, S, "BUY", "1", "1")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    child = ctx.Process(target=_read_until_stopped, args=(name, ready, stop, out))
    child.start()
    assert ready.wait(60), "reader process did not start"
    for k in range(2, 150_001):
        book.apply_fill(A, V, S, "BUY", 1, k)
    stop.set()
    reads, torn = out.get(timeout=60)
    child.join(10)
    assert torn == 0
    assert reads > 0


def test_net_pnl_overflow_is_an_error_not_garbage(name: str) -> None:
    from oms.errors import ArithmeticOverflow

    most_negative = "-17014118346046923173168.7303715884105728"  # i128::MIN at 1e-16
    book = PositionBook.create(name, capacity=2)
    book.apply_fill(A, V, S, "BUY", "1", "1", fee=most_negative)
    p = book.get(A, V, S)
    assert p is not None
    assert p.fees_paid == Decimal(most_negative)
    with pytest.raises(ArithmeticOverflow):
        _ = p.net_pnl  # realized - fees cannot be represented
    with pytest.raises(ArithmeticOverflow):
        book.apply_fill(A, V, S, "BUY", "1", "1", fee="-1")
