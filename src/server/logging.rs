//! Logs on stderr, one JSON object per line in hclog's shape (`@level`,
//! `@message`, `@timestamp`, `@module`, then the event's fields). go-plugin
//! parses such lines and re-emits them in Terraform's log at their own
//! level, so `TF_LOG=debug terraform plan` shows our debug lines as debug
//! lines; any other line would be logged verbatim at debug level.

use std::fmt;

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::clock::UtcDateTime;

/// The `@module` of every line.
const MODULE: &str = "planton";

/// Environment variable with a `tracing` filter directive that replaces
/// the default one (e.g. `h2=trace,planton_provider=debug`), for debugging
/// the transport's dependencies.
pub const FILTER_KEY: &str = "PLANTON_LOG";

/// Installs the stderr logger at the level Terraform's environment asks
/// for. Does nothing if a global subscriber is already set (tests).
pub fn init() {
    let filter = match std::env::var(FILTER_KEY)
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        Some(directives) => directives,
        None => {
            let provider = std::env::var("TF_LOG_PROVIDER").ok();
            let core = std::env::var("TF_LOG").ok();
            match level_from_env(provider.as_deref(), core.as_deref()) {
                Some(level) => default_directives(level),
                None => return,
            }
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .event_format(HclogJson)
        .try_init();
}

/// Our own code at `level`; libraries (h2, hyper, tonic, rustls, kube) at
/// most at info, since their debug output would drown ours at TF_LOG=trace.
fn default_directives(level: Level) -> String {
    let libraries = if level <= Level::INFO {
        level
    } else {
        Level::INFO
    };
    format!(
        "{libraries},planton_provider={level},terraform_provider_planton={level}",
        libraries = libraries.as_str().to_ascii_lowercase(),
        level = level.as_str().to_ascii_lowercase()
    )
}

/// The level Terraform would give our log lines: TF_LOG_PROVIDER wins over
/// TF_LOG; `JSON` means trace; an unrecognised value means trace (as in
/// Terraform); `OFF` means no logging. Unset, we still report warnings
/// and errors, which cost nothing when all is well.
pub fn level_from_env(tf_log_provider: Option<&str>, tf_log: Option<&str>) -> Option<Level> {
    let setting = [tf_log_provider, tf_log]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty());
    let Some(setting) = setting else {
        return Some(Level::WARN);
    };
    match setting.to_ascii_uppercase().as_str() {
        "OFF" => None,
        "ERROR" => Some(Level::ERROR),
        "WARN" => Some(Level::WARN),
        "INFO" => Some(Level::INFO),
        "DEBUG" => Some(Level::DEBUG),
        _ => Some(Level::TRACE),
    }
}

/// hclog's name for a level.
fn hclog_level(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// The event formatter.
#[derive(Debug, Clone, Copy, Default)]
pub struct HclogJson;

impl<S, N> FormatEvent<S, N> for HclogJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writer.write_str(&render(event, std::time::SystemTime::now()))?;
        writer.write_char('\n')
    }
}

/// One event as an hclog JSON line (without the newline).
fn render(event: &Event<'_>, now: std::time::SystemTime) -> String {
    let meta = event.metadata();
    let mut fields = FieldCollector::default();
    event.record(&mut fields);

    let mut line = Map::new();
    line.insert("@level".into(), Json::from(hclog_level(meta.level())));
    line.insert(
        "@message".into(),
        Json::from(fields.message.unwrap_or_default()),
    );
    line.insert("@module".into(), Json::from(MODULE));
    line.insert(
        "@timestamp".into(),
        Json::from(UtcDateTime::from_system_time(now).to_log_timestamp()),
    );
    if let (Some(file), Some(n)) = (meta.file(), meta.line()) {
        line.insert("@caller".into(), Json::from(format!("{file}:{n}")));
    }
    for (k, v) in fields.fields {
        // Never let a field shadow the reserved keys.
        if !k.starts_with('@') {
            line.insert(k, v);
        }
    }
    Json::Object(line).to_string()
}

#[derive(Default)]
struct FieldCollector {
    message: Option<String>,
    fields: Map<String, Json>,
}

impl FieldCollector {
    fn put(&mut self, field: &Field, value: Json) {
        if field.name() == "message" {
            self.message = Some(match value {
                Json::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_string(), value);
        }
    }
}

impl Visit for FieldCollector {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Json::from(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Json::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Json::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Json::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Json::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Json::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Json::from(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn levels_follow_terraform() {
        assert_eq!(level_from_env(None, None), Some(Level::WARN));
        assert_eq!(level_from_env(None, Some("debug")), Some(Level::DEBUG));
        assert_eq!(
            level_from_env(Some("info"), Some("trace")),
            Some(Level::INFO)
        );
        assert_eq!(level_from_env(Some(""), Some("ERROR")), Some(Level::ERROR));
        assert_eq!(level_from_env(None, Some("JSON")), Some(Level::TRACE));
        assert_eq!(level_from_env(None, Some("bogus")), Some(Level::TRACE));
        assert_eq!(level_from_env(Some("off"), Some("trace")), None);
    }

    #[test]
    fn libraries_stay_quiet() {
        assert_eq!(
            default_directives(Level::TRACE),
            "info,planton_provider=trace,terraform_provider_planton=trace"
        );
        assert_eq!(
            default_directives(Level::WARN),
            "warn,planton_provider=warn,terraform_provider_planton=warn"
        );
        tracing_subscriber::EnvFilter::try_new(default_directives(Level::DEBUG)).unwrap();
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_hclog_json() {
        let buf = Buffer::default();
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_max_level(Level::TRACE)
            .event_format(HclogJson)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(tf_rpc = "PlanResourceChange", count = 3, "planning \"x\"");
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(out.ends_with('\n'));
        assert_eq!(out.lines().count(), 1);
        let v: Json = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(v["@level"], "debug");
        assert_eq!(v["@message"], "planning \"x\"");
        assert_eq!(v["@module"], "planton");
        assert_eq!(v["tf_rpc"], "PlanResourceChange");
        assert_eq!(v["count"], 3);
        let ts = v["@timestamp"].as_str().unwrap();
        // 2006-01-02T15:04:05.000000Z
        assert_eq!(ts.len(), 27, "{ts}");
        assert!(ts.ends_with('Z'));
    }
}
