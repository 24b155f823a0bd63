//! `resource.Quantity`: parsing with apimachinery's errors and its canonical form
//! (`1000m` -> `1`, `1024Mi` -> `1Gi`, `0.5` -> `500m`).

use std::fmt;

/// The regular expression apimachinery names when a quantity is malformed.
pub const FORMAT_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// Why a string is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuantityError {
    /// Not of the form number + suffix.
    Format,
    /// An unknown suffix.
    Suffix,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Format => f.write_str(FORMAT_ERROR),
            Self::Suffix => f.write_str("unable to parse quantity's suffix"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    DecimalSi,
    BinarySi,
    DecimalExponent,
}

/// A parsed quantity, held exactly in units of 10^-9 (rounded up, as apimachinery does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantity {
    nanos: Option<i128>,
    format: Format,
    original: String,
}

impl Quantity {
    /// Parse a quantity string.
    pub fn parse(s: &str) -> Result<Self, QuantityError> {
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut negative = false;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            negative = bytes[i] == b'-';
            i += 1;
        }
        let start = i;
        let mut int_digits = String::new();
        let mut frac_digits = String::new();
        let mut seen_dot = false;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            if bytes[i] == b'.' {
                if seen_dot {
                    return Err(QuantityError::Format);
                }
                seen_dot = true;
            } else if seen_dot {
                frac_digits.push(bytes[i] as char);
            } else {
                int_digits.push(bytes[i] as char);
            }
            i += 1;
        }
        if i == start || (int_digits.is_empty() && frac_digits.is_empty()) {
            return Err(QuantityError::Format);
        }
        let suffix = &s[i..];
        if !suffix
            .chars()
            .all(|c| "eEinumkKMGTP+-0123456789".contains(c))
        {
            return Err(QuantityError::Format);
        }
        let (format, base10_exp, base2_exp): (Format, i32, u32) = match suffix {
            "" => (Format::DecimalSi, 0, 0),
            "n" => (Format::DecimalSi, -9, 0),
            "u" => (Format::DecimalSi, -6, 0),
            "m" => (Format::DecimalSi, -3, 0),
            "k" => (Format::DecimalSi, 3, 0),
            "M" => (Format::DecimalSi, 6, 0),
            "G" => (Format::DecimalSi, 9, 0),
            "T" => (Format::DecimalSi, 12, 0),
            "P" => (Format::DecimalSi, 15, 0),
            "E" => (Format::DecimalSi, 18, 0),
            "Ki" => (Format::BinarySi, 0, 10),
            "Mi" => (Format::BinarySi, 0, 20),
            "Gi" => (Format::BinarySi, 0, 30),
            "Ti" => (Format::BinarySi, 0, 40),
            "Pi" => (Format::BinarySi, 0, 50),
            "Ei" => (Format::BinarySi, 0, 60),
            other => {
                let rest = other
                    .strip_prefix(['e', 'E'])
                    .ok_or(QuantityError::Suffix)?;
                let exp: i32 = rest.parse().map_err(|_| QuantityError::Suffix)?;
                (Format::DecimalExponent, exp, 0)
            }
        };
        let digits = format!("{int_digits}{frac_digits}");
        let digits = digits.trim_start_matches('0');
        let nanos = compute_nanos(digits, frac_digits.len() as i32, base10_exp, base2_exp)
            .map(|n| if negative { -n } else { n });
        Ok(Self {
            nanos,
            format,
            original: s.to_string(),
        })
    }

    /// The value in units of 10^-9, when it fits.
    pub fn nanos(&self) -> Option<i128> {
        self.nanos
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos.is_some_and(|n| n < 0)
            || (self.nanos.is_none() && self.original.starts_with('-'))
    }

    /// The canonical string apimachinery serialises.
    pub fn canonical(&self) -> String {
        let Some(n) = self.nanos else {
            return self.original.clone();
        };
        if n == 0 {
            return "0".to_string();
        }
        let sign = if n < 0 { "-" } else { "" };
        let abs = n.unsigned_abs();
        if self.format == Format::BinarySi
            && abs % 1_000_000_000 == 0
            && abs / 1_000_000_000 >= 1024
        {
            let mut v = abs / 1_000_000_000;
            let mut k = 0;
            while v % 1024 == 0 && k < 6 {
                v /= 1024;
                k += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][k];
            return format!("{sign}{v}{suffix}");
        }
        let mut m = abs;
        let mut e: i32 = -9;
        while m % 1000 == 0 && e < 18 {
            m /= 1000;
            e += 3;
        }
        let suffix = if self.format == Format::DecimalExponent {
            if e == 0 {
                String::new()
            } else {
                format!("e{e}")
            }
        } else {
            match e {
                -9 => "n",
                -6 => "u",
                -3 => "m",
                0 => "",
                3 => "k",
                6 => "M",
                9 => "G",
                12 => "T",
                15 => "P",
                _ => "E",
            }
            .to_string()
        };
        format!("{sign}{m}{suffix}")
    }
}

fn compute_nanos(digits: &str, frac_len: i32, base10_exp: i32, base2_exp: u32) -> Option<i128> {
    let mut n: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    n = n.checked_mul(1i128.checked_shl(base2_exp)?)?;
    // value = n * 10^(base10_exp - frac_len); nanos = value * 10^9
    let shift = base10_exp - frac_len + 9;
    if shift >= 0 {
        n.checked_mul(10i128.checked_pow(shift as u32)?)
    } else {
        let div = 10i128.checked_pow((-shift) as u32)?;
        // Round up (away from zero for positives), as apimachinery rounds to nano precision.
        Some(if n % div == 0 { n / div } else { n / div + 1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Quantity::parse(s)
            .map(|q| q.canonical())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn canonical_forms_match_apimachinery() {
        assert_eq!(canon("1000m"), "1");
        assert_eq!(canon("1500m"), "1500m");
        assert_eq!(canon("0.5"), "500m");
        assert_eq!(canon("2000"), "2k");
        assert_eq!(canon("1024Mi"), "1Gi");
        assert_eq!(canon("1536Mi"), "1536Mi");
        assert_eq!(canon("0.5Gi"), "512Mi");
        assert_eq!(canon("100Mi"), "100Mi");
        assert_eq!(canon("1Gi"), "1Gi");
        assert_eq!(canon("512"), "512");
        assert_eq!(canon("1e3"), "1e3");
        assert_eq!(canon("0"), "0");
        assert_eq!(canon("50m"), "50m");
        assert_eq!(canon("1"), "1");
    }

    #[test]
    fn malformed_quantities_are_refused() {
        assert_eq!(Quantity::parse("abc"), Err(QuantityError::Format));
        assert_eq!(Quantity::parse("1.2.3"), Err(QuantityError::Format));
        assert_eq!(Quantity::parse("1x"), Err(QuantityError::Format));
        assert_eq!(Quantity::parse("1Mb"), Err(QuantityError::Format));
        assert_eq!(Quantity::parse("1kk"), Err(QuantityError::Suffix));
    }
}
