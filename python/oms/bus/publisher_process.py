"""JetStream publishing in a process of its own, fed through a shared-memory ring.

In the engine's process, publishing costs Python work per event (a publish, a future,
an ack to parse) on the engine's event loop, and it showed: the order path's submit p99
moved ~5x under load with the publisher in-process, against ~1.2x for the JSONL journal
(BENCHMARKS.md). Here the engine's batch sink (``Engine.on_events``, once the loop is
free) only encodes the events and puts ``subject \\t msg-id \\t payload`` each on an
``oms.queues.ShmRing``; a child process reads the
ring and runs the same ``JetStreamPublisher`` (batches, acks, resends with the same
``Nats-Msg-Id``, spill to disk in a long outage). Nothing is shared but the ring and two
status numbers, so the order path neither waits on NATS nor shares a GIL with it.

The child outlives a crashed engine just long enough to publish what the ring holds
(it notices its parent is gone), and ``stop()`` closes the ring so it drains, flushes
and exits. A ring full because the child is stuck or dead falls back to the spill file
in the engine's process (published by the next start), so nothing is lost.

Strict durability's intents stay in the engine's process (``JetStreamPublisher.
journal_intents``): the engine waits for those acknowledgements by design.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.sharedctypes
import os
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec

from oms.bus.publisher import BATCH, JetStreamPublisher, Outgoing, Spill, ToNative, bus_messages
from oms.engine.events import EngineEvent, KeptEvent
from oms.errors import OmsError
from oms.queues import ShmRing

log = logging.getLogger(__name__)
RING_BYTES = 64 * 1024 * 1024
IDLE_S = 0.002
READY_TIMEOUT_S = 30.0


class PublisherProcess:
    """``on_event`` in the engine's process; the publishing in a child."""

    def __init__(
        self,
        servers: str | list[str],
        to_native: ToNative,
        *,
        spill_dir: Path | str | None = None,
        replicas: int = 1,
        ring_bytes: int = RING_BYTES,
    ) -> None:
        self.servers = servers
        self.to_native = to_native
        self.spill_dir = Path(spill_dir) if spill_dir is not None else None
        self.replicas = replicas
        self.ring_bytes = ring_bytes
        self.ring: ShmRing | None = None
        self.spill = Spill(self.spill_dir / "overflow") if self.spill_dir is not None else None
        self.overflowed = 0  # events the full ring sent to the engine-side spill file
        self.dropped = 0
        self._messages = bus_messages(msgspec.json.Encoder(), to_native)
        ctx = multiprocessing.get_context("spawn")
        self._backlog: Any = ctx.Value("q", 0, lock=False)
        self._connected: Any = ctx.Value("b", 0, lock=False)
        self._published: Any = ctx.Value("q", 0, lock=False)
        self._process: multiprocessing.process.BaseProcess | None = None
        self._ctx = ctx

    @property
    def backlog(self) -> int:
        """Events in the child's queue or spill file (the ring's content is not counted)."""
        return int(self._backlog.value)

    @property
    def connected(self) -> bool:
        return bool(self._connected.value)

    @property
    def published(self) -> int:
        return int(self._published.value)

    async def start(self) -> None:
        name = f"oms-events-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.ring = ShmRing.create(name, self.ring_bytes, "producer")
        spills = [str(self.spill_dir / "child"), str(self.spill_dir / "overflow")] if self.spill_dir else []
        self._process = self._ctx.Process(
            target=child_main,
            args=(name, self.servers, spills, self.replicas, os.getpid()),
            kwargs={"status": (self._backlog, self._connected, self._published)},
            name="oms-publisher",
            daemon=False,
        )
        self._process.start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.connected:
            if not self._process.is_alive() or time.monotonic() > deadline:
                raise OmsError("the publisher process did not connect to NATS", "PUBLISHER_FAILED")
            await asyncio.sleep(0.01)

    def on_events(self, events: list[KeptEvent]) -> None:
        """Engine batch sink (``Engine.on_events(..., records=True)``, or Structs):
        encoded in the core (``bus_messages``) and put on the ring; never waits."""
        messages = self._messages.messages(events)
        self.dropped += len(events) - len(messages)
        assert self.ring is not None
        try:
            sent = self.ring.put_many(messages)
        except OmsError:  # closed
            sent = 0
        for raw in messages[sent:]:  # full (or closed): kept on disk for the next start
            message = Outgoing.parse(raw)
            if self.spill is None:
                self.dropped += 1
                log.error("event ring full: %s not published", message.msg_id)
                continue
            self.spill.append(message)
            self.overflowed += 1

    def on_event(self, event: EngineEvent) -> None:
        """One event (``Engine.on_event``, or a caller of its own)."""
        self.on_events([event])

    async def stop(self, flush_timeout: float = 10.0) -> None:
        """Close the ring: the child publishes what it holds (up to ``flush_timeout``)."""
        if self.ring is not None:
            self.ring.close()
        if self._process is not None:
            await asyncio.to_thread(self._process.join, flush_timeout + 5)
            if self._process.is_alive():
                log.error("the publisher process did not finish in time: terminated")
                self._process.terminate()
                await asyncio.to_thread(self._process.join, 5)
        if self.ring is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.ring.path)  # both sides are done with it


# ---- the child ----


def child_main(
    ring_name: str,
    servers: str | list[str],
    spills: list[str],
    replicas: int,
    parent: int,
    *,
    status: tuple[Any, Any, Any],
) -> None:
    asyncio.run(_publish_from_ring(ring_name, servers, spills, replicas, parent, status))


async def _publish_from_ring(
    ring_name: str,
    servers: str | list[str],
    spills: list[str],
    replicas: int,
    parent: int,
    status: tuple[Any, Any, Any],
) -> None:
    backlog, connected, published = status
    ring = ShmRing.attach(ring_name, "consumer")
    publisher = JetStreamPublisher(
        servers, lambda venue, symbol: symbol, replicas=replicas, spill_dir=spills[0] if spills else None
    )
    await publisher.start()
    if len(spills) > 1:
        _adopt_overflow(publisher, Path(spills[1]))
    while True:
        connected.value = int(publisher.connected)
        backlog.value = publisher.backlog
        published.value = publisher.published
        try:
            items = ring.get_many(BATCH, timeout=0.0)
        except OmsError:  # closed by the engine and empty: everything is in hand
            break
        if items:
            publisher.enqueue_many([Outgoing.parse(raw) for raw in items])
            continue
        if os.getppid() != parent:
            break  # the engine died: what the ring held is in hand now
        await asyncio.sleep(IDLE_S)
    await publisher.stop(flush_timeout=30.0)
    published.value = publisher.published
    connected.value = 0


def _adopt_overflow(publisher: JetStreamPublisher, directory: Path) -> None:
    """Events a full ring sent to the engine's spill file last time: published now."""
    publisher.enqueue_many(Spill(directory).take())
