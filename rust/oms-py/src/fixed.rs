//! Exact numbers at the Python edge: `Decimal`, `str` and `int` in; `Decimal` out.
//! Floats are refused: a binary float cannot hold 0.1, and money is exact.

use crate::decimal_layout::parts;
use crate::errors::{to_py, IntoPyResult};
use oms_core::fixed::{format_scaled, parse_scaled, scaled_from_parts, AMOUNT_SCALE_DIGITS, SCALE_DIGITS};
use oms_core::{Amount, Error, Price, Quantity};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyType};

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

pub fn decimal_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECIMAL
        .get_or_try_init(py, || {
            let class = py.import("decimal")?.getattr("Decimal")?;
            Ok::<_, PyErr>(class.cast_into::<PyType>()?.unbind())
        })
        .map(|c| c.bind(py))
}

/// Parse a Python number into raw units of 10^-`digits`.
pub fn parse_value(value: &Bound<'_, PyAny>, digits: u32, what: &'static str) -> PyResult<i128> {
    if value.get_type().is(decimal_class(value.py())?) {
        // The common case first: its parts where they tell (the text words a refusal).
        if let Some(units) =
            parts(value).and_then(|(neg, coefficient, exp)| scaled_from_parts(neg, coefficient, exp, digits))
        {
            return Ok(units);
        }
        return parse_scaled(value.str()?.to_str()?, digits, what).py();
    }
    if let Ok(text) = value.cast::<PyString>() {
        return parse_scaled(text.to_str()?, digits, what).py();
    }
    let invalid = |reason: String| to_py(Error::InvalidArgument { field: what, reason });
    if value.is_instance_of::<PyBool>() {
        return Err(invalid("a bool is not a number".into()));
    }
    if value.is_instance_of::<PyInt>() {
        let units: i128 = value
            .extract()
            .map_err(|_| invalid(format!("{value} is out of range")))?;
        return units
            .checked_mul(10i128.pow(digits))
            .ok_or_else(|| invalid(format!("{value} is out of range")));
    }
    if value.is_instance_of::<PyFloat>() {
        return Err(invalid(format!(
            "{value} is a float, which cannot hold decimal prices exactly; pass a str or decimal.Decimal"
        )));
    }
    if value.is_instance(decimal_class(value.py())?)? {
        return parse_scaled(value.str()?.to_str()?, digits, what).py();
    }
    Err(invalid(format!(
        "expected Decimal, str or int, got {}",
        value.get_type().name()?
    )))
}

fn narrow(raw: i128, what: &'static str) -> PyResult<i64> {
    i64::try_from(raw).map_err(|_| {
        to_py(Error::OutOfRange {
            what,
            input: format_scaled(raw, SCALE_DIGITS),
            reason: format!("the largest {what} is {}", Quantity::MAX),
        })
    })
}

pub fn price(value: &Bound<'_, PyAny>, what: &'static str) -> PyResult<Price> {
    narrow(parse_value(value, SCALE_DIGITS, what)?, what).map(Price::from_raw)
}

pub fn quantity(value: &Bound<'_, PyAny>, what: &'static str) -> PyResult<Quantity> {
    narrow(parse_value(value, SCALE_DIGITS, what)?, what).map(Quantity::from_raw)
}

pub fn amount(value: &Bound<'_, PyAny>, what: &'static str) -> PyResult<Amount> {
    parse_value(value, AMOUNT_SCALE_DIGITS, what).map(Amount::from_raw)
}

pub fn optional<T>(
    value: Option<&Bound<'_, PyAny>>,
    what: &'static str,
    parse: fn(&Bound<'_, PyAny>, &'static str) -> PyResult<T>,
) -> PyResult<Option<T>> {
    value.filter(|v| !v.is_none()).map(|v| parse(v, what)).transpose()
}

static ZERO: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A raw fixed-point value as `decimal.Decimal` (zero, frequent in positions and
/// fills, is one shared `Decimal("0")`: Decimals are immutable).
pub fn to_decimal(py: Python<'_>, raw: i128, digits: u32) -> PyResult<Bound<'_, PyAny>> {
    if raw == 0 {
        let zero = ZERO.get_or_try_init(py, || decimal_class(py)?.call1(("0",)).map(Bound::unbind))?;
        return Ok(zero.bind(py).clone());
    }
    decimal_class(py)?.call1((format_scaled(raw, digits),))
}

/// Python: exact raw units (10^-8) of a price or quantity.
#[pyfunction]
pub fn to_raw(value: &Bound<'_, PyAny>) -> PyResult<i64> {
    narrow(parse_value(value, SCALE_DIGITS, "value")?, "value")
}

/// Python: a raw 10^-8 value as Decimal.
#[pyfunction]
pub fn from_raw(py: Python<'_>, raw: i64) -> PyResult<Bound<'_, PyAny>> {
    to_decimal(py, raw.into(), SCALE_DIGITS)
}

/// Python: `from_raw(to_raw(value))` — the value checked exact at 10^-8 and in range,
/// as a canonical Decimal — but a Decimal already canonical comes back as itself
/// (the order path checks every quantity and price; most are canonical already).
#[pyfunction]
pub fn exact<'py>(py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if value.get_type().is(decimal_class(py)?) {
        let text = value.str()?;
        let text = text.to_str()?;
        let raw = narrow(parse_scaled(text, SCALE_DIGITS, "value").py()?, "value")?;
        if format_scaled(raw.into(), SCALE_DIGITS) == text {
            return Ok(value.clone());
        }
        return to_decimal(py, raw.into(), SCALE_DIGITS);
    }
    to_decimal(py, to_raw(value)?.into(), SCALE_DIGITS)
}

/// Python: exact raw units (10^-16) of an amount.
#[pyfunction]
pub fn amount_to_raw(value: &Bound<'_, PyAny>) -> PyResult<i128> {
    parse_value(value, AMOUNT_SCALE_DIGITS, "amount")
}

/// Python: a raw 10^-16 amount as Decimal.
#[pyfunction]
pub fn amount_from_raw(py: Python<'_>, raw: i128) -> PyResult<Bound<'_, PyAny>> {
    to_decimal(py, raw, AMOUNT_SCALE_DIGITS)
}
