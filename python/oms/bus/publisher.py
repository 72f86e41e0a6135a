"""Engine events -> NATS JetStream, off the order path.

The engine hands the events over in batches once its event loop is free
(``Engine.on_events``); they are encoded and put on the core's lock-free queue
(``oms.queues.Queue``): the order path never waits on NATS. A task drains the queue in
batches, publishes each event to its subject with a stable ``Nats-Msg-Id`` and awaits
the batch's acks together. When NATS is away (a restart, a network cut) the batch is
kept and sent again, in order, until acknowledged: the same ids, so JetStream drops the
copies it already stored (within the stream's duplicate window). Nothing acknowledged
is lost, nothing is stored twice. A long outage that fills the queue spills further
events to a file (``spill_dir``: one line per event) that the drain sends, and then
deletes, once the queue has emptied; without a spill directory they are counted in
``dropped``.

Subjects (DESIGN.md §4): ``orders.{exchange}.{market}.{symbol}`` (order updates),
``trades.{exchange}.{market}.{symbol}`` (fills), ``positions.{exchange}.{market}``
(position changes and funding payments),
``risk.{exchange}.{market}.{symbol}`` (refusals), and in ``strict`` mode
``intents.{exchange}.{market}.{symbol}`` (an order about to be sent, acknowledged by
JetStream before the send); native symbols as tokens. Streams ORDERS, TRADES,
POSITIONS, RISK, INTENTS: file storage, 30 days, replicas configurable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec
import nats
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig

from oms._core import BusMessages
from oms.engine.events import EngineEvent, FillUpdate, FundingUpdate, KeptEvent, OrderUpdate, PositionUpdate
from oms.errors import OmsError
from oms.queues import Queue
from oms.symbols import subject

log = logging.getLogger(__name__)

DAYS_30 = 30 * 24 * 3600.0
STREAMS = {
    "ORDERS": "orders.>",
    "TRADES": "trades.>",
    "POSITIONS": "positions.>",
    "RISK": "risk.>",
    "INTENTS": "intents.>",  # strict mode: what is about to be sent, acknowledged first
}
INTENT_TIMEOUT_S = 5.0
BATCH = 256
QUEUE_CAPACITY = 1 << 20
RETRY_S = (0.1, 0.25, 0.5, 1.0, 2.0)
ACK_TIMEOUT_S = 5.0
ToNative = Callable[[str, str], str]  # (venue, unified symbol) -> native symbol


class Spill:
    """Events beyond the queue, in a file: ``subject\tmsg id\tpayload`` per line."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "spill.tsv"
        self._file: IO[bytes] | None = None
        self.pending = self.path.exists() and self.path.stat().st_size > 0  # from a previous run too
        self.unread = self._count_lines() if self.pending else 0  # events in the file (a gauge reads it)

    def _count_lines(self) -> int:
        with open(self.path, "rb") as file:
            return sum(1 for _ in file)

    def append(self, message: Outgoing) -> None:
        if self._file is None:
            self._file = open(self.path, "ab")  # noqa: SIM115 - kept open while spilling
        self._file.write(message.raw() + b"\n")
        self._file.flush()
        self.pending = True
        self.unread += 1

    def take(self) -> list[Outgoing]:
        if not self.pending:
            return []
        if self._file is not None:
            self._file.close()
            self._file = None
        taken = []
        for line in self.path.read_bytes().splitlines():
            taken.append(Outgoing.parse(line))
        self.path.unlink()
        self.pending = False
        self.unread = 0
        return taken


async def _failed(err: object) -> object:
    raise err if isinstance(err, BaseException) else RuntimeError(str(err))


class JournalUnavailable(OmsError):
    default_code = "JOURNAL_UNAVAILABLE"


@dataclass(frozen=True)
class Outgoing:
    subject: str
    msg_id: str
    payload: bytes

    def raw(self) -> bytes:
        """``subject \\t msg-id \\t payload``: a message on the ring, a line of the spill."""
        return b"%s\t%s\t%s" % (self.subject.encode(), self.msg_id.encode(), self.payload)

    @staticmethod
    def parse(raw: bytes) -> Outgoing:
        where, msg_id, payload = raw.split(b"\t", 2)
        return Outgoing(where.decode(), msg_id.decode(), payload)


def bus_messages(encoder: msgspec.json.Encoder, to_native: ToNative) -> BusMessages:
    """The core's encoder of the engine's events as messages (``Outgoing.raw``): the
    order path's records in Rust, without a Python object each; any other event here
    (``one_message``). An event that cannot be encoded or addressed costs only itself:
    logged, left out, counted by the caller from the difference."""

    def subject_of(action: str, venue: str, symbol: str | None) -> str:
        return subject(action, venue, None if symbol is None else to_native(venue, symbol))

    def fallback(event: EngineEvent) -> bytes | None:
        message = one_message(encoder, event, to_native)
        return None if message is None else message.raw()

    return BusMessages(subject_of, fallback)


