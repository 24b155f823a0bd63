//! Stand-ins for the controllers a cluster runs, each switchable in
//! [`crate::Controllers`]: [`job`] (pods per Job, Job status), [`kubelet`] (pods
//! run, log and finish), [`gc`] (ownerReferences, foreground and orphan
//! deletion), [`namespace`] (namespace termination), [`ttl`] (TTL after
//! finished), [`serviceaccounts`] (`default` ServiceAccount and `kube-root-ca.crt`).
//!
//! They share one loop that wakes on every store change and on timers (pod run
//! times, backoffs, deadlines, TTLs), and write through the same path as API
//! requests, as the controller-manager and kubelet of a cluster do.
//!
//! A controller writes what it has just read, under the same lock, and faults
//! apply to API requests only: a write of theirs that fails is a bug in the
//! emulator. [`check_write`] logs it on stderr and counts it in the store,
//! where `GET /__emulator/failed-writes` shows it (the e2e harness checks
//! that there are none).

pub mod gc;
pub mod job;
pub mod kubelet;
pub mod logs;
pub mod namespace;
pub mod serviceaccounts;
pub mod ttl;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::meta;
use crate::ops::{self, Ctx};
use crate::resources::{self, JOBS, NAMESPACES, PODS};
use crate::server::State;
use crate::status::ApiError;
use crate::store::{Change, EventType, Store};

/// The namespaces every cluster starts with.
pub const INITIAL_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Create the initial namespaces.
pub fn seed(store: &mut Store) {
    let rt = resources::by_index(NAMESPACES);
    let ctx = Ctx::controller("kube-apiserver");
    for ns in INITIAL_NAMESPACES {
        if store.get(NAMESPACES, "", ns).is_none() {
            let created = ops::create(store, rt, None, json!({"metadata": {"name": ns}}), &ctx);
            check_write(store, &ctx, || format!("create Namespace {ns}"), created);
        }
    }
}

/// Logs and counts `result` if it is a failed write of the controller
/// `ctx` names; `what` says what it tried ("delete Pod ns/name").
pub fn check_write<T>(
    store: &mut Store,
    ctx: &Ctx,
    what: impl FnOnce() -> String,
    result: Result<T, ApiError>,
) {
    if let Err(e) = result {
        let line = format!("{} could not {}: {e}", ctx.manager, what());
        eprintln!("kube-emulator: {line}");
        store.note_failed_write(line);
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

/// `field` of the controller owner reference, if the owner is of `kind`.
fn controller_owner_field(obj: &Value, kind: &str, field: &str) -> Option<String> {
    meta::get(obj, &["metadata", "ownerReferences"])
        .and_then(Value::as_array)
        .and_then(|refs| {
            refs.iter()
                .find(|r| {
                    r.get("controller").and_then(Value::as_bool) == Some(true)
                        && r.get("kind").and_then(Value::as_str) == Some(kind)
                })
                .and_then(|r| r.get(field).and_then(Value::as_str).map(str::to_string))
        })
}

/// The controller owner's uid, if the owner is of `kind`.
pub fn controller_owner(obj: &Value, kind: &str) -> Option<String> {
    controller_owner_field(obj, kind, "uid")
}

/// Take finalizer `fin` off the stored version of `obj` (resource `res`), as `manager`.
pub fn remove_finalizer(store: &mut Store, res: usize, obj: &Arc<Value>, fin: &str, manager: &str) {
    let Some(cur) = store.get(res, meta::namespace(obj), meta::name(obj)) else {
        return;
    };
    let fins: Vec<String> = meta::finalizers(&cur)
        .into_iter()
        .filter(|f| f != fin)
        .collect();
    let mut new = (*cur).clone();
    if fins.is_empty() {
        meta::remove(&mut new, &["metadata", "finalizers"]);
    } else {
        meta::set(&mut new, &["metadata", "finalizers"], json!(fins));
    }
    ops::internal_write(store, res, &cur, new, manager, "");
}

/// What changed since the controllers last looked: which Jobs and pods need a
/// sync, whether the garbage collector has work, or whether to look at everything.
#[derive(Default)]
pub struct Dirty {
    /// Look at every object (start, lagging behind, periodic resync).
    pub full: bool,
    /// Jobs (namespace, name) whose object or pods changed.
    pub jobs: HashSet<(String, String)>,
    /// Pods (namespace, name) that changed.
    pub pods: HashSet<(String, String)>,
    /// Something was deleted or marked for deletion.
    pub gc: bool,
}

impl Dirty {
    fn note(&mut self, c: &Change) {
        let key = (
            meta::namespace(&c.object).to_string(),
            meta::name(&c.object).to_string(),
        );
        match c.resource {
            JOBS => {
                self.jobs.insert(key);
            }
            PODS => {
                if let Some(owner) = controller_owner_name(&c.object, "Job") {
                    self.jobs.insert((key.0.clone(), owner));
                }
                self.pods.insert(key);
            }
            _ => {}
        }
        if c.kind == EventType::Deleted || meta::is_deleting(&c.object) {
            self.gc = true;
        }
    }

    fn is_empty(&self) -> bool {
        !self.full && !self.gc && self.jobs.is_empty() && self.pods.is_empty()
    }
}

/// Objects (namespace, name) to look at: the `changed` ones and those whose
/// timer is due at `now`, sorted, each once.
pub fn changed_or_due(
    changed: &HashSet<(String, String)>,
    timers: &HashMap<(String, String), f64>,
    now: f64,
) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = changed.iter().cloned().collect();
    keys.extend(
        timers
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(k, _)| k.clone()),
    );
    keys.sort();
    keys.dedup();
    keys
}

