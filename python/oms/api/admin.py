"""``oms.v1.AdminService``: the kill switch, risk limits and venue health (scope ``admin``)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from oms.api.convert import dec
from oms.engine import Engine
from oms.errors import InvalidInput
from oms.exchanges import Exchange
from oms.risk import RiskLimits, TradingState
from oms.v1 import admin_pb2 as rpc
from oms.v1 import common_pb2 as pb

_DECIMAL_LIMITS = (
    "max_order_qty",
    "max_order_notional",
    "max_position_qty",
    "max_gross_exposure",
    "max_leverage",
    "daily_loss_limit",
    "daily_loss_reducing",
)
_INT_LIMITS = ("price_band_bps", "max_orders_per_second", "order_burst", "max_open_orders")
HEALTH_TIMEOUT_S = 5.0


class AdminService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def get_trading_state(
        self, request: rpc.GetTradingStateRequest, context: Any
    ) -> rpc.TradingStateResponse:
        return self._state(0)

    async def set_trading_state(
        self, request: rpc.SetTradingStateRequest, context: Any
    ) -> rpc.TradingStateResponse:
        if request.state == pb.TRADING_STATE_HALTED:
            canceled = await self.engine.halt()
            return self._state(len(canceled))
        if request.state == pb.TRADING_STATE_ACTIVE:
            self.engine.resume()
        elif request.state == pb.TRADING_STATE_REDUCING:
            self.engine.risk.set_trading_state(TradingState.REDUCING.value)
        else:
            raise InvalidInput("state: ACTIVE, REDUCING or HALTED", field="state")
        return self._state(0)

    def _state(self, canceled: int) -> rpc.TradingStateResponse:
        return rpc.TradingStateResponse(
            state=pb.TradingState.Value(f"TRADING_STATE_{self.engine.trading_state.value}"),
            cause=self.engine.risk.trading_state_cause,
            canceled_orders=canceled,
        )

    async def get_risk_limits(self, request: rpc.GetRiskLimitsRequest, context: Any) -> rpc.RiskLimits:
        return self._limits_out(request.scope)

    async def set_risk_limits(self, request: rpc.SetRiskLimitsRequest, context: Any) -> rpc.RiskLimits:
        m = request.limits
        values: dict[str, Any] = {
            name: _count(name, getattr(m, name)) for name in _INT_LIMITS if getattr(m, name)
        }
        for name in _DECIMAL_LIMITS:
            value = _decimal(name, getattr(m, name))
            if value:  # "" or 0: no limit, as the .proto says
                values[name] = value
        limits = RiskLimits(**values)
        self.engine.risk.set_limits(limits, **_scope(m.scope))
        return self._limits_out(m.scope)

    def _limits_out(self, scope: rpc.RiskScope) -> rpc.RiskLimits:
        limits = self.engine.risk.limits(**_scope(scope))
        out = rpc.RiskLimits(scope=scope)
        if limits is None:
            return out
        for name in _DECIMAL_LIMITS:
            value = getattr(limits, name)
            if value is not None:
                setattr(out, name, dec(value))
        for name in _INT_LIMITS:
            setattr(out, name, getattr(limits, name) or 0)
        return out

    async def get_venue_health(
        self, request: rpc.GetVenueHealthRequest, context: Any
    ) -> rpc.GetVenueHealthResponse:
        exchanges = [self.engine.exchanges[v] for v in sorted(self.engine.exchanges)]
        return rpc.GetVenueHealthResponse(venues=await asyncio.gather(*(_health(e) for e in exchanges)))


def _decimal(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text or 0)
    except ArithmeticError:
        raise InvalidInput(
            f"{name}: {text!r} is not a decimal number", "INVALID_NUMBER", field=name
        ) from None
    if not value.is_finite() or value < 0:
        raise InvalidInput(f"{name}: {text} must be a finite non-negative number", "OUT_OF_RANGE", field=name)
    return value


def _count(name: str, value: int) -> int:
    """An int32 limit: negative is refused here (the core's unsigned fields would raise
    OverflowError, an INTERNAL error, for what is the client's mistake)."""
    if value < 0:
        raise InvalidInput(f"{name}: {value} must not be negative (0 = no limit)", "OUT_OF_RANGE", field=name)
    return value


def _scope(scope: rpc.RiskScope) -> dict[str, str | None]:
    return {"account": scope.account or None, "venue": scope.venue or None, "symbol": scope.symbol or None}


async def _health(exchange: Exchange) -> rpc.VenueHealth:
    try:
        h = await asyncio.wait_for(exchange.health(), HEALTH_TIMEOUT_S)
    except Exception as err:  # a venue that cannot even say how it is: report, don't fail the call
        return rpc.VenueHealth(venue=exchange.venue, connected=False, trading=False, last_error=str(err))
    return rpc.VenueHealth(
        venue=h.venue,
        connected=h.connected,
        trading=h.trading,
        clock_offset_ms=h.clock_offset_ms or 0.0,
        latency_ms=h.latency_ms or 0.0,
        rate_limit_headroom=h.rate_limit_headroom,
        last_error=h.last_error or "",
    )
