//! A `decimal.Decimal`'s sign, coefficient and exponent read straight from its memory
//! (CPython's `_decimal` object: `PyObject_HEAD`, its hash, then libmpdec's `mpd_t`),
//! so a price or a quantity costs no `str()` (~150 ns) and no text to parse: five of
//! them cross into the core on every order's way from submit to fill.
//!
//! The layout is CPython's, not a public API (3.11 has no C API for decimals), so it is
//! checked once against `Decimal.as_tuple()` on sample values, after the object's size
//! and the place of a small value's digits; any mismatch turns this path off for good
//! and callers use the text, as before.

use crate::fixed::decimal_class;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;
use std::mem::size_of;

/// libmpdec's `mpd_t` on 64-bit builds.
#[repr(C)]
struct Mpd {
    flags: u8,
    exp: isize,
    digits: isize,
    len: isize,
    alloc: isize,
    data: *const u64,
}

/// `_decimal`'s `PyDecObject` up to its inline words.
#[repr(C)]
struct DecObject {
    ob_base: ffi::PyObject,
    hash: isize,
    dec: Mpd,
}

/// `_Py_DEC_MINALLOC`: the words a Decimal holds in the object itself.
const INLINE_WORDS: usize = 4;
/// libmpdec's radix on 64-bit builds: each word holds 19 decimal digits.
const RADIX: u128 = 10_000_000_000_000_000_000;
const NEGATIVE: u8 = 1;
const SPECIAL: u8 = 2 | 4 | 8; // infinity, NaN, signaling NaN

/// Parts of a Decimal: (negative, coefficient, exponent).
pub(crate) type Parts = (bool, u128, i64);

static VERIFIED: PyOnceLock<bool> = PyOnceLock::new();

/// The parts of `value`, whose exact type the caller has checked is
/// `decimal.Decimal`; None for NaN and infinities, coefficients of more than 38 digits,
/// or when the layout did not check out.
pub(crate) fn parts(value: &Bound<'_, PyAny>) -> Option<Parts> {
    if !*VERIFIED.get_or_init(value.py(), || verify(value.py()).unwrap_or(false)) {
        return None;
    }
    // SAFETY: `value` is a `decimal.Decimal` (the caller checked its exact type) and
    // `verify` found the layout of `DecObject` in that type's objects.
    unsafe { read(value.as_ptr()) }
}

/// # Safety
/// `object` must point to a live `decimal.Decimal` laid out as `DecObject`.
unsafe fn read(object: *mut ffi::PyObject) -> Option<Parts> {
    let dec = &(*(object as *const DecObject)).dec;
    if dec.flags & SPECIAL != 0 || !(1..=2).contains(&dec.len) {
        return None;
    }
    let low = u128::from(*dec.data);
    let high = if dec.len == 2 { u128::from(*dec.data.add(1)) } else { 0 };
    Some((dec.flags & NEGATIVE != 0, high * RADIX + low, dec.exp as i64))
}

const SAMPLES: [&str; 15] = [
    "0",
    "1",
    "-1",
    "0.00000001",
    "-123.456",
    "50000.01",
    "1E+5",
    "1.2E-7",
    "9999999999999999999",
    "10000000000000000000",
    "-12345678901234567890123456789.123456789",
    "123456789012345678901234567890123456789012",
    "NaN",
    "-Infinity",
    "sNaN",
];

/// Whether Decimals are laid out as `DecObject`: the object's size first, then where a
/// small value keeps its words (before reading through that pointer), then the parts
/// of each sample against `as_tuple()`.
fn verify(py: Python<'_>) -> PyResult<bool> {
    let class = decimal_class(py)?;
    let size: usize = class.getattr("__basicsize__")?.extract()?;
    if size != size_of::<DecObject>() + INLINE_WORDS * size_of::<u64>() {
        return Ok(false);
    }
    let one = class.call1(("1",))?;
    // SAFETY: the object is at least `size` bytes, which covers `DecObject`.
    let (data, len, alloc) = unsafe {
        let dec = &(*(one.as_ptr() as *const DecObject)).dec;
        (dec.data, dec.len, dec.alloc)
    };
    let inline = unsafe { (one.as_ptr() as *const u8).add(size_of::<DecObject>()) } as *const u64;
    if data != inline || len != 1 || alloc != INLINE_WORDS as isize {
        return Ok(false);
    }
    for text in SAMPLES {
        let value = class.call1((text,))?;
        // SAFETY: the size and the inline words are where `DecObject` says.
        if unsafe { read(value.as_ptr()) } != from_tuple(&value.call_method0("as_tuple")?)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The parts `as_tuple()` gives (sign, digits, exponent), as `read` would give them.
fn from_tuple(tuple: &Bound<'_, PyAny>) -> PyResult<Option<Parts>> {
    let tuple = tuple.cast::<PyTuple>()?;
    let Ok(exponent) = tuple.get_item(2)?.extract::<i64>() else {
        return Ok(None); // 'n', 'N' or 'F': not a finite number
    };
    let digits: Vec<u8> = tuple.get_item(1)?.extract()?;
    if digits.len() > 38 {
        return Ok(None);
    }
    let coefficient = digits.iter().fold(0u128, |c, &d| c * 10 + u128::from(d));
    Ok(Some((tuple.get_item(0)?.extract::<u8>()? == 1, coefficient, exponent)))
}
