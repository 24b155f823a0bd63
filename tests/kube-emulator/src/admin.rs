//! Test controls on `/__emulator/...`, apart from the Kubernetes API: fault
//! injection (per method and path prefix), request and connection counters,
//! reset, compaction, and the controllers' failed writes.
//!
//! | request | effect |
//! | --- | --- |
//! | `POST /__emulator/faults` `{"method":"PATCH","pathPrefix":"/apis/batch","action":"status","code":429,"retryAfterSeconds":1,"times":2}` | add a fault; answers `{"id":N}` |
//! | actions | `status` (code 429/500/503/... with a Status body; 429 and 503 carry Retry-After), `latency` (`latencyMs`, then the request proceeds), `reset` (the connection is dropped without an answer), `silence` (see below) |
//! | `GET /__emulator/faults`, `DELETE /__emulator/faults`, `DELETE /__emulator/faults/{id}` | list, clear all, clear one |
//! | `GET /__emulator/requests` | `[{"method","path","count"}]` for API requests since the last reset |
//! | `DELETE /__emulator/requests` | zero the counters |
//! | `POST /__emulator/requests/wait` `{"method":"GET","pathPrefix":"/apis/batch/v1/namespaces/a/jobs","watch":true,"count":1,"timeoutSeconds":30}` | answers `{"count":N}` once that many matching requests (only watches with `watch`) arrived since the last reset, or 408 after the timeout |
//! | `GET /__emulator/connections` | `{"accepted":N,"api":M}` since the emulator started or the last reset: `accepted` counts every connection accepted (TCP, before any TLS handshake; the admin requests' own connections too), `api` the connections that carried at least one Kubernetes API request (any path outside `/__emulator/`) since then, those opened before included |
//! | `DELETE /__emulator/connections` | zero the connection counters |
//! | `POST /__emulator/reset` | delete every object (the default namespaces come back), clear faults and counters |
//! | `POST /__emulator/compact` | forget the watch history: watches from older resourceVersions get 410 Gone |
//! | `GET /__emulator/failed-writes` | `{"count":N,"recent":["job-controller could not delete Pod a/b: 404 NotFound: ..."]}`: the controllers' writes that failed since the emulator started (a bug in the emulator; a reset does not zero it) |
//!
//! `method` absent means any method; `times` absent means until cleared.
//!
//! `silence` is a server that stopped answering but keeps its connections
//! (a paused process): a matching request gets no answer and no close, and a
//! matching stream that is already open (a watch) sends nothing more and
//! does not end at its `timeoutSeconds`, until the fault is cleared; then
//! both go on as if nothing happened. `times` does not apply to it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

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
    /// No answer, no close, nothing more on open streams, until cleared.
    Silence,
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
pub struct Admin {
    faults: Mutex<Vec<Fault>>,
    next_id: Mutex<u64>,
    counters: Mutex<BTreeMap<(String, String), u64>>,
    /// Watch requests per path, apart from `counters` (where they count as
    /// the GETs they are).
    watches: Mutex<BTreeMap<String, u64>>,
    /// Connections since the last reset of the connection counters.
    connections: Mutex<ConnectionCounts>,
    /// Bumped whenever faults or counters change, for those who wait.
    changed: watch::Sender<u64>,
}

/// What `GET /__emulator/connections` answers.
#[derive(Debug, Default)]
struct ConnectionCounts {
    /// Which reset of the counters this is (starts at 1).
    epoch: u64,
    /// Connections accepted.
    accepted: u64,
    /// Connections that carried a Kubernetes API request.
    api: u64,
}

/// One accepted connection, as the connection counters know it: whether it
/// was already counted as an API connection since the last reset.
#[derive(Debug, Default)]
pub struct ConnectionMark {
    /// The epoch in which it was last counted; 0 for never.
    counted_in: AtomicU64,
}

impl Default for Admin {
    fn default() -> Self {
        Admin {
            faults: Mutex::default(),
            next_id: Mutex::default(),
            counters: Mutex::default(),
            watches: Mutex::default(),
            connections: Mutex::new(ConnectionCounts {
                epoch: 1,
                ..ConnectionCounts::default()
            }),
            changed: watch::Sender::new(0),
        }
    }
}

