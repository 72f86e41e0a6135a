"""SIGKILL of an engine (strict durability) at each point of an order's life, then a
restart from the same data dir and JetStream: the state converges with the simulated
venue, there is at most one venue order per intent, and the intent ends in one state —
working if the venue has it, REJECTED (never resent) if it never got there."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from oms.bus.embedded_nats import EmbeddedNats
from oms.bus.publisher import JetStreamPublisher
from oms.engine import Engine
from oms.exchanges import create_exchange
from oms.model import OrderStatus
from tests.integration.binance_spot_sim import Sim, sim_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("point", "at_venue", "status"),
    [
        ("after_intent", 0, OrderStatus.REJECTED),
        ("after_ack", 1, OrderStatus.NEW),
        ("after_event", 1, OrderStatus.NEW),
    ],
)
def test_a_crash_at_each_point_converges(
    sim: Sim, tmp_path: Path, point: str, at_venue: int, status: OrderStatus
) -> None:
    config = sim.config.model_dump(mode="json") | {
        "api_key": sim.key.api_key,
        "api_secret": sim.secret,
        "recv_window_ms": 1000,
    }
    with EmbeddedNats(tmp_path) as server:
        args = {"config": config, "nats": server.url, "data": str(tmp_path), "point": point}
        child = subprocess.run(
            [sys.executable, "-m", "tests.integration.engine_child", json.dumps(args)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]

        async def restart() -> tuple[list[OrderStatus], int]:
            exchange = create_exchange("binance:spot", sim.config.model_copy(update={"recv_window_ms": 1000}))
            publisher = JetStreamPublisher(server.url, lambda v, s: exchange.symbols.to_native(s))
            await publisher.start()
            engine = Engine([exchange], intents=publisher)
            try:
                await engine.start(recover_from=tmp_path)
                orders = engine.orders()
                venue = sum(sim.orders_named(o.client_order_id) for o in orders)
                return [o.status for o in orders], venue
            finally:
                await engine.stop()
                await publisher.stop(flush_timeout=1)

        statuses, venue_orders = asyncio.run(asyncio.wait_for(restart(), 60))
    assert statuses == [status], "one order per intent, in one state"
    assert venue_orders == at_venue, "at most one venue order per intent, never resent"
