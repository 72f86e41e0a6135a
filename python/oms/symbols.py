"""Unified symbols (the CCXT convention) and venue ids, and their mapping to each
venue's native symbols.

Unified forms::

    BTC/USDT                spot
    BTC/USDT:USDT           linear perpetual (settled in USDT)
    BTC/USD:BTC             inverse perpetual (settled in the base)
    BTC/USDT:USDT-251226    dated future, expiring 2025-12-26

Venue ids are ``exchange:market`` (``binance:spot``, ``binance:usdm``, ``bybit:linear``,
``okx:swap``, ``upbit:spot``). The unified <-> native mapping is built from each
venue's instrument metadata (``from_*`` below read the fields the venue publishes),
never by guessing from the native string; a :class:`SymbolMap` holds the result and
refuses unknown symbols with the closest matches.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import msgspec

from oms.errors import InvalidInput, UnknownSymbol
from oms.model.enums import InstrumentKind

_ASSET = r"[A-Z0-9][A-Z0-9_.]{0,19}"
_UNIFIED = re.compile(
    rf"^(?P<base>{_ASSET})/(?P<quote>{_ASSET})(?::(?P<settle>{_ASSET})(?:-(?P<expiry>\d{{6}}))?)?$"
)
_VENUE = re.compile(r"^(?P<exchange>[a-z][a-z0-9]{0,15}):(?P<market>[a-z][a-z0-9_]{0,15})$")
_TOKEN_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class Symbol(msgspec.Struct, frozen=True):
    """A parsed unified symbol."""

    base: str
    quote: str
    settle: str | None = None
    expiry: str | None = None  # YYMMDD

    @property
    def kind(self) -> InstrumentKind:
        if self.settle is None:
            return InstrumentKind.SPOT
        return InstrumentKind.FUTURE if self.expiry else InstrumentKind.SWAP

    @property
    def is_inverse(self) -> bool:
        return self.settle is not None and self.settle == self.base

    def __str__(self) -> str:
        text = f"{self.base}/{self.quote}"
        if self.settle is not None:
            text += f":{self.settle}"
            if self.expiry:
                text += f"-{self.expiry}"
        return text


def parse_symbol(text: str) -> Symbol:
    """Parse a unified symbol; raises InvalidInput (INVALID_SYMBOL) with the expected forms."""
    match = _UNIFIED.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(
            f"symbol: {text!r} is not a unified symbol; expected BASE/QUOTE, BASE/QUOTE:SETTLE "
            "or BASE/QUOTE:SETTLE-YYMMDD in upper case (e.g. BTC/USDT, BTC/USDT:USDT, BTC/USDT:USDT-251226)",
            "INVALID_SYMBOL",
            field="symbol",
        )
    expiry = match["expiry"]
    if expiry is not None:
        try:
            dt.datetime.strptime(expiry, "%y%m%d")
        except ValueError:
            raise InvalidInput(
                f"symbol: {text!r} has expiry {expiry}, which is not a date (YYMMDD)",
                "INVALID_SYMBOL",
                field="symbol",
            ) from None
    return Symbol(match["base"], match["quote"], match["settle"], expiry)


class VenueId(NamedTuple):
    exchange: str
    market: str

    def __str__(self) -> str:
        return f"{self.exchange}:{self.market}"


def parse_venue(text: str) -> VenueId:
    match = _VENUE.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(
            f"venue: {text!r} is not a venue id; expected exchange:market in lower case (e.g. binance:spot)",
            "INVALID_VENUE",
            field="venue",
        )
    return VenueId(match["exchange"], match["market"])


def subject_token(text: str) -> str:
    """A NATS subject token: no dots, wildcards or spaces (those become '_')."""
    if not text:
        raise InvalidInput("subject token must not be empty", "INVALID_ARGUMENT", field="token")
    return _TOKEN_UNSAFE.sub("_", text)


def subject(action: str, venue: str, native_symbol: str | None = None) -> str:
    """``{action}.{exchange}.{market}[.{symbol}]``, e.g. ``orders.binance.spot.BTCUSDT``."""
    exchange, market = parse_venue(venue)
    parts = [subject_token(action), exchange, market]
    if native_symbol is not None:
        parts.append(subject_token(native_symbol))
    return ".".join(parts)


def _expiry_from_ms(ms: int | str | None) -> str | None:
    value = int(ms or 0)
    if value <= 0:
        return None
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).strftime("%y%m%d")


# ---- from each venue's instrument metadata ----


def from_binance_spot(entry: Mapping[str, Any]) -> tuple[str, Symbol]:
    """An ``exchangeInfo`` symbol entry of Binance Spot."""
    return entry["symbol"], Symbol(entry["baseAsset"], entry["quoteAsset"])


def from_binance_usdm(entry: Mapping[str, Any]) -> tuple[str, Symbol]:
    """An ``/fapi/v1/exchangeInfo`` symbol entry (perpetuals and quarterlies)."""
    perpetual = entry.get("contractType", "PERPETUAL") in ("PERPETUAL", "TRADIFI_PERPETUAL")
    expiry = None if perpetual else _expiry_from_ms(entry.get("deliveryDate"))
    settle = entry.get("marginAsset") or entry["quoteAsset"]
    return entry["symbol"], Symbol(entry["baseAsset"], entry["quoteAsset"], settle, expiry)


def from_bybit(entry: Mapping[str, Any], category: str) -> tuple[str, Symbol]:
    """A Bybit v5 ``/v5/market/instruments-info`` entry; `category` spot|linear|inverse."""
    base, quote = entry["baseCoin"], entry["quoteCoin"]
    if category == "spot":
        return entry["symbol"], Symbol(base, quote)
    perpetual = "Perpetual" in entry.get("contractType", "Perpetual")
    expiry = None if perpetual else _expiry_from_ms(entry.get("deliveryTime"))
    settle = entry.get("settleCoin") or (base if category == "inverse" else quote)
    return entry["symbol"], Symbol(base, quote, settle, expiry)


def from_okx(entry: Mapping[str, Any]) -> tuple[str, Symbol]:
    """An OKX v5 ``/api/v5/public/instruments`` entry (SPOT, SWAP or FUTURES)."""
    inst_type = entry["instType"]
    if inst_type == "SPOT":
        return entry["instId"], Symbol(entry["baseCcy"], entry["quoteCcy"])
    family = entry.get("instFamily") or entry["uly"]  # "BTC-USDT": underlying base-quote
    base, quote = family.split("-", 1)
    settle = entry["settleCcy"]
    expiry = _expiry_from_ms(entry.get("expTime")) if inst_type == "FUTURES" else None
    return entry["instId"], Symbol(base, quote, settle, expiry)


def from_upbit(entry: Mapping[str, Any]) -> tuple[str, Symbol]:
    """An Upbit ``/v1/market/all`` entry: its ``market`` code is documented as QUOTE-BASE."""
    quote, base = entry["market"].split("-", 1)
    return entry["market"], Symbol(base, quote)


class SymbolMap:
    """Unified <-> native symbols of one venue, from its instrument metadata."""

    def __init__(self, venue: str, pairs: Iterable[tuple[str, Symbol | str]]) -> None:
        self.venue = str(parse_venue(venue))
        self._to_native: dict[str, str] = {}
        self._to_unified: dict[str, str] = {}
        for native, symbol in pairs:
            unified = str(symbol) if isinstance(symbol, Symbol) else str(parse_symbol(symbol))
            if unified in self._to_native and self._to_native[unified] != native:
                raise InvalidInput(
                    f"{venue}: {unified} maps to both {self._to_native[unified]} and {native}",
                    "DUPLICATE_SYMBOL",
                )
            self._to_native[unified] = native
            self._to_unified[native] = unified

    def __len__(self) -> int:
        return len(self._to_native)

    def __contains__(self, unified: object) -> bool:
        return unified in self._to_native

    @property
    def symbols(self) -> list[str]:
        return sorted(self._to_native)

    def to_native(self, unified: str) -> str:
        try:
            return self._to_native[unified]
        except KeyError:
            raise self._unknown(unified, self._to_native) from None

    def to_unified(self, native: str) -> str:
        try:
            return self._to_unified[native]
        except KeyError:
            raise self._unknown(native, self._to_unified) from None

    def _unknown(self, text: str, known: Mapping[str, str]) -> UnknownSymbol:
        close = difflib.get_close_matches(str(text), list(known), n=5, cutoff=0.5)
        hint = f"; closest: {', '.join(close)}" if close else ""
        return UnknownSymbol(
            f"symbol: {text!r} is not listed on {self.venue} ({len(known)} symbols){hint}",
            suggestions=close,
            venue=self.venue,
        )
