"""Recovery from JetStream (the embedded nats-server): an engine publishes its events,
snapshots, goes on trading, and dies without a last snapshot. Its journal files are
lost too, so only JetStream knows what happened after the snapshot: an order placed
and filled then (never asked of the venue: recovery only queries orders still open).
A new engine comes back with it — from the snapshot plus the streams, or, when the
snapshot is corrupt, from the streams alone."""

from __future__ import annotations

import asyncio
import shutil
from decimal import Decimal
from pathlib import Path

from oms.bus.embedded_nats import EmbeddedNats
from oms.bus.publisher import JetStreamPublisher
from oms.bus.replay import StreamReplay
from oms.engine import Engine
from oms.exchanges import create_exchange
from oms.model import OrderStatus
from oms.storage.engine_files import EngineFiles
from oms.storage.snapshots import latest_snapshot, snapshots
from tests.integration.binance_spot_sim import Sim, limit_buy, sim_fixture  # noqa: F401
from tests.integration.waiting import until

D = Decimal


async def first_life(sim: Sim, data: Path, url: str) -> tuple[str, str, int]:
    """a rests part-filled at the snapshot; c is placed and filled after it."""
    engine = Engine([create_exchange("binance:spot", sim.config)])
    publisher = JetStreamPublisher(url, lambda v, s: engine.exchanges[v].symbols.to_native(s))
    await publisher.start()
    engine.on_events(publisher.on_events, records=True)
    streams = StreamReplay(url)
    files = EngineFiles(engine, data, streams=streams)
    await engine.start()
    files.start()
    a = await engine.submit(limit_buy("0.1", "50000"))
    sim.mm("SELL", "0.04")
    await until(lambda: a.filled_qty == D("0.04"))
    await files.snapshot_async()
    c = await engine.submit(limit_buy("0.05", "50100"))  # the better bid: the next sale fills it first
    sim.mm("SELL", "0.05")
    await until(lambda: c.status is OrderStatus.FILLED)
    last_seq = engine.events.last_seq
    await publisher.stop()  # everything reached JetStream; then the process dies
    files.journal.stop()
    await streams.close()
    for exchange in engine.exchanges.values():
        await exchange.close()
    return a.id, c.id, last_seq


async def second_life(sim: Sim, data: Path, url: str, ids: tuple[str, str, int]) -> None:
    a_id, c_id, last_seq = ids
    streams = StreamReplay(url)
    engine = Engine([create_exchange("binance:spot", sim.config)], streams=streams)
    await engine.start(recover_from=data)
    try:
        a, c = engine.order(a_id), engine.order(c_id)
        assert (c.status, c.filled_qty, len(c.trade_ids)) == (OrderStatus.FILLED, D("0.05"), 1)
        assert (a.status, a.filled_qty) == (OrderStatus.PARTIALLY_FILLED, D("0.04"))
        [position] = engine.positions()
        cost = D("0.04") * 50000 + D("0.05") * 50100
        assert (position.qty, position.cost_basis, position.fill_count) == (D("0.09"), cost, 2)
        assert engine.risk.open_orders() == 1, "a's rest reserved again, c's not"
        assert engine.recovery is not None and not engine.recovery.streams_failed
        assert engine.events.next_seq() > last_seq, "numbers are never reused"
    finally:
        await engine.stop()
        await streams.close()


def test_recovery_replays_jetstream_after_the_snapshot(sim: Sim, tmp_path: Path) -> None:
    async def main() -> None:
        with EmbeddedNats(tmp_path / "nats") as server:
            ids = await first_life(sim, tmp_path / "data", server.url)
            shutil.rmtree(tmp_path / "data" / "logs")  # the journal files are lost
            found = latest_snapshot(tmp_path / "data")
            assert found is not None and found[1]["streams"]["ORDERS"] >= 3, "read from where ORDERS stood"
            await second_life(sim, tmp_path / "data", server.url, ids)

    asyncio.run(asyncio.wait_for(main(), 90))


def test_a_corrupt_snapshot_falls_back_to_replaying_the_whole_streams(sim: Sim, tmp_path: Path) -> None:
    async def main() -> None:
        with EmbeddedNats(tmp_path / "nats") as server:
            ids = await first_life(sim, tmp_path / "data", server.url)
            shutil.rmtree(tmp_path / "data" / "logs")
            for path in snapshots(tmp_path / "data"):
                path.write_text('{"seq": 12, "open_orders": [')  # torn
            await second_life(sim, tmp_path / "data", server.url, ids)

    asyncio.run(asyncio.wait_for(main(), 90))
