"""Binance's request limits for the simulated venue, shared by REST and the WebSocket
API: request weight per IP per minute, new orders per account per 10 s and per day.

Past a limit: HTTP 429 with -1003 (weight) or -1015 (orders) and ``Retry-After``; a
client that keeps sending while limited is banned (418) for a while. Usage is reported
as REST headers or as the WebSocket API's ``rateLimits`` array."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from oms.errors import RateLimited
from oms.ratelimit import WeightedLimiter, Window
from oms.sim.binance.errors import BinanceApiError

WEIGHT_PER_MINUTE = 6000
ORDERS_PER_10S = 100
ORDERS_PER_DAY = 200_000
#: 429s in a row after which a client is banned (418) instead.
BAN_AFTER_429S = 3
BAN_SECONDS = 120


@dataclass(frozen=True)
class Limits:
    """The venue's limits (Binance's spot defaults; a paper venue or a benchmark may
    raise them). ``exchangeInfo`` publishes them and clients size their limiters by it."""

    weight_per_minute: int = WEIGHT_PER_MINUTE
    orders_per_10s: int = ORDERS_PER_10S
    orders_per_day: int = ORDERS_PER_DAY

    def published(self) -> list[dict[str, object]]:
        """The ``rateLimits`` array of ``exchangeInfo``."""
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.weight_per_minute,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": self.orders_per_10s,
            },
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": self.orders_per_day},
        ]


@dataclass(frozen=True)
class Usage:
    weight_1m: int
    orders_10s: int | None = None  # None: not an order request
    orders_1d: int | None = None
    # cancelReplace with orderRateLimitExceededMode=CANCEL_ONLY: the order limit was hit,
    # the request goes on (its cancel half), and this is the new half's -1015 message.
    orders_refused: str | None = None
    limits: Limits = Limits()

    def headers(self) -> dict[str, str]:
        out = {"X-MBX-USED-WEIGHT-1M": str(self.weight_1m)}
        if self.orders_10s is not None:
            out["X-MBX-ORDER-COUNT-10S"] = str(self.orders_10s)
            out["X-MBX-ORDER-COUNT-1D"] = str(self.orders_1d)
        return out

    def rate_limits(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        if self.orders_10s is not None:
            out.append(_limit("ORDERS", "SECOND", 10, self.limits.orders_per_10s, self.orders_10s))
            out.append(_limit("ORDERS", "DAY", 1, self.limits.orders_per_day, self.orders_1d or 0))
        out.append(_limit("REQUEST_WEIGHT", "MINUTE", 1, self.limits.weight_per_minute, self.weight_1m))
        return out


def _limit(kind: str, interval: str, num: int, limit: int, count: int) -> dict[str, object]:
    return {"rateLimitType": kind, "interval": interval, "intervalNum": num, "limit": limit, "count": count}


def limit_error(status: int, msg: str, retry_after: float, code: int = -1003) -> BinanceApiError:
    err = BinanceApiError(code, msg, http_status=status)
    err.retry_after = max(1, math.ceil(retry_after))
    return err


class RequestLimits:
    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        self._weights: dict[str, WeightedLimiter] = {}
        self._orders: dict[str, WeightedLimiter] = {}
        self._strikes: dict[str, int] = {}
        self._banned_until: dict[str, float] = {}
        self.storm = False  # fault injection: every request is over the limit

    def _weight(self, ip: str) -> WeightedLimiter:
        if ip not in self._weights:
            self._weights[ip] = WeightedLimiter(
                [Window("1m", self.limits.weight_per_minute, 60)], cancel_reserve=0
            )
        return self._weights[ip]

    def _order_counts(self, account: str) -> WeightedLimiter:
        if account not in self._orders:
            self._orders[account] = WeightedLimiter(
                [
                    Window("10s", self.limits.orders_per_10s, 10),
                    Window("1d", self.limits.orders_per_day, 86_400),
                ],
                cancel_reserve=0,
            )
        return self._orders[account]

    def current(self, ip: str) -> Usage:
        """What the IP has used this minute, without counting a request (a refused
        request's reply still reports it)."""
        return Usage(self._weight(ip).used("1m"), limits=self.limits)

    def charge(
        self,
        ip: str,
        weight: int,
        account: str | None = None,
        new_orders: int = 0,
        refuse_orders: bool = True,
    ) -> Usage:
        """Count one request carrying `new_orders` orders; raise Binance's 429/418 when a
        limit is passed (with `refuse_orders` off, an order-limit hit is reported in the
        usage instead, for cancelReplace's CANCEL_ONLY mode)."""
        now = time.time()
        if self._banned_until.get(ip, 0) > now:
            until = int(self._banned_until[ip] * 1000)
            raise limit_error(
                418,
                f"Way too much request weight used; IP banned until {until}. "
                "Please use WebSocket Streams for live updates to avoid bans.",
                self._banned_until[ip] - now,
            )
        weights = self._weight(ip)
        try:
            if self.storm:
                raise RateLimited("storm", retry_after=1.0)
            weights.acquire_or_raise(weight)
        except RateLimited as err:
            self._strikes[ip] = self._strikes.get(ip, 0) + 1
            if self._strikes[ip] > BAN_AFTER_429S:
                self._banned_until[ip] = now + BAN_SECONDS
            raise limit_error(
                429,
                "Too much request weight used; current limit is "
                f"{self.limits.weight_per_minute} request weight per 1 MINUTE. "
                "Please use WebSocket Streams for live updates to avoid polling the API.",
                err.retry_after,
            ) from None
        self._strikes[ip] = 0
        if not new_orders or account is None:
            return Usage(weights.used("1m"), limits=self.limits)
        counts = self._order_counts(account)
        try:
            counts.acquire_or_raise(new_orders)
        except RateLimited as err:
            message = (
                f"Too many new orders; current limit is {self.limits.orders_per_10s} orders per 10 SECOND."
            )
            if not refuse_orders:
                return Usage(weights.used("1m"), counts.used("10s"), counts.used("1d"), message, self.limits)
            raise limit_error(429, message, err.retry_after, -1015) from None
        return Usage(weights.used("1m"), counts.used("10s"), counts.used("1d"), limits=self.limits)


ORDERS_REFUSED = "_ordersRefused"  # params marker: the order-rate limit refused the new order


def lenient_about_orders(params: Mapping[str, object]) -> bool:
    """Only cancelReplace's ``orderRateLimitExceededMode=CANCEL_ONLY`` goes on past the
    order-rate limit (to cancel without placing)."""
    return params.get("orderRateLimitExceededMode") == "CANCEL_ONLY"
