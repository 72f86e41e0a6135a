//! Exact fixed-point numbers. Prices and quantities never pass through binary floats.
//!
//! * [`Price`] and [`Quantity`]: `i64` counting units of 10^-8 (`SCALE_DIGITS = 8`).
//!   That is Binance's own internal precision (its largest `maxQty`, 92,233,720,368,
//!   is `i64::MAX / 10^8`), so every value a venue sends fits, and every tick and
//!   step size down to 0.00000001 is exact.
//! * [`Amount`]: `i128` counting units of 10^-16 (`AMOUNT_SCALE_DIGITS = 16`), the
//!   exact product of a price and a quantity. Notional, cost basis, P&L and fees are
//!   amounts, so accounting never rounds.
//!
//! Parsing accepts plain and exponent notation (`"0.1"`, `"1E-7"`, `"-2.50"`) and
//! fails on anything that does not fit the scale: there is no silent rounding.
//! Formatting gives the shortest exact decimal (`"1.5"`, `"-0.00000001"`, `"42"`).

use crate::error::{Error, Result};
use std::fmt;

/// Decimal places of [`Price`] and [`Quantity`].
pub const SCALE_DIGITS: u32 = 8;
/// Raw units per whole unit of [`Price`] and [`Quantity`].
pub const SCALE: i64 = 100_000_000;
/// Decimal places of [`Amount`] (the exact product of two 8-digit values).
pub const AMOUNT_SCALE_DIGITS: u32 = 16;
/// Raw units per whole unit of [`Amount`].
pub const AMOUNT_SCALE: i128 = 10_000_000_000_000_000;

/// Parse a decimal string into an integer count of `10^-digits` units, exactly.
pub fn parse_scaled(input: &str, digits: u32, what: &'static str) -> Result<i128> {
    if let Some(raw) = parse_plain(input, digits) {
        return Ok(raw); // the common shape, without the general path's allocations
    }
    let invalid = |reason| Error::InvalidNumber {
        what,
        input: input.to_owned(),
        reason,
    };
    let (negative, body) = match input.as_bytes().first() {
        Some(b'-') => (true, &input[1..]),
        Some(b'+') => (false, &input[1..]),
        Some(_) => (false, input),
        None => return Err(invalid("empty")),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (
            &body[..i],
            parse_exponent(&body[i + 1..]).ok_or_else(|| invalid("bad exponent"))?,
        ),
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(invalid("no digits"));
    }
    if !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(invalid("only digits, one '.', a sign and an exponent are allowed"));
    }
    let frac_part = frac_part.trim_end_matches('0');
    let int_part = int_part.trim_start_matches('0');
    // value = D * 10^exp10, with D the concatenated significant digits.
    let mut significant: String = String::with_capacity(int_part.len() + frac_part.len());
    significant.push_str(int_part);
    significant.push_str(frac_part);
    let significant = significant.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    let trimmed = significant.trim_end_matches('0');
    let exp10 = exponent - frac_part.len() as i64 + (significant.len() - trimmed.len()) as i64;
    let shift = exp10 + i64::from(digits);
    if shift < 0 {
        return Err(Error::PrecisionExceeded {
            what,
            input: input.to_owned(),
            digits,
        });
    }
    let out_of_range = || Error::OutOfRange {
        what,
        input: input.to_owned(),
        reason: "too many digits for a 128-bit fixed-point value".into(),
    };
    if trimmed.len() > 39 || shift > 38 {
        return Err(out_of_range());
    }
    // Parse with the sign so that i128::MIN (whose magnitude has no positive i128) fits.
    let signed = if negative {
        format!("-{trimmed}")
    } else {
        trimmed.to_owned()
    };
    let d: i128 = signed.parse().map_err(|_| out_of_range())?;
    10i128
        .checked_pow(shift as u32)
        .and_then(|p| d.checked_mul(p))
        .ok_or_else(out_of_range)
}

/// `[-]digits[.digits]` with at most `digits` decimals and at most 38 digits in all
/// (what `str(Decimal)` gives for prices, quantities and fees), parsed in one pass;
/// None for anything else (the general path decides).
fn parse_plain(input: &str, digits: u32) -> Option<i128> {
    let (negative, body) = match input.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    let plain = !int_part.is_empty()
        && frac_part.len() <= digits as usize
        && int_part.len() + digits as usize <= 38
        && (!body.contains('.') || !frac_part.is_empty());
    if !plain {
        return None;
    }
    let mut units: i128 = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        units = units * 10 + i128::from(b - b'0');
    }
    units *= 10i128.pow(digits - frac_part.len() as u32);
    Some(if negative { -units } else { units })
}

