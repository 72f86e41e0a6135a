"""Daily JSONL logs of orders and trades, written by a background thread.

``data/logs/YYYY/MM/DD/orders.jsonl`` gets every order update and risk refusal,
``trades.jsonl`` every fill and funding payment; one JSON object per line with stable
field names (those of ``oms.engine.events``, decimals as strings) plus ``time`` in
ISO-8601 UTC for people, so ``grep`` and ``jq`` work. The day is the event's own (UTC).

The engine's listener keeps the event and encodes it once the event loop is free (the
caller has its answer by then), or at once every ``ENCODE_EVERY`` events when the loop
never is; the lines go on the core's lock-free queue, and the writer thread waits on it
with the GIL released and appends each batch with one write per file, then flushes.
Encoding in the writer instead costs the same interpreter time, in long GIL-holding
stretches that stall the order path, and it fell behind a busy one by most of its events.
When a day is over its files are closed and compressed (``.jsonl.gz``).
A crash can leave a last line cut short: reading skips it, and the writer cuts it off
before appending (the record was never complete), so the next record starts clean.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import logging
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

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
from oms.queues import Queue

log = logging.getLogger(__name__)
BATCH = 1024
QUEUE_CAPACITY = 1 << 20
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


Line = tuple[int, str, bytes]  # (UTC day number, file name, the JSON line)


class Journal:
    def __init__(self, data_dir: Path | str) -> None:
        self.root = Path(data_dir)
        self.queue = Queue(QUEUE_CAPACITY)
        self.written = 0
        self.dropped = 0
        self._files: dict[Path, IO[bytes]] = {}
        self._open: dict[tuple[int, str], IO[bytes]] = {}  # (UTC day number, name): the hot lookup
        self._day: Path | None = None
        self._encoder = msgspec.json.Encoder()
        self._second, self._prefix, self._day_number = -1, b"", 0
        self._pending: list[EngineEvent] = []  # not yet encoded (the loop was busy)
        self._flush_on: asyncio.AbstractEventLoop | None = None  # the loop a flush is due on
        self.queued = 0  # lines handed to the writer (``written`` counts those it wrote)
        self._thread = threading.Thread(target=self._run, name="oms-journal", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Write what is kept and queued, then close the files."""
        self.flush()
        self.queue.close()
        self._thread.join(30)

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
            self._hand_over(self._line(event, cached=False))
            return
        pending = self._pending
        pending.append(event)
        if len(pending) >= ENCODE_EVERY:
            self.flush()
        elif self._flush_on is not loop:  # (a loop that died with a flush due: this one)
            self._flush_on = loop
            loop.call_soon(self.flush)

    def flush(self) -> None:
        """Encode the events kept so far and hand their lines to the writer thread."""
        pending, self._pending, self._flush_on = self._pending, [], None
        for event in pending:
            self._hand_over(self._line(event, cached=True))

    def _line(self, event: EngineEvent, *, cached: bool) -> Line | None:
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
            self.dropped += 1
            log.error("journal: %s not encoded: %s", type(event).__name__, err)
            return None
        return day, name, b'%b,"time":"%b.%09dZ"}\n' % (body, prefix, ns)

    def _hand_over(self, line: Line | None) -> None:
        if line is None:
            return
        try:
            self.queue.put_nowait(line)
        except QueueFull:
            if not self._wait_for_room(line):
                return
        except ChannelClosed:
            self.dropped += 1
            log.error("journal stopped: a line for %s was not written", line[1])
            return
        self.queued += 1

    def _wait_for_room(self, line: Line) -> bool:
        """The writer is a whole queue behind (a burst far beyond the disk's pace): the
        order path waits for it rather than lose a record; only a writer stuck for
        ``FULL_WAIT_S`` drops one (counted, logged)."""
        try:
            self.queue.put(line, timeout=FULL_WAIT_S)
        except QueueFull:
            self.dropped += 1
            log.error("journal queue full for %s s: an event was not written", FULL_WAIT_S)
            return False
        return True

    # ---- the writer thread ----

    def _run(self) -> None:
        while True:
            try:
                batch = self.queue.get_many(BATCH, timeout=0.5)
            except ChannelClosed:
                break  # closed and empty: everything is written
            self._write(batch)
            self.written += len(batch)
        self._close_all()

    def _write(self, batch: list[Line]) -> None:
        """One write per file (lines keep their order within each), then a flush."""
        lines: dict[tuple[int, str], list[bytes]] = {}
        for day, name, line in batch:
            same_file = lines.get((day, name))
            if same_file is None:
                lines[day, name] = [line]
            else:
                same_file.append(line)
        for (day, name), chunk in sorted(lines.items()):  # days in order: a new one closes the last
            handle = self._open.get((day, name))
            if handle is None:
                handle = self._open[day, name] = self._file(day_dir(self.root, day * NS_PER_DAY), name)
            handle.write(b"".join(chunk))
        for handle in self._files.values():
            handle.flush()

    def _next_second(self, seconds: int) -> None:
        """The date-and-second part of ``time`` and the day number, once per second."""
        self._second, self._prefix = seconds, iso(seconds * 1_000_000_000)[:19].encode()
        self._day_number = seconds // 86_400

    def _file(self, directory: Path, name: str) -> IO[bytes]:
        path = directory / name
        handle = self._files.get(path)
        if handle is not None:
            return handle
        if self._day is not None and directory != self._day and directory > self._day:
            self._close_day(self._day)
        self._day = max(self._day or directory, directory)
        directory.mkdir(parents=True, exist_ok=True)
        if path.exists():
            trim_partial_line(path)
        handle = open(path, "ab")  # noqa: SIM115 - kept open for the day
        self._files[path] = handle
        return handle

    def _close_day(self, directory: Path) -> None:
        """A day is over: close its files and compress them."""
        for path in [p for p in self._files if p.parent == directory]:
            handle = self._files.pop(path)
            self._open = {key: h for key, h in self._open.items() if h is not handle}
            handle.close()
            compress(path)

    def _close_all(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
        self._open.clear()


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


def compress(path: Path) -> Path:
    """``x.jsonl`` -> ``x.jsonl.gz`` (the plain file removed once the copy is complete)."""
    target = path.with_suffix(path.suffix + ".gz")
    with open(path, "rb") as src, gzip.open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
    path.unlink()
    return target


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
