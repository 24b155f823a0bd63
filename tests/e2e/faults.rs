//! The fault matrix: the real Terraform CLI against the emulator
//! while something goes wrong in one phase of a job's life (create, update,
//! destroy), then a converging `terraform apply` (or `destroy`), then a
//! count of what went wrong for good:
//!
//! - **lost**: an object the configuration declares that is not in the
//!   cluster, or an object in state whose UID is not live;
//! - **duplicated**: a Job created more often than Terraform's plans asked
//!   for (a job that ran twice without a planned replacement), counted
//!   from the emulator's watch history;
//! - **untracked**: an object of the job (by its `planton.ai/name` label,
//!   and its namespace) that is live but not in state.
//!
//! The goal is 0 everywhere. Each case is a [`Case`]; the short ones are
//! tests of their own (the test command runs them), the whole matrix is
//! [`full_fault_matrix_writes_its_figures`], which `scripts/faults.sh`
//! runs and which writes one JSON line per case to
//! `$PLANTON_FAULTS_REPORT` for `docs/reliability.md`.
//!
//! The faults: the emulator's own (429 and 503 answers, dropped
//! connections, latency), and through a proxy in front of it (`proxy.rs`)
//! a watch cut after the history was compacted (410 Gone when it resumes)
//! and an API server restart (connections cut and turned away, history
//! compacted, back once the Job finished). A provider killed (SIGKILL)
//! and Ctrl-C (SIGINT to Terraform) land while a request of the phase is
//! held by a latency fault.

mod proxy;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use k8s_openapi::api::batch::v1::Job;
use kube::api::{ListParams, WatchEvent, WatchParams};
use kube_emulator::EmulatorConfig;
use serde_json::{Value as Json, json};

use crate::harness::{Emulator, Output, Tf, provider_pids};
use proxy::Proxy;

const NAMESPACE: &str = "faults";
const JOB: &str = "report";

/// When in a job's life the fault lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The first apply.
    Create,
    /// An in-place update (the ConfigMap's data and the Job's
    /// `backoff_limit` changed) after a clean create.
    Update,
    /// `terraform destroy` after a clean create.
    Destroy,
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `times` answers 429 Too Many Requests with `Retry-After:
    /// retry_after` to the job's namespaced requests.
    TooManyRequests { times: u64, retry_after: u64 },
    /// `times` answers 503 to the job's namespaced requests.
    Unavailable { times: u64 },
    /// `times` connections dropped without an answer.
    ConnectionReset { times: u64 },
    /// The phase's Job request held for ten minutes, with the phase's
    /// timeout at 4 s.
    LatencyAboveTimeout,
    /// While the apply waits on its watch: history compacted and every
    /// connection cut, so that the watch resumes into 410 Gone.
    WatchGone,
    /// While the apply waits: the API server goes away (connections cut,
    /// new ones turned away, history compacted) and comes back once the
    /// Job has finished.
    ApiServerRestart,
    /// The provider process killed (SIGKILL) while the phase's Job request
    /// is held.
    ProviderKilled,
    /// Ctrl-C (SIGINT to Terraform) while the phase's Job request is held.
    Interrupted,
}

/// One row of the matrix.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub fault: Fault,
    pub phase: Phase,
}

impl Case {
    fn label(&self) -> String {
        match self.fault {
            Fault::TooManyRequests { times, retry_after } => {
                format!("429 storm ({times} answers, Retry-After {retry_after}s)")
            }
            Fault::Unavailable { times } => format!("503 ({times} answers)"),
            Fault::ConnectionReset { times } => format!("connection reset ({times} requests)"),
            Fault::LatencyAboveTimeout => "latency above the timeout (10 min, timeout 4s)".into(),
            Fault::WatchGone => "watch 410 Gone".into(),
            Fault::ApiServerRestart => "API server restarted mid-wait".into(),
            Fault::ProviderKilled => "provider killed (SIGKILL)".into(),
            Fault::Interrupted => "Ctrl-C (SIGINT)".into(),
        }
    }

    fn phase_label(&self) -> &'static str {
        match (self.fault, self.phase) {
            (Fault::WatchGone | Fault::ApiServerRestart, _) => "create (wait)",
            (_, Phase::Create) => "create",
            (_, Phase::Update) => "update",
            (_, Phase::Destroy) => "destroy",
        }
    }

    /// The emulator path of the Job request this phase sends, which the
    /// latency, kill and Ctrl-C faults hold.
    fn held_request(&self) -> (&'static str, String) {
        let jobs = format!("/apis/batch/v1/namespaces/{NAMESPACE}/jobs");
        match self.phase {
            Phase::Create => ("POST", jobs),
            Phase::Update => ("PATCH", format!("{jobs}/{JOB}")),
            Phase::Destroy => ("DELETE", format!("{jobs}/{JOB}")),
        }
    }
}

