"""In-memory metrics of a running engine, in the Prometheus text format.

Why here and like this: an operator needs to see, without reading logs, how fast venues
answer our orders, how often something refuses them, whether each venue is connected
and trading, and whether events are piling up on the way to JetStream. Counting costs
the order path one quick listener call per event (``Engine.on_event``: a dict lookup
and a histogram update); everything that can be read off the engine instead (open
orders, the trading state, the publisher's backlog) is read only when metrics are
collected, and venue health is fetched off the order path by ``poll_venues`` / ``run``.
Each ``EngineMetrics`` has a private ``CollectorRegistry`` (never the global one), so
two engines in one process (or tests) never share a series.

Latencies are measured with ``time.monotonic()`` when the listener receives the event
(listeners run synchronously inside ``Engine.emit``, so receipt is emission); the
events' own ``ts_ns`` is wall clock, set by venues too, and is not used.

Collection reads the engine, so it must run on the engine's event loop thread (the
aiohttp server in ``oms.monitoring_http`` does), not on a thread of its own.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from oms.engine import Engine
from oms.engine.events import (
    EngineEvent,
    FillUpdate,
    FundingUpdate,
    OrderUpdate,
    PositionUpdate,
    RiskDecision,
)
from oms.exchanges.base import Exchange, VenueHealth
from oms.model import OrderStatus
from oms.model.state import TERMINAL
from oms.risk import TradingState

log = logging.getLogger(__name__)

#: 50 µs (a loopback round trip is ~105 µs) to 10 s (a venue in trouble).
LATENCY_BUCKETS: Final = (
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
#: The venue's first answer to a new order (EXPIRED: an IOC/FOK that found nothing).
ANSWERED: Final = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.TRIGGERED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
    }
)
TRADING_STATE_VALUES: Final = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
EVENT_NAMES: Final[dict[type, str]] = {
    OrderUpdate: "order",
    FillUpdate: "fill",
    PositionUpdate: "position",
    FundingUpdate: "funding",
    RiskDecision: "risk",
}
#: Orders timed at once at most (those that never end would otherwise stay forever).
MAX_TIMED_ORDERS: Final = 100_000
HEALTH_TIMEOUT_S: Final = 5.0
_CODE_AT_END = re.compile(r"\[([A-Z][A-Z0-9_]*)\]\s*$")  # "... [INSUFFICIENT_BALANCE]" (tracking.refused)
_BARE_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")  # a venue's own code, e.g. Binance's "r" field


class EventPublisher(Protocol):
    """What monitoring reads off the JetStream publisher (``JetStreamPublisher``)."""

    @property
    def backlog(self) -> int: ...

    @property
    def connected(self) -> bool: ...


@dataclass
class _Timing:
    venue: str
    submitted: float
    acked: float | None = None
    filled: bool = False


def reject_code(reason: str | None) -> str:
    """A bounded label from an order's ``reason``: the code in ``[...]`` at its end, or
    the reason itself when it is a bare code; never free text (it would grow series)."""
    if reason:
        found = _CODE_AT_END.search(reason)
        if found:
            return found.group(1)
        if _BARE_CODE.match(reason.strip()):
            return reason.strip()
    return "UNKNOWN"


class EngineMetrics:
    """Metrics of one engine: attach it before ``engine.start()`` and serve ``render()``."""

    def __init__(
        self,
        engine: Engine,
        *,
        registry: CollectorRegistry | None = None,
        publisher: EventPublisher | None = None,
    ) -> None:
        self.engine = engine
        self.publisher = publisher
        self.registry = registry if registry is not None else CollectorRegistry()
        #: The last health of each venue (``poll_venues``); readiness reads it too.
        self.venue_health: dict[str, VenueHealth] = {}
        self._timings: dict[str, _Timing] = {}
        self._detach: Callable[[], None] | None = None
        self._define(self.registry)
        self.registry.register(_StateCollector(self))

    def _define(self, registry: CollectorRegistry) -> None:
        self.submit_to_ack = Histogram(
            "oms_order_submit_to_ack_seconds",
            "From an order's PENDING_NEW to the venue's first answer (NEW, filled, triggered, rejected).",
            ["venue"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.ack_to_fill = Histogram(
            "oms_order_ack_to_fill_seconds",
            "From the venue's acknowledgement of an order to its first fill (resting time included).",
            ["venue"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.rejects = Counter(
            "oms_rejects_total",
            "Orders refused, by code and by who refused them (risk: pre-trade checks; venue).",
            ["code", "source"],
            registry=registry,
        )
        self.events_total = Counter(
            "oms_events_total",
            "Engine events, by kind (order, fill, position, risk).",
            ["event"],
            registry=registry,
        )

    # ---- the engine's side ----

    def attach(self) -> Callable[[], None]:
        """Listen to the engine's events (idempotent); returns the function that stops it."""
        if self._detach is None:
            self._detach = self.engine.on_event(self.on_event)
        return self.detach

    def detach(self) -> None:
        if self._detach is not None:
            self._detach()
            self._detach = None

    def on_event(self, event: EngineEvent) -> None:
        """Engine listener: runs on the order path (inside ``Engine.emit``), so it only
        counts and notes times, and never raises into the engine."""
        try:
            self._count(event, time.monotonic())
        except Exception:  # a metric must never fail an order
            log.exception("metrics could not count %s", type(event).__name__)

    def _count(self, event: EngineEvent, now: float) -> None:
        self.events_total.labels(EVENT_NAMES.get(type(event), "other")).inc()
        if isinstance(event, OrderUpdate):
            self._on_order(event, now)
        elif isinstance(event, FillUpdate):
            self._on_fill(event, now)
        elif isinstance(event, RiskDecision):
            self.rejects.labels(event.code, "risk").inc()

    def _on_order(self, update: OrderUpdate, now: float) -> None:
        order_id = update.order_id
        if update.status is OrderStatus.PENDING_NEW and order_id not in self._timings:
            self._start_timing(order_id, update.venue, now)
        if update.status is OrderStatus.REJECTED:
            self.rejects.labels(reject_code(update.reason), "venue").inc()
        timing = self._timings.get(order_id)
        if timing is not None and timing.acked is None and update.status in ANSWERED:
            if order_id in self.engine.conditional.held:
                del self._timings[order_id]  # held by the engine: NEW here, not the venue's answer
                return
            self._acked(timing, now)
        if update.status in TERMINAL:
            self._timings.pop(order_id, None)

    def _on_fill(self, update: FillUpdate, now: float) -> None:
        timing = self._timings.get(update.order_id)
        if timing is None or timing.filled:
            return
        if timing.acked is None:
            self._acked(timing, now)  # the fill came before the answer: the venue has it
        assert timing.acked is not None
        timing.filled = True
        self.ack_to_fill.labels(timing.venue).observe(now - timing.acked)

    def _start_timing(self, order_id: str, venue: str, now: float) -> None:
        if len(self._timings) >= MAX_TIMED_ORDERS:
            self._timings.pop(next(iter(self._timings)))  # the oldest
        self._timings[order_id] = _Timing(venue, now)

    def _acked(self, timing: _Timing, now: float) -> None:
        timing.acked = now
        self.submit_to_ack.labels(timing.venue).observe(now - timing.submitted)

    @property
    def timed_orders(self) -> int:
        """Orders being timed now (bounded: an order's entry goes when it ends)."""
        return len(self._timings)

    # ---- venues ----

    async def poll_venues(self, timeout: float = HEALTH_TIMEOUT_S) -> dict[str, VenueHealth]:
        """Ask every venue for its health once (concurrently); a venue that fails to
        answer is recorded as disconnected with the error."""
        venues = list(self.engine.exchanges.items())
        results = await asyncio.gather(*(_health(exchange, timeout) for _, exchange in venues))
        self.venue_health = {venue: health for (venue, _), health in zip(venues, results, strict=True)}
        return self.venue_health

    async def run(self, interval: float = 5.0) -> None:
        """Poll the venues every ``interval`` seconds until cancelled."""
        while True:
            try:
                await self.poll_venues()
            except Exception:  # a poll must never end the loop
                log.exception("venue health poll failed")
            await asyncio.sleep(interval)

    # ---- exposition ----

    def render(self) -> bytes:
        """Every metric in the Prometheus text format."""
        return generate_latest(self.registry)


