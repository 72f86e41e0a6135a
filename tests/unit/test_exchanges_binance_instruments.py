"""exchangeInfo -> Instrument: the simulator's symbols read back to exactly the rules
the simulator enforces, and Binance's published entries give the expected rules."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from oms.exchanges.binance.instruments import instruments, spot_instrument, usdm_instrument
from oms.model import InstrumentKind
from oms.sim.binance.paper import FUTURES_SYMBOLS, SPOT_SYMBOLS
from oms.sim.binance.spot import SpotExchange
from oms.sim.binance.usdm_symbols import FuturesSymbol

D = Decimal


def published(shared_dir: Path, name: str) -> dict[str, Any]:
    data = json.loads((shared_dir / "reference/binance" / name).read_text())
    return {s["id"]: s["json"] for s in data["samples"]}


def test_the_simulators_symbols_read_back_to_their_own_rules() -> None:
    for spot in SPOT_SYMBOLS:
        assert spot_instrument(spot.exchange_info()) == spot.instrument(), spot.symbol
    for futures in FUTURES_SYMBOLS:
        assert usdm_instrument(futures.exchange_info()) == futures.instrument(), futures.symbol
    venue = SpotExchange(SPOT_SYMBOLS)
    assert [i.symbol for i in instruments(venue.exchange_info(), "spot")] == ["BTC/USDT", "ETH/USDT"]


def test_published_spot_entry(shared_dir: Path) -> None:
    entry = published(shared_dir, "exchangeInfo_spot_sample.json")[
        "RECONSTRUCTED.ETHBTC_with_all_documented_filters"
    ]
    entry = entry["symbols"][0] if "symbols" in entry else entry
    inst = spot_instrument(entry)
    assert (inst.symbol, inst.native_symbol, inst.kind, inst.base, inst.quote) == (
        "ETH/BTC",
        "ETHBTC",
        InstrumentKind.SPOT,
        "ETH",
        "BTC",
    )
    filters = {f["filterType"]: f for f in entry["filters"]}
    assert inst.tick_size == D(filters["PRICE_FILTER"]["tickSize"])
    assert inst.step_size == D(filters["LOT_SIZE"]["stepSize"])
    assert inst.min_notional == D(filters["NOTIONAL"]["minNotional"])
    assert inst.bid_up_multiplier == D(filters["PERCENT_PRICE_BY_SIDE"]["bidMultiplierUp"])
    assert inst.max_num_orders == filters["MAX_NUM_ORDERS"]["maxNumOrders"]


def test_published_futures_entry(shared_dir: Path) -> None:
    info = published(shared_dir, "exchangeInfo_futures_sample.json")["third_party_capture.2022-02-19.BTCUSDT"]
    [inst] = instruments(info, "usdm")
    assert (inst.symbol, inst.kind, inst.settle, inst.expiry_ns) == (
        "BTC/USDT:USDT",
        InstrumentKind.SWAP,
        "USDT",
        None,
    )
    assert (inst.tick_size, inst.min_price, inst.step_size, inst.min_notional) == (
        D("0.10"),
        D(402),
        D("0.001"),
        D(10),
    )
    assert (inst.bid_up_multiplier, inst.ask_down_multiplier, inst.max_num_orders) == (
        D("1.1"),
        D("0.5454"),
        200,
    )
    assert inst.steps_from_minimum


def test_a_dated_future_expires() -> None:
    entry = FuturesSymbol(symbol="BTCUSDT_250627", base="BTC").exchange_info()
    entry |= {"contractType": "CURRENT_QUARTER", "deliveryDate": 1751011200000}
    inst = usdm_instrument(entry)
    assert (inst.kind, inst.expiry_ns) == (InstrumentKind.FUTURE, 1751011200000 * 1_000_000)
