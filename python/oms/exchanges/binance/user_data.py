"""Binance user-data events (spot and USD-M futures) decoded with msgspec and turned
into the normalized events of :mod:`oms.model`.

Decoding goes straight from the bytes on the wire to typed structs (numbers as exact
``Decimal``), one tagged union per market keyed on Binance's ``e``; an event type we do
not model (``balanceUpdate``, ``externalLockUpdate``, ``MARGIN_CALL``...) decodes to
nothing rather than failing the stream. Normalizing maps each event to zero or more
``OrderEvent`` / ``FillEvent`` / ``BalanceEvent`` / ``PositionEvent`` with unified
symbols. Choices: a cancel's ``executionReport`` names the canceled order in ``C`` (its
``c`` is the cancel request's id), so ``C`` wins when set; futures ``TRADE_LITE`` is
skipped (the ``ORDER_TRADE_UPDATE`` for the same trade carries the commission too, and
fills are de-duplicated by trade id downstream); ``ALGO_UPDATE`` reports the
conditional order itself, keyed by its ``clientAlgoId``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from oms.exchanges.binance.responses import ALGO_STATUS, STATUS
from oms.model import (
    Balance,
    BalanceEvent,
    Fill,
    FillEvent,
    Liquidity,
    MarginMode,
    OrderEvent,
    OrderStatus,
    Position,
    PositionEvent,
    PositionSide,
    Side,
    UserEvent,
)

ToUnified = Callable[[str], str]
MS = 1_000_000  # ns per ms
ZERO = Decimal(0)

# ---- spot ----

# Binance's one-letter keys -> our field names, per struct.
_EXECUTION_REPORT = {
    "time": "E",
    "symbol": "s",
    "client_id": "c",
    "side": "S",
    "order_type": "o",
    "qty": "q",
    "price": "p",
    "original_client_id": "C",
    "execution": "x",
    "status": "X",
    "reason": "r",
    "order_id": "i",
    "last_qty": "l",
    "cum_qty": "z",
    "last_price": "L",
    "fee": "n",
    "fee_asset": "N",
    "trade_time": "T",
    "trade_id": "t",
    "maker": "m",
    "cum_quote": "Z",
}
_FUTURES_ORDER = {
    "symbol": "s",
    "client_id": "c",
    "side": "S",
    "order_type": "o",
    "qty": "q",
    "price": "p",
    "avg_price": "ap",
    "execution": "x",
    "status": "X",
    "order_id": "i",
    "last_qty": "l",
    "cum_qty": "z",
    "last_price": "L",
    "fee_asset": "N",
    "fee": "n",
    "trade_time": "T",
    "trade_id": "t",
    "maker": "m",
    "reduce_only": "R",
    "position_side": "ps",
    "realized": "rp",
    "expiry_reason": "er",
}
_FUTURES_POSITION = {
    "symbol": "s",
    "qty": "pa",
    "entry": "ep",
    "unrealized": "up",
    "margin_type": "mt",
    "side": "ps",
}
_ALGO = {"client_algo_id": "caid", "algo_id": "aid", "symbol": "s", "status": "X", "reason": "rm"}


class Event(msgspec.Struct, frozen=True, tag_field="e"):
    """A user-data event: ``e`` names its type."""


class ExecutionReport(Event, frozen=True, tag="executionReport", rename=_EXECUTION_REPORT):
    time: int
    symbol: str
    client_id: str
    side: Side
    order_type: str
    qty: Decimal
    price: Decimal
    execution: str
    status: str
    order_id: int
    last_qty: Decimal
    cum_qty: Decimal
    last_price: Decimal
    trade_time: int
    trade_id: int
    maker: bool
    cum_quote: Decimal
    fee: Decimal = ZERO
    fee_asset: str | None = None
    original_client_id: str = ""
    reason: str = "NONE"


class SpotBalance(msgspec.Struct, frozen=True, rename={"asset": "a", "free": "f", "locked": "l"}):
    asset: str
    free: Decimal
    locked: Decimal


class OutboundAccountPosition(
    Event, frozen=True, tag="outboundAccountPosition", rename={"time": "E", "balances": "B"}
):
    time: int
    balances: list[SpotBalance]


class SpotStreamEnd(Event, frozen=True, tag="eventStreamTerminated", rename={"time": "E"}):
    """The WebSocket API subscription ended (logout, or the session closed)."""

    time: int


class ListenKeyExpired(Event, frozen=True, tag="listenKeyExpired", rename={"time": "E"}):
    """Futures (and the retired spot listenKey): this stream delivers nothing more."""

    time: int


SpotEvent = ExecutionReport | OutboundAccountPosition | SpotStreamEnd | ListenKeyExpired


class SpotEnvelope(msgspec.Struct, frozen=True, rename={"subscription_id": "subscriptionId"}):
    """The WebSocket API's user-data frame: ``{"subscriptionId": n, "event": {...}}``."""

    event: msgspec.Raw
    subscription_id: int | None = None


