"""The engine: order lifecycle, positions and P&L, risk, events (docs/engine.md)."""

from oms.engine.engine import Engine
from oms.engine.events import (
    EngineEvent,
    FillUpdate,
    FundingUpdate,
    OrderUpdate,
    PositionUpdate,
    RiskDecision,
)

__all__ = [
    "Engine",
    "EngineEvent",
    "FillUpdate",
    "FundingUpdate",
    "OrderUpdate",
    "PositionUpdate",
    "RiskDecision",
]
