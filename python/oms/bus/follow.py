"""``oms events``: print the engine's events as NATS delivers them, one JSON per line
(subject first), for a terminal or ``jq``."""

from __future__ import annotations

import asyncio
import sys

import nats
from nats.aio.msg import Msg


async def follow(url: str, subjects: list[str]) -> None:
    nc = await nats.connect(url)

    async def show(msg: Msg) -> None:
        sys.stdout.write(f"{msg.subject} {msg.data.decode()}\n")
        sys.stdout.flush()

    for subject in subjects:
        await nc.subscribe(subject, cb=show)
    try:
        await asyncio.Event().wait()
    finally:
        await nc.close()
