"""Binance's WebSocket API protocol, shared by the spot (``/ws-api/v3``) and USD-M
futures (``/ws-fapi/v1``) simulators: each adds its methods to the sessions here.

One JSON request per text frame: ``{"id", "method", "params"}``; one reply per
request: ``{"id", "status", "result" | "error", "rateLimits"}`` (the SDKs require
``rateLimits``). Signed methods carry ``apiKey``, ``timestamp`` and ``signature`` over
the sorted params, or, after ``session.logon`` with an Ed25519 key, only
``timestamp``; USER_STREAM methods carry only ``apiKey``. All outgoing frames leave
through one queue, so events emitted while an order is processed precede its reply.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from oms.sim.binance import auth, faults
from oms.sim.binance.errors import BinanceApiError, mandatory
from oms.sim.binance.faults import Faults
from oms.sim.binance.limits import ORDERS_REFUSED, RequestLimits, Usage, lenient_about_orders
from oms.sim.binance.sockets import Outbox, Reply, SocketSet
from oms.sim.binance.spot_orders import parse_params

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


class _Listened(Protocol):
    listeners: list[Callable[[dict[str, Any]], None]]


class UserDataVenue(Protocol):
    """A simulated venue whose accounts take user-data listeners."""

    @property
    def accounts(self) -> Mapping[str, _Listened]: ...


class WsApi:
    """Envelope, authentication, rate limits and sessions; subclasses add methods and
    name the key permission they require."""

    permission = "SPOT"

    def __init__(
        self,
        venue: UserDataVenue,
        keys: auth.KeyStore,
        limits: RequestLimits,
        clock_ms: Callable[[], int] | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.venue = venue
        self.keys = keys
        self.limits = limits
        self.faults = faults or Faults()  # shared with the REST server's /admin/faults
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.sockets = SocketSet(self._clock_ms)
        self.methods = self._methods()

    def _methods(self) -> dict[str, Method]:
        """The session methods every WebSocket API has."""
        return {
            "session.logon": Method(2, True, self._logon),
            "session.status": Method(2, False, lambda c, p, k: self._session(c)),
            "session.logout": Method(2, False, self._logout),
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

    def reply(self, conn: Connection, raw: str) -> dict[str, Any] | Reply:
        """The answer to one request frame (events it causes are already queued); an
        order method's answer may be delayed, replaced or dropped by an injected fault."""
        request_id: Any = None
        usage: Usage | None = None
        accepted = False
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
            self.limits.storm = self.faults.rate_limit_storm
            usage = self.limits.charge(
                conn.ip,
                method.weight,
                key.account if key else None,
                int(method.new_order),
                not lenient_about_orders(params),
            )
            clean = parse_params({k: v for k, v in params.items() if k not in _AUTH_PARAMS})
            if usage.orders_refused:
                clean[ORDERS_REFUSED] = usage.orders_refused
            if method.new_order and self.faults.chance(self.faults.fail_before_accept):
                raise faults.internal_error()
            result = method.run(conn, clean, key)
            accepted = method.new_order
            if method.new_order and self.faults.chance(self.faults.disconnect_after_accept):
                return Reply(None, close=True)  # accepted, and the connection drops unanswered
            error = faults.after_accept(self.faults) if method.new_order else None
            if error is not None:
                raise error
            body: dict[str, Any] = {"id": request_id, "status": 200, "result": result}
        except BinanceApiError as err:
            body = {"id": request_id, "status": err.http_status, "error": err.to_json()}
            if err.http_status in (418, 429) and usage is None:
                usage = self.limits.current(conn.ip)  # refused, yet the reply shows the usage
            if err.retry_after is not None:
                now = self._clock_ms()
                body["error"]["data"] = {"serverTime": now, "retryAfter": now + err.retry_after * 1000}
        if usage is not None and str(params.get("returnRateLimits", "true")).lower() != "false":
            body["rateLimits"] = usage.rate_limits()
        elif usage is None:
            body["rateLimits"] = []
        stall = self.faults.stall_after_accept_ms if accepted else 0.0
        return Reply(body, delay_s=stall / 1000) if stall else body

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


def account_of(key: auth.ApiKey | None) -> str:
    if key is None:
        raise mandatory("apiKey")
    return key.account
