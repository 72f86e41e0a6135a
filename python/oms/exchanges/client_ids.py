"""Client order ids: made by us, unique, never reused, legal on every venue, and
recognisable as ours after a restart.

An id is ``<prefix><session><counter>``: the configured prefix (1-8 letters/digits,
``ExchangeConfig.client_order_prefix``), a 10-character session stamp (the start time
in milliseconds and two random characters, base 36) and a 6-character counter (base
36: 2.1 billion ids per session). Alphanumeric only and at most 24 characters, so the
same id is legal on Binance, Bybit, OKX and Upbit. ``ClientOrderIds`` is the Rust
core's (``oms_core::client_ids``, where the rules are written down): the engine takes
an id for every order it accepts without a call into Python.
"""

from __future__ import annotations

from oms._core import ClientOrderIds as ClientOrderIds

SESSION_LEN = 10
COUNTER_LEN = 6

__all__ = ["COUNTER_LEN", "SESSION_LEN", "ClientOrderIds"]