/// Every case of the full matrix.
pub fn matrix() -> Vec<Case> {
    use Fault::*;
    use Phase::*;
    let mut cases = Vec::new();
    for phase in [Create, Update, Destroy] {
        for fault in [
            TooManyRequests {
                times: 8,
                retry_after: 0,
            },
            TooManyRequests {
                times: 40,
                retry_after: 1,
            },
            Unavailable { times: 6 },
            ConnectionReset { times: 4 },
            LatencyAboveTimeout,
            ProviderKilled,
            Interrupted,
        ] {
            cases.push(Case { fault, phase });
        }
    }
    cases.push(Case {
        fault: WatchGone,
        phase: Create,
    });
    cases.push(Case {
        fault: ApiServerRestart,
        phase: Create,
    });
    cases
}

/// What one case came to.
#[derive(Debug, Clone)]
pub struct Row {
    pub fault: String,
    pub phase: String,
    /// What the faulty command's plan said ("1 to add, 0 to change, 0 to
    /// destroy").
    pub planned: String,
    /// The faulty command: "succeeded" or "failed: <first error>".
    pub outcome: String,
    /// The converging command, and the plan after it.
    pub converged: String,
    pub converged_ok: bool,
    pub lost: Vec<String>,
    pub duplicated: usize,
    pub untracked: Vec<String>,
    pub job_creations: usize,
    pub seconds: f64,
}

impl Row {
    fn json(&self) -> Json {
        json!({
            "fault": self.fault,
            "phase": self.phase,
            "planned": self.planned,
            "outcome": self.outcome,
            "converged": self.converged,
            "converged_ok": self.converged_ok,
            "lost": self.lost.len(),
            "lost_objects": self.lost,
            "duplicated": self.duplicated,
            "untracked": self.untracked.len(),
            "untracked_objects": self.untracked,
            "job_creations": self.job_creations,
            "seconds": (self.seconds * 10.0).round() / 10.0,
        })
    }

    /// Whether the row reached the goal: converged, nothing lost,
    /// duplicated or untracked.
    fn clean(&self) -> bool {
        self.converged_ok
            && self.lost.is_empty()
            && self.duplicated == 0
            && self.untracked.is_empty()
    }
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} during {} (plan: {}): {}; converge: {}; lost {:?}, duplicated {}, untracked {:?}; Job created {} times; {:.1}s",
            self.fault,
            self.phase,
            self.planned,
            self.outcome,
            self.converged,
            self.lost,
            self.duplicated,
            self.untracked,
            self.job_creations,
            self.seconds
        )
    }
}

// ---------------------------------------------------------------------------
// The job and its world

/// The job: its own namespace, an env Secret, a ServiceAccount and a
/// ConfigMap, waiting for completion; `revision` changes what an update
/// changes.
fn job_hcl(run_seconds: &str, timeout: &str, revision: u32) -> String {
    // Both change in place (a new `config_maps` key would replace the job).
    let config_maps = format!("\"report-config\" = \"revision: {revision}\\n\"");
    let backoff = revision + 1;
    format!(
        r#"
resource "planton_kubernetes_job" "report" {{
  metadata = {{ name = "{JOB}", org = "acme", env = "dev" }}
  spec = {{
    namespace        = {{ value = "{NAMESPACE}" }}
    create_namespace = true
    image            = {{ repo = "busybox", tag = "1.36" }}
    env = {{
      variables = {{ EMULATOR_RUN_SECONDS = {{ value = "{run_seconds}" }} }}
      secrets   = {{ REPORT_TOKEN = {{ value = "not-a-real-token" }} }}
    }}
    config_maps = {{
      {config_maps}
    }}
    backoff_limit = {backoff}
  }}
  timeouts = {{ create = "{timeout}", update = "{timeout}", delete = "{timeout}" }}
}}
"#
    )
}

