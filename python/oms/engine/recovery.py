"""Coming back after a stop or a crash with the same truth as the venues.

1. **Snapshot**: the latest readable ``state.json`` gives the trading state and the
   orders that were open then (``oms.storage.snapshots``). In strict mode the
   acknowledged intents (JetStream ``INTENTS``) add every order that was about to be
   sent, even if nothing else about it was written before the crash.
   Its positions are restored exactly (cost basis, realized P&L, fees, funding).
2. **Events since**: every event numbered after the snapshot, from JetStream (ORDERS,
   TRADES, POSITIONS, read from where each stream stood at the snapshot) and from the
   journal files — in ``fast`` mode either may hold events the other lacks after a
   crash, and ``oms.engine.replay.EventReplay`` applies each once: order updates bring
   orders up to date and add the ones created after it; fills and funding payments go
   into the positions and their orders. With no readable snapshot, everything recorded
   is replayed onto an empty state.
3. **Venues**: every order still open in our books is asked for by client id; a venue
   that counts more filled than we do gets its fills fetched and applied (each trade id
   once). An order the venue does not know was never accepted: once its receive window
   has passed (the venue can no longer take it) it is REJECTED — never resent. Open
   orders at a venue that we have no record of are either ours by their client-id
   prefix (placed by an earlier life whose records were lost: **adopted**, tracked and
   reserved from the venue's own description of them, their fills applied) or
   ``foreign`` (placed by someone else: reported, never touched). An order of ours the
   venue describes too little to rebuild stays ``unrecognized`` and is reported.
   Funding paid while we were down is fetched and booked (each payment id once).

New orders are refused (``RECOVERING``) until all three are done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from oms.engine.replay import REPLAYED, EventReplay, journal_records, order_from
from oms.engine.tracking import risk_order
from oms.errors import OmsError, OrderNotFound
from oms.exchanges.base import Exchange
from oms.model import Fill, Order, OrderEvent, OrderRequest, OrderStatus
from oms.model.orders import order_from_builtins
from oms.storage.snapshots import latest_snapshot

if TYPE_CHECKING:
    from oms.engine.engine import Engine

log = logging.getLogger(__name__)


class Recovering(OmsError):
    default_code = "RECOVERING"


class EventStreams(Protocol):
    """Where the engine's events were published (``oms.bus.replay.StreamReplay``)."""

    def read(self, stream: str, after: int = 0) -> AsyncIterator[dict[str, Any]]: ...


