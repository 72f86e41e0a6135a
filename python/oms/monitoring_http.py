"""The monitoring endpoints: ``/metrics`` (Prometheus text), ``/healthz`` and ``/readyz``.

Why a small HTTP server of its own: Prometheus, systemd watchdog scripts and load
balancers all speak plain HTTP, and none of them should need the gRPC API (or its TLS
and credentials) to ask whether the process is alive. It runs on the engine's event
loop (aiohttp), so collecting metrics reads the engine from its own thread, and binds
loopback by default: the numbers are operational detail, not for the network.

* ``/healthz``: 200 while the process serves requests at all (liveness: restart me if not).
* ``/readyz``: 200 when ``ready()`` says the system can take orders, else 503; the
  JSON body names each component and why (readiness: do not send me work yet).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from oms.engine import Engine
from oms.exchanges.base import VenueHealth
from oms.metrics import EngineMetrics, EventPublisher

log = logging.getLogger(__name__)

Readiness = Callable[[], tuple[bool, dict[str, str]]]
OK: Final = "ok"


class MonitoringServer:
    """``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port`` (port 0: a free one)."""

    def __init__(
        self, metrics: EngineMetrics, ready: Readiness, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.metrics = metrics
        self.ready = ready
        self.host = host
        self.port = port
        self.url: str | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Listen; returns the base URL (``http://127.0.0.1:PORT``)."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.port = int(port)
        self.url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        log.info("monitoring endpoints at %s", self.url, extra={"url": self.url})
        return self.url

    async def stop(self) -> None:
        """Stop listening (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, _: web.Request) -> web.Response:
        try:
            ready, components = self.ready()
        except Exception as err:  # a broken check means "not ready", never a 500
            log.exception("readiness check failed")
            ready, components = False, {"readiness": f"check failed: {type(err).__name__}: {err}"}
        body = {"status": "ready" if ready else "not ready", "components": components}
        return web.json_response(body, status=200 if ready else 503)


def engine_readiness(
    engine: Engine, publisher: EventPublisher | None = None, *, metrics: EngineMetrics | None = None
) -> Readiness:
    """Ready when the engine has started (recovery done), every venue is connected and
    trading, and the publisher (if any) is connected to NATS. Venues are judged by the
    health ``metrics`` last fetched (``EngineMetrics.poll_venues`` / ``run``), so a
    disconnect shows within one poll interval; without ``metrics`` they are not checked."""

    def ready() -> tuple[bool, dict[str, str]]:
        components = {"engine": _engine_state(engine)}
        if metrics is not None:
            for venue in sorted(engine.exchanges):
                components[f"venue {venue}"] = _venue_state(metrics.venue_health.get(venue))
        if publisher is not None:
            components["publisher"] = OK if publisher.connected else "not connected to NATS"
        return all(reason == OK for reason in components.values()), components

    return ready


def _engine_state(engine: Engine) -> str:
    if engine.recovering:
        return "recovering: reconciling with the venues; orders refused with RECOVERING"
    if not engine.started:
        return "not started"
    return OK


def _venue_state(health: VenueHealth | None) -> str:
    if health is None:
        return "no health reported yet"
    why = f": {health.last_error}" if health.last_error else ""
    if not health.connected:
        return f"disconnected{why}"
    if not health.trading:
        return f"not trading (clock offset {health.clock_offset_ms} ms){why}"
    return OK
