"""Pre-trade risk checks in the Rust core.

Build ``RiskLimits`` per scope and give them to ``RiskEngine.set_limits`` (global,
``account=``, ``venue=``, ``symbol=``). Describe each order once as a ``RiskOrder``
and call ``check(order)``: it returns None on accept (and reserves the order's worst
case) or raises ``oms.errors.RiskRejected`` whose ``code`` is one of
``REJECT_CODES``. Hand the same ``RiskOrder`` to ``on_fill`` for every fill and to
``release`` when the order ends unfilled, so reservations are freed exactly once.
"""

from enum import StrEnum

from oms._core import REJECT_CODES, RiskEngine, RiskLimits, RiskOrder


class TradingState(StrEnum):
    """The book's trading state. Compares equal to the strings the engine returns."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"  # only risk-reducing orders
    HALTED = "HALTED"  # kill switch: nothing new


__all__ = ["REJECT_CODES", "RiskEngine", "RiskLimits", "RiskOrder", "TradingState"]
