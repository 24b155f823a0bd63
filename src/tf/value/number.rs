//! Number conversions the codecs need: decimal text in and out, and exact
//! conversions to and from `f64`.
//!
//! Terraform's numbers are arbitrary-precision, so every conversion here is
//! exact or refuses. Sizes are bounded: a number written in plain notation
//! (as Terraform writes it) never exceeds a few kilobytes, so hostile input
//! such as `1e999999999` cannot make us render a gigabyte of zeros.

use bigdecimal::BigDecimal;
use bigdecimal::num_bigint::BigInt;

use super::Number;

/// Longest decimal text we parse.
const MAX_TEXT: usize = 4096;
/// Largest number of significant digits and largest decimal exponent (in
/// either direction) of a number we accept or write. An `f64` needs at most
/// 767 digits and an exponent of 1074, so every float fits.
const MAX_MAGNITUDE: i64 = 8192;

/// Parses a decimal such as `-12.5e3`, as found in a msgpack string or JSON.
pub(super) fn parse_decimal(text: &str) -> Result<Number, String> {
    if text.len() > MAX_TEXT {
        return Err(format!("a number may have at most {MAX_TEXT} characters"));
    }
    let invalid = || format!("{text:?} is not a decimal number");
    let mut rest = text.as_bytes();
    let negative = match rest.first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    let mut digits = Vec::with_capacity(rest.len());
    let int_len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits.extend_from_slice(&rest[..int_len]);
    rest = &rest[int_len..];
    let mut frac_len = 0usize;
    if let Some((b'.', after)) = rest.split_first() {
        frac_len = after.iter().take_while(|b| b.is_ascii_digit()).count();
        digits.extend_from_slice(&after[..frac_len]);
        rest = &after[frac_len..];
    }
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut exponent: i64 = 0;
    if let Some((b'e' | b'E', after)) = rest.split_first() {
        let (exp_negative, after) = match after.split_first() {
            Some((b'-', a)) => (true, a),
            Some((b'+', a)) => (false, a),
            _ => (false, after),
        };
        let exp_len = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if exp_len == 0 {
            return Err(invalid());
        }
        for d in &after[..exp_len] {
            exponent = exponent * 10 + i64::from(d - b'0');
            if exponent > 4 * MAX_MAGNITUDE {
                return Err(format!("{text:?} is too large or too small"));
            }
        }
        if exp_negative {
            exponent = -exponent;
        }
        rest = &after[exp_len..];
    }
    if !rest.is_empty() {
        return Err(invalid());
    }
    let Some(mut int) = BigInt::parse_bytes(&digits, 10) else {
        return Err(invalid());
    };
    if negative {
        int = -int;
    }
    // frac_len <= MAX_TEXT, so this cannot overflow.
    let scale = i64::try_from(frac_len).map_err(|_| invalid())? - exponent;
    let value = BigDecimal::new(int, scale).normalized();
    check_magnitude(&value).map_err(|e| format!("{text:?} {e}"))?;
    Ok(Number(value))
}

/// Fails for numbers too long to write in plain notation.
fn check_magnitude(value: &BigDecimal) -> Result<(), String> {
    let (_, scale) = value.as_bigint_and_scale();
    let digits = i64::try_from(value.digits()).unwrap_or(i64::MAX);
    if digits > MAX_MAGNITUDE || !(-MAX_MAGNITUDE..=MAX_MAGNITUDE).contains(&scale) {
        return Err(format!(
            "is too large or too precise (at most {MAX_MAGNITUDE} digits and a decimal exponent within ±{MAX_MAGNITUDE})"
        ));
    }
    Ok(())
}

/// The number in plain notation (`0.0000001`, never `1e-7`), as cty writes
/// numbers that do not fit an int or a float.
pub(super) fn plain_text(n: &Number) -> Result<String, String> {
    check_magnitude(&n.0).map_err(|e| format!("the number {e}"))?;
    Ok(n.0.normalized().to_plain_string())
}

