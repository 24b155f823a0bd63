//! Watch streams: resume from a resourceVersion (410 Gone as an ERROR event when it
//! is older than the history), synthetic ADDED events for "most recent" starts and
//! `sendInitialEvents`, label/field selector transitions (an object leaving the
//! selection is DELETED for the watcher), bookmarks, and `timeoutSeconds`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::api::ListFilter;
use crate::meta;
use crate::resources::ResourceType;
use crate::server::{ApiRequest, Reply, State};
use crate::status::ApiError;
use crate::store::{Change, EventType, WatchStartError};

fn line(event_type: &str, object: &Value) -> Bytes {
    let mut v =
        serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

fn bookmark(rt: &ResourceType, rv: u64, initial_end: bool) -> Bytes {
    let mut metadata = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line(
        "BOOKMARK",
        &json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": metadata}),
    )
}

fn error_line(e: &ApiError) -> Bytes {
    line("ERROR", &e.to_body())
}

struct WatchSpec {
    rt: &'static ResourceType,
    /// `Some(includeObject)` when the client asked for `Table` events (kubectl get -w).
    table: Option<Option<String>>,
    resource: usize,
    namespace: Option<String>,
    filter: ListFilter,
}

impl WatchSpec {
    /// The event line for an object, as a Table row when asked for.
    fn event(&self, event_type: &str, obj: &Arc<Value>) -> Bytes {
        match &self.table {
            Some(include) => {
                let rv = meta::get_str(obj, &["metadata", "resourceVersion"])
                    .unwrap_or("")
                    .to_string();
                line(
                    event_type,
                    &crate::table::render(
                        self.rt,
                        std::slice::from_ref(obj),
                        &rv,
                        include.as_deref(),
                    ),
                )
            }
            None => line(event_type, obj),
        }
    }

    fn in_scope(&self, obj: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| meta::namespace(obj) == ns)
    }

    /// The event a watcher sees for a change, if any.
    fn translate(&self, c: &Change) -> Option<(&'static str, Arc<Value>)> {
        if c.resource != self.resource || !self.in_scope(&c.object) {
            return None;
        }
        let new_match = self.filter.matches(&c.object);
        let old_match = c.old.as_ref().is_some_and(|o| self.filter.matches(o));
        match c.kind {
            EventType::Added => new_match.then(|| ("ADDED", c.object.clone())),
            EventType::Deleted => old_match.then(|| ("DELETED", c.object.clone())),
            EventType::Modified => match (old_match, new_match) {
                (true, true) => Some(("MODIFIED", c.object.clone())),
                (false, true) => Some(("ADDED", c.object.clone())),
                (true, false) => Some(("DELETED", c.object.clone())),
                (false, false) => None,
            },
        }
    }
}

/// Start a watch for `GET ...?watch=true`.
pub fn start(
    state: &Arc<State>,
    rt: &'static ResourceType,
    ns: Option<&str>,
    req: &ApiRequest,
) -> Result<Reply, ApiError> {
    let filter = ListFilter::from_request(rt, req)?;
    let table = req
        .header("accept")
        .split(',')
        .any(|p| p.contains("as=Table"));
    let spec = WatchSpec {
        rt,
        table: table.then(|| req.param("includeObject").map(str::to_string)),
        resource: rt.index(),
        namespace: ns.map(str::to_string),
        filter,
    };
    let bookmarks = matches!(req.param("allowWatchBookmarks"), Some("true" | "1"));
    let send_initial = matches!(req.param("sendInitialEvents"), Some("true" | "1"));
    if send_initial && !bookmarks {
        return Err(ApiError::invalid_options(
            "ListOptions",
            crate::status::FieldError::forbidden(
                "allowWatchBookmarks",
                "sendInitialEvents requires setting allowWatchBookmarks to true",
            ),
        ));
    }
    let timeout = req
        .param("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let rv_param = req.param("resourceVersion").unwrap_or("");
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut initial: Vec<Bytes> = Vec::new();
    let (backlog, receiver, start_rv) = {
        let store = state.store();
        let current = store.current_rv();
        let from = if rv_param.is_empty() || rv_param == "0" || send_initial {
            for obj in store.list(spec.resource, ns) {
                if spec.filter.matches(&obj) {
                    initial.push(spec.event("ADDED", &obj));
                }
            }
            if send_initial {
                initial.push(bookmark(rt, current, true));
            }
            current
        } else {
            let asked: u64 = rv_param.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid resource version: {rv_param}"))
            })?;
            asked
        };
        match store.watch_from(from) {
            Ok((backlog, receiver)) => (backlog, receiver, from),
            Err(WatchStartError::TooOld(asked, oldest)) => {
                let e = ApiError::expired(format!("too old resource version: {asked} ({oldest})"));
                let _ = tx.try_send(error_line(&e));
                return Ok(Reply::Stream(rx));
            }
        }
    };
    let stopping = state.stopping.clone();
    let interval = state.config.bookmark_interval;
    tokio::spawn(async move {
        let mut receiver = receiver;
        let mut last_rv = start_rv;
        for b in initial {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        for c in &backlog {
            last_rv = last_rv.max(c.rv);
            if let Some((t, obj)) = spec.translate(c)
                && tx.send(spec.event(t, &obj)).await.is_err()
            {
                return;
            }
        }
        let deadline = tokio::time::Instant::now() + timeout;
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return,
                _ = crate::server::stopped(stopping.clone()) => return,
                _ = tx.closed() => return,
                _ = ticker.tick(), if bookmarks => {
                    if tx.send(bookmark(rt, last_rv, false)).await.is_err() {
                        return;
                    }
                }
                got = receiver.recv() => match got {
                    Ok(c) => {
                        if c.rv <= last_rv {
                            continue;
                        }
                        last_rv = c.rv;
                        if let Some((t, obj)) = spec.translate(&c)
                            && tx.send(spec.event(t, &obj)).await.is_err()
                        {
                            return;
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        let e = ApiError::expired(format!("too old resource version: {last_rv} ({})", last_rv + 1));
                        let _ = tx.send(error_line(&e)).await;
                        return;
                    }
                    Err(RecvError::Closed) => return,
                },
            }
        }
    });
    Ok(Reply::Stream(rx))
}
