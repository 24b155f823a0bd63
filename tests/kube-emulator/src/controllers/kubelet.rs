//! The kubelet stand-in (with a one-node scheduler): pods are bound to
//! `kube-emulator-node`, their containers "run" for `EMULATOR_RUN_SECONDS`, print
//! `EMULATOR_LOG_LINES`, and exit with `EMULATOR_EXIT_CODE` (see the crate docs).
//! restartPolicy OnFailure/Always restarts containers in place with a doubling
//! back-off; pods marked for deletion are stopped and then removed.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::controllers::{Dirty, changed_or_due};
use crate::meta;
use crate::ops::{self, Ctx, DeleteOptions};
use crate::resources::{self, CONFIGMAPS, PODS, SECRETS};
use crate::server::State;
use crate::store::Store;

const NODE: &str = "kube-emulator-node";

#[derive(Clone, Debug, Default)]
struct Behaviour {
    run_seconds: f64,
    exit_code: i64,
    log_lines: Vec<String>,
    pull_failure: bool,
    oom: bool,
    never_exit: bool,
}

#[derive(Clone, Debug)]
struct ContainerRun {
    behaviour: Behaviour,
    started_at: f64,
    run: i64,
    /// Terminated at, with exit code and reason.
    finished: Option<(f64, i64, &'static str)>,
    restart_at: Option<f64>,
    last: Option<Value>,
    container_id: String,
}

#[derive(Debug, Default)]
struct PodRun {
    seen_at: f64,
    started: bool,
    containers: Vec<(String, ContainerRun)>,
    pull_attempts: u32,
}

/// Per-pod runtime state of the stand-in.
#[derive(Default)]
pub struct Kubelet {
    pods: HashMap<String, PodRun>,
    timers: HashMap<(String, String), f64>,
    next_ip: u32,
}

fn container_id() -> String {
    format!(
        "containerd://{:016x}{:016x}{:016x}{:016x}",
        meta::random_u64(),
        meta::random_u64(),
        meta::random_u64(),
        meta::random_u64()
    )
}

/// Resolve a container's environment as a kubelet does; Err is the waiting message.
fn resolve_env(store: &Store, pod: &Value, c: &Value) -> Result<HashMap<String, String>, String> {
    let ns = meta::namespace(pod);
    let mut env = HashMap::new();
    let source_data = |res: usize, name: &str| -> Option<serde_json::Map<String, Value>> {
        let obj = store.get(res, ns, name)?;
        Some(
            obj.get("data")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        )
    };
    let decode = |res: usize, v: &Value| -> String {
        let s = v.as_str().unwrap_or("");
        if res == SECRETS {
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        } else {
            s.to_string()
        }
    };
    for from in c
        .get("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let prefix = from.get("prefix").and_then(Value::as_str).unwrap_or("");
        for (key, res, what) in [
            ("configMapRef", CONFIGMAPS, "configmap"),
            ("secretRef", SECRETS, "secret"),
        ] {
            let Some(r) = from.get(key) else { continue };
            let name = r.get("name").and_then(Value::as_str).unwrap_or("");
            let optional = r.get("optional").and_then(Value::as_bool) == Some(true);
            match source_data(res, name) {
                Some(data) => {
                    for (k, v) in data {
                        env.insert(format!("{prefix}{k}"), decode(res, &v));
                    }
                }
                None if optional => {}
                None => {
                    return Err(format!(
                        "{what} {} not found",
                        crate::status::go_quote(name)
                    ));
                }
            }
        }
    }
    for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
        let name = e
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(v) = e.get("value").and_then(Value::as_str) {
            env.insert(name, expand(v, &env));
            continue;
        }
        let Some(from) = e.get("valueFrom") else {
            env.insert(name, String::new());
            continue;
        };
        for (key, res, kind, what) in [
            ("configMapKeyRef", CONFIGMAPS, "ConfigMap", "configmap"),
            ("secretKeyRef", SECRETS, "Secret", "secret"),
        ] {
            let Some(r) = from.get(key) else { continue };
            let src = r.get("name").and_then(Value::as_str).unwrap_or("");
            let k = r.get("key").and_then(Value::as_str).unwrap_or("");
            let optional = r.get("optional").and_then(Value::as_bool) == Some(true);
            match source_data(res, src) {
                Some(data) => match data.get(k) {
                    Some(v) => {
                        env.insert(name.clone(), decode(res, v));
                    }
                    None if optional => {}
                    None => return Err(format!("couldn't find key {k} in {kind} {ns}/{src}")),
                },
                None if optional => {}
                None => return Err(format!("{what} {} not found", crate::status::go_quote(src))),
            }
        }
        if let Some(fp) = meta::get_str(from, &["fieldRef", "fieldPath"]) {
            env.insert(name.clone(), field_ref(pod, fp));
        }
    }
    Ok(env)
}

