//! Whole numbers in a manifest: YAML and JSON give them as numbers or as
//! strings (protojson writes 64-bit integers as strings), and a field of a
//! 32- or 64-bit integer type accepts only values in its range.

use crate::tf::Number;

/// The protobuf integer type behind a numeric attribute, which bounds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Integer {
    U32,
    U64,
    I32,
}

impl Integer {
    /// Planton's type for the numeric attribute `name`: `default_mode` is an
    /// int32, `active_deadline_seconds` a uint64, every other one a uint32.
    pub(super) fn of(name: &str) -> Integer {
        match name {
            "active_deadline_seconds" => Integer::U64,
            "default_mode" => Integer::I32,
            _ => Integer::U32,
        }
    }

    pub(super) fn range(self) -> &'static str {
        match self {
            Integer::U32 => "from 0 to 4294967295",
            Integer::U64 => "from 0 to 18446744073709551615",
            Integer::I32 => "from -2147483648 to 2147483647",
        }
    }

    pub(super) fn holds(self, n: &Number) -> bool {
        match self {
            Integer::U32 => n.as_u64().is_some_and(|v| u32::try_from(v).is_ok()),
            Integer::U64 => n.as_u64().is_some(),
            Integer::I32 => n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()),
        }
    }

    /// A whole number written as a string, as protojson writes 64-bit
    /// integers and accepts every integer.
    pub(super) fn parse(self, s: &str) -> Option<Number> {
        let digits = match (self, s.strip_prefix('-')) {
            (Integer::I32, Some(rest)) => rest,
            _ => s,
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse::<Number>().ok()
    }
}