def one_message(encoder: msgspec.json.Encoder, event: EngineEvent, to_native: ToNative) -> Outgoing | None:
    try:
        return Outgoing(*address(event, to_native), encoder.encode(event))
    except (TypeError, ValueError, OmsError) as err:
        log.error("%s seq %s not published: %s", type(event).__name__, getattr(event, "seq", "?"), err)
        return None


def address(event: EngineEvent, to_native: ToNative) -> tuple[str, str]:
    """(subject, Nats-Msg-Id): the id names the fact, so a resend is recognised."""
    if isinstance(event, OrderUpdate):
        where = subject("orders", event.venue, to_native(event.venue, event.symbol))
        return where, f"order:{event.client_order_id}:{event.status}:{event.filled_qty}"
    if isinstance(event, FillUpdate):
        fill = event.fill
        return subject(
            "trades", fill.venue, to_native(fill.venue, fill.symbol)
        ), f"fill:{fill.venue}:{fill.trade_id}"
    if isinstance(event, PositionUpdate):
        where = subject("positions", event.venue)
        return where, f"position:{event.account}:{event.venue}:{event.symbol}:{event.version}"
    if isinstance(event, FundingUpdate):
        f = event.funding
        return subject("positions", f.venue), f"funding:{f.venue}:{f.funding_id}:{event.account}"
    where = subject("risk", event.venue, to_native(event.venue, event.symbol))
    return where, f"risk:{event.account}:{event.ts_ns}:{event.seq}"


