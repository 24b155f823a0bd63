//! The job controller: pods per parallelism/completions/completionMode, the
//! `batch.kubernetes.io/job-tracking` finalizer, status counts, backoff, the
//! backoff limit and active deadline (FailureTarget, then Failed), success
//! (SuccessCriteriaMet, then Complete), and suspend.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::EmulatorConfig;
use crate::controllers::{
    Dirty, changed_or_due, condition_true, controller_owner, controller_owner_name,
    remove_finalizer,
};
use crate::meta;
use crate::ops::{self, Ctx, DeleteOptions};
use crate::resources::{self, JOBS, PODS};
use crate::store::Store;

/// The finalizer the controller puts on its pods until it has counted them.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// Completion index annotation and label.
pub const INDEX_KEY: &str = "batch.kubernetes.io/job-completion-index";
const MANAGER: &str = "kube-controller-manager";

/// Controller memory between passes.
#[derive(Default)]
pub struct JobController {
    timers: HashMap<(String, String), f64>,
    /// Pod (namespace, name) to the uid of the Job controlling it.
    pod_owner: HashMap<(String, String), String>,
    /// Job uid to its pods.
    owned_pods: HashMap<String, std::collections::BTreeSet<(String, String)>>,
    last_failure: HashMap<String, f64>,
    retry_create_at: HashMap<String, f64>,
}

fn phase(pod: &Value) -> &str {
    meta::get_str(pod, &["status", "phase"]).unwrap_or("Pending")
}

fn terminal(pod: &Value) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

fn has_tracking(pod: &Value) -> bool {
    meta::finalizers(pod)
        .iter()
        .any(|f| f == TRACKING_FINALIZER)
}

fn pod_index(pod: &Value) -> Option<i64> {
    meta::get_str(pod, &["metadata", "annotations", INDEX_KEY]).and_then(|s| s.parse().ok())
}

fn pod_ready(pod: &Value) -> bool {
    meta::get(pod, &["status", "conditions"])
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Ready")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

/// Parse `completedIndexes` ("1,3-5").
pub fn parse_indexes(s: &str) -> BTreeSet<i64> {
    let mut out = BTreeSet::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<i64>(), b.parse::<i64>()) {
                    out.extend(a..=b);
                }
            }
            None => {
                if let Ok(a) = part.parse() {
                    out.insert(a);
                }
            }
        }
    }
    out
}

/// Format `completedIndexes` with ranges.
pub fn format_indexes(set: &BTreeSet<i64>) -> String {
    let mut parts = Vec::new();
    let mut iter = set.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(",")
}

fn set_condition(
    conds: &mut Vec<Value>,
    ty: &str,
    status: bool,
    reason: &str,
    message: &str,
    now: &str,
) -> bool {
    let st = if status { "True" } else { "False" };
    if let Some(c) = conds
        .iter_mut()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(ty))
    {
        if c.get("status").and_then(Value::as_str) == Some(st) {
            return false;
        }
        *c = json!({"type": ty, "status": st, "lastProbeTime": now, "lastTransitionTime": now, "reason": reason, "message": message});
        return true;
    }
    conds.push(json!({"type": ty, "status": st, "lastProbeTime": now, "lastTransitionTime": now, "reason": reason, "message": message}));
    true
}

fn remove_tracking(store: &mut Store, pod: &Arc<Value>) {
    remove_finalizer(store, PODS, pod, TRACKING_FINALIZER, MANAGER);
}

fn delete_pod(store: &mut Store, pod: &Value) {
    let ctx = Ctx::controller(MANAGER);
    let deleted = ops::delete(
        store,
        resources::by_index(PODS),
        meta::namespace(pod),
        meta::name(pod),
        &DeleteOptions::default(),
        &ctx,
    );
    let what = || format!("delete Pod {}/{}", meta::namespace(pod), meta::name(pod));
    super::check_write(store, &ctx, what, deleted);
}

