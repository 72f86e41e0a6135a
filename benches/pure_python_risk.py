"""Pure-Python baseline of ``oms.risk.RiskEngine.check``.

The same pre-trade rules, in the same order, with the same integer fixed point as the
Rust core (``rust/oms-core/src/risk``): quantities and prices in 10^-8 units, notionals
in 10^-16 units (the exact product), exposure counters in 10^-8 units rounded up.

Scope of the baseline (what ``bench_core.py`` configures): limits set once, globally:
``max_order_qty``, ``max_order_notional``, ``max_position_qty`` (worst case including
the open orders on the order's side), ``max_gross_exposure``, ``price_band_bps`` against
the reference price, ``max_open_orders``; the trading state (ACTIVE / REDUCING /
HALTED, set by hand); reduce-only detection. An accepted order reserves its side
quantity, one open order and its exposure; ``release`` frees them exactly once and
``on_fill`` moves reserved quantity into the position, as in the core.

Not modelled (not set by the benchmark): per-account/venue/symbol limits, order-rate
limits, leverage, daily loss. Because only global limits exist, the engine keeps only
the counters those limits read (the core also keeps per-instrument, per-venue and
per-account counters), which errs in the baseline's favour.

Rejections raise the same ``oms.errors.RiskRejected`` with the same ``code``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from oms.errors import InvalidInput, RiskRejected

SCALE_DIGITS = 8
SCALE = 10**SCALE_DIGITS
AMOUNT_SCALE_DIGITS = 16

Number = Decimal | str | int
TradingState = Literal["ACTIVE", "REDUCING", "HALTED"]

# Order lifecycle (as ``RiskOrder.state``).
NEW, OPEN, DONE = 0, 1, 2
_STATE_NAMES = ("NEW", "OPEN", "DONE")


def to_raw(value: Number, digits: int = SCALE_DIGITS) -> int:
    """Exact fixed-point integer of ``value`` in 10^-digits units (no rounding)."""
    number = value if isinstance(value, Decimal) else Decimal(value)
    scaled = number.scaleb(digits)
    raw = int(scaled)
    if raw != scaled:
        raise InvalidInput(f"{value} has more than {digits} decimal places", "PRECISION_EXCEEDED")
    return raw


def raw8_up(amount: int) -> int:
    """A 10^-16 amount in 10^-8 units, rounded away from zero (``Amount::to_raw8_ceil``)."""
    quotient, remainder = divmod(abs(amount), SCALE)
    if remainder:
        quotient += 1
    return quotient if amount >= 0 else -quotient


def _optional(value: Number | None, digits: int) -> int | None:
    return None if value is None else to_raw(value, digits)


class Limits:
    """Global limits, stored as raw integers in the units the checks compare in."""

    __slots__ = (
        "max_gross_exposure",
        "max_open_orders",
        "max_order_notional",
        "max_order_qty",
        "max_position_qty",
        "price_band_bps",
    )

    def __init__(
        self,
        *,
        max_order_qty: Number | None = None,
        max_order_notional: Number | None = None,
        max_position_qty: Number | None = None,
        max_gross_exposure: Number | None = None,
        price_band_bps: int | None = None,
        max_open_orders: int | None = None,
    ) -> None:
        self.max_order_qty: int | None = _optional(max_order_qty, SCALE_DIGITS)
        self.max_order_notional: int | None = _optional(max_order_notional, AMOUNT_SCALE_DIGITS)
        self.max_position_qty: int | None = _optional(max_position_qty, SCALE_DIGITS)
        # Compared against the exposure counters, which are in 10^-8 units.
        gross = _optional(max_gross_exposure, AMOUNT_SCALE_DIGITS)
        self.max_gross_exposure: int | None = None if gross is None else raw8_up(gross)
        self.price_band_bps: int | None = price_band_bps
        self.max_open_orders: int | None = max_open_orders


class Market:
    """Per (venue, symbol): the reference price (0 = unknown) and who trades it."""

    __slots__ = ("instruments", "reference_price")

    def __init__(self) -> None:
        self.reference_price = 0
        self.instruments: list[Instrument] = []


class Instrument:
    """Per (account, venue, symbol): position and open quantity per side (10^-8 units)."""

    __slots__ = ("last_price", "market", "open_buy", "open_sell", "position", "position_exposure")

    def __init__(self, market: Market) -> None:
        self.position = 0
        self.open_buy = 0
        self.open_sell = 0
        self.last_price = 0
        # |position| x valuation price as last added to the exposure counter.
        self.position_exposure = 0
        self.market = market


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
        side: Literal["BUY", "SELL"],
        qty: Number,
        price: Number | None = None,
        reduce_only: bool = False,
    ) -> None:
        if side not in ("BUY", "SELL"):
            raise InvalidInput(f"side {side!r} must be BUY or SELL")
        if not (account and venue and symbol):
            raise InvalidInput("account, venue and symbol must not be empty")
        self.qty = to_raw(qty)
        if self.qty <= 0:
            raise InvalidInput(f"order quantity {qty} must be positive")
        self.price: int | None = None if price is None else to_raw(price)
        if self.price is not None and self.price <= 0:
            raise InvalidInput(f"order price {price} must be positive")
        self.account = account
        self.venue = venue
        self.symbol = symbol
        self.key = (account, venue, symbol)
        self.buy = side == "BUY"
        self.reduce_only = reduce_only
        self.state = NEW
        self.remaining = 0
        self.reserved_exposure = 0
        self.reserved_price = 0
        self.instrument: Instrument | None = None

    @property
    def state_name(self) -> str:
        return _STATE_NAMES[self.state]


def _reject(code: str, order: Order, detail: str = "") -> RiskRejected:
    side = "BUY" if order.buy else "SELL"
    what = f"{side} {order.symbol} on {order.venue} for {order.account}"
    return RiskRejected(f"{what}: {detail or code}", code)


class Engine:
    """Single-threaded pure-Python risk engine with global limits."""

    __slots__ = ("_instruments", "_limits", "_markets", "exposure", "open_orders", "trading_state")

    def __init__(self) -> None:
        self._limits = Limits()
        self._instruments: dict[tuple[str, str, str], Instrument] = {}
        self._markets: dict[tuple[str, str], Market] = {}
        self.trading_state: TradingState = "ACTIVE"
        self.open_orders = 0
        # Gross exposure, 10^-8 units: positions at their valuation price + open orders.
        self.exposure = 0

    # ---- configuration ----

    def set_limits(self, limits: Limits) -> None:
        self._limits = limits

    def set_trading_state(self, state: TradingState) -> None:
        if state not in ("ACTIVE", "REDUCING", "HALTED"):
            raise InvalidInput(f"{state!r} must be ACTIVE, REDUCING or HALTED")
        self.trading_state = state

    def _market(self, venue: str, symbol: str) -> Market:
        market = self._markets.get((venue, symbol))
        if market is None:
            market = self._markets[venue, symbol] = Market()
        return market

    def _instrument(self, account: str, venue: str, symbol: str) -> Instrument:
        key = (account, venue, symbol)
        inst = self._instruments.get(key)
        if inst is None:
            market = self._market(venue, symbol)
            inst = self._instruments[key] = Instrument(market)
            market.instruments.append(inst)
        return inst

    def set_reference_price(self, venue: str, symbol: str, price: Number) -> None:
        raw = to_raw(price)
        if raw <= 0:
            raise InvalidInput(f"reference price {price} must be positive")
        market = self._market(venue, symbol)
        market.reference_price = raw
        for inst in market.instruments:
            self._refresh_position_exposure(inst)

    def set_position(self, account: str, venue: str, symbol: str, qty: Number) -> None:
        inst = self._instrument(account, venue, symbol)
        inst.position = to_raw(qty)
        self._refresh_position_exposure(inst)

    def _refresh_position_exposure(self, inst: Instrument) -> None:
        price = inst.market.reference_price or inst.last_price
        value = raw8_up(abs(inst.position) * price)
        self.exposure += value - inst.position_exposure
        inst.position_exposure = value

    # ---- the check ----

    def check(self, order: Order) -> None:
        """Accept (and reserve the order's worst case) or raise ``RiskRejected``."""
        if order.state != NEW:
            raise _reject("DUPLICATE_ORDER", order, "order was already checked")
        inst = self._instruments.get(order.key)
        if inst is None:
            inst = self._instrument(order.account, order.venue, order.symbol)
        limits = self._limits
        buy = order.buy
        qty = order.qty
        position = inst.position
        open_same = inst.open_buy if buy else inst.open_sell

        # Reducing: can only shrink the position even if every open order on its side fills.
        room = -position if buy else position
        reduces = room > 0 and qty + open_same <= room

        state = self.trading_state
        if state != "ACTIVE":
            if state == "HALTED":
                raise _reject("TRADING_HALTED", order, "trading is halted")
            if not reduces:
                raise _reject("REDUCE_ONLY", order, "only risk-reducing orders are accepted")
        if order.reduce_only and not reduces:
            raise _reject("REDUCE_ONLY", order, "reduce-only order would not reduce the position")

        max_qty = limits.max_order_qty
        if max_qty is not None and qty > max_qty:
            raise _reject("MAX_ORDER_QTY", order, f"order quantity {qty} exceeds {max_qty}")

        reference = inst.market.reference_price
        price = order.price
        band = limits.price_band_bps
        if price is not None and band is not None:
            if reference <= 0:
                raise _reject("NO_REFERENCE_PRICE", order)
            if abs(price - reference) * 10_000 > band * reference:
                raise _reject("PRICE_BAND", order, f"price {price} is outside {band} bps of {reference}")

        valuation = reference if price is None else price
        max_notional = limits.max_order_notional
        max_gross = limits.max_gross_exposure
        if valuation <= 0:
            if max_notional is not None or max_gross is not None:
                raise _reject("NO_REFERENCE_PRICE", order)
            notional = 0
        else:
            notional = qty * valuation
        if max_notional is not None and notional > max_notional:
            raise _reject("MAX_ORDER_NOTIONAL", order, f"notional {notional} exceeds {max_notional}")
        exposure = -(-notional // SCALE)  # notional >= 0: round up to 10^-8 units

        # Reservation: every figure below already counts this order.
        open_after = open_same + qty
        max_position = limits.max_position_qty
        if max_position is not None:
            worst = position + open_after if buy else position - open_after
            if abs(worst) > max_position:
                raise _reject("MAX_POSITION", order, f"worst-case position {worst} exceeds {max_position}")
        open_orders = self.open_orders + 1
        max_open = limits.max_open_orders
        if max_open is not None and open_orders > max_open:
            raise _reject("MAX_OPEN_ORDERS", order, f"{open_orders} open orders exceed {max_open}")
        total = self.exposure + exposure
        if not reduces and max_gross is not None and total > max_gross:
            raise _reject("MAX_GROSS_EXPOSURE", order, f"gross exposure {total} exceeds {max_gross}")

        # Commit.
        if buy:
            inst.open_buy = open_after
        else:
            inst.open_sell = open_after
        self.open_orders = open_orders
        self.exposure = total
        order.remaining = qty
        order.reserved_exposure = exposure
        order.reserved_price = valuation
        order.instrument = inst
        order.state = OPEN

    # ---- order life ----

    def release(self, order: Order) -> bool:
        """Free what the order still reserves; False when there was nothing to free."""
        inst = order.instrument
        if inst is None or order.state != OPEN:
            return False
        order.state = DONE
        if order.buy:
            inst.open_buy -= order.remaining
        else:
            inst.open_sell -= order.remaining
        order.remaining = 0
        self.exposure -= order.reserved_exposure
        order.reserved_exposure = 0
        self.open_orders -= 1
        return True

    def on_fill(self, order: Order, qty: Number, price: Number) -> None:
        """A fill: moves reserved quantity into the position (the venue's truth wins)."""
        fill_qty, fill_price = to_raw(qty), to_raw(price)
        if fill_qty <= 0 or fill_price <= 0:
            raise InvalidInput(f"quantity {qty} and price {price} must be positive")
        inst = order.instrument
        if inst is None:
            raise InvalidInput("this order was never accepted by check()")
        inst.position += fill_qty if order.buy else -fill_qty
        inst.last_price = fill_price
        taken = max(min(fill_qty, order.remaining), 0)
        order.remaining -= taken
        if order.buy:
            inst.open_buy -= taken
        else:
            inst.open_sell -= taken
        done = order.remaining == 0
        reserved = order.reserved_exposure
        freed = reserved if done else max(min(raw8_up(taken * order.reserved_price), reserved), 0)
        order.reserved_exposure -= freed
        self.exposure -= freed
        self._refresh_position_exposure(inst)
        if done and order.state == OPEN:
            order.state = DONE
            self.open_orders -= 1

    # ---- views (same units as the core's Python API) ----

    def position(self, account: str, venue: str, symbol: str) -> Decimal:
        inst = self._instruments.get((account, venue, symbol))
        return Decimal(0) if inst is None else Decimal(inst.position).scaleb(-SCALE_DIGITS)

    def gross_exposure(self) -> Decimal:
        return Decimal(self.exposure).scaleb(-SCALE_DIGITS)
