"""Binance REST through the official SDK, made safe for order entry.

* Calls go through the SDK's request function (``binance_common.utils.send_request``:
  Binance's own parameter names, the SDK's signing, the raw JSON back), each in a worker
  thread (the SDK is synchronous
  ``requests``), with its retries off: a timed-out POST or DELETE is never replayed.
* Limiters start with Binance's published windows and are resized from the venue's
  own ``exchangeInfo.rateLimits`` (``use_published_limits``: a VIP tier or a paper venue
  may differ).
* Before a request leaves, its weight (and, for order entry, one order) is taken from
  limiters with Binance's windows; every answer's ``X-MBX-USED-WEIGHT-1M`` /
  ``X-MBX-ORDER-COUNT-*`` headers correct them. A 429 or 418 puts both in a ban for
  ``Retry-After``: until it ends no request is sent at all, and callers get
  ``VenueRateLimited`` with the wait.
* Errors become ``oms.errors`` (``errors.from_binance``). The SDK drops Binance's code
  and message from 5xx answers; a response hook on its session keeps the last error
  body per thread, so -1007 / -1006 / -1001 are recovered and told apart.
* Signed requests carry ``timestamp`` on the venue's clock (``now_ms``, set by the
  connector from the measured offset) and our ``recvWindow``.
* A timeout or a dropped connection is ``OutcomeUnknown``: the request may have been
  executed. Order entry must then resolve by query, never resend.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from binance_common.configuration import ConfigurationRestAPI
from binance_common.errors import Error as SdkError
from binance_common.errors import NetworkError
from binance_common.utils import send_request
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)
from binance_sdk_spot.spot import Spot

from oms.errors import OmsError, OutcomeUnknown, RateLimited, VenueRateLimited
from oms.exchanges.base import ExchangeConfig
from oms.exchanges.binance.errors import Market, from_binance, from_http_status
from oms.ratelimit import WeightedLimiter, Window

# Binance's published windows (spot: exchangeInfo rateLimits; USD-M: its general info).
_LIMITS: dict[Market, tuple[list[Window], list[Window]]] = {
    "spot": ([Window("1m", 6000, 60)], [Window("10s", 100, 10), Window("1d", 200_000, 86_400)]),
    "usdm": ([Window("1m", 2400, 60)], [Window("10s", 300, 10), Window("1m", 1200, 60)]),
}
_HEADERS: dict[Market, tuple[dict[str, str], dict[str, str]]] = {
    "spot": ({"x-mbx-used-weight-1m": "1m"}, {"x-mbx-order-count-10s": "10s", "x-mbx-order-count-1d": "1d"}),
    "usdm": ({"x-mbx-used-weight-1m": "1m"}, {"x-mbx-order-count-10s": "10s", "x-mbx-order-count-1m": "1m"}),
}


_INTERVAL = {"SECOND": ("s", 1), "MINUTE": ("m", 60), "HOUR": ("h", 3600), "DAY": ("d", 86_400)}


def published_windows(rate_limits: list[dict[str, Any]], kind: str) -> list[Window]:
    """The windows of one ``rateLimitType`` in ``exchangeInfo.rateLimits``, named as the
    usage headers name them (``1m``, ``10s``, ``1d``)."""
    windows = []
    for limit in rate_limits:
        if limit.get("rateLimitType") != kind or limit.get("interval") not in _INTERVAL:
            continue
        unit, seconds = _INTERVAL[limit["interval"]]
        num = int(limit.get("intervalNum", 1))
        windows.append(Window(f"{num}{unit}", int(limit["limit"]), num * seconds))
    return windows


class _LastError(threading.local):
    """The body of the last HTTP error answer seen by this thread's requests."""

    body: dict[str, Any] | None = None
    status: int = 0
    retry_after: float | None = None


