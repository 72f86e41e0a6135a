"""A simulated spot account (balances, user-data events) and order (its Binance views),
and the parsing of parameters as Binance sends them. The venue (``spot.py``) moves
them; this module only holds and shows them."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from oms.model import Side
from oms.sim.binance import errors
from oms.sim.binance.spot_symbols import SpotSymbol, fmt

D = Decimal
ZERO = D(0)
DEFAULT_FEE = D("0.001")  # 10 bps, Binance's base tier
#: Orders, trades and per-account events kept for queries (older ones are forgotten).
HISTORY = 100_000
_NUMBER = re.compile(r"([0-9]{1,20})(\.[0-9]{1,20})?")
_INTEGER = re.compile(r"[0-9]{1,20}")


@dataclass
class SpotAccount:
    name: str
    owner_id: int  # matching-engine owner, for self-trade prevention
    maker_fee: Decimal = DEFAULT_FEE
    taker_fee: Decimal = DEFAULT_FEE
    free: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)
    # The user-data stream, oldest first; bounded: live subscribers get every event, this
    # is only the recent history (for tests and late readers).
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)  # live subscribers
    changed: set[str] = field(default_factory=set)  # assets whose balance moved since the last report

    def emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        for listener in list(self.listeners):
            listener(event)

    def move(self, asset: str, free: Decimal = ZERO, locked: Decimal = ZERO) -> None:
        self.free[asset] = self.free.get(asset, ZERO) + free
        self.locked[asset] = self.locked.get(asset, ZERO) + locked
        self.changed.add(asset)

    def view(self, now: int) -> dict[str, Any]:
        """``GET /api/v3/account`` shape."""
        assets = sorted(set(self.free) | set(self.locked))
        return {
            "makerCommission": int(self.maker_fee * 10_000),
            "takerCommission": int(self.taker_fee * 10_000),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": fmt(self.maker_fee),
                "taker": fmt(self.taker_fee),
                "buyer": fmt(ZERO),
                "seller": fmt(ZERO),
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": now,
            "accountType": "SPOT",
            "balances": [
                {"asset": x, "free": fmt(self.free.get(x, ZERO)), "locked": fmt(self.locked.get(x, ZERO))}
                for x in assets
            ],
            "permissions": ["SPOT"],
            "uid": self.owner_id,
        }

    def report_balances(self, now: int) -> None:
        """``outboundAccountPosition`` for the assets that moved (after the order events)."""
        if not self.changed:
            return
        assets = sorted(self.changed)
        self.changed.clear()
        self.emit(
            {
                "e": "outboundAccountPosition",
                "E": now,
                "u": now,
                "B": [
                    {"a": a, "f": fmt(self.free.get(a, ZERO)), "l": fmt(self.locked.get(a, ZERO))}
                    for a in assets
                ],
            }
        )


@dataclass
class SpotOrder:
    order_id: int
    client_order_id: str
    account: SpotAccount
    symbol: SpotSymbol
    side: Side
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    stp: str
    time: int
    executed_qty: Decimal = ZERO
    quote_qty: Decimal = ZERO  # cummulativeQuoteQty
    status: str = "NEW"
    update_time: int = 0
    engine_id: int = 0  # the matching engine's id while it rests
    locked_asset: str = ""
    locked_left: Decimal = ZERO  # funds still locked for the unfilled part
    orig_quote_qty: Decimal = ZERO  # quoteOrderQty of a MARKET order sized in quote
    # Conditional orders (STOP_LOSS*, TAKE_PROFIT*): the trigger, and whether it fired.
    stop_price: Decimal = ZERO
    trailing_delta: int = 0  # BIPS
    working: bool = True  # False while a conditional order waits for its trigger
    working_time: int = 0
    order_list_id: int = -1  # the OCO it belongs to
    # Self-trade prevention expired this order as a maker: the match it prevented.
    prevented_match_id: int | None = None
    prevented_qty: Decimal = ZERO
    prevented: list[dict[str, Any]] = field(default_factory=list)  # as a taker: makers it expired

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def working_since(self) -> int:
        """``workingTime``: when it went on the book; -1 while a trigger is awaited."""
        return (self.working_time or self.time) if self.working else -1

    def view(self) -> dict[str, Any]:
        """``GET /api/v3/order`` shape."""
        view = {
            "symbol": self.symbol.symbol,
            "orderId": self.order_id,
            "orderListId": self.order_list_id,
            "clientOrderId": self.client_order_id,
            "price": fmt(self.price),
            "origQty": fmt(self.orig_qty),
            "executedQty": fmt(self.executed_qty),
            "cummulativeQuoteQty": fmt(self.quote_qty),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side.value,
            "stopPrice": fmt(self.stop_price),
            "icebergQty": fmt(ZERO),
            "time": self.time,
            "updateTime": self.update_time or self.time,
            "isWorking": self.working and (self.type != "LIMIT_MAKER" or self.is_open),
            "workingTime": self.working_since,
            "origQuoteOrderQty": fmt(self.orig_quote_qty, 6),
            "selfTradePreventionMode": self.stp,
        }
        if self.trailing_delta:
            view["trailingDelta"] = self.trailing_delta
        if self.prevented_match_id is not None:
            view |= {
                "preventedMatchId": self.prevented_match_id,
                "preventedQuantity": fmt(self.prevented_qty),
            }
        return view

    def execution_report(
        self,
        execution: str,
        now: int,
        event_id: int,
        last: tuple[Decimal, Decimal, Decimal, str, int, bool] | None = None,
        cancel_id: str = "",
    ) -> dict[str, Any]:
        """The ``executionReport`` for this order (Binance's field letters); `last` is the
        fill being reported (price, qty, fee, fee asset, trade id, maker?)."""
        price, qty, fee, fee_asset, trade_id, is_maker = last or (ZERO, ZERO, ZERO, None, -1, False)
        return (
            {
                "e": "executionReport",
                "E": now,
                "s": self.symbol.symbol,
                "c": cancel_id or self.client_order_id,  # a cancel reports its own id here
                "S": self.side.value,
                "o": self.type,
                "f": self.time_in_force,
                "q": fmt(self.orig_qty),
                "p": fmt(self.price),
                "P": fmt(self.stop_price),
                "F": fmt(ZERO),
                "g": self.order_list_id,
                "C": self.client_order_id if cancel_id else "",  # ... and the original here
                "x": execution,
                "X": self.status,
                "r": "NONE",
                "i": self.order_id,
                "l": fmt(qty),
                "z": fmt(self.executed_qty),
                "L": fmt(price),
                "n": fmt(fee),
                "N": fee_asset,
                "T": now,
                "t": trade_id,
                "I": event_id,
                "w": self.is_open and self.working,
                "m": is_maker,
                "M": False,
                "O": self.time,
                "Z": fmt(self.quote_qty),
                "Y": fmt(price * qty),
                "Q": fmt(self.orig_quote_qty),
                "W": self.working_since,
                "V": self.stp,
            }
            | ({"d": self.trailing_delta} if self.trailing_delta else {})
            | self._prevention()
        )

    def _prevention(self) -> dict[str, Any]:
        """The STP fields, only on an order self-trade prevention expired (``v`` and the
        prevented quantities), as Binance sends them."""
        if self.prevented_match_id is None:
            return {}
        qty = fmt(self.prevented_qty)
        return {"v": self.prevented_match_id, "A": qty, "B": qty}


def number_param(params: Mapping[str, str], name: str, required: bool) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise errors.mandatory(name)
        return None
    if not _NUMBER.fullmatch(raw):
        raise errors.illegal_chars(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
    try:
        return D(raw)
    except InvalidOperation:
        raise errors.illegal_chars(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$") from None


def parse_params(params: Mapping[str, Any]) -> dict[str, str]:
    """WebSocket API params (JSON values) as the string params REST would carry."""
    return {
        key: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for key, value in params.items()
    }


def int_param(params: Mapping[str, str], name: str, default: int) -> int:
    """An optional integer parameter, or Binance's -1100."""
    text = params.get(name)
    if text is None or text == "":
        return default
    if not _INTEGER.fullmatch(text):
        raise errors.illegal_chars(name, "^[0-9]{1,20}$")
    return int(text)


def order_test_answer(account: SpotAccount, params: Mapping[str, str]) -> dict[str, Any]:
    """``order/test``: ``{}``, or the commission rates when asked for them."""
    if params.get("computeCommissionRates", "false").lower() != "true":
        return {}
    return {
        "standardCommissionForOrder": {
            "maker": f"{account.maker_fee:.8f}",
            "taker": f"{account.taker_fee:.8f}",
        },
        "specialCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
        "taxCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": "BNB",
            "discount": "0.00000000",
        },
    }


def commission_rates(account: SpotAccount, symbol: str) -> dict[str, Any]:
    """``GET /api/v3/account/commission`` (and ``account.commission``): the account's
    rates; no special or tax commission and no BNB discount on the simulator."""
    none = {"maker": "0.00000000", "taker": "0.00000000", "buyer": "0.00000000", "seller": "0.00000000"}
    return {
        "symbol": symbol,
        "standardCommission": {
            "maker": f"{account.maker_fee:.8f}",
            "taker": f"{account.taker_fee:.8f}",
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "specialCommission": dict(none),
        "taxCommission": dict(none),
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": "BNB",
            "discount": "0.00000000",
        },
    }
