"""What every simulated Binance REST API shares, on aiohttp: binding 127.0.0.1, reading
params (query string and/or form body; the SDKs put everything in the query), API-key,
timestamp and signature checks in Binance's order, request limits and usage headers,
fault injection, ``{"code", "msg"}`` errors with ``Retry-After``, and the admin routes.
Each market (spot, USD-M) adds its routes in ``routes()``."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from oms.sim.binance import auth, faults
from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.faults import Faults
from oms.sim.binance.limits import ORDERS_REFUSED, RequestLimits, lenient_about_orders

#: (request, params, account) -> JSON body; public endpoints get account "".
Handler = Callable[[web.Request, dict[str, str], str], Any]
Endpoint = Callable[[web.Request], Awaitable[web.Response]]


class RestServer:
    """``start()`` binds 127.0.0.1 (a free port by default); ``url`` is the SDK's base path."""

    permission = "SPOT"  # the key permission this market's signed endpoints need

    def __init__(self, keys: auth.KeyStore, clock_ms: Callable[[], int] | None = None) -> None:
        self.keys = keys
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.limits = RequestLimits()
        self.faults = Faults()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.app = web.Application()
        self.routes()
        self.app.router.add_route("*", "/admin/faults", self._admin_faults)
        self.app.router.add_post("/admin/disconnect", self._admin_disconnect)

    def routes(self) -> None:
        """Add this market's routes (subclasses)."""

    async def disconnect_sockets(self) -> int:
        """Drop every WebSocket without warning; returns how many (subclasses)."""
        return 0

    async def shutdown_sockets(self) -> None:
        """Close every WebSocket politely before stopping (subclasses)."""

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
        await self.shutdown_sockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def server_time_ms(self) -> int:
        """The server's clock, skewed when a fault asks for it."""
        return self._clock_ms() + self.faults.clock_skew_ms

    # ---- endpoint wrappers ----

    @staticmethod
    async def _params(request: web.Request) -> tuple[dict[str, str], str, str]:
        # Signatures cover the query and body exactly as sent (percent-encoded): take
        # them raw, never as decoded by the HTTP library.
        query = request.rel_url.raw_query_string
        body = (await request.read()).decode("utf-8", "replace") if request.can_read_body else ""
        pairs = parse_qsl(query, keep_blank_values=True) + parse_qsl(body, keep_blank_values=True)
        params: dict[str, str] = {}
        for name, value in pairs:
            if name in params:
                raise BinanceApiError(-1101, "Duplicate values for a parameter detected.")
            params[name] = value
        return params, query, body

    def public(self, weight: int | Callable[[dict[str, str]], int], handler: Handler) -> Endpoint:
        async def endpoint(request: web.Request) -> web.Response:
            headers: dict[str, str] = {}
            try:
                params, _, _ = await self._params(request)
                await self._injected_delay()
                cost = weight(params) if callable(weight) else weight
                headers = self.limits.charge(request.remote or "?", cost).headers()
                return web.json_response(handler(request, params, ""), headers=headers)
            except BinanceApiError as err:
                return error_response(err, headers)
            except Exception:
                return error_response(unknown_error(), headers)

        return endpoint

    def keyed(self, weight: int, handler: Handler) -> Endpoint:
        """API key only, no signature (e.g. futures listenKey)."""

        async def endpoint(request: web.Request) -> web.Response:
            headers: dict[str, str] = {}
            try:
                params, _, _ = await self._params(request)
                await self._injected_delay()
                key = self.keys.lookup(request.headers.get("X-MBX-APIKEY"), self.permission)
                headers = self.limits.charge(request.remote or "?", weight, key.account).headers()
                return web.json_response(handler(request, params, key.account), headers=headers)
            except BinanceApiError as err:
                return error_response(err, headers)
            except Exception:
                return error_response(unknown_error(), headers)

        return endpoint

    def signed(self, weight: int, handler: Handler, orders: int = 0) -> Endpoint:
        """A signed endpoint; `orders` is how many new orders it counts against the
        order-rate limit (and whether accept faults apply)."""

        async def endpoint(request: web.Request) -> web.Response:
            headers: dict[str, str] = {}
            try:
                params, query, body = await self._params(request)
                await self._injected_delay()
                key = self.keys.lookup(request.headers.get("X-MBX-APIKEY"), self.permission)
                usage = self.limits.charge(
                    request.remote or "?", weight, key.account, orders, not lenient_about_orders(params)
                )
                headers = usage.headers()
                if usage.orders_refused:
                    params[ORDERS_REFUSED] = usage.orders_refused
                auth.check_timestamp(params.get("timestamp"), params.get("recvWindow"), self.server_time_ms())
                auth.verify(key, auth.rest_payload(query, body), auth.rest_signature(query, body))
                if orders and self.faults.chance(self.faults.fail_before_accept):
                    raise faults.internal_error()
                result = handler(request, params, key.account)
                if orders:
                    await self._after_accept(request)
                return web.json_response(result, headers=headers)
            except BinanceApiError as err:
                return error_response(err, headers)
            except Exception:
                return error_response(unknown_error(), headers)

        return endpoint

    # ---- fault injection (see oms.sim.binance.faults) ----

    async def _injected_delay(self) -> None:
        self.limits.storm = self.faults.rate_limit_storm
        delay = self.faults.delay_s()
        if delay:
            await asyncio.sleep(delay)

    async def _after_accept(self, request: web.Request) -> None:
        """The order is on the book: maybe stall, drop the connection, or answer
        'execution status unknown' (-1007 / -1006)."""
        if self.faults.stall_after_accept_ms:
            await asyncio.sleep(self.faults.stall_after_accept_ms / 1000)
        if self.faults.chance(self.faults.disconnect_after_accept) and request.transport is not None:
            request.transport.close()  # no answer at all: the client sees the connection drop
        error = faults.after_accept(self.faults)
        if error is not None:
            raise error

    async def _admin_faults(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            try:
                settings = await request.json()
                if not isinstance(settings, dict):
                    raise ValueError("expected a JSON object of fault settings")
                self.faults.update(settings)
            except (ValueError, TypeError) as err:
                return web.json_response({"error": str(err)}, status=400)
        return web.json_response(self.faults.view())

    async def _admin_disconnect(self, request: web.Request) -> web.Response:
        return web.json_response({"closed": await self.disconnect_sockets()})


def error_response(err: BinanceApiError, headers: dict[str, str]) -> web.Response:
    if err.retry_after is not None:
        headers = {**headers, "Retry-After": str(err.retry_after)}
    return web.json_response(err.to_json(), status=err.http_status, headers=headers)


def unknown_error() -> BinanceApiError:
    """What Binance answers when something unexpected happens while processing."""
    return BinanceApiError(-1000, "An unknown error occurred while processing the request.", http_status=500)


def depth_limit(params: dict[str, str], default: int = 100, maximum: int = 5000) -> int:
    """The ``limit`` of a depth request: 1..maximum, else -1100."""
    text = params.get("limit") or str(default)
    if not re.fullmatch(r"[0-9]{1,5}", text) or not 1 <= int(text) <= maximum:
        raise BinanceApiError(
            -1100, f"Illegal characters found in parameter 'limit'; legal range is '1-{maximum}'."
        )
    return int(text)


def depth_weight(params: dict[str, str]) -> int:
    limit = depth_limit(params)
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
