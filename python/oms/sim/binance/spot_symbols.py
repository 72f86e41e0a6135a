"""Simulated Binance Spot symbols: their filters, their ``exchangeInfo`` entry, and
the filter checks with Binance's exact failure messages.

The rules themselves are :mod:`oms.instruments` (one implementation of tick, step,
notional and percent-price rules); this module maps a violation to what Binance
answers: HTTP 400 ``{"code": -1013, "msg": "Filter failure: LOT_SIZE"}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import msgspec

from oms.errors import FilterViolation
from oms.instruments import check_order
from oms.model import Instrument, InstrumentKind, OrderType, Side
from oms.sim.binance.errors import BinanceApiError

D = Decimal

#: Binance filter name for each rule of oms.instruments.
_FILTER_NAME = {
    "PRICE_FILTER": "PRICE_FILTER",
    "LOT_SIZE": "LOT_SIZE",
    "MARKET_LOT_SIZE": "MARKET_LOT_SIZE",
    "NOTIONAL": "NOTIONAL",
    "PERCENT_PRICE": "PERCENT_PRICE_BY_SIDE",
}


def fmt(value: Decimal, places: int = 8) -> str:
    """Binance's fixed-decimal strings: ``"0.10000000"``."""
    return f"{value:.{places}f}"


class SpotSymbol(msgspec.Struct, kw_only=True, frozen=True):
    """One symbol's configuration (defaults resemble Binance's BTCUSDT)."""

    symbol: str
    base: str
    quote: str
    base_precision: int = 8
    quote_precision: int = 8
    tick_size: Decimal = D("0.01")
    min_price: Decimal = D("0.01")
    max_price: Decimal = D("1000000")
    step_size: Decimal = D("0.00001")
    min_qty: Decimal = D("0.00001")
    max_qty: Decimal = D("9000")
    market_step_size: Decimal = D("0")
    market_min_qty: Decimal = D("0")
    market_max_qty: Decimal = D("100")
    min_notional: Decimal = D("5")
    max_notional: Decimal = D("9000000")
    apply_min_to_market: bool = True
    apply_max_to_market: bool = False
    avg_price_mins: int = 5
    bid_multiplier_up: Decimal = D("5")
    bid_multiplier_down: Decimal = D("0.2")
    ask_multiplier_up: Decimal = D("5")
    ask_multiplier_down: Decimal = D("0.2")
    max_num_orders: int = 200
    order_types: tuple[str, ...] = (
        "LIMIT",
        "LIMIT_MAKER",
        "MARKET",
        "STOP_LOSS",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
    )
    status: str = "TRADING"

    def instrument(self) -> Instrument:
        """The same rules as an :class:`oms.model.Instrument` (0 means "not enforced")."""
        return Instrument(
            venue="binance:spot",
            symbol=f"{self.base}/{self.quote}",
            native_symbol=self.symbol,
            kind=InstrumentKind.SPOT,
            base=self.base,
            quote=self.quote,
            tick_size=self.tick_size or None,
            min_price=self.min_price or None,
            max_price=self.max_price or None,
            step_size=self.step_size or None,
            min_qty=self.min_qty or None,
            max_qty=self.max_qty or None,
            market_step_size=self.market_step_size or None,
            market_min_qty=self.market_min_qty or None,
            market_max_qty=self.market_max_qty or None,
            min_notional=self.min_notional or None,
            max_notional=self.max_notional or None,
            min_notional_applies_to_market=self.apply_min_to_market,
            bid_up_multiplier=self.bid_multiplier_up,
            bid_down_multiplier=self.bid_multiplier_down,
            ask_up_multiplier=self.ask_multiplier_up,
            ask_down_multiplier=self.ask_multiplier_down,
            trading=self.status == "TRADING",
            max_num_orders=self.max_num_orders,
        )

    def check_filters(
        self,
        side: Side,
        order_type: OrderType,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
        reference_price: Decimal | None,
    ) -> None:
        """Raise Binance's -1013 ``Filter failure: <FILTER>`` for the first broken filter."""
        try:
            check_order(
                self.instrument(),
                side=side,
                type=order_type,
                qty=qty,
                price=price,
                stop_price=stop_price,
                reference_price=reference_price,
            )
        except FilterViolation as violation:
            name = _FILTER_NAME.get(violation.rule or "", violation.rule or "UNKNOWN")
            raise BinanceApiError(-1013, f"Filter failure: {name}") from None

    def exchange_info(self) -> dict[str, Any]:
        """This symbol's entry in ``GET /api/v3/exchangeInfo``, in Binance's field order."""
        return {
            "symbol": self.symbol,
            "status": self.status,
            "baseAsset": self.base,
            "baseAssetPrecision": self.base_precision,
            "quoteAsset": self.quote,
            "quotePrecision": self.quote_precision,
            "quoteAssetPrecision": self.quote_precision,
            "baseCommissionPrecision": self.base_precision,
            "quoteCommissionPrecision": self.quote_precision,
            "orderTypes": list(self.order_types),
            # What the simulator does (no iceberg, OTO/OPO lists or pegged orders).
            "icebergAllowed": False,
            "ocoAllowed": "STOP_LOSS" in self.order_types or "TAKE_PROFIT" in self.order_types,
            "otoAllowed": False,
            "opoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "amendAllowed": True,
            "pegInstructionsAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": fmt(self.min_price),
                    "maxPrice": fmt(self.max_price),
                    "tickSize": fmt(self.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": fmt(self.min_qty),
                    "maxQty": fmt(self.max_qty),
                    "stepSize": fmt(self.step_size),
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": fmt(self.market_min_qty),
                    "maxQty": fmt(self.market_max_qty),
                    "stepSize": fmt(self.market_step_size),
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": fmt(self.min_notional),
                    "applyMinToMarket": self.apply_min_to_market,
                    "maxNotional": fmt(self.max_notional),
                    "applyMaxToMarket": self.apply_max_to_market,
                    "avgPriceMins": self.avg_price_mins,
                },
                {
                    "filterType": "PERCENT_PRICE_BY_SIDE",
                    "bidMultiplierUp": str(self.bid_multiplier_up),
                    "bidMultiplierDown": str(self.bid_multiplier_down),
                    "askMultiplierUp": str(self.ask_multiplier_up),
                    "askMultiplierDown": str(self.ask_multiplier_down),
                    "avgPriceMins": self.avg_price_mins,
                },
                {
                    "filterType": "TRAILING_DELTA",
                    "minTrailingAboveDelta": 10,
                    "maxTrailingAboveDelta": 2000,
                    "minTrailingBelowDelta": 10,
                    "maxTrailingBelowDelta": 2000,
                },
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_num_orders},
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_TAKER",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }


def exchange_info(symbols: Iterable[SpotSymbol], now: int) -> dict[str, Any]:
    """``GET /api/v3/exchangeInfo`` of a venue listing `symbols`."""
    return {
        "timezone": "UTC",
        "serverTime": now,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        ],
        "exchangeFilters": [],
        "symbols": [s.exchange_info() for s in symbols],
        "sors": [],  # no smart order routing in the simulator
    }
