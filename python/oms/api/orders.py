"""``oms.v1.OrderService``: order entry and queries, straight onto the engine.

Input is converted and validated first (``oms.api.convert``), so a bad field is
INVALID_ARGUMENT with nothing sent; the engine then checks instrument rules and risk.
A batch (``SubmitOrders``) answers one result per order, in order: an order refused
on its own does not fail the others, and an idempotency key holds as in ``SubmitOrder``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from oms.api import convert
from oms.api.status import error_detail
from oms.engine import Engine
from oms.errors import InvalidInput, OmsError
from oms.model import Order, OrderRequest
from oms.model.values import to_decimal
from oms.v1 import orders_pb2 as rpc

MAX_BATCH = 1_000
DEFAULT_LIST_LIMIT = 1_000


class OrderService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def submit_order(self, request: rpc.SubmitOrderRequest, context: Any) -> rpc.SubmitOrderResponse:
        order = await self.engine.submit(convert.order_request_in(request.order))
        return rpc.SubmitOrderResponse(order=convert.order_out(order))

    async def submit_orders(self, request: rpc.SubmitOrdersRequest, context: Any) -> rpc.SubmitOrdersResponse:
        if len(request.orders) > MAX_BATCH:
            raise InvalidInput(
                f"orders: {len(request.orders)} in one batch, at most {MAX_BATCH}", "BATCH_TOO_LARGE"
            )
        parsed: list[OrderRequest | OmsError] = []
        for item in request.orders:
            try:
                parsed.append(convert.order_request_in(item))
            except OmsError as err:
                parsed.append(err)
        valid = [p for p in parsed if isinstance(p, OrderRequest)]
        outcomes = iter(await self._submit_valid(valid))
        results = [_result(p if isinstance(p, OmsError) else next(outcomes)) for p in parsed]
        return rpc.SubmitOrdersResponse(results=results)

    async def _submit_valid(self, requests: list[OrderRequest]) -> list[Order | OmsError]:
        """One outcome per request, in order. Orders with an idempotency key go through
        ``engine.submit``, which remembers keys (a retried batch, or a key used twice,
        gets the first order back); ``submit_many`` does not, so it takes the others."""
        keyed = [r for r in requests if r.idempotency_key is not None]
        plain = [r for r in requests if r.idempotency_key is None]
        batch, singles = await asyncio.gather(
            self.engine.submit_many(plain),
            asyncio.gather(*(self._submit_one(r) for r in keyed)),
        )
        by_kind = {True: iter(singles), False: iter(batch)}
        return [next(by_kind[r.idempotency_key is not None]) for r in requests]

    async def _submit_one(self, request: OrderRequest) -> Order | OmsError:
        try:
            return await self.engine.submit(request)
        except OmsError as err:
            return err

    async def amend_order(self, request: rpc.AmendOrderRequest, context: Any) -> rpc.AmendOrderResponse:
        qty = to_decimal(request.qty, "qty") if request.qty else None
        price = to_decimal(request.price, "price") if request.price else None
        stop = to_decimal(request.stop_price, "stop_price") if request.stop_price else None
        order = await self.engine.amend(request.order_id, qty=qty, price=price, stop_price=stop)
        return rpc.AmendOrderResponse(order=convert.order_out(order))

    async def cancel_order(self, request: rpc.CancelOrderRequest, context: Any) -> rpc.CancelOrderResponse:
        order = await self.engine.cancel(request.order_id)
        return rpc.CancelOrderResponse(order=convert.order_out(order))

    async def cancel_all(self, request: rpc.CancelAllRequest, context: Any) -> rpc.CancelAllResponse:
        orders = await self.engine.cancel_all(venue=request.venue or None, symbol=request.symbol or None)
        return rpc.CancelAllResponse(orders=[convert.order_out(o) for o in orders])

    async def get_order(self, request: rpc.GetOrderRequest, context: Any) -> rpc.GetOrderResponse:
        return rpc.GetOrderResponse(order=convert.order_out(self.engine.order(request.order_id)))

    async def list_orders(self, request: rpc.ListOrdersRequest, context: Any) -> rpc.ListOrdersResponse:
        if request.limit < 0:
            raise InvalidInput("limit: must not be negative", field="limit")
        orders = self.engine.orders(
            open_only=request.open_only, venue=request.venue or None, symbol=request.symbol or None
        )
        newest = sorted(orders, key=lambda o: o.created_ns, reverse=True)[
            : request.limit or DEFAULT_LIST_LIMIT
        ]
        return rpc.ListOrdersResponse(orders=[convert.order_out(o) for o in newest])


def _result(outcome: Order | OmsError) -> rpc.OrderResult:
    if isinstance(outcome, OmsError):
        return rpc.OrderResult(error=error_detail(outcome))
    return rpc.OrderResult(order=convert.order_out(outcome))
