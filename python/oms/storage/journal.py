"""Daily JSONL logs of orders and trades, written by a background thread.

``data/logs/YYYY/MM/DD/orders.jsonl`` gets every order update and risk refusal,
``trades.jsonl`` every fill and funding payment; one JSON object per line with stable
field names (those of ``oms.engine.events``, decimals as strings) plus ``time`` in
ISO-8601 UTC for people, so ``grep`` and ``jq`` work. The day is the event's own (UTC).

The engine's listener keeps the event and encodes it once the event loop is free (the
caller has its answer by then), or at once every ``ENCODE_EVERY`` events when the loop
never is; each flush hands one chunk of lines per file to the core's ``FileAppender``,
a Rust thread that appends them without ever taking the GIL (a Python writer thread
was starved of it by the busy loop for most of a second at a time, see
``oms.storage.appender``). When a day is over its files are closed and compressed
(``.jsonl.gz``) by that thread.
A crash can leave a last line cut short: reading skips it, and the writer cuts it off
before appending (the record was never complete), so the next record starts clean.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec

from oms.engine.events import (
    EngineEvent,
    FillUpdate,
    FundingUpdate,
    OrderUpdate,
    PositionUpdate,
    RiskDecision,
)
from oms.errors import ChannelClosed, QueueFull
from oms.storage.appender import FileAppender

log = logging.getLogger(__name__)
QUEUE_CAPACITY = 1024  # chunks (each one flush's lines for one file) the writer may be behind by
FULL_WAIT_S = 5.0
ENCODE_EVERY = 1024  # events kept at most before they are encoded, loop free or not
NS_PER_DAY = 86_400 * 1_000_000_000


def day_dir(root: Path, ts_ns: int) -> Path:
    day = dt.datetime.fromtimestamp(ts_ns / 1e9, tz=dt.UTC)
    return root / "logs" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"


def iso(ts_ns: int) -> str:
    seconds, ns = divmod(ts_ns, 1_000_000_000)
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns:09d}Z"


def _file_and_time(event: EngineEvent) -> tuple[str, int] | None:
    kind = type(event)
    if kind is OrderUpdate or kind is RiskDecision:
        return "orders.jsonl", event.ts_ns  # type: ignore[union-attr]
    if kind is FillUpdate:
        return "trades.jsonl", event.fill.ts_ns  # type: ignore[union-attr]
    if kind is FundingUpdate:
        return "trades.jsonl", event.funding.ts_ns  # type: ignore[union-attr]
    return None  # positions go to the snapshots


class Journal:
    def __init__(self, data_dir: Path | str) -> None:
        self.root = Path(data_dir)
        self.appender = FileAppender(QUEUE_CAPACITY)
        self.queued = 0  # lines handed to the appender (``written`` counts those it wrote)
        self._dropped = 0  # lines lost before the appender (encoding, a full or stopped writer)
        self._paths: dict[tuple[int, str], Path] = {}  # (UTC day number, name) -> today's open file
        self._latest_day = -1
        self._encoder = msgspec.json.Encoder()
        self._second, self._prefix, self._day_number = -1, b"", 0
        self._pending: list[EngineEvent] = []  # not yet encoded (the loop was busy)
        self._flush_on: asyncio.AbstractEventLoop | None = None  # the loop a flush is due on
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
        """Write what is kept and handed over, then close the files."""
        self.flush()
        self.appender.stop()
        if self.appender.failed:
            log.error("journal: %d line(s) not written: %s", self.appender.failed, self.appender.last_error)

    # ---- the engine's side ----

    def on_event(self, event: EngineEvent) -> None:
        """Engine listener: keep the event; it is encoded once the event loop is free
        (the caller has its answer by then), or at once every ``ENCODE_EVERY`` events
        when the loop is never free, or at once when called outside an event loop.
        Positions are not journaled. Kept events belong to one event loop's thread
        (the engine's); other threads' events are encoded on the spot."""
        if type(event) is PositionUpdate:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop here (a plain script, another thread)
            line = self._line(event, cached=False)
            if line is not None:
                self._hand_over(*line, 1)
            return
        pending = self._pending
        pending.append(event)
        if len(pending) >= ENCODE_EVERY:
            self.flush()
        elif self._flush_on is not loop:  # (a loop that died with a flush due: this one)
            self._flush_on = loop
            loop.call_soon(self.flush)

    def flush(self) -> None:
        """Encode the events kept so far and hand them over, one chunk of lines per
        file (the appender's work is then one write per file)."""
        pending, self._pending, self._flush_on = self._pending, [], None
        files: dict[tuple[int, str], list[bytes]] = {}
        for event in pending:
            line = self._line(event, cached=True)
            if line is not None:
                day, name, text = line
                same_file = files.get((day, name))
                if same_file is None:
                    files[day, name] = [text]
                else:
                    same_file.append(text)
        for (day, name), lines in sorted(files.items()):  # days in order: a new one closes the last
            self._hand_over(day, name, b"".join(lines), len(lines))

    def _line(self, event: EngineEvent, *, cached: bool) -> tuple[int, str, bytes] | None:
        """The event's JSON line plus ``time``; the date part is cached per second for
        the loop's thread only (``cached``)."""
        where = _file_and_time(event)
        if where is None:
            return None
        name, ts_ns = where
        seconds, ns = divmod(ts_ns, 1_000_000_000)
        if not cached:
            prefix, day = iso(seconds * 1_000_000_000)[:19].encode(), seconds // 86_400
        else:
            if seconds != self._second:
                self._next_second(seconds)
            prefix, day = self._prefix, self._day_number
        try:
            body = self._encoder.encode(event)[:-1]
        except (TypeError, ValueError) as err:  # one bad event must not cost the others
            self._dropped += 1
            log.error("journal: %s not encoded: %s", type(event).__name__, err)
            return None
        return day, name, b'%b,"time":"%b.%09dZ"}\n' % (body, prefix, ns)

    def _hand_over(self, day: int, name: str, lines: bytes, count: int) -> None:
        """To the appender; when it is a whole queue behind (a burst far beyond the
        disk's pace) the order path waits for it rather than lose a record; only a
        writer stuck for ``FULL_WAIT_S`` drops the lines (counted, logged)."""
        path = self._paths.get((day, name)) or self._open(day, name)
        try:
            self.appender.append(path, lines, count, FULL_WAIT_S)
        except QueueFull:
            self._dropped += count
            log.error("journal writer stuck for %s s: %d line(s) not written", FULL_WAIT_S, count)
            return
        except ChannelClosed:
            self._dropped += count
            log.error("journal stopped: %d line(s) for %s not written", count, name)
            return
        self.queued += count

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

    def _next_second(self, seconds: int) -> None:
        """The date-and-second part of ``time`` and the day number, once per second."""
        self._second, self._prefix = seconds, iso(seconds * 1_000_000_000)[:19].encode()
        self._day_number = seconds // 86_400


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
