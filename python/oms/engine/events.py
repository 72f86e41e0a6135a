"""What the engine tells the world: every order change, fill and risk decision, each
with a sequence number that orders them, fanned out to subscribers.

These are the records the event bus (JetStream) and the files will carry, so they are
msgspec Structs with stable field names, one tagged union, decimals as strings in JSON.
The ones made for every order (orders, fills, positions) may be built positionally: a
msgspec Struct takes positional arguments in a third of the time of keywords, and
these are built four or five times per order.
A subscriber is an async iterator over a bounded queue of its own, a callback (called
with each event as it happens), or a batch sink (called with the events in order once
the event loop is free: the journal and the JetStream publishers, whose encoding then
never delays the caller's answer and costs one call per batch, not per event). A
subscriber that falls ``SUBSCRIBER_BACKLOG`` events behind is dropped (told by a closed
iterator) rather than let it grow the engine's memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import msgspec

from oms._core import EventLog, FillUpdateRecord, OrderUpdateRecord, PositionUpdateRecord
from oms.model import Fill, Funding, Order, OrderStatus, OrderType, Side
from oms.positions import Position

log = logging.getLogger(__name__)
SUBSCRIBER_BACKLOG = 100_000
BATCH_EVERY = 1024  # events kept at most before the batch sinks get them, loop free or not


class OrderUpdate(msgspec.Struct, frozen=True, tag_field="event", tag="order"):
    """An order as it is now (after a state change, a fill or a venue report)."""

    seq: int
    order_id: str
    client_order_id: str
    venue: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    status: OrderStatus
    filled_qty: Decimal
    avg_price: Decimal | None
    venue_order_id: str | None
    reason: str | None
    account: str
    ts_ns: int

    @staticmethod
    def of(order: Order, seq: int) -> OrderUpdate:
        event: OrderUpdate = order.update(seq).event()  # the core maps the fields (events.rs)
        return event


class FillUpdate(msgspec.Struct, frozen=True, tag_field="event", tag="fill"):
    """A fill applied to one of our orders (each trade id once)."""

    seq: int
    order_id: str
    account: str
    fill: Fill


class RiskDecision(msgspec.Struct, frozen=True, kw_only=True, tag_field="event", tag="risk"):
    """A submission the pre-trade checks refused (accepted ones show as orders)."""

    seq: int
    venue: str
    symbol: str
    account: str
    side: Side
    qty: Decimal
    code: str
    message: str
    ts_ns: int


class FundingUpdate(msgspec.Struct, frozen=True, kw_only=True, tag_field="event", tag="funding"):
    """A futures funding payment booked on one account's position (each payment id
    once; ``funding.amount`` is this account's share, positive = received)."""

    seq: int
    account: str
    funding: Funding


class PositionUpdate(msgspec.Struct, frozen=True, tag_field="event", tag="position"):
    """A position after a fill or a funding payment moved it (average cost, P&L, fees
    and funding in quote units)."""

    seq: int
    account: str
    venue: str
    symbol: str
    qty: Decimal
    avg_entry_price: Decimal | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees_paid: Decimal
    version: int  # the position record's own sequence: each change has a new one
    ts_ns: int
    funding: Decimal = Decimal(0)  # received (+) or paid (-)


EngineEvent = OrderUpdate | FillUpdate | PositionUpdate | FundingUpdate | RiskDecision
# An event as the hub keeps it: the order path's order, position and fill updates
# stay in the core's form (fixed point) until a subscriber needs the Struct.
KeptEvent = EngineEvent | OrderUpdateRecord | PositionUpdateRecord | FillUpdateRecord
RECORDS = (OrderUpdateRecord, PositionUpdateRecord, FillUpdateRecord)
Listener = Callable[[EngineEvent], None]
BatchSink = Callable[[list[EngineEvent]], None]
RecordSink = Callable[[list[KeptEvent]], None]
AnySink = BatchSink | RecordSink


def materialize(events: list[KeptEvent]) -> list[EngineEvent]:
    """The Structs of a kept batch (each record made into its event)."""
    return [e.event() if type(e) in RECORDS else e for e in events]  # type: ignore[union-attr,misc]


def first_seq() -> int:
    """Where a new life of the engine starts numbering: the wall clock in microseconds,
    so its numbers follow every number an earlier life used, even events that earlier
    life numbered but never recorded anywhere before a crash (it would have needed more
    than one event per microsecond over its whole life to get ahead of the clock).
    Recovery and resuming clients rely on it: a sequence number is never reused. Below
    2^53, so ``jq`` reads it exactly."""
    return time.time_ns() // 1000


