"""Binance ``exchangeInfo`` symbol entries -> ``oms.model.Instrument`` (spot and USD-M).

One function per market; each filter Binance documents maps to the Instrument fields
``oms.instruments`` checks: PRICE_FILTER (min, max, tick), LOT_SIZE and MARKET_LOT_SIZE,
NOTIONAL (spot; MIN_NOTIONAL on older spot listings and on USD-M, where it is
``notional``), PERCENT_PRICE_BY_SIDE (spot) or PERCENT_PRICE (USD-M), MAX_NUM_ORDERS.
A value of 0 in a spot filter means "not enforced" and becomes None. USD-M tick and step
grids count from the minimum, as Binance states them; a PERPETUAL is a swap, anything
else a dated future expiring at ``deliveryDate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from oms.model import Instrument, InstrumentKind
from oms.symbols import from_binance_spot, from_binance_usdm

Entry = Mapping[str, Any]


def _filters(entry: Entry) -> dict[str, Mapping[str, Any]]:
    return {f["filterType"]: f for f in entry.get("filters", [])}


def _dec(value: Any) -> Decimal | None:
    """A filter figure; 0 (and absent) means not enforced."""
    if value is None:
        return None
    number = Decimal(str(value))
    return number if number else None


def spot_instrument(entry: Entry) -> Instrument:
    f = _filters(entry)
    price, lot, market = f.get("PRICE_FILTER", {}), f.get("LOT_SIZE", {}), f.get("MARKET_LOT_SIZE", {})
    notional = f.get("NOTIONAL") or {}
    legacy_min = f.get("MIN_NOTIONAL") or {}
    band = f.get("PERCENT_PRICE_BY_SIDE") or {}
    unified = str(from_binance_spot(entry)[1])
    return Instrument(
        venue="binance:spot",
        symbol=unified,
        native_symbol=entry["symbol"],
        kind=InstrumentKind.SPOT,
        base=entry["baseAsset"],
        quote=entry["quoteAsset"],
        tick_size=_dec(price.get("tickSize")),
        min_price=_dec(price.get("minPrice")),
        max_price=_dec(price.get("maxPrice")),
        step_size=_dec(lot.get("stepSize")),
        min_qty=_dec(lot.get("minQty")),
        max_qty=_dec(lot.get("maxQty")),
        market_step_size=_dec(market.get("stepSize")),
        market_min_qty=_dec(market.get("minQty")),
        market_max_qty=_dec(market.get("maxQty")),
        min_notional=_dec(notional.get("minNotional", legacy_min.get("minNotional"))),
        max_notional=_dec(notional.get("maxNotional")),
        min_notional_applies_to_market=bool(
            notional.get("applyMinToMarket", legacy_min.get("applyToMarket", True))
        ),
        bid_up_multiplier=_dec(band.get("bidMultiplierUp")),
        bid_down_multiplier=_dec(band.get("bidMultiplierDown")),
        ask_up_multiplier=_dec(band.get("askMultiplierUp")),
        ask_down_multiplier=_dec(band.get("askMultiplierDown")),
        max_num_orders=int(f["MAX_NUM_ORDERS"]["maxNumOrders"]) if "MAX_NUM_ORDERS" in f else None,
        trading=entry.get("status") == "TRADING",
    )


def usdm_instrument(entry: Entry) -> Instrument:
    f = _filters(entry)
    price, lot, market = f.get("PRICE_FILTER", {}), f.get("LOT_SIZE", {}), f.get("MARKET_LOT_SIZE", {})
    band = f.get("PERCENT_PRICE") or {}
    perpetual = entry.get("contractType", "PERPETUAL") == "PERPETUAL"
    unified = str(from_binance_usdm(entry)[1])
    return Instrument(
        venue="binance:usdm",
        symbol=unified,
        native_symbol=entry["symbol"],
        kind=InstrumentKind.SWAP if perpetual else InstrumentKind.FUTURE,
        base=entry["baseAsset"],
        quote=entry["quoteAsset"],
        settle=entry.get("marginAsset", entry["quoteAsset"]),
        expiry_ns=None if perpetual else int(entry["deliveryDate"]) * 1_000_000,
        tick_size=_dec(price.get("tickSize")),
        min_price=_dec(price.get("minPrice")),
        max_price=_dec(price.get("maxPrice")),
        step_size=_dec(lot.get("stepSize")),
        min_qty=_dec(lot.get("minQty")),
        max_qty=_dec(lot.get("maxQty")),
        market_step_size=_dec(market.get("stepSize")),
        market_min_qty=_dec(market.get("minQty")),
        market_max_qty=_dec(market.get("maxQty")),
        min_notional=_dec((f.get("MIN_NOTIONAL") or {}).get("notional")),
        bid_up_multiplier=_dec(band.get("multiplierUp")),
        ask_down_multiplier=_dec(band.get("multiplierDown")),
        max_num_orders=int(f["MAX_NUM_ORDERS"]["limit"]) if "MAX_NUM_ORDERS" in f else None,
        steps_from_minimum=True,
        trading=entry.get("status") == "TRADING",
    )


def instruments(exchange_info: Mapping[str, Any], market: str) -> list[Instrument]:
    """Every symbol of an ``exchangeInfo`` answer (market ``spot`` or ``usdm``)."""
    read = spot_instrument if market == "spot" else usdm_instrument
    entries: Iterable[Entry] = exchange_info.get("symbols", [])
    return [read(entry) for entry in entries]
