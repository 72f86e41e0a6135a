"""The local book by Binance's procedure, on real recorded Binance streams: it stays in
sync through thousands of diffs, agrees with the recorded book ticker wherever both
describe the same update, and reports a lost diff as a gap."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from oms.exchanges.binance.depth import BookOutOfSync, DepthBook, DepthSnapshot, DepthUpdate
from oms.sim.binance.market_replay import read_recording

RECORDS = {
    "spot": "data/market/hftbacktest/spot/btcusdt_20240808.gz",
    "usdm": "data/market/hftbacktest/usdm/btcusdt_20230404.dat.gz",
}


def messages(shared_dir: Path, market: str, n: int) -> list[dict[str, Any]]:
    return list(itertools.islice(read_recording(shared_dir / RECORDS[market]), n))


def as_update(data: dict[str, Any]) -> DepthUpdate:
    return msgspec.json.decode(json.dumps(data).encode(), type=DepthUpdate)


def as_snapshot(data: dict[str, Any]) -> DepthSnapshot:
    return msgspec.json.decode(json.dumps(data).encode(), type=DepthSnapshot)


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_a_recorded_stream_stays_in_sync_and_matches_the_book_ticker(shared_dir: Path, market: str) -> None:
    book = DepthBook(futures=market == "usdm")
    applied = agreed = 0
    tickers: dict[int, dict[str, Any]] = {}  # by update id: the ticker often comes first

    def compare(ticker: dict[str, Any]) -> None:
        (bid, bid_qty), (ask, ask_qty) = (side[0] for side in book.top(1))
        assert (bid, bid_qty, ask, ask_qty) == tuple(Decimal(ticker[k]) for k in ("b", "B", "a", "A"))

    for message in messages(shared_dir, market, 8000):
        stream, data = message["stream"], message["data"]
        if stream == "snapshot":
            book.on_snapshot(as_snapshot(data))
        elif "@depth" in stream:
            applied += book.on_diff(as_update(data))
            if book.last_update_id in tickers:
                compare(tickers.pop(book.last_update_id))
                agreed += 1
        elif stream.endswith("@bookTicker"):
            if book.synced and data["u"] == book.last_update_id:
                compare(data)
                agreed += 1
            else:
                tickers[data["u"]] = data
    assert book.synced and applied > 500
    assert agreed > 20, "the ticker and the book met at the same update id often enough to mean something"


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_a_lost_diff_is_a_gap(shared_dir: Path, market: str) -> None:
    book = DepthBook(futures=market == "usdm")
    diffs_after = 0
    with pytest.raises(BookOutOfSync):
        for message in messages(shared_dir, market, 8000):
            if message["stream"] == "snapshot":
                book.on_snapshot(as_snapshot(message["data"]))
            elif "@depth" in message["stream"]:
                diffs_after += book.synced
                if diffs_after == 50:
                    continue  # lost on the way
                book.on_diff(as_update(message["data"]))
    assert not book.synced and book.bids == {} and book.top(5) == ([], [])


def test_a_snapshot_older_than_the_buffer_is_refused() -> None:
    book = DepthBook(futures=False)
    book.on_diff(DepthUpdate(first=101, last=105, b=[(Decimal(10), Decimal(1))], a=[]))
    with pytest.raises(BookOutOfSync):
        book.on_snapshot(DepthSnapshot(last_update_id=90, bids=[], asks=[]))
    book.on_diff(DepthUpdate(first=106, last=107, b=[], a=[(Decimal(11), Decimal(2))]))
    book.on_snapshot(DepthSnapshot(last_update_id=106, bids=[(Decimal(10), Decimal(3))], asks=[]))
    assert book.top(5) == ([(Decimal(10), Decimal(3))], [(Decimal(11), Decimal(2))])
    assert book.last_update_id == 107
    model = book.snapshot("binance:spot", "BTC/USDT", 5)
    assert model.best_bid is not None and model.update_id == 107
    assert (model.best_bid.price, model.best_bid.qty) == (Decimal(10), Decimal(3))
