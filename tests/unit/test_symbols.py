"""Unified symbols, venue ids, subjects, and the mapping built from venue metadata."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.errors import InvalidInput, UnknownSymbol
from oms.model import InstrumentKind
from oms.symbols import (
    Symbol,
    SymbolMap,
    from_binance_spot,
    from_binance_usdm,
    from_bybit,
    from_okx,
    from_upbit,
    parse_symbol,
    parse_venue,
    subject,
)


@pytest.mark.parametrize(
    ("text", "kind", "inverse"),
    [
        ("BTC/USDT", InstrumentKind.SPOT, False),
        ("BTC/USDT:USDT", InstrumentKind.SWAP, False),
        ("BTC/USD:BTC", InstrumentKind.SWAP, True),
        ("BTC/USDT:USDT-251226", InstrumentKind.FUTURE, False),
        ("1000PEPE/USDT:USDT", InstrumentKind.SWAP, False),
    ],
)
def test_unified_forms(text: str, kind: InstrumentKind, inverse: bool) -> None:
    symbol = parse_symbol(text)
    assert (str(symbol), symbol.kind, symbol.is_inverse) == (text, kind, inverse)


@pytest.mark.parametrize(
    "text", ["BTCUSDT", "btc/usdt", "BTC/USDT:", "BTC/USDT:USDT-2512", "BTC/USDT:USDT-251340", ""]
)
def test_bad_unified_symbols_explain_the_form(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_symbol(text)
    assert caught.value.code == "INVALID_SYMBOL"
    assert "BASE/QUOTE" in caught.value.message or "not a date" in caught.value.message


def test_venue_ids_and_subjects() -> None:
    assert parse_venue("binance:usdm") == ("binance", "usdm")
    for bad in ("binance", "Binance:spot", "binance:", ":spot", "binance spot"):
        with pytest.raises(InvalidInput):
            parse_venue(bad)
    assert subject("orders", "binance:spot", "BTCUSDT") == "orders.binance.spot.BTCUSDT"
    assert subject("trades", "okx:swap", "BTC-USDT-SWAP") == "trades.okx.swap.BTC-USDT-SWAP"
    assert subject("positions", "binance:usdm") == "positions.binance.usdm"
    assert subject("md", "x:y", "A.B*C>D E") == "md.x.y.A_B_C_D_E", "no token may split or wildcard a subject"


def test_real_binance_exchange_info_entries(shared_dir: Path) -> None:
    reference = shared_dir / "reference" / "binance"
    spot = json.loads((reference / "exchangeInfo_spot_sample.json").read_text())
    entries = [s for sample in spot["samples"] for s in (sample.get("json") or {}).get("symbols", [])]
    assert entries, "the reference has symbol entries"
    for entry in entries:
        native, symbol = from_binance_spot(entry)
        assert native == entry["symbol"] and symbol.kind is InstrumentKind.SPOT
        assert native == symbol.base + symbol.quote
    futures = json.loads((reference / "exchangeInfo_futures_sample.json").read_text())
    fut_entries = [s for sample in futures["samples"] for s in (sample.get("json") or {}).get("symbols", [])]
    assert fut_entries
    for entry in fut_entries:
        _, symbol = from_binance_usdm(entry)
        assert symbol.settle == entry["marginAsset"]


# ---- every venue's metadata, both ways ----

assets = st.from_regex(r"[A-Z][A-Z0-9]{1,7}", fullmatch=True)
expiries = st.dates(dt.date(2025, 1, 1), dt.date(2030, 12, 31))


def _ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, 8, tzinfo=dt.UTC).timestamp() * 1000)


def venue_entries(base: str, quote: str, day: dt.date) -> list[tuple[str, tuple[str, Symbol], str]]:
    """(venue, parsed metadata, expected native) for one instrument of each kind per venue."""
    yymmdd = day.strftime("%y%m%d")
    rows: list[tuple[str, dict[str, Any] | tuple[dict[str, Any], str], str]] = [
        ("binance:spot", {"symbol": base + quote, "baseAsset": base, "quoteAsset": quote}, base + quote),
        (
            "binance:usdm",
            {
                "symbol": base + quote,
                "baseAsset": base,
                "quoteAsset": quote,
                "marginAsset": quote,
                "contractType": "PERPETUAL",
            },
            base + quote,
        ),
        (
            "binance:usdm",
            {
                "symbol": f"{base}{quote}_{yymmdd}",
                "baseAsset": base,
                "quoteAsset": quote,
                "marginAsset": quote,
                "contractType": "CURRENT_QUARTER",
                "deliveryDate": _ms(day),
            },
            f"{base}{quote}_{yymmdd}",
        ),
        (
            "bybit:linear",
            (
                {
                    "symbol": base + quote,
                    "baseCoin": base,
                    "quoteCoin": quote,
                    "settleCoin": quote,
                    "contractType": "LinearPerpetual",
                    "deliveryTime": "0",
                },
                "linear",
            ),
            base + quote,
        ),
        (
            "bybit:inverse",
            (
                {
                    "symbol": base + "USD",
                    "baseCoin": base,
                    "quoteCoin": "USD",
                    "settleCoin": base,
                    "contractType": "InversePerpetual",
                    "deliveryTime": "0",
                },
                "inverse",
            ),
            base + "USD",
        ),
        (
            "okx:spot",
            {"instType": "SPOT", "instId": f"{base}-{quote}", "baseCcy": base, "quoteCcy": quote},
            f"{base}-{quote}",
        ),
        (
            "okx:swap",
            {
                "instType": "SWAP",
                "instId": f"{base}-{quote}-SWAP",
                "uly": f"{base}-{quote}",
                "settleCcy": quote,
            },
            f"{base}-{quote}-SWAP",
        ),
        (
            "okx:swap",
            {
                "instType": "SWAP",
                "instId": f"{base}-USD-SWAP",
                "instFamily": f"{base}-USD",
                "settleCcy": base,
            },
            f"{base}-USD-SWAP",
        ),
        (
            "okx:futures",
            {
                "instType": "FUTURES",
                "instId": f"{base}-{quote}-{yymmdd}",
                "uly": f"{base}-{quote}",
                "settleCcy": quote,
                "expTime": str(_ms(day)),
            },
            f"{base}-{quote}-{yymmdd}",
        ),
        ("upbit:spot", {"market": f"{quote}-{base}"}, f"{quote}-{base}"),
    ]
    out = []
    for venue, meta, native in rows:
        if venue.startswith("binance:spot"):
            parsed = from_binance_spot(meta)  # type: ignore[arg-type]
        elif venue.startswith("binance"):
            parsed = from_binance_usdm(meta)  # type: ignore[arg-type]
        elif venue.startswith("bybit"):
            entry, category = meta  # type: ignore[misc]
            parsed = from_bybit(entry, category)
        elif venue.startswith("okx"):
            parsed = from_okx(meta)  # type: ignore[arg-type]
        else:
            parsed = from_upbit(meta)  # type: ignore[arg-type]
        out.append((venue, parsed, native))
    return out


@given(assets, assets, expiries)
def test_symbols_round_trip_on_all_five_venues(base: str, quote: str, day: dt.date) -> None:
    for venue, (native, symbol), expected_native in venue_entries(base, quote, day):
        assert native == expected_native
        unified = str(symbol)
        assert parse_symbol(unified) == symbol
        mapping = SymbolMap(venue, [(native, symbol)])
        assert mapping.to_native(unified) == native
        assert mapping.to_unified(native) == unified
        if symbol.expiry:
            assert symbol.expiry == day.strftime("%y%m%d")


def test_examples_per_venue() -> None:
    day = dt.date(2025, 12, 26)
    got = {(venue, native): str(symbol) for venue, (native, symbol), _ in venue_entries("BTC", "USDT", day)}
    assert got[("binance:spot", "BTCUSDT")] == "BTC/USDT"
    assert got[("binance:usdm", "BTCUSDT")] == "BTC/USDT:USDT"
    assert got[("binance:usdm", "BTCUSDT_251226")] == "BTC/USDT:USDT-251226"
    assert got[("bybit:inverse", "BTCUSD")] == "BTC/USD:BTC"
    assert got[("okx:swap", "BTC-USDT-SWAP")] == "BTC/USDT:USDT"
    assert got[("okx:swap", "BTC-USD-SWAP")] == "BTC/USD:BTC"
    assert got[("okx:futures", "BTC-USDT-251226")] == "BTC/USDT:USDT-251226"
    assert got[("upbit:spot", "USDT-BTC")] == "BTC/USDT"


def test_unknown_symbols_list_the_closest() -> None:
    mapping = SymbolMap(
        "binance:spot",
        [("BTCUSDT", "BTC/USDT"), ("ETHUSDT", "ETH/USDT"), ("BTCUSDC", "BTC/USDC"), ("SOLUSDT", "SOL/USDT")],
    )
    with pytest.raises(UnknownSymbol) as caught:
        mapping.to_native("BTC/USDTT")
    assert caught.value.code == "UNKNOWN_SYMBOL"
    assert caught.value.details["suggestions"][0] == "BTC/USDT"
    assert "closest: BTC/USDT" in caught.value.message
    with pytest.raises(UnknownSymbol):
        mapping.to_unified("XRPUSDT")
    with pytest.raises(InvalidInput):
        SymbolMap("binance:spot", [("A1", "BTC/USDT"), ("A2", "BTC/USDT")])
