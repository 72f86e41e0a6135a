"""Exact values at the model's edge: Decimal in, Decimal out, never a float.

Arithmetic on money uses ``EXACT``, a decimal context with room for any product of
two 8-decimal values that traps ``Inexact``: if a sum or product could ever round,
it raises instead of silently losing a digit."""

from __future__ import annotations

import decimal
from decimal import Decimal

from oms.errors import InvalidInput
from oms.fixed import exact

EXACT = decimal.Context(
    prec=120,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
)
#: For figures that are divisions by nature (average prices): 34 significant digits.
DIVISION = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])

Number = Decimal | str | int


def to_decimal(value: Number, field: str, *, positive: bool = True, allow_zero: bool = False) -> Decimal:
    """Validate an exact number for `field`: Decimal/str/int, finite, at most 8
    decimals, in range; positive unless told otherwise. The error names the field."""
    try:
        checked = exact(value)
    except InvalidInput as err:
        raise InvalidInput(f"{field}: {err.message}", err.code, field=field) from None
    if positive and (checked < 0 or (checked == 0 and not allow_zero)):
        raise InvalidInput(
            f"{field}: {value} must be {'non-negative' if allow_zero else 'positive'}",
            "OUT_OF_RANGE",
            field=field,
        )
    return checked


def optional_decimal(value: Number | None, field: str, *, positive: bool = True) -> Decimal | None:
    return None if value is None else to_decimal(value, field, positive=positive)


def to_decimal_any_precision(value: Number, field: str) -> Decimal:
    """A finite, non-negative Decimal of any precision (input to rounding: the result
    is put on the instrument's grid, which fits the scale)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise InvalidInput(f"{field}: expected Decimal, str or int, got {type(value).__name__}", field=field)
    try:
        exact = Decimal(value)
    except decimal.InvalidOperation:
        raise InvalidInput(
            f"{field}: {value!r} is not a decimal number", "INVALID_NUMBER", field=field
        ) from None
    if not exact.is_finite() or exact < 0:
        raise InvalidInput(
            f"{field}: {value} must be a finite non-negative number", "OUT_OF_RANGE", field=field
        )
    return exact
