"""The engine's files under the data dir: the JSONL journal (every event, by a
background thread) and a snapshot plus P&L report rows every hour and at stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from oms.engine import Engine
from oms.storage.journal import Journal
from oms.storage.snapshots import append_pnl, write_snapshot

SNAPSHOT_EVERY_S = 3600.0


def _nothing() -> None:
    return None


class EngineFiles:
    def __init__(
        self, engine: Engine, data_dir: Path | str, *, snapshot_every_s: float = SNAPSHOT_EVERY_S
    ) -> None:
        self.engine = engine
        self.root = Path(data_dir)
        self.every_s = snapshot_every_s
        self.journal = Journal(self.root)
        self._remove_listener: Callable[[], None] = _nothing

    def start(self) -> None:
        self.journal.start()
        self._remove_listener = self.engine.on_event(self.journal.on_event)
        self.engine.spawn(self._hourly())

    def stop(self) -> None:
        """A last snapshot, then the journal drained and closed."""
        self.snapshot()
        self._remove_listener()
        self.journal.stop()

    def snapshot(self) -> Path:
        now = time.time_ns()
        state = self.engine.state()
        path = write_snapshot(self.root, state, now)
        append_pnl(self.root, now, state["positions"])
        return path

    async def _hourly(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            await asyncio.to_thread(self.snapshot)
