"""``PUT /api/v3/order/amend/keepPriority`` (and ``order.amend.keepPriority``): lower an
open order's quantity without losing its place in the queue."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from oms.model import Side
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.spot_orders import number_param
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
    released = order.orig_qty - max(new_qty, order.executed_qty)
    release = released * order.price if order.side is Side.BUY else released
    order.account.move(order.locked_asset, free=release, locked=-release)
    order.locked_left -= release
    orig_client_id = order.client_order_id
    venue.open_client_ids.pop((account, order.symbol.symbol, orig_client_id), None)
    order.client_order_id = params.get("newClientOrderId") or f"amend{order.order_id}x{now}"
    order.orig_qty, order.update_time = new_qty, now
    if new_qty > order.executed_qty:
        if order.engine_id:  # a waiting conditional order is not on the book yet
            book.reduce(order.engine_id, new_qty - order.executed_qty)
        venue.open_client_ids[(account, order.symbol.symbol, order.client_order_id)] = order
    else:  # nothing left to execute: the order is done, without a trade
        venue.take_off(order)
        order.account.move(order.locked_asset, free=order.locked_left, locked=-order.locked_left)
        order.locked_left, order.status = ZERO, "FILLED"
    venue.orders.remember(order)  # findable by its new client id
    execution_id = next(venue.execution_ids)
    venue.execution_report(order, "REPLACED", now)
    venue.report_balances(now)
    venue.publish_market(order.symbol.symbol, {(order.side, order.price)}, top_before, None, order.side, now)
    view = order.view()
    return {
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
