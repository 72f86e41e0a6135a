"""``oms.v1.EventService``: the engine's events, live, filtered by subject, resumable.

``EventLog`` keeps the last ``capacity`` events (each with the subject it has on
JetStream) so a client that lost its stream resumes from the last ``seq`` it saw with
nothing missed; older than that is OUT_OF_RANGE, and JetStream has the full history.
A subscriber that falls ``BACKLOG`` events behind is cut off (the stream ends with
RESOURCE_EXHAUSTED) rather than let it grow the server's memory.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import msgspec

from oms.api import convert
from oms.api.status import abort_with
from oms.bus.publisher import address
from oms.engine import Engine
from oms.engine.events import (
    EngineEvent,
    FillUpdate,
    FundingUpdate,
    OrderUpdate,
    PositionUpdate,
    RiskDecision,
)
from oms.errors import InvalidInput, OmsError
from oms.model import Order, OrderRequest
from oms.v1 import common_pb2 as pb
from oms.v1 import events_pb2 as rpc

BACKLOG = 10_000


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcards: ``*`` is one token, ``>`` the rest (one or more tokens)."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


class EventLog:
    """The recent events, with subjects; fed by ``engine.on_event``."""

    def __init__(self, engine: Engine, capacity: int = 100_000) -> None:
        self.engine = engine
        self.recent: collections.deque[EngineEvent] = collections.deque(maxlen=capacity)
        self._live: list[asyncio.Queue[EngineEvent | None]] = []
        self._detach: Callable[[], None] | None = None
        self.closed = False  # detached: the server is stopping (a stream's end is not a lag)

    def subject(self, event: EngineEvent) -> str:
        """The event's JetStream subject, worked out when a stream needs it (not on the
        order path, where every event passes through here)."""
        return address(event, self.to_native)[0]

    def to_native(self, venue: str, symbol: str) -> str:
        """The venue's symbol, as JetStream subjects have it; an instrument the map does
        not know still gets a subject (a listener must never fail the order path)."""
        try:
            return self.engine.exchanges[venue].symbols.to_native(symbol)
        except (KeyError, OmsError):
            return "".join(ch for ch in symbol if ch.isalnum())

    def attach(self) -> None:
        self._detach = self.engine.on_event(self._on_event)

    def detach(self) -> None:
        if self._detach is not None:
            self._detach()
            self._detach = None
        self.closed = True
        for queue in self._live:
            queue.put_nowait(None)
        self._live.clear()

    def _on_event(self, event: EngineEvent) -> None:
        self.recent.append(event)
        lagging = []
        for queue in self._live:
            if queue.qsize() >= BACKLOG:
                lagging.append(queue)
            else:
                queue.put_nowait(event)
        for queue in lagging:
            self._live.remove(queue)
            queue.put_nowait(None)

    async def follow(
        self, after_seq: int, last: int, follow: bool, wanted: Callable[[EngineEvent], bool]
    ) -> AsyncIterator[EngineEvent | None]:
        """Retained events after ``after_seq`` that are ``wanted`` (only the last ``last``
        of them if set), then live ones if ``follow``; yields None once if this subscriber
        was cut off (for lagging, or ``closed``: the server is stopping)."""
        queue: asyncio.Queue[EngineEvent | None] = asyncio.Queue()
        if follow and self.closed:
            queue.put_nowait(None)
        elif follow:
            self._live.append(queue)  # before the replay: nothing falls between the two
        try:
            replay = [e for e in self.recent if e.seq > after_seq and wanted(e)]
            seen = after_seq
            for retained in replay[-last:] if last else replay:
                seen = retained.seq
                yield retained
            while follow:
                entry = await queue.get()
                if entry is None:
                    yield None
                    return
                if entry.seq > seen and wanted(entry):
                    yield entry
        finally:
            if queue in self._live:
                self._live.remove(queue)

    def oldest_seq(self) -> int:
        """The oldest event held; with none held, the next one (everything before was
        not kept here — e.g. numbered by an earlier life of the engine)."""
        return self.recent[0].seq if self.recent else self.engine.events.last_seq + 1


class EventService:
    def __init__(self, log: EventLog) -> None:
        self.log = log

    async def stream_events(self, request: rpc.StreamEventsRequest, context: Any) -> AsyncIterator[rpc.Event]:
        patterns = list(request.subjects)
        for p in patterns:
            if not p or any(not token for token in p.split(".")):
                raise InvalidInput(f"subjects: {p!r} is not a subject pattern", field="subjects")
        after = request.after_seq
        await self._check_resume(after, context)

        def wanted(event: EngineEvent) -> bool:
            return not patterns or any(subject_matches(p, self.log.subject(event)) for p in patterns)

        async for entry in self.log.follow(after, request.last, request.follow, wanted):
            if entry is None:
                await self._cut_off(context)
                return
            yield event_out(entry.seq, self.log.subject(entry), entry, self.log.engine)

    async def _check_resume(self, after: int, context: Any) -> None:
        """OUT_OF_RANGE for a resume point the server cannot serve: older than it holds,
        or beyond its last event (a seq this server never gave: another server's, or
        made up), which would otherwise wait in silence for events it will never send.
        (A restart numbers on after the last life, so a seq from before it is older.)"""
        last = self.log.engine.events.last_seq
        if after > last:
            await abort_with(
                context,
                grpc.StatusCode.OUT_OF_RANGE,
                "EVENTS_AHEAD",
                f"after_seq {after} is beyond the last event ({last}): the server restarted? read JetStream",
            )
        if after and after + 1 < self.log.oldest_seq():
            await abort_with(
                context,
                grpc.StatusCode.OUT_OF_RANGE,
                "EVENTS_EXPIRED",
                f"events after {after} are no longer held (oldest {self.log.oldest_seq()}): read JetStream",
            )

    async def _cut_off(self, context: Any) -> None:
        if self.log.closed:
            await abort_with(
                context, grpc.StatusCode.UNAVAILABLE, "SERVER_STOPPING", "the server is stopping"
            )
        await abort_with(context, grpc.StatusCode.RESOURCE_EXHAUSTED, "SLOW_CONSUMER", "fell too far behind")


def event_out(seq: int, subject: str, event: EngineEvent, engine: Engine | None = None) -> rpc.Event:
    if isinstance(event, OrderUpdate):
        known = engine.registry.get(event.order_id) if engine is not None else None
        order = _order_of(event, known)
        return rpc.Event(seq=seq, subject=subject, ts_ns=event.ts_ns, order=rpc.OrderEvent(order=order))
    if isinstance(event, FillUpdate):
        fill = convert.fill_out(event.fill, event.order_id, event.account)
        return rpc.Event(seq=seq, subject=subject, ts_ns=event.fill.ts_ns, fill=fill)
    if isinstance(event, PositionUpdate):
        position = rpc.PositionEvent(position=convert.position_out(event))
        return rpc.Event(seq=seq, subject=subject, ts_ns=event.ts_ns, position=position)
    if isinstance(event, FundingUpdate):
        f = event.funding
        funding = rpc.FundingEvent(
            venue=f.venue,
            symbol=f.symbol,
            account=event.account,
            amount=convert.dec(f.amount),
            asset=f.asset,
            funding_id=f.funding_id,
        )
        return rpc.Event(seq=seq, subject=subject, ts_ns=f.ts_ns, funding=funding)
    assert isinstance(event, RiskDecision)
    risk = rpc.RiskEvent(
        venue=event.venue,
        symbol=event.symbol,
        account=event.account,
        side=convert.enum_out(event.side),
        qty=convert.dec(event.qty),
        code=event.code,
        message=event.message,
    )
    return rpc.Event(seq=seq, subject=subject, ts_ns=event.ts_ns, risk=risk)


def _order_of(u: OrderUpdate, known: Order | None) -> pb.Order:
    """The order as the event saw it; the request's other fields (stop price, time in
    force, ...) and the creation time from the engine's record of it, when it has one."""
    if known is not None:
        request = msgspec.structs.replace(known.request, qty=u.qty, price=u.price)
    else:
        request = OrderRequest(
            venue=u.venue,
            symbol=u.symbol,
            side=u.side,
            type=u.type,
            qty=u.qty,
            price=u.price,
            account=u.account,
        )
    order = Order(
        id=u.order_id,
        request=request,
        client_order_id=u.client_order_id,
        venue_order_id=u.venue_order_id,
        status=u.status,
        filled_qty=u.filled_qty,
        reason=u.reason,
        created_ns=known.created_ns if known is not None else 0,
        updated_ns=u.ts_ns,
    )
    out = convert.order_out(order)
    out.avg_price = convert.avg_out(u.avg_price)
    return out