/// Whether `text` is exactly what `format_scaled` writes for a positive value with
/// at most `digits` decimals (no sign, exponent, leading or trailing zeros).
pub fn is_canonical_positive(text: &str, digits: u32) -> bool {
    let (int_part, frac_part) = match text.split_once('.') {
        Some((int_part, frac)) => {
            if frac.is_empty() || frac.ends_with('0') || frac.len() > digits as usize {
                return false;
            }
            (int_part, frac)
        }
        None => (text, ""),
    };
    !int_part.is_empty()
        && (int_part == "0" || !int_part.starts_with('0'))
        && int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit())
}

/// A decimal given by its parts, `(-1)^negative * coefficient * 10^exponent` (how
/// `decimal.Decimal` holds it), as raw units of 10^-`digits`: what [`parse_scaled`]
/// gives for its text, without the text. None where that would refuse it, and for
/// magnitudes of 2^127 and beyond (the caller then parses the text, which words the
/// refusal).
pub fn scaled_from_parts(negative: bool, coefficient: u128, exponent: i64, digits: u32) -> Option<i128> {
    if coefficient == 0 {
        return Some(0);
    }
    let (mut coefficient, mut exponent) = (coefficient, exponent);
    while coefficient % 10 == 0 {
        coefficient /= 10; // trailing zeros carry no precision ("1.000000000" is 1)
        exponent += 1;
    }
    let shift = u32::try_from(exponent.checked_add(i64::from(digits))?).ok()?;
    let magnitude = i128::try_from(coefficient).ok()?;
    let units = magnitude.checked_mul(10i128.checked_pow(shift)?)?;
    Some(if negative { -units } else { units })
}

/// Raw units of 10^-`digits` (`digits` <= 18) of a decimal given by its parts when
/// its `str()` is canonical in the sense of [`is_canonical_positive`] (positive; no
/// exponent, which Python writes from 10^-7 down and for positive exponents; no
/// trailing zeros) and fits an `i64`; None otherwise.
pub fn canonical_from_parts(negative: bool, coefficient: u128, exponent: i64, digits: u32) -> Option<i64> {
    let width = i64::from(coefficient.checked_ilog10()?) + 1; // None for zero
    let plain = exponent <= 0 && exponent + width > -6; // adjusted exponent >= -6
    let no_trailing_zero = exponent == 0 || coefficient % 10 != 0;
    if negative || !plain || !no_trailing_zero || exponent < -i64::from(digits) {
        return None;
    }
    let shift = u32::try_from(exponent + i64::from(digits)).ok()?;
    let units = coefficient.checked_mul(10u128.checked_pow(shift)?)?;
    i64::try_from(units).ok()
}

fn parse_exponent(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    // Up to 17 digits (i64 range); magnitudes like 1E-1000000 then fail as
    // PRECISION_EXCEEDED or OUT_OF_RANGE, and 0E-1000000 is simply zero.
    if digits.is_empty() || digits.len() > 17 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Format an integer count of `10^-digits` units as the shortest exact decimal.
pub fn format_scaled(raw: i128, digits: u32) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(24);
    if raw < 0 {
        out.push('-');
    }
    let magnitude = raw.unsigned_abs();
    // u64 arithmetic where it fits (every price and most amounts): u128 division is a
    // library call, several times slower, and this runs for each Decimal handed out.
    let (int_part, mut frac_part) = match u64::try_from(magnitude) {
        Ok(small) if digits <= 19 => {
            let scale = 10u64.pow(digits);
            (u128::from(small / scale), u128::from(small % scale))
        }
        _ => {
            let scale = 10u128.pow(digits);
            (magnitude / scale, magnitude % scale)
        }
    };
    let _ = write!(out, "{int_part}");
    if frac_part != 0 {
        let mut width = digits as usize;
        while frac_part % 10 == 0 {
            frac_part /= 10;
            width -= 1;
        }
        let _ = write!(out, ".{frac_part:0width$}");
    }
    out
}