# ---- USD-M futures ----


class FuturesOrderUpdate(msgspec.Struct, frozen=True, rename=_FUTURES_ORDER):
    symbol: str
    client_id: str
    side: Side
    order_type: str
    qty: Decimal
    execution: str
    status: str
    order_id: int
    last_qty: Decimal
    cum_qty: Decimal
    last_price: Decimal
    trade_time: int
    trade_id: int
    maker: bool
    price: Decimal = ZERO
    avg_price: Decimal = ZERO
    fee_asset: str | None = None
    fee: Decimal = ZERO
    reduce_only: bool = False
    position_side: PositionSide = PositionSide.BOTH
    realized: Decimal = ZERO
    expiry_reason: str = "0"


class OrderTradeUpdate(Event, frozen=True, tag="ORDER_TRADE_UPDATE", rename={"time": "E", "order": "o"}):
    time: int
    order: FuturesOrderUpdate


class FuturesBalance(
    msgspec.Struct, frozen=True, rename={"asset": "a", "wallet": "wb", "cross_wallet": "cw"}
):
    asset: str
    wallet: Decimal
    cross_wallet: Decimal = ZERO


class FuturesPosition(msgspec.Struct, frozen=True, rename=_FUTURES_POSITION):
    symbol: str
    qty: Decimal
    entry: Decimal
    unrealized: Decimal
    margin_type: str
    side: PositionSide


class AccountChange(msgspec.Struct, frozen=True, rename={"reason": "m", "balances": "B", "positions": "P"}):
    reason: str
    balances: list[FuturesBalance] = []
    positions: list[FuturesPosition] = []


class AccountUpdate(Event, frozen=True, tag="ACCOUNT_UPDATE", rename={"time": "E", "change": "a"}):
    time: int
    change: AccountChange


class AlgoOrderUpdate(msgspec.Struct, frozen=True, rename=_ALGO):
    client_algo_id: str
    algo_id: int
    symbol: str
    status: str
    reason: str | None = None


class AlgoUpdate(Event, frozen=True, tag="ALGO_UPDATE", rename={"time": "E", "algo": "o"}):
    time: int
    algo: AlgoOrderUpdate


class LeverageChange(msgspec.Struct, frozen=True, rename={"symbol": "s", "leverage": "l"}):
    symbol: str
    leverage: int


class AccountConfigUpdate(
    Event, frozen=True, tag="ACCOUNT_CONFIG_UPDATE", rename={"time": "E", "leverage": "ac"}
):
    """A symbol's leverage changed (``ac``; ``ai`` is the multi-assets mode, not kept).
    No model event: the connector updates its cached symbol settings."""

    time: int
    leverage: LeverageChange | None = None


FuturesEvent = OrderTradeUpdate | AccountUpdate | AlgoUpdate | AccountConfigUpdate | ListenKeyExpired

_KNOWN_SPOT = {b"executionReport", b"outboundAccountPosition", b"eventStreamTerminated", b"listenKeyExpired"}
_KNOWN_FUTURES = {
    b"ORDER_TRADE_UPDATE",
    b"ACCOUNT_UPDATE",
    b"ALGO_UPDATE",
    b"ACCOUNT_CONFIG_UPDATE",
    b"listenKeyExpired",
}
_spot_decoder = msgspec.json.Decoder(SpotEvent)
_futures_decoder = msgspec.json.Decoder(FuturesEvent)
_envelope_decoder = msgspec.json.Decoder(SpotEnvelope)
_kind_decoder = msgspec.json.Decoder(dict[str, Any])


def _kind(data: bytes) -> bytes:
    value = _kind_decoder.decode(data).get("e")
    return str(value).encode() if value is not None else b""


