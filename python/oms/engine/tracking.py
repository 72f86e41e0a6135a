"""How venue reports move the engine's orders, positions and risk reservations.

Rules (the order state machine itself is ``oms.model.state``):

* **Fills drive the fill statuses.** A fill (from the user stream, an answer, or a gap
  fill) is applied once per trade id: to the order, to the ``PositionBook`` and to the
  risk engine. An order report saying PARTIALLY_FILLED or FILLED only marks the order
  as working; when it counts more filled than the fills we have, the missing fills are
  fetched from the venue after a short wait (they are usually just behind).
* **Other reports** (NEW, CANCELED, EXPIRED, REJECTED, TRIGGERED) move the order when
  the state machine allows it; a report that is stale (the order is already further
  on) is ignored.
* **Refusals**: a request the venue refused before accepting it makes the order
  REJECTED; a cancel or amend the venue refused goes back to the working status.
* **Replacing**: while an amend is with the venue, an end reported for the order's
  current client id is held back: a cancel-replace ends the old venue order by design
  (and the report can beat the answer). Once the amend is answered it is dropped if the
  order now lives under a new id, and applied otherwise.
* **Reservations**: the risk engine holds each open order's worst case; a fill moves
  it to the position, and an order that ends frees the rest, exactly once.
* Fees reach positions in the quote currency: a fee in the base asset is valued at the
  fill price; a fee in a third asset (BNB) stays on the order only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from oms.errors import OmsError
from oms.exchanges.base import Exchange
from oms.model import Fill, FillEvent, FundingEvent, Order, OrderEvent, OrderRequest, OrderStatus, UserEvent
from oms.model.state import PENDING
from oms.risk import RiskOrder

if TYPE_CHECKING:
    from oms.engine.engine import Engine

log = logging.getLogger(__name__)
ENDS = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED})
PENDING_REPLACE = OrderStatus.PENDING_REPLACE  # a module name: a member lookup costs more
# OrderPath.report's answer, as bits: the order moved, fills to fetch, now triggered.
CHANGED, CATCH_UP, TRIGGERED_NOW = 1, 2, 4
CATCH_UP_DELAY_S = 0.5  # how long fills may trail the report that counts them


def risk_order(request: OrderRequest, qty: Decimal, price: Decimal | None) -> RiskOrder:
    """The risk engine's view of ``request`` for ``qty`` at ``price`` (what it reserves)."""
    return RiskOrder(
        request.account,
        request.venue,
        request.symbol,
        request.side.value,
        qty,
        price,
        request.reduce_only or request.close_position,
    )


