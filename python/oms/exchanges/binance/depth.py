"""A local order book kept by Binance's documented snapshot-plus-diffs procedure.

Diffs that arrive before the snapshot are buffered. When the snapshot comes, diffs it
already contains are dropped and the first one applied must straddle it (spot:
``U <= lastUpdateId + 1 <= u``; USD-M: ``U <= lastUpdateId <= u``). After that every diff
must continue the last one (spot: ``U == previous u + 1``; USD-M: ``pu == previous u``);
one that does not means an update was lost, and ``BookOutOfSync`` tells the caller to
fetch a new snapshot (the book is then empty until it does). Quantities are absolute;
zero removes the level.
"""

from __future__ import annotations

import heapq
from decimal import Decimal

import msgspec

from oms.errors import OmsError
from oms.model import BookLevel, OrderBook

Level = tuple[Decimal, Decimal]
MAX_BUFFERED = 10_000  # diffs kept while waiting for a snapshot


class BookOutOfSync(OmsError):
    """A diff does not continue the book: fetch a new snapshot."""

    default_code = "BOOK_OUT_OF_SYNC"


class DepthUpdate(
    msgspec.Struct, frozen=True, rename={"first": "U", "last": "u", "previous": "pu", "time": "E"}
):
    """A ``depthUpdate`` (spot or USD-M; ``pu`` only on USD-M)."""

    first: int
    last: int
    b: list[Level]
    a: list[Level]
    time: int = 0
    previous: int | None = None


class DepthSnapshot(msgspec.Struct, frozen=True, rename={"last_update_id": "lastUpdateId"}):
    last_update_id: int
    bids: list[Level]
    asks: list[Level]


update_decoder = msgspec.json.Decoder(DepthUpdate)
snapshot_decoder = msgspec.json.Decoder(DepthSnapshot)


class DepthBook:
    def __init__(self, *, futures: bool) -> None:
        self.futures = futures
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.last_update_id: int | None = None  # None: waiting for a snapshot
        self._buffer: list[DepthUpdate] = []

    @property
    def synced(self) -> bool:
        return self.last_update_id is not None

    def on_diff(self, diff: DepthUpdate) -> bool:
        """Apply (or buffer) one diff; True when the book changed. Raises BookOutOfSync
        on a gap, leaving the book empty and waiting for a snapshot."""
        if self.last_update_id is None:
            if len(self._buffer) < MAX_BUFFERED:
                self._buffer.append(diff)
            return False
        if self._continues(diff):
            self._apply(diff)
            return True
        if diff.last <= self.last_update_id:
            return False  # already in the book (a repeat)
        previous = self.last_update_id
        self.reset()
        raise BookOutOfSync(f"depth diff {diff.first}..{diff.last} does not follow update {previous}")

    def on_snapshot(self, snapshot: DepthSnapshot) -> None:
        """Start from a REST snapshot and apply the buffered diffs it does not contain.
        Raises BookOutOfSync when the buffer does not reach it (fetch again later)."""
        buffered, self._buffer = self._buffer, []
        self.bids = {p: q for p, q in snapshot.bids if q}
        self.asks = {p: q for p, q in snapshot.asks if q}
        self.last_update_id = snapshot.last_update_id
        pending = [d for d in buffered if d.last >= snapshot.last_update_id + (0 if self.futures else 1)]
        if pending and not self._straddles(pending[0], snapshot.last_update_id):
            self.reset()
            raise BookOutOfSync(f"snapshot {snapshot.last_update_id} is older than the first buffered diff")
        for diff in pending:
            self.on_diff(diff)

    def reset(self) -> None:
        self.bids, self.asks, self.last_update_id, self._buffer = {}, {}, None, []

    def _straddles(self, diff: DepthUpdate, snapshot_id: int) -> bool:
        if self.futures:
            return diff.first <= snapshot_id <= diff.last
        return diff.first <= snapshot_id + 1 <= diff.last

    def _continues(self, diff: DepthUpdate) -> bool:
        assert self.last_update_id is not None
        if self.futures and diff.previous is not None:
            return diff.previous == self.last_update_id or self._straddles(diff, self.last_update_id)
        return diff.first == self.last_update_id + 1 or self._straddles(diff, self.last_update_id)

    def _apply(self, diff: DepthUpdate) -> None:
        for side, levels in ((self.bids, diff.b), (self.asks, diff.a)):
            for price, qty in levels:
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)
        self.last_update_id = diff.last

    def top(self, levels: int) -> tuple[list[Level], list[Level]]:
        """The best `levels` of each side, best first."""
        bids = heapq.nlargest(levels, self.bids.items())
        asks = heapq.nsmallest(levels, self.asks.items())
        return bids, asks

    def snapshot(self, venue: str, symbol: str, levels: int = 20, ts_ns: int = 0) -> OrderBook:
        bids, asks = self.top(levels)
        return OrderBook(
            venue=venue,
            symbol=symbol,
            bids=[BookLevel(p, q) for p, q in bids],
            asks=[BookLevel(p, q) for p, q in asks],
            update_id=self.last_update_id or 0,
            ts_ns=ts_ns,
        )
