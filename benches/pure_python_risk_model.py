"""Data model of the pure-Python risk baseline (``pure_python_risk.py``): fixed point,
limits per scope, live counters, instruments, the ``Route`` each instrument's limits
are resolved into (``tables.rs``, ``limits.rs``, ``state.rs``), order tickets
(``ticket.rs``) and reject exceptions (``reject.rs``), with the core's units and
messages.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from oms.errors import InvalidInput, RiskRejected

SCALE_DIGITS = 8
SCALE = 100_000_000  # 10**SCALE_DIGITS
AMOUNT_SCALE_DIGITS = 16

Number = Decimal | str | int
Side = Literal["BUY", "SELL"]

# The four levels, in the order counters are kept and checked (``Level::as_str``).
LEVELS = ("symbol", "venue", "account", "global")

# Order lifecycle (as ``RiskOrder.state``).
NEW, OPEN, DONE = 0, 1, 2
_STATE_NAMES = ("NEW", "OPEN", "DONE")

# The core's reject sentences (``reject.rs``), formatted only when rejecting.
_SENTENCES = {
    "MAX_ORDER_QTY": "order quantity {value} exceeds the {level} limit of {limit}",
    "MAX_ORDER_NOTIONAL": "order notional {value} exceeds the {level} limit of {limit}",
    "MAX_POSITION": "worst-case position {value} (position plus open orders on this side) "
    "would exceed the {level} limit of {limit}",
    "MAX_GROSS_EXPOSURE": "gross exposure {value} (positions plus open orders) would exceed "
    "the {level} limit of {limit}",
    "MAX_LEVERAGE": "leverage {value} exceeds the {level} limit of {limit}",
    "PRICE_BAND": "price is {value} bps away from the reference price, beyond the {level} band "
    "of {limit} bps",
    "NO_REFERENCE_PRICE": "no reference price is known for this symbol, so the price band / "
    "notional limit cannot be checked",
    "ORDER_RATE": "order rate would exceed the {level} limit of {limit} orders per second",
    "MAX_OPEN_ORDERS": "{value} open orders would exceed the {level} limit of {limit}",
    "DAILY_LOSS": "trading is halted: daily loss {value} reached the limit of {limit}",
    "TRADING_HALTED": "trading is halted (kill switch); no new orders until it is resumed",
    "REDUCE_ONLY": "only risk-reducing orders are accepted (reduce-only order, or trading state "
    "REDUCING) and this order would increase the position",
    "DUPLICATE_ORDER": "this order was already checked and holds a reservation; release it "
    "before checking again",
}


def to_raw(value: Number, digits: int = SCALE_DIGITS) -> int:
    """Exact fixed-point integer of ``value`` in 10^-digits units (no rounding)."""
    number = value if isinstance(value, Decimal) else Decimal(value)
    scaled = number.scaleb(digits)
    raw = int(scaled)
    if raw != scaled:
        raise InvalidInput(f"{value} has more than {digits} decimal places", "PRECISION_EXCEEDED")
    return raw


EXPOSURE_DIGITS = 4  # risk::state::EXPOSURE_DIGITS
MAX_EXPOSURE = (2**63 - 1) // 8  # risk::state::MAX_EXPOSURE, in exposure units


def exposure_up(amount: int) -> int:
    """A 10^-16 amount in 10^-4 exposure units, rounded up, capped (``exposure_units``)."""
    quotient, remainder = divmod(abs(amount), 10**12)
    if remainder:
        quotient += 1
    return min(quotient if amount >= 0 else -quotient, MAX_EXPOSURE)


def raw8_up(amount: int) -> int:
    """A 10^-16 amount in 10^-8 units, rounded away from zero (``Amount::to_raw8_ceil``)."""
    quotient, remainder = divmod(abs(amount), SCALE)
    if remainder:
        quotient += 1
    return quotient if amount >= 0 else -quotient


def scaled_str(raw: int, digits: int) -> str:
    """Shortest exact decimal of ``raw`` x 10^-digits (``format_scaled``)."""
    sign, (whole, frac) = ("-" if raw < 0 else ""), divmod(abs(raw), 10**digits)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}." + f"{frac:0{digits}d}".rstrip("0")


def rejected(
    context: str, code: str, level: str = "global", value: int = 0, limit: int = 0, scale: int = 0
) -> RiskRejected:
    """The exception the core raises for this reject (``reject_to_py``)."""
    value_str, limit_str = scaled_str(value, scale), scaled_str(limit, scale)
    sentence = _SENTENCES[code].format(value=value_str, limit=limit_str, level=level)
    figures = scale > 0 or limit != 0
    return RiskRejected(
        f"{context}: {sentence}",
        code,
        level=level,
        value=Decimal(value_str) if figures else None,
        limit=Decimal(limit_str) if figures else None,
    )


def _optional(value: Number | None, digits: int) -> int | None:
    return None if value is None else to_raw(value, digits)


class Limits:
    """Limits of one scope (``RiskLimits``) as raw integers; None = no limit here."""

    __slots__ = (
        "daily_loss_limit",
        "daily_loss_reducing",
        "max_gross_exposure",
        "max_leverage",
        "max_open_orders",
        "max_order_notional",
        "max_order_qty",
        "max_orders_per_second",
        "max_position_qty",
        "order_burst",
        "price_band_bps",
    )

    def __init__(
        self,
        *,
        max_order_qty: Number | None = None,
        max_order_notional: Number | None = None,
        max_position_qty: Number | None = None,
        max_gross_exposure: Number | None = None,
        max_leverage: Number | None = None,
        price_band_bps: int | None = None,
        max_orders_per_second: int | None = None,
        order_burst: int | None = None,
        max_open_orders: int | None = None,
        daily_loss_limit: Number | None = None,
        daily_loss_reducing: Number | None = None,
    ) -> None:
        self.max_order_qty = _optional(max_order_qty, SCALE_DIGITS)
        self.max_order_notional = _optional(max_order_notional, AMOUNT_SCALE_DIGITS)
        self.max_position_qty = _optional(max_position_qty, SCALE_DIGITS)
        self.max_gross_exposure = _optional(max_gross_exposure, AMOUNT_SCALE_DIGITS)
        self.max_leverage = _optional(max_leverage, SCALE_DIGITS)
        self.price_band_bps = price_band_bps
        self.max_orders_per_second = max_orders_per_second
        self.order_burst = order_burst
        self.max_open_orders = max_open_orders
        self.daily_loss_limit = _optional(daily_loss_limit, AMOUNT_SCALE_DIGITS)
        self.daily_loss_reducing = _optional(daily_loss_reducing, AMOUNT_SCALE_DIGITS)

    def strictest(self, other: Limits) -> Limits:
        """Field-wise strictest of two sets of limits."""
        merged = Limits()
        for name in Limits.__slots__:
            a, b = getattr(self, name), getattr(other, name)
            setattr(merged, name, b if a is None else a if b is None else min(a, b))
        return merged

    def validate(self, is_global: bool) -> None:
        """Refuse what the core refuses (``RiskLimits::validate``)."""
        for name in (
            "max_order_qty",
            "max_position_qty",
            "max_leverage",
            "max_order_notional",
            "max_gross_exposure",
            "daily_loss_limit",
            "daily_loss_reducing",
        ):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidInput(f"{name}: {value} must be positive")
        for name in ("max_orders_per_second", "order_burst"):
            if getattr(self, name) == 0:
                raise InvalidInput(f"{name}: must be at least 1")
        if self.order_burst is not None and self.max_orders_per_second is None:
            raise InvalidInput("order_burst: needs max_orders_per_second")
        limit, reducing = self.daily_loss_limit, self.daily_loss_reducing
        if (limit is not None or reducing is not None) and not is_global:
            raise InvalidInput(
                "daily_loss_limit: daily loss limits apply to the whole book, set them globally"
            )
        if limit is not None and reducing is not None and reducing > limit:
            raise InvalidInput("daily_loss_reducing: must not exceed daily_loss_limit")

    def reducing_threshold(self) -> int | None:
        """The REDUCING threshold: explicit, else 80% of the halt limit."""
        if self.daily_loss_reducing is not None:
            return self.daily_loss_reducing
        return None if self.daily_loss_limit is None else self.daily_loss_limit // 5 * 4


NO_LIMITS = Limits()
LevelLimits = tuple[Limits, Limits, Limits, Limits]


class Counters:
    """Live figures of one level: open orders, gross exposure (10^-8 units), GCRA."""

    __slots__ = ("exposure", "open_orders", "tat_ns")

    def __init__(self) -> None:
        self.open_orders = 0
        self.exposure = 0
        self.tat_ns = 0  # GCRA theoretical arrival time


class Market:
    """Per (venue, symbol): the reference price (0 = unknown) and who trades it."""

    __slots__ = ("instruments", "reference_price")

    def __init__(self) -> None:
        self.reference_price = 0
        self.instruments: list[Instrument] = []


class Instrument:
    """Per (account, venue, symbol): position, open quantity per side, leverage."""

    __slots__ = (
        "last_price",
        "levels",
        "leverage",
        "market",
        "open_buy",
        "open_sell",
        "position",
        "position_exposure",
    )

    def __init__(self, market: Market, levels: tuple[Counters, Counters, Counters, Counters]) -> None:
        self.position = 0
        self.open_buy = 0
        self.open_sell = 0
        self.leverage = 0  # 0 when not set
        self.last_price = 0  # values the position when no reference price is known
        self.position_exposure = 0  # |position| x price as last added to every level
        self.market = market
        # Counters of this instrument, its venue, its account, and the global ones.
        self.levels = levels

    def add_exposure(self, delta: int) -> None:
        if delta:
            for counters in self.levels:
                counters.exposure += delta

    def refresh_position_exposure(self) -> None:
        """Re-value |position| and move every level's exposure by the difference."""
        value = exposure_up(abs(self.position) * (self.market.reference_price or self.last_price))
        delta = value - self.position_exposure
        self.position_exposure = value
        self.add_exposure(delta)


