"""Exact fixed-point numbers at the Python edge.

Prices and quantities are integers of 10^-8 units (``SCALE_DIGITS``); money amounts
(notional, P&L, fees) integers of 10^-16 units (``AMOUNT_SCALE_DIGITS``, the exact
product of a price and a quantity). Inputs may be ``Decimal``, ``str`` or ``int``
(whole units); floats are refused, and values with more decimals than the scale
raise ``InvalidInput`` (code ``PRECISION_EXCEEDED``) instead of being rounded.
"""

from oms._core import (
    AMOUNT_SCALE_DIGITS,
    SCALE_DIGITS,
    amount_from_raw,
    amount_to_raw,
    exact,
    from_raw,
    to_raw,
)

__all__ = [
    "AMOUNT_SCALE_DIGITS",
    "SCALE_DIGITS",
    "amount_from_raw",
    "amount_to_raw",
    "exact",
    "from_raw",
    "to_raw",
]
