"""Client order ids: made by us, unique, never reused, legal on every venue, and
recognisable as ours after a restart.

An id is ``<prefix><session><counter>``: the configured prefix (1-8 letters/digits,
``ExchangeConfig.client_order_prefix``), a 10-character session stamp (the start time
in milliseconds and two random characters, base 36) and a 6-character counter (base
36: 2.1 billion ids per session). Alphanumeric only and at most 24 characters, so the
same id is legal on Binance (spot and futures: <= 36 of ``[A-Za-z0-9._:/-]``), Bybit
(<= 36), OKX (<= 32 alphanumerics) and Upbit. A new session starts at each process
start, so ids never repeat across restarts (unless two processes with the same prefix
start in the same millisecond and draw the same random pair: 1 in 1,296), and recovery
tells our orders from others by the prefix and shape alone.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
SESSION_LEN = 10
COUNTER_LEN = 6
_PREFIX = re.compile(r"[A-Za-z0-9]{1,8}")


_PAIRS = [a + b for a in _DIGITS for b in _DIGITS]  # 0..1295 as two base-36 digits


def _counter36(value: int) -> str:
    """``_base36(value, COUNTER_LEN)`` for the per-order counter, by table: it runs
    for every order the engine accepts."""
    if value >= 36**COUNTER_LEN:
        raise OverflowError(f"{value} does not fit {COUNTER_LEN} base-36 digits")
    high, low = divmod(value, 1296)
    top, mid = divmod(high, 1296)
    return _PAIRS[top] + _PAIRS[mid] + _PAIRS[low]


def _base36(value: int, width: int) -> str:
    out = ""
    while value:
        value, digit = divmod(value, 36)
        out = _DIGITS[digit] + out
    if len(out) > width:
        raise OverflowError(f"{value} does not fit {width} base-36 digits")
    return out.rjust(width, "0")


class ClientOrderIds:
    """Thread-safe source of client order ids for one connector instance."""

    def __init__(self, prefix: str, now_ms: int | None = None) -> None:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"client order id prefix {prefix!r}: 1-8 letters or digits")
        self.prefix = prefix
        stamp = now_ms if now_ms is not None else time.time_ns() // 1_000_000
        self.session = _base36(stamp, SESSION_LEN - 2) + "".join(secrets.choice(_DIGITS) for _ in range(2))
        self._counter = itertools.count(1)  # next() is atomic under the GIL: no lock
        self._shape = re.compile(re.escape(prefix) + f"[0-9a-z]{{{SESSION_LEN + COUNTER_LEN}}}")

    def next(self) -> str:
        return f"{self.prefix}{self.session}{_counter36(next(self._counter))}"

    def is_ours(self, client_order_id: str) -> bool:
        """Made with this prefix (by any session, this one or an earlier process)."""
        return self._shape.fullmatch(client_order_id) is not None

    def is_this_session(self, client_order_id: str) -> bool:
        return self.is_ours(client_order_id) and client_order_id[len(self.prefix) :].startswith(self.session)
