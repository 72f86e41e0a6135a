"""The engine trading on the Binance Spot simulator while its nats-server is SIGKILLed
and restarted: every event the engine emitted before, during and after the outage is
on JetStream once — orders, fills and positions, nothing lost, nothing doubled — and
the order path never waited on NATS (every submission was accepted)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import nats
import pytest

from oms.bus import publisher as publisher_module
from oms.bus.embedded_nats import EmbeddedNats
from oms.bus.publisher import JetStreamPublisher, address
from oms.engine import Engine, EngineEvent
from oms.exchanges import create_exchange
from oms.model import OrderRequest, OrderStatus
from tests.integration.binance_spot_sim import Sim, limit_buy, sim_fixture  # noqa: F401
from tests.integration.waiting import until

D = Decimal
ORDERS = 150


async def stored_ids(url: str) -> list[str]:
    """The Nats-Msg-Id of every message in the engine's state streams."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    ids = []
    for stream in ("ORDERS", "TRADES", "POSITIONS"):
        info = await js.stream_info(stream)
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(stream, seq)
            ids.append((msg.headers or {}).get("Nats-Msg-Id", ""))
    await nc.close()
    return ids


def test_a_nats_server_killed_while_the_engine_trades_loses_and_doubles_nothing(
    sim: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Acks lost with the server are given up on after this (5 s in production), so the
    # outage below outlasts it: batches are sent again with the same ids.
    monkeypatch.setattr(publisher_module, "ACK_TIMEOUT_S", 0.5)

    async def main() -> tuple[set[str], list[str]]:
        server = EmbeddedNats(tmp_path)
        server.start()
        engine = Engine([create_exchange("binance:spot", sim.config)])

        def to_native(venue: str, symbol: str) -> str:
            return engine.exchanges[venue].symbols.to_native(symbol)  # known once connected

        publisher = JetStreamPublisher(server.url, to_native)
        await publisher.start()
        engine.on_events(publisher.on_events, records=True)
        emitted: set[str] = set()

        def note(event: EngineEvent) -> None:
            emitted.add(address(event, to_native)[1])

        engine.on_event(note)
        try:
            async with engine:
                orders = []
                for i in range(ORDERS):
                    if i == ORDERS // 3:
                        server.kill()  # SIGKILL: acks in flight are lost with it
                    if i == 2 * ORDERS // 3:
                        await asyncio.sleep(1.0)  # down longer than an ack is waited for
                        await asyncio.to_thread(server.start)  # same port, same store
                    orders.append(await engine.submit(buy(i)))
                    if i % 10 == 9:
                        sim.mm("SELL", "0.005")  # fills five of the resting orders
                await until(lambda: sum(o.status is OrderStatus.FILLED for o in orders) == ORDERS // 2, 30)
            await publisher.stop(flush_timeout=30)
            assert publisher.dropped == 0 and publisher.resent > 0, "the outage was felt, nothing dropped"
            return emitted, await stored_ids(server.url)
        finally:
            server.stop()

    emitted, stored = asyncio.run(asyncio.wait_for(main(), 120))
    assert len(stored) == len(set(stored)), "no event stored twice"
    assert set(stored) == emitted, "every event the engine emitted is stored"
    assert sum(i.startswith("fill:") for i in stored) == ORDERS // 2


def buy(i: int) -> OrderRequest:
    return limit_buy("0.001", str(50000 - i % 3))  # a few price levels
