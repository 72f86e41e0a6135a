"""Client-side rate limiting, so the venue never has to say no.

* :class:`TokenBucket`: a steady rate with bursts (per-client API limits, our own pacing).
* :class:`WeightedLimiter`: exchange-style weighted counters over several fixed windows
  (per second / minute / day, aligned to the clock as Binance's are), corrected from the
  venue's own usage headers, with a share of every window reserved for cancels (so a
  burst of new orders can never block getting out), and a ban mode for 429/418
  ``Retry-After``.

Refusals raise :class:`oms.errors.RateLimited` with ``retry_after`` in seconds."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from oms.errors import InvalidInput, RateLimited

_EPSILON = 1e-9


class TokenBucket:
    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or capacity < 1:
            raise InvalidInput(
                f"rate {rate}/s and capacity {capacity} must be positive (capacity >= 1)", field="rate"
            )
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self, tokens: float = 1) -> float:
        """Seconds until `tokens` would be available (0 if now)."""
        with self._lock:
            self._refill()
            return max(0.0, (tokens - self._tokens - _EPSILON) / self.rate)

    def try_acquire(self, tokens: float = 1) -> bool:
        if tokens > self.capacity:
            raise InvalidInput(
                f"tokens: {tokens} exceeds the bucket capacity {self.capacity}", field="tokens"
            )
        with self._lock:
            self._refill()
            if self._tokens + _EPSILON < tokens:  # float clock arithmetic: 0.1 s x 10/s ~ 0.9999999
                return False
            self._tokens -= tokens
            return True

    def acquire_or_raise(self, tokens: float = 1) -> None:
        if not self.try_acquire(tokens):
            wait = self.wait_time(tokens)
            raise RateLimited(
                f"rate limit of {self.rate:g}/s reached; retry in {wait:.3f} s", retry_after=wait
            )

    async def acquire(self, tokens: float = 1, timeout: float | None = None) -> None:
        """Wait for `tokens`; RateLimited if that would take longer than `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.try_acquire(tokens):
            wait = self.wait_time(tokens)
            if deadline is not None and time.monotonic() + wait > deadline:
                raise RateLimited(
                    f"rate limit of {self.rate:g}/s: no room within {timeout} s", retry_after=wait
                )
            await asyncio.sleep(wait)


class Window(NamedTuple):
    """One counter: at most `limit` weight per `seconds`, reset on clock boundaries."""

    name: str
    limit: int
    seconds: float


class WeightedLimiter:
    def __init__(
        self,
        windows: Sequence[Window],
        cancel_reserve: float = 0.1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not windows or not 0 <= cancel_reserve < 1:
            raise InvalidInput("need at least one window and 0 <= cancel_reserve < 1", field="windows")
        self.windows = {w.name: w for w in windows}
        self.cancel_reserve = cancel_reserve
        self._clock = clock
        self._used = {w.name: 0 for w in windows}
        self._period = {w.name: -1 for w in windows}
        self._banned_until = 0.0
        self._lock = threading.Lock()

    def _roll(self, now: float) -> None:
        for name, window in self.windows.items():
            period = math.floor(now / window.seconds)
            if period != self._period[name]:
                self._period[name] = period
                self._used[name] = 0

    def _allowed(self, window: Window, cancel: bool) -> int:
        return window.limit if cancel else math.floor(window.limit * (1 - self.cancel_reserve))

    def _blocking(self, weight: int, cancel: bool, now: float) -> tuple[str, float] | None:
        if now < self._banned_until:
            return "ban", self._banned_until - now
        for name, window in self.windows.items():
            if self._used[name] + weight > self._allowed(window, cancel):
                reset = (self._period[name] + 1) * window.seconds
                return name, max(0.0, reset - now)
        return None

    def try_acquire(self, weight: int = 1, *, cancel: bool = False) -> bool:
        return self._acquire(weight, cancel) is None

    def _acquire(self, weight: int, cancel: bool) -> tuple[str, float] | None:
        with self._lock:
            now = self._clock()
            self._roll(now)
            blocked = self._blocking(weight, cancel, now)
            if blocked is None:
                for name in self._used:
                    self._used[name] += weight
            return blocked

    def acquire_or_raise(self, weight: int = 1, *, cancel: bool = False) -> None:
        blocked = self._acquire(weight, cancel)
        if blocked is not None:
            name, wait = blocked
            what = "the venue asked us to back off" if name == "ban" else f"window {name} is full"
            raise RateLimited(
                f"request of weight {weight} refused: {what}; retry in {wait:.3f} s", retry_after=wait
            )

    async def acquire(self, weight: int = 1, *, cancel: bool = False, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (blocked := self._acquire(weight, cancel)) is not None:
            wait = blocked[1]
            if deadline is not None and time.monotonic() + wait > deadline:
                raise RateLimited(f"no room for weight {weight} within {timeout} s", retry_after=wait)
            await asyncio.sleep(max(wait, 0.001))

    def used(self, name: str) -> int:
        with self._lock:
            self._roll(self._clock())
            return self._used[name]

    def headroom(self, name: str, *, cancel: bool = False) -> int:
        with self._lock:
            self._roll(self._clock())
            return self._allowed(self.windows[name], cancel) - self._used[name]

    def update_used(self, name: str, used: int) -> None:
        """The venue's own count for a window. We keep the larger of ours and theirs:
        requests still in flight are in ours but not yet in theirs. A window we do not
        keep is ignored."""
        if name not in self._used:
            return
        with self._lock:
            self._roll(self._clock())
            self._used[name] = max(self._used[name], used)

    def update_from_headers(self, headers: Mapping[str, str], names: Mapping[str, str]) -> None:
        """Apply usage headers, e.g. ``{"x-mbx-used-weight-1m": "weight_1m"}`` (case-insensitive)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        for header, window in names.items():
            value = lowered.get(header.lower())
            if value is not None and value.strip().isdigit():
                self.update_used(window, int(value))

    def ban(self, seconds: float) -> None:
        """The venue answered 429/418 with Retry-After: refuse everything until then."""
        with self._lock:
            self._banned_until = max(self._banned_until, self._clock() + max(seconds, 0.0))
