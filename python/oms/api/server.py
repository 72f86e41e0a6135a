"""The gRPC server (``grpc.aio``) in the engine's own event loop.

One ``ApiServer`` serves the five ``oms.v1`` services, ``grpc.health.v1`` and (unless
turned off) reflection, over TLS only, behind ``oms.api.guard.Guard``. Message sizes
are capped both ways; a batch is capped at ``orders.MAX_BATCH``. The servicers call the
engine directly: no thread hop, no queue between an RPC and the order path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from oms.api.admin import AdminService
from oms.api.events import EventLog, EventService
from oms.api.guard import Guard, GuardConfig
from oms.api.handlers import generic_handler
from oms.api.market_data import MarketDataService
from oms.api.orders import OrderService
from oms.api.portfolio import PortfolioService
from oms.api.stubs import SERVICES as DESCRIPTORS
from oms.api.tls import TlsFiles
from oms.api.tokens import TokenStore
from oms.engine import Engine

log = logging.getLogger(__name__)
TRANSPORT_FACTOR = 4
SERVICES = [
    DESCRIPTORS[name]
    for name in ("OrderService", "PortfolioService", "MarketDataService", "EventService", "AdminService")
]


@dataclass
class ApiConfig:
    tls: TlsFiles | None  # None: plaintext, for tests of the refusal only (never by default)
    tokens: Path
    host: str = "127.0.0.1"
    port: int = 50051  # 0: any free port
    reflection: bool = True  # on in development; turn off in production
    max_message_bytes: int = 1024 * 1024  # a request beyond: INVALID_ARGUMENT (MESSAGE_TOO_LARGE)
    guard: GuardConfig = field(default_factory=GuardConfig)


class ApiServer:
    def __init__(
        self, engine: Engine, config: ApiConfig, extra_handlers: list[grpc.GenericRpcHandler] | None = None
    ) -> None:
        """``extra_handlers``: more services on the same server and guard (benchmarks'
        echo, a strategy's own service); their methods need a token with ``trade``."""
        self.engine = engine
        self.extra_handlers = extra_handlers or []
        self.config = config
        self.tokens = TokenStore(config.tokens)
        self.events = EventLog(engine)
        self.health = health.aio.HealthServicer()
        self.port = 0
        self._server: grpc.aio.Server | None = None

    @property
    def address(self) -> str:
        return f"{self.config.host}:{self.port}"

    async def start(self) -> str:
        cfg = self.config
        guard_cfg = (
            cfg.guard if cfg.tls is not None else GuardConfig(cfg.guard.rate_per_s, cfg.guard.burst, False)
        )
        server = grpc.aio.server(
            interceptors=[Guard(self.tokens, guard_cfg)],
            options=[
                # The transport's own cap, well above ours, so that a request between
                # the two is answered by us (INVALID_ARGUMENT) rather than by the core.
                ("grpc.max_receive_message_length", TRANSPORT_FACTOR * cfg.max_message_bytes),
                ("grpc.max_send_message_length", TRANSPORT_FACTOR * cfg.max_message_bytes),
                ("grpc.so_reuseport", 0),
            ],
        )
        engine = self.engine
        implementations: list[object] = [
            OrderService(engine),
            PortfolioService(engine),
            MarketDataService(engine),
            EventService(self.events),
            AdminService(engine),
        ]
        server.add_generic_rpc_handlers(
            [
                generic_handler(s, impl, cfg.max_message_bytes)
                for s, impl in zip(SERVICES, implementations, strict=True)
            ]
            + self.extra_handlers
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        if cfg.reflection:
            names = [s.full_name for s in SERVICES] + [health.SERVICE_NAME, reflection.SERVICE_NAME]
            reflection.enable_server_reflection(names, server)
        where = f"{cfg.host}:{cfg.port}"
        if cfg.tls is None:
            self.port = server.add_insecure_port(where)
        else:
            self.port = server.add_secure_port(where, cfg.tls.server_credentials())
        self.events.attach()
        await server.start()
        self._server = server
        await self._set_serving(True)
        log.info("gRPC API on %s (TLS %s)", self.address, "on" if cfg.tls else "OFF")
        return self.address

    async def _set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ["", *(s.full_name for s in SERVICES)]:
            await self.health.set(name, status)

    async def stop(self, grace: float = 2.0) -> None:
        if self._server is None:
            return
        await self._set_serving(False)
        self.events.detach()
        await self._server.stop(grace)
        self._server = None
