"""Pure-Python baseline of ``oms.risk.RiskEngine``: the same engine as the Rust core
(``rust/oms-core/src/risk``), written the way a Python programmer would, so that
``bench_risk.py`` times the same work in both languages.

What it mirrors, rule for rule and figure for figure:

* fixed point: quantities and prices in 10^-8 units, notionals in 10^-16 units (the
  exact product), exposure counters in 10^-8 units rounded away from zero;
* limits per scope (global, account, venue, symbol on every venue, symbol on one
  venue), resolved into a ``Route`` per (account, venue, symbol) whenever limits
  change (``tables.rs``): per-order limits are the strictest over the four levels
  (symbol, venue, account, global; the two symbol scopes merged field by field),
  counter limits (open orders, gross exposure, order rate) are checked at each level
  against that level's own counters;
* the rules in the core's order (``mod.rs``): duplicate, trading state / daily loss,
  reduce-only, order quantity, price band, reference price, notional, leverage (not
  for reducing orders), worst-case position, open orders, gross exposure (not for
  reducing orders), order rate (GCRA; the clock is read only when the route has a
  rate limit);
* an accepted order reserves its side's open quantity, and one open order and its
  exposure on all four levels; ``on_fill`` moves reserved quantity into the position
  and re-values it; ``release`` frees what is left, exactly once;
* trading state ACTIVE / REDUCING / HALTED with its cause (MANUAL / DAILY_LOSS),
  escalated by ``update_daily_pnl``; leverage per instrument; reference price per
  (venue, symbol), re-valuing every position there on every level.

Single-threaded, so where the core reserves with atomics and rolls back on a later
reject, this checks every counter first and then commits: the same resulting state
(a GCRA slot given back leaves the same future decisions as one never taken).
Rejections raise ``oms.errors.RiskRejected`` with the core's ``code``, ``level``,
``value``, ``limit`` and message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from oms.errors import InvalidInput
from pure_python_risk_model import (
    AMOUNT_SCALE_DIGITS,
    DONE,
    EXPOSURE_DIGITS,
    MAX_EXPOSURE,
    NEW,
    NO_LIMITS,
    OPEN,
    SCALE_DIGITS,
    Counters,
    Instrument,
    LevelLimits,
    Limits,
    Market,
    Number,
    Order,
    Route,
    exposure_up,
    raw8_up,
    rejected,
    scaled_str,
    to_raw,
)

__all__ = ["Engine", "Limits", "Order"]

TradingState = Literal["ACTIVE", "REDUCING", "HALTED"]
MAX_NOTIONAL = MAX_EXPOSURE * 10**12  # the largest notional the counters hold, in 10^-16
StateCause = Literal["NONE", "MANUAL", "DAILY_LOSS"]
_RANK: dict[str, int] = {"ACTIVE": 0, "REDUCING": 1, "HALTED": 2}


class Engine:
    """Single-threaded pure-Python risk engine with the core's rules, scopes and counters.

    ``clock`` is the order-rate limits' monotonic time base in ns (injectable so tests
    can make rates deterministic); it is called only for routes with a rate limit.
    """

    __slots__ = (
        "_account_limits",
        "_accounts",
        "_clock",
        "_daily_loss_limit",
        "_global",
        "_global_limits",
        "_markets",
        "_routes",
        "_symbol_limits",
        "_venue_limits",
        "_venues",
        "daily_pnl_raw8",
        "manual_state",
        "trading_state",
        "trading_state_cause",
    )

    def __init__(self, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self._clock = clock
        # Limits as configured, per scope.
        self._global_limits = NO_LIMITS
        self._account_limits: dict[str, Limits] = {}
        self._venue_limits: dict[str, Limits] = {}
        self._symbol_limits: dict[tuple[str | None, str], Limits] = {}
        # Live state: routes per instrument, counters per venue / account / globally.
        self._routes: dict[tuple[str, str, str], Route] = {}
        self._markets: dict[tuple[str, str], Market] = {}
        self._venues: dict[str, Counters] = {}
        self._accounts: dict[str, Counters] = {}
        self._global = Counters()
        self.trading_state: TradingState = "ACTIVE"
        self.trading_state_cause: StateCause = "NONE"
        self.manual_state: TradingState = "ACTIVE"  # the floor reset_daily returns to
        self.daily_pnl_raw8 = 0  # negative = loss
        self._daily_loss_limit = 0  # 10^-8 units, 0 = none (for the reject figures)

    # ---- configuration ----

    def set_limits(
        self,
        limits: Limits,
        *,
        account: str | None = None,
        venue: str | None = None,
        symbol: str | None = None,
    ) -> None:
        """Set (replace) the limits of one scope and re-resolve every route."""
        match (account, venue, symbol):
            case (None, None, None):
                limits.validate(is_global=True)
                self._global_limits = limits
            case (str(), None, None):
                limits.validate(is_global=False)
                self._account_limits[account] = limits
            case (None, str(), None):
                limits.validate(is_global=False)
                self._venue_limits[venue] = limits
            case (None, _, str()):
                limits.validate(is_global=False)
                self._symbol_limits[venue, symbol] = limits
            case _:
                raise InvalidInput(
                    "scope: give one of: nothing (global), account=, venue=, symbol= (optionally with venue=)"
                )
        routes = self._routes
        for key, route in routes.items():
            routes[key] = Route(route.instrument, self._levels(*key))
        loss_limit = self._global_limits.daily_loss_limit
        self._daily_loss_limit = 0 if loss_limit is None else raw8_up(loss_limit)

    def _levels(self, account: str, venue: str, symbol: str) -> LevelLimits:
        """Limits of the four levels for one instrument."""
        symbols = self._symbol_limits
        any_venue = symbols.get((None, symbol), NO_LIMITS)
        this_venue = symbols.get((venue, symbol), NO_LIMITS)
        return (
            any_venue.strictest(this_venue),
            self._venue_limits.get(venue, NO_LIMITS),
            self._account_limits.get(account, NO_LIMITS),
            self._global_limits,
        )

    def _market(self, venue: str, symbol: str) -> Market:
        market = self._markets.get((venue, symbol))
        if market is None:
            market = self._markets[venue, symbol] = Market()
        return market

    def _route(self, account: str, venue: str, symbol: str) -> Route:
        """Route for an instrument, building its state on first use."""
        key = (account, venue, symbol)
        route = self._routes.get(key)
        if route is None:
            market = self._market(venue, symbol)
            venue_counters = self._venues.setdefault(venue, Counters())
            account_counters = self._accounts.setdefault(account, Counters())
            inst = Instrument(market, (Counters(), venue_counters, account_counters, self._global))
            market.instruments.append(inst)
            route = self._routes[key] = Route(inst, self._levels(account, venue, symbol))
        return route

    def set_reference_price(self, venue: str, symbol: str, price: Number) -> None:
        """Reference price of (venue, symbol); re-values every account's position there."""
        raw = to_raw(price)
        if raw <= 0:
            raise InvalidInput(f"price: reference price {price} must be positive")
        market = self._market(venue, symbol)
        market.reference_price = raw
        for inst in market.instruments:
            inst.refresh_position_exposure()

    def set_position(self, account: str, venue: str, symbol: str, qty: Number) -> None:
        """Overwrite the position (recovery, reconciliation with the venue)."""
        inst = self._route(account, venue, symbol).instrument
        inst.position = to_raw(qty)
        inst.refresh_position_exposure()

    def set_leverage(self, account: str, venue: str, symbol: str, leverage: Number) -> None:
        """Record a leverage change, refusing one above the applicable cap."""
        raw = to_raw(leverage)
        route = self._route(account, venue, symbol)
        cap = route.max_leverage
        if cap is not None and raw > cap[0]:
            context = f"leverage {scaled_str(raw, SCALE_DIGITS)} for {symbol} on {venue} for {account}"
            raise rejected(context, "MAX_LEVERAGE", cap[1], raw, cap[0], SCALE_DIGITS)
        route.instrument.leverage = raw

    # ---- trading state ----

    def set_trading_state(self, state: TradingState) -> None:
        """Set the state by hand (kill switch, resume)."""
        if state not in _RANK:
            raise InvalidInput(f"state: {state!r} must be ACTIVE, REDUCING or HALTED")
        self.manual_state = state
        self.trading_state, self.trading_state_cause = state, "NONE" if state == "ACTIVE" else "MANUAL"

    def _escalate(self, state: TradingState) -> None:
        if _RANK[state] > _RANK[self.trading_state]:
            self.trading_state, self.trading_state_cause = state, "DAILY_LOSS"

    def update_daily_pnl(self, pnl: Number) -> TradingState:
        """Report the day's P&L (negative = loss); escalates at the global thresholds."""
        raw = to_raw(pnl, AMOUNT_SCALE_DIGITS)
        self.daily_pnl_raw8 = raw8_up(raw)
        limits, loss = self._global_limits, -raw
        if limits.daily_loss_limit is not None and loss >= limits.daily_loss_limit:
            self._escalate("HALTED")
        reducing = limits.reducing_threshold()
        if reducing is not None and loss >= reducing:
            self._escalate("REDUCING")
        return self.trading_state

    def reset_daily(self) -> None:
        """New trading day: P&L to zero, back to the state last set by hand (ACTIVE if none)."""
        self.daily_pnl_raw8 = 0
        self.set_trading_state(self.manual_state)

    # ---- the check ----

    def check(self, order: Order) -> None:
        """Accept (and reserve the order's worst case) or raise ``RiskRejected``."""
        if order.state != NEW:
            raise rejected(order.context(), "DUPLICATE_ORDER")
        route = self._routes.get(order.key)
        if route is None:
            route = self._route(order.account, order.venue, order.symbol)
        inst = route.instrument
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
                if self.trading_state_cause == "DAILY_LOSS":
                    loss, loss_limit = -self.daily_pnl_raw8, self._daily_loss_limit
                    raise rejected(order.context(), "DAILY_LOSS", "global", loss, loss_limit, SCALE_DIGITS)
                raise rejected(order.context(), "TRADING_HALTED")
            if not reduces:
                raise rejected(order.context(), "REDUCE_ONLY")
        if order.reduce_only and not reduces:
            raise rejected(order.context(), "REDUCE_ONLY")

        limit = route.max_order_qty
        if limit is not None and qty > limit[0]:
            raise rejected(order.context(), "MAX_ORDER_QTY", limit[1], qty, limit[0], SCALE_DIGITS)
        reference = inst.market.reference_price
        price = order.price
        band = route.price_band_bps
        if price is not None and band is not None:
            if reference <= 0:
                raise rejected(order.context(), "NO_REFERENCE_PRICE")
            distance = abs(price - reference)
            if distance * 10_000 > band[0] * reference:
                bps_x100 = distance * 1_000_000 // reference
                raise rejected(order.context(), "PRICE_BAND", band[1], bps_x100, band[0] * 100, 2)
        valuation = reference if price is None else price
        limit = route.max_order_notional
        if valuation <= 0 and (limit is not None or route.exposure_limits):
            raise rejected(order.context(), "NO_REFERENCE_PRICE")
        if route.exposure_limits and position != 0 and (reference or inst.last_price) <= 0:
            raise rejected(order.context(), "NO_REFERENCE_PRICE")  # the position cannot be valued
        notional = qty * valuation
        if limit is not None and notional > limit[0]:
            raise rejected(
                order.context(), "MAX_ORDER_NOTIONAL", limit[1], notional, limit[0], AMOUNT_SCALE_DIGITS
            )
        if notional > MAX_NOTIONAL:
            raise rejected(
                order.context(), "MAX_ORDER_NOTIONAL", "global", notional, MAX_NOTIONAL, AMOUNT_SCALE_DIGITS
            )
        if not reduces:
            limit = route.max_leverage
            if limit is not None and inst.leverage > limit[0]:
                raise rejected(
                    order.context(), "MAX_LEVERAGE", limit[1], inst.leverage, limit[0], SCALE_DIGITS
                )
        rates = route.rate_limits
        now = self._clock() if rates else 0
        exposure = exposure_up(notional)

        # Reservation: every figure below already counts this order.
        open_after = open_same + qty
        limit = route.max_position_qty
        if limit is not None:
            worst = position + open_after if buy else position - open_after
            if abs(worst) > limit[0] and abs(worst) > abs(position):  # may always shrink |position|
                raise rejected(order.context(), "MAX_POSITION", limit[1], worst, limit[0], SCALE_DIGITS)
        for counters, max_open, level in route.open_order_limits:
            if counters.open_orders >= max_open:
                count = counters.open_orders + 1
                raise rejected(order.context(), "MAX_OPEN_ORDERS", level, count, max_open, 0)
        if not reduces:
            for counters, max_gross, level in route.exposure_limits:
                total = counters.exposure + exposure
                if total > max_gross:
                    raise rejected(
                        order.context(), "MAX_GROSS_EXPOSURE", level, total, max_gross, EXPOSURE_DIGITS
                    )
        for counters, _interval, tolerance, per_second, level in rates:
            if counters.tat_ns - now > tolerance:  # GCRA: too early for another slot
                raise rejected(order.context(), "ORDER_RATE", level, 0, per_second, 0)

        # Commit.
        if buy:
            inst.open_buy = open_after
        else:
            inst.open_sell = open_after
        for counters in inst.levels:
            counters.open_orders += 1
            counters.exposure += exposure
        for counters, interval, _tolerance, _per_second, _level in rates:
            tat = counters.tat_ns
            counters.tat_ns = (tat if tat > now else now) + interval
        order.remaining = qty
        order.reserved_exposure = exposure
        order.reserved_price = valuation
        order.instrument = inst
        order.state = OPEN

    # ---- order life ----

    def on_fill(self, order: Order, qty: Number, price: Number) -> None:
        """A fill: moves reserved quantity into the position (the venue's truth wins)."""
        fill_qty, fill_price = to_raw(qty), to_raw(price)
        if fill_qty <= 0 or fill_price <= 0:
            raise InvalidInput(f"fill: quantity {qty} and price {price} must be positive")
        inst = order.instrument
        if inst is None:
            raise InvalidInput("ticket: this order was never accepted by check()")
        buy = order.buy
        inst.position += fill_qty if buy else -fill_qty
        inst.last_price = fill_price
        taken = min(fill_qty, order.remaining)
        order.remaining -= taken
        if buy:
            inst.open_buy -= taken
        else:
            inst.open_sell -= taken
        done = order.remaining == 0
        reserved = order.reserved_exposure
        freed = reserved if done else min(exposure_up(taken * order.reserved_price), reserved)
        order.reserved_exposure = reserved - freed
        inst.add_exposure(-freed)
        inst.refresh_position_exposure()
        if done and order.state == OPEN:
            order.state = DONE
            for counters in inst.levels:
                counters.open_orders -= 1

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
        inst.add_exposure(-order.reserved_exposure)
        order.reserved_exposure = 0
        for counters in inst.levels:
            counters.open_orders -= 1
        return True

    # ---- views (same units as the core's Python API) ----

    @property
    def daily_pnl(self) -> Decimal:
        return Decimal(self.daily_pnl_raw8).scaleb(-SCALE_DIGITS)

    def position(self, account: str, venue: str, symbol: str) -> Decimal:
        route = self._routes.get((account, venue, symbol))
        return Decimal(0 if route is None else route.instrument.position).scaleb(-SCALE_DIGITS)

    def _usage(self, venue: str | None, account: str | None) -> Counters | None:
        if venue is not None:
            return self._venues.get(venue)
        return self._global if account is None else self._accounts.get(account)

    def open_orders(self, *, venue: str | None = None, account: str | None = None) -> int:
        counters = self._usage(venue, account)
        return 0 if counters is None else counters.open_orders

    def gross_exposure(self, *, venue: str | None = None, account: str | None = None) -> Decimal:
        counters = self._usage(venue, account)
        return Decimal(0 if counters is None else counters.exposure).scaleb(-EXPOSURE_DIGITS)