class BinanceRest:
    def __init__(self, config: ExchangeConfig, market: Market) -> None:
        self.market = market
        self.venue = config.venue
        secret = config.api_secret.get_secret_value() if config.api_secret else None
        key = config.api_key.get_secret_value() if config.api_key else None
        settings: dict[str, Any] = {
            "api_key": key,
            "base_path": config.rest_url,
            "timeout": int(config.request_timeout_s * 1000),
            "retries": 0,  # never replay a request whose outcome we did not see
        }
        if secret and "PRIVATE KEY" in secret:
            settings["private_key"] = secret  # Ed25519 or RSA, PEM
        else:
            settings["api_secret"] = secret
        rest_config = ConfigurationRestAPI(**{k: v for k, v in settings.items() if v is not None})
        facade: Any = Spot if market == "spot" else DerivativesTradingUsdsFutures
        self.sdk = facade(config_rest_api=rest_config).rest_api
        self._last = _LastError()
        self.sdk._session.hooks["response"].append(self._keep_error_body)
        weights, orders = _LIMITS[market]
        self.weights = WeightedLimiter(weights, cancel_reserve=0.1)
        self.orders = WeightedLimiter(orders, cancel_reserve=0.0)
        self.recv_window = str(config.recv_window_ms)
        self.now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000
        self.sent = 0  # requests that left (for tests and metrics)

    def use_published_limits(self, rate_limits: list[dict[str, Any]]) -> None:
        """Resize the limiters to what the venue publishes (kept as they are where it
        publishes nothing of a kind)."""
        weights = published_windows(rate_limits, "REQUEST_WEIGHT")
        orders = published_windows(rate_limits, "ORDERS")
        if weights:
            self.weights = WeightedLimiter(weights, cancel_reserve=0.1)
        if orders:
            self.orders = WeightedLimiter(orders, cancel_reserve=0.0)

    def _keep_error_body(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last.status = response.status_code
        self._last.body = None
        self._last.retry_after = None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            self._last.body = body if isinstance(body, dict) else None
            retry = response.headers.get("Retry-After")
            self._last.retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None

    async def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        weight: int = 1,
        orders: int = 0,
        signed: bool = True,
        cancel: bool = False,
    ) -> Any:
        """One request: the raw JSON answer, or an ``oms.errors`` exception."""
        try:
            self.weights.acquire_or_raise(weight, cancel=cancel)
            if orders:
                self.orders.acquire_or_raise(orders)
        except RateLimited as err:
            raise VenueRateLimited(
                f"{self.venue}: {err.message}", "RATE_LIMITED", retry_after=err.retry_after, venue=self.venue
            ) from None
        query = dict(params or {})
        if signed:
            query |= {"recvWindow": self.recv_window, "timestamp": str(self.now_ms())}
        return await asyncio.to_thread(self._send, method, path, query, signed)

    def _send(self, method: str, path: str, params: dict[str, str], signed: bool) -> Any:
        # The SDK's own send_signed_request wrapper fails at runtime (it subscripts a
        # function: ``send_request[T](...)``), so call the function it wraps, with the
        # SDK's session, configuration and signer.
        self.sent += 1
        try:
            response: Any = send_request(
                self.sdk._session,
                self.sdk.configuration,
                method,
                path,
                params,
                None,
                self.sdk.configuration.time_unit,
                is_signed=signed,
                signer=self.sdk._signer if signed else None,
            )
        except NetworkError as err:
            raise OutcomeUnknown(
                f"{self.venue}: no answer to {method} {path} ({err}): outcome unknown", venue=self.venue
            ) from None
        except SdkError:
            raise self._translate() from None
        weights, orders = _HEADERS[self.market]
        self.weights.update_from_headers(response.headers, weights)
        self.orders.update_from_headers(response.headers, orders)
        return response.data()

    def _translate(self) -> OmsError:
        """The oms error for the HTTP error answer this thread just received (from the
        body the response hook kept: the SDK's exception may have lost the code)."""
        body, status, retry = self._last.body, self._last.status, self._last.retry_after
        if status in (418, 429) and retry:
            self.weights.ban(retry)
            self.orders.ban(retry)
        if body and isinstance(body.get("code"), int):
            return from_binance(
                body["code"],
                str(body.get("msg", "")),
                market=self.market,
                venue=self.venue,
                http_status=status or None,
                retry_after=retry,
            )
        return from_http_status(status or 500, market=self.market, venue=self.venue)
