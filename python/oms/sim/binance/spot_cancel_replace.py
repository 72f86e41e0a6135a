"""``POST /api/v3/order/cancelReplace`` (and ``order.cancelReplace``): cancel an order
and place a new one in one request, with Binance's outcome matrix.

``cancelReplaceMode=STOP_ON_FAILURE`` places the new order only if the cancel worked;
``ALLOW_FAILURE`` tries both. Both succeed: HTTP 200 with both responses. Exactly one
fails: HTTP 409 ``-2021 "Order cancel-replace partially failed."``; the cancel fails and
the new order is not attempted, or both fail: HTTP 400 ``-2022 "Order cancel-replace
failed."``. Past the order-rate limit, ``orderRateLimitExceededMode=DO_NOTHING`` (the
default) refuses the whole request with -1015, ``CANCEL_ONLY`` still cancels and
reports the new half's -1015 inside a -2021. The error bodies carry ``data`` with each
half's result and response (an error half is its ``{code, msg}``; a half not attempted
is ``null``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from oms.sim.binance import errors
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.limits import ORDERS_REFUSED
from oms.sim.binance.spot import SpotExchange

_MODES = {"STOP_ON_FAILURE", "ALLOW_FAILURE"}
_CANCEL_PARAMS = {
    "cancelOrderId": "orderId",
    "cancelOrigClientOrderId": "origClientOrderId",
    "cancelNewClientOrderId": "newClientOrderId",
    "cancelRestrictions": "cancelRestrictions",
}
_NOT_NEW = {*_CANCEL_PARAMS, "cancelReplaceMode", "orderRateLimitExceededMode", ORDERS_REFUSED}
_LIMIT_MODES = {"DO_NOTHING", "CANCEL_ONLY"}


class CancelReplaceError(BinanceApiError):
    """-2021 / -2022 with the ``data`` Binance nests in the error body."""

    def __init__(self, code: int, msg: str, http_status: int, data: dict[str, Any]) -> None:
        super().__init__(code, msg, http_status)
        self.data = data

    def to_json(self) -> dict[str, Any]:
        return super().to_json() | {"data": self.data}


def cancel_replace(venue: SpotExchange, account: str, params: Mapping[str, str]) -> dict[str, Any]:
    mode = params.get("cancelReplaceMode") or ""
    if not mode:
        raise errors.mandatory("cancelReplaceMode")
    if mode not in _MODES:
        raise errors.illegal_chars("cancelReplaceMode", "STOP_ON_FAILURE, ALLOW_FAILURE")
    if not params.get("cancelOrderId") and not params.get("cancelOrigClientOrderId"):
        raise BinanceApiError(
            -1102,
            "Param 'cancelOrderId' or 'cancelOrigClientOrderId' must be sent, but both were empty/null!",
        )
    limit_mode = params.get("orderRateLimitExceededMode") or "DO_NOTHING"
    if limit_mode not in _LIMIT_MODES:
        raise errors.illegal_chars("orderRateLimitExceededMode", "DO_NOTHING, CANCEL_ONLY")
    cancel_params = {"symbol": params.get("symbol", "")}
    cancel_params |= {ours: params[theirs] for theirs, ours in _CANCEL_PARAMS.items() if params.get(theirs)}
    new_params = {k: v for k, v in params.items() if k not in _NOT_NEW}
    cancel_ok, cancel_response = _attempt(lambda: venue.cancel_order(account, cancel_params))
    if not cancel_ok and mode == "STOP_ON_FAILURE":
        return _answer("FAILURE", cancel_response, "NOT_ATTEMPTED", None)
    refused = params.get(ORDERS_REFUSED)
    if refused:  # CANCEL_ONLY past the order-rate limit: the new order is not placed
        new_ok, new_response = False, {"code": -1015, "msg": refused}
    else:
        new_ok, new_response = _attempt(lambda: venue.new_order(account, new_params))
    return _answer(
        "SUCCESS" if cancel_ok else "FAILURE",
        cancel_response,
        "SUCCESS" if new_ok else "FAILURE",
        new_response,
    )


def _attempt(action: Callable[[], dict[str, Any]]) -> tuple[bool, dict[str, Any]]:
    try:
        return True, action()
    except BinanceApiError as err:
        return False, err.to_json()


def _answer(
    cancel: str, cancel_response: dict[str, Any], new: str, new_response: dict[str, Any] | None
) -> dict[str, Any]:
    data = {
        "cancelResult": cancel,
        "newOrderResult": new,
        "cancelResponse": cancel_response,
        "newOrderResponse": new_response,
    }
    if cancel == new == "SUCCESS":
        return data
    if "SUCCESS" in (cancel, new):
        raise CancelReplaceError(-2021, "Order cancel-replace partially failed.", 409, data)
    raise CancelReplaceError(-2022, "Order cancel-replace failed.", 400, data)
