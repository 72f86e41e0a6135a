"""Run a simulator server on its own event loop in a background thread, so that
blocking code (the official SDKs' REST clients, tests, benchmarks) can call it."""

from __future__ import annotations

import asyncio
import threading

from oms.sim.binance.rest_base import RestServer


class ServerThread:
    def __init__(self, server: RestServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(server.start(), self.loop).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
