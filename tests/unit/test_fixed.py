"""Exact numbers at the Python edge: what goes in is what comes out, or a clear error."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.errors import InvalidInput
from oms.fixed import AMOUNT_SCALE_DIGITS, SCALE_DIGITS, amount_from_raw, amount_to_raw, from_raw, to_raw


def test_scale_is_eight_and_sixteen_digits() -> None:
    assert (SCALE_DIGITS, AMOUNT_SCALE_DIGITS) == (8, 16)


@pytest.mark.parametrize(
    ("value", "raw"),
    [
        ("123.45", 12_345_000_000),
        (Decimal("0.00000001"), 1),
        (Decimal("1E-7"), 10),
        (7, 700_000_000),
        ("-2.5", -250_000_000),
        (Decimal("-0"), 0),
    ],
)
def test_decimal_str_and_int_are_exact(value: object, raw: int) -> None:
    assert to_raw(value) == raw  # type: ignore[arg-type]


def test_output_is_decimal_with_the_shortest_exact_form() -> None:
    assert from_raw(12_345_000_000) == Decimal("123.45")
    assert from_raw(-1) == Decimal("-0.00000001")
    assert amount_from_raw(1) == Decimal("1E-16")
    assert amount_to_raw("0.0000000000000001") == 1


@pytest.mark.parametrize(
    ("value", "code", "words"),
    [
        ("0.000000001", "PRECISION_EXCEEDED", "more than 8 decimal places"),
        (Decimal("NaN"), "INVALID_NUMBER", "not a decimal number"),
        (Decimal("Infinity"), "INVALID_NUMBER", "not a decimal number"),
        ("1,5", "INVALID_NUMBER", "not a decimal number"),
        ("", "INVALID_NUMBER", "empty"),
        ("92233720369", "OUT_OF_RANGE", "out of range"),
        (0.1, "INVALID_ARGUMENT", "float"),
        (True, "INVALID_ARGUMENT", "bool"),
        (b"1", "INVALID_ARGUMENT", "expected Decimal, str or int"),
    ],
)
def test_bad_numbers_get_a_code_and_a_sentence(value: object, code: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        to_raw(value)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert words in caught.value.message
    assert isinstance(caught.value, ValueError)


@given(st.decimals(min_value=Decimal("-92233720368"), max_value=Decimal("92233720368"), places=8))
def test_every_8_place_decimal_round_trips(value: Decimal) -> None:
    assert from_raw(to_raw(value)) == value


@given(st.integers(min_value=-(2**127), max_value=2**127 - 1))
def test_every_amount_round_trips(raw: int) -> None:
    assert amount_to_raw(amount_from_raw(raw)) == raw


def _outcome(convert: Callable[[object], int], value: object) -> object:
    try:
        return convert(value)
    except InvalidInput as err:
        return err.message


@given(
    st.builds(
        lambda sign, coefficient, exponent: Decimal((sign, tuple(map(int, str(coefficient))), exponent)),
        st.integers(0, 1),
        st.integers(0, 10**40) | st.integers(0, 10**6).map(lambda c: c * 1000),
        st.integers(-30, 30),
    )
    | st.sampled_from([Decimal("NaN"), Decimal("-Infinity"), Decimal("sNaN"), Decimal("-0")])
)
def test_a_decimal_converts_as_its_text_does(value: Decimal) -> None:
    """Decimals are read from their parts, not their text: the same value or the same
    refusal (the refusal quotes the Decimal as ``str`` writes it)."""
    for convert in (to_raw, amount_to_raw):
        assert _outcome(convert, value) == _outcome(convert, str(value))
