"""What a connector knows of its account between requests.

Each kind (balances, positions, fee rates per symbol, symbol settings, position mode)
is loaded from the venue on first use and again once its TTL has passed; in between,
user-data events keep it current: a balance or position event replaces the entries it
names, and a setting we changed (or the venue reported changed) replaces the cached
one. Reading the account therefore costs a request only once per TTL, and what is read
is never older than the last event. Loads are single-flight (``oms.cache.TTLCache``):
concurrent readers share one request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from oms.cache import TTLCache
from oms.model import (
    Balance,
    BalanceEvent,
    FeeRates,
    Position,
    PositionEvent,
    PositionSide,
    SymbolSettings,
    UserEvent,
)

T = TypeVar("T")
Load = Callable[[], Awaitable[T]]
PositionKey = tuple[str, PositionSide]

ACCOUNT_TTL_S = 60.0  # balances, positions, settings: events keep them current anyway
FEE_TTL_S = 3600.0  # fee tiers change at most daily


class AccountCache:
    def __init__(
        self,
        ttl_s: float = ACCOUNT_TTL_S,
        fee_ttl_s: float = FEE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._items: TTLCache[Hashable, Any] = TTLCache(ttl=ttl_s, max_size=10_000, clock=clock)
        self.fee_ttl_s = fee_ttl_s

    async def balances(self, load: Load[list[Balance]]) -> dict[str, Balance]:
        """Asset -> balance."""

        async def by_asset() -> dict[str, Balance]:
            return {b.asset: b for b in await load()}

        balances: dict[str, Balance] = await self._items.get_or_load("balances", by_asset)
        return dict(balances)

    async def positions(self, load: Load[list[Position]]) -> dict[PositionKey, Position]:
        """(symbol, side) -> position; closed positions are left out."""

        async def by_key() -> dict[PositionKey, Position]:
            return {(p.symbol, p.side): p for p in await load() if p.qty}

        positions: dict[PositionKey, Position] = await self._items.get_or_load("positions", by_key)
        return dict(positions)

    async def fee_rates(self, symbol: str, load: Load[FeeRates]) -> FeeRates:
        rates: FeeRates = await self._items.get_or_load(("fees", symbol), load, ttl=self.fee_ttl_s)
        return rates

    async def symbol_settings(self, symbol: str, load: Load[SymbolSettings]) -> SymbolSettings:
        settings: SymbolSettings = await self._items.get_or_load(("settings", symbol), load)
        return settings

    async def position_mode(self, load: Load[bool]) -> bool:
        """True in hedge mode."""
        hedge: bool = await self._items.get_or_load("hedge", load)
        return hedge

    # ---- kept current ----

    def apply(self, event: UserEvent) -> None:
        """A user-data event: replace the cached entries it names (if that kind is cached)."""
        if isinstance(event, BalanceEvent):
            balances = self._items.get("balances")
            if balances is not None:
                balances.update({b.asset: b for b in event.balances})
        elif isinstance(event, PositionEvent):
            positions = self._items.get("positions")
            if positions is not None:
                for p in event.positions:
                    if p.qty:
                        positions[(p.symbol, p.side)] = p
                    else:
                        positions.pop((p.symbol, p.side), None)

    def cached_settings(self, symbol: str) -> SymbolSettings | None:
        settings: SymbolSettings | None = self._items.get(("settings", symbol))
        return settings

    def set_symbol_settings(self, settings: SymbolSettings) -> None:
        self._items.set(("settings", settings.symbol), settings)

    def set_position_mode(self, hedge: bool) -> None:
        self._items.set("hedge", hedge)

    def forget(self, kind: Hashable) -> None:
        """Drop one kind (``"balances"``, ``"positions"``, ...): the next read reloads it."""
        self._items.delete(kind)