/// Round `numerator / denominator` to the nearest integer, ties to even.
/// `denominator` must be non-zero.
pub fn div_round_half_even(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    let twice = remainder.unsigned_abs() * 2;
    let denom = denominator.unsigned_abs();
    let away = twice > denom || (twice == denom && quotient % 2 != 0);
    if !away {
        return quotient;
    }
    if (numerator < 0) != (denominator < 0) {
        quotient - 1
    } else {
        quotient + 1
    }
}

/// `value * numerator / denominator` without intermediate overflow, rounded half-even.
/// Requires `0 <= numerator <= denominator`, `denominator > 0`.
pub fn mul_div_round(value: i128, numerator: i64, denominator: i64) -> Result<i128> {
    let (n, d) = (i128::from(numerator), i128::from(denominator));
    let whole = value / d;
    let rest = value % d;
    let head = whole.checked_mul(n).ok_or(Error::Overflow { op: "mul_div" })?;
    let tail = rest.checked_mul(n).ok_or(Error::Overflow { op: "mul_div" })?;
    head.checked_add(div_round_half_even(tail, d))
        .ok_or(Error::Overflow { op: "mul_div" })
}

macro_rules! fixed_i64 {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        #[repr(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const ZERO: $name = $name(0);
            pub const MAX: $name = $name(i64::MAX);

            /// From raw units of 10^-8.
            pub const fn from_raw(raw: i64) -> Self {
                $name(raw)
            }

            /// Raw units of 10^-8.
            pub const fn raw(self) -> i64 {
                self.0
            }

            /// Whole units, e.g. `from_units(2)` is 2.0.
            pub fn from_units(units: i64) -> Result<Self> {
                units.checked_mul(SCALE).map($name).ok_or_else(|| Error::OutOfRange {
                    what: $what,
                    input: units.to_string(),
                    reason: format!("the largest {} is {}", $what, $name::MAX),
                })
            }

            /// Parse a decimal string exactly (see module docs).
            pub fn parse(text: &str) -> Result<Self> {
                let raw = parse_scaled(text, SCALE_DIGITS, $what)?;
                i64::try_from(raw).map($name).map_err(|_| Error::OutOfRange {
                    what: $what,
                    input: text.to_owned(),
                    reason: format!("the largest {} is {}", $what, $name::MAX),
                })
            }

            pub fn is_zero(self) -> bool {
                self.0 == 0
            }

            pub fn is_negative(self) -> bool {
                self.0 < 0
            }

            pub fn checked_add(self, other: Self) -> Result<Self> {
                self.0.checked_add(other.0).map($name).ok_or(Error::Overflow { op: concat!($what, " add") })
            }

            pub fn checked_sub(self, other: Self) -> Result<Self> {
                self.0.checked_sub(other.0).map($name).ok_or(Error::Overflow { op: concat!($what, " sub") })
            }

            pub fn checked_neg(self) -> Result<Self> {
                self.0.checked_neg().map($name).ok_or(Error::Overflow { op: concat!($what, " neg") })
            }

            pub fn checked_abs(self) -> Result<Self> {
                self.0.checked_abs().map($name).ok_or(Error::Overflow { op: concat!($what, " abs") })
            }

            /// The same value as an [`Amount`] (exact: scale 10^-8 widens to 10^-16).
            pub fn to_amount(self) -> Amount {
                Amount(i128::from(self.0) * i128::from(SCALE))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&format_scaled(i128::from(self.0), SCALE_DIGITS))
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                $name::parse(s)
            }
        }
    };
}

fixed_i64!(
    /// A price in quote currency, exact to 10^-8.
    Price,
    "price"
);
fixed_i64!(
    /// A signed quantity of the base asset (or contracts), exact to 10^-8.
    Quantity,
    "quantity"
);