class JetStreamPublisher:
    def __init__(
        self,
        servers: str | list[str],
        to_native: ToNative,
        *,
        replicas: int = 1,
        spill_dir: Path | str | None = None,
        capacity: int = QUEUE_CAPACITY,
    ) -> None:
        self.servers = servers
        self.to_native = to_native
        self.replicas = replicas
        self.queue = Queue(capacity)
        self.spill = Spill(Path(spill_dir)) if spill_dir is not None else None
        self.spilled = 0  # events that went through the spill file
        self._backlog: deque[Outgoing] = deque()
        self.published = 0  # acknowledged by JetStream
        self.dropped = 0  # not encodable, or refused by a full queue (counted, logged)
        self.resent = 0  # sent again after no acknowledgement
        self._wakeup = asyncio.Event()
        self._nc: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._encoder = msgspec.json.Encoder()
        self._messages = bus_messages(self._encoder, to_native)
        self._js: Any = None

    # ---- read by monitoring (oms.metrics, oms.monitoring_http) ----

    @property
    def backlog(self) -> int:
        """Events accepted and not yet handed to JetStream: on the queue, in the spill
        file, or read back from it and waiting their turn (not the batch in flight)."""
        spilled = self.spill.unread if self.spill is not None else 0
        return len(self.queue) + spilled + len(self._backlog)

    @property
    def connected(self) -> bool:
        """Connected to NATS now (False before ``start``, while reconnecting, after ``stop``)."""
        return self._nc is not None and self._nc.is_connected

    # ---- lifecycle ----

    async def start(self) -> None:
        self._nc = await nats.connect(
            self.servers, max_reconnect_attempts=-1, reconnect_time_wait=0.2, name="oms-engine"
        )
        await self.ensure_streams()
        self._task = asyncio.ensure_future(self._drain())

    async def stop(self, flush_timeout: float = 10.0) -> None:
        """Publish what is queued (up to ``flush_timeout``), then disconnect."""
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flushed(), flush_timeout)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()

    async def _flushed(self) -> None:
        while (
            len(self.queue)
            or self._sending
            or self._backlog
            or (self.spill is not None and self.spill.pending)
        ):
            await asyncio.sleep(0.01)

    async def ensure_streams(self) -> None:
        """Create or update the four streams (file storage, 30-day age)."""
        assert self._nc is not None
        js = self._nc.jetstream()
        for name, subjects in STREAMS.items():
            config = StreamConfig(
                name=name,
                subjects=[subjects],
                storage=StorageType.FILE,
                max_age=DAYS_30,
                num_replicas=self.replicas,
            )
            try:
                await js.update_stream(config)
            except Exception:  # not there yet
                await js.add_stream(config)

    # ---- the engine's side: never waits ----

    def on_events(self, events: list[KeptEvent]) -> None:
        """Engine batch sink (``Engine.on_events(..., records=True)``, or Structs):
        encode, enqueue, wake the drain."""
        messages = self._messages.messages(events)
        self.dropped += len(events) - len(messages)
        self.enqueue_many([Outgoing.parse(m) for m in messages])

    def on_event(self, event: EngineEvent) -> None:
        """One event (``Engine.on_event``, or a caller of its own)."""
        self.on_events([event])

    def enqueue_many(self, messages: list[Outgoing]) -> None:
        """Encoded events (from ``on_events``, or from the engine's process through
        ``oms.bus.publisher_process``), queued in order; what a full queue does not
        take is spilled (or counted as dropped without a spill directory)."""
        if not messages:
            return
        taken = self.queue.put_many(messages)
        for message in messages[taken:]:
            if self.spill is None:
                self.dropped += 1
                log.error("event queue full: %s not published", message.msg_id)
                continue
            self.spill.append(message)
            self.spilled += 1
        self._wakeup.set()

    # ---- strict durability: the intent before the send ----

    async def journal_intents(self, updates: list[OrderUpdate]) -> None:
        """Publish each order's intent (its PENDING_NEW update) to ``intents.*`` and wait
        for JetStream to acknowledge them all; raises ``JournalUnavailable`` if it does
        not, and then nothing may be sent."""
        assert self._nc is not None
        js = self._nc.jetstream()
        sends = []
        for update in updates:
            native = self.to_native(update.venue, update.symbol)
            sends.append(
                js.publish(
                    subject("intents", update.venue, native),
                    self._encoder.encode(update),
                    headers={"Nats-Msg-Id": f"intent:{update.client_order_id}"},
                    timeout=INTENT_TIMEOUT_S,
                )
            )
        results = await asyncio.gather(*sends, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise JournalUnavailable(
                f"JetStream did not acknowledge {len(failed)} order intent(s) ({type(failed[0]).__name__}): "
                "not sent (strict durability)"
            )

    async def read_intents(self, since_ns: int) -> list[dict[str, Any]]:
        """The intents journaled after ``since_ns`` (newest first read, returned oldest
        first): what recovery must account for."""
        assert self._nc is not None
        js = self._nc.jetstream()
        info = await js.stream_info("INTENTS")
        decoder = msgspec.json.Decoder(dict[str, Any])
        found: list[dict[str, Any]] = []
        for seq in range(info.state.last_seq, info.state.first_seq - 1, -1):
            if seq == 0:
                break
            record = decoder.decode((await js.get_msg("INTENTS", seq)).data or b"{}")
            if int(str(record.get("ts_ns", 0))) < since_ns:
                break
            found.append(record)
        return found[::-1]

    # ---- the drain ----

    _sending = False

    async def _drain(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while batch := self.queue.get_many(BATCH) or self._from_spill():
                self._sending = True
                await self._send(batch)
                self._sending = False

    def _from_spill(self) -> list[Outgoing]:
        """The queue is empty: the next batch of spilled events (the file is removed once
        read: they are in hand, and ``_send`` keeps them until acknowledged)."""
        if not self._backlog and self.spill is not None:
            self._backlog.extend(self.spill.take())
        return [self._backlog.popleft() for _ in range(min(BATCH, len(self._backlog)))]

    @staticmethod
    async def _publish_all(js: Any, batch: list[Outgoing]) -> list[object]:
        """Every message written at once (one wildcard reply subscription, acks matched
        as they come) rather than a request per message; an ack or error per message."""
        acks: list[object] = []
        for m in batch:
            try:
                acks.append(await js.publish_async(m.subject, m.payload, headers={"Nats-Msg-Id": m.msg_id}))
            except Exception as err:  # not even written (disconnected): sent again
                acks.append(err)
        waits = [
            asyncio.wait_for(a, ACK_TIMEOUT_S) if isinstance(a, asyncio.Future) else _failed(a) for a in acks
        ]
        return list(await asyncio.gather(*waits, return_exceptions=True))

    async def _send(self, batch: list[Outgoing]) -> None:
        """Publish the batch until every message is acknowledged (same ids each time)."""
        assert self._nc is not None
        if self._js is None:  # one context: its reply subscription serves every batch
            self._js = self._nc.jetstream(publish_async_max_pending=4 * BATCH)
        js = self._js
        attempt = 0
        remaining = batch
        while remaining:
            results = await self._publish_all(js, remaining)
            failed = [m for m, r in zip(remaining, results, strict=True) if isinstance(r, BaseException)]
            self.published += len(remaining) - len(failed)
            if failed:
                self.resent += len(failed)
                reasons = {type(r).__name__ for r in results if isinstance(r, BaseException)}
                log.warning("%d events not acknowledged (%s); sending again", len(failed), ", ".join(reasons))
                await asyncio.sleep(RETRY_S[min(attempt, len(RETRY_S) - 1)])
                attempt += 1
            remaining = failed
