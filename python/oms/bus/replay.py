"""The engine's own events read back from JetStream, for recovery.

Recovery (``oms.engine.recovery``) restores the latest snapshot and then applies every
event numbered after it. The events live in the ORDERS, TRADES and POSITIONS streams
(``oms.bus.publisher``), each message the same JSON record the journal files hold. A
snapshot notes how far each stream went *before* its state was taken
(``positions()``), so recovery starts reading there instead of at the stream's first
message; what it applies is decided by the engine's sequence number alone, which is
never reused across lives (``oms.engine.events.first_seq``), so reading from earlier
than needed is slower, never wrong.

Reading uses an ordered push consumer (ephemeral, flow-controlled, no acks): the
fastest way nats-py offers to walk a stream once, in order.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import nats
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from oms.bus.publisher import STREAMS
from oms.engine.replay import REPLAYED

READ_TIMEOUT_S = 5.0


class StreamReplay:
    """Reads ORDERS, TRADES and POSITIONS back (its own connection: the publisher may
    live in another process)."""

    def __init__(self, servers: str | list[str], *, connect_timeout: float = 2.0) -> None:
        self.servers = servers
        self.connect_timeout = connect_timeout
        self._nc: Client | None = None
        self._decoder = msgspec.json.Decoder(dict[str, Any])

    async def _jetstream(self) -> Any:
        if self._nc is None or self._nc.is_closed:
            self._nc = await nats.connect(
                self.servers,
                connect_timeout=self.connect_timeout,
                max_reconnect_attempts=3,
                name="oms-replay",
            )
        return self._nc.jetstream()

    async def positions(self) -> dict[str, int]:
        """The last sequence of each replayed stream now (0 for an empty or absent one)."""
        js = await self._jetstream()
        found = {}
        for name in REPLAYED:
            try:
                found[name] = (await js.stream_info(name)).state.last_seq
            except nats.js.errors.NotFoundError:
                found[name] = 0
        return found

    async def read(self, stream: str, after: int = 0) -> AsyncIterator[dict[str, Any]]:
        """Every record of ``stream`` stored after sequence ``after``, oldest first, up
        to the last one stored when the read began."""
        js = await self._jetstream()
        try:
            state = (await js.stream_info(stream)).state
        except nats.js.errors.NotFoundError:
            return
        if state.last_seq <= after or state.messages == 0:
            return
        start = max(after + 1, state.first_seq)
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start)
        sub = await js.subscribe(STREAMS[stream], stream=stream, ordered_consumer=True, config=config)
        try:
            while True:
                msg = await sub.next_msg(timeout=READ_TIMEOUT_S)
                yield self._decoder.decode(msg.data)
                if msg.metadata.sequence.stream >= state.last_seq:
                    return
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
            self._nc = None
