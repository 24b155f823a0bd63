//! Stand-ins for the controllers a cluster runs, each switchable in
//! [`crate::Controllers`]: [`job`] (pods per Job, Job status), [`kubelet`] (pods
//! run, log and finish), [`gc`] (ownerReferences, foreground and orphan
//! deletion), [`namespace`] (namespace termination), [`ttl`] (TTL after
//! finished), [`serviceaccounts`] (`default` ServiceAccount and `kube-root-ca.crt`).
//!
//! They share one loop that wakes on every store change and on timers (pod run
//! times, backoffs, deadlines, TTLs), and write through the same path as API
//! requests, as the controller-manager and kubelet of a cluster do.

pub mod gc;
pub mod job;
pub mod kubelet;
pub mod logs;
pub mod namespace;
pub mod serviceaccounts;
pub mod ttl;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::meta;
use crate::ops::{self, Ctx};
use crate::resources::{self, NAMESPACES};
use crate::server::State;
use crate::store::Store;

/// The namespaces every cluster starts with.
pub const INITIAL_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Create the initial namespaces.
pub fn seed(store: &mut Store) {
    let rt = resources::by_index(NAMESPACES);
    let ctx = Ctx::controller("kube-apiserver");
    for ns in INITIAL_NAMESPACES {
        if store.get(NAMESPACES, "", ns).is_none() {
            let _ = ops::create(store, rt, None, json!({"metadata": {"name": ns}}), &ctx);
        }
    }
}

/// Start the enabled controllers.
pub fn spawn(state: Arc<State>) -> Vec<JoinHandle<()>> {
    let c = &state.config.controllers;
    if !(c.job
        || c.kubelet
        || c.garbage_collector
        || c.namespace
        || c.ttl_after_finished
        || c.service_accounts)
    {
        return Vec::new();
    }
    vec![tokio::spawn(run(state))]
}

/// Whether a condition of `type` is `True` on an object.
pub fn condition_true(obj: &Value, ty: &str) -> bool {
    meta::get(obj, &["status", "conditions"])
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some(ty)
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

/// The controller owner's uid, if the owner is of `kind`.
pub fn controller_owner(obj: &Value, kind: &str) -> Option<String> {
    meta::get(obj, &["metadata", "ownerReferences"])
        .and_then(Value::as_array)
        .and_then(|refs| {
            refs.iter()
                .find(|r| {
                    r.get("controller").and_then(Value::as_bool) == Some(true)
                        && r.get("kind").and_then(Value::as_str) == Some(kind)
                })
                .and_then(|r| r.get("uid").and_then(Value::as_str).map(str::to_string))
        })
}

async fn run(state: Arc<State>) {
    let mut changes = state.store().subscribe();
    let mut kubelet = kubelet::Kubelet::default();
    let mut jobs = job::JobController::default();
    let stopping = state.stopping.clone();
    let cfg = state.config.controllers.clone();
    loop {
        let mut next = meta::now_secs() + 5.0;
        {
            let mut store = state.store();
            for _ in 0..20 {
                let before = store.current_rv();
                let now = meta::now_secs();
                if cfg.service_accounts {
                    serviceaccounts::reconcile(&mut store, &state);
                }
                if cfg.namespace {
                    namespace::reconcile(&mut store);
                }
                if cfg.garbage_collector {
                    gc::reconcile(&mut store);
                }
                if cfg.ttl_after_finished {
                    next = next.min(ttl::reconcile(&mut store, now));
                }
                if cfg.job {
                    next = next.min(jobs.reconcile(&mut store, &state.config, now));
                }
                if cfg.kubelet {
                    next = next.min(kubelet.reconcile(&mut store, &state, now));
                }
                if store.current_rv() == before {
                    break;
                }
            }
        }
        // Our own writes are already handled.
        while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) =
            changes.try_recv()
        {}
        let wait = (next - meta::now_secs()).clamp(0.002, 5.0);
        tokio::select! {
            _ = crate::server::stopped(stopping.clone()) => return,
            _ = tokio::time::sleep(Duration::from_secs_f64(wait)) => {}
            got = changes.recv() => {
                if let Err(tokio::sync::broadcast::error::RecvError::Closed) = got {
                    return;
                }
            }
        }
    }
}
