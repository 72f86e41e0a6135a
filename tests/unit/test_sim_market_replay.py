"""Recorded Binance data replayed into the simulated venues: the mirrored book equals
the book Binance's own procedure builds from the same record, recorded trades trade
again, a client order inside the spread gets filled by the replayed flow, and a futures
record drives the mark price."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from oms.sim.binance.market_replay import MarketReplay, read_recording
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_symbols import FuturesSymbol

D = Decimal
MESSAGES = 6000  # ~4 minutes of BTCUSDT: the snapshot, ~500 diffs, ~1,000 trades


@pytest.fixture
def spot_record(shared_dir: Path) -> list[dict[str, Any]]:
    path = shared_dir / "data/market/hftbacktest/spot/btcusdt_20240808.gz"
    return list(itertools.islice(read_recording(path), MESSAGES))


class ReferenceBook:
    """Binance's documented local-book procedure, independent of the simulator."""

    def __init__(self) -> None:
        self.last_id: int | None = None
        self.sides: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}

    def apply(self, message: dict[str, Any]) -> bool:
        """True when the message changed the book (a diff after the snapshot)."""
        data = message["data"]
        if message["stream"] == "snapshot":
            self.last_id = data["lastUpdateId"]
            self.sides = {
                "b": {D(p): D(q) for p, q in data["bids"]},
                "a": {D(p): D(q) for p, q in data["asks"]},
            }
            return True
        if "@depth" not in message["stream"] or self.last_id is None or data["u"] < self.last_id:
            return False
        for key in ("b", "a"):
            for p, q in data[key]:
                if D(q):
                    self.sides[key][D(p)] = D(q)
                else:
                    self.sides[key].pop(D(p), None)
        return True

    def top(self, levels: int) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        return (
            sorted(self.sides["b"].items(), reverse=True)[:levels],
            sorted(self.sides["a"].items())[:levels],
        )


def test_the_mirrored_book_is_binances_book_after_every_diff(spot_record: list[dict[str, Any]]) -> None:
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
    replay, reference = MarketReplay(venue, "BTCUSDT"), ReferenceBook()
    trades: list[dict[str, Any]] = []
    venue.market_listeners.append(
        lambda stream, event: trades.append(event) if stream.endswith("@trade") else None
    )
    compared = 0
    for message in spot_record:
        replay.apply(message)
        if reference.apply(message):
            assert venue.books["BTCUSDT"].depth(10) == reference.top(10), message["data"].get("u")
            compared += 1
    assert compared == replay.applied["depth"] + 1 > 400
    assert len(trades) >= replay.applied["trade"] - replay.trades_short, "each replayed trade is published"
    assert replay.applied["trade"] >= 0.9 * len([m for m in spot_record if m["stream"].endswith("@trade")])
    assert replay.trades_short <= 0.15 * replay.applied["trade"], "most recorded trades fill in full again"


def test_a_client_bid_inside_the_spread_is_filled_by_the_replayed_sellers(
    spot_record: list[dict[str, Any]],
) -> None:
    """At the first moment the spread is wider than a tick, a client bids one tick above
    the best bid: alone at the best price, the next recorded sell trade fills it."""
    venue = SpotExchange([SpotSymbol(symbol="BTCUSDT", base="BTC", quote="USDT")])
    venue.add_account("client", {"USDT": "100000"})
    replay, book = MarketReplay(venue, "BTCUSDT"), venue.books["BTCUSDT"]
    messages = iter(spot_record)
    for message in messages:
        replay.apply(message)
        bid, ask = book.best_bid(), book.best_ask()
        if bid and ask and ask[0] - bid[0] > D("0.01"):
            break
    else:
        pytest.fail("the record never shows a spread wider than a tick")
    price = str(bid[0] + D("0.01"))
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": price}
    placed = venue.new_order("client", params | {"quantity": "0.001"})
    assert placed["status"] == "NEW"
    rest = list(messages)
    replay.play(rest)
    assert any(m["stream"].endswith("@trade") and m["data"]["m"] for m in rest), "the record sells later"
    order = venue.get_order("client", {"symbol": "BTCUSDT", "orderId": str(placed["orderId"])})
    assert (order["status"], order["executedQty"], order["price"]) == (
        "FILLED",
        "0.00100000",
        f"{D(price):.8f}",
    )
    client = venue.accounts["client"]
    assert client.free["BTC"] == D("0.001") * (1 - client.maker_fee), "filled as the maker"


def test_a_futures_record_drives_the_book_and_the_mark_price(shared_dir: Path) -> None:
    path = shared_dir / "data/market/hftbacktest/usdm/btcusdt_20230404.dat.gz"
    venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")])
    marks: list[dict[str, Any]] = []
    venue.market_listeners.append(
        lambda stream, event: marks.append(event) if "markPrice" in stream else None
    )
    replay, reference = MarketReplay(venue, "BTCUSDT"), ReferenceBook()
    for message in itertools.islice(read_recording(path), 3000):
        replay.apply(message)
        if reference.apply(message):
            assert venue.books["BTCUSDT"].depth(5) == reference.top(5)
    assert replay.applied["depth"] > 500 and replay.applied["trade"] > 100
    bid, ask = venue.books["BTCUSDT"].best_bid(), venue.books["BTCUSDT"].best_ask()
    assert bid is not None and ask is not None
    assert marks, "a mark price each recorded second"
    assert bid[0] - D("1") <= D(marks[-1]["p"]) <= ask[0] + D("1")
