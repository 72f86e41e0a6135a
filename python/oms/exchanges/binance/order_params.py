"""``OrderRequest`` -> the parameters of a Binance order, spot or USD-M.

Numbers go out as plain decimal strings (``format(d, "f")``): the SDKs would send a
float as ``1e-05``, which Binance refuses. Spot maps the model's types to its own
(STOP_MARKET -> STOP_LOSS, STOP_LIMIT -> STOP_LOSS_LIMIT, TAKE_PROFIT_* ->
TAKE_PROFIT(_LIMIT), TRAILING_STOP -> STOP_LOSS with ``trailingDelta`` in BIPS and the
activation price as ``stopPrice``), post-only is LIMIT_MAKER, and a trigger is always
the last price. USD-M sends plain orders to ``/fapi/v1/order`` (post-only: LIMIT + GTX;
GTD with ``goodTillDate``) and conditional ones to the algo endpoint (STOP, STOP_MARKET,
TAKE_PROFIT, TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET with ``callbackRate`` in percent,
``workingType`` MARK_PRICE or CONTRACT_PRICE). What a market cannot express raises
``NotSupported`` before anything is sent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from oms.errors import InvalidInput, NotSupported
from oms.model import OrderRequest, OrderType, PositionSide, TimeInForce, TriggerPrice

Endpoint = Literal["order", "algoOrder"]

_SPOT_TYPES = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.LIMIT_MAKER: "LIMIT_MAKER",
    OrderType.STOP_MARKET: "STOP_LOSS",
    OrderType.STOP_LIMIT: "STOP_LOSS_LIMIT",
    OrderType.TAKE_PROFIT_MARKET: "TAKE_PROFIT",
    OrderType.TAKE_PROFIT_LIMIT: "TAKE_PROFIT_LIMIT",
    OrderType.TRAILING_STOP: "STOP_LOSS",
}
_USDM_ALGO_TYPES = {
    OrderType.STOP_MARKET: "STOP_MARKET",
    OrderType.STOP_LIMIT: "STOP",
    OrderType.TAKE_PROFIT_MARKET: "TAKE_PROFIT_MARKET",
    OrderType.TAKE_PROFIT_LIMIT: "TAKE_PROFIT",
    OrderType.TRAILING_STOP: "TRAILING_STOP_MARKET",
}


def text(value: Decimal) -> str:
    """A decimal as Binance reads it: no exponent, no float artefacts."""
    return format(value, "f")


def _unsupported(venue: str, what: str) -> NotSupported:
    return NotSupported(f"{venue} does not support {what}", venue=venue, feature=what)


def spot_params(req: OrderRequest, native_symbol: str, client_order_id: str) -> dict[str, str]:
    """``POST /api/v3/order`` (and ``order.place``) parameters."""
    venue = "binance:spot"
    if req.time_in_force in (TimeInForce.GTX, TimeInForce.GTD):
        raise _unsupported(venue, f"time in force {req.time_in_force} (use LIMIT_MAKER for post-only)")
    if req.reduce_only or req.close_position or req.position_side is not PositionSide.BOTH:
        raise _unsupported(venue, "reduce-only, close-position or position sides (spot holds balances)")
    if req.type.is_conditional and req.trigger_by is not TriggerPrice.LAST:
        raise _unsupported(venue, f"triggers on the {req.trigger_by} price (only the last trade)")
    params = {
        "symbol": native_symbol,
        "side": req.side.value,
        "type": _SPOT_TYPES[req.type],
        "quantity": text(req.qty),
        "newClientOrderId": client_order_id,
        "newOrderRespType": "FULL",
    }
    if req.price is not None:
        params["price"] = text(req.price)
    if req.type in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT):
        params["timeInForce"] = req.time_in_force.value
    if req.type is OrderType.TRAILING_STOP:
        assert req.trailing_bps is not None
        params["trailingDelta"] = _whole_bps(req.trailing_bps, venue)
        if req.activation_price is not None:
            params["stopPrice"] = text(req.activation_price)
    elif req.stop_price is not None:
        params["stopPrice"] = text(req.stop_price)
    return params


def _whole_bps(bps: Decimal, venue: str) -> str:
    if bps != bps.to_integral_value():
        raise _unsupported(venue, f"a trailing distance of {bps} bps (whole basis points only)")
    return str(int(bps))


def usdm_params(
    req: OrderRequest, native_symbol: str, client_order_id: str
) -> tuple[Endpoint, dict[str, str]]:
    """(endpoint, parameters): ``order`` for plain orders, ``algoOrder`` for conditional
    ones (Binance moved them there in December 2025)."""
    venue = "binance:usdm"
    if req.trigger_by is TriggerPrice.BID_ASK:
        raise _unsupported(venue, "triggers on bid/ask (last or mark price only)")
    if req.close_position and not req.type.is_conditional:
        raise _unsupported(venue, "close-position on a plain order (use a STOP_MARKET / TAKE_PROFIT_MARKET)")
    params = {"symbol": native_symbol, "side": req.side.value}
    if req.position_side is not PositionSide.BOTH:
        params["positionSide"] = req.position_side.value
    elif req.reduce_only:
        params["reduceOnly"] = "true"  # hedge mode refuses the flag: the position side says it
    if req.type.is_conditional:
        return "algoOrder", params | _algo(req, client_order_id)
    params |= {"type": "LIMIT" if req.type is OrderType.LIMIT_MAKER else req.type.value}
    params |= {"quantity": text(req.qty), "newClientOrderId": client_order_id, "newOrderRespType": "RESULT"}
    if req.price is not None:
        params["price"] = text(req.price)
    if req.type is OrderType.LIMIT_MAKER:
        params["timeInForce"] = "GTX"
    elif req.type is OrderType.LIMIT:
        params["timeInForce"] = req.time_in_force.value
        if req.time_in_force is TimeInForce.GTD:
            assert req.expire_at_ns is not None
            params["goodTillDate"] = str(req.expire_at_ns // 1_000_000)
    return "order", params


def _algo(req: OrderRequest, client_order_id: str) -> dict[str, str]:
    params = {
        "algoType": "CONDITIONAL",
        "type": _USDM_ALGO_TYPES[req.type],
        "clientAlgoId": client_order_id,
        "workingType": "MARK_PRICE" if req.trigger_by is TriggerPrice.MARK else "CONTRACT_PRICE",
    }
    if req.close_position:
        params["closePosition"] = "true"
    else:
        params["quantity"] = text(req.qty)
    if req.price is not None:
        params |= {"price": text(req.price), "timeInForce": req.time_in_force.value}
    if req.type is OrderType.TRAILING_STOP:
        assert req.trailing_bps is not None
        params["callbackRate"] = text(req.trailing_bps / 100)  # percent
        if req.activation_price is not None:
            params["activatePrice"] = text(req.activation_price)
    elif req.stop_price is not None:
        params["triggerPrice"] = text(req.stop_price)
    return params


def spot_oco_params(
    above: OrderRequest, below: OrderRequest, native_symbol: str, ids: tuple[str, str, str]
) -> dict[str, str]:
    """``POST /api/v3/orderList/oco``: two legs on one side for one quantity, one above
    the market and one below (``ids``: list, above leg, below leg client ids). Each leg
    is read as a single order would be, then renamed ``above*`` / ``below*``."""
    venue = "binance:spot"
    if (above.symbol, above.side, above.qty) != (below.symbol, below.side, below.qty):
        raise InvalidInput(
            f"{venue}: the two legs of an OCO must share symbol, side and quantity", field="below"
        )
    list_id, above_id, below_id = ids
    params = {
        "symbol": native_symbol,
        "side": above.side.value,
        "quantity": text(above.qty),
        "listClientOrderId": list_id,
        "newOrderRespType": "FULL",
    }
    for prefix, leg, leg_id in (("above", above, above_id), ("below", below, below_id)):
        single = spot_params(leg, native_symbol, leg_id)
        params[f"{prefix}Type"] = single["type"]
        params[f"{prefix}ClientOrderId"] = leg_id
        for name in ("price", "stopPrice", "trailingDelta", "timeInForce"):
            if name in single:
                params[prefix + name[0].upper() + name[1:]] = single[name]
    return params