def _decode(decoder: msgspec.json.Decoder[Any], known: set[bytes], data: bytes) -> Any:
    """Straight to the typed struct; an event type we do not model gives None (only
    then is the frame decoded a second time, to tell it from a malformed known one)."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError:
        if _kind(data) in known:
            raise
        return None


def decode_spot(data: bytes) -> SpotEvent | None:
    """A spot user-data event (bare, or inside the WebSocket API's envelope)."""
    if data.lstrip().startswith(b'{"subscriptionId"') or b'"event"' in data[:64]:
        data = bytes(_envelope_decoder.decode(data).event)
    event: SpotEvent | None = _decode(_spot_decoder, _KNOWN_SPOT, data)
    return event


def decode_futures(data: bytes) -> FuturesEvent | None:
    event: FuturesEvent | None = _decode(_futures_decoder, _KNOWN_FUTURES, data)
    return event


# ---- normalizing ----

_FILL_EXECUTIONS = {"TRADE", "CALCULATED"}  # CALCULATED: liquidation and ADL fills (futures)


def normalize_spot(event: SpotEvent, venue: str, to_unified: ToUnified) -> list[UserEvent]:
    if isinstance(event, ExecutionReport):
        return _execution_report(event, venue, to_unified)
    if isinstance(event, OutboundAccountPosition):
        ts = event.time * MS
        balances = [
            Balance(venue=venue, asset=b.asset, free=b.free, locked=b.locked, ts_ns=ts)
            for b in event.balances
        ]
        return [BalanceEvent(balances=balances)]
    return []


def _execution_report(r: ExecutionReport, venue: str, to_unified: ToUnified) -> list[UserEvent]:
    symbol, client_id = to_unified(r.symbol), r.original_client_id or r.client_id
    out: list[UserEvent] = []
    if r.execution == "TRADE":
        fill = Fill(
            venue=venue,
            symbol=symbol,
            trade_id=str(r.trade_id),
            side=r.side,
            qty=r.last_qty,
            price=r.last_price,
            fee=r.fee,
            fee_asset=r.fee_asset,
            liquidity=Liquidity.MAKER if r.maker else Liquidity.TAKER,
            client_order_id=client_id,
            venue_order_id=str(r.order_id),
            ts_ns=r.trade_time * MS,
        )
        out.append(FillEvent(fill=fill))
    out.append(
        OrderEvent(
            venue=venue,
            symbol=symbol,
            status=STATUS.get(r.status, OrderStatus.UNKNOWN),
            client_order_id=client_id,
            venue_order_id=str(r.order_id),
            filled_qty=r.cum_qty,
            filled_quote=r.cum_quote,
            reason=None if r.reason == "NONE" else r.reason,
            ts_ns=r.time * MS,
        )
    )
    return out


def normalize_futures(event: FuturesEvent, venue: str, to_unified: ToUnified) -> list[UserEvent]:
    if isinstance(event, OrderTradeUpdate):
        return _order_trade_update(event, venue, to_unified)
    if isinstance(event, AccountUpdate):
        return _account_update(event, venue, to_unified)
    if isinstance(event, AlgoUpdate):
        algo = event.algo
        status = ALGO_STATUS.get(algo.status)
        if status is None or algo.status == "FINISHED":  # the order it placed reports the rest itself
            return []
        reason = algo.reason or None
        return [
            OrderEvent(
                venue=venue,
                symbol=to_unified(algo.symbol),
                status=status,
                client_order_id=algo.client_algo_id,
                venue_order_id=f"algo:{algo.algo_id}",
                reason=reason,
                ts_ns=event.time * MS,
            )
        ]
    return []


def _order_trade_update(event: OrderTradeUpdate, venue: str, to_unified: ToUnified) -> list[UserEvent]:
    o, ts = event.order, event.time * MS
    symbol = to_unified(o.symbol)
    out: list[UserEvent] = []
    if o.execution in _FILL_EXECUTIONS and o.last_qty:
        fill = Fill(
            venue=venue,
            symbol=symbol,
            trade_id=str(o.trade_id),
            side=o.side,
            qty=o.last_qty,
            price=o.last_price,
            fee=o.fee,
            fee_asset=o.fee_asset,
            liquidity=Liquidity.MAKER if o.maker else Liquidity.TAKER,
            client_order_id=o.client_id,
            venue_order_id=str(o.order_id),
            ts_ns=o.trade_time * MS,
        )
        out.append(FillEvent(fill=fill))
    reason = None if o.expiry_reason in ("0", "") else f"expiry reason {o.expiry_reason}"
    out.append(
        OrderEvent(
            venue=venue,
            symbol=symbol,
            status=STATUS.get(o.status, OrderStatus.UNKNOWN),
            client_order_id=o.client_id,
            venue_order_id=str(o.order_id),
            filled_qty=o.cum_qty,
            filled_quote=o.cum_qty * o.avg_price,
            reason=reason,
            ts_ns=ts,
        )
    )
    return out


def _account_update(event: AccountUpdate, venue: str, to_unified: ToUnified) -> list[UserEvent]:
    ts, change = event.time * MS, event.change
    out: list[UserEvent] = []
    if change.balances:
        balances = [Balance(venue=venue, asset=b.asset, free=b.wallet, ts_ns=ts) for b in change.balances]
        out.append(BalanceEvent(balances=balances))
    if change.positions:
        positions = [
            Position(
                venue=venue,
                symbol=to_unified(p.symbol),
                qty=abs(p.qty) if p.side is not PositionSide.BOTH else p.qty,
                side=p.side,
                entry_price=p.entry if p.qty else None,
                unrealized_pnl=p.unrealized,
                margin_mode=MarginMode.ISOLATED if p.margin_type.lower() == "isolated" else MarginMode.CROSS,
                ts_ns=ts,
            )
            for p in change.positions
        ]
        out.append(PositionEvent(positions=positions))
    return out
