"""A burst far beyond the journal writer's pace fills its queue: the order path waits
for room instead of losing records (every event is in the file, none dropped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oms.storage import journal
from oms.storage.journal import Journal, read_jsonl
from tests.integration.test_bus_jetstream import fill_event


def test_a_full_journal_queue_waits_rather_than_drops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "QUEUE_CAPACITY", 256)
    writer = Journal(tmp_path)
    writer.start()
    total = 50_000
    for n in range(1, total + 1):
        writer.on_event(fill_event(n))
    writer.stop()
    assert writer.dropped == 0
    lines = [r for path in tmp_path.rglob("trades.jsonl") for r in read_jsonl(path)]
    assert len(lines) == total
