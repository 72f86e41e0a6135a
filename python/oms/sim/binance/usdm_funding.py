"""Funding of the simulated USD-M venue's perpetuals.

Every 8 hours (00:00, 08:00, 16:00 UTC) each open position pays or receives its
notional at the mark price times the symbol's funding rate: with a positive rate longs
pay and shorts receive. The rate defaults to 0.01% per interval (Binance's interest
component with a zero premium) and can be set per symbol (``set_rate``, or ``POST
/admin/funding``). Funding settles when a mark price arrives past the funding time,
or on demand (``settle``: tests, the admin endpoint). Each payment is a
``FUNDING_FEE`` income row and an ``ACCOUNT_UPDATE`` with reason ``FUNDING_FEE``.
``GET /fapi/v1/premiumIndex`` and ``GET /fapi/v1/fundingRate`` answer from here, and
the ``markPrice`` stream carries the rate (``r``) and next funding time (``T``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from oms.sim.binance.spot_orders import HISTORY, int_param

if TYPE_CHECKING:
    from oms.sim.binance.usdm import FuturesExchange

INTERVAL_MS = 8 * 60 * 60 * 1000
DEFAULT_RATE = Decimal("0.0001")
EIGHT = Decimal("1e-8")


def next_funding_after(now_ms: int) -> int:
    return now_ms + INTERVAL_MS - now_ms % INTERVAL_MS


class Funding:
    def __init__(self, venue: FuturesExchange, now_ms: int) -> None:
        self.venue = venue
        self.rates: dict[str, Decimal] = dict.fromkeys(venue.symbols, DEFAULT_RATE)
        self.next_time: dict[str, int] = dict.fromkeys(venue.symbols, next_funding_after(now_ms))
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)

    def set_rate(self, symbol: str, rate: Decimal) -> None:
        self.rates[symbol] = rate

    def on_mark(self, symbol: str, now_ms: int) -> None:
        """A new mark price: settle every funding time it has passed."""
        while now_ms >= self.next_time[symbol]:
            self.settle(symbol, self.next_time[symbol])
            self.next_time[symbol] += INTERVAL_MS

    def settle(self, symbol: str, at_ms: int) -> None:
        """Pay the symbol's funding for every open position at the current mark."""
        venue, rate = self.venue, self.rates[symbol]
        mark = venue.mark_of(symbol)
        if mark is None:
            return
        self.history.append(
            {"symbol": symbol, "fundingRate": f"{rate:.8f}", "fundingTime": at_ms, "markPrice": f"{mark:.8f}"}
        )
        for account in venue.accounts.values():
            for (position_symbol, _), position in account.positions.items():
                if position_symbol != symbol or not position.qty:
                    continue
                fee = (-position.qty * mark * rate).quantize(EIGHT)
                account.wallet += fee
                venue.record_income(account, symbol, "FUNDING_FEE", fee, at_ms)
                venue.report_account(account, position, "FUNDING_FEE", at_ms, change=fee)

    # ---- REST views ----

    def premium_index(self, params: Mapping[str, str]) -> dict[str, Any] | list[dict[str, Any]]:
        """``GET /fapi/v1/premiumIndex``: one symbol, or all without ``symbol``."""
        now = self.venue.now()
        if params.get("symbol"):
            return self._premium(self.venue.symbol_of(params).symbol, now)
        return [self._premium(symbol, now) for symbol in self.venue.symbols]

    def _premium(self, symbol: str, now: int) -> dict[str, Any]:
        mark = self.venue.mark_of(symbol) or Decimal(0)
        return {
            "symbol": symbol,
            "markPrice": f"{mark:.8f}",
            "indexPrice": f"{mark:.8f}",  # no spot index is modeled: the mark stands in
            "estimatedSettlePrice": f"{mark:.8f}",
            "lastFundingRate": f"{self.rates[symbol]:.8f}",
            "interestRate": f"{DEFAULT_RATE:.8f}",
            "nextFundingTime": self.next_time[symbol],
            "time": now,
        }

    def rate_history(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``GET /fapi/v1/fundingRate``: settled rates, oldest first, at most ``limit``
        (100, max 1000), filtered by ``symbol``/``startTime``/``endTime``."""
        symbol = self.venue.symbol_of(params).symbol if params.get("symbol") else None
        start, end = int_param(params, "startTime", 0), int_param(params, "endTime", 2**63)
        limit = min(int_param(params, "limit", 100), 1000)
        rows = [
            row
            for row in self.history
            if (symbol is None or row["symbol"] == symbol) and start <= row["fundingTime"] <= end
        ]
        return rows[-limit:]