/// A money amount (notional, cost, P&L, fee) exact to 10^-16: the product of any
/// [`Price`] and [`Quantity`] is exact.
#[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[repr(transparent)]
pub struct Amount(i128);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub const fn from_raw(raw: i128) -> Self {
        Amount(raw)
    }

    pub const fn raw(self) -> i128 {
        self.0
    }

    pub fn parse(text: &str) -> Result<Self> {
        parse_scaled(text, AMOUNT_SCALE_DIGITS, "amount").map(Amount)
    }

    pub fn from_units(units: i64) -> Self {
        Amount(i128::from(units) * AMOUNT_SCALE)
    }

    /// `quantity * price`, exact.
    pub fn notional(quantity: Quantity, price: Price) -> Self {
        Amount(i128::from(quantity.raw()) * i128::from(price.raw()))
    }

    pub fn checked_add(self, other: Self) -> Result<Self> {
        self.0
            .checked_add(other.0)
            .map(Amount)
            .ok_or(Error::Overflow { op: "amount add" })
    }

    pub fn checked_sub(self, other: Self) -> Result<Self> {
        self.0
            .checked_sub(other.0)
            .map(Amount)
            .ok_or(Error::Overflow { op: "amount sub" })
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn abs(self) -> Self {
        Amount(self.0.saturating_abs())
    }

    /// Rounded up in magnitude to 10^-`digits` units (digits <= 16), saturating at
    /// the `i64` range: the conservative figures the risk engine keeps in atomics.
    pub fn to_scaled_ceil(self, digits: u32) -> i64 {
        let scale = 10i128.pow(AMOUNT_SCALE_DIGITS - digits);
        let mut q = self.0 / scale;
        if self.0 % scale != 0 {
            q += self.0.signum();
        }
        q.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// From raw 10^-`digits` units (digits <= 16).
    pub fn from_scaled(raw: i64, digits: u32) -> Self {
        Amount(i128::from(raw) * 10i128.pow(AMOUNT_SCALE_DIGITS - digits))
    }

    /// `to_scaled_ceil(8)`.
    pub fn to_raw8_ceil(self) -> i64 {
        self.to_scaled_ceil(SCALE_DIGITS)
    }

    /// `from_scaled(raw, 8)`.
    pub fn from_raw8(raw: i64) -> Self {
        Amount::from_scaled(raw, SCALE_DIGITS)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(self.0, AMOUNT_SCALE_DIGITS))
    }
}

impl std::str::FromStr for Amount {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Amount::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_plain_and_exponent_forms() {
        assert_eq!(Price::parse("123.45").unwrap().raw(), 12_345_000_000);
        assert_eq!(Price::parse("-0.00000001").unwrap().raw(), -1);
        assert_eq!(Price::parse("+7").unwrap().raw(), 700_000_000);
        assert_eq!(Price::parse(".5").unwrap().raw(), 50_000_000);
        assert_eq!(Price::parse("5.").unwrap().raw(), 500_000_000);
        assert_eq!(Price::parse("1E-7").unwrap().raw(), 10);
        assert_eq!(Price::parse("1.5e3").unwrap().raw(), 150_000_000_000);
        assert_eq!(Price::parse("0.100000000000000").unwrap().raw(), 10_000_000);
        assert_eq!(Price::parse("-0").unwrap().raw(), 0);
        assert_eq!(Price::parse("0E-30").unwrap().raw(), 0);
        assert_eq!(Price::parse("0E-1000000").unwrap().raw(), 0);
        assert_eq!(Price::parse("1E-1000000").unwrap_err().code(), "PRECISION_EXCEEDED");
        assert_eq!(Price::parse("1E+1000000").unwrap_err().code(), "OUT_OF_RANGE");
    }

