"""Engine-held conditional orders and order groups on the spot simulator: a stop on the
touch (which Binance cannot hold) sent as a market order when it fires; an OCO whose
filled leg cancels the other; a bracket whose exits wait for the entry; held orders
restored after a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from oms.engine import Engine
from oms.errors import OmsError
from oms.exchanges import create_exchange
from oms.model import Order, OrderRequest, OrderStatus, OrderType, Side, TriggerPrice
from oms.risk import RiskLimits
from oms.storage.engine_files import EngineFiles
from tests.integration.binance_spot_sim import D, Sim, sim_fixture  # noqa: F401
from tests.integration.waiting import until

VENUE, SYMBOL = "binance:spot", "BTC/USDT"


def req(type_: OrderType, side: Side, qty: str, **kw: Any) -> OrderRequest:
    return OrderRequest(venue=VENUE, symbol=SYMBOL, side=side, type=type_, qty=D(qty), **kw)


async def bracket(engine: Engine) -> list[Order]:
    """Buy 0.1 at 50,000; stop-loss at 49,000, take-profit at 51,000."""
    return await engine.submit_bracket(
        req(OrderType.LIMIT, Side.BUY, "0.1", price=D(50000)),
        req(OrderType.STOP_MARKET, Side.SELL, "0.1", stop_price=D(49000)),
        req(OrderType.TAKE_PROFIT_MARKET, Side.SELL, "0.1", stop_price=D(51000)),
    )


def venue_orders(sim: Sim) -> int:
    return int(sim.on_server(lambda: sum(1 for o in sim.venue.orders.values() if o.account.name == "alice")))


def run(sim: Sim, steps: Any) -> Any:
    async def main() -> Any:
        async with Engine([create_exchange(VENUE, sim.config)]) as engine:
            return await steps(engine)

    return asyncio.run(asyncio.wait_for(main(), 60))


def test_a_stop_on_the_touch_is_held_then_sent_as_a_market_order(sim: Sim) -> None:
    sim.mm("BUY", "1", "49800")

    async def steps(engine: Engine) -> None:
        stop = await engine.submit(
            req(OrderType.STOP_MARKET, Side.SELL, "0.3", stop_price=D(49900), trigger_by=TriggerPrice.BID_ASK)
        )
        assert stop.status is OrderStatus.NEW and venue_orders(sim) == 0, "held here"
        assert engine.risk.open_orders() == 1
        engine.on_market_price(VENUE, SYMBOL, TriggerPrice.BID_ASK, D(49950), Side.SELL)
        await asyncio.sleep(0.1)
        assert stop.status is OrderStatus.NEW
        engine.on_market_price(VENUE, SYMBOL, TriggerPrice.BID_ASK, D(49800), Side.SELL)
        await until(lambda: stop.status is OrderStatus.FILLED)
        assert (stop.filled_qty, stop.avg_price) == (D("0.3"), D(49800))
        assert engine.risk.open_orders() == 0

    run(sim, steps)


def test_a_held_stop_is_amended_here_and_fires_on_its_new_terms(sim: Sim) -> None:
    sim.mm("BUY", "1", "49800")

    async def steps(engine: Engine) -> None:
        stop = await engine.submit(
            req(OrderType.STOP_MARKET, Side.SELL, "0.3", stop_price=D(49000), trigger_by=TriggerPrice.BID_ASK)
        )
        await engine.amend(stop.id, qty=D("0.2"), stop_price=D(49900))
        assert (stop.status, stop.request.qty, stop.request.stop_price) == (
            OrderStatus.NEW,
            D("0.2"),
            D(49900),
        )
        assert venue_orders(sim) == 0 and engine.risk.open_orders() == 1, "still held, reserved once"
        engine.risk.set_limits(RiskLimits(max_order_qty=D("0.25")))
        with pytest.raises(OmsError) as refused:
            await engine.amend(stop.id, qty=D("0.5"))  # over the limit: refused, terms kept
        assert refused.value.code == "MAX_ORDER_QTY"
        assert stop.request.qty == D("0.2") and engine.risk.open_orders() == 1
        engine.on_market_price(VENUE, SYMBOL, TriggerPrice.BID_ASK, D(49850), Side.SELL)  # under the new stop
        await until(lambda: stop.status is OrderStatus.FILLED)
        assert stop.filled_qty == D("0.2") and engine.risk.open_orders() == 0

    run(sim, steps)


def test_an_oco_leg_that_fills_cancels_the_other(sim: Sim) -> None:
    async def steps(engine: Engine) -> None:
        take, stop = await engine.submit_oco(
            req(OrderType.LIMIT, Side.SELL, "0.2", price=D(51000)),
            req(OrderType.STOP_MARKET, Side.SELL, "0.2", stop_price=D(49000), emulate=True),
        )
        assert (take.status, stop.status) == (OrderStatus.NEW, OrderStatus.NEW)
        sim.take("BUY", "0.2")
        await until(lambda: take.status is OrderStatus.FILLED and stop.status is OrderStatus.CANCELED)
        engine.on_market_price(VENUE, SYMBOL, TriggerPrice.LAST, D(48000))
        await asyncio.sleep(0.1)
        assert stop.status is OrderStatus.CANCELED and venue_orders(sim) == 1

    run(sim, steps)


def test_a_brackets_exits_wait_for_the_entry(sim: Sim) -> None:
    async def steps(engine: Engine) -> None:
        entry, stop, take = await bracket(engine)
        engine.on_market_price(VENUE, SYMBOL, TriggerPrice.LAST, D(48000))  # not armed yet
        await asyncio.sleep(0.1)
        assert (stop.status, take.status) == (OrderStatus.NEW, OrderStatus.NEW)
        sim.mm("SELL", "0.1")
        await until(lambda: entry.status is OrderStatus.FILLED)
        sim.mm("BUY", "1", "51000")  # someone to sell to
        engine.on_market_price(VENUE, SYMBOL, TriggerPrice.LAST, D(51100))
        await until(lambda: take.status is OrderStatus.FILLED and stop.status is OrderStatus.CANCELED)
        [position] = engine.positions()
        assert position.qty == 0 and position.realized_pnl == D(100)

    run(sim, steps)


def test_a_bracket_exit_on_a_part_filled_entry_closes_the_filled_part_and_cancels_the_rest(sim: Sim) -> None:
    async def steps(engine: Engine) -> None:
        entry, stop, take = await bracket(engine)
        sim.mm("BUY", "1", "48000")  # below our entry: someone to sell to later
        sim.mm("SELL", "0.04")
        await until(lambda: entry.filled_qty == D("0.04"))
        engine.on_market_price(VENUE, SYMBOL, TriggerPrice.LAST, D(48500))  # armed by the first fill
        await until(lambda: stop.status is OrderStatus.FILLED and take.status is OrderStatus.CANCELED)
        assert (entry.status, entry.filled_qty) == (OrderStatus.CANCELED, D("0.04"))
        assert (stop.request.qty, stop.filled_qty, stop.avg_price) == (D("0.04"), D("0.04"), D(48000))
        [position] = engine.positions()
        assert position.qty == 0 and position.realized_pnl == D(-80)
        assert engine.risk.open_orders() == 0

    run(sim, steps)


def test_held_orders_come_back_after_a_restart(sim: Sim, tmp_path: Path) -> None:
    sim.mm("BUY", "1", "49800")

    async def first() -> str:
        engine = Engine([create_exchange(VENUE, sim.config)])
        files = EngineFiles(engine, tmp_path)
        async with engine:
            files.start()
            stop = await engine.submit(
                req(OrderType.STOP_MARKET, Side.SELL, "0.3", stop_price=D(49900), emulate=True)
            )
            files.stop()
        return stop.id

    stop_id = asyncio.run(asyncio.wait_for(first(), 60))

    async def second() -> None:
        engine = Engine([create_exchange(VENUE, sim.config)])
        await engine.start(recover_from=tmp_path)
        try:
            stop = engine.order(stop_id)
            assert stop.status is OrderStatus.NEW and stop.id in engine.conditional.held
            engine.on_market_price(VENUE, SYMBOL, TriggerPrice.LAST, D(49850))
            await until(lambda: stop.status is OrderStatus.FILLED)
        finally:
            await engine.stop()

    asyncio.run(asyncio.wait_for(second(), 60))


def test_a_bracket_placed_just_before_a_crash_comes_back_linked(sim: Sim, tmp_path: Path) -> None:
    """Its exits and their link are written down before submit_bracket returns, so a
    crash right after (no snapshot at stop) loses neither."""

    async def first() -> list[str]:
        engine = Engine([create_exchange(VENUE, sim.config)])
        files = EngineFiles(engine, tmp_path)
        await engine.start()
        files.start()
        orders = await bracket(engine)
        files.journal.stop()  # the process dies here: no snapshot at stop
        for exchange in engine.exchanges.values():
            await exchange.close()
        return [o.id for o in orders]

    ids = asyncio.run(asyncio.wait_for(first(), 60))

    async def second() -> None:
        engine = Engine([create_exchange(VENUE, sim.config)])
        await engine.start(recover_from=tmp_path)
        try:
            entry, stop, take = (engine.order(i) for i in ids)
            assert {stop.id, take.id} <= set(engine.conditional.held), "the exits are held again"
            sim.mm("SELL", "0.1")
            await until(lambda: entry.status is OrderStatus.FILLED)
            sim.mm("BUY", "1", "48500")  # someone to sell to
            engine.on_market_price(VENUE, SYMBOL, TriggerPrice.LAST, D(48900))
            await until(lambda: stop.status is OrderStatus.FILLED and take.status is OrderStatus.CANCELED)
        finally:
            await engine.stop()

    asyncio.run(asyncio.wait_for(second(), 60))
