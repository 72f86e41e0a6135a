"""The open WebSockets of one simulated endpoint: each served with one ordered writer
(replies and pushed events leave in the order they were queued), all of them droppable
at once (a network failure) or shut down politely (``serverShutdown`` first, as Binance
does before a restart, so SDK clients reconnect)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

Frame = dict[str, Any]


async def send_all(ws: web.WebSocketResponse, outbox: asyncio.Queue[Frame]) -> None:
    """Forward queued frames in order (one writer per socket)."""
    while True:
        frame = await outbox.get()
        if ws.closed:
            return
        await ws.send_json(frame)


class SocketSet:
    def __init__(self, clock_ms: Callable[[], int]) -> None:
        self._clock_ms = clock_ms
        self._open: set[web.WebSocketResponse] = set()

    async def serve(
        self, request: web.Request, outbox: asyncio.Queue[Frame], on_text: Callable[[str], Frame]
    ) -> web.WebSocketResponse:
        """Run one connection until it closes: each text frame's answer goes to `outbox`."""
        ws = web.WebSocketResponse(heartbeat=20)  # Binance pings every 20 s
        await ws.prepare(request)
        self._open.add(ws)
        sender = asyncio.create_task(send_all(ws, outbox))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    outbox.put_nowait(on_text(message.data))
        finally:
            self._open.discard(ws)
            sender.cancel()
        return ws

    async def disconnect(self) -> int:
        """Drop every connection without warning (a network failure)."""
        sockets = [ws for ws in self._open if not ws.closed]
        for ws in sockets:
            await ws.close()
        return len(sockets)

    async def shutdown(self) -> None:
        """Announce ``serverShutdown``, then close every connection."""
        event = {"event": {"e": "serverShutdown", "E": self._clock_ms()}}
        for ws in list(self._open):
            if not ws.closed:
                await ws.send_json(event)
                await ws.close()
