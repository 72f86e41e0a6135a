"""Background liquidity for a simulated venue, from a seeded model.

A market-maker account keeps ``levels`` quotes on each side of a mid price that moves
as a geometric random walk; a noise trader sends small market orders against them, so
books, trades, depth diffs and ticker streams look alive. Everything goes through the
venue's ordinary order entry (the same filters, balances and events as any client), and
the same seed gives the same market. On a futures venue the maker posts GTX limits
instead of LIMIT_MAKER and the model also sets (and so publishes) the mark price.

Related venues: models given one shared ``FairPrice`` follow the same underlying path
(one geometric random walk per symbol, drawn once from its own seed) and each adds its
own basis and a mean-reverting deviation (Ornstein-Uhlenbeck). Their mids then move
together but differ by a spread that opens and closes, as between real venues: what
routing and arbitrage need to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from oms.sim.binance.errors import BinanceApiError
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.usdm import FuturesExchange

D = Decimal
DEFAULT_SIZE = D("0.05")  # base units per quote level
MAKER = "market-maker"
TAKER = "noise-trader"


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` not above `value` (``quantize`` would round to the
    step's exponent instead: 0.10 allows 0.01 increments)."""
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


@dataclass
class SymbolModel:
    symbol: str
    mid: float
    sigma: float = 0.0002  # per step, relative
    spread_ticks: int = 2
    level_ticks: int = 5
    levels: int = 10
    size: Decimal = DEFAULT_SIZE
    # With a shared FairPrice: this venue's constant premium over it and the deviation's
    # volatility and pull back to zero, per step.
    basis: float = 0.0
    deviation_sigma: float = 0.0002
    reversion: float = 0.1
    deviation: float = 0.0


class FairPrice:
    """One underlying price path per symbol, shared by related venues' models: step `k`
    of a symbol is the same number for every model that asks."""

    def __init__(self, seed: int, sigma: float = 0.0002) -> None:
        self._rng = random.Random(seed)
        self.sigma = sigma
        self._paths: dict[str, list[float]] = {}

    def at(self, symbol: str, start: float, step: int) -> float:
        path = self._paths.setdefault(symbol, [start])
        while len(path) <= step:
            path.append(path[-1] * math.exp(self._rng.gauss(0, self.sigma)))
        return path[step]


class MarketModel:
    def __init__(
        self,
        venue: SpotExchange | FuturesExchange,
        models: list[SymbolModel],
        seed: int = 20240601,
        fair: FairPrice | None = None,
    ) -> None:
        self.venue = venue
        self.models = models
        self.rng = random.Random(seed)
        self.fair = fair
        self._steps = 0
        self._starts = {m.symbol: m.mid for m in models}
        self._quotes: dict[str, list[int]] = {m.symbol: [] for m in models}
        self._ids = 0
        funding: dict[str, Decimal] = {}
        for m in models:
            spec = venue.symbols[m.symbol]
            funding[spec.base] = funding.get(spec.base, D(0)) + m.size * m.levels * 1000
            funding[spec.quote] = funding.get(spec.quote, D(0)) + D(str(m.mid)) * m.size * m.levels * 1000
        for name in (MAKER, TAKER):
            if isinstance(venue, FuturesExchange):
                venue.add_account(name, sum(funding.values(), D(0)))
            else:
                venue.add_account(name, funding)
        # What a post-only quote is called on this venue.
        futures = isinstance(venue, FuturesExchange)
        self._post_only = {"type": "LIMIT", "timeInForce": "GTX"} if futures else {"type": "LIMIT_MAKER"}

    def _client_id(self) -> str:
        self._ids += 1
        return f"mm{self._ids}"

    def step(self) -> None:
        """Move every mid one step, re-quote around it, and let the noise trader trade."""
        self._steps += 1
        for m in self.models:
            self._move(m)
            if isinstance(self.venue, FuturesExchange):
                tick = self.venue.symbols[m.symbol].tick_size
                self.venue.set_mark_price(m.symbol, floor_to(D(str(m.mid)), tick))
            self._requote(m)
            if self.rng.random() < 0.5:
                self._noise_trade(m)

    def _move(self, m: SymbolModel) -> None:
        if self.fair is None:
            m.mid *= math.exp(self.rng.gauss(0, m.sigma))
            return
        m.deviation += -m.reversion * m.deviation + self.rng.gauss(0, m.deviation_sigma)
        fair = self.fair.at(m.symbol, self._starts[m.symbol], self._steps)
        m.mid = fair * (1 + m.basis + m.deviation)

    def _requote(self, m: SymbolModel) -> None:
        spec = self.venue.symbols[m.symbol]
        for order_id in self._quotes[m.symbol]:
            with contextlib.suppress(BinanceApiError):  # it may have filled meanwhile
                self.venue.cancel_order(MAKER, {"symbol": m.symbol, "orderId": str(order_id)})
        self._quotes[m.symbol] = []
        tick = spec.tick_size
        mid = floor_to(D(str(m.mid)), tick)
        for level in range(m.levels):
            offset = tick * (m.spread_ticks + level * m.level_ticks)
            for side, price in (("BUY", mid - offset), ("SELL", mid + offset)):
                qty = floor_to(m.size * D(str(1 + self.rng.random())), spec.step_size)
                params = {"symbol": m.symbol, "side": side, "quantity": str(qty), "price": str(price)}
                params |= self._post_only | {"newClientOrderId": self._client_id()}
                with contextlib.suppress(BinanceApiError):  # post-only may be refused at the edge
                    self._quotes[m.symbol].append(self.venue.new_order(MAKER, params)["orderId"])

    def _noise_trade(self, m: SymbolModel) -> None:
        spec = self.venue.symbols[m.symbol]
        qty = floor_to(m.size * D(str(self.rng.random())), spec.step_size)
        if qty <= 0:
            return
        side = self.rng.choice(["BUY", "SELL"])
        params = {"symbol": m.symbol, "side": side, "type": "MARKET", "quantity": str(qty)}
        with contextlib.suppress(BinanceApiError):  # below min notional, say
            self.venue.new_order(TAKER, params)

    async def run(self, interval: float = 0.5) -> None:
        """Step forever (until cancelled), every `interval` seconds."""
        while True:
            self.step()
            await asyncio.sleep(interval)
