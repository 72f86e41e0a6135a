"""The engine's files under the data dir: the JSONL journal (every order, risk, fill and
funding event: encoded when the event loop is free, written by a background thread) and
a snapshot plus P&L report rows every hour and at stop.

A snapshot's state is taken on the event loop, in one go, so it is exactly the state
after event ``seq``; only the writing happens in a thread. Besides every hour and at
stop, one is written whenever the engine holds a conditional order or links a group
(``engine.save_state``): their terms and links are only in snapshots. With ``streams`` (the
JetStream replay reader) it also notes how far each event stream had got *before* the
state was taken: recovery starts reading there (``oms.engine.recovery``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from oms.engine import Engine
from oms.storage.journal import Journal
from oms.storage.snapshots import append_pnl, write_snapshot

SNAPSHOT_EVERY_S = 3600.0
log = logging.getLogger(__name__)


class StreamPositions(Protocol):
    async def positions(self) -> dict[str, int]: ...


def _nothing() -> None:
    return None


class EngineFiles:
    def __init__(
        self,
        engine: Engine,
        data_dir: Path | str,
        *,
        snapshot_every_s: float = SNAPSHOT_EVERY_S,
        streams: StreamPositions | None = None,
    ) -> None:
        self.engine = engine
        self.root = Path(data_dir)
        self.every_s = snapshot_every_s
        self.journal = Journal(self.root)
        self.streams = streams
        self._streams_at: dict[str, int] = {}  # stream -> last sequence, read before a state
        self._writing: asyncio.Lock | None = None  # one snapshot at a time, in the order taken
        self._remove_listener: Callable[[], None] = _nothing

    def start(self) -> None:
        self.journal.start()
        self._remove_listener = self.engine.on_events(self.journal.on_events, records=True)
        self.engine.save_state = self.snapshot_async  # a held order or a group: at once
        self.engine.spawn(self._hourly())

    def stop(self) -> None:
        """A last snapshot, then the journal drained and closed."""
        self.engine.save_state = None
        self.snapshot()
        self._remove_listener()
        self.journal.stop()

    def snapshot(self) -> Path:
        """Take and write a snapshot now (stream positions: the last ones read)."""
        now, state = self._state()
        return self._write(now, state)

    async def snapshot_async(self) -> Path:
        """Read the stream positions, take the state, write it in a thread; one at a
        time, so an older state never replaces a newer one."""
        if self._writing is None:
            self._writing = asyncio.Lock()
        async with self._writing:
            await self._read_stream_positions()
            now, state = self._state()
            return await asyncio.to_thread(self._write, now, state)

    def _state(self) -> tuple[int, dict[str, Any]]:
        state = self.engine.state()
        if self._streams_at:
            state["streams"] = dict(self._streams_at)
        return int(state["ts_ns"]), state

    def _write(self, now: int, state: dict[str, Any]) -> Path:
        path = write_snapshot(self.root, state, now)
        append_pnl(self.root, now, state["positions"])
        return path

    async def _read_stream_positions(self) -> None:
        if self.streams is None:
            return
        try:
            self._streams_at = await self.streams.positions()
        except Exception as err:  # NATS away: a snapshot without them replays whole streams
            log.warning("snapshot without stream positions (%s: %s)", type(err).__name__, err)
            self._streams_at = {}

    async def _hourly(self) -> None:
        await self._read_stream_positions()  # so that even the snapshot at stop has some
        while True:
            await asyncio.sleep(self.every_s)
            await self.snapshot_async()
