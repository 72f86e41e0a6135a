"""Binance market-data streams over the simulated venue.

``/stream`` (combined: frames ``{"stream", "data"}``, what the official SDK opens) and
``/ws/<name>[/<name>...]`` (raw: the event alone); ``?streams=a/b`` subscribes at
connect. On either, ``{"method": "SUBSCRIBE" | "UNSUBSCRIBE" | "LIST_SUBSCRIPTIONS",
"params": [...], "id": ...}`` answers ``{"result": null | [...], "id": ...}``. Streams:
``<symbol>@depth`` (and ``@depth@100ms``: one diff per book change, consecutive
``U``/``u`` matching REST ``lastUpdateId``), ``@depth5/10/20`` (partial: the top levels
after each change), ``@trade``, ``@aggTrade``, ``@bookTicker``;
on futures also ``@markPrice`` (``@markPrice@1s`` alike) and no ``@trade``. Futures
serves the same streams under ``/market/...`` and ``/public/...``, where the official
SDK looks for them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from oms.sim.binance.faults import Faults
from oms.sim.binance.sockets import Outbox, SocketSet

_SPEED = re.compile(r"@(?:[0-9]+ms|1s)$")
PARTIAL_LEVELS = (5, 10, 20)


def canonical(name: str) -> str:
    """``btcusdt@depth@100ms`` -> ``btcusdt@depth``, ``btcusdt@markPrice@1s`` ->
    ``btcusdt@markPrice``: the venue publishes at one speed (on every change)."""
    return _SPEED.sub("", name)


class MarketVenue(Protocol):
    """Any simulated venue that publishes market data (spot or futures)."""

    @property
    def market_listeners(self) -> list[Callable[[str, dict[str, Any]], None]]: ...

    def partial_depth(self, symbol: str, levels: int, diff: dict[str, Any]) -> dict[str, Any]: ...


class MarketStreams:
    def __init__(self, venue: MarketVenue, faults: Faults | None = None) -> None:
        self.venue = venue
        self.faults = faults or Faults()
        clock = lambda: int(time.time() * 1000)  # noqa: E731
        # Combined streams wrap the shutdown notice like any stream; raw ones send it bare.
        self.sockets = SocketSet(clock, _stream_shutdown_frame)
        self.raw_sockets = SocketSet(clock, lambda now: {"e": "serverShutdown", "E": now})

    def routes(self, app: web.Application, prefix: str = "") -> None:
        app.router.add_get(f"{prefix}/stream", self.combined)
        app.router.add_get(f"{prefix}/ws/{{names:.*}}", self.raw)

    async def combined(self, request: web.Request) -> web.WebSocketResponse:
        initial = [n for n in request.query.get("streams", "").split("/") if n]
        return await self._serve(request, initial, combined=True)

    async def raw(self, request: web.Request) -> web.WebSocketResponse:
        initial = [n for n in request.match_info["names"].split("/") if n]
        return await self._serve(request, initial, combined=False)

    async def _serve(self, request: web.Request, initial: list[str], combined: bool) -> web.WebSocketResponse:
        wanted: dict[str, str] = {canonical(n): n for n in initial}  # canonical -> name as asked
        outbox = Outbox()
        held: dict[str, Any] = {}  # stream -> a diff held back by the reorder fault

        def listener(stream: str, event: dict[str, Any]) -> None:
            if stream.endswith("@depth") and self.faults.chance(self.faults.drop_depth_updates):
                return  # injected gap: this subscriber never sees this diff
            if stream in wanted:
                frame = {"stream": wanted[stream], "data": event} if combined else event
                if stream in held:  # injected reordering: this diff overtakes the held one
                    outbox.put(frame)
                    outbox.put(held.pop(stream))
                elif stream.endswith("@depth") and self.faults.chance(self.faults.reorder_depth_updates):
                    held[stream] = frame
                else:
                    outbox.put(frame)
            if stream.endswith("@depth"):  # partial depth: the top levels after this change
                for levels in PARTIAL_LEVELS:
                    if f"{stream}{levels}" in wanted:
                        top = self.venue.partial_depth(event["s"], levels, event)
                        name = wanted[f"{stream}{levels}"]
                        outbox.put({"stream": name, "data": top} if combined else top)

        self.venue.market_listeners.append(listener)
        try:
            sockets = self.sockets if combined else self.raw_sockets
            return await sockets.serve(request, outbox, lambda raw: _control(raw, wanted))
        finally:
            self.venue.market_listeners.remove(listener)

    async def disconnect(self) -> int:
        return await self.sockets.disconnect() + await self.raw_sockets.disconnect()

    async def shutdown(self) -> None:
        await self.sockets.shutdown()
        await self.raw_sockets.shutdown()


def _stream_shutdown_frame(now: int) -> dict[str, Any]:
    """Combined streams wrap it like any stream (raw ones would send the bare event)."""
    return {"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": now}}


def _control(raw: str, wanted: dict[str, str]) -> dict[str, Any]:
    """SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS."""
    try:
        frame = json.loads(raw)
        method, params, request_id = frame["method"], frame.get("params") or [], frame.get("id")
    except (ValueError, KeyError, TypeError):
        return {"error": {"code": 3, "msg": "Invalid JSON: expected an object with 'method'"}, "id": None}
    if method == "SUBSCRIBE":
        wanted.update({canonical(str(n)): str(n) for n in params})
        return {"result": None, "id": request_id}
    if method == "UNSUBSCRIBE":
        for name in params:
            wanted.pop(canonical(str(name)), None)
        return {"result": None, "id": request_id}
    if method == "LIST_SUBSCRIPTIONS":
        return {"result": sorted(wanted.values()), "id": request_id}
    return {"error": {"code": 1, "msg": f"Invalid request: unknown method {method!r}"}, "id": request_id}
