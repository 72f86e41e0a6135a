"""``BinanceSpot`` (``binance:spot``): the Binance Spot connector on the official SDK.

On top of the shared connector (``connector.py``: order entry sent once, unknown
outcomes resolved by query, fills de-duplicated, local book): spot's order parameters,
amends, OCO lists, balances, ``myTrades`` and user data through the WebSocket API
subscription (``userDataStream.subscribe`` on an Ed25519 session, ``.signature`` with
other keys), decoded by ``user_data.py``; after the session is rebuilt the subscription
is renewed and the gap filled from REST.

Amend: a lower quantity alone is the keep-priority amend (same order, same queue
place). A new price is cancel-replace (``STOP_ON_FAILURE``: no new order unless the old
one was canceled) under a new client order id: the returned event is the new order's;
the old one's CANCELED comes on the stream. The new order is sized from the fills we
knew of; if the cancel reveals more, the new order is cut back at once by the
difference (keep-priority amend, or canceled if nothing is left), so the total never
exceeds what was asked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec
from binance_common.configuration import ConfigurationWebSocketStreams
from binance_sdk_spot.spot import Spot

from oms.errors import InvalidInput, OmsError, OutcomeUnknown
from oms.exchanges.base import Capabilities
from oms.exchanges.binance import responses
from oms.exchanges.binance.connector import MS, BinanceConnector, Paths
from oms.exchanges.binance.order_params import spot_oco_params, spot_params, text
from oms.exchanges.binance.user_data import SpotEvent, normalize_spot
from oms.model import (
    Balance,
    FeeRates,
    Fill,
    Order,
    OrderEvent,
    OrderType,
    TimeInForce,
)


class BinanceSpot(BinanceConnector):
    MARKET = "spot"
    VENUE = "binance:spot"
    PATHS = Paths(
        time="/api/v3/time",
        exchange_info="/api/v3/exchangeInfo",
        depth="/api/v3/depth",
        order="/api/v3/order",
        open_orders="/api/v3/openOrders",
        cancel_all="/api/v3/openOrders",
        depth_stream="{symbol}@depth@100ms",
        trade_stream="{symbol}@trade",
        book_ticker_stream="{symbol}@bookTicker",
    )
    capabilities = Capabilities(
        order_types=frozenset(OrderType),
        time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}),
        amend=True,
        cancel_all=True,
        oco=True,
    )
    _subscription: int | None = None

    def _streams_client(self) -> Any:
        return Spot(
            config_ws_streams=ConfigurationWebSocketStreams(stream_url=self.config.ws_url)
        ).websocket_streams

    async def create_order(self, order: Order) -> OrderEvent:
        native = self.symbols.to_native(order.request.symbol)
        params = spot_params(order.request, native, order.client_order_id)
        return await self.place(order, "order.place", self.PATHS.order, params)

    async def create_orders(self, orders: Sequence[Order]) -> list[OrderEvent | OmsError]:
        """Spot has no batch endpoint: the orders go out concurrently (over the one
        WebSocket API session), one result each, in the order given."""
        results = await asyncio.gather(*(self.create_order(o) for o in orders), return_exceptions=True)
        for result in results:
            if not isinstance(result, OrderEvent | OmsError):
                raise result  # a defect, not a venue's answer
        return [r for r in results if isinstance(r, OrderEvent | OmsError)]

    async def amend_order(
        self, order: Order, *, qty: Decimal | None = None, price: Decimal | None = None
    ) -> OrderEvent:
        if price is not None:
            return await self._cancel_replace(order, qty if qty is not None else order.qty, price)
        if qty is None:
            raise InvalidInput("amend needs a new qty or price", field="qty")
        return await self._keep_priority(order.request.symbol, order.client_order_id, qty)

    async def _keep_priority(self, symbol: str, client_order_id: str, qty: Decimal) -> OrderEvent:
        """Lower the total quantity (filled part included) in place. The order keeps our
        client id (Binance would otherwise name it anew)."""
        native = self.symbols.to_native(symbol)
        params = {
            "symbol": native,
            "origClientOrderId": client_order_id,
            "newClientOrderId": client_order_id,
            "newQty": text(qty),
        }
        path = "/api/v3/order/amend/keepPriority"
        answer = await self.send("order.amend.keepPriority", path, "PUT", params, weight=4)
        amended = answer["amendedOrder"] | {"transactTime": answer["transactTime"]}
        return self.order_event(amended, symbol, client_id=client_order_id)

    async def _cancel_replace(self, order: Order, total: Decimal, price: Decimal) -> OrderEvent:
        remaining = total - order.filled_qty
        if remaining <= 0:
            raise InvalidInput(f"nothing left to replace: {order.filled_qty} of {total} filled", field="qty")
        request = msgspec.structs.replace(order.request, qty=remaining, price=price)
        replacement = Order(id=order.id, request=request, client_order_id=self.new_client_order_id())
        native = self.symbols.to_native(request.symbol)
        params = spot_params(request, native, replacement.client_order_id)
        params |= {"cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrigClientOrderId": order.client_order_id}
        path = "/api/v3/order/cancelReplace"
        answers: list[dict[str, Any]] = []

        def read(answer: dict[str, Any], symbol: str) -> OrderEvent:
            answers.append(answer)
            new = answer["newOrderResponse"]
            self._answer_fills(new, symbol, request.side)
            return self.order_event(new, symbol)

        event = await self.place(replacement, "order.cancelReplace", path, params, to_event=read)
        if answers:  # the cancel's own figures: fills we had not seen yet?
            unseen = Decimal(answers[0]["cancelResponse"]["executedQty"]) - order.filled_qty
            if unseen > 0:
                return await self._cut_back(event, remaining, unseen)
        return event

    async def _cut_back(self, event: OrderEvent, qty: Decimal, excess: Decimal) -> OrderEvent:
        """The old order filled ``excess`` more than we knew: shrink the new one by it."""
        assert event.client_order_id is not None
        if excess >= qty - (event.filled_qty or 0):
            return await self.cancel(event.symbol, event.client_order_id)
        return await self._keep_priority(event.symbol, event.client_order_id, qty - excess)

    async def create_oco(self, above: Order, below: Order) -> list[OrderEvent]:
        """Over REST (Binance's WebSocket API has order lists; the simulator does not)."""
        native = self.symbols.to_native(above.request.symbol)
        list_id = self.new_client_order_id()
        ids = (list_id, above.client_order_id, below.client_order_id)
        params = spot_oco_params(above.request, below.request, native, ids)
        self.clock.check()
        symbol = above.request.symbol
        try:
            answer = await self.rest.call("POST", "/api/v3/orderList/oco", params, orders=2)
        except OutcomeUnknown as unknown:
            return [self._unknown(symbol, leg.client_order_id, unknown) for leg in (above, below)]
        reports = {r["clientOrderId"]: r for r in answer["orderReports"]}
        events = []
        for leg in (above, below):
            report = reports[leg.client_order_id]
            self._answer_fills(report, symbol, leg.request.side)
            events.append(self.order_event(report, symbol))
        return events

    async def fetch_fills(self, symbol: str, since_ns: int = 0) -> list[Fill]:
        params = {"symbol": self.symbols.to_native(symbol)}
        if since_ns:
            params["startTime"] = str(since_ns // MS)
        rows = await self.rest.call("GET", "/api/v3/myTrades", params, weight=20)
        return [responses.spot_trade(r, self.VENUE, symbol) for r in rows]

    async def fetch_balances(self) -> list[Balance]:
        account = await self.send("account.status", "/api/v3/account", "GET", {}, weight=20)
        return responses.spot_balances(account, self.VENUE, time.time_ns())

    async def fetch_fee_rates(self, symbol: str) -> FeeRates:
        """``account.commission`` (``responses.spot_fee_rates`` says what is summed)."""
        params = {"symbol": self.symbols.to_native(symbol)}
        answer = await self.send("account.commission", "/api/v3/account/commission", "GET", params, weight=20)
        return responses.spot_fee_rates(answer, self.VENUE, symbol, time.time_ns())

    async def _after_reconnect(self) -> None:
        await self._subscribe_user_data()
        await self.fill_gap()

    async def _subscribe_user_data(self) -> None:
        if self.ws is None:
            raise InvalidInput("spot user data needs the WebSocket API: set ws_api_url", field="ws_api_url")
        method = "userDataStream.subscribe" if self.ws.ed25519 else "userDataStream.subscribe.signature"
        answer = await self.ws.call(method, {}, weight=2)
        self._subscription = int(answer["subscriptionId"])
        await self.ws.api.subscribe_user_data(self._subscription, None)
        self.ws.api.on("message", self._on_user_event, self._subscription)

    def _on_user_event(self, raw: dict[str, Any]) -> None:
        try:
            event: SpotEvent = msgspec.convert(raw, type=SpotEvent, strict=False)
        except msgspec.ValidationError:
            return  # an event type we do not model
        for normalized in normalize_spot(event, self.VENUE, self.symbols.to_unified):
            self.publish(normalized)