/// The controller owner's name, if the owner is of `kind`.
pub fn controller_owner_name(obj: &Value, kind: &str) -> Option<String> {
    controller_owner_field(obj, kind, "name")
}

fn drain(rx: &mut broadcast::Receiver<Arc<Change>>, dirty: &mut Dirty) {
    loop {
        match rx.try_recv() {
            Ok(c) => dirty.note(&c),
            Err(broadcast::error::TryRecvError::Lagged(_)) => dirty.full = true,
            Err(_) => return,
        }
    }
}

const RESYNC_SECONDS: f64 = 5.0;

async fn run(state: Arc<State>) {
    let mut changes = state.store().subscribe();
    let mut kubelet = kubelet::Kubelet::default();
    let mut jobs = job::JobController::default();
    let stopping = state.stopping.clone();
    let cfg = state.config.controllers.clone();
    let mut dirty = Dirty {
        full: true,
        ..Dirty::default()
    };
    let mut next_full = meta::now_secs() + RESYNC_SECONDS;
    loop {
        let mut next = meta::now_secs() + RESYNC_SECONDS;
        {
            let mut store = state.store();
            drain(&mut changes, &mut dirty);
            if meta::now_secs() >= next_full {
                dirty.full = true;
                next_full = meta::now_secs() + RESYNC_SECONDS;
            }
            for _ in 0..20 {
                let now = meta::now_secs();
                if cfg.service_accounts {
                    serviceaccounts::reconcile(&mut store, &state);
                }
                if cfg.namespace {
                    namespace::reconcile(&mut store);
                }
                if cfg.garbage_collector && (dirty.gc || dirty.full) {
                    gc::reconcile(&mut store);
                }
                if cfg.ttl_after_finished {
                    next = next.min(ttl::reconcile(&mut store, now));
                }
                if cfg.job {
                    next = next.min(jobs.reconcile(&mut store, &state.config, now, &dirty));
                }
                if cfg.kubelet {
                    next = next.min(kubelet.reconcile(&mut store, &state, now, &dirty));
                }
                dirty = Dirty::default();
                drain(&mut changes, &mut dirty);
                if dirty.is_empty() {
                    break;
                }
            }
        }
        next = next.min(next_full);
        let wait = (next - meta::now_secs()).clamp(0.001, RESYNC_SECONDS);
        tokio::select! {
            _ = crate::server::stopped(stopping.clone()) => return,
            _ = tokio::time::sleep(Duration::from_secs_f64(wait)) => {}
            got = changes.recv() => match got {
                Ok(c) => dirty.note(&c),
                Err(broadcast::error::RecvError::Lagged(_)) => dirty.full = true,
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}
