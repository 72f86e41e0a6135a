"""``PUT /api/v3/order/amend/keepPriority`` (and ``order.amend.keepPriority``): lower an
open order's quantity without losing its place in the queue."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.spot_orders import SpotOrder, number_param
from oms.sim.binance.spot_symbols import fmt

if TYPE_CHECKING:
    from oms.sim.binance.spot import SpotExchange

ZERO = Decimal(0)


def amend_keep_priority(venue: SpotExchange, account: str, params: Mapping[str, str]) -> dict[str, Any]:
    """``PUT /api/v3/order/amend/keepPriority``: lower an open order's quantity in
    place (same id, same queue position) and release the funds it no longer needs.
    A new quantity at or below what already executed leaves the order FILLED."""
    new_qty = number_param(params, "newQty", required=True)
    assert new_qty is not None
    try:
        order = venue.find_order(account, params, "orderId", "origClientOrderId")
    except BinanceApiError as err:
        if err.code != -2013:
            raise
        order = None
    if order is None or not order.is_open:
        raise BinanceApiError(-2038, "Unknown order sent.")
    if new_qty <= 0 or new_qty >= order.orig_qty:
        raise BinanceApiError(-2038, "Order amend (quantity increase) is not supported.")
    now = venue.now()
    book = venue.books[order.symbol.symbol]
    top_before = (book.best_bid(), book.best_ask())
    _release(venue, order, new_qty)
    orig_client_id = order.client_order_id
    venue.open_client_ids.pop((account, order.symbol.symbol, orig_client_id), None)
    order.client_order_id = params.get("newClientOrderId") or f"amend{order.order_id}x{now}"
    siblings = [leg for leg in venue.order_lists.legs_of(order) if leg is not order and leg.is_open]
    for leg in [order, *siblings]:  # an OCO's legs keep one quantity
        _shrink(venue, leg, new_qty, now)
    for leg in siblings:
        venue.execution_report(leg, "REPLACED", now)
    venue.orders.remember(order)  # findable by its new client id
    execution_id = next(venue.execution_ids)
    venue.execution_report(order, "REPLACED", now)
    venue.report_balances(now)
    changed = {(leg.side, leg.price) for leg in [order, *siblings] if leg.engine_id}
    venue.publish_market(order.symbol.symbol, changed, top_before, None, order.side, now)
    view = order.view()
    answer: dict[str, Any] = {
        "transactTime": now,
        "executionId": execution_id,
        "amendedOrder": {
            "symbol": view["symbol"],
            "orderId": order.order_id,
            "orderListId": order.order_list_id,
            "origClientOrderId": orig_client_id,
            "clientOrderId": order.client_order_id,
            "price": view["price"],
            "qty": view["origQty"],
            "executedQty": view["executedQty"],
            "preventedQty": fmt(ZERO),
            "quoteOrderQty": fmt(ZERO),
            "cumulativeQuoteQty": view["cummulativeQuoteQty"],  # sic: one "m" here only
            "status": order.status,
            "timeInForce": order.time_in_force,
            "type": order.type,
            "side": view["side"],
            "workingTime": order.working_since,
            "selfTradePreventionMode": order.stp,
        },
    }
    list_status = venue.order_lists.amend_status(order)
    return answer if list_status is None else answer | {"listStatus": list_status}


def _release(venue: SpotExchange, order: SpotOrder, new_qty: Decimal) -> None:
    """Free the funds the dropped quantity held: its share of what is locked, by the
    order or, in an OCO, by the leg that holds the list's lock."""
    holder = next((leg for leg in venue.order_lists.legs_of(order) if leg.locked_left > 0), order)
    remaining = order.orig_qty - order.executed_qty
    released = order.orig_qty - max(new_qty, order.executed_qty)
    release = holder.locked_left * released / remaining if remaining else ZERO
    holder.account.move(holder.locked_asset, free=release, locked=-release)
    holder.locked_left -= release


def _shrink(venue: SpotExchange, order: SpotOrder, new_qty: Decimal, now: int) -> None:
    """The order's new quantity: on the book in place, or done (FILLED) when nothing is
    left to execute."""
    order.orig_qty, order.update_time = new_qty, now
    key = (order.account.name, order.symbol.symbol, order.client_order_id)
    if new_qty > order.executed_qty:
        if order.engine_id:  # a waiting conditional order is not on the book yet
            venue.books[order.symbol.symbol].reduce(order.engine_id, new_qty - order.executed_qty)
        venue.open_client_ids[key] = order
    else:  # nothing left to execute: the order is done, without a trade
        venue.take_off(order)
        order.account.move(order.locked_asset, free=order.locked_left, locked=-order.locked_left)
        order.locked_left, order.status = ZERO, "FILLED"
        venue.open_client_ids.pop(key, None)
