"""Recorded events applied again on top of a snapshot (recovery's step 2).

The same records come from two places: JetStream's ORDERS, TRADES and POSITIONS
streams (``oms.bus.replay``) and the JSONL journal (``logs/.../orders.jsonl``,
``trades.jsonl``). Both are written asynchronously in ``fast`` mode, so after a crash
either may hold events the other lacks; recovery applies both, and ``EventReplay``
makes that safe: it applies only events numbered after the snapshot, each fill and
funding share once, and an order update only if it is newer than the last one applied
to that order. Any order of arrival gives the same state.

Positions come from the snapshot exactly (``PositionBook.restore``: cost basis,
realized P&L, fees, funding), plus the fills and payments after it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from oms.errors import OmsError
from oms.model import Fill, Funding, Order, OrderRequest, OrderStatus, OrderType, Side
from oms.model.state import TERMINAL

if TYPE_CHECKING:
    from oms.engine.engine import Engine

log = logging.getLogger(__name__)
OPEN = frozenset(OrderStatus) - TERMINAL
REPLAYED = ("ORDERS", "TRADES", "POSITIONS")  # the JetStream streams that carry state


def journal_records(root: Path, name: str) -> Iterator[dict[str, Any]]:
    """Every record of ``logs/*/*/*/<name>`` (plain or gzipped), oldest day first."""
    from oms.storage.journal import read_jsonl  # here: the journal imports the engine's events

    logs = root / "logs"
    files = sorted([*logs.glob(f"*/*/*/{name}"), *logs.glob(f"*/*/*/{name}.gz")])
    for path in files:
        yield from read_jsonl(path)


class EventReplay:
    """Applies the events numbered after ``after_seq`` (the snapshot's), idempotently."""

    def __init__(self, engine: Engine, after_seq: int) -> None:
        self.engine = engine
        self.after_seq = after_seq
        self.last_seq = after_seq  # the highest number seen: the engine numbers on from it
        self.applied = 0
        self._order_seq: dict[str, int] = {}  # order id -> seq of the update applied last
        self._fills: set[tuple[str, str]] = set()  # (venue, trade id)
        self._funding: set[tuple[str, str, str]] = set()  # (venue, funding id, account)
        self._orphans: dict[str, list[Fill]] = {}  # order id -> fills seen before the order

    def restore_positions(self, positions: list[dict[str, Any]]) -> None:
        """The snapshot's positions into the (fresh) book, exactly, with their marks."""
        book = self.engine.positions_book
        for p in positions:
            book.restore(
                p["account"],
                p["venue"],
                p["symbol"],
                qty=Decimal(p["qty"]),
                cost_basis=Decimal(p["cost_basis"]),
                realized_pnl=Decimal(p["realized_pnl"]),
                fees_paid=Decimal(p["fees_paid"]),
                funding=Decimal(p.get("funding") or 0),
                fill_count=int(p.get("fill_count") or 0),
            )
            if p.get("mark_price"):
                book.mark(p["venue"], p["symbol"], Decimal(p["mark_price"]))

    def apply(self, record: dict[str, Any]) -> None:
        """One recorded event (order update, fill or funding share; others are not state)."""
        seq = int(record.get("seq") or 0)
        if seq <= self.after_seq:
            return
        self.last_seq = max(self.last_seq, seq)
        kind = record.get("event")
        if kind == "order":
            self._order(record, seq)
        elif kind == "fill":
            self._fill(record)
        elif kind == "funding":
            self._funding_share(record)

    def finish(self) -> None:
        """The risk engine's positions from the book; the engine numbers on after the
        highest event seen."""
        engine = self.engine
        for order_id, fills in self._orphans.items():
            log.warning(
                "%d recorded fill(s) of order %s, of which nothing else was recorded", len(fills), order_id
            )
        for position in engine.positions_book.positions():
            engine.risk.set_position(position.account, position.venue, position.symbol, position.qty)
        engine.events.continue_after(self.last_seq)

    # ---- one record ----

    def _order(self, r: dict[str, Any], seq: int) -> None:
        """The newest update of each order is its state."""
        registry = self.engine.registry
        order = registry.by_client_id(str(r["client_order_id"])) or registry.get(str(r["order_id"]))
        if order is None:
            order = order_from(r)
            registry.add(order)
            for fill in self._orphans.pop(order.id, []):
                _record(order, fill)
        elif self._order_seq.get(order.id, 0) >= seq:
            return
        self._order_seq[order.id] = seq
        order.status = OrderStatus(str(r["status"]))
        order.reason = r.get("reason")
        order.updated_ns = int(str(r["ts_ns"]))
        if r.get("venue_order_id"):
            order.venue_order_id = str(r["venue_order_id"])
            self.engine.tracker.note_venue_id(order)
        self.applied += 1

    def _fill(self, r: dict[str, Any]) -> None:
        fill = msgspec.convert(r["fill"], type=Fill, strict=False)
        if (fill.venue, fill.trade_id) in self._fills:
            return
        self._fills.add((fill.venue, fill.trade_id))
        engine = self.engine
        fee = engine.tracker.fee_in_quote(fill)
        account = str(r.get("account", "default"))
        engine.positions_book.apply_fill(
            account, fill.venue, fill.symbol, fill.side.value, fill.qty, fill.price, fee, fill.ts_ns or None
        )
        order = engine.registry.get(str(r["order_id"]))
        if order is None:  # its order's updates come later (the other source has them)
            self._orphans.setdefault(str(r["order_id"]), []).append(fill)
        elif fill.trade_id not in order.trade_ids:
            _record(order, fill)
        self.applied += 1

    def _funding_share(self, r: dict[str, Any]) -> None:
        funding = msgspec.convert(r["funding"], type=Funding, strict=False)
        account = str(r.get("account", "default"))
        if (funding.venue, funding.funding_id, account) in self._funding:
            return
        self._funding.add((funding.venue, funding.funding_id, account))
        self.engine.funding.replay(account, funding)
        self.applied += 1


def _record(order: Order, fill: Fill) -> None:
    """A recorded fill into its order, whatever status the records left it in (fills are
    facts); an end or a pending request recorded stands."""
    status = order.status
    order.status = OrderStatus.NEW
    try:
        order.apply_fill(fill)
    except OmsError as err:  # an overfill is recorded and reported
        log.warning("recorded fill %s on %s: %s", fill.trade_id, order.id, err)
    if status not in OPEN or status in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE):
        order.status = status


def order_from(r: dict[str, Any]) -> Order:
    """An order created after the snapshot, from its recorded update."""
    price = r.get("price")
    request = OrderRequest(
        venue=str(r["venue"]),
        symbol=str(r["symbol"]),
        side=Side(str(r["side"])),
        type=OrderType(str(r["type"])),
        qty=Decimal(str(r["qty"])),
        price=Decimal(str(price)) if price is not None else None,
        account=str(r.get("account", "default")),
    )
    return Order(
        id=str(r["order_id"]),
        request=request,
        client_order_id=str(r["client_order_id"]),
        created_ns=int(str(r["ts_ns"])),
    )
