"""Orders: what a client asks for (`OrderRequest`), what the OMS tracks (`Order`),
and what the venue reports back (`Fill`).

msgspec Structs: cheap to build, encode and decode on hot paths, and the same
objects travel to JSON logs and NATS events unchanged."""

from __future__ import annotations

import re
from decimal import Decimal

import msgspec

from oms.errors import DuplicateFill, IllegalTransition, InvalidInput, Overfill
from oms.model import state
from oms.model.enums import Liquidity, OrderStatus, OrderType, PositionSide, Side, TimeInForce, TriggerPrice
from oms.model.values import DIVISION, EXACT, optional_decimal, to_decimal


class OrderRequest(msgspec.Struct, kw_only=True):
    """An order as a client submits it. ``validate()`` checks its shape (the
    venue's own rules are checked against the instrument, see oms.instruments)."""

    venue: str  # "exchange:market", e.g. "binance:spot"
    symbol: str  # unified, e.g. "BTC/USDT"
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None = None  # limit price
    stop_price: Decimal | None = None  # trigger of stop / take-profit orders
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_at_ns: int | None = None  # GTD only
    trailing_bps: Decimal | None = None  # TRAILING_STOP callback, in basis points
    activation_price: Decimal | None = None  # TRAILING_STOP, optional
    trigger_by: TriggerPrice = TriggerPrice.LAST
    reduce_only: bool = False
    close_position: bool = False
    position_side: PositionSide = PositionSide.BOTH
    account: str = "default"
    client_order_id: str | None = None
    idempotency_key: str | None = None
    tag: str | None = None
    emulate: bool = False  # hold a conditional order in the engine even where the venue has it

    def validate(self) -> OrderRequest:
        """Raise :class:`InvalidInput` naming the field and the rule; returns self."""
        self.qty = to_decimal(self.qty, "qty")
        if self.price is not None:
            self.price = to_decimal(self.price, "price")
        t = self.type
        plain = t in _PLAIN and (  # no trigger and no trail: the common case, spared the checks
            self.stop_price is None and self.trailing_bps is None and self.activation_price is None
        )
        if not plain:
            self.stop_price = optional_decimal(self.stop_price, "stop_price")
            self.activation_price = optional_decimal(self.activation_price, "activation_price")
            self.trailing_bps = optional_decimal(self.trailing_bps, "trailing_bps")
        limit_priced = t in _LIMIT_PRICED
        if limit_priced and self.price is None:
            _bad("price", f"a {t} order needs a limit price")
        if not limit_priced and self.price is not None:
            _bad("price", f"a {t} order takes no limit price (it executes at market when it triggers)")
        if not plain:
            self._validate_trigger(t)
        self._validate_time_in_force()
        self._validate_labels()
        if self.close_position and self.reduce_only:
            _bad("close_position", "close_position already implies reduce-only; set one of them")
        return self

    def _validate_trigger(self, t: OrderType) -> None:
        """The stop, trailing and activation prices: present where ``t`` needs them,
        absent elsewhere."""
        needs_stop = t.is_conditional and t is not OrderType.TRAILING_STOP
        if needs_stop and self.stop_price is None:
            _bad("stop_price", f"a {t} order needs a stop_price (its trigger)")
        if not t.is_conditional and self.stop_price is not None:
            _bad("stop_price", f"a {t} order has no trigger")
        if t is OrderType.TRAILING_STOP and self.trailing_bps is None:
            _bad("trailing_bps", "a TRAILING_STOP needs trailing_bps (the callback distance)")
        if t is not OrderType.TRAILING_STOP and (
            self.trailing_bps is not None or self.activation_price is not None
        ):
            _bad("trailing_bps", "only TRAILING_STOP orders trail")

    def _validate_time_in_force(self) -> None:
        tif = self.time_in_force
        if tif is _GTC and self.expire_at_ns is None and self.type is not _MARKET:
            return  # the common case: nothing below applies
        if tif is TimeInForce.GTD and self.expire_at_ns is None:
            _bad("expire_at_ns", "a GTD order needs expire_at_ns")
        if tif is not TimeInForce.GTD and self.expire_at_ns is not None:
            _bad("expire_at_ns", f"expire_at_ns applies to GTD orders only, not {tif}")
        if self.type is OrderType.LIMIT_MAKER and tif in (TimeInForce.IOC, TimeInForce.FOK):
            _bad("time_in_force", f"a post-only order cannot be {tif} (it would never rest)")
        if self.type is OrderType.MARKET and tif in (TimeInForce.GTX, TimeInForce.GTD):
            _bad("time_in_force", f"a MARKET order cannot be {tif}")

    def _validate_labels(self) -> None:
        cid = self.client_order_id
        if cid is not None and not CLIENT_ORDER_ID.fullmatch(cid):
            _bad("client_order_id", "1 to 36 characters of A-Z a-z 0-9 . _ : / - (the venues' common rule)")
        for field, value in (
            ("idempotency_key", self.idempotency_key),
            ("tag", self.tag),
            ("account", self.account),
        ):
            if value is not None and not 0 < len(value) <= MAX_LABEL:
                _bad(field, f"1 to {MAX_LABEL} characters")


# Enum members used for every order, as module names (a member lookup through the
# enum class costs several times a global's).
_PLAIN = frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.LIMIT_MAKER})
_LIMIT_PRICED = frozenset(t for t in OrderType if t.has_limit_price)
_GTC, _MARKET = TimeInForce.GTC, OrderType.MARKET
_FILLABLE, _LATE_FILL_OK, _ZERO = state.FILLABLE, state.LATE_FILL_OK, Decimal(0)

