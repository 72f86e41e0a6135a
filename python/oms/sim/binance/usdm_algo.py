"""Conditional ("algo") orders of the simulated USD-M venue: ``/fapi/v1/algoOrder``.

Since Dec 2025 Binance takes STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET and
TRAILING_STOP_MARKET only here (``algoType=CONDITIONAL``; the order endpoint answers
-4120). An algo order waits off the book, in the Rust core's ``TriggerBook`` of its
symbol and working type. Every trade (``CONTRACT_PRICE``: the last price) and every
mark price (``MARK_PRICE``) is fed to that book; an order that fires places an
ordinary MARKET (stop/take-profit market, trailing) or LIMIT (stop/take-profit) order
through the venue's own order entry, with the same filters and margin as any order.
The algo order moves NEW -> TRIGGERING -> TRIGGERED (``actualOrderId`` set) ->
FINISHED when that order is done, or ends CANCELED with the venue's reason in ``rm``
when the order is refused. Each change is an ``ALGO_UPDATE``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from oms.errors import InvalidInput
from oms.model import Side
from oms.sim.binance import errors
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.spot_orders import HISTORY, int_param, number_param
from oms.sim.binance.usdm_orders import FuturesAccount
from oms.sim.binance.usdm_symbols import FuturesSymbol
from oms.triggers import TriggerBook

if TYPE_CHECKING:
    from oms.sim.binance.usdm import FuturesExchange

ZERO = Decimal(0)
HUNDRED = Decimal(100)
ALGO_TYPES = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")
WORKING_TYPES = ("CONTRACT_PRICE", "MARK_PRICE")
OPEN_STATUSES = ("NEW", "TRIGGERING")
MAX_OPEN_ALGO_ORDERS = 200  # "The conditional order limits is 200 across all symbols"
MIN_CALLBACK, MAX_CALLBACK = Decimal("0.1"), Decimal(10)  # percent
IMMEDIATE = "Order would immediately trigger."


@dataclass
class AlgoOrder:
    algo_id: int
    client_algo_id: str
    account: FuturesAccount
    symbol: FuturesSymbol
    side: Side
    order_type: str
    position_side: str
    time_in_force: str
    quantity: Decimal  # 0 with closePosition
    price: Decimal  # limit price of STOP / TAKE_PROFIT, else 0
    trigger_price: Decimal  # 0 for trailing stops
    working_type: str
    close_position: bool
    price_protect: bool
    reduce_only: bool
    activate_price: Decimal | None
    callback_rate: Decimal | None
    create_time: int
    update_time: int
    status: str = "NEW"
    trigger_time: int = 0
    actual_order_id: int | None = None
    reason: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def limit_child(self) -> bool:
        return self.order_type in ("STOP", "TAKE_PROFIT")

    def wait_in(self, book: TriggerBook) -> None:
        """Put this order's trigger in `book` (the core's trigger book of its symbol and
        working type). A stop buys going up and sells going down, a take-profit the
        reverse; a trailing stop follows the price ``callbackRate`` percent behind."""
        if self.order_type == "TRAILING_STOP_MARKET":
            assert self.callback_rate is not None
            bps = int(self.callback_rate * 100)
            book.add_trailing(self.algo_id, self.side.value, bps, self.activate_price)
            return
        stop = self.order_type in ("STOP", "STOP_MARKET")
        rising = (self.side is Side.BUY) == stop
        book.add_level(self.algo_id, "AT_OR_ABOVE" if rising else "AT_OR_BELOW", self.trigger_price)

    def view(self, actual: bool = True) -> dict[str, Any]:
        """``GET /fapi/v1/algoOrder`` shape; the ``POST`` answer (``actual=False``) has
        no ``actual*`` fields yet."""
        view = {
            "algoId": self.algo_id,
            "clientAlgoId": self.client_algo_id,
            "algoType": "CONDITIONAL",
            "orderType": self.order_type,
            "symbol": self.symbol.symbol,
            "side": self.side.value,
            "positionSide": self.position_side,
            "timeInForce": self.time_in_force,
            "quantity": str(self.quantity),
            "algoStatus": self.status,
            "triggerPrice": str(self.trigger_price),
            "price": str(self.price),
            "icebergQuantity": None,
            "selfTradePreventionMode": "EXPIRE_TAKER",
            "workingType": self.working_type,
            "priceMatch": "NONE",
            "closePosition": self.close_position,
            "priceProtect": self.price_protect,
            "reduceOnly": self.reduce_only,
            "activatePrice": "" if self.activate_price is None else str(self.activate_price),
            "callbackRate": "" if self.callback_rate is None else str(self.callback_rate),
            "createTime": self.create_time,
            "updateTime": self.update_time,
            "triggerTime": self.trigger_time,
            "goodTillDate": 0,
        }
        if actual:
            child = self.actual_order_id
            view |= {
                "actualOrderId": "" if child is None else str(child),
                "actualType": "" if child is None else ("LIMIT" if self.limit_child else "MARKET"),
                "actualPrice": str(self.price) if child is not None and self.limit_child else "",
                "actualQty": "" if child is None else str(self.quantity),
            }
        return view

    def event(self, now: int, executed: Decimal = ZERO, avg_price: Decimal = ZERO) -> dict[str, Any]:
        """``ALGO_UPDATE`` on the account's user-data stream."""
        body: dict[str, Any] = {
            "caid": self.client_algo_id,
            "aid": self.algo_id,
            "at": "CONDITIONAL",
            "o": self.order_type,
            "s": self.symbol.symbol,
            "S": self.side.value,
            "ps": self.position_side,
            "f": self.time_in_force,
            "q": str(self.quantity),
            "X": self.status,
            "ai": "" if self.actual_order_id is None else str(self.actual_order_id),
            "ap": f"{avg_price:.5f}",
            "aq": f"{executed:.5f}",
            "act": "0" if self.activate_price is None else str(self.activate_price),
            "tp": str(self.trigger_price),
            "p": str(self.price),
            "V": "EXPIRE_TAKER",
            "wt": self.working_type,
            "pm": "NONE",
            "cp": self.close_position,
            "pP": self.price_protect,
            "R": self.reduce_only,
            "tt": self.trigger_time,
            "gtd": 0,
        }
        if self.reason:
            body["rm"] = self.reason
        return {"e": "ALGO_UPDATE", "T": now, "E": now, "o": body}


