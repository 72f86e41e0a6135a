"""The JSONL journal: daily files by the event's own day, each line stamped with its
``time``, an event that cannot be encoded dropped alone, closed days compressed, a
line a crash cut short skipped on reading and cut off before appending; snapshots
written atomically with corrupt ones skipped; P&L rows appended under one header."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import msgspec

from oms.engine import RiskDecision
from oms.model import OrderStatus, Side
from oms.storage.journal import Journal, read_jsonl
from oms.storage.snapshots import append_pnl, latest_snapshot, snapshot_path, write_snapshot
from tests.unit.sample_events import fill, update

D = Decimal
DAY1 = int(dt.datetime(2026, 11, 23, 23, 59, 59, tzinfo=dt.UTC).timestamp()) * 10**9
DAY2 = int(dt.datetime(2026, 11, 24, 0, 0, 1, tzinfo=dt.UTC).timestamp()) * 10**9


def test_events_go_to_their_days_files_and_closed_days_are_compressed(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.start()
    journal.on_event(update(1, DAY1))
    journal.on_event(fill(2, DAY1))
    journal.on_event(
        RiskDecision(
            seq=3,
            venue="binance:spot",
            symbol="BTC/USDT",
            account="default",
            side=Side.BUY,
            qty=D(5),
            code="MAX_ORDER_QTY",
            message="too big",
            ts_ns=DAY2,
        )
    )
    journal.on_event(update(4, DAY2, OrderStatus.CANCELED))
    journal.stop()
    day1, day2 = tmp_path / "logs/2026/11/23", tmp_path / "logs/2026/11/24"
    assert sorted(p.name for p in day1.iterdir()) == ["orders.jsonl.gz", "trades.jsonl.gz"]
    [order] = list(read_jsonl(day1 / "orders.jsonl.gz"))
    assert (order["event"], order["status"], order["qty"], order["time"]) == (
        "order",
        "NEW",
        "0.1",
        "2026-11-23T23:59:59.000000000Z",
    )
    [trade] = list(read_jsonl(day1 / "trades.jsonl.gz"))
    assert trade["fill"]["trade_id"] == "2" and trade["fill"]["fee"] == "0.0001"  # type: ignore[index]
    assert [r["event"] for r in read_jsonl(day2 / "orders.jsonl")] == ["risk", "order"]
    assert journal.written == 4 and journal.dropped == 0


def test_a_batch_across_midnight_is_split_by_each_events_own_day(tmp_path: Path) -> None:
    """A batch (``Engine.on_events``) is written file by file; events of two days in one
    batch, out of order too, each go to their own day's file, in the batch's order."""
    journal = Journal(tmp_path)
    journal.start()
    journal.on_events([update(1, DAY1), update(2, DAY2), fill(3, DAY2), update(4, DAY1 + 1), fill(5, DAY1)])
    journal.stop()
    day1, day2 = tmp_path / "logs/2026/11/23", tmp_path / "logs/2026/11/24"
    assert [r["seq"] for r in read_jsonl(day1 / "orders.jsonl.gz")] == [1, 4]  # the new day closed it
    assert [r["seq"] for r in read_jsonl(day1 / "trades.jsonl.gz")] == [5]
    assert [r["seq"] for r in read_jsonl(day2 / "orders.jsonl")] == [2]
    assert [r["seq"] for r in read_jsonl(day2 / "trades.jsonl")] == [3]
    assert journal.written == 5 and journal.dropped == 0


def test_an_event_that_cannot_be_encoded_costs_only_its_own_line(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.start()

    bad = msgspec.structs.replace(update(2, DAY2 + 5), reason=object())
    journal.on_events([update(1, DAY2), bad, update(3, DAY2 + 7)])
    journal.stop()
    lines = list(read_jsonl(tmp_path / "logs/2026/11/24/orders.jsonl"))
    assert [(r["seq"], r["time"]) for r in lines] == [
        (1, "2026-11-24T00:00:01.000000000Z"),
        (3, "2026-11-24T00:00:01.000000007Z"),
    ]
    assert journal.written == 2 and journal.dropped == 1


def test_a_line_cut_short_by_a_crash(tmp_path: Path) -> None:
    log = tmp_path / "logs/2026/11/24/orders.jsonl"
    log.parent.mkdir(parents=True)
    log.write_bytes(b'{"event":"order","seq":1}\n{"event":"order","se')  # the crash
    assert [r["seq"] for r in read_jsonl(log)] == [1]
    journal = Journal(tmp_path)
    journal.start()
    journal.on_event(update(2, DAY2))
    journal.stop()
    assert [r["seq"] for r in read_jsonl(log)] == [1, 2]


def test_snapshots_are_atomic_and_a_corrupt_one_is_skipped(tmp_path: Path) -> None:
    first = write_snapshot(tmp_path, {"seq": 10, "open_orders": []}, DAY1)
    assert first == snapshot_path(tmp_path, DAY1) and first.parts[-6:] == (
        "snapshots",
        "2026",
        "11",
        "23",
        "23",
        "state.json",
    )
    second = write_snapshot(tmp_path, {"seq": 20, "open_orders": []}, DAY2)
    assert latest_snapshot(tmp_path) == (second, {"seq": 20, "open_orders": []})
    second.write_text('{"seq": 2')  # torn by something other than us
    assert latest_snapshot(tmp_path) == (first, {"seq": 10, "open_orders": []})
    assert not list(tmp_path.rglob("*.tmp"))


def test_pnl_rows_are_appended_under_one_header(tmp_path: Path) -> None:
    row = {
        "account": "default",
        "venue": "binance:usdm",
        "symbol": "BTC/USDT:USDT",
        "qty": "0.1",
        "avg_entry_price": "50000",
        "realized_pnl": "200",
        "unrealized_pnl": "100",
        "fees_paid": "3",
        "net_pnl": "297",
    }
    append_pnl(tmp_path, DAY2, [row])
    path = append_pnl(tmp_path, DAY2 + 3600 * 10**9, [row | {"realized_pnl": "250"}])
    lines = path.read_text().splitlines()
    assert path.parts[-4:] == ("reports", "2026", "11", "pnl.csv")
    assert lines[0].startswith("time,account,venue,symbol,qty") and len(lines) == 3
    assert lines[2].startswith("2026-11-24T01:00:01Z,default,binance:usdm,BTC/USDT:USDT,0.1,50000,250,")