/// The exact value of a finite float; `None` for NaN and infinities.
pub(super) fn from_f64_exact(f: f64) -> Option<Number> {
    if !f.is_finite() {
        return None;
    }
    if f == 0.0 {
        return Some(Number(BigDecimal::from(0)));
    }
    let bits = f.to_bits();
    let negative = bits >> 63 == 1;
    let biased_exp = i64::try_from((bits >> 52) & 0x7ff).ok()?;
    let fraction = bits & ((1u64 << 52) - 1);
    // value = mantissa * 2^exp2
    let (mantissa, exp2) = if biased_exp == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased_exp - 1075)
    };
    let mut int = BigInt::from(mantissa);
    let scale = if exp2 >= 0 {
        int <<= usize::try_from(exp2).ok()?;
        0
    } else {
        // m * 2^-k == m * 5^k / 10^k
        let k = u32::try_from(-exp2).ok()?;
        int *= BigInt::from(5u8).pow(k);
        i64::from(k)
    };
    if negative {
        int = -int;
    }
    Some(Number(BigDecimal::new(int, scale).normalized()))
}

/// The number as an `f64` when that float has exactly this value.
pub(super) fn exact_f64(n: &Number) -> Option<f64> {
    if check_magnitude(&n.0).is_err() {
        return None;
    }
    let (int, scale) = n.0.as_bigint_and_scale();
    // Rust's float parsing rounds correctly, so if any float equals the
    // number, this finds it.
    let f: f64 = format!("{int}e{}", -scale).parse().ok()?;
    let back = from_f64_exact(f)?;
    (back == *n).then_some(f)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn num(s: &str) -> Number {
        parse_decimal(s).unwrap()
    }

    /// Decimal text parses exactly, whatever its precision.
    #[test]
    fn parses_decimals_exactly() {
        let big = "123456789012345678901234567890.000000000000000000001";
        assert_eq!(plain_text(&num(big)).unwrap(), big);
        assert_eq!(
            plain_text(&num("-1e-40")).unwrap(),
            format!("-0.{}1", "0".repeat(39))
        );
        assert_eq!(plain_text(&num("+1.50E+2")).unwrap(), "150");
        assert_eq!(plain_text(&num("-0")).unwrap(), "0");
        assert_eq!(plain_text(&num(".5")).unwrap(), "0.5");
        assert_eq!(plain_text(&num("5.")).unwrap(), "5");
    }

    /// Anything that is not a plain decimal is refused, including NaN and infinities.
    #[test]
    fn rejects_non_decimals() {
        for bad in [
            "",
            "-",
            ".",
            "e5",
            "1e",
            "1e+",
            "NaN",
            "inf",
            "-Infinity",
            "1 ",
            " 1",
            "0x10",
            "1_000",
            "1.2.3",
            "１",
        ] {
            assert!(parse_decimal(bad).is_err(), "{bad:?} accepted");
        }
    }

    /// Huge exponents are refused before anything is rendered.
    #[test]
    fn bounds_magnitude() {
        assert!(parse_decimal("1e99999999999999999999999").is_err());
        assert!(parse_decimal("1e-9000").is_err());
        assert!(parse_decimal(&"9".repeat(MAX_TEXT + 1)).is_err());
        assert!(parse_decimal("1e8000").is_ok());
        let huge = Number(BigDecimal::new(BigInt::from(1), -1_000_000_000));
        assert!(plain_text(&huge).is_err());
        assert_eq!(exact_f64(&huge), None);
    }

    /// Floats convert exactly in both directions, subnormals and extremes included.
    #[test]
    fn floats_are_exact() {
        assert_eq!(from_f64_exact(0.5).unwrap(), num("0.5"));
        assert_eq!(
            from_f64_exact(0.1).unwrap(),
            num("0.1000000000000000055511151231257827021181583404541015625")
        );
        for f in [
            0.5,
            -0.1,
            1e300,
            -1e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            2f64.powi(70),
        ] {
            let n = from_f64_exact(f).unwrap();
            assert_eq!(exact_f64(&n), Some(f), "{f}");
        }
        assert_eq!(from_f64_exact(f64::NAN), None);
        assert_eq!(from_f64_exact(f64::INFINITY), None);
        assert_eq!(exact_f64(&num("0.1")), None);
        assert_eq!(exact_f64(&num("1e-40")), None);
    }
}
