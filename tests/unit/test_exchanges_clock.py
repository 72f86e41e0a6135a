"""Clock offset from round trips: median of the fastest samples, venue time for request
timestamps, and a clear stop when the skew is beyond the receive window."""

from __future__ import annotations

import pytest

from oms.errors import ClockSkew
from oms.exchanges.clock import ClockOffset

MS = 1_000_000


def test_offset_is_the_median_of_the_fastest_round_trips() -> None:
    clock = ClockOffset("binance:spot", max_skew_ms=5000, now_ns=lambda: 10_000 * MS)
    assert (clock.offset_ms, clock.measured) == (0.0, False)
    # server 250 ms ahead, read halfway: 10 ms round trips
    for start in range(0, 50, 10):
        clock.record(start * MS, start + 5 + 250, (start + 10) * MS)
    # slow round trips (a 2 s stall) with misleading offsets do not count
    clock.record(100 * MS, 100 + 250 + 1900, 2100 * MS)
    assert clock.offset_ms == pytest.approx(250)
    assert clock.round_trip_ms == pytest.approx(10)
    assert clock.venue_now_ms() == 10_250
    clock.check()


def test_a_skew_beyond_the_receive_window_stops_trading() -> None:
    clock = ClockOffset("binance:usdm", max_skew_ms=5000)
    clock.record(0, 7_000, 2 * MS)
    with pytest.raises(ClockSkew, match="beyond the 5000 ms") as caught:
        clock.check()
    assert caught.value.code == "CLOCK_SKEW" and caught.value.details["offset_ms"] == pytest.approx(6999)


def test_a_clock_stepping_back_mid_request_is_ignored() -> None:
    clock = ClockOffset("binance:spot", max_skew_ms=5000)
    clock.record(10 * MS, 5, 5 * MS)
    assert not clock.measured
