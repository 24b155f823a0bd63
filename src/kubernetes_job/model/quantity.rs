//! Kubernetes resource quantities (`500m`, `1Gi`, `1.5`, `2e3`): syntax and
//! the value the API server stores, so that requests can be compared with
//! limits before anything reaches a cluster.
//!
//! The grammar is the one kube-apiserver accepts:
//!
//! ```text
//! quantity ::= sign? number suffix
//! number   ::= digits | digits "." | digits "." digits | "." digits
//! suffix   ::= "" | Ki | Mi | Gi | Ti | Pi | Ei          (binary)
//!            | n | u | m | k | M | G | T | P | E          (decimal)
//!            | ("e" | "E") sign? digits                   (exponent, 32-bit)
//! ```
//!
//! The server keeps at most three decimal places (rounding up) and caps the
//! magnitude at 2^63-1; [`Quantity`] does the same, so comparisons agree
//! with the server's.

use std::fmt;

use bigdecimal::num_bigint::BigInt;
use bigdecimal::{ToPrimitive, Zero};

/// Largest magnitude the API server represents, in thousandths.
const CAP_MILLIS: i128 = (i64::MAX as i128) * 1000;

/// Significant digits we keep exactly; more cannot change a comparison of
/// values capped at 2^63-1 with three decimals, except by rounding up.
const MAX_SIGNIFICANT: usize = 40;

/// A parsed quantity, as thousandths of the base unit (cores, bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity {
    millis: i128,
}

/// Why a string is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The string is empty.
    #[error("the quantity is empty")]
    Empty,
    /// No digits where the number should be.
    #[error("a quantity starts with an optional sign and a number, such as 500 or 0.5")]
    MissingNumber,
    /// The text after the number is not a known suffix.
    #[error(
        "{0:?} is not a quantity suffix; use a binary suffix (Ki, Mi, Gi, Ti, Pi, Ei), a decimal one (n, u, m, k, M, G, T, P, E) or an exponent such as e3"
    )]
    BadSuffix(String),
}

impl Quantity {
    /// Parses a quantity string exactly as kube-apiserver does; no
    /// surrounding whitespace is allowed.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        if text.is_empty() {
            return Err(QuantityError::Empty);
        }
        let bytes = text.as_bytes();
        let mut pos = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                pos = 1;
                true
            }
            Some(b'+') => {
                pos = 1;
                false
            }
            _ => false,
        };
        let int_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        let int_digits = &text[int_start..pos];
        let mut frac_digits = "";
        if pos < bytes.len() && bytes[pos] == b'.' {
            pos += 1;
            let frac_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            frac_digits = &text[frac_start..pos];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(QuantityError::MissingNumber);
        }
        let suffix = &text[pos..];
        let (exp10, binary) = suffix_scale(suffix)?;
        let exp10 = exp10 - i64::try_from(frac_digits.len()).unwrap_or(i64::MAX);
        Ok(Quantity {
            millis: to_millis(negative, int_digits, frac_digits, exp10, binary),
        })
    }

    /// Whether the quantity is below zero.
    pub fn is_negative(&self) -> bool {
        self.millis < 0
    }

    /// The value in thousandths of the base unit (rounded up, capped).
    pub fn millis(&self) -> i128 {
        self.millis
    }
}

impl fmt::Display for Quantity {
    /// Thousandths as a decimal, e.g. `0.05` or `1073741824`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.millis < 0 { "-" } else { "" };
        let abs = self.millis.unsigned_abs();
        let (whole, frac) = (abs / 1000, abs % 1000);
        if frac == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let frac = format!("{frac:03}");
            write!(f, "{sign}{whole}.{}", frac.trim_end_matches('0'))
        }
    }
}

/// Whether two quantity strings stand for the same value.
pub fn same_quantity(a: &str, b: &str) -> bool {
    a == b || matches!((Quantity::parse(a), Quantity::parse(b)), (Ok(x), Ok(y)) if x == y)
}

/// The decimal exponent and the power of 1024 a suffix stands for.
fn suffix_scale(suffix: &str) -> Result<(i64, u32), QuantityError> {
    let scale = match suffix {
        "" => (0, 0),
        "Ki" => (0, 1),
        "Mi" => (0, 2),
        "Gi" => (0, 3),
        "Ti" => (0, 4),
        "Pi" => (0, 5),
        "Ei" => (0, 6),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        _ => {
            let exponent = suffix
                .strip_prefix(['e', 'E'])
                .filter(|rest| {
                    let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
                    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
                })
                // The server parses the exponent as a 32-bit integer.
                .and_then(|rest| rest.parse::<i32>().ok())
                .ok_or_else(|| QuantityError::BadSuffix(suffix.to_string()))?;
            (i64::from(exponent), 0)
        }
    };
    Ok(scale)
}

