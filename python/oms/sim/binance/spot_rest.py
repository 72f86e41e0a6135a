"""Binance Spot REST (`/api/v3/...`), the Spot WebSocket API (`/ws-api/v3`) and market
streams (`/stream`, `/ws/...`) over the simulated spot venue, on one aiohttp server
(the plumbing is :mod:`oms.sim.binance.rest_base`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from oms.sim.binance import auth, market_rest
from oms.sim.binance.rest_base import RestServer, depth_limit, depth_weight
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_cancel_replace import cancel_replace
from oms.sim.binance.spot_symbols import fmt
from oms.sim.binance.spot_ws_api import SpotWsApi
from oms.sim.binance.streams import MarketStreams


class SpotRestServer(RestServer):
    permission = "SPOT"

    def __init__(
        self, venue: SpotExchange, keys: auth.KeyStore, clock_ms: Callable[[], int] | None = None
    ) -> None:
        self.venue = venue
        super().__init__(keys, clock_ms)

    def routes(self) -> None:
        public, signed, v = self.public, self.signed, self.venue
        add_get, add_post, add_delete = (
            self.app.router.add_get,
            self.app.router.add_post,
            self.app.router.add_delete,
        )
        add_get("/api/v3/ping", public(1, lambda r, p, a: {}))
        add_get("/api/v3/time", public(1, lambda r, p, a: {"serverTime": self.server_time_ms()}))
        add_get("/api/v3/exchangeInfo", public(20, lambda r, p, a: self._exchange_info()))
        add_get("/api/v3/depth", public(depth_weight, self._depth))
        several = lambda p: 2 if p.get("symbol") else 4  # noqa: E731 - one symbol, or several/all
        add_get("/api/v3/trades", public(25, lambda r, p, a: market_rest.recent_trades(v, p, False)))
        add_get("/api/v3/aggTrades", public(4, lambda r, p, a: market_rest.agg_trades(v, p)))
        add_get("/api/v3/avgPrice", public(2, lambda r, p, a: market_rest.avg_price(v, p, fmt)))
        add_get(
            "/api/v3/ticker/bookTicker",
            public(several, lambda r, p, a: market_rest.book_ticker(v, p, fmt, False)),
        )
        add_get(
            "/api/v3/ticker/price",
            public(several, lambda r, p, a: market_rest.price_ticker(v, p, fmt, False)),
        )
        add_post("/api/v3/order", signed(1, lambda r, p, a: v.new_order(a, p), orders=1))
        add_post("/api/v3/order/test", signed(1, lambda r, p, a: v.new_order(a, p, test=True)))
        add_delete("/api/v3/order", signed(1, lambda r, p, a: v.cancel_order(a, p)))
        self.app.router.add_put(
            "/api/v3/order/amend/keepPriority", signed(4, lambda r, p, a: v.amend_keep_priority(a, p))
        )
        add_post("/api/v3/order/cancelReplace", signed(1, lambda r, p, a: cancel_replace(v, a, p), orders=1))
        add_delete("/api/v3/openOrders", signed(1, lambda r, p, a: v.cancel_all(a, p)))
        add_get("/api/v3/allOrders", signed(20, lambda r, p, a: v.all_orders(a, p)))
        add_get("/api/v3/order", signed(4, lambda r, p, a: v.get_order(a, p)))
        add_get("/api/v3/openOrders", signed(6, lambda r, p, a: v.open_orders(a, p.get("symbol") or None)))
        lists = v.order_lists  # OCO
        add_post("/api/v3/orderList/oco", signed(1, lambda r, p, a: lists.place_oco(a, p), orders=2))
        add_delete("/api/v3/orderList", signed(1, lambda r, p, a: lists.cancel(a, p)))
        add_get("/api/v3/orderList", signed(4, lambda r, p, a: lists.get(a, p)))
        add_get("/api/v3/openOrderList", signed(6, lambda r, p, a: lists.open_lists(a)))
        add_get("/api/v3/account", signed(20, lambda r, p, a: v.account_info(a)))
        add_get("/api/v3/account/commission", signed(20, lambda r, p, a: v.commission(a, p)))
        add_get("/api/v3/myTrades", signed(20, lambda r, p, a: v.my_trades(a, p.get("symbol", ""))))
        self.ws_api = SpotWsApi(v, self.keys, self.limits, self.server_time_ms, self.faults)
        add_get("/ws-api/v3", self.ws_api.handle)
        self.streams = MarketStreams(v, self.faults)
        self.streams.routes(self.app)

    def _exchange_info(self) -> dict[str, Any]:
        return self.venue.exchange_info() | {"rateLimits": self.limits.limits.published()}

    def _depth(self, request: web.Request, params: dict[str, str], _: str) -> dict[str, Any]:
        return self.venue.depth(params.get("symbol", ""), depth_limit(params))

    async def disconnect_sockets(self) -> int:
        return await self.ws_api.disconnect() + await self.streams.disconnect()

    async def shutdown_sockets(self) -> None:
        await self.ws_api.shutdown()
        await self.streams.shutdown()