class Recovery:
    def __init__(self, engine: Engine, data_dir: Path | str) -> None:
        self.engine = engine
        self.root = Path(data_dir)
        self.since_ns = 0
        self._trading_state = "ACTIVE"
        self.adopted: list[tuple[str, str]] = []  # (venue, client order id): ours, rebuilt from the venue
        self.unrecognized: list[tuple[str, str]] = []  # ours, but not describable enough to adopt
        self.foreign: list[tuple[str, str]] = []  # (venue, client order id): placed by others
        self.streams_failed = False  # JetStream could not be read: the journal alone

    async def restore(self, streams: EventStreams | None = None) -> None:
        """Steps 1 and 2 (the snapshot, then the events after it from ``streams`` —
        JetStream — and from the journal files)."""
        found = latest_snapshot(self.root)
        state: dict[str, Any] = {}
        if found is not None and not all("cost_basis" in p for p in found[1].get("positions", [])):
            log.warning("%s: written by an older version (inexact positions): replaying everything", found[0])
            found = None
        if found is not None:
            path, state = found
            self.since_ns = int(state.get("ts_ns", 0))
            log.info("recovering from %s", path)
        replay = EventReplay(self.engine, after_seq=int(state.get("seq", 0)))
        self._restore_state(state, replay)
        self.engine.conditional.restore(state.get("conditional") or {})
        if streams is not None:
            await self._replay_streams(streams, replay, state.get("streams") or {})
        for name in ("orders.jsonl", "trades.jsonl"):
            for record in journal_records(self.root, name):
                replay.apply(record)
        replay.finish()
        log.info("%d recorded events applied after the snapshot", replay.applied)
        for order in self.engine.orders():  # the ended ones counted: the oldest past keep_closed go
            self.engine.tracker.settle(order)
        for order in self.engine.orders(open_only=True):
            self._reserve(order)
        if self._trading_state != "ACTIVE":  # after the reservations: a halt refuses them
            self.engine.risk.set_trading_state(self._trading_state)  # type: ignore[arg-type]

    async def _replay_streams(self, streams: EventStreams, replay: EventReplay, at: dict[str, int]) -> None:
        """JetStream's events after the snapshot; unreachable: the journal alone (logged)."""
        try:
            for name in REPLAYED:
                async for record in streams.read(name, after=int(at.get(name, 0))):
                    replay.apply(record)
        except Exception as err:  # NATS down or the stream gone: the files still hold the events
            why = f"{type(err).__name__}: {err}"
            log.error("could not replay JetStream (%s): recovering from the journal files", why)
            self.streams_failed = True

    async def reconcile(self) -> None:
        """Step 3: ask the venues."""
        engine = self.engine
        for order in engine.orders(open_only=True):
            exchange = engine.exchanges.get(order.request.venue)
            if exchange is None or order.id in engine.conditional.held:
                continue  # held by the engine: nothing to ask the venue
            try:
                report = await self._venue_report(exchange, order)
            except OmsError as err:
                log.warning("could not reconcile %s: %s", order.id, err)
                continue
            await self._catch_up(exchange, order, report)
        for exchange in engine.exchanges.values():
            for report in await exchange.fetch_open_orders():
                if engine.registry.by_client_id(report.client_order_id) is None:
                    await self._unknown_at_venue(exchange, report)
            await self._catch_up_funding(exchange)

    async def _catch_up_funding(self, exchange: Exchange) -> None:
        """Funding paid while we were down: from the last payment we applied, else from
        the snapshot (a first start has no history to take)."""
        since = self.engine.funding.last_ns.get(exchange.venue) or self.since_ns
        if not since:
            return
        try:
            payments = await exchange.fetch_funding(since)
        except OmsError as err:
            log.warning("could not fetch the funding payments of %s: %s", exchange.venue, err)
            return
        applied = sum(self.engine.funding.apply(f) for f in payments)
        if applied:
            log.info("%s: %d funding payments made while we were down", exchange.venue, applied)

    async def _catch_up(self, exchange: Exchange, order: Order, report: OrderEvent) -> None:
        """Fills the venue counts and we do not (each trade id once), then its status."""
        if (report.filled_qty or 0) > order.filled_qty:
            for fill in await exchange.fetch_fills(
                order.request.symbol, since_ns=order.created_ns - 60 * 10**9
            ):
                if fill.venue_order_id == report.venue_order_id:
                    self.engine.tracker.apply_fill(_owned(fill, order))
        self.engine.tracker.apply_report(order, report)

    async def _unknown_at_venue(self, exchange: Exchange, report: OrderEvent) -> None:
        where = (exchange.venue, report.client_order_id or "")
        if not exchange.is_our_client_id(where[1]):
            log.warning("foreign open order on %s: %s (not ours: left alone)", *where)
            self.foreign.append(where)
            return
        order = _adoptable(report)
        if order is None:
            log.error(
                "our order %s on %s cannot be rebuilt from the venue's answer: not tracked",
                where[1],
                where[0],
            )
            self.unrecognized.append(where)
            return
        self.engine.registry.add(order)
        self.engine.tracker.note_venue_id(order)
        self._reserve(order)
        self.engine.emit_order(order)
        await self._catch_up(exchange, order, report)
        log.warning("adopted %s on %s: ours, but no record of it survived", where[1], where[0])
        self.adopted.append(where)

    async def _venue_report(self, exchange: Exchange, order: Order) -> OrderEvent:
        """The venue's word on ``order``; not there after its receive window: REJECTED."""
        window_ns = (exchange.config.recv_window_ms + 1000) * 1_000_000
        for _ in range(2):
            try:
                return await exchange.fetch_order(order.request.symbol, client_order_id=order.client_order_id)
            except OrderNotFound:
                wait_ns = order.created_ns + window_ns - time.time_ns()
                if wait_ns <= 0:
                    break
                await asyncio.sleep(wait_ns / 1e9)  # it may still arrive: ask once more after
        return OrderEvent(
            venue=exchange.venue,
            symbol=order.request.symbol,
            status=OrderStatus.REJECTED,
            client_order_id=order.client_order_id,
            reason="not at the venue after its receive window: it was never placed",
            ts_ns=time.time_ns(),
        )

    def add_intents(self, intents: Iterable[dict[str, Any]]) -> None:
        """Strict mode: orders whose intent JetStream acknowledged but that we know
        nothing else about (the crash came between the intent and the next record)."""
        for r in intents:
            if self.engine.registry.by_client_id(str(r["client_order_id"])) is None:
                order = order_from(r)
                self.engine.registry.add(order)
                self._reserve(order)

    # ---- the pieces ----

    def _restore_state(self, state: dict[str, Any], replay: EventReplay) -> None:
        engine = self.engine
        self._trading_state = str(state.get("trading_state", "ACTIVE"))
        for raw in state.get("open_orders", []):
            order = order_from_builtins(raw)
            engine.registry.add(order)
            engine.tracker.note_venue_id(order)
        replay.restore_positions(state.get("positions", []))
        for venue, ts_ns in (state.get("funding_last_ns") or {}).items():
            engine.funding.last_ns[venue] = int(ts_ns)

    def _reserve(self, order: Order) -> None:
        request = order.request
        remaining = request.qty - order.filled_qty
        if remaining <= 0:
            return
        reservation = risk_order(request, remaining, request.price)
        try:
            self.engine.risk.check(reservation)
        except OmsError as err:  # limits changed since: tracked, but not reserved
            log.warning("reservation of %s not restored: %s", order.id, err)
            return
        self.engine.tracker.reserve(order, reservation)


def _adoptable(report: OrderEvent) -> Order | None:
    """An order of ours rebuilt from the venue's description (status NEW, nothing
    filled yet: the fills are applied after, as for any order); None if it says too
    little or describes something the model refuses."""
    if report.side is None or report.order_type is None or report.qty is None or not report.client_order_id:
        return None
    request = OrderRequest(
        venue=report.venue,
        symbol=report.symbol,
        side=report.side,
        type=report.order_type,
        qty=report.qty,
        price=report.price,
        stop_price=report.stop_price if report.order_type.is_conditional else None,
        client_order_id=report.client_order_id,
        tag="adopted",
    )
    try:
        request.validate()
    except OmsError as err:
        log.error("order %s at %s: %s", report.client_order_id, report.venue, err)
        return None
    now = time.time_ns()
    return Order(
        id=report.client_order_id,
        request=request,
        client_order_id=report.client_order_id,
        venue_order_id=report.venue_order_id,
        created_ns=report.ts_ns or now,
        updated_ns=now,
    )


def _owned(fill: Fill, order: Order) -> Fill:
    """A fill fetched by venue order id carries no client id: name our order."""
    return msgspec.structs.replace(fill, client_order_id=fill.client_order_id or order.client_order_id)
