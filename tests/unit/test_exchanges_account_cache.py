"""AccountCache: one load per TTL (shared by concurrent readers), kept current by
user-data events in between, settings replaced when changed."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from oms.exchanges.account_cache import AccountCache
from oms.model import (
    Balance,
    BalanceEvent,
    FeeRates,
    MarginMode,
    Position,
    PositionEvent,
    PositionSide,
    SymbolSettings,
)

D = Decimal


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_balances_load_once_per_ttl_and_follow_events() -> None:
    clock, loads = Clock(), []

    async def load() -> list[Balance]:
        loads.append(clock.now)
        await asyncio.sleep(0.01)
        return [Balance(venue="v", asset="BTC", free=D(1)), Balance(venue="v", asset="USDT", free=D(100))]

    async def main() -> None:
        cache = AccountCache(ttl_s=60, clock=clock)
        first, second = await asyncio.gather(cache.balances(load), cache.balances(load))
        assert first == second and loads == [0.0], "concurrent readers share one load"
        cache.apply(BalanceEvent(balances=[Balance(venue="v", asset="BTC", free=D("0.5"), locked=D("0.5"))]))
        now = await cache.balances(load)
        assert (now["BTC"].free, now["BTC"].locked, now["USDT"].free) == (D("0.5"), D("0.5"), D(100))
        assert loads == [0.0], "an event updates without a request"
        clock.now = 61
        assert (await cache.balances(load))["BTC"].free == D(1) and loads == [0.0, 61]

    asyncio.run(main())


def test_events_before_the_first_load_are_not_a_partial_view() -> None:
    async def main() -> None:
        cache = AccountCache()
        cache.apply(BalanceEvent(balances=[Balance(venue="v", asset="BTC", free=D(2))]))

        async def load() -> list[Balance]:
            return [Balance(venue="v", asset="BTC", free=D(1)), Balance(venue="v", asset="ETH", free=D(3))]

        assert set(await cache.balances(load)) == {"BTC", "ETH"}

    asyncio.run(main())


def test_positions_open_change_and_close_by_event() -> None:
    def pos(qty: str) -> Position:
        return Position(venue="v", symbol="BTC/USDT:USDT", qty=D(qty), side=PositionSide.BOTH)

    async def main() -> None:
        cache = AccountCache()

        async def load() -> list[Position]:
            return [pos("0.1"), Position(venue="v", symbol="ETH/USDT:USDT", qty=D(0))]

        key = ("BTC/USDT:USDT", PositionSide.BOTH)
        assert list(await cache.positions(load)) == [key], "flat positions are left out"
        cache.apply(PositionEvent(positions=[pos("0.3")]))
        assert (await cache.positions(load))[key].qty == D("0.3")
        cache.apply(PositionEvent(positions=[pos("0")]))
        assert await cache.positions(load) == {}

    asyncio.run(main())


def test_fee_rates_and_settings() -> None:
    clock, loads = Clock(), []

    async def fees() -> FeeRates:
        loads.append("fees")
        return FeeRates(venue="v", symbol="BTC/USDT", maker=D("0.0002"), taker=D("0.0005"))

    async def settings() -> SymbolSettings:
        loads.append("settings")
        return SymbolSettings(venue="v", symbol="BTC/USDT", leverage=D(20), margin_mode=MarginMode.CROSS)

    async def main() -> None:
        cache = AccountCache(ttl_s=60, fee_ttl_s=3600, clock=clock)
        await cache.fee_rates("BTC/USDT", fees)
        clock.now = 120  # past the account TTL, inside the fee TTL
        assert (await cache.fee_rates("BTC/USDT", fees)).taker == D("0.0005") and loads == ["fees"]
        assert cache.cached_settings("BTC/USDT") is None
        await cache.symbol_settings("BTC/USDT", settings)
        changed = SymbolSettings(venue="v", symbol="BTC/USDT", leverage=D(5), margin_mode=MarginMode.ISOLATED)
        cache.set_symbol_settings(changed)
        assert await cache.symbol_settings("BTC/USDT", settings) == changed
        assert loads == ["fees", "settings"]

    asyncio.run(main())
