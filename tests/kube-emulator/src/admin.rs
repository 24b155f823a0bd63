//! Test controls on `/__emulator/...`, apart from the Kubernetes API: fault
//! injection (per method and path prefix), request counters, reset, compaction.
//!
//! | request | effect |
//! | --- | --- |
//! | `POST /__emulator/faults` `{"method":"PATCH","pathPrefix":"/apis/batch","action":"status","code":429,"retryAfterSeconds":1,"times":2}` | add a fault; answers `{"id":N}` |
//! | actions | `status` (code 429/500/503/... with a Status body; 429 and 503 carry Retry-After), `latency` (`latencyMs`, then the request proceeds), `reset` (the connection is dropped without an answer) |
//! | `GET /__emulator/faults`, `DELETE /__emulator/faults`, `DELETE /__emulator/faults/{id}` | list, clear all, clear one |
//! | `GET /__emulator/requests` | `[{"method","path","count"}]` for API requests since the last reset |
//! | `DELETE /__emulator/requests` | zero the counters |
//! | `POST /__emulator/reset` | delete every object (the default namespaces come back), clear faults and counters |
//! | `POST /__emulator/compact` | forget the watch history: watches from older resourceVersions get 410 Gone |
//!
//! `method` absent means any method; `times` absent means until cleared.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What a fault does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultAction {
    /// Answer with this HTTP status and a Status body.
    Status,
    /// Wait, then go on.
    Latency,
    /// Drop the connection.
    Reset,
}

/// One injected fault.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// Assigned id.
    #[serde(default)]
    pub id: u64,
    /// HTTP method to match; None matches any.
    #[serde(default)]
    pub method: Option<String>,
    /// Path prefix to match (no query string).
    #[serde(default)]
    pub path_prefix: String,
    /// What happens.
    pub action: FaultAction,
    /// Status code for `status`.
    #[serde(default)]
    pub code: Option<u16>,
    /// Retry-After seconds for `status`.
    #[serde(default)]
    pub retry_after_seconds: Option<u64>,
    /// Delay for `latency`.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// How many more requests it applies to; None: until cleared.
    #[serde(default)]
    pub times: Option<u64>,
}

/// What the request path should do after faults were consulted.
#[derive(Debug, Default)]
pub struct FaultOutcome {
    /// Sleep this long first.
    pub delay: Duration,
    /// Then answer with this status (code, retry-after).
    pub status: Option<(u16, Option<u64>)>,
    /// Or drop the connection.
    pub reset: bool,
}

/// Faults and counters.
#[derive(Default)]
pub struct Admin {
    faults: Mutex<Vec<Fault>>,
    next_id: Mutex<u64>,
    counters: Mutex<BTreeMap<(String, String), u64>>,
}

impl Admin {
    /// Count an API request.
    pub fn count(&self, method: &str, path: &str) {
        if let Ok(mut c) = self.counters.lock() {
            *c.entry((method.to_string(), path.to_string())).or_insert(0) += 1;
        }
    }

    /// Consult (and consume) faults for a request.
    pub fn faults_for(&self, method: &str, path: &str) -> FaultOutcome {
        let mut out = FaultOutcome::default();
        let Ok(mut faults) = self.faults.lock() else {
            return out;
        };
        for f in faults.iter_mut() {
            if f.times == Some(0) {
                continue;
            }
            if f.method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(method))
                || !path.starts_with(&f.path_prefix)
            {
                continue;
            }
            if out.status.is_some() || out.reset {
                break;
            }
            match f.action {
                FaultAction::Latency => {
                    out.delay += Duration::from_millis(f.latency_ms.unwrap_or(0))
                }
                FaultAction::Status => {
                    out.status = Some((f.code.unwrap_or(500), f.retry_after_seconds))
                }
                FaultAction::Reset => out.reset = true,
            }
            if let Some(t) = f.times.as_mut() {
                *t -= 1;
            }
        }
        faults.retain(|f| f.times != Some(0));
        out
    }

    /// Clear faults and counters.
    pub fn clear(&self) {
        if let Ok(mut f) = self.faults.lock() {
            f.clear();
        }
        if let Ok(mut c) = self.counters.lock() {
            c.clear();
        }
    }

    /// Handle an admin request: (status code, JSON body). `reset`/`compact` are done by the caller.
    pub fn handle(&self, method: &str, rest: &str, body: &[u8]) -> (u16, Value) {
        match (method, rest) {
            ("POST", "faults") => {
                let mut f: Fault = match serde_json::from_slice(body) {
                    Ok(f) => f,
                    Err(e) => return (400, json!({"error": format!("invalid fault: {e}")})),
                };
                let id = match self.next_id.lock() {
                    Ok(mut n) => {
                        *n += 1;
                        *n
                    }
                    Err(_) => 0,
                };
                f.id = id;
                if let Ok(mut faults) = self.faults.lock() {
                    faults.push(f);
                }
                (201, json!({"id": id}))
            }
            ("GET", "faults") => {
                let list = self.faults.lock().map(|f| f.clone()).unwrap_or_default();
                (200, serde_json::to_value(list).unwrap_or(Value::Null))
            }
            ("DELETE", "faults") => {
                if let Ok(mut f) = self.faults.lock() {
                    f.clear();
                }
                (200, json!({}))
            }
            ("DELETE", r) if r.starts_with("faults/") => {
                let id: u64 = r["faults/".len()..].parse().unwrap_or(0);
                if let Ok(mut f) = self.faults.lock() {
                    f.retain(|x| x.id != id);
                }
                (200, json!({}))
            }
            ("GET", "requests") => {
                let list: Vec<Value> = self
                    .counters
                    .lock()
                    .map(|c| {
                        c.iter()
                            .map(|((m, p), n)| json!({"method": m, "path": p, "count": n}))
                            .collect()
                    })
                    .unwrap_or_default();
                (200, Value::Array(list))
            }
            ("DELETE", "requests") => {
                if let Ok(mut c) = self.counters.lock() {
                    c.clear();
                }
                (200, json!({}))
            }
            ("GET", "healthz") => (200, json!({"ok": true})),
            _ => (
                404,
                json!({"error": format!("no admin endpoint {method} /__emulator/{rest}")}),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_expire() {
        let a = Admin::default();
        let (code, _) = a.handle(
            "POST",
            "faults",
            br#"{"method":"GET","pathPrefix":"/api","action":"status","code":503,"times":1}"#,
        );
        assert_eq!(code, 201);
        assert_eq!(a.faults_for("GET", "/api/v1").status, Some((503, None)));
        assert_eq!(a.faults_for("GET", "/api/v1").status, None);
        assert_eq!(a.faults_for("POST", "/api/v1").status, None);
    }
}
