"""Binance Spot WebSocket API (``/ws-api/v3``) over the simulated venue.

One JSON request per text frame: ``{"id", "method", "params"}``; one reply per
request: ``{"id", "status", "result" | "error", "rateLimits"}`` (the SDK requires
``rateLimits``). Signed methods carry ``apiKey``, ``timestamp`` and ``signature`` over
the sorted params, or, after ``session.logon`` with an Ed25519 key, only
``timestamp``. User data comes through ``userDataStream.subscribe`` (logged-on
session) or ``userDataStream.subscribe.signature`` (any key type) as
``{"subscriptionId", "event"}`` frames, subscription ids counting from 0 per connection.
All outgoing frames leave through one queue, so events emitted while an order is
processed precede its reply.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from oms.sim.binance import auth
from oms.sim.binance.errors import BinanceApiError, mandatory
from oms.sim.binance.limits import RequestLimits, Usage
from oms.sim.binance.sockets import Outbox, SocketSet
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_cancel_replace import cancel_replace
from oms.sim.binance.spot_orders import parse_params
from oms.sim.binance.usdm import FuturesExchange

_AUTH_PARAMS = {"apiKey", "signature", "timestamp", "recvWindow", "returnRateLimits"}


@dataclass
class Connection:
    ip: str
    connected_ms: int
    outbox: Outbox = field(default_factory=Outbox)
    key: auth.ApiKey | None = None  # set by session.logon
    authorized_ms: int | None = None
    subscriptions: dict[int, tuple[str, Callable[[dict[str, Any]], None]]] = field(default_factory=dict)
    next_subscription: int = 0


@dataclass(frozen=True)
class Method:
    weight: int
    signed: bool
    run: Callable[[Connection, dict[str, str], auth.ApiKey | None], Any]
    new_order: bool = False
    key_only: bool = False  # USER_STREAM security: an API key, no signature


class SpotWsApi:
    """The spot WebSocket API; the futures one (``usdm_ws_api.py``) reuses its envelope,
    authentication, limits and sessions with its own methods and key permission."""

    permission = "SPOT"

    def __init__(
        self,
        venue: SpotExchange | FuturesExchange,
        keys: auth.KeyStore,
        limits: RequestLimits,
        clock_ms: Callable[[], int] | None = None,
    ) -> None:
        self.venue = venue
        self.keys = keys
        self.limits = limits
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.sockets = SocketSet(self._clock_ms)
        self.methods = self._methods()

    def _methods(self) -> dict[str, Method]:
        v = self.venue
        assert isinstance(v, SpotExchange)
        return {
            "ping": Method(1, False, lambda c, p, k: {}),
            "time": Method(1, False, lambda c, p, k: {"serverTime": self._clock_ms()}),
            "exchangeInfo": Method(20, False, lambda c, p, k: v.exchange_info()),
            "session.logon": Method(2, True, self._logon),
            "session.status": Method(2, False, lambda c, p, k: self._session(c)),
            "session.logout": Method(2, False, self._logout),
            "order.place": Method(1, True, lambda c, p, k: v.new_order(_account(k), p), new_order=True),
            "order.test": Method(1, True, lambda c, p, k: v.new_order(_account(k), p, test=True)),
            "order.cancel": Method(1, True, lambda c, p, k: v.cancel_order(_account(k), p)),
            "order.cancelReplace": Method(
                1, True, lambda c, p, k: cancel_replace(v, _account(k), p), new_order=True
            ),
            "order.amend.keepPriority": Method(
                4, True, lambda c, p, k: v.amend_keep_priority(_account(k), p)
            ),
            "openOrders.cancelAll": Method(1, True, lambda c, p, k: v.cancel_all(_account(k), p)),
            "allOrders": Method(20, True, lambda c, p, k: v.all_orders(_account(k), p)),
            "order.status": Method(4, True, lambda c, p, k: v.get_order(_account(k), p)),
            "openOrders.status": Method(6, True, lambda c, p, k: v.open_orders(_account(k), p.get("symbol"))),
            "account.status": Method(20, True, lambda c, p, k: v.account_info(_account(k))),
            "myTrades": Method(20, True, lambda c, p, k: v.my_trades(_account(k), p.get("symbol", ""))),
            "userDataStream.subscribe": Method(2, False, self._subscribe_session),
            "userDataStream.subscribe.signature": Method(2, True, self._subscribe),
            "userDataStream.unsubscribe": Method(2, False, self._unsubscribe),
            "session.subscriptions": Method(
                2, False, lambda c, p, k: [{"subscriptionId": i} for i in c.subscriptions]
            ),
        }

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        conn = Connection(request.remote or "?", self._clock_ms())
        try:
            return await self.sockets.serve(request, conn.outbox, lambda raw: self.reply(conn, raw))
        finally:
            for account, listener in conn.subscriptions.values():
                self.venue.accounts[account].listeners.remove(listener)

    async def disconnect(self) -> int:
        return await self.sockets.disconnect()

    async def shutdown(self) -> None:
        await self.sockets.shutdown()

    def reply(self, conn: Connection, raw: str) -> dict[str, Any]:
        """The answer to one request frame (events it causes are already queued)."""
        request_id: Any = None
        usage: Usage | None = None
        try:
            frame = json.loads(raw)
            if not isinstance(frame, dict):
                raise ValueError
            request_id = frame.get("id")
            params = frame.get("params") or {}
            if not isinstance(params, dict):
                raise ValueError
        except ValueError:
            return {
                "id": None,
                "status": 400,
                "error": {"code": -1102, "msg": "Field value was empty or malformed."},
            }
        try:
            name = str(frame.get("method") or "").removeprefix("v3/")
            method = self.methods.get(name)
            if method is None:
                raise BinanceApiError(-1020, "This operation is not supported.")
            key = self._authenticate(conn, params) if method.signed else None
            if method.key_only:
                key = conn.key or self.keys.lookup(params.get("apiKey"), self.permission)
            usage = self.limits.charge(
                conn.ip, method.weight, key.account if key else None, int(method.new_order)
            )
            clean = parse_params({k: v for k, v in params.items() if k not in _AUTH_PARAMS})
            result = method.run(conn, clean, key)
            body: dict[str, Any] = {"id": request_id, "status": 200, "result": result}
        except BinanceApiError as err:
            body = {"id": request_id, "status": err.http_status, "error": err.to_json()}
            if err.retry_after is not None:
                now = self._clock_ms()
                body["error"]["data"] = {"serverTime": now, "retryAfter": now + err.retry_after * 1000}
        if usage is not None and str(params.get("returnRateLimits", "true")).lower() != "false":
            body["rateLimits"] = usage.rate_limits()
        elif usage is None:
            body["rateLimits"] = []
        return body

    def _authenticate(self, conn: Connection, params: dict[str, Any]) -> auth.ApiKey:
        """A signed request, or an unsigned one on a logged-on session (timestamp only)."""
        now = self._clock_ms()
        if conn.key is not None and "signature" not in params:
            auth.check_timestamp(params.get("timestamp"), params.get("recvWindow"), now)
            return conn.key
        key = self.keys.lookup(params.get("apiKey"), self.permission)
        auth.check_timestamp(params.get("timestamp"), params.get("recvWindow"), now)
        signature = params.get("signature")
        if not signature:
            raise mandatory("signature")
        auth.verify_ws(key, params, str(signature))
        return key

    def _session(self, conn: Connection) -> dict[str, Any]:
        return {
            "apiKey": conn.key.api_key if conn.key else None,
            "authorizedSince": conn.authorized_ms,
            "connectedSince": conn.connected_ms,
            "returnRateLimits": True,
            "serverTime": self._clock_ms(),
            "userDataStream": bool(conn.subscriptions),
        }

    def _logon(self, conn: Connection, params: dict[str, str], key: auth.ApiKey | None) -> dict[str, Any]:
        assert key is not None
        if key.key_type is not auth.KeyType.ED25519:
            raise BinanceApiError(-4056, "Invalid api key type.")
        conn.key, conn.authorized_ms = key, self._clock_ms()
        return self._session(conn)

    def _logout(self, conn: Connection, params: dict[str, str], key: auth.ApiKey | None) -> dict[str, Any]:
        conn.key, conn.authorized_ms = None, None
        return self._session(conn)

    def _subscribe_session(
        self, conn: Connection, params: dict[str, str], key: auth.ApiKey | None
    ) -> dict[str, Any]:
        if conn.key is None:
            raise BinanceApiError(-2015, "Invalid API-key, IP, or permissions for action.", http_status=401)
        return self._subscribe(conn, params, conn.key)

    def _subscribe(self, conn: Connection, params: dict[str, str], key: auth.ApiKey | None) -> dict[str, Any]:
        account = _account(key)
        subscription = conn.next_subscription
        conn.next_subscription += 1

        def deliver(event: dict[str, Any]) -> None:
            conn.outbox.put({"subscriptionId": subscription, "event": event})

        self.venue.accounts[account].listeners.append(deliver)
        conn.subscriptions[subscription] = (account, deliver)
        return {"subscriptionId": subscription}

    def _unsubscribe(
        self, conn: Connection, params: dict[str, str], key: auth.ApiKey | None
    ) -> dict[str, Any]:
        wanted = params.get("subscriptionId")
        ids = list(conn.subscriptions) if wanted is None else [int(wanted)]
        for subscription in ids:
            entry = conn.subscriptions.pop(subscription, None)
            if entry is not None:
                self.venue.accounts[entry[0]].listeners.remove(entry[1])
        return {}


def _account(key: auth.ApiKey | None) -> str:
    if key is None:
        raise mandatory("apiKey")
    return key.account
