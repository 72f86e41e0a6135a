"""TTLCache: expiry, LRU bound, thread safety, one load per key under concurrency."""

from __future__ import annotations

import asyncio
import threading

import pytest

from oms.cache import TTLCache
from oms.errors import InvalidInput


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(ttl=10, clock=clock)
    cache.set("a", 1)
    cache.set("b", 2, ttl=30)
    clock.now += 10
    assert (cache.get("a"), cache.get("b"), len(cache)) == (None, 2, 1)
    assert "b" in cache and "a" not in cache
    assert cache.delete("b") and not cache.delete("b")


def test_size_bound_evicts_least_recently_used() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60, max_size=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("a")
    cache.set("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    with pytest.raises(InvalidInput):
        TTLCache(ttl=0)


def test_threads_share_it_safely() -> None:
    cache: TTLCache[int, int] = TTLCache(ttl=60, max_size=500)

    def work(offset: int) -> None:
        for i in range(5000):
            cache.set((i + offset) % 700, i)
            cache.get(i % 700)

    threads = [threading.Thread(target=work, args=(n * 100,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 500


def test_one_load_per_key_under_concurrency() -> None:
    cache: TTLCache[str, str] = TTLCache(ttl=60)
    calls = 0

    async def load() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return "instruments"

    async def main() -> list[str]:
        return await asyncio.gather(*(cache.get_or_load("binance:spot", load) for _ in range(50)))

    assert asyncio.run(main()) == ["instruments"] * 50
    assert calls == 1
    assert asyncio.run(cache.get_or_load("binance:spot", load)) == "instruments"
    assert calls == 1, "later calls hit the cache"


def test_a_failed_load_is_shared_and_not_cached() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=60)
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise ConnectionError("venue down")

    async def main() -> list[object]:
        return await asyncio.gather(
            *(cache.get_or_load("k", failing) for _ in range(5)), return_exceptions=True
        )

    results = asyncio.run(main())
    assert all(isinstance(r, ConnectionError) for r in results)
    assert calls == 1
    assert cache.get("k") is None

    async def works() -> int:
        return 7

    assert asyncio.run(cache.get_or_load("k", works)) == 7
