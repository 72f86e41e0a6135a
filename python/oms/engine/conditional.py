"""Conditional orders the engine holds and sends when they trigger (emulation), and
order groups (OCO, bracket) whose legs cancel each other.

A stop-loss, take-profit, stop-limit or trailing stop is **emulated** when the venue
cannot hold it natively (its ``Capabilities``, or a trigger it does not offer, such as
bid/ask on Binance) or when the request asks for it (``emulate=True``). The order
stays in the engine as NEW, reserved by the risk engine like any open order; each price
of its kind (last trade, mark, or the touch: the ask for a buy, the bid for a sell)
is compared with its trigger. When it fires the order becomes TRIGGERED and is sent, as
a market order (STOP_MARKET, TAKE_PROFIT_MARKET, TRAILING_STOP) or a limit order at its
price (STOP_LIMIT, TAKE_PROFIT_LIMIT), under its own client id, so the venue's reports
land on it.

Triggers: a buy stop fires at or above its stop price and a sell stop at or below; a
take-profit the other way round; a trailing stop follows the best price since it was
placed (from its activation price, if any) and fires when the price comes back by
``trailing_bps``.

Groups: the legs of an OCO, or a bracket's stop-loss and take-profit, are linked: the
first fill (or trigger) of one cancels the others. A bracket's exits are armed by the
entry's first fill; one that fires while the entry is only part filled closes the
filled quantity and cancels the rest of the entry.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from oms.engine.tracking import risk_order
from oms.errors import OmsError
from oms.model import Order, OrderStatus, OrderType, Side, TriggerPrice
from oms.model.state import TERMINAL

if TYPE_CHECKING:
    from oms.engine.engine import Engine

log = logging.getLogger(__name__)
BPS = Decimal(10_000)
# The types that may need emulating (the order path asks per order: a set beats the
# member's property).
CONDITIONAL_TYPES = frozenset(t for t in OrderType if t.is_conditional)
_STOPS = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP})
_CHILD_TYPE = {
    OrderType.STOP_MARKET: OrderType.MARKET,
    OrderType.TAKE_PROFIT_MARKET: OrderType.MARKET,
    OrderType.TRAILING_STOP: OrderType.MARKET,
    OrderType.STOP_LIMIT: OrderType.LIMIT,
    OrderType.TAKE_PROFIT_LIMIT: OrderType.LIMIT,
}


@dataclass
class Held:
    """An emulated order waiting for its trigger."""

    order: Order
    armed: bool = True  # a bracket exit waits for its entry
    extreme: Decimal | None = None  # trailing: the best price seen since armed


@dataclass
class Group:
    kind: str  # "OCO" or "BRACKET"
    legs: list[str] = field(default_factory=list)  # order ids
    done: bool = False


def fires(order: Order, price: Decimal, held: Held) -> bool:
    """Whether ``price`` triggers ``order`` (and, for a trailing stop, track it)."""
    r = order.request
    buy = r.side is Side.BUY
    if r.type is OrderType.TRAILING_STOP:
        activation = r.activation_price
        if (
            activation is not None
            and held.extreme is None
            and (price > activation if buy else price < activation)
        ):
            return False  # not active yet: a buy waits for the price to come down to it, a sell up
        if held.extreme is None or (price < held.extreme if buy else price > held.extreme):
            held.extreme = price
        assert r.trailing_bps is not None
        distance = held.extreme * r.trailing_bps / BPS
        return price >= held.extreme + distance if buy else price <= held.extreme - distance
    assert r.stop_price is not None
    if r.type in _STOPS:
        return price >= r.stop_price if buy else price <= r.stop_price
    return price <= r.stop_price if buy else price >= r.stop_price  # take-profit


class ConditionalOrders:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.held: dict[str, Held] = {}
        self.groups: dict[str, Group] = {}
        self._group_of: dict[str, str] = {}

    # ---- holding ----

    def needs_emulation(self, order: Order) -> bool:
        r = order.request
        if not r.type.is_conditional:
            return False
        if r.emulate:
            return True
        exchange = self.engine.exchanges[r.venue]
        native = r.type in exchange.capabilities.order_types
        return not native or r.trigger_by is TriggerPrice.BID_ASK

    def hold(self, order: Order, *, armed: bool = True) -> None:
        self.held[order.id] = Held(order, armed=armed)
        order.transition(OrderStatus.NEW, ts_ns=time.time_ns())
        self.engine.emit_order(order)

    def cancel(self, order: Order) -> bool:
        """Cancel a held order locally (True if it was held)."""
        if self.held.pop(order.id, None) is None:
            return False
        order.transition(OrderStatus.CANCELED, reason="canceled before it triggered", ts_ns=time.time_ns())
        self.engine.tracker.settle(order)
        self.engine.emit_order(order)
        return True

    # ---- groups ----

    def link(self, kind: str, orders: list[Order]) -> str:
        group_id = f"{kind.lower()}:{orders[0].id}"
        self.groups[group_id] = Group(kind, [o.id for o in orders])
        for order in orders:
            self._group_of[order.id] = group_id
        return group_id

    def forget(self, orders: list[Order]) -> None:
        """Orders the engine no longer keeps (ended long ago): a group goes with its
        last leg."""
        if not self._group_of:
            return
        for order in orders:
            group_id = self._group_of.pop(order.id, None)
            if group_id is None:
                continue
            group = self.groups.get(group_id)
            if group is not None and not any(leg in self._group_of for leg in group.legs):
                del self.groups[group_id]

    def on_fill(self, order: Order) -> None:
        """A leg traded: arm a bracket's exits (entry filled), or cancel the other legs."""
        group_id = self._group_of.get(order.id)
        if group_id is None:
            return
        group = self.groups[group_id]
        if group.kind == "BRACKET" and order.id == group.legs[0]:
            for leg in group.legs[1:]:  # the first fill arms them: a position to protect
                if leg in self.held:
                    self.held[leg].armed = True
            return
        if group.done:
            return
        group.done = True
        exits = group.legs if group.kind == "OCO" else group.legs[1:]
        for leg in exits:
            if leg != order.id:
                self.engine.spawn(self._cancel_leg(self.engine.order(leg)))

    async def _cancel_leg(self, order: Order) -> None:
        if self.cancel(order):
            return
        try:
            await self.engine.cancel(order.id)
        except OmsError as err:
            log.warning("group leg %s not canceled: %s", order.id, err)

    # ---- snapshots ----

    def state(self) -> dict[str, object]:
        return {
            "held": sorted(self.held),
            "armed": sorted(i for i, h in self.held.items() if h.armed),
            "groups": {g: {"kind": x.kind, "legs": x.legs, "done": x.done} for g, x in self.groups.items()},
        }

    def restore(self, state: dict[str, object]) -> None:
        """Hold again what was held, and relink the groups (after a restart)."""
        armed = set(state.get("armed") or [])  # type: ignore[call-overload]
        for order_id in state.get("held") or []:  # type: ignore[attr-defined]
            order = self.engine.registry.get(order_id)
            if order is not None and order.status is OrderStatus.NEW:
                self.held[order_id] = Held(order, armed=order_id in armed)
        for group_id, g in (state.get("groups") or {}).items():  # type: ignore[attr-defined]
            self.groups[group_id] = Group(g["kind"], list(g["legs"]), bool(g["done"]))
            for leg in g["legs"]:
                self._group_of[leg] = group_id

    # ---- prices ----

    def on_price(
        self, venue: str, symbol: str, kind: TriggerPrice, price: Decimal, side: Side | None = None
    ) -> None:
        """A price of one kind (``side``: for BID_ASK, the bid is for sells, the ask for buys)."""
        for held in [h for h in self.held.values() if h.armed]:
            r = held.order.request
            if r.venue != venue or r.symbol != symbol or r.trigger_by is not kind:
                continue
            if side is not None and r.side is not side:
                continue
            if fires(held.order, price, held):
                self.held.pop(held.order.id, None)
                self.engine.spawn(self._send(held.order, price))

    async def _send(self, order: Order, price: Decimal) -> None:
        """Triggered: send the order it becomes, under its own client id."""
        await self._fit_to_entry(order)
        order.transition(OrderStatus.TRIGGERED, reason=f"triggered at {price}", ts_ns=time.time_ns())
        self.engine.emit_order(order)
        self.on_triggered(order)
        r = order.request
        child = msgspec.structs.replace(
            r,
            type=_CHILD_TYPE[r.type],
            stop_price=None,
            trailing_bps=None,
            activation_price=None,
            trigger_by=TriggerPrice.LAST,
            emulate=False,
            price=r.price if _CHILD_TYPE[r.type] is OrderType.LIMIT else None,
        )
        sent = Order(id=order.id, request=child.validate(), client_order_id=order.client_order_id)
        exchange = self.engine.exchanges[r.venue]
        try:
            event = await exchange.create_order(sent)
        except OmsError as err:
            self.engine.tracker.refused(order, err)
            return
        self.engine.tracker.apply_report(order, event)

    async def _fit_to_entry(self, order: Order) -> None:
        """A bracket exit firing while its entry is only part filled: the rest of the
        entry is canceled first (it would open a position nothing protects any longer,
        and our exit must not trade against it), then the exit closes what was bought
        (or sold), no more."""
        group_id = self._group_of.get(order.id)
        group = self.groups.get(group_id) if group_id is not None else None
        if group is None or group.kind != "BRACKET" or order.id == group.legs[0]:
            return
        entry = self.engine.order(group.legs[0])
        if entry.status is OrderStatus.FILLED:
            return
        if entry.status not in TERMINAL:
            await self._cancel_leg(entry)
        qty = min(order.request.qty, entry.filled_qty)
        if qty < order.request.qty:
            smaller = msgspec.structs.replace(order.request, qty=qty)
            try:
                self.engine.tracker.swap_reservation(order, risk_order(smaller, qty, smaller.price))
            except OmsError as err:  # the larger reservation stays until the order ends
                log.warning("exit %s: reservation not reduced: %s", order.id, err)
            order.request = smaller

    def on_triggered(self, order: Order) -> None:
        """An OCO leg that triggers ends the others (as Binance's does)."""
        group_id = self._group_of.get(order.id)
        if group_id is not None and self.groups[group_id].kind == "OCO":
            self.on_fill(order)
