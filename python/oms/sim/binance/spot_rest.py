"""Binance Spot REST (`/api/v3/...`) over the simulated venue, on aiohttp.

What the official SDK relies on (docs/notes/binance-sdks.md): every parameter may come
in the query string even for POST/DELETE (form bodies are accepted too); the signature
covers the query and body as sent; ``X-MBX-APIKEY`` carries the key; errors are
``{"code", "msg"}`` JSON; usage headers ``X-MBX-USED-WEIGHT-1M`` and
``X-MBX-ORDER-COUNT-10S`` / ``-1D`` are integers; 429 and 418 carry ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from oms.sim.binance import auth, faults
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.faults import Faults
from oms.sim.binance.limits import RequestLimits
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_ws_api import SpotWsApi
from oms.sim.binance.streams import MarketStreams

#: (request, params, account) -> JSON body; public endpoints get account "".
Handler = Callable[[web.Request, dict[str, str], str], Any]


def _depth_weight(params: dict[str, str]) -> int:
    limit = int(params.get("limit") or 100)
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


class SpotRestServer:
    """``start()`` binds 127.0.0.1 on a free port; ``url`` is what SDKs take as base path."""

    def __init__(
        self, venue: SpotExchange, keys: auth.KeyStore, clock_ms: Callable[[], int] | None = None
    ) -> None:
        self.venue = venue
        self.keys = keys
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.limits = RequestLimits()
        self.faults = Faults()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.app = web.Application()
        self._routes()

    def _routes(self) -> None:
        public, signed = self._public, self._signed
        self.app.router.add_get("/api/v3/ping", public(1, lambda r, p, a: {}))
        self.app.router.add_get(
            "/api/v3/time", public(1, lambda r, p, a: {"serverTime": self.server_time_ms()})
        )
        self.app.router.add_get(
            "/api/v3/exchangeInfo", public(20, lambda r, p, a: self.venue.exchange_info())
        )
        self.app.router.add_get("/api/v3/depth", public(_depth_weight, self._depth))
        self.app.router.add_post("/api/v3/order", signed(1, self._new_order, orders=True))
        self.app.router.add_delete("/api/v3/order", signed(1, lambda r, p, a: self.venue.cancel_order(a, p)))
        self.app.router.add_get("/api/v3/order", signed(4, lambda r, p, a: self.venue.get_order(a, p)))
        self.app.router.add_get("/api/v3/openOrders", signed(6, self._open_orders))
        self.app.router.add_get("/api/v3/account", signed(20, lambda r, p, a: self.venue.account_info(a)))
        self.app.router.add_get("/api/v3/myTrades", signed(20, self._my_trades))
        self.ws_api = SpotWsApi(self.venue, self.keys, self.limits, self.server_time_ms)
        self.app.router.add_get("/ws-api/v3", self.ws_api.handle)
        self.streams = MarketStreams(self.venue, self.faults)
        self.streams.routes(self.app)
        self.app.router.add_route("*", "/admin/faults", self._admin_faults)
        self.app.router.add_post("/admin/disconnect", self._admin_disconnect)

    # ---- lifecycle ----

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://{host}:{sock.getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        await self.ws_api.shutdown()
        await self.streams.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- plumbing ----

    @staticmethod
    async def _params(request: web.Request) -> tuple[dict[str, str], str, str]:
        query = request.query_string
        body = await request.text() if request.can_read_body else ""
        pairs = parse_qsl(query, keep_blank_values=True) + parse_qsl(body, keep_blank_values=True)
        params: dict[str, str] = {}
        for name, value in pairs:
            if name in params:
                raise BinanceApiError(-1101, "Duplicate values for a parameter detected.")
            params[name] = value
        return params, query, body

    def _public(
        self, weight: int | Callable[[dict[str, str]], int], handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def endpoint(request: web.Request) -> web.Response:
            headers: dict[str, str] = {}
            try:
                params, _, _ = await self._params(request)
                await self._injected_delay()
                cost = weight(params) if callable(weight) else weight
                headers = self.limits.charge(request.remote or "?", cost).headers()
                return web.json_response(handler(request, params, ""), headers=headers)
            except BinanceApiError as err:
                return _error_response(err, headers)

        return endpoint

    def _signed(
        self, weight: int, handler: Handler, orders: bool = False
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def endpoint(request: web.Request) -> web.Response:
            headers: dict[str, str] = {}
            try:
                params, query, body = await self._params(request)
                await self._injected_delay()
                key = self.keys.lookup(request.headers.get("X-MBX-APIKEY"), "SPOT")
                headers = self.limits.charge(request.remote or "?", weight, key.account, orders).headers()
                auth.check_timestamp(params.get("timestamp"), params.get("recvWindow"), self.server_time_ms())
                auth.verify(key, auth.rest_payload(query, body), auth.rest_signature(query, body))
                if orders and self.faults.chance(self.faults.fail_before_accept):
                    raise faults.internal_error()
                result = handler(request, params, key.account)
                if orders:
                    await self._after_accept()
                return web.json_response(result, headers=headers)
            except BinanceApiError as err:
                return _error_response(err, headers)

        return endpoint

    # ---- fault injection (see oms.sim.binance.faults) ----

    def server_time_ms(self) -> int:
        """The server's clock, skewed when a fault asks for it."""
        return self._clock_ms() + self.faults.clock_skew_ms

    async def _injected_delay(self) -> None:
        self.limits.storm = self.faults.rate_limit_storm
        delay = self.faults.delay_s()
        if delay:
            await asyncio.sleep(delay)

    async def _after_accept(self) -> None:
        """The order is on the book: maybe stall, maybe answer 'execution status unknown'."""
        if self.faults.stall_after_accept_ms:
            await asyncio.sleep(self.faults.stall_after_accept_ms / 1000)
        if self.faults.chance(self.faults.unknown_after_accept):
            raise faults.unknown_status()

    async def _admin_faults(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            try:
                self.faults.update(await request.json())
            except (ValueError, TypeError) as err:
                return web.json_response({"error": str(err)}, status=400)
        return web.json_response(self.faults.view())

    async def _admin_disconnect(self, request: web.Request) -> web.Response:
        closed = await self.ws_api.disconnect() + await self.streams.disconnect()
        return web.json_response({"closed": closed})

    # ---- handlers with more than one line ----

    def _depth(self, request: web.Request, params: dict[str, str], _: str) -> dict[str, Any]:
        limit = int(params.get("limit") or 100)
        return self.venue.depth(params.get("symbol", ""), min(limit, 5000))

    def _new_order(self, request: web.Request, params: dict[str, str], account: str) -> dict[str, Any]:
        return self.venue.new_order(account, params)

    def _open_orders(
        self, request: web.Request, params: dict[str, str], account: str
    ) -> list[dict[str, Any]]:
        return self.venue.open_orders(account, params.get("symbol") or None)

    def _my_trades(self, request: web.Request, params: dict[str, str], account: str) -> list[dict[str, Any]]:
        return self.venue.my_trades(account, params.get("symbol", ""))


def _error_response(err: BinanceApiError, headers: dict[str, str]) -> web.Response:
    if err.retry_after is not None:
        headers = {**headers, "Retry-After": str(err.retry_after)}
    return web.json_response(err.to_json(), status=err.http_status, headers=headers)


async def serve_forever(server: SpotRestServer) -> None:
    """Run until cancelled (for ``python -m oms.sim.binance``)."""
    await server.start()
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
