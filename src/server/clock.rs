//! Calendar arithmetic for the two places that need a UTC date without a
//! date library: log timestamps and the certificate's validity window.

use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC instant split into calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UtcDateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
}

impl UtcDateTime {
    /// Converts a system time; times before 1970 clamp to the epoch.
    pub(crate) fn from_system_time(t: SystemTime) -> Self {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        // `rem` is in 0..86400, so the narrowing casts below cannot truncate.
        UtcDateTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            micros: since.subsec_micros(),
        }
    }

    /// `2006-01-02T15:04:05.000000Z`: the layout go-plugin parses in a
    /// log line's `@timestamp`.
    pub(crate) fn to_log_timestamp(self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.micros
        )
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn known_instants() {
        let epoch = UtcDateTime::from_system_time(UNIX_EPOCH);
        assert_eq!(epoch.to_log_timestamp(), "1970-01-01T00:00:00.000000Z");

        // 2024-02-29T12:34:56.789012Z, a leap day.
        let t = UNIX_EPOCH + Duration::from_micros(1_709_210_096_789_012);
        assert_eq!(
            UtcDateTime::from_system_time(t).to_log_timestamp(),
            "2024-02-29T12:34:56.789012Z"
        );

        // 2000-03-01, just after a century leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_868_800);
        let d = UtcDateTime::from_system_time(t);
        assert_eq!((d.year, d.month, d.day), (2000, 3, 1));
    }
}
