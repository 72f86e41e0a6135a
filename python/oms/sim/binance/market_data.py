"""Market data a simulated venue publishes after every book change: trades, one depth
diff for the levels that changed, and the top of book when it moved, in the spot or the
USD-M futures dialect (futures adds event/transaction times and ``pu``, the previous
diff's final update id, and has no raw trade stream).

Listeners are called with (stream name, event); the stream server filters by
subscription. Update ids are consecutive per symbol, and the REST depth snapshot reports
the same counter as ``lastUpdateId``, so a client can follow Binance's documented
snapshot-plus-diffs procedure."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from oms.matching import MatchFill, MatchingEngine
from oms.model import Side

D = Decimal
ZERO = D(0)
Listener = Callable[[str, dict[str, Any]], None]
Top = tuple[object, object]


RECENT_TRADES = 1000  # Binance's largest `limit` for recent trades


class MarketPublisher:
    def __init__(self, symbols: Iterable[str], futures: bool, text: Callable[[Decimal], str]) -> None:
        self.futures = futures
        self.text = text
        self.update_ids = dict.fromkeys(symbols, 1000)
        self.listeners: list[Listener] = []
        # The last RECENT_TRADES trades per symbol, for GET trades / aggTrades / avgPrice.
        self.recent: dict[str, deque[dict[str, Any]]] = {
            s: deque(maxlen=RECENT_TRADES) for s in self.update_ids
        }

    def emit(self, stream: str, event: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(stream, event)

    def publish(
        self,
        symbol: str,
        book: MatchingEngine,
        changed: set[tuple[Side, Decimal]],
        top_before: Top,
        fills: list[MatchFill],
        taker_side: Side,
        now: int,
    ) -> None:
        """Trades, then the depth diff of `changed` (side, price) levels, then the ticker."""
        if not changed:
            return
        stream = symbol.lower()
        for fill in fills:
            self._trade(stream, symbol, fill, taker_side is Side.SELL, now)
        previous = self.update_ids[symbol]
        self.update_ids[symbol] = update_id = previous + 1
        diff = {
            key: sorted(
                (
                    [self.text(p), self.text(book.level_qty(side.value, p))]
                    for side, p in changed
                    if side is level_side
                ),
                key=lambda level: D(level[0]),
                reverse=level_side is Side.BUY,
            )
            for key, level_side in (("b", Side.BUY), ("a", Side.SELL))
        }
        depth: dict[str, Any] = {"e": "depthUpdate", "E": now, "s": symbol, "U": update_id, "u": update_id}
        if self.futures:
            depth |= {"T": now, "pu": previous}
        self.emit(f"{stream}@depth", depth | diff)
        top = (book.best_bid(), book.best_ask())
        if top != top_before:
            self._ticker(stream, symbol, top, update_id, now)

    def _trade(self, stream: str, symbol: str, fill: MatchFill, buyer_is_maker: bool, now: int) -> None:
        price, qty = self.text(fill.price), self.text(fill.qty)
        self.recent[symbol].append(
            {
                "id": fill.trade_id,
                "price": price,
                "qty": qty,
                "quoteQty": self.text(fill.price * fill.qty),
                "time": now,
                "isBuyerMaker": buyer_is_maker,
            }
        )
        agg: dict[str, Any] = {
            "e": "aggTrade",
            "E": now,
            "s": symbol,
            "a": fill.trade_id,
            "p": price,
            "q": qty,
        }
        if self.futures:
            agg["nq"] = qty
        agg |= {"f": fill.trade_id, "l": fill.trade_id, "T": now, "m": buyer_is_maker}
        if not self.futures:
            agg["M"] = True
            trade = {"e": "trade", "E": now, "s": symbol, "t": fill.trade_id, "p": price, "q": qty, "T": now}
            self.emit(f"{stream}@trade", trade | {"m": buyer_is_maker, "M": True})
        self.emit(f"{stream}@aggTrade", agg)

    def _ticker(self, stream: str, symbol: str, top: tuple[Any, Any], update_id: int, now: int) -> None:
        (bid, bid_qty), (ask, ask_qty) = top[0] or (ZERO, ZERO), top[1] or (ZERO, ZERO)
        quote = {"b": self.text(bid), "B": self.text(bid_qty), "a": self.text(ask), "A": self.text(ask_qty)}
        if self.futures:
            ticker = {"e": "bookTicker", "u": update_id, "E": now, "T": now, "s": symbol} | quote
        else:
            ticker = {"u": update_id, "s": symbol} | quote
        self.emit(f"{stream}@bookTicker", ticker)

    def partial_depth(self, book: MatchingEngine, levels: int, diff: dict[str, Any]) -> dict[str, Any]:
        """``<symbol>@depth<levels>``: the top `levels` of the book as of `diff` (spot: a
        snapshot with ``lastUpdateId``; futures: a ``depthUpdate`` carrying the levels)."""
        bids, asks = book.depth(levels)
        top_bids = [[self.text(p), self.text(q)] for p, q in bids]
        top_asks = [[self.text(p), self.text(q)] for p, q in asks]
        if not self.futures:
            return {"lastUpdateId": diff["u"], "bids": top_bids, "asks": top_asks}
        header = {k: diff[k] for k in ("e", "E", "T", "s", "U", "u", "pu")}
        return header | {"b": top_bids, "a": top_asks}