class EventHub:
    """Numbers events and hands each to every subscriber, in order.

    The numbers and the events kept for batch sinks are in the core (``log``, an
    ``EventLog``), where the order path (``OrderPath``) writes its events without a
    call into Python; the hub is asked to attend (``_attend``) only when there is
    something to hand over or schedule."""

    def __init__(self, start: int | None = None) -> None:
        self.log = EventLog(first_seq() if start is None else start, BATCH_EVERY)
        self._queues: list[asyncio.Queue[EngineEvent | None]] = []
        self._listeners: tuple[Listener, ...] = ()  # replaced, never changed: emit needs no copy
        self._sinks: tuple[tuple[AnySink, bool], ...] = ()  # (sink, takes records); likewise
        self._drain_on: asyncio.AbstractEventLoop | None = None  # the loop a drain is due on

    @property
    def last_seq(self) -> int:
        """The last number handed out."""
        return self.log.last_seq

    def next_seq(self) -> int:
        return self.log.next_seq()

    def emit_order(self, order: Order) -> None:
        """An ``OrderUpdate`` of ``order`` as it is now."""
        if self.log.emit_order(order):
            self._attend()

    def emit_position(self, position: Position) -> None:
        """A ``PositionUpdate`` of ``position`` (as a fill or a funding payment left it)."""
        if self.log.emit_position(position):
            self._attend()

    def continue_after(self, seq: int) -> None:
        """Number on from after ``seq`` if an earlier life already went that far."""
        self.log.continue_after(seq)

    def emit(self, event: EngineEvent) -> None:
        for listener in self._listeners:
            listener(event)
        if self._sinks and self.log.keep(event):
            self._attend()
        if not self._queues:
            return
        for queue in list(self._queues):
            if queue.qsize() >= SUBSCRIBER_BACKLOG:
                self._queues.remove(queue)  # too slow: cut off
                self._sync()
                queue.put_nowait(None)
            else:
                queue.put_nowait(event)

    def _attend(self) -> None:
        """What the log kept needs the hub: the records owed to callbacks and
        iterators (made into Structs here, as they happen), and the batch sinks' hand-
        over: at once past ``BATCH_EVERY`` events or without a running loop (a plain
        script), else scheduled for when the loop is free (its callers have their
        answers by then). Events are emitted on the loop's thread, so one due drain
        serves; a loop that closed with a drain due is replaced by the next (the log
        asks for attention when the loop a drain is due on has closed)."""
        log = self.log
        for record in log.take_listened():
            self.emit(record.event() if type(record) in RECORDS else record)
        if len(log) >= BATCH_EVERY:
            self.drain()
            return
        if not len(log):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.drain()
            return
        due = self._drain_on
        if due is not loop or due.is_closed():
            self._drain_on = loop
            log.drain_scheduled(loop)
            loop.call_soon(self.drain)

    def _sync(self) -> None:
        """Tell the log who listens (it keeps nothing for no one)."""
        self.log.set_listeners(bool(self._listeners or self._queues), bool(self._sinks))

    def drain(self) -> None:
        """Hand the kept events to every batch sink now, in order (a sink that raises
        is logged: the others still get them). The records are made into Structs
        once, for the sinks that do not take records."""
        kept, self._drain_on = self.log.take(), None
        if not kept:
            return
        events: list[EngineEvent] | None = None
        for sink, takes_records in self._sinks:
            batch: list[Any] = kept
            if not takes_records:
                batch = events = materialize(kept) if events is None else events
            try:
                sink(batch)
            except Exception:
                log.exception("event sink %r failed on %d event(s)", sink, len(kept))
        self._keep_draining()

    def _keep_draining(self) -> None:
        """Events came since the last hand-over, so more are likely: the next hand-over
        is scheduled now, while the loop is free, rather than by the next event's
        emitter (the submit after each hand-over paid ~2 us for it, and those submits
        set the p99). A hand-over that finds nothing ends the round; the next event
        starts one (``_attend``)."""
        if self._drain_on is not None:  # a sink emitted, and that scheduled one
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # a plain script: each event's emitter hands over
        self._drain_on = loop
        self.log.drain_scheduled(loop)
        loop.call_soon(self.drain)

    def on_batch(self, sink: BatchSink | RecordSink, *, records: bool = False) -> Callable[[], None]:
        """Call ``sink`` with the events emitted since its last call, in order, once the
        event loop is free (see ``_attend``); it must not change the list. With
        ``records`` it gets the order path's order and position updates as the core
        keeps them (``OrderUpdateRecord``, ``PositionUpdateRecord``: ``event()`` makes
        the Struct; the journal encodes them in the core). Returns the function that
        removes it, after handing it what is kept."""
        entry: tuple[AnySink, bool] = (sink, records)
        self._sinks += (entry,)
        self._sync()
        return lambda: self._remove_sink(entry)

    def _remove_sink(self, entry: tuple[AnySink, bool]) -> None:
        self.drain()
        sinks = list(self._sinks)
        sinks.remove(entry)
        self._sinks = tuple(sinks)
        self._sync()

    def on(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every event (synchronously: keep it quick); returns
        the function that removes it."""
        self._listeners += (listener,)
        self._sync()
        return lambda: self._remove(listener)

    def _remove(self, listener: Listener) -> None:
        listeners = list(self._listeners)
        listeners.remove(listener)
        self._listeners = tuple(listeners)
        self._sync()

    async def subscribe(self) -> AsyncIterator[EngineEvent]:
        """Every event from now on, until the engine stops (or this falls too far behind)."""
        queue: asyncio.Queue[EngineEvent | None] = asyncio.Queue()
        self._queues.append(queue)
        self._sync()
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            if queue in self._queues:
                self._queues.remove(queue)
                self._sync()

    def close(self) -> None:
        self.drain()
        for queue in self._queues:
            queue.put_nowait(None)
        self._queues.clear()
        self._sync()
