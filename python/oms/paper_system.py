"""``oms run``: the whole system in paper mode on loopback, in one process.

The Binance Spot and USD-M simulators (``oms.sim.binance.paper``) with their seeded
markets; the embedded ``nats-server`` with JetStream under the data dir; the engine with
the real connectors pointed at the simulators (the paper account's Ed25519 key); every
event to JetStream and to the files; reference prices tracked for BTC and ETH on both
markets. ``demo=True`` places one small order on each market so the flow can be seen at
once (its fill in ``data/.../trades.jsonl`` and on ``trades.>``).

Paper state is as ephemeral as the simulated venues: each start begins a fresh data
directory (``<data>/paper``), since the previous run's venues are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console

from oms.api.server import ApiConfig, ApiServer
from oms.api.tls import ensure_dev_pki
from oms.api.tokens import TokenStore
from oms.bus.embedded_nats import EmbeddedNats
from oms.bus.publisher import JetStreamPublisher
from oms.bus.replay import StreamReplay
from oms.engine import Engine
from oms.errors import OmsError
from oms.exchanges import ExchangeConfig, create_exchange
from oms.logs import configure_json_logging
from oms.metrics import EngineMetrics
from oms.model import OrderRequest, OrderType, Side
from oms.monitoring_http import MonitoringServer, engine_readiness
from oms.sim.binance.paper import PaperBinance, build
from oms.storage.engine_files import EngineFiles

log = logging.getLogger(__name__)
TRACKED = [
    ("binance:spot", "BTC/USDT"),
    ("binance:spot", "ETH/USDT"),
    ("binance:usdm", "BTC/USDT:USDT"),
    ("binance:usdm", "ETH/USDT:USDT"),
]


def configs(paper: PaperBinance, spot_url: str, futures_url: str) -> list[ExchangeConfig]:
    key, private_pem = paper.keys[0]  # Ed25519: spot logs the WebSocket API session on once
    spot_ws, futures_ws = spot_url.replace("http", "ws"), futures_url.replace("http", "ws")
    urls = {
        "binance:spot": (spot_url, f"{spot_ws}/ws-api/v3", spot_ws),
        "binance:usdm": (futures_url, f"{futures_ws}/ws-fapi/v1", futures_ws),
    }
    return [
        ExchangeConfig(
            venue=venue,
            api_key=SecretStr(key.api_key),
            api_secret=SecretStr(private_pem),
            rest_url=rest,
            ws_api_url=ws_api,
            ws_url=ws,
        )
        for venue, (rest, ws_api, ws) in urls.items()
    ]


class PaperSystem:
    """Everything ``oms run`` starts; ``await start()``, ``await stop()``."""

    def __init__(
        self,
        data_dir: Path | str = "data",
        *,
        seed: int = 20240601,
        nats_urls: list[str] | None = None,
        grpc_port: int = 50051,
        http_port: int = 9464,
        reflection: bool = True,
    ) -> None:
        self.root = Path(data_dir)
        self.http_port = http_port
        self.metrics: EngineMetrics | None = None
        self.monitoring: MonitoringServer | None = None
        self.data = self.root / "paper"
        self.grpc_port = grpc_port
        self.reflection = reflection
        self.api: ApiServer | None = None
        self.dev_token = ""
        self.paper = build(seed)
        self.nats_urls = nats_urls  # an existing server or cluster; None: the embedded one
        self.nats = EmbeddedNats(self.data)
        self.engine: Engine | None = None
        self.publisher: JetStreamPublisher | None = None
        self.files: EngineFiles | None = None
        self.replay: StreamReplay | None = None  # snapshots note the stream positions with it
        self.urls: dict[str, str] = {}
        self._market: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        if self.data.exists():
            shutil.rmtree(self.data)  # the previous run's venues are gone: so is its state
        self.data.mkdir(parents=True)
        paper = self.paper
        for model in paper.models:
            model.step()
        spot_url = await paper.spot.start()
        futures_url = await paper.futures.start()
        self._market = [asyncio.ensure_future(m.run(0.5)) for m in paper.models]
        if self.nats_urls:
            nats_servers: str | list[str] = self.nats_urls
            nats_url = ",".join(self.nats_urls)
        else:
            nats_url = nats_servers = await asyncio.to_thread(self.nats.start)
        self.urls = {"spot": spot_url, "futures": futures_url, "nats": nats_url}
        engine = Engine([create_exchange(c.venue, c) for c in configs(paper, spot_url, futures_url)])
        self.publisher = JetStreamPublisher(
            nats_servers, lambda v, s: engine.exchanges[v].symbols.to_native(s)
        )
        await self.publisher.start()
        engine.on_events(self.publisher.on_events, records=True)
        metrics = self.metrics = EngineMetrics(engine, publisher=self.publisher)
        metrics.attach()
        await engine.start()
        self.replay = StreamReplay(nats_servers)
        self.files = EngineFiles(engine, self.data, streams=self.replay)
        self.files.start()
        for venue, symbol in TRACKED:
            engine.track(venue, symbol)
        self.engine = engine
        await self._start_api(engine)
        await self._start_monitoring(engine, metrics)

    async def _start_monitoring(self, engine: Engine, metrics: EngineMetrics) -> None:
        """Prometheus ``/metrics``, ``/healthz`` and ``/readyz`` on loopback HTTP."""
        engine.spawn(metrics.run(5.0))
        ready = engine_readiness(engine, self.publisher, metrics=metrics)
        self.monitoring = MonitoringServer(metrics, ready, port=self.http_port)
        self.urls["http"] = await self.monitoring.start()

    async def _start_api(self, engine: Engine) -> None:
        """TLS from the dev CA under ``<data>/tls`` and tokens in ``<data>/tokens.json``:
        both outside ``paper/``, so clients keep working across restarts."""
        tokens = self.root / "tokens.json"
        self.dev_token = dev_token(self.root, TokenStore(tokens))
        config = ApiConfig(
            tls=ensure_dev_pki(self.root / "tls"),
            tokens=tokens,
            port=self.grpc_port,
            reflection=self.reflection,
        )
        self.api = ApiServer(engine, config)
        self.urls["grpc"] = await self.api.start()

    async def demo(self) -> None:
        """One small order on each market, priced to trade at once."""
        assert self.engine is not None
        for venue, symbol in (("binance:spot", "BTC/USDT"), ("binance:usdm", "BTC/USDT:USDT")):
            book = await self.engine.exchanges[venue].fetch_book(symbol, 5)
            if book.best_ask is None:
                continue
            request = OrderRequest(
                venue=venue,
                symbol=symbol,
                side=Side.BUY,
                type=OrderType.LIMIT,
                qty=Decimal("0.003"),
                price=book.best_ask.price,  # at the best ask: it trades at once
            )
            try:
                order = await self.engine.submit(request)
            except OmsError as err:
                print(f"demo order on {venue} refused: {err}", flush=True)
                continue
            print(f"demo order {order.client_order_id} on {venue}: {order.status}", flush=True)

    def banner(self) -> str:
        return "\n".join(
            [
                "oms is running in paper mode (Ctrl-C stops everything)",
                f"  Binance Spot simulator     {self.urls['spot']}",
                f"  Binance USD-M simulator    {self.urls['futures']}",
                f"  NATS JetStream ({'external' if self.nats_urls else 'embedded'})  {self.urls['nats']}"
                "  streams ORDERS TRADES POSITIONS RISK INTENTS",
                f"  files                      {self.data}/logs, snapshots, reports",
                "",
                "Watch it:",
                f"  tail -f {self.data}/logs/*/*/*/orders.jsonl"
                " | jq -c '{client_order_id, status, filled_qty}'",
                "",
                f"gRPC API (TLS 1.3, CA {self.root / 'tls' / 'ca.pem'})  {self.urls['grpc']}",
                f"  dev token (all scopes, also in {self.root / 'dev-token'}):",
                f"  export OMS_TOKEN={self.dev_token}",
                f"metrics and health (HTTP)  {self.urls['http']}/metrics  /healthz  /readyz",
                "",
                "Try:",
                "  .venv/bin/oms order submit binance:spot BTC/USDT buy 0.001 --type market",
                "  .venv/bin/oms positions",
                "  .venv/bin/oms events --follow",
            ]
        )

    async def stop(self) -> None:
        if self.monitoring is not None:
            await self.monitoring.stop()
        if self.api is not None:
            await self.api.stop()
        for task in self._market:
            task.cancel()
        if self.files is not None:
            self.files.stop()
        if self.publisher is not None:
            await self.publisher.stop()
        if self.replay is not None:
            await self.replay.close()
        if self.engine is not None:
            await self.engine.stop()
        for server in (self.paper.spot, self.paper.futures):
            with contextlib.suppress(Exception):
                await server.stop()
        if not self.nats_urls:
            await asyncio.to_thread(self.nats.stop)


async def run(
    data_dir: Path | str = "data",
    *,
    demo: bool = False,
    seed: int = 20240601,
    nats_urls: list[str] | None = None,
    grpc_port: int = 50051,
    http_port: int = 9464,
    reflection: bool = True,
    log_level: str = "INFO",
) -> None:
    configure_json_logging(log_level)  # one JSON object per line on stderr
    system = PaperSystem(
        data_dir,
        seed=seed,
        nats_urls=nats_urls,
        grpc_port=grpc_port,
        http_port=http_port,
        reflection=reflection,
    )
    stopped = asyncio.Event()  # Ctrl-C, or SIGTERM (systemd, kill): the same clean stop
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)  # before anything starts
    try:
        with starting_spinner():
            await system.start()
        print(system.banner(), flush=True)
        if demo:
            await system.demo()
        await stopped.wait()
    finally:
        await system.stop()


def dev_token(root: Path, store: TokenStore) -> str:
    """The development token (all scopes) in ``<root>/dev-token`` (mode 0600): made on
    first run, reused after, so the CLI finds it without configuration."""
    path = root / "dev-token"
    if path.exists():
        token = path.read_text().strip()
        if store.verify(token) is not None:
            return token
    token = store.create("dev", ["read", "trade", "admin"])
    path.touch(mode=0o600)
    path.write_text(token + "\n")
    return token


def starting_spinner() -> contextlib.AbstractContextManager[object]:
    """A spinner on a terminal's stderr while the simulators, NATS and the engine start."""
    console = Console(stderr=True)
    if not console.is_terminal:
        return contextlib.nullcontext()
    return console.status("starting simulators, NATS, engine and the gRPC API...")
