"""Recorded Binance market data replayed as a simulated venue's background market.

The recordings in ``../shared/data/market/hftbacktest/`` hold what Binance's combined
streams sent (``<receive time> <JSON>`` per line, gzipped): a REST depth snapshot,
diff-depth updates, trades, book tickers and, in the 2023 USD-M files, mark prices.

A replay account mirrors the recorded book in the venue's own matching engine: the
snapshot and then each diff set the quantity it shows at every price (Binance's
procedure: diffs that end before the snapshot's ``lastUpdateId`` are skipped). A recorded trade
is re-executed as an IOC order of a second replay account at the trade's price and
size, so it takes the mirrored liquidity, and any client order priced as well or
better, in price-time priority: client orders rest, fill and move the market as they
would have in that market. The next diff then resets the mirrored quantities to the
record. Mark prices go to the futures venue's mark (a recording without them: the mid,
once a second). Both replay accounts place their
orders as the venue's liquidity (no symbol filters) and hold effectively unlimited
funds, so the record is followed exactly wherever clients do not interfere.

Pace: ``run`` follows the recorded exchange times (``E``), ``speed`` times faster;
``play`` applies messages at once (tests, backtests).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.market_model import floor_to
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.usdm import FuturesExchange

D = Decimal
ZERO = D(0)
MAKER = "replay-book"
TAKER = "replay-trades"
UNLIMITED = D("1e15")
_TRADE_REACH = 50  # book levels one recorded trade may walk through


def read_recording(path: Path | str) -> Iterator[dict[str, Any]]:
    """The messages of a recording, in order: ``{"stream": ..., "data": ...}`` for stream
    messages, and the REST snapshot as ``{"stream": "snapshot", "data": ...}``."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            _, _, text = line.partition(" ")
            message = json.loads(text)
            yield message if "stream" in message else {"stream": "snapshot", "data": message}


@dataclass
class _Level:
    order_ids: list[int] = field(default_factory=list)