#: Binance's rule for client order ids, the strictest length of the first venues.
CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9._:/-]{1,36}")
MAX_LABEL = 64


def _bad(field: str, rule: str) -> None:
    raise InvalidInput(f"{field}: {rule}", "INVALID_ORDER", field=field)


class Fill(msgspec.Struct, kw_only=True, frozen=True):
    """One execution reported by the venue. ``trade_id`` is unique per venue+symbol."""

    venue: str
    symbol: str
    trade_id: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal = Decimal(0)
    fee_asset: str | None = None
    liquidity: Liquidity | None = None
    client_order_id: str | None = None
    venue_order_id: str | None = None
    ts_ns: int = 0

    @property
    def notional(self) -> Decimal:
        return EXACT.multiply(self.qty, self.price)


class Order(msgspec.Struct, kw_only=True):
    """An order the OMS owns, from submission to a final state.

    Change it only through ``transition``, ``apply_fill`` and ``revert_pending``: they
    enforce the state machine (:mod:`oms.model.state`) and keep the fill totals exact."""

    id: str
    request: OrderRequest
    client_order_id: str
    venue_order_id: str | None = None
    status: OrderStatus = OrderStatus.PENDING_NEW
    filled_qty: Decimal = Decimal(0)
    filled_quote: Decimal = Decimal(0)  # sum of qty x price over fills, exact
    fees: dict[str, Decimal] = msgspec.field(default_factory=dict)
    trade_ids: set[str] = msgspec.field(default_factory=set)
    overfill_qty: Decimal = Decimal(0)
    reason: str | None = None  # why it was rejected / canceled / expired, as the venue said
    status_before_pending: OrderStatus | None = None
    created_ns: int = 0
    updated_ns: int = 0

    @property
    def qty(self) -> Decimal:
        return self.request.qty

    @property
    def remaining_qty(self) -> Decimal:
        return max(EXACT.subtract(self.qty, self.filled_qty), Decimal(0))

    @property
    def avg_price(self) -> Decimal | None:
        """filled_quote / filled_qty (34 significant digits; the totals themselves are exact)."""
        if not self.filled_qty:
            return None
        return DIVISION.divide(self.filled_quote, self.filled_qty)

    def transition(self, new: OrderStatus, *, reason: str | None = None, ts_ns: int = 0) -> bool:
        """Move to `new`; False if already there. Raises IllegalTransition."""
        if new == self.status:
            return False
        state.check_transition(self.status, new, self.id)
        if new in state.PENDING:
            self.status_before_pending = self.status
        self.status = new
        if reason is not None:
            self.reason = reason
        self.updated_ns = ts_ns or self.updated_ns
        return True

    def revert_pending(self, *, reason: str | None = None, ts_ns: int = 0) -> None:
        """The venue refused our cancel/amend: go back to the working status."""
        if self.status not in state.PENDING:
            raise IllegalTransition(
                f"order {self.id}: nothing to revert, status is {self.status}",
                current=str(self.status),
            )
        back = self.status_before_pending or OrderStatus.NEW
        if self.filled_qty and back in (OrderStatus.NEW, OrderStatus.TRIGGERED):
            back = OrderStatus.PARTIALLY_FILLED
        self.status = back
        self.status_before_pending = None
        self.reason = reason
        self.updated_ns = ts_ns or self.updated_ns

    def apply_fill(self, fill: Fill) -> None:
        """Record a fill (see module rules in oms.model.state). Raises DuplicateFill
        (nothing changed), IllegalTransition (nothing changed) or Overfill (recorded)."""
        trade_ids = self.trade_ids
        if fill.trade_id in trade_ids:
            raise DuplicateFill(
                f"order {self.id}: trade {fill.trade_id} was already applied", trade_id=fill.trade_id
            )
        status = self.status
        if status not in _FILLABLE and status not in _LATE_FILL_OK:
            raise IllegalTransition(
                f"order {self.id}: a fill cannot arrive in status {status}",
                current=str(status),
                trade_id=fill.trade_id,
            )
        request = self.request
        if fill.side != request.side:
            raise InvalidInput(
                f"order {self.id}: fill {fill.trade_id} is a {fill.side}, the order is a {request.side}",
                "FILL_MISMATCH",
                field="side",
            )
        trade_ids.add(fill.trade_id)
        add = EXACT.add
        self.filled_qty = filled = add(self.filled_qty, fill.qty)
        self.filled_quote = add(self.filled_quote, EXACT.multiply(fill.qty, fill.price))
        if fill.fee:
            asset = fill.fee_asset or ""
            self.fees[asset] = add(self.fees.get(asset, _ZERO), fill.fee)
        self.status = state.status_after_fill(status, filled >= request.qty)
        self.updated_ns = fill.ts_ns or self.updated_ns
        if self.venue_order_id is None:
            self.venue_order_id = fill.venue_order_id
        if self.filled_qty > self.qty:
            self.overfill_qty = EXACT.subtract(self.filled_qty, self.qty)
            raise Overfill(
                f"order {self.id}: fills total {self.filled_qty}, more than the order quantity {self.qty} "
                f"(excess {self.overfill_qty}); the fill was recorded, reconcile with the venue",
                excess=self.overfill_qty,
                trade_id=fill.trade_id,
            )
