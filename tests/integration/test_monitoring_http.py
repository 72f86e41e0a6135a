"""The monitoring endpoints over loopback HTTP, with the engine on the simulated Binance
Spot venue (official SDK) and a real nats-server: what an operator's scraper and probes
see. /metrics parses as Prometheus text with an order's latencies, rejects by code and
source, open orders and venue health; /readyz is 503 before the engine has started, 200
once it has and the venue is healthy, 503 again when the venue's connection drops or
the publisher loses NATS; /healthz is 200 throughout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from oms.bus.embedded_nats import EmbeddedNats
from oms.bus.publisher import JetStreamPublisher
from oms.engine import Engine, RiskDecision
from oms.errors import RiskRejected
from oms.exchanges import create_exchange
from oms.exchanges.binance import connector
from oms.exchanges.binance.spot import BinanceSpot
from oms.metrics import EngineMetrics
from oms.model import OrderRequest, OrderStatus, OrderType, Side
from oms.monitoring_http import MonitoringServer, engine_readiness
from oms.risk import RiskLimits
from tests.integration.binance_spot_sim import Sim, sim_fixture  # noqa: F401
from tests.integration.waiting import until

D = Decimal
VENUE, SYMBOL = "binance:spot", "BTC/USDT"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def request(side: Side, qty: str, price: str, type_: OrderType = OrderType.LIMIT) -> OrderRequest:
    return OrderRequest(venue=VENUE, symbol=SYMBOL, side=side, type=type_, qty=D(qty), price=D(price))


class Http:
    """GETs against the server, as a probe or a scraper makes them."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url

    async def json(self, path: str) -> tuple[int, dict[str, Any]]:
        async with self.session.get(self.url + path) as response:
            return response.status, await response.json()

    async def metrics(self) -> Samples:
        async with self.session.get(self.url + "/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
            text = await response.text()
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


Steps = Callable[[Engine, EngineMetrics, Http], Awaitable[None]]


def serve(engine: Engine, steps: Steps, publisher: JetStreamPublisher | None = None) -> None:
    """The engine (not started: ``steps`` starts it), its metrics and the endpoints."""

    async def main() -> None:
        metrics = EngineMetrics(engine, publisher=publisher)
        metrics.attach()
        server = MonitoringServer(metrics, engine_readiness(engine, publisher, metrics=metrics))
        url = await server.start()
        assert url.startswith("http://127.0.0.1:")
        try:
            async with aiohttp.ClientSession() as session:
                await steps(engine, metrics, Http(session, url))
        finally:
            await server.stop()
            await engine.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_metrics_and_probes_follow_an_engine_on_the_venue(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connector, "RECONNECT_DELAYS_S", (30.0,))  # a dropped session stays down
    sim.mm("SELL", "1", "50100")  # an ask for the post-only order to cross

    async def steps(engine: Engine, metrics: EngineMetrics, http: Http) -> None:
        assert await http.json("/healthz") == (200, {"status": "ok"})
        status, body = await http.json("/readyz")
        assert (status, body["status"], body["components"]["engine"]) == (503, "not ready", "not started")

        await engine.start()
        await metrics.poll_venues()
        status, body = await http.json("/readyz")
        assert (status, body) == (
            200,
            {"status": "ready", "components": {"engine": "ok", f"venue {VENUE}": "ok"}},
        )

        await an_order_filled_a_resting_one_and_two_refusals(sim, engine, http)
        await the_venue_drops_its_connection(sim, engine, metrics, http)
        assert await http.json("/healthz") == (200, {"status": "ok"})

    serve(Engine([create_exchange(VENUE, sim.config)]), steps)


async def an_order_filled_a_resting_one_and_two_refusals(sim: Sim, engine: Engine, http: Http) -> None:
    filled = await engine.submit(request(Side.BUY, "0.1", "50000"))
    samples = await http.metrics()
    assert value(samples, "oms_order_submit_to_ack_seconds_count", venue=VENUE) == 1
    assert value(samples, "oms_order_ack_to_fill_seconds_count", venue=VENUE) is None, "not filled yet"
    assert value(samples, "oms_open_orders", venue=VENUE) == 1

    sim.mm("SELL", "0.1")
    await until(lambda: filled.status is OrderStatus.FILLED)
    resting = await engine.submit(request(Side.BUY, "0.1", "40000"))
    assert resting.status is OrderStatus.NEW
    engine.risk.set_limits(RiskLimits(max_order_qty="1"))
    with pytest.raises(RiskRejected):
        await engine.submit(request(Side.BUY, "2", "40000"))
    refused = await engine.submit(request(Side.BUY, "0.1", "50100", OrderType.LIMIT_MAKER))
    assert refused.status is OrderStatus.REJECTED

    samples = await http.metrics()
    assert value(samples, "oms_order_ack_to_fill_seconds_count", venue=VENUE) == 1
    assert value(samples, "oms_order_submit_to_ack_seconds_count", venue=VENUE) == 3, (
        "filled, resting, refused"
    )
    assert value(samples, "oms_rejects_total", code="MAX_ORDER_QTY", source="risk") == 1
    assert value(samples, "oms_rejects_total", code="POST_ONLY_WOULD_TAKE", source="venue") == 1
    assert value(samples, "oms_open_orders", venue=VENUE) == 1 == len(engine.orders(open_only=True))
    assert value(samples, "oms_events_total", event="fill") == 1
    assert value(samples, "oms_events_total", event="risk") == 1
    assert value(samples, "oms_trading_state") == 0
    assert value(samples, "oms_venue_connected", venue=VENUE) == 1
    assert value(samples, "oms_venue_trading", venue=VENUE) == 1
    headroom = value(samples, "oms_rate_limit_headroom", venue=VENUE, limit="weight_1m")
    assert headroom is not None and headroom > 0
    assert value(samples, "oms_clock_offset_ms", venue=VENUE) is not None


async def the_venue_drops_its_connection(
    sim: Sim, engine: Engine, metrics: EngineMetrics, http: Http
) -> None:
    spot = engine.exchanges[VENUE]
    assert isinstance(spot, BinanceSpot) and spot.ws is not None
    session = spot.ws
    sim.on_server(lambda: asyncio.ensure_future(sim.server.disconnect_sockets()))
    await until(lambda: not session.connected)
    await metrics.poll_venues()
    status, body = await http.json("/readyz")
    assert status == 503 and body["status"] == "not ready"
    assert body["components"][f"venue {VENUE}"].startswith("disconnected")
    assert body["components"]["engine"] == "ok"
    assert value(await http.metrics(), "oms_venue_connected", venue=VENUE) == 0


def test_readiness_follows_the_publishers_connection_to_nats(tmp_path: Path) -> None:
    nats_server = EmbeddedNats(tmp_path)
    publisher = JetStreamPublisher(nats_server.start(), lambda venue, symbol: symbol.replace("/", ""))
    engine = Engine([])
    engine.on_events(publisher.on_events, records=True)

    async def steps(engine: Engine, metrics: EngineMetrics, http: Http) -> None:
        await engine.start()
        status, body = await http.json("/readyz")
        assert (status, body["components"]["publisher"]) == (503, "not connected to NATS")
        await publisher.start()
        try:
            ready = {"status": "ready", "components": {"engine": "ok", "publisher": "ok"}}
            assert await http.json("/readyz") == (200, ready)
            await asyncio.to_thread(nats_server.stop)
            await nats_gone(engine, publisher, http)
        finally:
            await asyncio.wait_for(publisher.stop(flush_timeout=0), 10)

    try:
        serve(engine, steps, publisher)
    finally:
        nats_server.stop()


async def nats_gone(engine: Engine, publisher: JetStreamPublisher, http: Http) -> None:
    await until(lambda: not publisher.connected)
    for _ in range(300):  # events while NATS is away wait in the publisher
        engine.emit(refusal(engine))
    backlog = value(await http.metrics(), "oms_event_backlog")
    assert backlog is not None and 0 < backlog <= 300
    status, body = await http.json("/readyz")
    assert (status, body["status"], body["components"]["publisher"]) == (
        503,
        "not ready",
        "not connected to NATS",
    )


def refusal(engine: Engine) -> RiskDecision:
    return RiskDecision(
        seq=engine.events.next_seq(),
        venue=VENUE,
        symbol=SYMBOL,
        account="default",
        side=Side.BUY,
        qty=D(1),
        code="MAX_ORDER_QTY",
        message="too big",
        ts_ns=1,
    )