class MarketReplay:
    def __init__(self, venue: SpotExchange | FuturesExchange, symbol: str) -> None:
        self.venue, self.symbol = venue, symbol
        self.futures = isinstance(venue, FuturesExchange)
        self._levels: dict[tuple[str, Decimal], _Level] = {}
        self._recorded: dict[tuple[str, Decimal], Decimal] = {}  # the record's book
        self._snapshot_id: int | None = None
        self._mark_second = -1
        self.applied = {"depth": 0, "trade": 0, "markPrice": 0, "skipped": 0}
        self.trades_short = 0  # recorded trades the mirrored book could not fill in full
        for name in (MAKER, TAKER):
            if name in venue.accounts:
                continue
            if isinstance(venue, FuturesExchange):
                venue.add_account(name, UNLIMITED)
            else:
                spec = venue.symbols[symbol]
                venue.add_account(name, {spec.base: UNLIMITED, spec.quote: UNLIMITED})

    # ---- applying messages ----

    def apply(self, message: dict[str, Any]) -> None:
        stream, data = message["stream"], message["data"]
        if stream == "snapshot":
            self._snapshot(data)
        elif "@depth" in stream:
            self._diff(data)
        elif stream.endswith("@trade"):
            self._trade(data)
        elif "@markPrice" in stream and isinstance(self.venue, FuturesExchange):
            self.venue.set_mark_price(self.symbol, data["p"])
            self.applied["markPrice"] += 1

    def play(self, messages: Iterable[dict[str, Any]]) -> None:
        for message in messages:
            self.apply(message)

    async def run(self, messages: Iterable[dict[str, Any]], speed: float = 1.0) -> None:
        """Apply the messages at the recorded pace (``speed`` times faster)."""
        last: int | None = None
        for message in messages:
            at = message["data"].get("E")
            if at is not None and last is not None and at > last:
                await asyncio.sleep((at - last) / 1000 / speed)
            last = at if at is not None else last
            self.apply(message)

    def _snapshot(self, data: dict[str, Any]) -> None:
        self._snapshot_id = int(data["lastUpdateId"])
        wanted = {("BUY", D(p)): D(q) for p, q in data["bids"]} | {
            ("SELL", D(p)): D(q) for p, q in data["asks"]
        }
        for key in list(self._levels):
            wanted.setdefault(key, ZERO)
        self._set_levels(wanted)

    def _diff(self, data: dict[str, Any]) -> None:
        if self._snapshot_id is None or int(data["u"]) < self._snapshot_id:
            self.applied["skipped"] += 1  # wholly before the snapshot: Binance says drop it
            return
        wanted = {("BUY", D(p)): D(q) for p, q in data["b"]} | {("SELL", D(p)): D(q) for p, q in data["a"]}
        self._set_levels(wanted)
        self.applied["depth"] += 1
        self._mark_from_mid(int(data["E"]))

    def _mark_from_mid(self, now_ms: int) -> None:
        """A futures recording without mark prices: the mid, once per recorded second,
        stands in (so margin, P&L and the markPrice stream follow the replayed market)."""
        venue = self.venue
        if (
            not isinstance(venue, FuturesExchange)
            or self.applied["markPrice"]
            or now_ms // 1000 == self._mark_second
        ):
            return
        bid, ask = venue.books[self.symbol].best_bid(), venue.books[self.symbol].best_ask()
        if bid and ask:
            self._mark_second = now_ms // 1000
            tick = venue.symbols[self.symbol].tick_size
            venue.set_mark_price(self.symbol, floor_to((bid[0] + ask[0]) / 2, tick))

    def _set_levels(self, wanted: dict[tuple[str, Decimal], Decimal]) -> None:
        """Shrinks first, then growth: a level that moved across the spread within one
        update never meets the stale opposite level."""
        for key, qty in wanted.items():
            if qty:
                self._recorded[key] = qty
            else:
                self._recorded.pop(key, None)
        current = {key: self._shown(key) for key in wanted}
        for key, qty in wanted.items():
            if qty < current[key]:
                self._shrink(key, qty)
        for key, qty in wanted.items():
            if qty > current[key]:
                self._grow(key, qty - current[key])

    # ---- the mirrored book ----

    def _order(self, order_id: int) -> Any:
        return self.venue.orders.get(self.symbol, order_id)

    def _shown(self, key: tuple[str, Decimal]) -> Decimal:
        """What the replay account still shows at a price (its orders fill meanwhile)."""
        level = self._levels.get(key)
        if level is None:
            return ZERO
        orders = [self._order(i) for i in level.order_ids]
        level.order_ids = [o.order_id for o in orders if o is not None and o.is_open]
        return sum((o.orig_qty - o.executed_qty for o in orders if o is not None and o.is_open), ZERO)

    def _shrink(self, key: tuple[str, Decimal], target: Decimal) -> None:
        """Cancel the newest orders at the price until at most `target` shows, then top up."""
        level = self._levels[key]
        while level.order_ids and self._shown(key) > target:
            self._cancel(level.order_ids.pop())
        shown = self._shown(key)
        if shown < target:
            self._grow(key, target - shown)

    def _grow(self, key: tuple[str, Decimal], qty: Decimal) -> None:
        side, price = key
        params = {
            "symbol": self.symbol,
            "side": side,
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": str(qty),
            "price": str(price),
        }
        try:
            placed = self.venue.new_order(MAKER, params, liquidity=True)
        except BinanceApiError:
            return  # e.g. a price the symbol cannot hold
        order = self._order(placed["orderId"])
        if order is not None and order.is_open:
            self._levels.setdefault(key, _Level()).order_ids.append(order.order_id)

    def _cancel(self, order_id: int) -> None:
        with contextlib.suppress(BinanceApiError):  # filled meanwhile
            self.venue.cancel_order(MAKER, {"symbol": self.symbol, "orderId": str(order_id)})

    def _trade(self, data: dict[str, Any]) -> None:
        """Re-execute a recorded trade (the taker sold into bids if the buyer was the
        maker), then put the mirrored levels it took back to the record: the record's
        depth already shows, or will show, what the trade took (on futures the diff
        often comes first), so the replay must not take it twice."""
        side = "SELL" if data["m"] else "BUY"
        price = D(data["p"])
        bids, asks = self.venue.books[self.symbol].depth(_TRADE_REACH)
        touched = [p for p, _ in bids if p >= price] if side == "SELL" else [p for p, _ in asks if p <= price]
        maker_side = "BUY" if side == "SELL" else "SELL"
        params = {
            "symbol": self.symbol,
            "side": side,
            "type": "LIMIT",
            "timeInForce": "IOC",
            "quantity": data["q"],
            "price": data["p"],
        }
        try:
            answer = self.venue.new_order(TAKER, params, liquidity=True)
        except BinanceApiError:
            self.trades_short += 1
            return
        self.applied["trade"] += 1
        if D(answer.get("executedQty", "0")) < D(data["q"]):
            self.trades_short += 1
        self._set_levels({(maker_side, p): self._recorded.get((maker_side, p), ZERO) for p in touched})
