"""The offset between our clock and a venue's, measured from request round trips.

Each sample is one ``server time`` request: local time at send and at receipt, and the
server's time, taken to be read halfway (the round trip is split evenly). The offset is
the median of the samples with the shortest round trips (a slow round trip says little
about when the server read its clock). Requests are timestamped on the venue's clock
(local time + offset), so a drifting local clock does not by itself cause -1021s; an
offset larger than the venue's receive window means something is badly wrong (no sync
at all, a clock jump) and ``check`` refuses to trade with ``ClockSkew`` rather than let
every order fail at the venue.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable

from oms.errors import ClockSkew

KEEP = 16  # samples remembered
BEST = 5  # of which the shortest round trips decide


class ClockOffset:
    def __init__(self, venue: str, max_skew_ms: float, now_ns: Callable[[], int] = time.time_ns) -> None:
        self.venue = venue
        self.max_skew_ms = max_skew_ms
        self._now_ns = now_ns
        self._samples: deque[tuple[int, float]] = deque(maxlen=KEEP)  # (round trip ns, offset ms)

    def record(self, sent_ns: int, server_ms: int, received_ns: int) -> None:
        if received_ns < sent_ns:
            return  # the local clock stepped back mid-request: no information
        midpoint_ms = (sent_ns + received_ns) / 2 / 1e6
        self._samples.append((received_ns - sent_ns, server_ms - midpoint_ms))

    def reset(self) -> None:
        """Forget every sample (the clock jumped: the old ones describe another clock)."""
        self._samples.clear()

    @property
    def measured(self) -> bool:
        return bool(self._samples)

    @property
    def offset_ms(self) -> float:
        """Venue clock minus ours, in ms (0 before any sample)."""
        if not self._samples:
            return 0.0
        best = sorted(self._samples)[:BEST]
        return float(statistics.median(offset for _, offset in best))

    @property
    def round_trip_ms(self) -> float | None:
        return min(rt for rt, _ in self._samples) / 1e6 if self._samples else None

    def venue_now_ms(self) -> int:
        """The venue's time now: what request timestamps carry."""
        return int(self._now_ns() / 1e6 + self.offset_ms)

    def check(self) -> None:
        """Raise ClockSkew when the offset is beyond what the venue accepts."""
        offset = self.offset_ms
        if abs(offset) > self.max_skew_ms:
            raise ClockSkew(
                f"{self.venue}: our clock is {offset:+.0f} ms off the venue's, beyond the "
                f"{self.max_skew_ms:.0f} ms it accepts; trading stopped until the clock is fixed",
                venue=self.venue,
                offset_ms=offset,
            )
