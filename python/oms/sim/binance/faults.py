"""Fault injection for the simulated venue: the failures a connector must survive,
on demand and reproducibly (seeded).

Set through ``POST /admin/faults`` (JSON with any of the fields below; ``GET`` shows
them; ``POST /admin/disconnect`` drops every WebSocket without ``serverShutdown``) or
directly on ``server.faults``. The admin endpoints exist only on the simulator, which
binds 127.0.0.1.

* ``latency_ms`` / ``jitter_ms``: delay before every REST answer.
* ``unknown_after_accept``: probability that an accepted order is answered with HTTP 503
  -1007 ("execution status unknown"): the order *is* on the book.
* ``unexpected_after_accept``: probability of HTTP 500 -1006 ("unexpected response ...
  execution status unknown") for an accepted order: on the book too.
* ``disconnect_after_accept``: probability that the connection is dropped once the
  order is accepted, with no answer at all (REST: the TCP connection closes; WebSocket
  API: the socket closes).
* ``stall_after_accept_ms``: hold the answer to an accepted order this long (beyond a
  client's timeout: the other unknown outcome).

The order faults apply to REST order entry and the WebSocket API's order methods alike.
* ``fail_before_accept``: probability of HTTP 500 -1001 with nothing done.
* ``rate_limit_storm``: answer every request 429 -1003 (then 418 if the client persists).
* ``drop_depth_updates``: probability that a depth diff is not sent (a gap in ``U``/``u``).
* ``reorder_depth_updates``: probability that a depth diff is held back and sent just
  after the next diff of the same stream (out of order; held until that next diff).
* ``clock_skew_ms``: added to the server clock (timestamps drift against ``recvWindow``).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from oms.sim.binance.errors import BinanceApiError


@dataclass
class Faults:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    unknown_after_accept: float = 0.0
    unexpected_after_accept: float = 0.0
    disconnect_after_accept: float = 0.0
    stall_after_accept_ms: float = 0.0
    fail_before_accept: float = 0.0
    rate_limit_storm: bool = False
    drop_depth_updates: float = 0.0
    reorder_depth_updates: float = 0.0
    clock_skew_ms: int = 0
    seed: int = 1
    rng: random.Random = field(default_factory=lambda: random.Random(1), repr=False)

    def update(self, settings: dict[str, Any]) -> None:
        """Apply admin settings; unknown names or bad values raise ValueError."""
        known = {f.name: f.type for f in fields(self) if f.name != "rng"}
        for name, value in settings.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(known))}")
            current = getattr(self, name)
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
                setattr(self, name, value)
            else:
                setattr(self, name, type(current)(value))
        if "seed" in settings:
            self.rng = random.Random(self.seed)

    def view(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("rng")
        return out

    def delay_s(self) -> float:
        if not self.latency_ms and not self.jitter_ms:
            return 0.0
        return max(0.0, self.latency_ms + self.rng.uniform(-self.jitter_ms, self.jitter_ms)) / 1000

    def chance(self, probability: float) -> bool:
        return probability > 0 and self.rng.random() < probability


def unknown_status() -> BinanceApiError:
    return BinanceApiError(
        -1007,
        "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        http_status=503,
    )


def unexpected_response() -> BinanceApiError:
    return BinanceApiError(
        -1006,
        "An unexpected response was received from the message bus. Execution status unknown.",
        http_status=500,
    )


def after_accept(faults: Faults) -> BinanceApiError | None:
    """The error an accepted order is answered with, if a fault says so."""
    if faults.chance(faults.unknown_after_accept):
        return unknown_status()
    if faults.chance(faults.unexpected_after_accept):
        return unexpected_response()
    return None


def internal_error() -> BinanceApiError:
    return BinanceApiError(
        -1001, "Internal error; unable to process your request. Please try again.", http_status=500
    )
