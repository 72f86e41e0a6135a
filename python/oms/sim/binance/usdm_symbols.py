"""Simulated Binance USD-M perpetual symbols: filters, ``exchangeInfo`` entry, and the
filter checks with futures' own error codes (which, unlike spot's -1013, name the rule:
-4013 price below min, -4014 tick, -4023 step, -4164 min notional, -4016/-4024 the
mark-price band...). Tick and step grids count from the minimum, as futures state it.
The rules are :mod:`oms.instruments`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from oms.errors import FilterViolation
from oms.instruments import check_notional, check_percent_price, check_price, check_qty
from oms.model import Instrument, InstrumentKind, Side
from oms.sim.binance.errors import BinanceApiError

D = Decimal

#: oms.instruments violation code -> (futures code, message).
_FUTURES_ERRORS = {
    "PRICE_TOO_LOW": (-4013, "Price less than min price."),
    "PRICE_TOO_HIGH": (-4002, "Price greater than max price."),
    "PRICE_TICK": (-4014, "Price not increased by tick size."),
    "QTY_TOO_LOW": (-4004, "Quantity less than min quantity."),
    "MARKET_QTY_TOO_LOW": (-4004, "Quantity less than min quantity."),
    "QTY_TOO_HIGH": (-4005, "Quantity greater than max quantity."),
    "MARKET_QTY_TOO_HIGH": (-4005, "Quantity greater than max quantity."),
    "QTY_STEP": (-4023, "Qty not increased by step size."),
    "MARKET_QTY_STEP": (-4023, "Qty not increased by step size."),
}


class FuturesSymbol(msgspec.Struct, kw_only=True, frozen=True):
    """One perpetual's configuration (defaults resemble Binance's BTCUSDT)."""

    symbol: str
    base: str
    quote: str = "USDT"
    tick_size: Decimal = D("0.10")
    min_price: Decimal = D("556.80")
    max_price: Decimal = D("4529764")
    step_size: Decimal = D("0.001")
    min_qty: Decimal = D("0.001")
    max_qty: Decimal = D("1000")
    market_step_size: Decimal = D("0.001")
    market_min_qty: Decimal = D("0.001")
    market_max_qty: Decimal = D("120")
    min_notional: Decimal = D("100")
    multiplier_up: Decimal = D("1.0500")
    multiplier_down: Decimal = D("0.9500")
    max_num_orders: int = 200
    max_leverage: int = 125
    status: str = "TRADING"

    def instrument(self) -> Instrument:
        return Instrument(
            venue="binance:usdm",
            symbol=f"{self.base}/{self.quote}:{self.quote}",
            native_symbol=self.symbol,
            kind=InstrumentKind.SWAP,
            base=self.base,
            quote=self.quote,
            settle=self.quote,
            tick_size=self.tick_size,
            min_price=self.min_price,
            max_price=self.max_price,
            step_size=self.step_size,
            min_qty=self.min_qty,
            max_qty=self.max_qty,
            market_step_size=self.market_step_size,
            market_min_qty=self.market_min_qty,
            market_max_qty=self.market_max_qty,
            min_notional=self.min_notional,
            bid_up_multiplier=self.multiplier_up,
            ask_down_multiplier=self.multiplier_down,
            steps_from_minimum=True,
            max_num_orders=self.max_num_orders,
        )

    def check_filters(
        self, side: Side, qty: Decimal, price: Decimal | None, mark: Decimal | None, reduce_only: bool
    ) -> None:
        """Raise the futures error for the first broken filter."""
        inst = self.instrument()
        if qty <= 0:
            raise BinanceApiError(-4003, "Quantity less than zero.")
        try:
            if price is not None:
                check_price(inst, price)
            check_qty(inst, qty, market=price is None)
        except FilterViolation as violation:
            code, msg = _FUTURES_ERRORS[violation.code]
            raise BinanceApiError(code, msg) from None
        if not reduce_only:
            try:
                check_notional(inst, qty, price if price is not None else mark, market=price is None)
            except FilterViolation:
                raise BinanceApiError(
                    -4164,
                    f"Order's notional must be no smaller than {self.min_notional} "
                    "(unless you choose reduce only)",
                ) from None
        if price is not None and mark is not None:
            try:
                check_percent_price(inst, side, price, mark)
            except FilterViolation:
                if side is Side.BUY:
                    raise BinanceApiError(-4016, "Price is higher than mark price multiplier cap.") from None
                raise BinanceApiError(-4024, "Price is lower than mark price multiplier floor.") from None

    def exchange_info(self) -> dict[str, Any]:
        """This symbol's entry in ``GET /fapi/v1/exchangeInfo``."""
        return {
            "symbol": self.symbol,
            "pair": self.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": self.status,
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": self.base,
            "quoteAsset": self.quote,
            "marginAsset": self.quote,
            "pricePrecision": 2,
            "quantityPrecision": 3,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": [],
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": str(self.min_price),
                    "maxPrice": str(self.max_price),
                    "tickSize": str(self.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": str(self.min_qty),
                    "maxQty": str(self.max_qty),
                    "stepSize": str(self.step_size),
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": str(self.market_min_qty),
                    "maxQty": str(self.market_max_qty),
                    "stepSize": str(self.market_step_size),
                },
                {"filterType": "MAX_NUM_ORDERS", "limit": self.max_num_orders},
                {"filterType": "MIN_NOTIONAL", "notional": str(self.min_notional)},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": str(self.multiplier_up),
                    "multiplierDown": str(self.multiplier_down),
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": [
                "LIMIT",
                "MARKET",
                "STOP",
                "STOP_MARKET",
                "TAKE_PROFIT",
                "TAKE_PROFIT_MARKET",
                "TRAILING_STOP_MARKET",
            ],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        }
