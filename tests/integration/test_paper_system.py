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
        system = PaperSystem(tmp_path, grpc_port=0, http_port=0)
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


def test_an_external_nats_is_used_instead_of_the_embedded_one(tmp_path: Path) -> None:
    from oms.bus.embedded_nats import EmbeddedNats

    async def main(url: str) -> int:
        system = PaperSystem(tmp_path / "oms", nats_urls=[url], grpc_port=0, http_port=0)
        await system.start()
        try:
            assert (
                system.urls["nats"] == url
                and not (tmp_path / "oms" / "paper" / "nats" / "nats.conf").exists()
            )
            await system.demo()
            for _ in range(250):
                assert system.engine is not None
                if all(o.status is OrderStatus.FILLED for o in system.engine.orders()):
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)
            nc = await nats.connect(url)
            trades = (await nc.jetstream().stream_info("TRADES")).state.messages
            await nc.close()
            return trades
        finally:
            await system.stop()

    with EmbeddedNats(tmp_path / "external") as server:
        assert asyncio.run(asyncio.wait_for(main(server.url), 90)) >= 2
