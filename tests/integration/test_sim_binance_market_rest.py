"""Public market-data REST of both simulators through the official SDKs: recent and
aggregate trades, book and price tickers, the average price; raw answers have the
published samples' fields."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from binance_common.configuration import ConfigurationRestAPI
from binance_common.errors import BadRequestError
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)
from binance_sdk_spot.spot import Spot

from oms.sim.binance import auth
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.spot_rest import SpotRestServer
from oms.sim.binance.spot_symbols import SpotSymbol
from oms.sim.binance.usdm import FuturesExchange
from oms.sim.binance.usdm_rest import FuturesRestServer
from oms.sim.binance.usdm_symbols import FuturesSymbol
from oms.sim.server_thread import ServerThread


@pytest.fixture
def spot_url() -> Iterator[str]:
    venue = SpotExchange([SpotSymbol(symbol=s, base=s[:3], quote="USDT") for s in ("BTCUSDT", "ETHUSDT")])
    for name in ("mm", "taker"):
        venue.add_account(name, {"BTC": "10", "USDT": "1000000"})
    limit = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}
    venue.new_order("mm", limit | {"side": "SELL", "quantity": "0.5", "price": "50010"})
    venue.new_order("mm", limit | {"side": "BUY", "quantity": "0.7", "price": "49990"})
    for qty in ("0.1", "0.2"):
        venue.new_order("taker", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": qty})
    running = ServerThread(SpotRestServer(venue, auth.KeyStore()))
    try:
        yield running.url
    finally:
        running.close()


def raw(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def samples(shared_dir: Path) -> dict[str, Any]:
    data = json.loads((shared_dir / "reference/binance/market_data_events.json").read_text())
    return {s["id"]: s["json"] for s in data["samples"]}


def test_spot_trades_tickers_and_average_price(spot_url: str, shared_dir: Path) -> None:
    url = spot_url
    api = Spot(config_rest_api=ConfigurationRestAPI(base_path=url, timeout=5000, retries=0)).rest_api
    trades = api.get_trades(symbol="BTCUSDT").data()
    assert [(t.price, t.qty, t.is_buyer_maker) for t in trades] == [
        ("50010.00000000", "0.10000000", False),
        ("50010.00000000", "0.20000000", False),
    ]
    assert [a.a for a in api.agg_trades(symbol="BTCUSDT", from_id=trades[1].id).data()] == [trades[1].id]
    ticker = api.ticker_book_ticker(symbol="BTCUSDT").data().actual_instance
    assert (ticker.bid_price, ticker.bid_qty, ticker.ask_price, ticker.ask_qty) == (
        "49990.00000000",
        "0.70000000",
        "50010.00000000",
        "0.20000000",
    )
    assert api.ticker_price(symbol="BTCUSDT").data().actual_instance.price == "50010.00000000"
    assert Decimal(api.avg_price(symbol="BTCUSDT").data().price) == Decimal("50010")
    published = samples(shared_dir)
    for path, sample in (
        ("trades?symbol=BTCUSDT", "spot.rest.trades"),
        ("aggTrades?symbol=BTCUSDT", "spot.rest.aggTrades"),
        ("ticker/bookTicker?symbol=BTCUSDT", "spot.rest.bookTicker.single"),
        ("ticker/bookTicker", "spot.rest.bookTicker.multi"),
        ("ticker/price?symbol=BTCUSDT", "spot.rest.ticker_price.single"),
        ("avgPrice?symbol=BTCUSDT", "spot.rest.avgPrice"),
    ):
        ours, theirs = raw(f"{url}/api/v3/{path}"), published[sample]
        ours, theirs = (ours[0], theirs[0]) if isinstance(theirs, list) else (ours, theirs)
        assert set(ours) == set(theirs), path
    both = raw(f"{url}/api/v3/ticker/price?symbols=%5B%22ETHUSDT%22%2C%22BTCUSDT%22%5D")
    assert [row["symbol"] for row in both] == ["ETHUSDT", "BTCUSDT"]
    with pytest.raises(BadRequestError) as unknown:
        api.ticker_price(symbol="XYZUSDT")
    assert unknown.value.status_code == -1121


def test_futures_trades_and_tickers(shared_dir: Path) -> None:
    venue = FuturesExchange([FuturesSymbol(symbol="BTCUSDT", base="BTC")])
    for name in ("mm", "taker"):
        venue.add_account(name, "1000000")
    venue.set_mark_price("BTCUSDT", "50000")
    limit = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}
    venue.new_order("mm", limit | {"side": "SELL", "quantity": "0.5", "price": "50010"})
    venue.new_order("taker", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"})
    running = ServerThread(FuturesRestServer(venue, auth.KeyStore()))
    try:
        config = ConfigurationRestAPI(base_path=running.url, timeout=5000, retries=0)
        api = DerivativesTradingUsdsFutures(config_rest_api=config).rest_api
        [trade] = api.recent_trades_list(symbol="BTCUSDT").data()
        assert (trade.price, trade.qty, trade.is_buyer_maker) == ("50010", "0.1", False)
        ticker = api.symbol_order_book_ticker(symbol="BTCUSDT").data().actual_instance
        assert (ticker.ask_price, ticker.ask_qty) == ("50010", "0.4")
        ours = raw(f"{running.url}/fapi/v1/ticker/bookTicker?symbol=BTCUSDT")
        assert set(ours) == set(samples(shared_dir)["futures.rest.bookTicker.single"])
    finally:
        running.close()