/// What `POST /__emulator/requests/wait` waits for.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CountWait {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    path_prefix: String,
    #[serde(default)]
    watch: bool,
    #[serde(default = "one")]
    count: u64,
    #[serde(default = "thirty")]
    timeout_seconds: u64,
}

fn one() -> u64 {
    1
}

fn thirty() -> u64 {
    30
}

fn matches(f: &Fault, method: &str, path: &str) -> bool {
    f.method
        .as_deref()
        .is_none_or(|m| m.eq_ignore_ascii_case(method))
        && path.starts_with(&f.path_prefix)
}

impl Admin {
    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Count an API request.
    pub fn count(&self, method: &str, path: &str) {
        if let Ok(mut c) = self.counters.lock() {
            *c.entry((method.to_string(), path.to_string())).or_insert(0) += 1;
        }
        self.bump();
    }

    /// Count a watch request (besides [`Admin::count`]).
    pub fn count_watch(&self, path: &str) {
        if let Ok(mut c) = self.watches.lock() {
            *c.entry(path.to_string()).or_insert(0) += 1;
        }
        self.bump();
    }

    /// Count an accepted connection; its requests carry the mark returned.
    pub fn connection_accepted(&self) -> ConnectionMark {
        if let Ok(mut c) = self.connections.lock() {
            c.accepted += 1;
        }
        ConnectionMark::default()
    }

    /// Count the connection `mark` as an API connection, unless it was
    /// counted since the last reset.
    pub fn count_api_connection(&self, mark: &ConnectionMark) {
        if let Ok(mut c) = self.connections.lock()
            && mark.counted_in.swap(c.epoch, Ordering::Relaxed) != c.epoch
        {
            c.api += 1;
        }
    }

    fn reset_connections(&self) {
        if let Ok(mut c) = self.connections.lock() {
            c.epoch += 1;
            c.accepted = 0;
            c.api = 0;
        }
    }