async def _health(exchange: Exchange, timeout: float) -> VenueHealth:
    try:
        return await asyncio.wait_for(exchange.health(), timeout)
    except Exception as err:  # the venue's problem is what we report, not ours
        return VenueHealth(
            venue=exchange.venue,
            connected=False,
            trading=False,
            last_error=f"health check failed: {type(err).__name__}: {err}",
            ts_ns=time.time_ns(),
        )


class _StateCollector(Collector):
    """Gauges read when collected: open orders, venue health, backlog, trading state."""

    def __init__(self, metrics: EngineMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> Iterable[Metric]:
        return list(self._families().values())  # names only: nothing read at registration

    def collect(self) -> Iterable[Metric]:
        families = self._families()
        self._open_orders(families["oms_open_orders"])
        self._venues(families)
        self._engine_state(families)
        return list(families.values())

    def _families(self) -> dict[str, GaugeMetricFamily]:
        gauges = [
            GaugeMetricFamily("oms_open_orders", "Orders not yet ended, per venue.", labels=["venue"]),
            GaugeMetricFamily("oms_venue_connected", "1 if the venue's connection is up.", labels=["venue"]),
            GaugeMetricFamily("oms_venue_trading", "1 if the venue takes our orders now.", labels=["venue"]),
            GaugeMetricFamily(
                "oms_rate_limit_headroom",
                "Requests left in the venue's rate-limit window.",
                labels=["venue", "limit"],
            ),
            GaugeMetricFamily(
                "oms_clock_offset_ms", "The venue's clock minus ours, milliseconds.", labels=["venue"]
            ),
            GaugeMetricFamily("oms_event_backlog", "Events not yet handed to JetStream (queued, spilled)."),
            GaugeMetricFamily("oms_trading_state", "0 active, 1 reducing only, 2 halted."),
        ]
        return {family.name: family for family in gauges}

    def _open_orders(self, family: GaugeMetricFamily) -> None:
        engine = self.metrics.engine
        counts = Tally(order.request.venue for order in engine.orders(open_only=True))
        for venue in sorted(set(engine.exchanges) | set(counts)):
            family.add_metric([venue], counts[venue])

    def _venues(self, families: dict[str, GaugeMetricFamily]) -> None:
        for venue, health in sorted(self.metrics.venue_health.items()):
            families["oms_venue_connected"].add_metric([venue], float(health.connected))
            families["oms_venue_trading"].add_metric([venue], float(health.trading))
            for limit, left in sorted(health.rate_limit_headroom.items()):
                families["oms_rate_limit_headroom"].add_metric([venue, limit], left)
            if health.clock_offset_ms is not None:
                families["oms_clock_offset_ms"].add_metric([venue], health.clock_offset_ms)

    def _engine_state(self, families: dict[str, GaugeMetricFamily]) -> None:
        publisher = self.metrics.publisher
        if publisher is not None:
            families["oms_event_backlog"].add_metric([], publisher.backlog)
        state = self.metrics.engine.trading_state
        families["oms_trading_state"].add_metric([], TRADING_STATE_VALUES[state])
