//! Small helpers over `serde_json::Value` objects: metadata access, timestamps, ids.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// Follow a path of object keys.
pub fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.as_object()?.get(*p)?;
    }
    Some(cur)
}

/// Follow a path of object keys to a string.
pub fn get_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(v, path)?.as_str()
}

/// Follow a path of object keys to an integer.
pub fn get_i64(v: &Value, path: &[&str]) -> Option<i64> {
    get(v, path)?.as_i64()
}

/// Follow a path of object keys to a bool.
pub fn get_bool(v: &Value, path: &[&str]) -> Option<bool> {
    get(v, path)?.as_bool()
}

/// Mutable object at a path, creating empty objects on the way (replacing non-objects).
pub fn obj_mut<'a>(v: &'a mut Value, path: &[&str]) -> &'a mut Map<String, Value> {
    let mut cur = v;
    for p in path {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else {
            unreachable_object()
        };
        cur = m
            .entry((*p).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    match cur {
        Value::Object(m) => m,
        _ => unreachable_object(),
    }
}

#[allow(clippy::panic)]
fn unreachable_object() -> ! {
    // obj_mut replaced the value with an object just above.
    panic!("value was just made an object")
}

/// Set a value at a path, creating objects on the way.
pub fn set(v: &mut Value, path: &[&str], value: Value) {
    if let Some((last, parents)) = path.split_last() {
        obj_mut(v, parents).insert((*last).to_string(), value);
    }
}

/// Remove a value at a path.
pub fn remove(v: &mut Value, path: &[&str]) -> Option<Value> {
    let (last, parents) = path.split_last()?;
    let mut cur = v;
    for p in parents {
        cur = cur.as_object_mut()?.get_mut(*p)?;
    }
    cur.as_object_mut()?.remove(*last)
}

/// `metadata.name`
pub fn name(v: &Value) -> &str {
    get_str(v, &["metadata", "name"]).unwrap_or("")
}

/// `metadata.namespace`
pub fn namespace(v: &Value) -> &str {
    get_str(v, &["metadata", "namespace"]).unwrap_or("")
}

/// `metadata.uid`
pub fn uid(v: &Value) -> &str {
    get_str(v, &["metadata", "uid"]).unwrap_or("")
}

/// `metadata.resourceVersion` parsed.
pub fn resource_version(v: &Value) -> u64 {
    get_str(v, &["metadata", "resourceVersion"])
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// `metadata.labels` as pairs.
pub fn labels(v: &Value) -> Vec<(&str, &str)> {
    string_map(get(v, &["metadata", "labels"]))
}

/// A JSON object of strings as pairs (non-strings skipped).
pub fn string_map(v: Option<&Value>) -> Vec<(&str, &str)> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s)))
                .collect()
        })
        .unwrap_or_default()
}

/// `metadata.finalizers`
pub fn finalizers(v: &Value) -> Vec<String> {
    get(v, &["metadata", "finalizers"])
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `metadata.deletionTimestamp` is set.
pub fn is_deleting(v: &Value) -> bool {
    get(v, &["metadata", "deletionTimestamp"]).is_some_and(|t| !t.is_null())
}

/// Seconds since the Unix epoch, with fractions.
pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// RFC 3339 UTC with whole seconds (metav1.Time).
pub fn format_time(secs: f64) -> String {
    format_parts(secs, false)
}

/// RFC 3339 UTC with microseconds (metav1.MicroTime).
pub fn format_micro_time(secs: f64) -> String {
    format_parts(secs, true)
}

fn format_parts(secs: f64, micro: bool) -> String {
    let whole = secs.floor() as i64;
    let micros = ((secs - secs.floor()) * 1_000_000.0) as i64;
    let days = whole.div_euclid(86_400);
    let rem = whole.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    if micro {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{micros:06}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    }
}

/// Now as metav1.Time.
pub fn now_time() -> String {
    format_time(now_secs())
}

/// Parse an RFC 3339 timestamp to epoch seconds.
pub fn parse_time(s: &str) -> Option<f64> {
    let ts: k8s_openapi::jiff::Timestamp = s.parse().ok()?;
    Some(ts.as_millisecond() as f64 / 1000.0)
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

static RNG: AtomicU64 = AtomicU64::new(0);

/// A fast non-cryptographic random number (splitmix64 over a time-seeded counter).
pub fn random_u64() -> u64 {
    if RNG.load(Ordering::Relaxed) == 0 {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        let _ = RNG.compare_exchange(0, seed, Ordering::Relaxed, Ordering::Relaxed);
    }
    let mut z = RNG
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A random version-4 UUID string.
pub fn new_uid() -> String {
    let a = random_u64();
    let b = random_u64();
    let bytes: Vec<u8> = a.to_be_bytes().into_iter().chain(b.to_be_bytes()).collect();
    let mut bytes: [u8; 16] = bytes.try_into().unwrap_or([0; 16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The random suffix of generateName: five characters from apimachinery's alphabet.
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut r = random_u64();
    (0..5)
        .map(|_| {
            let c = ALPHABET[(r % ALPHABET.len() as u64) as usize] as char;
            r /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_and_leap_days() {
        assert_eq!(format_time(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(951_782_400.0), "2000-02-29T00:00:00Z");
        assert_eq!(format_micro_time(1.5), "1970-01-01T00:00:01.500000Z");
        assert_eq!(parse_time("2000-02-29T00:00:00Z"), Some(951_782_400.0));
    }

    #[test]
    fn uids_look_like_uuids() {
        let u = new_uid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(new_uid(), u);
    }
}
