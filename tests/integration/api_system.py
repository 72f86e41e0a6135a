"""``oms run``'s whole system (simulators, embedded NATS, engine, gRPC API) on an event
loop of its own in a background thread, so tests call it with the blocking client as a
user would. ``call(coro)`` runs a coroutine on the system's loop (to look inside)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from oms.client import Client
from oms.paper_system import PaperSystem

T = TypeVar("T")


class SystemThread:
    def __init__(self, data: Path, seed: int = 7) -> None:
        self.data = data
        self.system = PaperSystem(data, seed=seed, grpc_port=0, http_port=0)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.call(self.system.start(), timeout=90)
        self.address = self.system.urls["grpc"]
        self.ca = data / "tls" / "ca.pem"
        self.token = self.system.dev_token

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def client(self, token: str | None = None) -> Client:
        return Client(self.address, token=token or self.token, ca=self.ca, timeout=20)

    def close(self) -> None:
        self.call(self.system.stop(), timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