/// The objects the configuration declares, as `kind namespace/name`.
fn declared() -> BTreeSet<String> {
    [
        format!("Namespace /{NAMESPACE}"),
        format!("Secret {NAMESPACE}/{JOB}-env-secrets"),
        format!("ServiceAccount {NAMESPACE}/{JOB}"),
        format!("ConfigMap {NAMESPACE}/report-config"),
        format!("Job {NAMESPACE}/{JOB}"),
    ]
    .into()
}

struct World {
    tf: Tf,
    emulator: Emulator,
    proxy: Proxy,
    kubeconfig: std::path::PathBuf,
    /// The Job UIDs created so far, read from the emulator's history.
    job_uids: BTreeSet<String>,
    /// The resourceVersion the history was read up to.
    history_from: String,
    /// Job creations Terraform's plans asked for.
    asked: usize,
}

impl World {
    fn new(name: &str) -> World {
        let tf = Tf::new(name);
        let emulator = Emulator::start(EmulatorConfig::fast());
        let proxy = Proxy::start(&emulator);
        let kubeconfig = tf.home().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            kube_emulator::tls::kubeconfig(&proxy.url, None, &Default::default()),
        )
        .unwrap();
        let mut w = World {
            tf,
            emulator,
            proxy,
            kubeconfig,
            job_uids: BTreeSet::new(),
            history_from: String::new(),
            asked: 0,
        };
        w.history_from = w.jobs_resource_version();
        w
    }

    fn configure(&self, hcl: &str) {
        self.tf.config(&format!(
            "provider \"planton\" {{\n  config_path = {:?}\n}}\n{hcl}",
            self.kubeconfig.display().to_string()
        ));
    }

    fn jobs(&self) -> kube::Api<Job> {
        self.emulator.api::<Job>(NAMESPACE)
    }

    fn jobs_resource_version(&self) -> String {
        let list = self
            .emulator
            .block_on(self.jobs().list_metadata(&ListParams::default()))
            .unwrap();
        list.metadata.resource_version.unwrap_or_default()
    }

    /// Reads the Job history since the last read.
    fn read_history(&mut self) {
        let (uids, last) = job_history(self, &self.history_from);
        self.job_uids.extend(uids);
        self.history_from = last;
    }

    fn add_fault(&self, fault: Json) {
        self.emulator.admin("POST", "faults", Some(fault));
    }

    fn clear_faults(&self) {
        self.emulator.admin("DELETE", "faults", None);
    }

    /// Counts what the plan of a finished command asked for.
    fn count_plan(&mut self, out: &Output) {
        if let Some(adds) = plan_line(out)
            .and_then(|rest| rest.split(" to add").next())
            .and_then(|n| n.trim().parse::<usize>().ok())
        {
            self.asked += adds;
        }
    }

    fn apply(&mut self) -> Output {
        let out = self
            .tf
            .run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        self.count_plan(&out);
        out
    }

    fn destroy(&mut self) -> Output {
        let out = self
            .tf
            .run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
        self.count_plan(&out);
        out
    }

    /// Runs `terraform <args>` while `during` runs on this thread; `during`
    /// gets the Terraform process id.
    fn run_while(&mut self, args: &[&str], during: impl FnOnce(&World, u32)) -> Output {
        let out = self.tf.run_while(args, |terraform| during(self, terraform));
        self.count_plan(&out);
        out
    }

    /// The objects in state, as `kind namespace/name` to UID.
    fn state_objects(&self) -> BTreeMap<String, String> {
        let out = self.tf.run(&["show", "-json", "-no-color"]).success();
        let json = out.json();
        let mut objects = BTreeMap::new();
        for r in json["values"]["root_module"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for o in r["values"]["objects"].as_array().into_iter().flatten() {
                let key = format!(
                    "{} {}/{}",
                    o["kind"].as_str().unwrap_or(""),
                    o["namespace"].as_str().unwrap_or(""),
                    o["name"].as_str().unwrap_or("")
                );
                objects.insert(key, o["uid"].as_str().unwrap_or("").to_string());
            }
        }
        objects
    }

    /// The job's objects in the cluster (not being deleted), as
    /// `kind namespace/name` to UID; `None` while some are being deleted.
    fn live_objects(&self) -> Option<BTreeMap<String, String>> {
        let mut live = BTreeMap::new();
        let mut terminating = false;
        let get = |uri: String| -> Option<Json> {
            let req = http::Request::builder().uri(uri).body(Vec::new()).unwrap();
            self.emulator
                .block_on(self.emulator.client.request::<Json>(req))
                .ok()
        };
        if let Some(ns) = get(format!("/api/v1/namespaces/{NAMESPACE}")) {
            terminating |= !ns["metadata"]["deletionTimestamp"].is_null();
            live.insert(
                format!("Namespace /{NAMESPACE}"),
                ns["metadata"]["uid"].as_str().unwrap_or("").to_string(),
            );
        }
        for (prefix, plural, kind) in [
            ("/api/v1", "configmaps", "ConfigMap"),
            ("/api/v1", "secrets", "Secret"),
            ("/api/v1", "serviceaccounts", "ServiceAccount"),
            ("/apis/batch/v1", "jobs", "Job"),
        ] {
            let list = get(format!(
                "{prefix}/namespaces/{NAMESPACE}/{plural}?labelSelector=planton.ai%2Fname%3D{JOB}"
            ))
            .unwrap_or_default();
            for o in list["items"].as_array().into_iter().flatten() {
                terminating |= !o["metadata"]["deletionTimestamp"].is_null();
                live.insert(
                    format!(
                        "{kind} {NAMESPACE}/{}",
                        o["metadata"]["name"].as_str().unwrap_or("")
                    ),
                    o["metadata"]["uid"].as_str().unwrap_or("").to_string(),
                );
            }
        }
        (!terminating).then_some(live)
    }

    /// The live objects once nothing of the job is being deleted any more
    /// (polled, for at most 30 s).
    fn settled_objects(&self) -> BTreeMap<String, String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(live) = self.live_objects() {
                return live;
            }
            assert!(
                Instant::now() < deadline,
                "objects of the job still being deleted after 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn signal(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {pid}");
}