def _flag(params: Mapping[str, str], name: str) -> bool:
    text = (params.get(name) or "false").lower()
    if text not in ("true", "false"):
        raise errors.illegal_chars(name, "true/false")
    return text == "true"


class AlgoBook:
    """Every algo order of one futures venue, and the trigger loop."""

    def __init__(self, venue: FuturesExchange, clock_ms: Callable[[], int]) -> None:
        self.venue = venue
        # Every algo order by id (oldest first, finished ones forgotten past HISTORY),
        # and the latest one per (account, clientAlgoId): algo ids are venue-wide.
        self._by_id: dict[int, AlgoOrder] = {}
        self._by_client: dict[tuple[str, str], AlgoOrder] = {}
        self._open: dict[int, AlgoOrder] = {}
        self._by_child: dict[int, AlgoOrder] = {}  # actual order id -> its algo order
        self._triggers: dict[tuple[str, str], TriggerBook] = {}  # (symbol, working type)
        self._ids = itertools.count(1_000_001)
        self._clock_ms = clock_ms
        self._firing = False

    # ---- entry ----

    def place(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``POST /fapi/v1/algoOrder``."""
        venue = self.venue
        account = venue.accounts[account_name]
        if (params.get("algoType") or "") != "CONDITIONAL":
            raise (
                errors.mandatory("algoType")
                if not params.get("algoType")
                else BinanceApiError(-1116, "Invalid orderType.")
            )
        symbol = venue.symbol_of(params)
        side_text, order_type = params.get("side") or "", params.get("type") or ""
        if side_text not in ("BUY", "SELL"):
            raise errors.mandatory("side") if not side_text else BinanceApiError(-1117, "Invalid side.")
        if order_type not in ALGO_TYPES:
            raise errors.mandatory("type") if not order_type else BinanceApiError(-1116, "Invalid orderType.")
        side = Side(side_text)
        working_type = params.get("workingType") or "CONTRACT_PRICE"
        if working_type not in WORKING_TYPES:
            raise BinanceApiError(-4031, f"Invalid parameter working type: {working_type}")
        close_position = _flag(params, "closePosition")
        reduce_only = _flag(params, "reduceOnly")
        quantity = self._quantity(params, order_type, close_position, reduce_only)
        price = number_param(params, "price", required=order_type in ("STOP", "TAKE_PROFIT")) or ZERO
        trailing = order_type == "TRAILING_STOP_MARKET"
        trigger = number_param(params, "triggerPrice", required=not trailing) or ZERO
        callback = number_param(params, "callbackRate", required=trailing)
        if callback is not None and (not MIN_CALLBACK <= callback <= MAX_CALLBACK or (callback * 100) % 1):
            raise BinanceApiError(
                -1102, "Mandatory parameter 'callbackRate' was not sent, was empty/null, or malformed."
            )
        activate = number_param(params, "activatePrice", required=False)
        position_side = venue.position_side_of(account, params, reduce_only)
        tif = params.get("timeInForce") or "GTC"
        if tif not in ("GTC", "IOC", "FOK", "GTX"):
            raise BinanceApiError(-1115, "Invalid timeInForce.")
        self._check_prices(symbol, side, quantity, price, trigger, close_position or reduce_only)
        client_id = params.get("clientAlgoId") or f"algo{self._clock_ms():x}{len(self._open)}"
        if any(o.account is account and o.client_algo_id == client_id for o in self._open.values()):
            raise BinanceApiError(-4116, "clientOrderId is duplicated")
        if sum(1 for o in self._open.values() if o.account is account) >= MAX_OPEN_ALGO_ORDERS:
            raise BinanceApiError(-4045, "Reach max stop order limit.")
        now = self._clock_ms()
        order = AlgoOrder(
            algo_id=next(self._ids),
            client_algo_id=client_id,
            account=account,
            symbol=symbol,
            side=side,
            order_type=order_type,
            position_side=position_side,
            time_in_force=tif,
            quantity=quantity,
            price=price,
            trigger_price=trigger,
            working_type=working_type,
            close_position=close_position,
            price_protect=_flag(params, "priceProtect"),
            reduce_only=reduce_only,
            activate_price=activate,
            callback_rate=callback,
            create_time=now,
            update_time=now,
        )
        try:
            order.wait_in(self._book(symbol.symbol, working_type))
        except InvalidInput as err:
            if err.code != "WOULD_TRIGGER":
                raise
            raise BinanceApiError(-2021, IMMEDIATE) from None
        self._open[order.algo_id] = order
        self._remember(order)
        account.emit(order.event(now))
        return order.view(actual=False)

    def _quantity(
        self, params: Mapping[str, str], order_type: str, close_position: bool, reduce_only: bool
    ) -> Decimal:
        if close_position:
            if order_type not in ("STOP_MARKET", "TAKE_PROFIT_MARKET"):
                raise BinanceApiError(-1106, "Parameter 'closePosition' sent when not required.")
            if params.get("quantity"):
                raise BinanceApiError(-4137, "Quantity must be zero with closePosition equals true")
            if reduce_only:
                raise BinanceApiError(-1106, "Parameter 'reduceOnly' sent when not required.")
            return ZERO
        quantity = number_param(params, "quantity", required=True)
        assert quantity is not None
        return quantity

    def _check_prices(
        self,
        symbol: FuturesSymbol,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        trigger: Decimal,
        reduces: bool,
    ) -> None:
        """The child order's filters now (so a bad order is refused at entry, as on
        Binance), and the trigger price against the price filter."""
        if trigger:
            symbol.check_filters(side, quantity or symbol.min_qty, trigger, None, True)
        if quantity:
            mark = self.venue.mark_of(symbol.symbol)
            symbol.check_filters(side, quantity, price or None, mark or trigger or None, reduces)

    # ---- cancel and views ----

    def _find(self, account_name: str, params: Mapping[str, str]) -> AlgoOrder:
        algo_id, client_id = params.get("algoId"), params.get("clientAlgoId")
        if not algo_id and not client_id:
            raise BinanceApiError(
                -1102, "Param 'algoId' or 'clientAlgoId' must be sent, but both were empty/null!"
            )
        if algo_id:
            order = self._by_id.get(int(algo_id)) if algo_id.isdigit() else None
        else:
            order = self._by_client.get((account_name, client_id or ""))
        if order is None or order.account.name != account_name:
            raise BinanceApiError(-2013, "Order does not exist.")
        return order

    def _remember(self, order: AlgoOrder) -> None:
        self._by_id[order.algo_id] = order
        self._by_client[(order.account.name, order.client_algo_id)] = order
        if len(self._by_id) > HISTORY:
            oldest = next((o for o in self._by_id.values() if not o.is_open), None)
            if oldest is not None:
                del self._by_id[oldest.algo_id]
                if self._by_client.get((oldest.account.name, oldest.client_algo_id)) is oldest:
                    del self._by_client[(oldest.account.name, oldest.client_algo_id)]

    def cancel(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``DELETE /fapi/v1/algoOrder`` (no symbol: ids are venue-wide)."""
        try:
            order = self._find(account_name, params)
        except BinanceApiError as err:
            if err.code != -2013:
                raise
            raise BinanceApiError(-2011, "Unknown order sent.") from None
        if not order.is_open:
            raise BinanceApiError(-2011, "Unknown order sent.")
        self._end(order, "CANCELED")
        return {
            "algoId": order.algo_id,
            "clientAlgoId": order.client_algo_id,
            "code": "200",
            "msg": "success",
        }

    def cancel_all(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``DELETE /fapi/v1/algoOpenOrders``: every open algo order of the symbol."""
        symbol = self.venue.symbol_of(params).symbol
        for order in list(self._open.values()):
            if order.account.name == account_name and order.symbol.symbol == symbol:
                self._end(order, "CANCELED")
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def get(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        return self._find(account_name, params).view()

    def open_orders(self, account_name: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/openAlgoOrders`` (all symbols without ``symbol``)."""
        symbol = self.venue.symbol_of(params).symbol if params.get("symbol") else None
        return [
            o.view()
            for o in self._open.values()
            if o.account.name == account_name and (symbol is None or o.symbol.symbol == symbol)
        ]

    def all_orders(self, account_name: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/allAlgoOrders``: the symbol's algo orders, oldest first, from
        ``algoId`` on, within ``startTime``/``endTime``, at most ``limit`` (500, max 1000)."""
        symbol = self.venue.symbol_of(params).symbol
        first = int_param(params, "algoId", 0)
        start, end = int_param(params, "startTime", 0), int_param(params, "endTime", 2**63)
        limit = int_param(params, "limit", 500)
        if not 1 <= limit <= 1000:
            raise errors.illegal_chars("limit", "1-1000")
        rows = [
            o.view()
            for o in self._by_id.values()
            if o.account.name == account_name
            and o.symbol.symbol == symbol
            and o.algo_id >= first
            and start <= o.create_time <= end
        ]
        return rows[:limit]

    def _end(self, order: AlgoOrder, status: str, reason: str = "") -> None:
        order.status, order.reason, order.update_time = status, reason, self._clock_ms()
        self._open.pop(order.algo_id, None)
        self._book(order.symbol.symbol, order.working_type).remove(order.algo_id)
        order.account.emit(order.event(order.update_time))

    # ---- triggers ----

    def _book(self, symbol: str, working_type: str) -> TriggerBook:
        """The trigger book of (symbol, working type), primed with the current price so
        an order that would fire at once is refused."""
        book = self._triggers.get((symbol, working_type))
        if book is None:
            book = self._triggers[(symbol, working_type)] = TriggerBook()
            current = self.venue.working_price(symbol, working_type)
            if current is not None:
                book.on_price(current)
        return book

    def on_price(self, symbol: str, working_type: str, price: Decimal) -> None:
        """A new last or mark price of `symbol`: fire what it triggers. Orders placed by
        a firing order can trade and move the price again, so this goes on with the
        newest price until nothing more fires (a nested call only records the price)."""
        book = self._triggers.get((symbol, working_type))
        if book is None or self._firing:
            return
        self._firing = True
        try:
            while fired := book.on_price(price):
                for algo_id in fired:
                    self._fire(self._open[algo_id])
                current = self.venue.working_price(symbol, working_type)
                if current is None or current == price:
                    break
                price = current
        finally:
            self._firing = False

    def _fire(self, order: AlgoOrder) -> None:
        now = self._clock_ms()
        order.status, order.trigger_time, order.update_time = "TRIGGERING", now, now
        self._open.pop(order.algo_id, None)
        order.account.emit(order.event(now))
        try:
            child = self.venue.place_triggered(order)
        except BinanceApiError as err:
            self._end(order, "CANCELED", err.msg)
            return
        order.actual_order_id = child["orderId"]
        order.status, order.update_time = "TRIGGERED", self._clock_ms()
        self._by_child[order.actual_order_id] = order
        order.account.emit(order.event(order.update_time))
        if child["status"] not in ("NEW", "PARTIALLY_FILLED"):
            self.child_done(order.actual_order_id, Decimal(child["executedQty"]), Decimal(child["avgPrice"]))

    def child_done(self, order_id: int, executed: Decimal, avg_price: Decimal) -> None:
        """The order an algo order placed is done (filled, canceled, expired)."""
        order = self._by_child.pop(order_id, None)
        if order is None:
            return
        order.status, order.update_time = "FINISHED", self._clock_ms()
        order.account.emit(order.event(order.update_time, executed, avg_price))
