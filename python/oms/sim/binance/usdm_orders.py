"""A simulated futures position (average-cost fills), account (wallet, settings,
user-data and income history) and order (its Binance view). The venue (``usdm.py``)
moves them; this module only holds and shows them."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from oms.model import Side
from oms.sim.binance.spot_orders import HISTORY
from oms.sim.binance.usdm_symbols import FuturesSymbol

ZERO = Decimal(0)
EIGHT = Decimal("1e-8")


def num(value: Decimal) -> str:
    """Binance-style decimal text: at most 8 places, no exponent, no trailing zeros."""
    text = f"{value.quantize(EIGHT):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class FuturesPosition:
    symbol: str
    side: str  # BOTH / LONG / SHORT
    qty: Decimal = ZERO  # Binance's positionAmt: signed in BOTH, + LONG, - SHORT
    entry: Decimal = ZERO
    isolated_wallet: Decimal = ZERO  # margin moved into an isolated position (0 in cross)

    def fill(self, signed_qty: Decimal, price: Decimal) -> Decimal:
        """Apply a fill at average cost; returns the P&L it realized."""
        if self.qty == 0 or (self.qty > 0) == (signed_qty > 0):
            total = self.qty + signed_qty
            self.entry = (self.entry * abs(self.qty) + price * abs(signed_qty)) / abs(total)
            self.qty = total
            return ZERO
        closing = min(abs(signed_qty), abs(self.qty))
        realized = (price - self.entry) * closing * (1 if self.qty > 0 else -1)
        rest = abs(signed_qty) - closing
        self.qty += closing if self.qty < 0 else -closing
        if rest:
            self.qty, self.entry = (rest if signed_qty > 0 else -rest), price
        elif self.qty == 0:
            self.entry = ZERO
        return realized


@dataclass
class FuturesAccount:
    name: str
    owner_id: int
    wallet: Decimal
    dual: bool = False  # hedge mode
    positions: dict[tuple[str, str], FuturesPosition] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)
    # The user-data stream's recent history (live subscribers get every event) and the
    # income ledger (GET /fapi/v1/income), both bounded like the spot venue's.
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    income: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)

    def emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        for listener in list(self.listeners):
            listener(event)

    def position(self, symbol: str, side: str) -> FuturesPosition:
        return self.positions.setdefault((symbol, side), FuturesPosition(symbol, side))


@dataclass
class FuturesOrder:
    order_id: int
    client_order_id: str
    account: FuturesAccount
    symbol: FuturesSymbol
    side: Side
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    reduce_only: bool
    position_side: str
    time: int
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    status: str = "NEW"
    update_time: int = 0
    engine_id: int = 0
    margin: Decimal = ZERO  # initial margin still held for the unfilled part

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    def view(self) -> dict[str, Any]:
        """``POST/GET /fapi/v1/order`` shape."""
        avg = self.cum_quote / self.executed_qty if self.executed_qty else ZERO
        return {
            "clientOrderId": self.client_order_id,
            "cumQty": str(self.executed_qty),
            "cumQuote": str(self.cum_quote),
            "executedQty": str(self.executed_qty),
            "orderId": self.order_id,
            "avgPrice": f"{avg:.5f}",
            "origQty": str(self.orig_qty),
            "price": str(self.price),
            "reduceOnly": self.reduce_only,
            "side": self.side.value,
            "positionSide": self.position_side,
            "status": self.status,
            "stopPrice": "0",
            "closePosition": False,
            "symbol": self.symbol.symbol,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "origType": self.type,
            "updateTime": self.update_time or self.time,
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_TAKER",
            "goodTillDate": 0,
        }

    def query_view(self) -> dict[str, Any]:
        """``GET /fapi/v1/order`` and ``openOrders`` shape: creation ``time``, no ``cumQty``."""
        view = self.view()
        del view["cumQty"]
        return view | {"time": self.time}