    #[test]
    fn rejects_what_does_not_fit_or_is_not_a_number() {
        for bad in [
            "", "-", ".", "abc", "1.2.3", "NaN", "inf", "1e", "1e+", " 1", "1_000", "--1",
        ] {
            let err = Price::parse(bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_NUMBER", "{bad:?}");
        }
        let err = Price::parse("0.000000001").unwrap_err();
        assert_eq!(err.code(), "PRECISION_EXCEEDED");
        assert!(err.to_string().contains("more than 8 decimal places"));
        assert_eq!(Quantity::parse("92233720369").unwrap_err().code(), "OUT_OF_RANGE");
        assert_eq!(Quantity::parse("92233720368.54775807").unwrap(), Quantity::MAX);
        assert_eq!(Amount::parse("1e40").unwrap_err().code(), "OUT_OF_RANGE");
    }

    #[test]
    fn formats_shortest_exact_decimal() {
        assert_eq!(Price::from_raw(12_345_000_000).to_string(), "123.45");
        assert_eq!(Price::from_raw(-1).to_string(), "-0.00000001");
        assert_eq!(Price::from_raw(4_200_000_000).to_string(), "42");
        assert_eq!(Price::from_raw(0).to_string(), "0");
        assert_eq!(
            Amount::notional(Quantity::from_raw(1), Price::from_raw(1)).to_string(),
            "0.0000000000000001"
        );
    }

    #[test]
    fn product_is_exact_and_rounding_is_half_even() {
        let n = Amount::notional(
            Quantity::parse("0.00000003").unwrap(),
            Price::parse("99999.99999999").unwrap(),
        );
        assert_eq!(n.to_string(), "0.0029999999999997");
        assert_eq!(div_round_half_even(5, 2), 2);
        assert_eq!(div_round_half_even(7, 2), 4);
        assert_eq!(div_round_half_even(-5, 2), -2);
        assert_eq!(div_round_half_even(-7, 2), -4);
        assert_eq!(div_round_half_even(10, 3), 3);
        assert_eq!(div_round_half_even(-11, 3), -4);
        assert_eq!(Amount::from_raw(1).to_raw8_ceil(), 1);
        assert_eq!(Amount::from_raw(-1).to_raw8_ceil(), -1);
        assert_eq!(Amount::from_raw(200_000_000).to_raw8_ceil(), 2);
    }

    #[test]
    fn mul_div_does_not_overflow_on_large_values() {
        let big = i128::MAX / 4;
        assert_eq!(mul_div_round(big, 3, 3).unwrap(), big);
        assert_eq!(mul_div_round(10, 1, 4).unwrap(), 2); // 2.5 -> 2 (even)
        assert_eq!(mul_div_round(-10, 3, 4).unwrap(), -8); // -7.5 -> -8 (even)
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        assert_eq!(
            Price::MAX.checked_add(Price::from_raw(1)).unwrap_err().code(),
            "ARITHMETIC_OVERFLOW"
        );
        assert_eq!(
            Quantity::from_raw(i64::MIN).checked_abs().unwrap_err().code(),
            "ARITHMETIC_OVERFLOW"
        );
        assert_eq!(Quantity::from_units(i64::MAX).unwrap_err().code(), "OUT_OF_RANGE");
    }

    /// Coefficients of every width, with trailing zeros as often as not.
    fn coefficients() -> impl Strategy<Value = u128> {
        prop_oneof![
            0u128..1000,
            (1u128..10_000_000_000, 0u32..6).prop_map(|(c, z)| c * 10u128.pow(z)),
            any::<u64>().prop_map(u128::from),
            any::<u128>(),
        ]
    }

    /// `str(decimal.Decimal)` of `(-1)^negative * coefficient * 10^exponent`
    /// (CPython's `__str__`: plain down to an adjusted exponent of -6, else scientific).
    fn python_str(negative: bool, coefficient: u128, exponent: i64) -> String {
        let digits = coefficient.to_string();
        let left = exponent + digits.len() as i64;
        let dot = if exponent <= 0 && left > -6 { left } else { 1 };
        let (int_part, frac_part) = if dot <= 0 {
            ("0".to_string(), format!(".{}{digits}", "0".repeat((-dot) as usize)))
        } else if dot >= digits.len() as i64 {
            (
                format!("{digits}{}", "0".repeat((dot - digits.len() as i64) as usize)),
                String::new(),
            )
        } else {
            (
                digits[..dot as usize].to_string(),
                format!(".{}", &digits[dot as usize..]),
            )
        };
        let exp = if left == dot {
            String::new()
        } else {
            format!("E{:+}", left - dot)
        };
        format!("{}{int_part}{frac_part}{exp}", if negative { "-" } else { "" })
    }

    #[test]
    fn python_str_is_cpythons() {
        assert_eq!(python_str(false, 12345, -2), "123.45");
        assert_eq!(python_str(true, 1, -7), "-1E-7");
        assert_eq!(python_str(false, 12, -8), "1.2E-7");
        assert_eq!(python_str(false, 1, -6), "0.000001");
        assert_eq!(python_str(false, 1, 1), "1E+1");
        assert_eq!(python_str(false, 500, -2), "5.00");
        assert_eq!(python_str(false, 0, -3), "0.000");
        assert_eq!(python_str(false, 0, 2), "0E+2");
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(raw in any::<i64>()) {
            let text = Price::from_raw(raw).to_string();
            prop_assert_eq!(Price::parse(&text).unwrap().raw(), raw);
        }

        #[test]
        fn amount_round_trips(raw in any::<i128>()) {
            let text = Amount::from_raw(raw).to_string();
            prop_assert_eq!(Amount::parse(&text).unwrap().raw(), raw);
        }

        #[test]
        fn parse_matches_integer_arithmetic(int in 0u64..1_000_000_000, frac in 0u32..100_000_000, neg in any::<bool>()) {
            let text = format!("{}{}.{:08}", if neg { "-" } else { "" }, int, frac);
            let expected = (int as i64 * SCALE + i64::from(frac)) * if neg { -1 } else { 1 };
            prop_assert_eq!(Quantity::parse(&text).unwrap().raw(), expected);
        }

        #[test]
        fn exponent_form_equals_plain_form(mantissa in -10_000_000i64..10_000_000, exp in -8i32..3) {
            let text = format!("{mantissa}E{exp}");
            let plain = Price::from_raw(mantissa * 10i64.pow((exp + 8) as u32));
            prop_assert_eq!(Price::parse(&text).unwrap(), plain);
        }

        #[test]
        fn canonical_text_is_what_format_writes(raw in 1i64..i64::MAX, zeros in 0usize..3) {
            let text = Price::from_raw(raw).to_string();
            prop_assert!(is_canonical_positive(&text, SCALE_DIGITS));
            let padded = if text.contains('.') { format!("{text}{}", "0".repeat(zeros)) } else { text.clone() };
            prop_assert_eq!(is_canonical_positive(&padded, SCALE_DIGITS), zeros == 0 || !text.contains('.'));
            let leading_zero = format!("0{}", text);
            prop_assert!(!is_canonical_positive(&leading_zero, SCALE_DIGITS));
        }

        #[test]
        fn the_one_pass_parse_agrees_with_the_general_one(int in 0u64..10_000_000_000, frac in 0u64..100_000_000, width in 0usize..9, neg in any::<bool>()) {
            let frac_text = if width == 0 { String::new() } else { format!(".{:0width$}", frac % 10u64.pow(width as u32)) };
            let text = format!("{}{int}{frac_text}", if neg { "-" } else { "" });
            let via_general = format!("{text}E0"); // an exponent takes the general path
            prop_assert_eq!(parse_scaled(&text, 8, "v").unwrap(), parse_scaled(&via_general, 8, "v").unwrap());
            prop_assert_eq!(parse_scaled(&text, 16, "v").unwrap(), parse_scaled(&via_general, 16, "v").unwrap());
        }

        #[test]
        fn parts_give_what_the_text_gives(neg in any::<bool>(), coefficient in coefficients(), exponent in -30i64..30) {
            let text = python_str(neg, coefficient, exponent);
            for digits in [SCALE_DIGITS, AMOUNT_SCALE_DIGITS] {
                let from_text = parse_scaled(&text, digits, "v").ok();
                match scaled_from_parts(neg, coefficient, exponent, digits) {
                    Some(units) => prop_assert_eq!(Some(units), from_text, "{}", text),
                    None => prop_assert!(from_text.is_none_or(|u| u.unsigned_abs() >= 1 << 127), "{}", text),
                }
            }
        }

        #[test]
        fn canonical_parts_are_what_the_canonical_text_is(neg in any::<bool>(), coefficient in coefficients(), exponent in -12i64..4) {
            let text = python_str(neg, coefficient, exponent);
            let from_text = is_canonical_positive(&text, SCALE_DIGITS)
                .then(|| parse_scaled(&text, SCALE_DIGITS, "v").ok().and_then(|u| i64::try_from(u).ok()))
                .flatten()
                .filter(|&u| u > 0);
            prop_assert_eq!(canonical_from_parts(neg, coefficient, exponent, SCALE_DIGITS), from_text, "{}", text);
        }

        #[test]
        fn a_ninth_decimal_is_refused_not_rounded(int in 0u64..1_000_000, frac in 0u32..100_000_000, extra in 1u32..10) {
            let text = format!("{int}.{frac:08}{extra}");
            prop_assert_eq!(Price::parse(&text).unwrap_err().code(), "PRECISION_EXCEEDED");
        }
    }
}
