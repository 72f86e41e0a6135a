"""EngineMetrics on a real Engine (no venue: the events an order's life produces are
emitted as the engine would), read back from the Prometheus text as a scraper would:
latencies counted once per order, rejects by code and source, the timing table bounded,
gauges read at collection (open orders, trading state, venue health, publisher backlog)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from oms import metrics as metrics_module
from oms.bus.publisher import JetStreamPublisher
from oms.engine import Engine, FillUpdate, RiskDecision
from oms.exchanges.base import VenueHealth
from oms.metrics import EngineMetrics, reject_code
from oms.model import Fill, Order, OrderRequest, OrderStatus, OrderType, Side
from oms.risk import TradingState

D = Decimal
VENUE = "binance:spot"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
_ids = itertools.count(1)
_trades = itertools.count(1)


@pytest.fixture(name="engine")
def engine_fixture() -> Iterator[Engine]:
    engine = Engine([])
    yield engine
    asyncio.run(engine.stop())


@pytest.fixture(name="metrics")
def metrics_fixture(engine: Engine) -> EngineMetrics:
    metrics = EngineMetrics(engine)
    metrics.attach()
    return metrics


def scrape(metrics: EngineMetrics) -> Samples:
    """Every sample of the text exposition, by (name, labels)."""
    text = metrics.render().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def new_order(engine: Engine, venue: str = VENUE, price: str = "50000") -> Order:
    """An order accepted by the engine (PENDING_NEW), as ``submit`` leaves it."""
    oid = f"o{next(_ids)}"
    request = OrderRequest(
        venue=venue, symbol="BTC/USDT", side=Side.BUY, type=OrderType.LIMIT, qty=D("0.1"), price=D(price)
    )
    order = Order(id=oid, request=request.validate(), client_order_id=oid)
    engine.registry.add(order)
    engine.emit_order(order)
    return order


def move(engine: Engine, order: Order, status: OrderStatus, reason: str | None = None) -> None:
    order.transition(status, reason=reason)
    engine.emit_order(order)


def fill(engine: Engine, order: Order, qty: str) -> None:
    r = order.request
    trade = Fill(
        venue=r.venue, symbol=r.symbol, trade_id=str(next(_trades)), side=r.side, qty=D(qty), price=D(1)
    )
    order.apply_fill(trade)
    engine.emit(FillUpdate(seq=engine.events.next_seq(), order_id=order.id, account=r.account, fill=trade))
    engine.emit_order(order)


def test_an_answered_and_filled_order_is_timed_once(engine: Engine, metrics: EngineMetrics) -> None:
    order = new_order(engine)
    move(engine, order, OrderStatus.NEW)
    fill(engine, order, "0.04")
    fill(engine, order, "0.06")
    assert order.status is OrderStatus.FILLED
    samples = scrape(metrics)
    assert value(samples, "oms_order_submit_to_ack_seconds_count", venue=VENUE) == 1
    assert value(samples, "oms_order_ack_to_fill_seconds_count", venue=VENUE) == 1
    assert (
        value(samples, "oms_events_total", event="order") == 4
    )  # PENDING_NEW, NEW, PARTIALLY_FILLED, FILLED
    assert value(samples, "oms_events_total", event="fill") == 2
    assert metrics.timed_orders == 0, "an ended order is no longer timed"


def test_a_fill_before_the_answer_is_the_answer(engine: Engine, metrics: EngineMetrics) -> None:
    order = new_order(engine)
    fill(engine, order, "0.1")  # the user stream beat the reply to our request
    samples = scrape(metrics)
    assert value(samples, "oms_order_submit_to_ack_seconds_count", venue=VENUE) == 1
    assert value(samples, "oms_order_ack_to_fill_seconds_count", venue=VENUE) == 1


def test_an_order_not_yet_answered_is_not_counted(engine: Engine, metrics: EngineMetrics) -> None:
    order = new_order(engine)
    move(engine, order, OrderStatus.UNKNOWN)  # sent, outcome not known: no answer yet
    assert value(scrape(metrics), "oms_order_submit_to_ack_seconds_count", venue=VENUE) is None
    move(engine, order, OrderStatus.NEW)  # the venue, when asked
    assert value(scrape(metrics), "oms_order_submit_to_ack_seconds_count", venue=VENUE) == 1


def test_rejects_are_counted_by_code_and_source(engine: Engine, metrics: EngineMetrics) -> None:
    engine.emit(
        RiskDecision(
            seq=engine.events.next_seq(),
            venue=VENUE,
            symbol="BTC/USDT",
            account="default",
            side=Side.BUY,
            qty=D(2),
            code="MAX_ORDER_QTY",
            message="too big",
            ts_ns=0,
        )
    )
    move(
        engine,
        new_order(engine),
        OrderStatus.REJECTED,
        "Order would immediately match (-2010) [POST_ONLY_WOULD_TAKE]",
    )
    move(
        engine,
        new_order(engine),
        OrderStatus.REJECTED,
        "Order would immediately match (-2010) [POST_ONLY_WOULD_TAKE]",
    )
    move(engine, new_order(engine), OrderStatus.REJECTED, "the venue said something long")
    samples = scrape(metrics)
    assert value(samples, "oms_rejects_total", code="MAX_ORDER_QTY", source="risk") == 1
    assert value(samples, "oms_rejects_total", code="POST_ONLY_WOULD_TAKE", source="venue") == 2
    assert value(samples, "oms_rejects_total", code="UNKNOWN", source="venue") == 1, "free text is no label"
    assert value(samples, "oms_order_submit_to_ack_seconds_count", venue=VENUE) == 3, "a refusal is an answer"
    assert value(samples, "oms_events_total", event="risk") == 1


def test_reject_codes_are_bounded_labels() -> None:
    assert (
        reject_code("Account has insufficient balance (-2010) [INSUFFICIENT_BALANCE]")
        == "INSUFFICIENT_BALANCE"
    )
    assert reject_code("EXPIRED_IN_MATCH") == "EXPIRED_IN_MATCH"
    assert reject_code("order 12 rejected by the venue") == "UNKNOWN"
    assert reject_code(None) == "UNKNOWN"


def test_the_timing_table_is_bounded(
    engine: Engine, metrics: EngineMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_module, "MAX_TIMED_ORDERS", 3)
    orders = [new_order(engine) for _ in range(5)]
    assert metrics.timed_orders == 3, "the oldest made room"
    for order in orders:
        move(engine, order, OrderStatus.CANCELED)
    assert metrics.timed_orders == 0


def test_an_order_the_engine_holds_is_not_a_venue_answer(engine: Engine, metrics: EngineMetrics) -> None:
    order = new_order(engine)
    engine.conditional.hold(order)  # NEW here, nothing sent
    assert value(scrape(metrics), "oms_order_submit_to_ack_seconds_count", venue=VENUE) is None
    assert metrics.timed_orders == 0


class Venue:
    """Just enough of an Exchange for ``poll_venues``."""

    def __init__(self, venue: str, health: VenueHealth | None) -> None:
        self.venue = venue
        self._health = health

    async def health(self) -> VenueHealth:
        if self._health is None:
            raise ConnectionError("refused")
        return self._health

    async def close(self) -> None:
        pass


def test_open_orders_and_the_trading_state_are_read_when_collected(
    engine: Engine, metrics: EngineMetrics
) -> None:
    engine.exchanges[VENUE] = Venue(VENUE, None)  # type: ignore[assignment]
    resting = new_order(engine)
    move(engine, resting, OrderStatus.NEW)
    move(engine, new_order(engine, venue="binance:usdm"), OrderStatus.NEW)
    move(engine, new_order(engine), OrderStatus.REJECTED, "[X]")
    samples = scrape(metrics)
    assert (
        value(samples, "oms_open_orders", venue=VENUE) == 1 == len(engine.orders(open_only=True, venue=VENUE))
    )
    assert value(samples, "oms_open_orders", venue="binance:usdm") == 1
    assert value(samples, "oms_trading_state") == 0
    move(engine, resting, OrderStatus.CANCELED)
    engine.risk.set_trading_state(TradingState.HALTED.value)
    samples = scrape(metrics)
    assert value(samples, "oms_open_orders", venue=VENUE) == 0
    assert value(samples, "oms_trading_state") == 2


def test_venue_health_is_polled_into_gauges(engine: Engine, metrics: EngineMetrics) -> None:
    good = VenueHealth(
        venue="a:spot",
        connected=True,
        trading=True,
        clock_offset_ms=-1.5,
        rate_limit_headroom={"weight_1m": 5990},
    )
    engine.exchanges["a:spot"] = Venue("a:spot", good)  # type: ignore[assignment]
    engine.exchanges["b:spot"] = Venue("b:spot", None)  # type: ignore[assignment]
    assert value(scrape(metrics), "oms_venue_connected", venue="a:spot") is None, "not polled yet"
    health = asyncio.run(metrics.poll_venues())
    assert health["b:spot"].last_error is not None and "refused" in health["b:spot"].last_error
    samples = scrape(metrics)
    assert value(samples, "oms_venue_connected", venue="a:spot") == 1
    assert value(samples, "oms_venue_trading", venue="a:spot") == 1
    assert value(samples, "oms_clock_offset_ms", venue="a:spot") == -1.5
    assert value(samples, "oms_rate_limit_headroom", venue="a:spot", limit="weight_1m") == 5990
    assert value(samples, "oms_venue_connected", venue="b:spot") == 0
    assert value(samples, "oms_venue_trading", venue="b:spot") == 0
    assert value(samples, "oms_open_orders", venue="b:spot") == 0, "every venue has an open-orders series"


def test_the_backlog_counts_queued_and_spilled_events(engine: Engine, tmp_path: Path) -> None:
    """A publisher that never reached NATS: events wait on its queue, then in its spill file."""
    publisher = JetStreamPublisher(
        "nats://127.0.0.1:1", lambda venue, symbol: symbol.replace("/", ""), capacity=2, spill_dir=tmp_path
    )
    engine.on_event(publisher.on_event)
    metrics = EngineMetrics(engine, publisher=publisher)
    metrics.attach()
    assert value(scrape(metrics), "oms_event_backlog") == 0
    for _ in range(5):
        new_order(engine)
    assert publisher.spilled == 3 and not publisher.connected
    assert value(scrape(metrics), "oms_event_backlog") == 5 == publisher.backlog
    after_restart = JetStreamPublisher("nats://127.0.0.1:1", lambda venue, symbol: symbol, spill_dir=tmp_path)
    assert after_restart.backlog == 3, "a spill file left by a previous run is counted"


def test_detach_stops_counting_and_registries_are_private(engine: Engine) -> None:
    metrics = EngineMetrics(engine)
    metrics.attach()
    metrics.attach()  # idempotent: one listener
    other = EngineMetrics(engine)  # its own registry: no clash over the names
    new_order(engine)
    metrics.detach()
    new_order(engine)
    assert value(scrape(metrics), "oms_events_total", event="order") == 1
    assert value(scrape(other), "oms_events_total", event="order") is None, "never attached"
    assert REGISTRY.get_sample_value("oms_events_total", {"event": "order"}) is None, (
        "not the global registry"
    )


def test_a_failing_metric_never_fails_the_engine(
    engine: Engine, metrics: EngineMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("bug in a metric")

    monkeypatch.setattr(metrics, "_on_order", broken)
    order = new_order(engine)  # emitted through the listener: no exception reaches the engine
    move(engine, order, OrderStatus.NEW)
    assert value(scrape(metrics), "oms_events_total", event="order") == 2
