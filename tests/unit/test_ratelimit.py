"""Rate limiters: token bucket and exchange-style weighted windows."""

from __future__ import annotations

import asyncio
import time

import pytest

from oms.errors import InvalidInput, RateLimited
from oms.ratelimit import TokenBucket, WeightedLimiter, Window


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock(0.0)  # a monotonic clock (small values keep float steps exact enough)
    bucket = TokenBucket(rate=10, capacity=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_time() == pytest.approx(0.1)
    with pytest.raises(RateLimited) as caught:
        bucket.acquire_or_raise()
    assert caught.value.retry_after == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.try_acquire()
    with pytest.raises(InvalidInput):
        bucket.try_acquire(4)


def test_token_bucket_async_acquire_waits() -> None:
    bucket = TokenBucket(rate=100, capacity=1)
    bucket.try_acquire()
    started = time.monotonic()
    asyncio.run(bucket.acquire())
    assert time.monotonic() - started >= 0.005
    bucket.try_acquire()
    with pytest.raises(RateLimited):
        asyncio.run(bucket.acquire(timeout=0.001))


def binance_like(clock: Clock) -> WeightedLimiter:
    return WeightedLimiter(
        [Window("weight_1m", limit=100, seconds=60), Window("orders_10s", limit=20, seconds=10)],
        cancel_reserve=0.2,
        clock=clock,
    )


def test_windows_and_headroom_reserved_for_cancels() -> None:
    clock = Clock(600.0)  # on a minute boundary
    limiter = binance_like(clock)
    for _ in range(16):
        assert limiter.try_acquire(1)
    assert not limiter.try_acquire(1), "80% of orders_10s is for new orders"
    assert limiter.try_acquire(1, cancel=True), "cancels may use the reserve"
    assert limiter.headroom("orders_10s", cancel=True) == 3
    with pytest.raises(RateLimited) as caught:
        limiter.acquire_or_raise(1)
    assert "orders_10s" in caught.value.message
    assert caught.value.retry_after == pytest.approx(10.0)
    clock.now += 10
    assert limiter.used("orders_10s") == 0 and limiter.used("weight_1m") == 17
    assert limiter.try_acquire(5)


def test_usage_headers_correct_the_count() -> None:
    clock = Clock(600.0)
    limiter = binance_like(clock)
    limiter.try_acquire(2)
    limiter.update_from_headers(
        {"X-MBX-USED-WEIGHT-1M": "75", "Content-Type": "application/json"},
        {"x-mbx-used-weight-1m": "weight_1m"},
    )
    assert limiter.used("weight_1m") == 75
    limiter.update_from_headers({"x-mbx-used-weight-1m": "10"}, {"X-MBX-USED-WEIGHT-1M": "weight_1m"})
    assert limiter.used("weight_1m") == 75, "our own higher count wins (requests in flight)"
    assert not limiter.try_acquire(6), "75 + 6 > 80 (100 minus the cancel reserve)"


def test_a_ban_refuses_everything_until_retry_after() -> None:
    clock = Clock(600.0)
    limiter = binance_like(clock)
    limiter.ban(30)
    assert not limiter.try_acquire(1, cancel=True)
    with pytest.raises(RateLimited) as caught:
        limiter.acquire_or_raise(1)
    assert caught.value.retry_after == pytest.approx(30)
    clock.now += 30
    assert limiter.try_acquire(1)


def test_bad_configuration() -> None:
    with pytest.raises(InvalidInput):
        WeightedLimiter([])
    with pytest.raises(InvalidInput):
        WeightedLimiter([Window("w", 1, 1)], cancel_reserve=1.0)
