"""Daily JSONL logs of orders and trades, written by a background thread.

``data/logs/YYYY/MM/DD/orders.jsonl`` gets every order update and risk refusal,
``trades.jsonl`` every fill and funding payment; one JSON object per line with stable
field names (those of ``oms.engine.events``, decimals as strings) plus ``time`` in
ISO-8601 UTC for people, so ``grep`` and ``jq`` work. The day is the event's own (UTC).

The journal is one of the engine's batch sinks (``Engine.on_events``): it gets the
events once the event loop is free (the caller has its answer by then), sorts them into
lines per file in one call into the core, and hands them to the core's
``FileAppender``: a Rust thread that encodes the core's order and fill records (the
event loop never does), adds each line's ``time`` and appends them without ever taking
the GIL (a Python writer thread was starved of it by the busy loop for most of a second
at a time, see ``oms.storage.appender``). When a day is over its files are closed and compressed
(``.jsonl.gz``) by that thread.
A crash can leave a last line cut short: reading skips it, and the writer cuts it off
before appending (the record was never complete), so the next record starts clean.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec

from oms._core import FillUpdateRecord, JournalLines, OrderUpdateRecord, journal_lines
from oms.engine.events import (
    EngineEvent,
    FillUpdate,
    FundingUpdate,
    KeptEvent,
    OrderUpdate,
    RiskDecision,
)
from oms.errors import ChannelClosed, QueueFull
from oms.storage.appender import FileAppender

log = logging.getLogger(__name__)
QUEUE_CAPACITY = 1024  # chunks (each one flush's lines for one file) the writer may be behind by
FULL_WAIT_S = 5.0
NS_PER_DAY = 86_400 * 1_000_000_000
ORDERS, TRADES = "orders.jsonl", "trades.jsonl"


def day_dir(root: Path, ts_ns: int) -> Path:
    day = dt.datetime.fromtimestamp(ts_ns / 1e9, tz=dt.UTC)
    return root / "logs" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"


_FILES = (ORDERS, TRADES)
# What is journaled where (_FILES' index); the rest (position updates) is not.
_FILE_OF: dict[type, int] = {
    OrderUpdateRecord: 0,
    OrderUpdate: 0,
    RiskDecision: 0,
    FillUpdateRecord: 1,
    FillUpdate: 1,
    FundingUpdate: 1,
}


def _stamp(event: KeptEvent) -> int:
    """The time of an event's line: when it happened (a fill or a payment: when the
    venue says it did). Asked only of events that are not core records."""
    if isinstance(event, FillUpdate):
        return event.fill.ts_ns
    if isinstance(event, FundingUpdate):
        return event.funding.ts_ns
    return event.ts_ns


class Journal:
    def __init__(self, data_dir: Path | str) -> None:
        self.root = Path(data_dir)
        self.appender = FileAppender(QUEUE_CAPACITY)
        self.queued = 0  # lines handed to the appender (``written`` counts those it wrote)
        self._dropped = 0  # lines lost before the appender (encoding, a full or stopped writer)
        self._paths: dict[tuple[int, str], Path] = {}  # (UTC day number, name) -> today's open file
        self._latest_day = -1
        self._encoder = msgspec.json.Encoder()
        self._lock = threading.Lock()  # file bookkeeping: the loop's thread and off-loop callers

    @property
    def written(self) -> int:
        return self.appender.written

    @property
    def dropped(self) -> int:
        return self._dropped + self.appender.failed

    def start(self) -> None:
        self.appender.start()

    def stop(self) -> None:
        """Write what is handed over, then close the files."""
        self.appender.stop()
        if self.appender.failed:
            log.error("journal: %d line(s) not written: %s", self.appender.failed, self.appender.last_error)

    # ---- the engine's side ----

    def on_events(self, events: list[KeptEvent]) -> None:
        """Engine batch sink (``Engine.on_events(..., records=True)``): the events
        sorted into lines per (day, file) in one call (``journal_lines``) and handed to
        the appender, whose thread encodes the core's order and fill records; the rest
        are encoded here by msgspec. Positions are not journaled. An event that cannot
        be encoded costs only its own line (counted, logged)."""
        chunks, failures = journal_lines(events, self._encoder, _FILE_OF, _stamp)
        for failure in failures:
            self._dropped += 1
            log.error("journal: %s", failure)
        for day, file, lines in sorted(chunks, key=lambda c: (c[0], c[1])):  # a new day closes old
            self._hand_over(day, _FILES[file], lines)

    def on_event(self, event: EngineEvent) -> None:
        """One event, written at once (``Engine.on_event``, or a caller of its own)."""
        self.on_events([event])

    def _hand_over(self, day: int, name: str, lines: JournalLines) -> None:
        """To the appender, which encodes and stamps each line on its own thread. When
        it is a whole queue behind (a burst far beyond the disk's pace) the order path
        waits for it rather than lose a record; only a writer stuck for ``FULL_WAIT_S``
        drops the lines (counted, logged)."""
        path = self._paths.get((day, name)) or self._open(day, name)
        try:
            self.appender.append_lines(path, lines, FULL_WAIT_S)
        except QueueFull:
            self._dropped += len(lines)
            log.error("journal writer stuck for %s s: %d line(s) not written", FULL_WAIT_S, len(lines))
            return
        except ChannelClosed:
            self._dropped += len(lines)
            log.error("journal stopped: %d line(s) for %s not written", len(lines), name)
            return
        self.queued += len(lines)

    def _open(self, day: int, name: str) -> Path:
        """A file first written today by this process: a newer day closes (and
        compresses) the files of the days before; a last line a crash cut short is cut
        off before the first append (the record was never complete)."""
        with self._lock:
            path = day_dir(self.root, day * NS_PER_DAY) / name
            if day > self._latest_day:
                for (old_day, _), old in list(self._paths.items()):
                    if old_day < day:
                        del self._paths[old_day, _]
                        self.appender.close_file(old, compress=True)
                self._latest_day = day
            if path.exists():
                self.appender.sync()  # a file this process closed may still be being compressed
                if path.exists():
                    trim_partial_line(path)
            self._paths[day, name] = path
            return path


def trim_partial_line(path: Path) -> int:
    """Cut a last line a crash left without its newline; returns the bytes removed."""
    with open(path, "r+b") as f:
        size = f.seek(0, 2)
        if not size:
            return 0
        tail = min(size, 1 << 20)
        f.seek(size - tail)
        chunk = f.read(tail)
        if chunk.endswith(b"\n"):
            return 0
        keep = size - tail + chunk.rfind(b"\n") + 1 if b"\n" in chunk else 0
        f.truncate(keep)
        return size - keep


def read_jsonl(path: Path | str) -> Iterator[dict[str, object]]:
    """The records of a log (plain or ``.gz``), skipping a line a crash cut short."""
    opener = gzip.open if str(path).endswith(".gz") else open
    decoder = msgspec.json.Decoder(dict[str, object])
    with opener(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                return  # the cut-short last line
            if line.strip():
                yield decoder.decode(line)
