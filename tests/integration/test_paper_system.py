"""``oms run`` in-process: simulators, embedded NATS, engine and files come up on
loopback, the demo orders trade on both markets, their fills are in trades.jsonl and
on JetStream, and everything stops cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats

from oms.model import OrderStatus
from oms.paper_system import PaperSystem
from oms.storage.journal import read_jsonl


def test_the_paper_system_trades_and_records(tmp_path: Path) -> None:
    async def main() -> tuple[list[dict[str, object]], int]:
        system = PaperSystem(tmp_path)
        await system.start()
        try:
            await system.demo()
            assert system.engine is not None
            orders = system.engine.orders()
            assert {o.request.venue for o in orders} == {"binance:spot", "binance:usdm"}
            for _ in range(250):
                if all(o.status is OrderStatus.FILLED for o in orders):
                    break
                await asyncio.sleep(0.02)
            assert all(o.status is OrderStatus.FILLED for o in orders), [o.status for o in orders]
            await asyncio.sleep(0.2)  # the publisher's last batch
            nc = await nats.connect(system.urls["nats"])
            trades = (await nc.jetstream().stream_info("TRADES")).state.messages
            await nc.close()
        finally:
            await system.stop()
        [day] = list((tmp_path / "paper" / "logs").glob("*/*/*"))
        return list(read_jsonl(day / "trades.jsonl")), trades

    fills, on_jetstream = asyncio.run(asyncio.wait_for(main(), 90))
    venues = sorted(str(f["fill"]["venue"]) for f in fills)  # type: ignore[index]
    assert venues[0] == "binance:spot" and venues[-1] == "binance:usdm"
    assert on_jetstream == len(fills)