fn expand(v: &str, env: &HashMap<String, String>) -> String {
    let mut out = v.to_string();
    for (k, val) in env {
        out = out.replace(&format!("$({k})"), val);
    }
    out
}

fn field_ref(pod: &Value, path: &str) -> String {
    // metadata.annotations['KEY'] and metadata.labels['KEY'].
    for map in ["annotations", "labels"] {
        if let Some(key) = path
            .strip_prefix(&format!("metadata.{map}['"))
            .and_then(|r| r.strip_suffix("']"))
        {
            return meta::get(pod, &["metadata", map, key])
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
        }
    }
    let parts: Vec<&str> = path.split('.').collect();
    meta::get(pod, &parts)
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .unwrap_or_default()
}

fn behaviour(env: &HashMap<String, String>, default_run: f64) -> Behaviour {
    let flag = |k: &str| {
        env.get(k)
            .is_some_and(|v| matches!(v.trim(), "1" | "true" | "True" | "yes"))
    };
    Behaviour {
        run_seconds: env
            .get("EMULATOR_RUN_SECONDS")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .unwrap_or(default_run),
        exit_code: env
            .get("EMULATOR_EXIT_CODE")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(0),
        log_lines: {
            // EMULATOR_LOG_LONG_LINE_BYTES: one line of that many bytes
            // first, for tests of how much of a log a client shows.
            let long = env
                .get("EMULATOR_LOG_LONG_LINE_BYTES")
                .and_then(|v| v.trim().parse::<usize>().ok())
                .map(|n| "x".repeat(n.min(64 * 1024 * 1024)));
            long.into_iter()
                .chain(
                    env.get("EMULATOR_LOG_LINES")
                        .map(|v| {
                            v.replace("\\n", "\n")
                                .lines()
                                .map(str::to_string)
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default(),
                )
                .collect()
        },
        pull_failure: flag("EMULATOR_IMAGE_PULL_FAILURE"),
        oom: flag("EMULATOR_OOM"),
        never_exit: flag("EMULATOR_NEVER_EXIT"),
    }
}

fn condition(ty: &str, status: bool, reason: Option<&str>, now: &str) -> Value {
    let mut c = json!({"type": ty, "status": if status { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": now});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    c
}

/// The five conditions kubelet reports on a pod, in its order: sandbox ready
/// (`started`), Initialized, and Ready/ContainersReady (`ready`, `ready_reason`).
fn pod_conditions(
    started: bool,
    init_reason: Option<&str>,
    ready: bool,
    ready_reason: Option<&str>,
    now: &str,
) -> Vec<Value> {
    vec![
        condition("PodReadyToStartContainers", started, None, now),
        condition("Initialized", true, init_reason, now),
        condition("Ready", ready, ready_reason, now),
        condition("ContainersReady", ready, ready_reason, now),
        condition("PodScheduled", true, None, now),
    ]
}

/// Keep lastTransitionTime of conditions whose status did not change.
fn merge_conditions(old: Option<&Value>, mut new: Vec<Value>) -> Vec<Value> {
    let old = old.and_then(Value::as_array).cloned().unwrap_or_default();
    for c in &mut new {
        if let Some(o) = old
            .iter()
            .find(|o| o.get("type") == c.get("type") && o.get("status") == c.get("status"))
        {
            c["lastTransitionTime"] = o.get("lastTransitionTime").cloned().unwrap_or(Value::Null);
        }
    }
    new
}

impl Kubelet {
    fn write_status(store: &mut Store, pod: &Arc<Value>, status: Value) {
        let mut new = (**pod).clone();
        new["status"] = status;
        ops::internal_write(store, PODS, pod, new, "kubelet", "status");
    }

    /// Write `status` with its phase, conditions (merged with the pod's current
    /// ones) and container statuses.
    fn write_pod_status(
        store: &mut Store,
        pod: &Arc<Value>,
        mut status: serde_json::Map<String, Value>,
        phase: &str,
        conds: Vec<Value>,
        cstatuses: Vec<Value>,
    ) {
        status.insert("phase".into(), json!(phase));
        status.insert(
            "conditions".into(),
            json!(merge_conditions(
                pod.get("status").and_then(|s| s.get("conditions")),
                conds
            )),
        );
        status.insert("containerStatuses".into(), json!(cstatuses));
        Self::write_status(store, pod, Value::Object(status));
    }

    /// One pass; returns when it next needs to run.
    pub fn reconcile(&mut self, store: &mut Store, state: &State, now: f64, dirty: &Dirty) -> f64 {
        let pods: Vec<Arc<Value>> = if dirty.full {
            let pods = store.list(PODS, None);
            let live: std::collections::HashSet<String> =
                pods.iter().map(|p| meta::uid(p).to_string()).collect();
            let gone: Vec<String> = self
                .pods
                .keys()
                .filter(|u| !live.contains(*u))
                .cloned()
                .collect();
            for uid in gone {
                self.pods.remove(&uid);
                state.logs().forget(&uid);
            }
            pods
        } else {
            changed_or_due(&dirty.pods, &self.timers, now)
                .iter()
                .filter_map(|(ns, n)| store.get(PODS, ns, n))
                .collect()
        };
        for pod in pods {
            let key = (
                meta::namespace(&pod).to_string(),
                meta::name(&pod).to_string(),
            );
            match self.sync(store, state, &pod, now) {
                Some(t) => {
                    self.timers.insert(key, t);
                }
                None => {
                    self.timers.remove(&key);
                }
            }
        }
        self.timers
            .retain(|(ns, n), _| store.get(PODS, ns, n).is_some());
        self.timers.values().copied().fold(f64::MAX, f64::min)
    }

    fn sync(
        &mut self,
        store: &mut Store,
        state: &State,
        pod: &Arc<Value>,
        now: f64,
    ) -> Option<f64> {
        let uid = meta::uid(pod).to_string();
        let now_s = meta::format_time(now);
        let phase = meta::get_str(pod, &["status", "phase"])
            .unwrap_or("Pending")
            .to_string();
        let terminal = matches!(phase.as_str(), "Succeeded" | "Failed");
        let ns = meta::namespace(pod).to_string();
        let name = meta::name(pod).to_string();
        if meta::is_deleting(pod) {
            if !terminal && meta::get_str(pod, &["spec", "nodeName"]).is_some() {
                self.stop_all(store, pod, now);
            }
            let pending_grace =
                meta::get_i64(pod, &["metadata", "deletionGracePeriodSeconds"]).unwrap_or(0) > 0;
            if pending_grace {
                let opts = DeleteOptions {
                    grace_period: Some(0),
                    ..DeleteOptions::default()
                };
                let ctx = Ctx::controller("kubelet");
                let deleted =
                    ops::delete(store, resources::by_index(PODS), &ns, &name, &opts, &ctx);
                let what = || format!("delete Pod {ns}/{name}");
                super::check_write(store, &ctx, what, deleted);
            }
            return None;
        }
        if terminal {
            return None;
        }
        if meta::get_str(pod, &["spec", "nodeName"]).is_none_or(str::is_empty) {
            let mut new = (**pod).clone();
            meta::set(&mut new, &["spec", "nodeName"], json!(NODE));
            let conds = vec![condition("PodScheduled", true, None, &now_s)];
            meta::set(&mut new, &["status", "conditions"], json!(conds));
            let bound = ops::internal_write(store, PODS, pod, new, "kube-scheduler", "status");
            ops::record_event(
                store,
                &bound,
                "Pod",
                "Normal",
                "Scheduled",
                &format!("Successfully assigned {ns}/{name} to {NODE}"),
                "default-scheduler",
            );
            self.pods.entry(uid).or_insert_with(|| PodRun {
                seen_at: now,
                ..PodRun::default()
            });
            return Some(now);
        }
        let delay = state.config.pod_start_delay.as_secs_f64();
        let run = self.pods.entry(uid.clone()).or_insert_with(|| PodRun {
            seen_at: now,
            ..PodRun::default()
        });
        if !run.started {
            if now < run.seen_at + delay {
                return Some(run.seen_at + delay);
            }
            return self.try_start(store, state, pod, now);
        }
        self.advance(store, state, pod, now)
    }

    fn containers(pod: &Value) -> Vec<Value> {
        meta::get(pod, &["spec", "containers"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    fn base_status(&mut self, pod: &Value, now_s: &str) -> serde_json::Map<String, Value> {
        let mut status = pod
            .get("status")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        status.entry("hostIP").or_insert_with(|| json!("127.0.0.1"));
        status
            .entry("hostIPs")
            .or_insert_with(|| json!([{"ip": "127.0.0.1"}]));
        status.entry("startTime").or_insert_with(|| json!(now_s));
        if !status.contains_key("podIP") {
            self.next_ip += 1;
            let ip = format!(
                "10.244.{}.{}",
                (self.next_ip / 250) % 250,
                self.next_ip % 250 + 2
            );
            status.insert("podIP".into(), json!(ip));
            status.insert("podIPs".into(), json!([{"ip": ip}]));
        }
        status
    }

    fn try_start(
        &mut self,
        store: &mut Store,
        state: &State,
        pod: &Arc<Value>,
        now: f64,
    ) -> Option<f64> {
        let now_s = meta::format_time(now);
        let ns = meta::namespace(pod).to_string();
        let status = self.base_status(pod, &now_s);
        let containers = Self::containers(pod);
        // Volumes from Secrets and ConfigMaps must exist before anything starts.
        let mut missing_volume = None;
        for v in meta::get(pod, &["spec", "volumes"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for (key, name_key, res, what) in [
                ("secret", "secretName", SECRETS, "secret"),
                ("configMap", "name", CONFIGMAPS, "configmap"),
            ] {
                if let Some(src) = v.get(key) {
                    let n = src.get(name_key).and_then(Value::as_str).unwrap_or("");
                    let optional = src.get("optional").and_then(Value::as_bool) == Some(true);
                    if !optional && store.get(res, &ns, n).is_none() {
                        missing_volume = Some(format!(
                            "MountVolume.SetUp failed for volume {} : {what} {} not found",
                            crate::status::go_quote(
                                v.get("name").and_then(Value::as_str).unwrap_or("")
                            ),
                            crate::status::go_quote(n)
                        ));
                    }
                }
            }
        }
        let mut statuses = Vec::new();
        let mut all_ok = missing_volume.is_none();
        let mut runs = Vec::new();
        for c in &containers {
            let cname = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let image = c
                .get("image")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let waiting = |reason: &str, message: Option<String>| {
                let mut w = json!({"reason": reason});
                if let Some(m) = message {
                    w["message"] = json!(m);
                }
                json!({"name": cname, "state": {"waiting": w}, "lastState": {}, "ready": false, "restartCount": 0, "image": image, "imageID": "", "started": false})
            };
            if missing_volume.is_some() {
                statuses.push(waiting("ContainerCreating", None));
                continue;
            }
            match resolve_env(store, pod, c) {
                Err(msg) => {
                    all_ok = false;
                    statuses.push(waiting("CreateContainerConfigError", Some(msg)));
                }
                Ok(env) => {
                    let b = behaviour(&env, state.config.default_run_seconds);
                    if b.pull_failure {
                        all_ok = false;
                        let run = self.pods.get(meta::uid(pod)).map_or(0, |r| r.pull_attempts);
                        let st = if run.is_multiple_of(2) {
                            waiting(
                                "ErrImagePull",
                                Some(format!(
                                    "failed to pull and unpack image {}: not found",
                                    crate::status::go_quote(&image)
                                )),
                            )
                        } else {
                            waiting(
                                "ImagePullBackOff",
                                Some(format!(
                                    "Back-off pulling image {}",
                                    crate::status::go_quote(&image)
                                )),
                            )
                        };
                        statuses.push(st);
                    } else {
                        statuses.push(Value::Null);
                        runs.push((cname.clone(), b));
                    }
                }
            }
        }
        if !all_ok {
            let first_time = self
                .pods
                .get(meta::uid(pod))
                .is_some_and(|r| r.pull_attempts == 0);
            if let Some(r) = self.pods.get_mut(meta::uid(pod)) {
                r.pull_attempts += 1;
            }
            let statuses: Vec<Value> = statuses
                .into_iter()
                .zip(&containers)
                .map(|(s, c)| {
                    if s.is_null() {
                        json!({"name": c.get("name"), "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}, "ready": false, "restartCount": 0, "image": c.get("image"), "imageID": "", "started": false})
                    } else {
                        s
                    }
                })
                .collect();
            let conds = pod_conditions(
                missing_volume.is_none(),
                None,
                false,
                Some("ContainersNotReady"),
                &now_s,
            );
            Self::write_pod_status(store, pod, status, "Pending", conds, statuses);
            if first_time && let Some(msg) = &missing_volume {
                ops::record_event(store, pod, "Pod", "Warning", "FailedMount", msg, "kubelet");
            }
            return Some(now + 1.0);
        }
        // Start every container.
        let mut runtime = Vec::new();
        let mut cstatuses = Vec::new();
        for (cname, b) in runs {
            let image = containers
                .iter()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(cname.as_str()))
                .and_then(|c| c.get("image").and_then(Value::as_str))
                .unwrap_or("")
                .to_string();
            state.logs().write(meta::uid(pod), &cname, 0, &b.log_lines);
            let cr = ContainerRun {
                behaviour: b,
                started_at: now,
                run: 0,
                finished: None,
                restart_at: None,
                last: None,
                container_id: container_id(),
            };
            cstatuses.push(running_status(&cname, &image, &cr, &now_s));
            runtime.push((cname, cr));
        }
        if let Some(r) = self.pods.get_mut(meta::uid(pod)) {
            r.started = true;
            r.containers = runtime;
        }
        let conds = pod_conditions(true, None, true, None, &now_s);
        Self::write_pod_status(store, pod, status, "Running", conds, cstatuses);
        for c in &containers {
            let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
            for (reason, message) in [
                ("Created", format!("Created container: {cname}")),
                ("Started", format!("Started container {cname}")),
            ] {
                ops::record_event(store, pod, "Pod", "Normal", reason, &message, "kubelet");
            }
        }
        Some(now)
    }

    fn advance(
        &mut self,
        store: &mut Store,
        state: &State,
        pod: &Arc<Value>,
        now: f64,
    ) -> Option<f64> {
        let uid = meta::uid(pod).to_string();
        let restart = meta::get_str(pod, &["spec", "restartPolicy"])
            .unwrap_or("Always")
            .to_string();
        let base = state.config.restart_backoff_base.as_secs_f64();
        let now_s = meta::format_time(now);
        let containers = Self::containers(pod);
        let run = self.pods.get_mut(&uid)?;
        let mut next = f64::MAX;
        let mut changed = false;
        for (cname, cr) in run.containers.iter_mut() {
            if let Some(at) = cr.restart_at {
                if now >= at {
                    cr.run += 1;
                    cr.started_at = now;
                    cr.finished = None;
                    cr.restart_at = None;
                    cr.container_id = container_id();
                    state
                        .logs()
                        .write(&uid, cname, cr.run, &cr.behaviour.log_lines);
                    changed = true;
                } else {
                    next = next.min(at);
                    continue;
                }
            }
            if cr.finished.is_none() && !cr.behaviour.never_exit {
                let exit_at = cr.started_at + cr.behaviour.run_seconds;
                if now >= exit_at {
                    let (code, reason) = if cr.behaviour.oom {
                        (137, "OOMKilled")
                    } else if cr.behaviour.exit_code == 0 {
                        (0, "Completed")
                    } else {
                        (cr.behaviour.exit_code, "Error")
                    };
                    cr.finished = Some((now, code, reason));
                    changed = true;
                    let restarts = restart == "Always" || (restart == "OnFailure" && code != 0);
                    if restarts {
                        let delay = (base * 2f64.powi(cr.run.min(20) as i32)).min(300.0);
                        cr.restart_at = Some(now + delay);
                        next = next.min(now + delay);
                    }
                } else {
                    next = next.min(exit_at);
                }
            }
        }
        if !changed {
            return (next < f64::MAX).then_some(next);
        }
        let status = self.base_status(pod, &now_s);
        let run = self.pods.get_mut(&uid)?;
        let mut cstatuses = Vec::new();
        let mut all_done = true;
        let mut all_zero = true;
        let mut all_ready = true;
        for (cname, cr) in run.containers.iter_mut() {
            let image = containers
                .iter()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(cname.as_str()))
                .and_then(|c| c.get("image").and_then(Value::as_str))
                .unwrap_or("")
                .to_string();
            let st = match (cr.finished, cr.restart_at) {
                (Some((at, code, reason)), Some(_)) => {
                    all_done = false;
                    all_ready = false;
                    let term = terminated(code, reason, cr.started_at, at, &cr.container_id);
                    cr.last = Some(term.clone());
                    let delay =
                        ((base * 2f64.powi(cr.run.min(20) as i32)).min(300.0)).round() as i64;
                    json!({"name": cname, "state": {"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off {delay}s restarting failed container={cname} pod={}_{}({uid})", meta::name(pod), meta::namespace(pod))}},
                        "lastState": {"terminated": term}, "ready": false, "restartCount": cr.run, "image": image, "imageID": image_id(&image), "containerID": cr.container_id, "started": false})
                }
                (Some((at, code, reason)), None) => {
                    all_ready = false;
                    if code != 0 {
                        all_zero = false;
                    }
                    let last = cr
                        .last
                        .clone()
                        .map(|t| json!({"terminated": t}))
                        .unwrap_or(json!({}));
                    json!({"name": cname, "state": {"terminated": terminated(code, reason, cr.started_at, at, &cr.container_id)},
                        "lastState": last, "ready": false, "restartCount": cr.run, "image": image, "imageID": image_id(&image), "containerID": cr.container_id, "started": false})
                }
                (None, _) => {
                    all_done = false;
                    running_status(cname, &image, cr, &meta::format_time(cr.started_at))
                }
            };
            cstatuses.push(st);
        }
        let phase = if all_done {
            if all_zero { "Succeeded" } else { "Failed" }
        } else {
            "Running"
        };
        let reason = match phase {
            "Succeeded" => Some("PodCompleted"),
            "Failed" => Some("PodFailed"),
            _ if !all_ready => Some("ContainersNotReady"),
            _ => None,
        };
        let ready = phase == "Running" && all_ready;
        let running = phase == "Running";
        let init_reason = if running { None } else { reason };
        let conds = pod_conditions(running, init_reason, ready, reason, &now_s);
        Self::write_pod_status(store, pod, status, phase, conds, cstatuses);
        if all_done {
            return None;
        }
        Some(if next < f64::MAX { next } else { now + 1.0 })
    }

    /// Stop a pod's containers (deletion): terminated with 143 unless already finished.
    fn stop_all(&mut self, store: &mut Store, pod: &Arc<Value>, now: f64) {
        let uid = meta::uid(pod).to_string();
        let now_s = meta::format_time(now);
        let containers = Self::containers(pod);
        let mut cstatuses = Vec::new();
        let mut all_zero = true;
        let run = self.pods.get(&uid);
        for c in &containers {
            let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let cr = run
                .and_then(|r| r.containers.iter().find(|(n, _)| n == cname))
                .map(|(_, cr)| cr);
            let st = match cr {
                Some(cr) => {
                    let (at, code, reason) = cr.finished.unwrap_or((now, 143, "Error"));
                    if code != 0 {
                        all_zero = false;
                    }
                    json!({"name": cname, "state": {"terminated": terminated(code, reason, cr.started_at, at, &cr.container_id)}, "lastState": {}, "ready": false,
                        "restartCount": cr.run, "image": image, "imageID": image_id(image), "containerID": cr.container_id, "started": false})
                }
                None => {
                    all_zero = false;
                    json!({"name": cname, "state": {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown", "message": "The container could not be located when the pod was terminated", "startedAt": null, "finishedAt": null}},
                        "lastState": {}, "ready": false, "restartCount": 0, "image": image, "imageID": "", "started": false})
                }
            };
            cstatuses.push(st);
        }
        let phase = if all_zero && !containers.is_empty() {
            "Succeeded"
        } else {
            "Failed"
        };
        let reason = if phase == "Succeeded" {
            "PodCompleted"
        } else {
            "PodFailed"
        };
        let mut status = pod
            .get("status")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        status.insert("phase".into(), json!(phase));
        let mut conds = vec![condition(
            "DisruptionTarget",
            true,
            Some("DeletionByTaintManager"),
            &now_s,
        )];
        conds.extend(pod_conditions(false, None, false, Some(reason), &now_s));
        let mut conds =
            merge_conditions(pod.get("status").and_then(|s| s.get("conditions")), conds);
        conds.retain(|c| c.get("type").and_then(Value::as_str) != Some("DisruptionTarget"));
        status.insert("conditions".into(), json!(conds));
        status.insert("containerStatuses".into(), json!(cstatuses));
        Self::write_status(store, pod, Value::Object(status));
        if let Some(r) = self.pods.get_mut(&uid) {
            for (_, cr) in r.containers.iter_mut() {
                cr.finished.get_or_insert((now, 143, "Error"));
                cr.restart_at = None;
            }
        }
    }
}

fn image_id(image: &str) -> String {
    let repo = image.split('@').next().unwrap_or(image);
    let repo = repo
        .rsplit_once(':')
        .filter(|(_, t)| !t.contains('/'))
        .map_or(repo, |(r, _)| r);
    let full = if repo.contains('/') {
        format!("docker.io/{repo}")
    } else {
        format!("docker.io/library/{repo}")
    };
    let h = repo.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    format!("{full}@sha256:{h:016x}{h:016x}{h:016x}{h:016x}")
}

fn terminated(code: i64, reason: &str, started: f64, finished: f64, id: &str) -> Value {
    json!({"exitCode": code, "reason": reason, "startedAt": meta::format_time(started), "finishedAt": meta::format_time(finished), "containerID": id})
}

fn running_status(cname: &str, image: &str, cr: &ContainerRun, started_s: &str) -> Value {
    let last = cr
        .last
        .clone()
        .map(|t| json!({"terminated": t}))
        .unwrap_or(json!({}));
    json!({"name": cname, "state": {"running": {"startedAt": started_s}}, "lastState": last, "ready": true, "restartCount": cr.run,
        "image": image, "imageID": image_id(image), "containerID": cr.container_id, "started": true})
}
