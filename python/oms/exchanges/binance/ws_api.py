"""Binance WebSocket API through the official SDK, made safe for order entry.

Order entry goes over the WebSocket API by default: one signed frame on an open socket
instead of a TLS/HTTP request each time. Requests are sent with the SDK's
``send_signed_message`` (its signing, key types and, on spot with an Ed25519 key, its
``session.logon``: later frames then carry only a timestamp) and Binance's own
parameter names. Our wait is ``request_timeout_s`` (the SDK's own is a fixed 20 s).

Outcomes: a reply with status 200 is the result; an error reply becomes an
``oms.errors`` exception (``errors.from_binance``; a 429/418 also bans the limiter for
the ``retryAfter`` it carries; the SDK keeps the error, not the status); no reply in
time, or the socket closing after the frame left, is ``OutcomeUnknown`` (resolve, never
resend); a frame that never left (no connection, or the SDK reconnecting) is
``VenueUnavailable``.

Every request carries ``timestamp`` on the venue's clock (``now_ms``, set by the
connector from its measured offset) and our ``recvWindow``. When the socket drops,
``on_lost`` is called once; ``reconnect`` builds a fresh SDK client (its own reconnect
would resubscribe user data under a subscription id the server no longer uses).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from binance_common.configuration import ConfigurationWebSocketAPI
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)
from binance_sdk_spot.spot import Spot

from oms.errors import OutcomeUnknown, RateLimited, VenueRateLimited, VenueUnavailable
from oms.exchanges.base import ExchangeConfig
from oms.exchanges.binance.errors import Market, from_binance
from oms.ratelimit import WeightedLimiter, Window

_WEIGHT_WINDOWS = {"spot": [Window("1m", 6000, 60)], "usdm": [Window("1m", 2400, 60)]}


class BinanceWsApi:
    def __init__(self, config: ExchangeConfig, market: Market) -> None:
        self.market = market
        self.venue = config.venue
        self.timeout_s = config.request_timeout_s
        secret = config.api_secret.get_secret_value() if config.api_secret else None
        settings: dict[str, Any] = {
            "api_key": config.api_key.get_secret_value() if config.api_key else None,
            "stream_url": config.ws_api_url,
            "return_rate_limits": True,
            "reconnect_attempts": 1,
        }
        self.ed25519 = bool(secret and "PRIVATE KEY" in secret)
        settings["private_key" if self.ed25519 else "api_secret"] = secret
        self._ws_config = ConfigurationWebSocketAPI(**{k: v for k, v in settings.items() if v is not None})
        self._facade: Any = Spot if market == "spot" else DerivativesTradingUsdsFutures
        self.api: Any = self._facade(config_ws_api=self._ws_config).websocket_api
        self.recv_window = str(config.recv_window_ms)
        self.weights = WeightedLimiter(_WEIGHT_WINDOWS[market], cancel_reserve=0.1)
        self.now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000
        self.on_lost: Callable[[], None] | None = None
        self.connected = False
        self.sent = 0

    async def connect(self) -> None:
        await self.api.create_connection()
        self.connected = True
        for event in ("close", "reconnect"):
            self.api.on_connection(event, self._lost)
        if self.market == "spot" and self.ed25519:
            await self.call("session.logon", {}, session_logon=True)

    def _lost(self) -> None:
        """The SDK reports the socket closed (or being replaced): tell the owner once."""
        if self.connected:
            self.connected = False
            if self.on_lost is not None:
                self.on_lost()

    async def reconnect(self) -> None:
        """A new connection on a new SDK client (and a new session logon)."""
        await self.close()
        self.api = self._facade(config_ws_api=self._ws_config).websocket_api
        await self.connect()

    async def close(self) -> None:
        self.connected = False
        with contextlib.suppress(Exception):  # already closed, or closing half-open
            await self.api.close_connection(close_session=True)

    async def call(
        self,
        method: str,
        params: Mapping[str, str],
        *,
        weight: int = 1,
        cancel: bool = False,
        session_logon: bool = False,
    ) -> Any:
        """One signed request: its ``result``, or an ``oms.errors`` exception."""
        try:
            self.weights.acquire_or_raise(weight, cancel=cancel)
        except RateLimited as err:
            raise VenueRateLimited(
                f"{self.venue}: {err.message}", "RATE_LIMITED", retry_after=err.retry_after, venue=self.venue
            ) from None
        signed = {"timestamp": str(self.now_ms()), "recvWindow": self.recv_window}
        payload = {"method": method, "params": dict(params) | signed}
        try:
            sending = self.api.send_signed_message(
                payload=payload, signer=self.api.signer, session_logon=session_logon
            )
            self.sent += 1
            response = await asyncio.wait_for(sending, self.timeout_s)
        except TimeoutError:
            raise OutcomeUnknown(
                f"{self.venue}: no answer to {method} within {self.timeout_s} s: outcome unknown",
                venue=self.venue,
            ) from None
        except (ConnectionError, aiohttp.ClientConnectionError) as err:  # the frame did not leave
            self._lost()
            raise VenueUnavailable(f"{self.venue}: {err}: {method} not sent", venue=self.venue) from None
        except ValueError as err:  # the SDK's "No WebSocket connections available."
            self._lost()
            raise VenueUnavailable(f"{self.venue}: {err}: {method} not sent", venue=self.venue) from None
        return self._result(method, response.data())

    def _result(self, method: str, frame: Any) -> Any:
        """The SDK hands back the whole frame on success, ``{"error": {code, msg, data}}``
        for an error reply (the HTTP-like status is dropped), and ``{"error": "<text>"}``
        when it stopped waiting or the socket closed."""
        if frame == "Websocket Reconnect":  # the SDK did not send it
            self._lost()
            raise VenueUnavailable(f"{self.venue}: reconnecting, {method} not sent", venue=self.venue)
        error = frame.get("error") if isinstance(frame, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), int):
            retry_after = self._retry_after(error)
            if retry_after is not None:
                self.weights.ban(retry_after)
            raise from_binance(
                error["code"],
                str(error.get("msg", "")),
                market=self.market,
                venue=self.venue,
                http_status=frame.get("status"),
                retry_after=retry_after,
            )
        if not isinstance(frame, dict) or error is not None or "result" not in frame:
            reason = error or frame
            raise OutcomeUnknown(
                f"{self.venue}: {method} sent, then {reason}: outcome unknown", venue=self.venue
            )
        self._note_usage(frame)
        return frame["result"]

    def _note_usage(self, frame: Mapping[str, Any]) -> None:
        for limit in frame.get("rateLimits") or []:
            if limit.get("rateLimitType") == "REQUEST_WEIGHT" and limit.get("interval") == "MINUTE":
                self.weights.update_used("1m", int(limit.get("count", 0)))

    @staticmethod
    def _retry_after(error: Mapping[str, Any]) -> float | None:
        """Seconds until ``data.retryAfter`` (an epoch-ms time on the WebSocket API)."""
        data = error.get("data")
        retry = data.get("retryAfter") if isinstance(data, Mapping) else None
        if isinstance(retry, int):
            return max(0.0, retry / 1000 - time.time())
        return None
