"""Spot order lists: OCO (one-cancels-the-other), ``POST /api/v3/orderList/oco``.

An OCO is two orders on the same side for the same quantity, one above the last price
and one below it: for a sell, a LIMIT_MAKER or take-profit above and a stop-loss below;
for a buy the mirror. At least one leg is conditional. The list locks its funds once
(the larger need of its legs, held by the first leg). When either leg executes (its
first fill, or a conditional leg's trigger) the other EXPIRES and takes over the lock if
it held it; canceling either leg, or the list (``DELETE /api/v3/orderList``), cancels
both and answers in the list's shape. Each change of the list is a ``listStatus`` event
(EXEC_STARTED / EXECUTING, then ALL_DONE) next to the legs' own ``executionReport``s.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from oms.sim.binance import errors
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.spot_orders import SpotAccount, SpotOrder, number_param
from oms.sim.binance.spot_stops import STOP_TYPES
from oms.sim.binance.spot_symbols import SpotSymbol

if TYPE_CHECKING:
    from oms.sim.binance.spot import SpotExchange

ABOVE_TYPES = ("STOP_LOSS_LIMIT", "STOP_LOSS", "LIMIT_MAKER", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
BELOW_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT", "LIMIT_MAKER")
# (side, leg position, kind) that breaks Binance's OCO layout -> its error
_PLACEMENT_ERRORS = {
    ("SELL", "below", "LIMIT"): (-1166, "A limit order in a sell OCO must be above."),
    ("SELL", "above", "STOP_LOSS"): (-1197, "A stop loss order in a sell OCO must be below."),
    ("SELL", "below", "TAKE_PROFIT"): (-1199, "A take profit order in a sell OCO must be above."),
    ("BUY", "above", "LIMIT"): (-1165, "A limit order in a buy OCO must be below."),
    ("BUY", "below", "STOP_LOSS"): (-1196, "A stop loss order in a buy OCO must be above."),
    ("BUY", "above", "TAKE_PROFIT"): (-1198, "A take profit order in a buy OCO must be below."),
}
PRICES_WRONG = "The relationship of the prices for the orders is not correct."


def _kind(order_type: str) -> str:
    if order_type == "LIMIT_MAKER":
        return "LIMIT"
    return "STOP_LOSS" if order_type.startswith("STOP_LOSS") else "TAKE_PROFIT"


@dataclass
class OrderList:
    order_list_id: int
    list_client_order_id: str
    account: SpotAccount
    symbol: SpotSymbol
    legs: list[SpotOrder]
    transaction_time: int
    status: str = "EXECUTING"  # listOrderStatus
    status_type: str = "EXEC_STARTED"  # listStatusType

    def view(self) -> dict[str, Any]:
        """``GET /api/v3/orderList`` shape."""
        return {
            "orderListId": self.order_list_id,
            "contingencyType": "OCO",
            "listStatusType": self.status_type,
            "listOrderStatus": self.status,
            "listClientOrderId": self.list_client_order_id,
            "transactionTime": self.transaction_time,
            "symbol": self.symbol.symbol,
            "orders": [
                {"symbol": leg.symbol.symbol, "orderId": leg.order_id, "clientOrderId": leg.client_order_id}
                for leg in self.legs
            ],
        }

    def event(self, now: int) -> dict[str, Any]:
        """The ``listStatus`` user-data event."""
        return {
            "e": "listStatus",
            "E": now,
            "s": self.symbol.symbol,
            "g": self.order_list_id,
            "c": "OCO",
            "l": self.status_type,
            "L": self.status,
            "r": "NONE",
            "C": self.list_client_order_id,
            "T": now,
            "O": [{"s": leg.symbol.symbol, "i": leg.order_id, "c": leg.client_order_id} for leg in self.legs],
        }


class OrderLists:
    def __init__(self, venue: SpotExchange) -> None:
        self.venue = venue
        self._lists: dict[int, OrderList] = {}
        self._ids = itertools.count(1)

    # ---- placing ----

    def place_oco(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        venue = self.venue
        symbol = venue.symbol_of(params)
        side_text = params.get("side") or ""
        if side_text not in ("BUY", "SELL"):
            raise errors.mandatory("side") if not side_text else BinanceApiError(-1117, "Invalid side.")
        quantity = number_param(params, "quantity", required=True)
        assert quantity is not None
        legs = {pos: self._leg(params, pos, side_text, str(quantity)) for pos in ("above", "below")}
        if not any(leg["type"] in STOP_TYPES for leg in legs.values()):
            raise BinanceApiError(-1168, "At least one OCO order must be contingent.")
        for pos, leg in legs.items():
            if (side_text, pos, _kind(leg["type"])) in _PLACEMENT_ERRORS:
                raise BinanceApiError(*_PLACEMENT_ERRORS[(side_text, pos, _kind(leg["type"]))])
        self._check_prices(symbol.symbol, legs)
        for leg in legs.values():  # every filter of both legs before anything is placed
            venue.new_order(account_name, leg, test=True)
        return self._place(account_name, params, symbol, legs)

    @staticmethod
    def _leg(params: Mapping[str, str], pos: str, side: str, quantity: str) -> dict[str, str]:
        order_type = params.get(f"{pos}Type") or ""
        if not order_type:
            raise errors.mandatory(f"{pos}Type")
        if order_type not in (ABOVE_TYPES if pos == "above" else BELOW_TYPES):
            raise BinanceApiError(-1158, "Order type not supported in OCO.")
        leg = {"symbol": params.get("symbol") or "", "side": side, "quantity": quantity, "type": order_type}
        for name in ("Price", "StopPrice", "TrailingDelta", "TimeInForce", "ClientOrderId"):
            if params.get(f"{pos}{name}"):
                key = "newClientOrderId" if name == "ClientOrderId" else name[0].lower() + name[1:]
                leg[key] = params[f"{pos}{name}"]
        if params.get("selfTradePreventionMode"):
            leg["selfTradePreventionMode"] = params["selfTradePreventionMode"]
        return leg | {"newOrderRespType": "RESULT"}

    def _check_prices(self, symbol: str, legs: dict[str, dict[str, str]]) -> None:
        """The above leg's price above the last trade, the below leg's under it."""
        last = self.venue.last_price.get(symbol)
        if last is None:
            return
        for pos, leg in legs.items():
            level = leg.get("stopPrice") if leg["type"] in STOP_TYPES else leg.get("price")
            if level is None:
                continue
            if (Decimal(level) <= last) if pos == "above" else (Decimal(level) >= last):
                raise BinanceApiError(-2010, PRICES_WRONG)

    def _place(
        self,
        account_name: str,
        params: Mapping[str, str],
        symbol: SpotSymbol,
        legs: dict[str, dict[str, str]],
    ) -> dict[str, Any]:
        venue = self.venue
        account = venue.accounts[account_name]
        list_id = next(self._ids)
        # The conditional leg first (as Binance lists them); it holds the list's lock.
        order = sorted(legs.values(), key=lambda leg: leg["type"] not in STOP_TYPES)
        quantity = Decimal(order[0]["quantity"])
        needs = [
            quantity
            if leg["side"] == "SELL"
            else quantity * Decimal(leg.get("price") or leg.get("stopPrice") or 0)
            for leg in order
        ]
        first = venue.new_order(account_name, order[0], order_list_id=list_id, lock=max(needs))
        try:
            second = venue.new_order(account_name, order[1], order_list_id=list_id, lock=Decimal(0))
        except BinanceApiError:
            placed = venue.orders.get(symbol.symbol, first["orderId"])
            if placed is not None:
                venue.expire(placed, venue.now())
                venue.report_balances(venue.now())
            raise
        now = first["transactTime"]
        kept = [venue.orders.get(symbol.symbol, r["orderId"]) for r in (first, second)]
        order_list = OrderList(
            order_list_id=list_id,
            list_client_order_id=params.get("listClientOrderId") or f"oco{list_id}x{now}",
            account=account,
            symbol=symbol,
            legs=[leg for leg in kept if leg is not None],
            transaction_time=now,
        )
        self._lists[list_id] = order_list
        account.emit(order_list.event(now))
        answer = order_list.view()
        if (params.get("newOrderRespType") or "FULL") != "ACK":
            answer["orderReports"] = [first, second]
        return answer

    def legs_of(self, order: SpotOrder) -> list[SpotOrder]:
        """The order and, in an OCO, its other leg."""
        order_list = self._lists.get(order.order_list_id)
        return [order] if order_list is None else list(order_list.legs)

    def amend_status(self, order: SpotOrder) -> dict[str, Any] | None:
        """The ``listStatus`` an amend of a list leg answers with (None outside a list)."""
        order_list = self._lists.get(order.order_list_id)
        if order_list is None:
            return None
        view = order_list.view()
        return {k: view[k] for k in ("orderListId", "contingencyType", "listOrderStatus")} | {
            k: view[k] for k in ("listClientOrderId", "symbol", "orders")
        }

    # ---- legs moving ----

    def leg_executing(self, leg: SpotOrder, now: int) -> None:
        """A leg fills or triggers: the other expires (its lock passes to this leg)."""
        order_list = self._lists.get(leg.order_list_id)
        if order_list is None or order_list.status != "EXECUTING":
            return
        for other in order_list.legs:
            if other is not leg and other.is_open:
                leg.locked_left += other.locked_left
                other.locked_left = Decimal(0)
                self.venue.expire(other, now)
        self._done(order_list, now)

    def _cancel_legs(self, order_list: OrderList, now: int) -> list[dict[str, Any]]:
        reports = []
        for leg in order_list.legs:
            if leg.is_open:
                cancel_id = f"cancel{leg.order_id}"
                self.venue.cancel_resting(leg, cancel_id, now)
                reports.append(self.venue.cancel_answer(leg, cancel_id, now))
        self._done(order_list, now)
        return reports

    def _done(self, order_list: OrderList, now: int) -> None:
        order_list.status = order_list.status_type = "ALL_DONE"
        order_list.transaction_time = now
        order_list.account.emit(order_list.event(now))

    # ---- cancel and queries ----

    def _find(self, account_name: str, params: Mapping[str, str]) -> OrderList:
        list_id, client_id = params.get("orderListId"), params.get("listClientOrderId")
        if not list_id and not client_id:
            raise BinanceApiError(
                -1102, "Param 'orderListId' or 'listClientOrderId' must be sent, but both were empty/null!"
            )
        for order_list in self._lists.values():
            if order_list.account.name != account_name:
                continue
            if (list_id and str(order_list.order_list_id) == list_id) or (
                not list_id and order_list.list_client_order_id == client_id
            ):
                return order_list
        raise BinanceApiError(-2011, "Order list does not exist.")

    def cancel(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``DELETE /api/v3/orderList``: both legs CANCELED; the list with their reports."""
        self.venue.symbol_of(params)
        order_list = self._find(account_name, params)
        if order_list.status != "EXECUTING":
            raise BinanceApiError(-2011, "Order list does not exist.")
        now = self.venue.now()
        reports = self._cancel_legs(order_list, now)
        self.venue.report_balances(now)
        return order_list.view() | {"orderReports": reports}

    def get(self, account_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        return self._find(account_name, params).view()

    def open_lists(self, account_name: str) -> list[dict[str, Any]]:
        return [
            ol.view()
            for ol in self._lists.values()
            if ol.account.name == account_name and ol.status == "EXECUTING"
        ]
