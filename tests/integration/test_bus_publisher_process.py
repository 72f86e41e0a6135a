"""JetStream publishing from a child process fed by a shared-memory ring: every event
the engine hands over is stored once, and a ring that fills (the child stuck) overflows
to the spill file, published by the next start with nothing lost or doubled."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from oms.bus.embedded_nats import EmbeddedNats
from oms.bus.publisher_process import PublisherProcess
from tests.integration.test_bus_jetstream import fill_event, stream_messages


def native(venue: str, symbol: str) -> str:
    return symbol.replace("/", "")


def stored_ids(url: str) -> list[int]:
    stored = asyncio.run(stream_messages(url, "TRADES"))
    return [int(msg_id.rsplit(":", 1)[1]) for _, msg_id, _ in stored]


def test_every_event_is_published_once_from_the_child(tmp_path: Path) -> None:
    total = 2000

    async def main(url: str) -> PublisherProcess:
        publisher = PublisherProcess(url, native, spill_dir=tmp_path / "spill")
        await publisher.start()
        for n in range(1, total + 1):
            publisher.on_event(fill_event(n))
        await publisher.stop(flush_timeout=60)
        return publisher

    with EmbeddedNats(tmp_path / "nats") as server:
        publisher = asyncio.run(asyncio.wait_for(main(server.url), 90))
        ids = stored_ids(server.url)
    assert publisher.published == total and publisher.overflowed == 0
    assert sorted(ids) == list(range(1, total + 1))
    assert not Path(publisher.ring.path).exists() if publisher.ring else True


def test_a_full_ring_overflows_to_disk_and_the_next_start_publishes_it(tmp_path: Path) -> None:
    total = 1500
    spill = tmp_path / "spill"

    async def first(url: str) -> int:
        publisher = PublisherProcess(url, native, spill_dir=spill, ring_bytes=64 * 1024)
        await publisher.start()
        assert publisher._process is not None and publisher._process.pid is not None
        os.kill(publisher._process.pid, signal.SIGSTOP)  # the child stuck: the ring fills
        try:
            for n in range(1, total + 1):
                publisher.on_event(fill_event(n))
        finally:
            os.kill(publisher._process.pid, signal.SIGCONT)
        await publisher.stop(flush_timeout=60)
        return publisher.overflowed

    async def second(url: str) -> None:
        publisher = PublisherProcess(url, native, spill_dir=spill)
        await publisher.start()
        await publisher.stop(flush_timeout=60)

    with EmbeddedNats(tmp_path / "nats") as server:
        overflowed = asyncio.run(asyncio.wait_for(first(server.url), 90))
        assert 0 < overflowed < total
        assert len(stored_ids(server.url)) == total - overflowed
        asyncio.run(asyncio.wait_for(second(server.url), 90))
        ids = stored_ids(server.url)
    assert sorted(ids) == list(range(1, total + 1)), "every event once"
