"""Hourly state snapshots and the monthly P&L report.

``data/snapshots/YYYY/MM/DD/HH/state.json``: what recovery starts from (open orders,
positions, trading state, the last event sequence applied). Written atomically — a
temporary file fsynced, then renamed — so a crash leaves the old snapshot or the new
one, never half of one; a snapshot that does not parse is reported as corrupt and
recovery falls back to the one before it (then to a full replay).

``data/reports/YYYY/MM/pnl.csv``: one row per position at each snapshot (time, account,
venue, symbol, quantity, average entry, realized, unrealized, fees, funding, net), appended, with
a header when the month's file is new: a spreadsheet or ``awk`` reads it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from oms.errors import OmsError

PNL_COLUMNS = (
    "time",
    "account",
    "venue",
    "symbol",
    "qty",
    "avg_entry_price",
    "realized_pnl",
    "unrealized_pnl",
    "fees_paid",
    "funding",
    "net_pnl",
)


class SnapshotCorrupt(OmsError):
    default_code = "SNAPSHOT_CORRUPT"


def _utc(ts_ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts_ns / 1e9, tz=dt.UTC)


def snapshot_path(root: Path, ts_ns: int) -> Path:
    t = _utc(ts_ns)
    return root / "snapshots" / f"{t:%Y}" / f"{t:%m}" / f"{t:%d}" / f"{t:%H}" / "state.json"


def write_snapshot(root: Path | str, state: Mapping[str, Any], ts_ns: int) -> Path:
    """Write ``state`` (JSON-ready: decimals already strings) for the hour of ``ts_ns``."""
    path = snapshot_path(Path(root), ts_ns)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def snapshots(root: Path | str) -> list[Path]:
    """Every snapshot, oldest first."""
    return sorted((Path(root) / "snapshots").glob("*/*/*/*/state.json"))


def load_snapshot(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SnapshotCorrupt(f"{path}: not a readable snapshot ({err})", path=str(path)) from None
    if not isinstance(state, dict) or "seq" not in state:
        raise SnapshotCorrupt(f"{path}: not a snapshot (no seq)", path=str(path))
    return state


def latest_snapshot(root: Path | str) -> tuple[Path, dict[str, Any]] | None:
    """The newest snapshot that parses (corrupt ones are skipped), or None."""
    for path in reversed(snapshots(root)):
        try:
            return path, load_snapshot(path)
        except SnapshotCorrupt:
            continue
    return None


def pnl_path(root: Path, ts_ns: int) -> Path:
    t = _utc(ts_ns)
    return root / "reports" / f"{t:%Y}" / f"{t:%m}" / "pnl.csv"


def append_pnl(root: Path | str, ts_ns: int, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Append one row per position (``PNL_COLUMNS``) to the month's report."""
    path = pnl_path(Path(root), ts_ns)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    # A month begun by an older version keeps its own columns, so every row lines up.
    columns = PNL_COLUMNS if new else _header(path) or PNL_COLUMNS
    time = _utc(ts_ns).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(path, "a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        if new:
            writer.writeheader()
        for row in rows:
            cells = {k: ("" if row.get(k) is None else row.get(k)) for k in columns[1:]}
            writer.writerow({"time": time} | cells)
    return path


def _header(path: Path) -> tuple[str, ...]:
    with open(path, newline="", encoding="utf-8") as f:
        return tuple(next(csv.reader(f), ()))