/// `±digits × 10^exp10 × 1024^binary` in thousandths, rounded up and capped
/// the way the API server does.
fn to_millis(negative: bool, int_digits: &str, frac_digits: &str, exp10: i64, binary: u32) -> i128 {
    let all: String = format!("{int_digits}{frac_digits}");
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return 0;
    }
    let mut exp10 = exp10.saturating_add(3); // thousandths
    let mut digits = significant.to_string();
    let mut dropped_nonzero = false;
    if digits.len() > MAX_SIGNIFICANT {
        let tail = digits.split_off(MAX_SIGNIFICANT);
        dropped_nonzero = tail.bytes().any(|b| b != b'0');
        exp10 = exp10.saturating_add(i64::try_from(tail.len()).unwrap_or(i64::MAX));
    }
    let Ok(mut mantissa) = digits.parse::<BigInt>() else {
        return 0;
    };
    if dropped_nonzero {
        mantissa += 1;
    }
    let len = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    let binary_digits = i64::from(binary) * 3; // 1024^b >= 10^(3b)
    let signed = |magnitude: i128| if negative { -magnitude } else { magnitude };

    // At least 10^22 thousandths: above the cap whatever the digits are.
    if len
        .saturating_sub(1)
        .saturating_add(exp10)
        .saturating_add(binary_digits)
        >= 22
    {
        return signed(CAP_MILLIS);
    }
    // Below one thousandth: the server rounds a positive value up to 1m.
    if len
        .saturating_add(exp10)
        .saturating_add(i64::from(binary) * 4)
        <= 0
    {
        return if negative { 0 } else { 1 };
    }
    mantissa *= BigInt::from(1024u64).pow(binary);
    let magnitude = if exp10 >= 0 {
        mantissa * BigInt::from(10u8).pow(u32::try_from(exp10).unwrap_or(0))
    } else {
        let divisor = BigInt::from(10u8).pow(u32::try_from(-exp10).unwrap_or(0));
        let quotient = &mantissa / &divisor;
        let remainder = &mantissa % &divisor;
        // Round towards +infinity, as the server does.
        if !remainder.is_zero() && !negative {
            quotient + 1
        } else {
            quotient
        }
    };
    let magnitude = magnitude.to_i128().unwrap_or(CAP_MILLIS).min(CAP_MILLIS);
    signed(magnitude)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn millis(text: &str) -> i128 {
        Quantity::parse(text)
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
            .millis()
    }

    /// Every suffix form the API server accepts parses to the right value.
    #[test]
    fn parses_every_suffix() {
        let cases: &[(&str, i128)] = &[
            ("0", 0),
            ("1", 1000),
            ("+1", 1000),
            ("500m", 500),
            ("0.5", 500),
            (".5", 500),
            ("5.", 5000),
            ("1000m", 1000),
            ("100n", 1),
            ("1u", 1),
            ("1k", 1_000_000),
            ("1M", 1_000_000_000),
            ("1G", 1_000_000_000_000),
            ("1T", 1_000_000_000_000_000),
            ("1P", 1_000_000_000_000_000_000),
            ("1E", 1_000_000_000_000_000_000_000),
            ("1Ki", 1_024_000),
            ("100Mi", 100 * 1024 * 1024 * 1000),
            ("1Gi", 1024 * 1024 * 1024 * 1000),
            ("1.5Gi", 3 * 512 * 1024 * 1024 * 1000),
            ("1Ti", 1024_i128.pow(4) * 1000),
            ("1Pi", 1024_i128.pow(5) * 1000),
            ("1e3", 1_000_000),
            ("1E3", 1_000_000),
            ("1e+3", 1_000_000),
            ("25e-3", 25),
            ("-1", -1000),
            ("-0", 0),
            ("0.0001", 1),
            ("1e-100", 1),
        ];
        for (text, expected) in cases {
            assert_eq!(millis(text), *expected, "{text}");
        }
    }

    /// Values beyond 2^63-1 are capped, as the server caps them.
    #[test]
    fn caps_huge_values() {
        assert_eq!(millis("8Ei"), CAP_MILLIS);
        assert_eq!(millis("1e1000000000"), CAP_MILLIS);
        assert_eq!(millis("-1e30"), -CAP_MILLIS);
        let long = format!("1{}", "0".repeat(10_000));
        assert_eq!(millis(&long), CAP_MILLIS);
        assert_eq!(millis(&format!("0.{}1", "0".repeat(10_000))), 1);
    }

    /// Malformed strings are rejected with the reason.
    #[test]
    fn rejects_bad_syntax() {
        for text in [
            "",
            " 1",
            "1 ",
            "1 core",
            "abc",
            ".",
            "-",
            "+",
            "1.2.3",
            "1K",
            "1kb",
            "1Gb",
            "1e",
            "1e1.5",
            "1ee3",
            "1e99999999999",
            "Gi",
            "--1",
            "0x10",
            "1_000",
        ] {
            assert!(Quantity::parse(text).is_err(), "{text:?} should fail");
        }
        assert_eq!(Quantity::parse(""), Err(QuantityError::Empty));
        assert_eq!(
            Quantity::parse("1kb"),
            Err(QuantityError::BadSuffix("kb".into()))
        );
    }

    /// Comparisons follow values, not spellings.
    #[test]
    fn compares_values() {
        let q = |s| Quantity::parse(s).unwrap();
        assert!(q("500m") < q("1"));
        assert!(q("1Gi") > q("1G"));
        assert_eq!(q("1000m"), q("1"));
        assert!(q("-1").is_negative());
        assert!(!q("-0").is_negative());
        assert_eq!(q("1500m").to_string(), "1.5");
        assert_eq!(q("50m").to_string(), "0.05");
    }
}
