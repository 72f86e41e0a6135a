"""The seeded market model keeps a two-sided book, trades, and repeats itself."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oms.sim.binance.market_model import FairPrice, MarketModel, SymbolModel
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_symbols import FuturesSymbol


def run(seed: int, steps: int) -> SpotExchange:
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")], clock_ms=lambda: 1)
    model = MarketModel(venue, [SymbolModel("BTCUSDT", 50_000.0)], seed)
    for _ in range(steps):
        model.step()
    return venue


def test_a_live_two_sided_book_with_trades() -> None:
    venue = run(7, 40)
    bid, ask = venue.books["BTCUSDT"].best_bid(), venue.books["BTCUSDT"].best_ask()
    assert bid is not None and ask is not None and bid[0] < ask[0]
    assert abs((bid[0] + ask[0]) / 2 - Decimal(50_000)) < Decimal(2_000)
    bids, asks = venue.books["BTCUSDT"].depth(100)
    assert len(bids) == len(asks) == 10
    assert len(venue.trades) > 10


def test_the_same_seed_gives_the_same_market() -> None:
    first, second, other = run(3, 25), run(3, 25), run(4, 25)
    assert first.books["BTCUSDT"].depth(10) == second.books["BTCUSDT"].depth(10)
    assert [t["price"] for t in first.trades] == [t["price"] for t in second.trades]
    assert [t["price"] for t in first.trades] != [t["price"] for t in other.trades]


def test_a_futures_market_with_quotes_trades_and_a_mark_price() -> None:
    venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")], clock_ms=lambda: 1)
    marks: list[dict[str, object]] = []
    venue.market_listeners.append(lambda stream, event: stream.endswith("@markPrice") and marks.append(event))
    model = MarketModel(venue, [SymbolModel("BTCUSDT", 50_000.0)], seed=5)
    for _ in range(30):
        model.step()
    bids, asks = venue.books["BTCUSDT"].depth(100)
    assert len(bids) == len(asks) == 10 and bids[0][0] < asks[0][0]
    assert len(venue.trades) > 10
    assert len(marks) == 30 and Decimal(str(marks[-1]["p"])) == venue.mark_price["BTCUSDT"]
    assert bids[0][0] < venue.mark_price["BTCUSDT"] < asks[0][0]


def test_related_venues_follow_one_fair_price_with_their_own_deviation() -> None:
    """Spot and futures on one FairPrice: their mids move together (the same path) yet
    differ, by about the futures basis plus deviations that revert rather than drift."""
    spot = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")], clock_ms=lambda: 1)
    futures = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")], clock_ms=lambda: 1)
    fair = FairPrice(seed=9, sigma=0.002)
    spot_model = MarketModel(spot, [SymbolModel("BTCUSDT", 50_000.0)], seed=1, fair=fair)
    futures_model = MarketModel(futures, [SymbolModel("BTCUSDT", 50_000.0, basis=0.001)], seed=2, fair=fair)
    spreads, fairs = [], []
    for step in range(1, 201):
        spot_model.step()
        futures_model.step()
        spreads.append(futures_model.models[0].mid / spot_model.models[0].mid - 1)
        fairs.append(fair.at("BTCUSDT", 50_000.0, step))
    assert abs(fairs[-1] / fairs[0] - 1) > 0.01, "the shared path itself moved"
    assert all(abs(s - 0.001) < 0.003 for s in spreads), "the venues stay within a band"
    assert len({round(s, 6) for s in spreads}) > 100, "the spread opens and closes"
    assert sum(spreads) / len(spreads) == pytest.approx(0.001, abs=0.0005)
    # the venues' books sit around their own mids
    spot_bid, futures_bid = spot.books["BTCUSDT"].best_bid(), futures.books["BTCUSDT"].best_bid()
    assert spot_bid is not None and futures_bid is not None and spot_bid[0] != futures_bid[0]
