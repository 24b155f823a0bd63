//! Watching one object by name until a pure predicate decides, the way
//! kube-runtime's `watch_object` does: a list (or the object we already
//! hold) gives a resourceVersion, a watch with the field selector
//! `metadata.name=<name>` continues from it, a 410 Gone goes back to a fresh
//! list. There is no polling: each change reaches the predicate as soon as
//! the server sends it.
//!
//! The caller bounds the wait with a deadline and a cancellation token; the
//! predicate sees every state, including deletion. A request that the
//! operation's budget ended ([`super::budget`]) ends the watch the same way
//! (timed out, or cancelled), whichever of the two comes first; a silent
//! watch that the per-request bounds ended is resumed like a broken one.

use std::fmt::Debug;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::{ListParams, WatchEvent, WatchParams};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::budget::Bound;
use super::connection::bound_of;

/// What the predicate is shown.
#[derive(Debug)]
pub enum Seen<'a, K> {
    /// The object as it is now.
    Exists(&'a K),
    /// The object was deleted; its last state when a watch event carried it.
    Deleted(Option<&'a K>),
}

/// Why a watch ended without the predicate's answer.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// Listing the object (to start or restart the watch) failed.
    #[error("listing the object failed")]
    InitialListFailed(#[source] kube::Error),
    /// The watch request itself failed.
    #[error("starting the watch failed")]
    WatchStartFailed(#[source] kube::Error),
    /// The server ended the watch with an error.
    #[error("the watch failed")]
    WatchFailed(#[source] kube::Error),
    /// The deadline passed first.
    #[error("the deadline passed")]
    TimedOut,
    /// The caller cancelled (Terraform asked the provider to stop).
    #[error("cancelled")]
    Cancelled,
}

/// Longest single watch request; the server may end it earlier.
const MAX_WATCH_SECONDS: u32 = 290;
/// Transient stream failures tolerated in a row before giving up.
const MAX_STREAM_FAILURES: u32 = 10;

/// Watches the object `name` until `judge` returns `Some`, the deadline
/// passes or `cancel` fires. `start` is the object as the caller last saw
/// it (for example the answer to an apply); the watch continues from its
/// resourceVersion so that no change in between is missed.
pub async fn watch_object<K, T>(
    api: &Api<K>,
    name: &str,
    start: Option<&K>,
    deadline: Instant,
    cancel: &CancellationToken,
    mut judge: impl FnMut(Seen<'_, K>) -> Option<T>,
) -> Result<T, WatchError>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let mut version = None;
    if let Some(obj) = start {
        if let Some(done) = judge(Seen::Exists(obj)) {
            return Ok(done);
        }
        version = obj.resource_version();
    }
    let selector = format!("metadata.name={name}");
    let watching = async {
        let mut failures = 0u32;
        loop {
            let from = match version.take() {
                Some(v) => v,
                None => {
                    let list = api
                        .list(&ListParams::default().fields(&selector))
                        .await
                        .map_err(|e| ended(e, WatchError::InitialListFailed))?;
                    let found = list.items.iter().find(|o| o.name_any() == name);
                    let seen = match found {
                        Some(obj) => Seen::Exists(obj),
                        None => Seen::Deleted(None),
                    };
                    if let Some(done) = judge(seen) {
                        return Ok(done);
                    }
                    list.metadata.resource_version.unwrap_or_else(|| "0".into())
                }
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            let seconds = u32::try_from(remaining.as_secs())
                .unwrap_or(MAX_WATCH_SECONDS)
                .clamp(1, MAX_WATCH_SECONDS);
            let params = WatchParams::default().fields(&selector).timeout(seconds);
            let mut stream = match api.watch(&params, &from).await {
                Ok(s) => s.boxed(),
                Err(e) if is_gone(&e) => continue,
                Err(e) => return Err(ended(e, WatchError::WatchStartFailed)),
            };
            let mut last = from;
            loop {
                match stream.try_next().await {
                    Ok(Some(WatchEvent::Added(obj) | WatchEvent::Modified(obj))) => {
                        failures = 0;
                        last = obj.resource_version().unwrap_or(last);
                        if let Some(done) = judge(Seen::Exists(&obj)) {
                            return Ok(done);
                        }
                    }
                    Ok(Some(WatchEvent::Deleted(obj))) => {
                        last = obj.resource_version().unwrap_or(last);
                        if let Some(done) = judge(Seen::Deleted(Some(&obj))) {
                            return Ok(done);
                        }
                    }
                    Ok(Some(WatchEvent::Bookmark(b))) => last = b.metadata.resource_version,
                    Ok(Some(WatchEvent::Error(status))) if status.code == 410 => {
                        // Too old: start again from a fresh list.
                        break;
                    }
                    Ok(Some(WatchEvent::Error(status))) => {
                        return Err(WatchError::WatchFailed(kube::Error::Api(status)));
                    }
                    Ok(None) => {
                        // The server ended the watch (its timeout): continue.
                        version = Some(last);
                        break;
                    }
                    Err(e) if ends_operation(&e) => {
                        return Err(ended(e, WatchError::WatchFailed));
                    }
                    Err(e) => {
                        failures += 1;
                        if failures > MAX_STREAM_FAILURES {
                            return Err(WatchError::WatchFailed(e));
                        }
                        tracing::debug!(error = %e, "Watch stream broke; resuming");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        version = Some(last);
                        break;
                    }
                }
            }
        }
    };
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(WatchError::Cancelled),
        () = tokio::time::sleep_until(deadline) => Err(WatchError::TimedOut),
        result = watching => result,
    }
}

/// The error for `err`: timed out or cancelled when the operation's budget
/// ended the request, else `step`'s.
fn ended(err: kube::Error, step: fn(kube::Error) -> WatchError) -> WatchError {
    match bound_of(&err) {
        Some(Bound::Deadline(_)) => WatchError::TimedOut,
        Some(Bound::Cancelled) => WatchError::Cancelled,
        _ => step(err),
    }
}

fn ends_operation(err: &kube::Error) -> bool {
    bound_of(err).is_some_and(|b| b.ends_operation())
}

fn is_gone(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 410)
}
