"""Engine events on a real JetStream (the embedded nats-server): the subjects, ids and
payloads a user reads, and a nats-server killed and restarted mid-burst with nothing
acknowledged lost and nothing stored twice."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import msgspec
import nats
import pytest

from oms.bus import publisher as publisher_module
from oms.bus.embedded_nats import EmbeddedNats
from oms.bus.publisher import JetStreamPublisher, JournalUnavailable
from oms.engine import Engine, EngineEvent, FillUpdate, OrderUpdate, PositionUpdate
from oms.exchanges import create_exchange
from oms.model import OrderRequest, OrderStatus, OrderType, Side
from tests.integration.binance_spot_sim import Sim, limit_buy, sim_fixture  # noqa: F401
from tests.unit.sample_events import fill

D = Decimal
decoder = msgspec.json.Decoder(EngineEvent)


async def stream_messages(url: str, stream: str) -> list[tuple[str, str, EngineEvent]]:
    """(subject, Nats-Msg-Id, event) of every message in `stream`, in stream order."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    info = await js.stream_info(stream)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(stream, seq)
        out.append((msg.subject, (msg.headers or {}).get("Nats-Msg-Id", ""), decoder.decode(msg.data)))
    await nc.close()
    return out


def test_an_orders_life_is_on_jetstream(sim: Sim, tmp_path: Path) -> None:
    async def main() -> None:
        with EmbeddedNats(tmp_path) as server:
            engine = Engine([create_exchange("binance:spot", sim.config)])
            publisher = JetStreamPublisher(server.url, lambda v, s: engine.exchanges[v].symbols.to_native(s))
            await publisher.start()
            engine.on_events(publisher.on_events, records=True)
            async with engine:
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
            await publisher.stop()
            orders = await stream_messages(server.url, "ORDERS")
            trades = await stream_messages(server.url, "TRADES")
            positions = await stream_messages(server.url, "POSITIONS")
        assert {s for s, _, _ in orders} == {"orders.binance.spot.BTCUSDT"}
        statuses = [e.status for _, _, e in orders if isinstance(e, OrderUpdate)]
        assert statuses[0] is OrderStatus.PENDING_NEW and statuses[-1] is OrderStatus.FILLED
        [(where, msg_id, fill)] = trades
        assert where == "trades.binance.spot.BTCUSDT" and isinstance(fill, FillUpdate)
        assert msg_id == f"fill:binance:spot:{fill.fill.trade_id}" and fill.fill.qty == D("0.1")
        [(where, _, position)] = positions
        assert where == "positions.binance.spot" and isinstance(position, PositionUpdate)
        assert (position.qty, position.avg_entry_price) == (D("0.1"), D(50000))

    asyncio.run(asyncio.wait_for(main(), 60))


def fill_event(n: int) -> FillUpdate:
    """Fill number ``n`` (its trade id, sequence and time), for bursts."""
    return fill(n, ts_ns=n)


def test_a_nats_server_killed_mid_burst_loses_and_doubles_nothing(tmp_path: Path) -> None:
    total = 3000

    async def main() -> list[tuple[str, str, EngineEvent]]:
        server = EmbeddedNats(tmp_path)
        server.start()
        publisher = JetStreamPublisher(server.url, lambda v, s: s.replace("/", ""))
        await publisher.start()
        try:
            third = total // 3
            for n in range(1, third + 1):
                publisher.on_event(fill_event(n))
            await asyncio.sleep(0.05)  # some acknowledged, some in flight
            server.kill()  # SIGKILL: no clean shutdown
            for n in range(third + 1, 2 * third + 1):
                publisher.on_event(fill_event(n))  # published while the server is down
            await asyncio.sleep(0.5)
            server.start()  # same port, same store
            for n in range(2 * third + 1, total + 1):
                publisher.on_event(fill_event(n))
            await publisher.stop(flush_timeout=30)
            assert publisher.published >= total and publisher.dropped == 0
            return await stream_messages(server.url, "TRADES")
        finally:
            server.stop()

    stored = asyncio.run(asyncio.wait_for(main(), 90))
    ids = [msg_id for _, msg_id, _ in stored]
    assert len(ids) == len(set(ids)) == total, "every fill once"
    assert {int(i.rsplit(":", 1)[1]) for i in ids} == set(range(1, total + 1))


def test_strict_mode_journals_the_intent_before_sending(
    sim: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With JetStream up, the intent is on INTENTS and the order at the venue; with it
    down, the order is refused (JOURNAL_UNAVAILABLE) and the venue never sees it."""
    monkeypatch.setattr(publisher_module, "INTENT_TIMEOUT_S", 1.0)

    def limit(price: str) -> OrderRequest:
        return limit_buy("0.1", price)

    async def main() -> None:
        server = EmbeddedNats(tmp_path)
        server.start()
        exchange = create_exchange("binance:spot", sim.config)
        publisher = JetStreamPublisher(server.url, lambda v, s: exchange.symbols.to_native(s))
        await publisher.start()
        engine = Engine([exchange], intents=publisher)
        try:
            async with engine:
                first = await engine.submit(limit("49000"))
                assert first.status is OrderStatus.NEW
                [(where, msg_id, intent)] = await stream_messages(server.url, "INTENTS")
                assert (where, msg_id) == ("intents.binance.spot.BTCUSDT", f"intent:{first.client_order_id}")
                assert isinstance(intent, OrderUpdate) and intent.status is OrderStatus.PENDING_NEW
                server.kill()
                with pytest.raises(JournalUnavailable):
                    await engine.submit(limit("48000"))
                [refused] = [o for o in engine.orders() if o.id != first.id]
                assert refused.status is OrderStatus.REJECTED and "JOURNAL_UNAVAILABLE" in (
                    refused.reason or ""
                )
                assert sim.orders_named(refused.client_order_id) == 0, "never sent"
                assert engine.risk.open_orders() == 1
        finally:
            await publisher.stop(flush_timeout=1)
            server.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_long_outage_spills_to_disk_and_nothing_is_lost(tmp_path: Path) -> None:
    """A queue of 100 and NATS down for 1,000 events: the rest go to the spill file and
    are published, each once, when NATS is back."""
    total = 1000

    async def main() -> tuple[list[tuple[str, str, EngineEvent]], int]:
        server = EmbeddedNats(tmp_path / "nats-data")
        server.start()
        publisher = JetStreamPublisher(
            server.url, lambda v, s: s.replace("/", ""), spill_dir=tmp_path / "spill", capacity=100
        )
        await publisher.start()
        try:
            server.kill()
            for n in range(1, total + 1):
                publisher.on_event(fill_event(n))
            assert publisher.spilled > 0 and (tmp_path / "spill" / "spill.tsv").exists()
            await asyncio.sleep(0.3)
            server.start()
            await publisher.stop(flush_timeout=30)
            assert not (tmp_path / "spill" / "spill.tsv").exists()
            return await stream_messages(server.url, "TRADES"), publisher.dropped
        finally:
            server.stop()

    stored, dropped = asyncio.run(asyncio.wait_for(main(), 90))
    ids = {msg_id for _, msg_id, _ in stored}
    assert dropped == 0 and len(stored) == len(ids) == total
