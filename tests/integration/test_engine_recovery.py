"""Recovery on the spot simulator: an engine stops abruptly (no final snapshot) with
one order part-filled and one resting; while it is down the first fills completely.
A new engine from the same data dir comes back with the truth: the missed fill
applied once, positions exact (nothing counted twice), the resting order still
tracked and reserved, and orders accepted only once it has reconciled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from oms.engine import Engine
from oms.engine.recovery import Recovering
from oms.exchanges import create_exchange
from oms.model import OrderStatus, OrderType, Side
from oms.storage.engine_files import EngineFiles
from tests.integration.binance_spot_sim import D, Sim, limit_buy, sim_fixture  # noqa: F401
from tests.integration.waiting import until


def test_a_restart_comes_back_with_the_venues_truth(sim: Sim, tmp_path: Path) -> None:
    async def first_life() -> tuple[str, str]:
        engine = Engine([create_exchange("binance:spot", sim.config)])
        files = EngineFiles(engine, tmp_path)
        await engine.start()
        files.start()
        a = await engine.submit(limit_buy("0.1", "50000"))
        b = await engine.submit(limit_buy("0.2", "48000"))
        sim.mm("SELL", "0.04")
        await until(lambda: a.filled_qty == D("0.04"))
        files.snapshot()
        sim.mm("SELL", "0.02")  # after the snapshot: only in the journal
        await until(lambda: a.filled_qty == D("0.06"))
        files.journal.stop()  # the process dies: no final snapshot, nothing canceled
        for exchange in engine.exchanges.values():
            await exchange.close()
        return a.id, b.id

    a_id, b_id = asyncio.run(asyncio.wait_for(first_life(), 60))
    sim.mm("SELL", "0.04")  # while nobody watches: a is now filled at the venue

    async def second_life() -> None:
        engine = Engine([create_exchange("binance:spot", sim.config)])
        starting = asyncio.ensure_future(engine.start(recover_from=tmp_path))
        refused = False
        while not starting.done() and not refused:
            if engine._recovering:
                with pytest.raises(Recovering):
                    await engine.submit(limit_buy("0.1", "47000"))
                refused = True
            await asyncio.sleep(0.001)
        await starting
        assert refused, "a submission during recovery was refused"
        try:
            a, b = engine.order(a_id), engine.order(b_id)
            assert (a.status, a.filled_qty, len(a.trade_ids)) == (OrderStatus.FILLED, D("0.1"), 3)
            assert (b.status, b.filled_qty) == (OrderStatus.NEW, D(0))
            [position] = engine.positions()
            assert (position.qty, position.avg_entry_price) == (D("0.1"), D(50000)), "each fill once"
            assert engine.risk.open_orders() == 1 and engine.risk.position(
                "default", "binance:spot", "BTC/USDT"
            ) == D("0.1")
            assert engine.recovery is not None and engine.recovery.unrecognized == []
            c = await engine.submit(limit_buy("0.1", "47000"))
            assert c.status is OrderStatus.NEW
            sim.mm("SELL", "0.2", None)  # b fills now, through the live stream
            await until(lambda: b.status is OrderStatus.FILLED)
            [position] = engine.positions()
            assert position.qty == D("0.3")
        finally:
            await engine.stop()

    asyncio.run(asyncio.wait_for(second_life(), 60))


def test_an_order_of_ours_with_no_record_is_adopted_and_a_foreign_one_left_alone(
    sim: Sim, tmp_path: Path
) -> None:
    """An earlier life placed an order and lost every record of it (a wiped data dir);
    someone else placed another by hand. The restart adopts ours from the venue's
    description, fills included, and only reports the foreign one."""
    ours = create_exchange("binance:spot", sim.config).new_client_order_id()
    common = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1"}
    sim.on_server(lambda: sim.venue.new_order("alice", common | {"price": "50000", "newClientOrderId": ours}))
    sim.on_server(
        lambda: sim.venue.new_order("alice", common | {"price": "49000", "newClientOrderId": "by-hand-1"})
    )
    sim.mm("SELL", "0.03")  # part of ours fills

    async def restart() -> None:
        engine = Engine([create_exchange("binance:spot", sim.config)])
        await engine.start(recover_from=tmp_path)
        try:
            assert engine.recovery is not None
            assert engine.recovery.adopted == [("binance:spot", ours)]
            assert engine.recovery.foreign == [("binance:spot", "by-hand-1")]
            order = engine.order(ours)
            r = order.request
            assert (r.side, r.type, r.qty, r.price) == (Side.BUY, OrderType.LIMIT, D("0.1"), D(50000))
            assert (order.status, order.filled_qty) == (OrderStatus.PARTIALLY_FILLED, D("0.03"))
            [position] = engine.positions()
            assert position.qty == D("0.03")
            assert engine.risk.open_orders() == 1  # the rest of ours is reserved
            canceled = await engine.cancel(ours)
            assert canceled.status is OrderStatus.CANCELED
            assert sim.order_named("by-hand-1").is_open  # never touched
        finally:
            await engine.stop()

    asyncio.run(asyncio.wait_for(restart(), 60))