OrderLimit = tuple[int, str] | None  # (limit, level it is set at)


def _strictest(levels: LevelLimits, name: str) -> OrderLimit:
    """The smallest value of one field over the four levels, and the first level with it."""
    best: OrderLimit = None
    for limits, level in zip(levels, LEVELS, strict=True):
        value = getattr(limits, name)
        if value is not None and (best is None or value < best[0]):
            best = (value, level)
    return best


class Route:
    """Everything a check needs about one instrument, resolved when limits change."""

    __slots__ = (
        "exposure_limits",
        "instrument",
        "max_leverage",
        "max_order_notional",
        "max_order_qty",
        "max_position_qty",
        "open_order_limits",
        "price_band_bps",
        "rate_limits",
    )

    def __init__(self, instrument: Instrument, levels: LevelLimits) -> None:
        self.instrument = instrument
        self.max_order_qty = _strictest(levels, "max_order_qty")
        self.max_order_notional = _strictest(levels, "max_order_notional")
        self.max_position_qty = _strictest(levels, "max_position_qty")
        self.max_leverage = _strictest(levels, "max_leverage")
        self.price_band_bps = _strictest(levels, "price_band_bps")
        # Counter limits, only at the levels that set them, each with its counters.
        self.open_order_limits: list[tuple[Counters, int, str]] = []
        self.exposure_limits: list[tuple[Counters, int, str]] = []
        # (counters, GCRA interval ns, tolerance ns, orders per second, level)
        self.rate_limits: list[tuple[Counters, int, int, int, str]] = []
        for counters, limits, level in zip(instrument.levels, levels, LEVELS, strict=True):
            if limits.max_open_orders is not None:
                self.open_order_limits.append((counters, limits.max_open_orders, level))
            if limits.max_gross_exposure is not None:
                self.exposure_limits.append((counters, exposure_up(limits.max_gross_exposure), level))
            rate = limits.max_orders_per_second
            if rate is not None:
                burst = rate if limits.order_burst is None else limits.order_burst
                interval = max(1_000_000_000 // rate, 1)
                self.rate_limits.append((counters, interval, interval * (burst - 1), rate, level))


class Order:
    """An order as the engine sees it, plus the reservation it holds once accepted."""

    __slots__ = (
        "account",
        "buy",
        "instrument",
        "key",
        "price",
        "qty",
        "reduce_only",
        "remaining",
        "reserved_exposure",
        "reserved_price",
        "state",
        "symbol",
        "venue",
    )

    def __init__(
        self,
        account: str,
        venue: str,
        symbol: str,
        side: Side,
        qty: Number,
        price: Number | None = None,
        reduce_only: bool = False,
    ) -> None:
        if side not in ("BUY", "SELL"):
            raise InvalidInput(f"side: {side!r} must be 'BUY' or 'SELL'")
        self.qty = to_raw(qty)
        if self.qty <= 0:
            raise InvalidInput(f"qty: order quantity {qty} must be positive")
        self.price: int | None = None if price is None else to_raw(price)
        if self.price is not None and self.price <= 0:
            raise InvalidInput(f"price: order price {price} must be positive")
        if not (account and venue and symbol):
            raise InvalidInput("account, venue and symbol must not be empty")
        self.account = account
        self.venue = venue
        self.symbol = symbol
        self.key = (account, venue, symbol)
        self.buy = side == "BUY"
        self.reduce_only = reduce_only
        self.state = NEW
        self.remaining = 0  # quantity still reserved
        self.reserved_exposure = 0  # 10^-8 units
        self.reserved_price = 0  # the price the reservation was valued at
        self.instrument: Instrument | None = None

    @property
    def state_name(self) -> str:
        return _STATE_NAMES[self.state]

    def context(self) -> str:
        side = "BUY" if self.buy else "SELL"
        return f"{side} {scaled_str(self.qty, SCALE_DIGITS)} {self.symbol} on {self.venue} for {self.account}"
