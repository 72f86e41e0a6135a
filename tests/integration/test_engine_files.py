"""The engine's files on the spot simulator: an order's life in orders.jsonl and its
fill in trades.jsonl (grep/jq-ready lines), a snapshot and a P&L row at stop."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from oms.engine import Engine
from oms.exchanges import create_exchange
from oms.model import OrderRequest, OrderStatus, OrderType, Side
from oms.storage.engine_files import EngineFiles
from oms.storage.journal import day_dir, read_jsonl
from oms.storage.snapshots import latest_snapshot, pnl_path
from tests.integration.binance_spot_sim import D, Sim, sim_fixture  # noqa: F401


def test_an_orders_life_in_the_files(sim: Sim, tmp_path: Path) -> None:
    async def main() -> str:
        engine = Engine([create_exchange("binance:spot", sim.config)])
        files = EngineFiles(engine, tmp_path)
        async with engine:
            files.start()
            order = await engine.submit(
                OrderRequest(
                    venue="binance:spot",
                    symbol="BTC/USDT",
                    side=Side.BUY,
                    type=OrderType.LIMIT,
                    qty=D("0.1"),
                    price=D(50000),
                )
            )
            sim.mm("SELL", "0.1")
            for _ in range(250):
                if order.status is OrderStatus.FILLED:
                    break
                await asyncio.sleep(0.02)
            files.stop()
        return order.client_order_id

    client_id = asyncio.run(asyncio.wait_for(main(), 60))
    today = day_dir(tmp_path, time.time_ns())
    orders = list(read_jsonl(today / "orders.jsonl"))
    assert {o["client_order_id"] for o in orders} == {client_id}
    assert (orders[0]["status"], orders[-1]["status"]) == ("PENDING_NEW", "FILLED")
    assert all(str(o["time"]).endswith("Z") for o in orders)
    [trade] = list(read_jsonl(today / "trades.jsonl"))
    fill = trade["fill"]
    assert isinstance(fill, dict) and (D(fill["qty"]), D(fill["price"])) == (D("0.1"), D(50000))
    found = latest_snapshot(tmp_path)
    assert found is not None
    _, state = found
    assert state["open_orders"] == [] and state["trading_state"] == "ACTIVE"
    [position] = state["positions"]
    assert (position["qty"], position["avg_entry_price"]) == ("0.1", "50000")
    report = pnl_path(tmp_path, time.time_ns()).read_text().splitlines()
    assert len(report) == 2 and ",binance:spot,BTC/USDT,0.1,50000," in report[1]
    assert json.loads(json.dumps(state))  # plain JSON