class OrderTracker:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.path = engine.path  # the core's steps, and the maps it owns
        self._held: dict[str, OrderEvent] = {}  # order id -> an end reported mid-amend

    # ---- the user streams ----

    async def follow(self, exchange: Exchange) -> None:
        async for event in exchange.user_events():
            try:
                self.on_user_event(event)
            except Exception:  # one bad event must not stop the stream
                log.exception("could not apply %s", event)

    def on_user_event(self, event: UserEvent) -> None:
        if type(event) is FillEvent:  # most events: apply_fill, its call spared
            order = self.path.fill(event.fill)
            if order is not None:
                self._filled(order)
        elif isinstance(event, FillEvent):
            self.apply_fill(event.fill)
        elif isinstance(event, FundingEvent):
            self.engine.funding.apply(event.funding)
        elif isinstance(event, OrderEvent):
            order = self._find(event.venue, event.client_order_id, event.venue_order_id)
            if order is None or self._from_retired(event):
                return
            if order.status is PENDING_REPLACE and event.status in ENDS:
                self._held[order.id] = event
                return
            self.apply_report(order, event)

    def on_user_events(self, events: Sequence[UserEvent]) -> None:
        """A batch as a stream delivered it, applied in order: each run of fills in one
        call to the core (``OrderPath.fill_many``), the daily loss limit checked once
        per run. A fill that cannot be applied is logged, as ``follow`` does."""
        fills: list[Fill] = []
        for event in events:
            if type(event) is FillEvent:
                fills.append(event.fill)
                continue
            if fills:
                self._apply_fills(fills)
                fills = []
            self.on_user_event(event)
        if fills:
            self._apply_fills(fills)

    def _apply_fills(self, fills: list[Fill]) -> None:
        engine = self.engine
        groups = engine.conditional.groups
        for fill, result in zip(fills, self.path.fill_many(fills), strict=True):
            if isinstance(result, BaseException):
                log.error("could not apply %s: %s", fill, result)
            elif result is not None and groups:
                engine.conditional.on_fill(result)
        engine.update_daily_pnl()

    # ---- reports ----

    def apply_report(self, order: Order, event: OrderEvent) -> None:
        """Applied in the core (``OrderPath.report``: the venue order id noted, the
        status moved by the rules above, an end settled, the event); what it answers
        that needs the engine is done here."""
        changes = self.path.report(order, event)
        if changes > CHANGED:
            self.after_report(order, changes)

    def after_report(self, order: Order, changes: int) -> None:
        """What ``OrderPath.report`` answered that needs the engine."""
        if changes & CATCH_UP:
            self.engine.spawn(self._catch_up(order))
        if changes & TRIGGERED_NOW:
            self.engine.conditional.on_triggered(order)

    def refused(self, order: Order, err: OmsError) -> None:
        """The venue refused the new order: nothing is there."""
        order.transition(OrderStatus.REJECTED, reason=f"{err.message} [{err.code}]", ts_ns=time.time_ns())
        self.settle(order)
        self.engine.emit_order(order)

    def not_done(self, order: Order, err: OmsError) -> None:
        """A cancel or amend the venue refused: back to the working status (and an end
        reported meanwhile is the order's own)."""
        if order.status in PENDING:
            order.revert_pending(reason=f"{err.message} [{err.code}]", ts_ns=time.time_ns())
            self.engine.emit_order(order)
        held = self._held.pop(order.id, None)
        if held is not None:
            self.apply_report(order, held)

    def amended(self, order: Order, event: OrderEvent, replacement: RiskOrder) -> None:
        """The venue took the amend; a new client id means a new venue order (spot
        cancel-replace): the old id is retired. The new reservation replaces the old."""
        registry = self.engine.registry
        held = self._held.pop(order.id, None)
        if event.client_order_id and event.client_order_id != order.client_order_id:
            registry.rename(order, event.client_order_id)
            held = None  # the old venue order's end, by design
        self._replace_reservation(order, replacement)
        if order.status in PENDING:
            order.revert_pending(ts_ns=time.time_ns())
        self.apply_report(order, event)
        if held is not None:
            self.apply_report(order, held)
        self.engine.emit_order(order)

    # ---- fills ----

    def apply_fill(self, fill: Fill) -> None:
        """Applied in the core (``OrderPath.fill``: the order, the reservation, the
        position marked at the reference price, the events), once per trade id."""
        order = self.path.fill(fill)
        if order is not None:
            self._filled(order)

    def _filled(self, order: Order) -> None:
        """After a fill: the order's group (OCO, bracket), the daily loss limit."""
        engine = self.engine
        if engine.conditional.groups:
            engine.conditional.on_fill(order)
        engine.update_daily_pnl()

    def stray_fill(self, fill: Fill) -> None:
        log.warning("a fill for an order that is not ours: %s", fill)

    def overfilled(self, order: Order, excess: Decimal) -> None:
        log.error("overfill on %s: %s", order.id, excess)

    @staticmethod
    def fee_in_quote(fill: Fill) -> Decimal | None:
        """The fee in the symbol's quote currency (None for a third asset, e.g. BNB)."""
        base, quote = _assets(fill.symbol)
        if fill.fee and fill.fee_asset == quote:
            return fill.fee
        if fill.fee and fill.fee_asset == base:
            return fill.fee * fill.price
        return None

    def note_venue_id(self, order: Order) -> None:
        self.path.index_venue_id(order)  # an order the venue has not named is skipped

    async def _catch_up(self, order: Order) -> None:
        """The venue counts fills we have not seen: fetch them (duplicates are dropped)."""
        await asyncio.sleep(CATCH_UP_DELAY_S)
        exchange = self.engine.exchanges[order.request.venue]
        try:
            fills = await exchange.fetch_fills(order.request.symbol, since_ns=order.created_ns - 60 * 10**9)
        except OmsError as err:
            log.warning("could not fetch the fills of %s: %s", order.id, err)
            return
        for fill in fills:
            if fill.venue_order_id == order.venue_order_id:
                self.apply_fill(fill)

    # ---- reservations ----

    def reserve(self, order: Order, risk_order: RiskOrder) -> None:
        order.reservation = risk_order

    def swap_reservation(self, order: Order, replacement: RiskOrder) -> None:
        """An order held by the engine, amended: the new reservation is taken next to
        the old one, then the old one released (as for an amend at a venue); refused,
        the old one stays and the refusal is raised."""
        self.engine.risk.check(replacement)
        self._replace_reservation(order, replacement)

    def _replace_reservation(self, order: Order, replacement: RiskOrder) -> None:
        """``replacement`` (already checked) takes the place of the order's reservation."""
        old = order.reservation
        if old is not None:
            self.engine.risk.release(old)
        order.reservation = replacement

    def settle(self, order: Order) -> None:
        """An order that ended frees what is left of its reservation and counts among
        the closed orders (once; the oldest past ``keep_closed`` are forgotten)."""
        self.path.settle(order)

    # ---- lookups ----

    def _find(self, venue: str, client_order_id: str | None, venue_order_id: str | None) -> Order | None:
        order = self.engine.registry.by_client_id(client_order_id)
        if order is None and venue_order_id:
            order = self.path.by_venue_id(venue, venue_order_id)
        return order

    def _from_retired(self, event: OrderEvent) -> bool:
        """A report about an order's replaced incarnation (its CANCELED is not ours)."""
        return self.engine.registry.is_retired(event.client_order_id)


def _assets(symbol: str) -> tuple[str, str]:
    """``BTC/USDT`` or ``BTC/USDT:USDT`` -> (``BTC``, ``USDT``) (kept: asked per fill)."""
    assets = _ASSETS.get(symbol)
    if assets is None:
        base, _, rest = symbol.partition("/")
        assets = _ASSETS[symbol] = (base, rest.partition(":")[0])
    return assets


_ASSETS: dict[str, tuple[str, str]] = {}