    fn count_of(&self, w: &CountWait) -> u64 {
        if w.watch {
            let Ok(c) = self.watches.lock() else {
                return 0;
            };
            return c
                .iter()
                .filter(|(p, _)| p.starts_with(&w.path_prefix))
                .map(|(_, n)| n)
                .sum();
        }
        let Ok(c) = self.counters.lock() else {
            return 0;
        };
        c.iter()
            .filter(|((m, p), _)| {
                w.method
                    .as_deref()
                    .is_none_or(|want| want.eq_ignore_ascii_case(m))
                    && p.starts_with(&w.path_prefix)
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// `POST /__emulator/requests/wait`: waits until enough matching
    /// requests arrived, or the timeout passed.
    pub async fn wait_for_requests(&self, body: &[u8]) -> (u16, Value) {
        let w: CountWait = match serde_json::from_slice(body) {
            Ok(w) => w,
            Err(e) => return (400, json!({"error": format!("invalid wait: {e}")})),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(w.timeout_seconds);
        let mut rx = self.changed.subscribe();
        loop {
            let n = self.count_of(&w);
            if n >= w.count {
                return (200, json!({"count": n}));
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    return (
                        408,
                        json!({"error": format!("{n} of {} requests arrived", w.count), "count": n}),
                    );
                }
            }
        }
    }

    /// Whether a `silence` fault covers this request.
    pub fn silenced(&self, method: &str, path: &str) -> bool {
        self.faults.lock().is_ok_and(|faults| {
            faults
                .iter()
                .any(|f| f.action == FaultAction::Silence && matches(f, method, path))
        })
    }

    /// Returns once no `silence` fault covers this request.
    pub async fn wait_while_silenced(&self, method: &str, path: &str) {
        let mut rx = self.changed.subscribe();
        while self.silenced(method, path) {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Consult (and consume) faults for a request.
    pub fn faults_for(&self, method: &str, path: &str) -> FaultOutcome {
        let mut out = FaultOutcome::default();
        let Ok(mut faults) = self.faults.lock() else {
            return out;
        };
        for f in faults.iter_mut() {
            if f.times == Some(0) || f.action == FaultAction::Silence {
                continue;
            }
            if !matches(f, method, path) {
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
                FaultAction::Silence => {}
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
        if let Ok(mut c) = self.watches.lock() {
            c.clear();
        }
        self.reset_connections();
        self.bump();
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
                self.bump();
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
                self.bump();
                (200, json!({}))
            }
            ("DELETE", r) if r.starts_with("faults/") => {
                let id: u64 = r["faults/".len()..].parse().unwrap_or(0);
                if let Ok(mut f) = self.faults.lock() {
                    f.retain(|x| x.id != id);
                }
                self.bump();
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
                if let Ok(mut c) = self.watches.lock() {
                    c.clear();
                }
                self.bump();
                (200, json!({}))
            }
            ("GET", "connections") => {
                let (accepted, api) = self
                    .connections
                    .lock()
                    .map(|c| (c.accepted, c.api))
                    .unwrap_or_default();
                (200, json!({"accepted": accepted, "api": api}))
            }
            ("DELETE", "connections") => {
                self.reset_connections();
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

    /// A silence fault matches by method and path, is not used up by the
    /// requests it holds, and ends when cleared.
    #[tokio::test]
    async fn silence_lasts_until_cleared() {
        let a = std::sync::Arc::new(Admin::default());
        let (code, _) = a.handle(
            "POST",
            "faults",
            br#"{"method":"GET","pathPrefix":"/apis/batch","action":"silence","times":1}"#,
        );
        assert_eq!(code, 201);
        assert!(a.silenced("GET", "/apis/batch/v1/jobs"));
        assert!(!a.silenced("PATCH", "/apis/batch/v1/jobs"));
        assert!(!a.silenced("GET", "/api/v1/pods"));
        let _ = a.faults_for("GET", "/apis/batch/v1/jobs");
        assert!(a.silenced("GET", "/apis/batch/v1/jobs"));
        let held = tokio::spawn({
            let a = a.clone();
            async move { a.wait_while_silenced("GET", "/apis/batch/v1/jobs").await }
        });
        a.handle("DELETE", "faults", b"");
        tokio::time::timeout(Duration::from_secs(5), held)
            .await
            .expect("released when cleared")
            .expect("task");
    }

    /// A connection counts as an API connection once per reset however
    /// many requests it carries; a reset zeroes both counts, and a
    /// connection from before it counts again with its next request.
    #[test]
    fn connections_count_once_per_reset() {
        let a = Admin::default();
        let counts = |a: &Admin| {
            let (code, v) = a.handle("GET", "connections", b"");
            assert_eq!(code, 200);
            (v["accepted"].as_u64(), v["api"].as_u64())
        };
        let first = a.connection_accepted();
        let second = a.connection_accepted();
        assert_eq!(counts(&a), (Some(2), Some(0)));
        a.count_api_connection(&first);
        a.count_api_connection(&first);
        assert_eq!(counts(&a), (Some(2), Some(1)));
        a.count_api_connection(&second);
        assert_eq!(counts(&a), (Some(2), Some(2)));
        assert_eq!(a.handle("DELETE", "connections", b"").0, 200);
        assert_eq!(counts(&a), (Some(0), Some(0)));
        a.count_api_connection(&first);
        a.count_api_connection(&first);
        assert_eq!(counts(&a), (Some(0), Some(1)));
        a.clear();
        assert_eq!(counts(&a), (Some(0), Some(0)));
    }

    /// Waiting for requests answers once they are counted, or 408 with the
    /// count so far.
    #[tokio::test]
    async fn waiting_for_requests() {
        let a = std::sync::Arc::new(Admin::default());
        let waiting = tokio::spawn({
            let a = a.clone();
            async move {
                a.wait_for_requests(br#"{"method":"PATCH","pathPrefix":"/apis/batch","count":2}"#)
                    .await
            }
        });
        a.count("PATCH", "/apis/batch/v1/namespaces/a/jobs/b");
        a.count("GET", "/apis/batch/v1/namespaces/a/jobs/b");
        a.count("PATCH", "/apis/batch/v1/namespaces/a/jobs/c");
        let (code, v) = waiting.await.expect("task");
        assert_eq!((code, v["count"].as_u64()), (200, Some(2)));
        let (code, v) = a
            .wait_for_requests(br#"{"pathPrefix":"/apis","watch":true,"timeoutSeconds":0}"#)
            .await;
        assert_eq!((code, v["count"].as_u64()), (408, Some(0)));
    }
}
