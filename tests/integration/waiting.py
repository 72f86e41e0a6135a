"""Waiting in tests for something that happens on another task or thread (a fill over
the user stream, a reconnect): poll a condition, fail with a clear message at the limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(condition: Callable[[], bool], timeout: float = 5, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not reached within {timeout} s")
        await asyncio.sleep(every)


def until_sync(condition: Callable[[], bool], timeout: float = 5, every: float = 0.02) -> None:
    """The same for blocking tests (a client in the test's thread, the system in another)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(every)
