"""``BinanceSpot`` (``binance:spot``): the Binance Spot connector on the official SDK.

On top of the shared connector (``connector.py``: order entry sent once, unknown
outcomes resolved by query, fills de-duplicated, local book): spot's order parameters,
the keep-priority amend, balances, ``myTrades`` and user data through the WebSocket API
subscription (``userDataStream.subscribe`` on an Ed25519 session, ``.signature`` with
other keys), decoded by ``user_data.py``.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import msgspec
from binance_common.configuration import ConfigurationWebSocketStreams
from binance_sdk_spot.spot import Spot

from oms.errors import InvalidInput
from oms.exchanges.base import Capabilities
from oms.exchanges.binance.connector import MS, STATUS, BinanceConnector, Paths
from oms.exchanges.binance.order_params import spot_params, text
from oms.exchanges.binance.user_data import SpotEvent, normalize_spot
from oms.model import Balance, Fill, Liquidity, Order, OrderEvent, OrderStatus, OrderType, Side, TimeInForce


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
        trade_id_key="t",
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

    async def amend_order(
        self, order: Order, *, qty: Decimal | None = None, price: Decimal | None = None
    ) -> OrderEvent:
        """Keep-priority amend: a lower quantity, same order and queue place. A new
        price would need cancel-replace (a new order id): not offered here."""
        if price is not None or qty is None:
            raise self._unsupported("amending the price (cancel and place a new order)")
        native = self.symbols.to_native(order.request.symbol)
        params = {"symbol": native, "origClientOrderId": order.client_order_id, "newQty": text(qty)}
        path = "/api/v3/order/amend/keepPriority"
        answer = await self.send("order.amend.keepPriority", path, "PUT", params, weight=4)
        amended = answer["amendedOrder"]
        return OrderEvent(
            venue=self.VENUE,
            symbol=order.request.symbol,
            status=STATUS.get(amended["status"], OrderStatus.UNKNOWN),
            client_order_id=amended["clientOrderId"],
            venue_order_id=str(amended["orderId"]),
            filled_qty=Decimal(amended["executedQty"]),
            ts_ns=int(answer["transactTime"]) * MS,
        )

    async def fetch_fills(self, symbol: str, since_ns: int = 0) -> list[Fill]:
        params = {"symbol": self.symbols.to_native(symbol)}
        if since_ns:
            params["startTime"] = str(since_ns // MS)
        rows = await self.rest.call("GET", "/api/v3/myTrades", params, weight=20)
        return [
            Fill(
                venue=self.VENUE,
                symbol=symbol,
                trade_id=str(r["id"]),
                side=Side.BUY if r["isBuyer"] else Side.SELL,
                qty=Decimal(r["qty"]),
                price=Decimal(r["price"]),
                fee=Decimal(r["commission"]),
                fee_asset=r["commissionAsset"],
                liquidity=Liquidity.MAKER if r["isMaker"] else Liquidity.TAKER,
                venue_order_id=str(r["orderId"]),
                ts_ns=int(r["time"]) * MS,
            )
            for r in rows
        ]

    async def fetch_balances(self) -> list[Balance]:
        account = await self.send("account.status", "/api/v3/account", "GET", {}, weight=20)
        now = time.time_ns()
        return [
            Balance(
                venue=self.VENUE,
                asset=b["asset"],
                free=Decimal(b["free"]),
                locked=Decimal(b["locked"]),
                ts_ns=now,
            )
            for b in account["balances"]
        ]

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