impl JobController {
    /// One pass over all Jobs; returns when it next needs to run.
    pub fn reconcile(
        &mut self,
        store: &mut Store,
        cfg: &EmulatorConfig,
        now: f64,
        dirty: &Dirty,
    ) -> f64 {
        // What to look at: everything, or changed Jobs and those whose timers are due.
        let keys: Vec<(String, String)> = if dirty.full {
            let mut keys: Vec<(String, String)> = store
                .list(JOBS, None)
                .iter()
                .map(|j| (meta::namespace(j).to_string(), meta::name(j).to_string()))
                .collect();
            keys.sort();
            keys.dedup();
            keys
        } else {
            changed_or_due(&dirty.jobs, &self.timers, now)
        };
        let jobs: Vec<Arc<Value>> = keys
            .iter()
            .filter_map(|(ns, n)| store.get(JOBS, ns, n))
            .collect();
        for k in &keys {
            self.timers.remove(k);
        }
        // The pods of each Job, from an index kept up to date with changed pods.
        if dirty.full {
            self.pod_owner.clear();
            self.owned_pods.clear();
            for pod in store.list(PODS, None) {
                self.index_pod(meta::namespace(&pod), meta::name(&pod), Some(&pod));
            }
        } else {
            for (ns, name) in &dirty.pods {
                let pod = store.get(PODS, ns, name);
                self.index_pod(ns, name, pod.as_deref());
            }
        }
        let mut by_job: HashMap<String, Vec<Arc<Value>>> = HashMap::new();
        for job in &jobs {
            let uid = meta::uid(job);
            let pods: Vec<Arc<Value>> = self
                .owned_pods
                .get(uid)
                .into_iter()
                .flatten()
                .filter_map(|(ns, n)| store.get(PODS, ns, n))
                .collect();
            by_job.insert(uid.to_string(), pods);
        }
        // Orphaned pods: nobody will count them, release them once stopped.
        let pods_to_check: Vec<Arc<Value>> = if dirty.full {
            store.list(PODS, None)
        } else {
            dirty
                .pods
                .iter()
                .filter_map(|(ns, n)| store.get(PODS, ns, n))
                .collect()
        };
        for pod in pods_to_check {
            if !has_tracking(&pod) || !(terminal(&pod) || meta::is_deleting(&pod)) {
                continue;
            }
            let Some(owner) = controller_owner_name(&pod, "Job") else {
                continue;
            };
            let owner_uid = controller_owner(&pod, "Job").unwrap_or_default();
            if store
                .get(JOBS, meta::namespace(&pod), &owner)
                .is_none_or(|j| meta::uid(&j) != owner_uid)
            {
                remove_tracking(store, &pod);
            }
        }
        if dirty.full {
            let live: std::collections::HashSet<String> =
                jobs.iter().map(|j| meta::uid(j).to_string()).collect();
            self.last_failure.retain(|uid, _| live.contains(uid));
            self.retry_create_at.retain(|uid, _| live.contains(uid));
        }
        for job in jobs {
            let pods = by_job.remove(meta::uid(&job)).unwrap_or_default();
            if let Some(t) = self.sync(store, cfg, &job, &pods, now) {
                self.timers.insert(
                    (
                        meta::namespace(&job).to_string(),
                        meta::name(&job).to_string(),
                    ),
                    t,
                );
            }
        }
        self.timers.values().copied().fold(f64::MAX, f64::min)
    }

    fn index_pod(&mut self, ns: &str, name: &str, pod: Option<&Value>) {
        let key = (ns.to_string(), name.to_string());
        if let Some(old) = self.pod_owner.remove(&key)
            && let Some(set) = self.owned_pods.get_mut(&old)
        {
            set.remove(&key);
            if set.is_empty() {
                self.owned_pods.remove(&old);
            }
        }
        if let Some(uid) = pod.and_then(|p| controller_owner(p, "Job")) {
            self.owned_pods
                .entry(uid.clone())
                .or_default()
                .insert(key.clone());
            self.pod_owner.insert(key, uid);
        }
    }

