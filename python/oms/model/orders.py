"""Orders: what a client asks for (`OrderRequest`), what the OMS tracks (`Order`),
and what the venue reports back (`Fill`).

Requests and fills are msgspec Structs: cheap to build, encode and decode on hot
paths, and the same objects travel to JSON logs and NATS events unchanged. ``Order``
is the Rust core's record (``oms_core::orders``: the state machine and exact fill
totals in fixed point) holding its request; ``order_to_builtins`` and
``order_from_builtins`` are its JSON form (snapshots)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec

from oms._core import Order as Order  # re-exported: the core record is the model's Order
from oms.errors import InvalidInput
from oms.model.enums import Liquidity, OrderType, PositionSide, Side, TimeInForce, TriggerPrice
from oms.model.values import EXACT, optional_decimal, to_decimal


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


def order_to_builtins(order: Order) -> dict[str, Any]:
    """The order as JSON-ready builtins (decimals as strings), field by field."""
    before = order.status_before_pending
    return {
        "id": order.id,
        "request": msgspec.to_builtins(order.request),
        "client_order_id": order.client_order_id,
        "venue_order_id": order.venue_order_id,
        "status": order.status.value,
        "filled_qty": str(order.filled_qty),
        "filled_quote": str(order.filled_quote),
        "fees": {asset: str(fee) for asset, fee in order.fees.items()},
        "trade_ids": sorted(order.trade_ids),
        "overfill_qty": str(order.overfill_qty),
        "reason": order.reason,
        "status_before_pending": None if before is None else before.value,
        "created_ns": order.created_ns,
        "updated_ns": order.updated_ns,
    }


def order_from_builtins(raw: dict[str, Any]) -> Order:
    """Back from ``order_to_builtins`` (a snapshot): raises InvalidInput on a bad record."""
    try:
        request = msgspec.convert(raw["request"], type=OrderRequest, strict=False)
        return Order(
            id=str(raw["id"]),
            request=request,
            client_order_id=str(raw["client_order_id"]),
            venue_order_id=raw.get("venue_order_id"),
            status=raw.get("status", "PENDING_NEW"),
            filled_qty=raw.get("filled_qty", "0"),
            filled_quote=raw.get("filled_quote", "0"),
            fees=dict(raw.get("fees") or {}),
            trade_ids=set(raw.get("trade_ids") or ()),
            overfill_qty=raw.get("overfill_qty", "0"),
            reason=raw.get("reason"),
            status_before_pending=raw.get("status_before_pending"),
            created_ns=int(raw.get("created_ns", 0)),
            updated_ns=int(raw.get("updated_ns", 0)),
        )
    except (KeyError, TypeError, msgspec.ValidationError) as err:
        raise InvalidInput(f"not an order record: {err}", "INVALID_ORDER") from err
