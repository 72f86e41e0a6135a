"""A thread-safe TTL cache with single-flight async loading (no Redis needed).

``get_or_load(key, loader)`` runs the loader once per key however many tasks ask at
the same time; the others await the same result. A failed load is not cached: every
waiter sees the exception and the next call tries again."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from oms.errors import InvalidInput

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING = object()


class TTLCache(Generic[K, V]):
    def __init__(
        self, ttl: float, max_size: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ttl <= 0:
            raise InvalidInput(f"ttl: {ttl} must be positive seconds", field="ttl")
        if max_size is not None and max_size < 1:
            raise InvalidInput(f"max_size: {max_size} must be at least 1", field="max_size")
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._loading: dict[tuple[int, K], asyncio.Future[V]] = {}

    def __len__(self) -> int:
        with self._lock:
            self._purge_expired()
            return len(self._items)

    def __contains__(self, key: object) -> bool:
        return self.get(key, _MISSING) is not _MISSING  # type: ignore[arg-type]

    def get(self, key: K, default: V | None = None) -> V | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return default
            expires, value = entry
            if expires <= self._clock():
                del self._items[key]
                return default
            self._items.move_to_end(key)
            return value

    def set(self, key: K, value: V, ttl: float | None = None) -> None:
        with self._lock:
            self._items[key] = (self._clock() + (ttl or self.ttl), value)
            self._items.move_to_end(key)
            if self.max_size is not None:
                while len(self._items) > self.max_size:
                    self._items.popitem(last=False)  # least recently used

    def delete(self, key: K) -> bool:
        with self._lock:
            return self._items.pop(key, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def _purge_expired(self) -> None:
        now = self._clock()
        for key in [k for k, (expires, _) in self._items.items() if expires <= now]:
            del self._items[key]

    async def get_or_load(self, key: K, loader: Callable[[], Awaitable[V]], ttl: float | None = None) -> V:
        """The cached value, or the result of one `loader()` shared by every concurrent caller."""
        hit = self.get(key, _MISSING)  # type: ignore[arg-type]
        if hit is not _MISSING:
            return hit  # type: ignore[return-value]
        slot = (id(asyncio.get_running_loop()), key)
        with self._lock:
            pending = self._loading.get(slot)
            owner = pending is None
            if pending is None:
                pending = asyncio.get_running_loop().create_future()
                self._loading[slot] = pending
        if not owner:
            return await asyncio.shield(pending)
        try:
            value = await loader()
        except BaseException as err:
            pending.set_exception(err)
            pending.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        else:
            self.set(key, value, ttl)
            pending.set_result(value)
            return value
        finally:
            with self._lock:
                self._loading.pop(slot, None)