    fn sync(
        &mut self,
        store: &mut Store,
        cfg: &EmulatorConfig,
        job: &Arc<Value>,
        pods: &[Arc<Value>],
        now: f64,
    ) -> Option<f64> {
        let uid = meta::uid(job).to_string();
        let (ns, name) = (
            meta::namespace(job).to_string(),
            meta::name(job).to_string(),
        );
        let finished = condition_true(job, "Complete") || condition_true(job, "Failed");
        if meta::is_deleting(job) || finished {
            for p in pods {
                if has_tracking(p) && (terminal(p) || meta::is_deleting(p)) {
                    remove_tracking(store, p);
                }
            }
            return None;
        }
        let null = Value::Null;
        let spec = job.get("spec").unwrap_or(&null);
        let status = job
            .get("status")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let now_s = meta::format_time(now);
        let indexed = meta::get_str(spec, &["completionMode"]) == Some("Indexed");
        let completions = spec.get("completions").and_then(Value::as_i64);
        let parallelism = spec.get("parallelism").and_then(Value::as_i64).unwrap_or(1);
        let backoff_limit = spec
            .get("backoffLimit")
            .and_then(Value::as_i64)
            .unwrap_or(6);
        let suspended = spec.get("suspend").and_then(Value::as_bool) == Some(true);
        let on_failure =
            meta::get_str(spec, &["template", "spec", "restartPolicy"]) == Some("OnFailure");
        let replace_failed_only = meta::get_str(spec, &["podReplacementPolicy"]) == Some("Failed");

        // Pods are counted in two steps, as kube-controller-manager does: a
        // pod that stopped (still carrying the tracking finalizer) is first
        // recorded in `uncountedTerminatedPods` and its finalizer removed;
        // the next pass moves it into `succeeded` / `failed`. The interim
        // conditions can appear while `succeeded` is still 0; the terminal
        // ones only once every pod is counted.
        let mut succeeded = status.get("succeeded").and_then(Value::as_i64).unwrap_or(0);
        let mut failed = status.get("failed").and_then(Value::as_i64).unwrap_or(0);
        let mut completed = parse_indexes(
            status
                .get("completedIndexes")
                .and_then(Value::as_str)
                .unwrap_or(""),
        );
        let uids = |key: &str| -> BTreeSet<String> {
            status
                .get("uncountedTerminatedPods")
                .and_then(|u| u.get(key))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut uncounted_succeeded = uids("succeeded");
        let mut uncounted_failed = uids("failed");
        // Step two: recorded pods whose finalizer is gone are counted.
        let still_tracked = |uid: &str| pods.iter().any(|p| meta::uid(p) == uid && has_tracking(p));
        uncounted_succeeded.retain(|u| {
            let keep = still_tracked(u);
            if !keep {
                succeeded += 1;
            }
            keep
        });
        uncounted_failed.retain(|u| {
            let keep = still_tracked(u);
            if !keep {
                failed += 1;
            }
            keep
        });
        // Step one: stopped pods are recorded, their finalizer removed below.
        let mut counted = Vec::new();
        for p in pods.iter().filter(|p| has_tracking(p) && terminal(p)) {
            let pod_uid = meta::uid(p).to_string();
            if uncounted_succeeded.contains(&pod_uid) || uncounted_failed.contains(&pod_uid) {
                counted.push(p.clone());
                continue;
            }
            if phase(p) == "Succeeded" {
                match (indexed, pod_index(p)) {
                    (true, Some(i)) => {
                        if completions.is_some_and(|c| i < c) && completed.insert(i) {
                            uncounted_succeeded.insert(pod_uid);
                        }
                    }
                    _ => {
                        uncounted_succeeded.insert(pod_uid);
                    }
                }
            } else {
                uncounted_failed.insert(pod_uid);
                self.last_failure.insert(uid.clone(), now);
            }
            counted.push(p.clone());
        }
        let uncounted = !uncounted_succeeded.is_empty() || !uncounted_failed.is_empty();
        // The success and failure criteria see the recorded pods too.
        let seen_succeeded = succeeded + uncounted_succeeded.len() as i64;
        let seen_failed = failed + uncounted_failed.len() as i64;
        let active: Vec<&Arc<Value>> = pods
            .iter()
            .filter(|p| !terminal(p) && !meta::is_deleting(p))
            .collect();
        let terminating = pods
            .iter()
            .filter(|p| !terminal(p) && meta::is_deleting(p))
            .count() as i64;
        let ready = active.iter().filter(|p| pod_ready(p)).count() as i64;

        let mut conditions: Vec<Value> = status
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let cond_true = |conds: &[Value], ty: &str| {
            conds.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some(ty)
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        };
        let mut start_time = status.get("startTime").cloned().filter(|v| !v.is_null());
        let mut completion_time = status
            .get("completionTime")
            .cloned()
            .filter(|v| !v.is_null());
        let mut next: Option<f64> = None;
        let mut events: Vec<(&str, &str, String)> = Vec::new();
        let mut to_delete: Vec<Arc<Value>> = Vec::new();
        let mut to_create: Vec<Option<i64>> = Vec::new();

        if suspended {
            if set_condition(
                &mut conditions,
                "Suspended",
                true,
                "JobSuspended",
                "Job suspended",
                &now_s,
            ) {
                events.push(("Normal", "Suspended", "Job suspended".into()));
            }
            to_delete.extend(active.iter().map(|p| (*p).clone()));
        } else {
            if cond_true(&conditions, "Suspended") {
                set_condition(
                    &mut conditions,
                    "Suspended",
                    false,
                    "JobResumed",
                    "Job resumed",
                    &now_s,
                );
                events.push(("Normal", "Resumed", "Job resumed".into()));
                start_time = Some(json!(now_s));
            }
            if start_time.is_none() {
                start_time = Some(json!(now_s));
            }
        }
        let started_at = start_time
            .as_ref()
            .and_then(Value::as_str)
            .and_then(meta::parse_time)
            .unwrap_or(now);

        let mut failure_target = cond_true(&conditions, "FailureTarget");
        let mut success_met = cond_true(&conditions, "SuccessCriteriaMet");
        if !suspended && !failure_target && !success_met {
            let restarts: i64 = if on_failure {
                active
                    .iter()
                    .flat_map(|p| {
                        meta::get(p, &["status", "containerStatuses"])
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default()
                    })
                    .filter_map(|s| s.get("restartCount").and_then(Value::as_i64))
                    .sum()
            } else {
                0
            };
            let deadline = spec.get("activeDeadlineSeconds").and_then(Value::as_i64);
            let complete = match (indexed, completions) {
                (true, Some(c)) => completed.len() as i64 >= c,
                (false, Some(c)) => seen_succeeded >= c,
                (_, None) => seen_succeeded > 0 && active.is_empty(),
            };
            if complete {
                set_condition(
                    &mut conditions,
                    "SuccessCriteriaMet",
                    true,
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    &now_s,
                );
                success_met = true;
            } else if seen_failed + restarts > backoff_limit {
                set_condition(
                    &mut conditions,
                    "FailureTarget",
                    true,
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                    &now_s,
                );
                events.push((
                    "Warning",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit".into(),
                ));
                failure_target = true;
            } else if let Some(d) = deadline {
                if now - started_at >= d as f64 {
                    set_condition(
                        &mut conditions,
                        "FailureTarget",
                        true,
                        "DeadlineExceeded",
                        "Job was active longer than specified deadline",
                        &now_s,
                    );
                    events.push((
                        "Warning",
                        "DeadlineExceeded",
                        "Job was active longer than specified deadline".into(),
                    ));
                    failure_target = true;
                } else {
                    next = Some(started_at + d as f64);
                }
            }
        }
        if failure_target || success_met {
            to_delete.extend(active.iter().map(|p| (*p).clone()));
            let still_running = !active.is_empty()
                || terminating > 0
                || uncounted
                || pods
                    .iter()
                    .any(|p| has_tracking(p) && !counted.iter().any(|c| Arc::ptr_eq(c, p)));
            if !still_running {
                let (ty, reason, message) = conditions
                    .iter()
                    .find(|c| {
                        matches!(
                            c.get("type").and_then(Value::as_str),
                            Some("FailureTarget" | "SuccessCriteriaMet")
                        ) && c.get("status").and_then(Value::as_str) == Some("True")
                    })
                    .map(|c| {
                        (
                            if c.get("type").and_then(Value::as_str) == Some("FailureTarget") {
                                "Failed"
                            } else {
                                "Complete"
                            },
                            c.get("reason")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                            c.get("message")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                        )
                    })
                    .unwrap_or(("Complete", String::new(), String::new()));
                set_condition(&mut conditions, ty, true, &reason, &message, &now_s);
                if ty == "Complete" {
                    completion_time = Some(json!(now_s));
                    events.push(("Normal", "Completed", "Job completed".into()));
                }
            }
        } else if !suspended {
            // Pods to create, after the failure back-off.
            let backoff_until = if seen_failed > 0 {
                let base = cfg.job_backoff_base.as_secs_f64();
                let delay = (base * 2f64.powi((seen_failed - 1).min(20) as i32)).min(360.0);
                self.last_failure.get(&uid).map(|t| t + delay)
            } else {
                None
            };
            let retry_at = self.retry_create_at.get(&uid).copied();
            let wait_until = backoff_until
                .into_iter()
                .chain(retry_at)
                .fold(0.0f64, f64::max);
            let busy = active.len() as i64 + if replace_failed_only { terminating } else { 0 };
            if now < wait_until {
                next = Some(next.map_or(wait_until, |n: f64| n.min(wait_until)));
            } else if indexed {
                let c = completions.unwrap_or(0);
                let busy_idx: BTreeSet<i64> = pods
                    .iter()
                    .filter(|p| !terminal(p) && (!meta::is_deleting(p) || replace_failed_only))
                    .filter_map(|p| pod_index(p))
                    .collect();
                let room = (parallelism - busy).max(0);
                for i in (0..c)
                    .filter(|i| !completed.contains(i) && !busy_idx.contains(i))
                    .take(room as usize)
                {
                    to_create.push(Some(i));
                }
            } else {
                let want = match completions {
                    Some(c) => parallelism.min(c - seen_succeeded).max(0),
                    None => {
                        if seen_succeeded > 0 {
                            0
                        } else {
                            parallelism
                        }
                    }
                };
                for _ in 0..(want - busy).max(0) {
                    to_create.push(None);
                }
            }
        }

        // Status.
        let mut new_status = Map::new();
        if let Some(c) = &completion_time {
            new_status.insert("completionTime".into(), c.clone());
        }
        if !conditions.is_empty() {
            new_status.insert("conditions".into(), json!(conditions));
        }
        if let Some(s) = &start_time {
            new_status.insert("startTime".into(), s.clone());
        }
        let created_now = to_create.len() as i64;
        let active_count = if failure_target || success_met || suspended {
            0
        } else {
            active.len() as i64 + created_now
        };
        if active_count > 0 {
            new_status.insert("active".into(), json!(active_count));
        }
        if succeeded > 0 {
            new_status.insert("succeeded".into(), json!(succeeded));
        }
        if failed > 0 {
            new_status.insert("failed".into(), json!(failed));
        }
        if indexed && !completed.is_empty() {
            new_status.insert("completedIndexes".into(), json!(format_indexes(&completed)));
        }
        let deleting_now = to_delete.len() as i64;
        new_status.insert(
            "ready".into(),
            json!(if failure_target || success_met || suspended {
                0
            } else {
                ready
            }),
        );
        new_status.insert("terminating".into(), json!(terminating + deleting_now));
        let mut uncounted_status = Map::new();
        for (key, set) in [
            ("failed", &uncounted_failed),
            ("succeeded", &uncounted_succeeded),
        ] {
            if !set.is_empty() {
                uncounted_status.insert(key.into(), json!(set));
            }
        }
        new_status.insert(
            "uncountedTerminatedPods".into(),
            Value::Object(uncounted_status),
        );
        if uncounted {
            // Count them on the next pass, right after the finalizers go.
            next = Some(next.map_or(now, |n: f64| n.min(now)));
        }

        let new_status = Value::Object(new_status);
        if let Some(cur) = store.get(JOBS, &ns, &name)
            && cur.get("status") != Some(&new_status)
        {
            let mut new = (*cur).clone();
            new["status"] = new_status;
            ops::internal_write(store, JOBS, &cur, new, MANAGER, "status");
        }
        for p in &counted {
            remove_tracking(store, p);
        }
        for p in &to_delete {
            delete_pod(store, p);
            events.push((
                "Normal",
                "SuccessfulDelete",
                format!("Deleted pod: {}", meta::name(p)),
            ));
        }
        for index in to_create {
            match self.create_pod(store, cfg, job, index) {
                Ok(pod_name) => events.push((
                    "Normal",
                    "SuccessfulCreate",
                    format!("Created pod: {pod_name}"),
                )),
                Err(e) => {
                    events.push((
                        "Warning",
                        "FailedCreate",
                        format!("Error creating: {}", e.message),
                    ));
                    self.retry_create_at.insert(uid.clone(), now + 1.0);
                    next = Some(next.map_or(now + 1.0, |n: f64| n.min(now + 1.0)));
                    break;
                }
            }
        }
        if let Some(cur) = store.get(JOBS, &ns, &name) {
            for (ty, reason, message) in events {
                ops::record_event(store, &cur, "Job", ty, reason, &message, "job-controller");
            }
        }
        next
    }

    fn create_pod(
        &mut self,
        store: &mut Store,
        cfg: &EmulatorConfig,
        job: &Value,
        index: Option<i64>,
    ) -> Result<String, crate::status::ApiError> {
        let name = meta::name(job);
        let template = meta::get(job, &["spec", "template"])
            .cloned()
            .unwrap_or(json!({}));
        let mut pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": template.get("metadata").cloned().unwrap_or(json!({})),
            "spec": template.get("spec").cloned().unwrap_or(json!({})),
        });
        let generate = match index {
            Some(i) => format!("{name}-{i}-"),
            None => format!("{name}-"),
        };
        meta::remove(&mut pod, &["metadata", "name"]);
        meta::remove(&mut pod, &["metadata", "creationTimestamp"]);
        meta::set(&mut pod, &["metadata", "generateName"], json!(generate));
        meta::set(
            &mut pod,
            &["metadata", "namespace"],
            json!(meta::namespace(job)),
        );
        meta::set(
            &mut pod,
            &["metadata", "ownerReferences"],
            json!([{"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": meta::uid(job), "controller": true, "blockOwnerDeletion": true}]),
        );
        meta::set(
            &mut pod,
            &["metadata", "finalizers"],
            json!([TRACKING_FINALIZER]),
        );
        if let Some(i) = index {
            meta::set(
                &mut pod,
                &["metadata", "annotations", INDEX_KEY],
                json!(i.to_string()),
            );
            meta::set(
                &mut pod,
                &["metadata", "labels", INDEX_KEY],
                json!(i.to_string()),
            );
            if meta::get_str(&pod, &["spec", "hostname"]).is_none() {
                meta::set(
                    &mut pod,
                    &["spec", "hostname"],
                    json!(format!("{name}-{i}")),
                );
            }
            for list in ["containers", "initContainers"] {
                if let Some(cs) = pod
                    .get_mut("spec")
                    .and_then(|s| s.get_mut(list))
                    .and_then(Value::as_array_mut)
                {
                    for c in cs {
                        let env = c
                            .as_object_mut()
                            .map(|m| m.entry("env").or_insert_with(|| json!([])));
                        if let Some(Value::Array(env)) = env
                            && !env.iter().any(|e| {
                                e.get("name").and_then(Value::as_str)
                                    == Some("JOB_COMPLETION_INDEX")
                            })
                        {
                            env.insert(
                                0,
                                json!({"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": format!("metadata.annotations['{INDEX_KEY}']")}}}),
                            );
                        }
                    }
                }
            }
        }
        let mut ctx = Ctx::controller(MANAGER);
        ctx.require_service_account = cfg.controllers.service_accounts;
        let written = ops::create(
            store,
            resources::by_index(PODS),
            Some(meta::namespace(job)),
            pod,
            &ctx,
        )?;
        Ok(meta::name(&written.object).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_indexes_use_ranges() {
        let set: BTreeSet<i64> = [0, 1, 2, 4, 6, 7].into_iter().collect();
        assert_eq!(format_indexes(&set), "0-2,4,6-7");
        assert_eq!(parse_indexes("0-2,4,6-7"), set);
    }
}
