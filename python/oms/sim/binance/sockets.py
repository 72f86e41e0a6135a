"""The open WebSockets of one simulated endpoint: each served with one ordered writer
(replies and pushed events leave in the order they were queued), all of them droppable
at once (a network failure) or shut down politely (a ``serverShutdown`` frame first, as
Binance does before a restart, so SDK clients reconnect).

A client that does not read is disconnected once its outbox holds ``MAX_QUEUED`` frames
or a send stalls for ``SEND_TIMEOUT`` seconds (Binance drops slow consumers too), so a
stuck client can never grow memory without bound or hold up a shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

Frame = dict[str, Any]
MAX_QUEUED = 10_000
SEND_TIMEOUT = 5.0


@dataclass(frozen=True)
class Reply:
    """An answer with a twist (fault injection): sent after `delay_s`, not sent at all
    (`frame` None), and/or the connection dropped right after (`close`)."""

    frame: Frame | None
    delay_s: float = 0.0
    close: bool = False


class Outbox:
    """Frames waiting for one socket; overflowing marks the client as too slow."""

    def __init__(self, limit: int = MAX_QUEUED) -> None:
        self.queue: asyncio.Queue[Frame] = asyncio.Queue()
        self.limit = limit
        self.overflowed = False

    def put(self, frame: Frame) -> None:
        if self.queue.qsize() >= self.limit:
            self.overflowed = True
            return
        self.queue.put_nowait(frame)


async def _close(ws: web.WebSocketResponse) -> None:
    with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
        await asyncio.wait_for(ws.close(), SEND_TIMEOUT)


async def send_all(ws: web.WebSocketResponse, outbox: Outbox) -> None:
    """Forward queued frames in order (one writer per socket); drop a slow client."""
    while True:
        frame = await outbox.queue.get()
        if ws.closed:
            return
        if outbox.overflowed:
            await _close(ws)
            return
        try:
            await asyncio.wait_for(ws.send_json(frame), SEND_TIMEOUT)
        except (TimeoutError, ConnectionError):
            await _close(ws)
            return


async def _put_later(outbox: Outbox, frame: Frame, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    outbox.put(frame)


def api_shutdown_frame(now: int) -> Frame:
    """WebSocket API (and combined streams use their own, see streams.py)."""
    return {"event": {"e": "serverShutdown", "E": now}}


class SocketSet:
    def __init__(
        self, clock_ms: Callable[[], int], shutdown_frame: Callable[[int], Frame] = api_shutdown_frame
    ) -> None:
        self._clock_ms = clock_ms
        self._shutdown_frame = shutdown_frame
        self._open: set[web.WebSocketResponse] = set()

    async def serve(
        self, request: web.Request, outbox: Outbox, on_text: Callable[[str], Frame | Reply]
    ) -> web.WebSocketResponse:
        """Run one connection until it closes: each text frame's answer goes to `outbox`."""
        ws = web.WebSocketResponse(heartbeat=20)  # Binance pings every 20 s
        await ws.prepare(request)
        self._open.add(ws)
        sender = asyncio.create_task(send_all(ws, outbox))
        delayed: set[asyncio.Task[None]] = set()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                answer = on_text(message.data)
                if not isinstance(answer, Reply):
                    outbox.put(answer)
                    continue
                if answer.close:
                    await _close(ws)
                    break
                if answer.frame is not None and answer.delay_s:
                    task = asyncio.create_task(_put_later(outbox, answer.frame, answer.delay_s))
                    delayed.add(task)
                    task.add_done_callback(delayed.discard)
                elif answer.frame is not None:
                    outbox.put(answer.frame)
        finally:
            self._open.discard(ws)
            sender.cancel()
            for task in delayed:
                task.cancel()
        return ws

    async def disconnect(self) -> int:
        """Drop every connection without warning (a network failure)."""
        sockets = [ws for ws in self._open if not ws.closed]
        for ws in sockets:
            await _close(ws)
        return len(sockets)

    async def shutdown(self) -> None:
        """Send the shutdown frame, then close every connection (bounded in time)."""
        frame = self._shutdown_frame(self._clock_ms())
        for ws in list(self._open):
            if not ws.closed:
                with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
                    await asyncio.wait_for(ws.send_json(frame), 1.0)
                await _close(ws)