/// What a command's plan said: `1 to add, 0 to change, 0 to destroy.`
fn plan_line(out: &Output) -> Option<&str> {
    out.stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Plan: "))
}

/// "succeeded", or "failed: " and Terraform's first error summary.
fn outcome(out: &Output) -> String {
    if out.code == 0 {
        return "succeeded".into();
    }
    let first = out
        .stderr
        .lines()
        .map(|l| l.trim_start_matches(['│', '╷', ' ']).trim())
        .find_map(|l| l.strip_prefix("Error: "))
        .unwrap_or("no error message");
    format!("failed: {first}")
}

// ---------------------------------------------------------------------------
// Running a case

/// Runs `case` in a world of its own and counts what it left.
pub fn run(case: Case) -> Row {
    let started = Instant::now();
    let name = format!(
        "faults-{}-{:?}",
        case.label()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(24)
            .collect::<String>(),
        case.phase
    );
    let mut w = World::new(&name.to_lowercase());
    // Long enough for the wait faults to land while the Job runs.
    let waits = matches!(case.fault, Fault::WatchGone | Fault::ApiServerRestart);
    let (run_seconds, timeout) = match case.fault {
        Fault::LatencyAboveTimeout => ("0.3", "4s"),
        _ if waits => ("3", "2m"),
        _ => ("0.3", "2m"),
    };
    w.configure(&job_hcl(run_seconds, timeout, 1));
    w.tf.init();
    if case.phase != Phase::Create {
        let out = w.apply();
        assert_eq!(out.code, 0, "the clean create failed:\n{out}");
    }
    if case.phase == Phase::Update {
        w.configure(&job_hcl(run_seconds, timeout, 2));
    }
    let args: &[&str] = if case.phase == Phase::Destroy {
        &["destroy", "-auto-approve", "-input=false", "-no-color"]
    } else {
        &["apply", "-auto-approve", "-input=false", "-no-color"]
    };
    w.emulator.admin("DELETE", "requests", None);
    let (method, held) = case.held_request();
    let storm = |w: &World, action: Json| {
        for prefix in ["/api/v1/namespaces", "/apis/batch/v1/namespaces"] {
            let mut f = action.clone();
            f["pathPrefix"] = json!(prefix);
            w.add_fault(f);
        }
    };
    let hold = |w: &World| {
        w.add_fault(json!({"method": method, "pathPrefix": held, "action": "latency", "latencyMs": 600_000}));
    };
    let out = match case.fault {
        Fault::TooManyRequests { times, retry_after } => {
            storm(
                &w,
                json!({"action": "status", "code": 429, "retryAfterSeconds": retry_after, "times": times}),
            );
            w.run_while(args, |_, _| {})
        }
        Fault::Unavailable { times } => {
            storm(&w, json!({"action": "status", "code": 503, "times": times}));
            w.run_while(args, |_, _| {})
        }
        Fault::ConnectionReset { times } => {
            storm(&w, json!({"action": "reset", "times": times}));
            w.run_while(args, |_, _| {})
        }
        Fault::LatencyAboveTimeout => {
            hold(&w);
            w.run_while(args, |_, _| {})
        }
        Fault::ProviderKilled => {
            hold(&w);
            w.run_while(args, |w, terraform| {
                w.emulator
                    .arrived(json!({"method": method, "pathPrefix": held}));
                let pids = provider_pids(terraform);
                assert!(!pids.is_empty(), "no provider process under {terraform}");
                for pid in pids {
                    signal(pid, "-KILL");
                }
            })
        }
        Fault::Interrupted => {
            hold(&w);
            w.run_while(args, |w, terraform| {
                w.emulator
                    .arrived(json!({"method": method, "pathPrefix": held}));
                signal(terraform, "-INT");
            })
        }
        Fault::WatchGone | Fault::ApiServerRestart => {
            let restart = case.fault == Fault::ApiServerRestart;
            let mut history = None;
            let out = w.run_while(args, |w, _| {
                w.emulator.arrived(json!({
                    "pathPrefix": format!("/apis/batch/v1/namespaces/{NAMESPACE}/jobs"),
                    "watch": true,
                }));
                // The history up to now, then compacted: watches resumed
                // from before this point get 410 Gone.
                let (uids, _) = job_history(w, &w.history_from);
                w.emulator.admin("POST", "compact", None);
                history = Some((uids, w.jobs_resource_version()));
                if restart {
                    w.proxy.go_down();
                    // Back once the Job finished and the provider has been
                    // turned away at least once.
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while !(job_finished(w) && w.proxy.turned_away() > 0) {
                        assert!(Instant::now() < deadline, "the outage never ended");
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    w.proxy.come_back();
                } else {
                    w.proxy.sever();
                }
            });
            if let Some((uids, from)) = history {
                w.job_uids.extend(uids);
                w.history_from = from;
            }
            out
        }
    };
    w.clear_faults();
    w.proxy.come_back();
    let outcome = outcome(&out);
    let planned = plan_line(&out)
        .unwrap_or("none")
        .trim_end_matches('.')
        .to_string();

    // Converge.
    let (converged, converged_ok) = if case.phase == Phase::Destroy {
        let again = w.destroy();
        (
            format!("destroy {}", self::outcome(&again)),
            again.code == 0,
        )
    } else {
        let again = w.apply();
        if again.code == 0 {
            let plan =
                w.tf.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
            match plan.code {
                0 => ("apply succeeded, plan empty".to_string(), true),
                2 => ("apply succeeded, plan not empty".to_string(), false),
                _ => (
                    format!("apply succeeded, plan {}", self::outcome(&plan)),
                    false,
                ),
            }
        } else {
            (format!("apply {}", self::outcome(&again)), false)
        }
    };

    // Count.
    w.read_history();
    let live = w.settled_objects();
    let state = w.state_objects();
    let mut lost: Vec<String> = state
        .iter()
        .filter(|(k, uid)| live.get(*k) != Some(*uid))
        .map(|(k, _)| format!("{k} (in state, not live)"))
        .collect();
    // What a failed converge has not made yet is not lost.
    if case.phase != Phase::Destroy && converged_ok {
        lost.extend(
            declared()
                .into_iter()
                .filter(|k| !live.contains_key(k))
                .map(|k| format!("{k} (declared, not live)")),
        );
    }
    let untracked: Vec<String> = live
        .iter()
        .filter(|(k, uid)| state.get(*k) != Some(*uid))
        .map(|(k, _)| k.clone())
        .collect();
    let job_creations = w.job_uids.len();
    Row {
        fault: case.label(),
        phase: case.phase_label().to_string(),
        planned,
        outcome,
        converged,
        converged_ok,
        lost,
        duplicated: job_creations.saturating_sub(w.asked),
        untracked,
        job_creations,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The UIDs of the Jobs named [`JOB`] created since resourceVersion
/// `from`, and the resourceVersion read up to: a watch from `from`, which
/// the emulator ends after a second.
fn job_history(w: &World, from: &str) -> (Vec<String>, String) {
    let jobs = w.jobs();
    let from = from.to_string();
    w.emulator.block_on(async move {
        let mut uids = Vec::new();
        let mut last = from.clone();
        let stream = jobs
            .watch(&WatchParams::default().timeout(1), &from)
            .await
            .unwrap();
        futures::pin_mut!(stream);
        while let Some(event) = stream.next().await {
            match event.unwrap() {
                WatchEvent::Added(job) => {
                    last = job.metadata.resource_version.clone().unwrap_or(last);
                    if job.metadata.name.as_deref() == Some(JOB) {
                        uids.extend(job.metadata.uid);
                    }
                }
                WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                    last = o.metadata.resource_version.unwrap_or(last);
                }
                WatchEvent::Bookmark(b) => last = b.metadata.resource_version,
                WatchEvent::Error(e) => panic!("the Job history is gone: {e:?}"),
            }
        }
        (uids, last)
    })
}

/// Whether the Job has its Complete or Failed condition.
fn job_finished(w: &World) -> bool {
    w.emulator
        .block_on(w.jobs().get_opt(JOB))
        .ok()
        .flatten()
        .and_then(|j| j.status)
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .iter()
        .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
}

/// The cases known not to reach the goal, and what they do instead.
///
/// A provider killed during create never returns the new state, so the
/// resource instance identity its objects carry is in no state:
/// the next apply refuses them as another resource's, and the error names
/// the one step that recovers (`lifecycle::killed_apply_is_recovered`
/// takes it). Until a design tells them apart safely, they stay untracked.
fn known_exception(case: Case) -> Option<&'static str> {
    (case.fault == Fault::ProviderKilled && case.phase == Phase::Create)
        .then_some("Kubernetes Object Owned By Another Resource")
}

/// Whether `row` is what `case` is known to do: clean, or for a known
/// exception, a converging apply that fails with its error and leaves
/// nothing lost or duplicated.
fn as_expected(case: Case, row: &Row) -> bool {
    match known_exception(case) {
        None => row.clean(),
        Some(error) => {
            !row.converged_ok
                && row.converged.contains(error)
                && row.lost.is_empty()
                && row.duplicated == 0
        }
    }
}

/// Runs `case` and fails unless it reached the goal.
fn assert_clean(case: Case) {
    let row = run(case);
    eprintln!("fault matrix: {row}");
    assert!(row.clean(), "{row}");
}

// ---------------------------------------------------------------------------
// The short matrix (the test command)

#[test]
fn a_429_storm_during_create_loses_nothing() {
    assert_clean(Case {
        fault: Fault::TooManyRequests {
            times: 8,
            retry_after: 0,
        },
        phase: Phase::Create,
    });
}

#[test]
fn connection_resets_during_create_lose_nothing() {
    assert_clean(Case {
        fault: Fault::ConnectionReset { times: 4 },
        phase: Phase::Create,
    });
}

#[test]
fn a_watch_resumed_into_410_gone_loses_nothing() {
    assert_clean(Case {
        fault: Fault::WatchGone,
        phase: Phase::Create,
    });
}

#[test]
fn an_api_server_restart_mid_wait_loses_nothing() {
    assert_clean(Case {
        fault: Fault::ApiServerRestart,
        phase: Phase::Create,
    });
}

#[test]
fn a_provider_killed_during_update_loses_nothing() {
    assert_clean(Case {
        fault: Fault::ProviderKilled,
        phase: Phase::Update,
    });
}

#[test]
fn ctrl_c_during_destroy_loses_nothing() {
    assert_clean(Case {
        fault: Fault::Interrupted,
        phase: Phase::Destroy,
    });
}

// ---------------------------------------------------------------------------
// The full matrix (scripts/faults.sh)

/// Every case of [`matrix`], one after the other; one JSON line per case
/// to `$PLANTON_FAULTS_REPORT` (when set), and a failure listing the cases
/// that did not reach the goal.
#[test]
#[ignore = "the full fault matrix takes minutes; scripts/faults.sh runs it"]
fn full_fault_matrix_writes_its_figures() {
    let report = std::env::var_os("PLANTON_FAULTS_REPORT").map(std::path::PathBuf::from);
    let mut failed = Vec::new();
    for case in matrix() {
        let row = run(case);
        eprintln!("fault matrix: {row}");
        if let Some(path) = &report {
            use std::io::Write as _;
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            let mut line = row.json();
            line["known_exception"] = json!(known_exception(case));
            writeln!(file, "{line}").unwrap();
        }
        if !as_expected(case, &row) {
            failed.push(row.to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} cases did not do what they are known to do (0 lost, duplicated and untracked after a \
         converging run, or a known exception):\n{}",
        failed.len(),
        failed.join("\n")
    );
}
