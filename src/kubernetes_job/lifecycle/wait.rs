//! Waiting for a Job to finish: a watch on the Job (see
//! [`crate::kube::watch`]) judged by [`verdict`], a pure predicate over the
//! Job as the server returns it. Success is `Complete`, failure is `Failed`
//! whatever the reason, reported at once with what the failed pods say:
//! exit codes, waiting reasons and the tail of their logs. Only these
//! terminal conditions end a wait: Kubernetes 1.31+ first sets the interim
//! `SuccessCriteriaMet` or `FailureTarget` while pods are still being
//! counted (`status.succeeded` can still be 0 then), and a state recorded
//! at that point would differ from the next refresh.
//!
//! Like every request of an operation, the wait's are bounded by the
//! operation's budget (`kube/budget.rs`); the reports on the pods that
//! explain a timeout get [`REPORT_ALLOWANCE`] beyond it, no more, so that a
//! server that stopped answering still fails the apply in time.
//!
//! After an apply, [`after_apply`] waits for the Job it wrote and turns
//! the outcome (failed, deleted, timed out, interrupted, unwatchable) into
//! the diagnostics the user sees, with what to do next.

use std::fmt::Write as _;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::api::{ListParams, LogParams};
use kube::{Api, Client, ResourceExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::kube::ObjectRef;
use crate::kube::budget::Budget;
use crate::kube::errors;
use crate::kube::watch::{Seen, WatchError, watch_object};
use crate::kubernetes_job::render::CONTAINER_NAME;
use crate::tf::Diagnostics;

/// Lines of each failed pod's log shown in a failure.
pub const LOG_TAIL_LINES: i64 = 20;
/// Bytes of each failed pod's log shown in a failure, at most (the last
/// ones are kept).
pub const LOG_TAIL_BYTES: usize = 4096;
/// Bytes of one log line or termination message shown, at most.
pub const LINE_BYTES: usize = 512;
/// What a masked secret value reads as.
pub const MASK: &str = "(secret)";
/// Pods described in one failure, at most.
const MAX_PODS_REPORTED: usize = 5;
/// Time the reports on a Job's pods get after the operation's deadline.
pub const REPORT_ALLOWANCE: Duration = Duration::from_millis(500);

/// What a Job's state says about waiting for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It succeeded.
    Complete,
    /// It failed, for this reason.
    Failed {
        /// The condition's reason (`BackoffLimitExceeded`, ...).
        reason: String,
        /// The condition's message.
        message: String,
    },
    /// It is suspended: there is nothing to wait for.
    Suspended,
}

/// The verdict for a Job as the server returns it; `None` while running.
pub fn verdict(job: &Job) -> Option<Verdict> {
    let conditions = job
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let holds = |t: &str| {
        conditions
            .iter()
            .find(|c| c.type_ == t && c.status == "True")
    };
    if let Some(c) = holds("Failed") {
        return Some(Verdict::Failed {
            reason: c.reason.clone().unwrap_or_default(),
            message: c.message.clone().unwrap_or_default(),
        });
    }
    if holds("Complete").is_some() {
        return Some(Verdict::Complete);
    }
    if job.spec.as_ref().and_then(|s| s.suspend) == Some(true) {
        return Some(Verdict::Suspended);
    }
    None
}

/// What one pod says about why the Job is not succeeding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodReport {
    /// The pod's name.
    pub name: String,
    /// Its phase.
    pub phase: String,
    /// The container's problem: exit code and reason, or waiting reason.
    pub problem: String,
    /// The last lines of its log, or why they could not be read.
    pub log: Result<String, String>,
}

/// Why a wait ended without success.
#[derive(Debug)]
pub enum WaitError {
    /// The Job failed.
    Failed {
        /// Its last state.
        job: Box<Job>,
        /// The condition's reason.
        reason: String,
        /// The condition's message.
        message: String,
        /// The failed pods.
        pods: Vec<PodReport>,
    },
    /// The Job was deleted by someone else before it finished.
    Deleted {
        /// Its last state, when the watch carried it.
        last: Option<Box<Job>>,
    },
    /// The timeout passed.
    TimedOut {
        /// The Job's last state.
        job: Option<Box<Job>>,
        /// The pods that have problems.
        pods: Vec<PodReport>,
    },
    /// Terraform asked the provider to stop.
    Cancelled {
        /// The Job's last state.
        job: Option<Box<Job>>,
    },
    /// Watching failed.
    Watch(WatchError),
}

/// How a wait succeeded.
#[derive(Debug)]
pub enum Finished {
    /// The Job completed (its last state).
    Complete(Box<Job>),
    /// The Job is suspended; nothing was waited for.
    Suspended(Box<Job>),
    /// The Job was deleted right after finishing, as its TTL says; its
    /// outcome could not be read.
    ReapedByTtl,
}

/// Waits for `job` (as the apply returned it) to finish, until `deadline`
/// or `cancel`. A deletion is an error unless the Job had finished, or may
/// have (a TTL is set and the Job vanished before we could see it).
pub async fn wait_for_job(
    client: &Client,
    job: &Job,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<Finished, WaitError> {
    let namespace = job.namespace().unwrap_or_default();
    let name = job.name_any();
    let uid = job.uid();
    let has_ttl = job
        .spec
        .as_ref()
        .and_then(|s| s.ttl_seconds_after_finished)
        .is_some();
    let api: Api<Job> = Api::namespaced(client.clone(), &namespace);
    let mut last: Option<Job> = None;

    enum Ended {
        Done(Verdict, Box<Job>),
        Deleted(Option<Box<Job>>),
    }
    let outcome = watch_object(&api, &name, Some(job), deadline, cancel, |seen| {
        match seen {
            Seen::Exists(j) if uid.is_some() && j.uid() != uid => {
                // Same name, another object: ours was deleted.
                Some(Ended::Deleted(last.clone().map(Box::new)))
            }
            Seen::Exists(j) => {
                last = Some(j.clone());
                verdict(j).map(|v| Ended::Done(v, Box::new(j.clone())))
            }
            Seen::Deleted(Some(j)) => match verdict(j) {
                Some(v @ (Verdict::Complete | Verdict::Failed { .. })) => {
                    Some(Ended::Done(v, Box::new(j.clone())))
                }
                _ => Some(Ended::Deleted(Some(Box::new(j.clone())))),
            },
            Seen::Deleted(None) => Some(Ended::Deleted(last.clone().map(Box::new))),
        }
    })
    .await;

    match outcome {
        Ok(Ended::Done(Verdict::Complete, j)) => Ok(Finished::Complete(j)),
        Ok(Ended::Done(Verdict::Suspended, j)) => Ok(Finished::Suspended(j)),
        Ok(Ended::Done(Verdict::Failed { reason, message }, j)) => {
            let pods = reports_in_time(client, &j, true, deadline, cancel).await;
            Err(WaitError::Failed {
                job: j,
                reason,
                message,
                pods,
            })
        }
        Ok(Ended::Deleted(last)) if has_ttl => {
            // The TTL controller deletes only finished Jobs.
            match last.as_deref().and_then(verdict) {
                Some(Verdict::Failed { reason, message }) => Err(WaitError::Failed {
                    job: last.unwrap_or_default(),
                    reason,
                    message,
                    pods: Vec::new(),
                }),
                _ => Ok(Finished::ReapedByTtl),
            }
        }
        Ok(Ended::Deleted(last)) => Err(WaitError::Deleted { last }),
        Err(WatchError::TimedOut) => {
            let current = last.clone().unwrap_or_else(|| job.clone());
            let pods = reports_in_time(client, &current, false, deadline, cancel).await;
            Err(WaitError::TimedOut {
                job: Some(Box::new(current)),
                pods,
            })
        }
        Err(WatchError::Cancelled) => Err(WaitError::Cancelled {
            job: last.map(Box::new),
        }),
        Err(e) => Err(WaitError::Watch(e)),
    }
}

/// [`pod_reports`] within the operation's budget (or the wait's deadline),
/// stretched to leave at least [`REPORT_ALLOWANCE`].
async fn reports_in_time(
    client: &Client,
    job: &Job,
    with_logs: bool,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Vec<PodReport> {
    let budget = Budget::current().unwrap_or_else(|| {
        let left = deadline.saturating_duration_since(Instant::now());
        Budget::new("the wait's timeout", left, cancel.clone())
    });
    budget
        .at_least(REPORT_ALLOWANCE)
        .run(pod_reports(client, job, with_logs))
        .await
}

/// The label selector of the Job's pods: the UID its controller stamps on
/// them, or (for a Job not read from a server) its name.
pub fn pod_selector(job: &Job) -> String {
    match job.uid() {
        Some(uid) => format!("batch.kubernetes.io/controller-uid={uid}"),
        None => format!("batch.kubernetes.io/job-name={}", job.name_any()),
    }
}

/// Reports on the Job's pods that failed or are stuck (and, when
/// `with_logs`, or when a pod failed, the tail of their logs).
pub async fn pod_reports(client: &Client, job: &Job, with_logs: bool) -> Vec<PodReport> {
    let namespace = job.namespace().unwrap_or_default();
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let mut pods = match pods_api
        .list(&ListParams::default().labels(&pod_selector(job)))
        .await
    {
        Ok(list) => list.items,
        Err(e) => {
            // Say why the failure has no pod details (often a missing
            // `list pods` permission).
            return vec![PodReport {
                name: "(none)".to_string(),
                phase: "unknown".to_string(),
                problem: format!(
                    "the Job's pods could not be listed: {}",
                    crate::kube::errors::error_chain(&e)
                ),
                log: Err("not collected".to_string()),
            }];
        }
    };
    // Newest first: the last attempt says most.
    pods.sort_by(|a, b| {
        b.metadata
            .creation_timestamp
            .cmp(&a.metadata.creation_timestamp)
    });
    let mut reports = Vec::new();
    for pod in pods {
        if reports.len() >= MAX_PODS_REPORTED {
            break;
        }
        let Some((problem, failed, previous)) = pod_problem(&pod) else {
            continue;
        };
        let log = if with_logs || failed {
            pod_log(&pods_api, &pod.name_any(), previous).await
        } else {
            Err("not collected".to_string())
        };
        reports.push(PodReport {
            name: pod.name_any(),
            phase: pod
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".into()),
            problem,
            log,
        });
    }
    reports
}

/// What is wrong with a pod's container, whether it failed for good, and
/// whether the log to show is the previous container's; `None` when the
/// pod is fine (running, pending without a reason, or succeeded).
pub fn pod_problem(pod: &Pod) -> Option<(String, bool, bool)> {
    let status = pod.status.as_ref()?;
    let phase_failed = status.phase.as_deref() == Some("Failed");
    let container: Option<&ContainerStatus> = status
        .container_statuses
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|c| c.name == CONTAINER_NAME)
        .or_else(|| {
            status
                .container_statuses
                .as_deref()
                .unwrap_or_default()
                .first()
        });
    if let Some(c) = container {
        let state = c.state.clone().unwrap_or_default();
        if let Some(t) = &state.terminated
            && t.exit_code != 0
        {
            let mut s = format!("container {} exited with code {}", c.name, t.exit_code);
            if let Some(r) = &t.reason {
                let _ = write!(s, " ({r})");
            }
            if let Some(m) = t.message.as_deref().filter(|m| !m.is_empty()) {
                let _ = write!(s, ": {}", cut(m, LINE_BYTES));
            }
            return Some((s, true, false));
        }
        if let Some(w) = &state.waiting
            && let Some(reason) = w.reason.as_deref().filter(|r| *r != "ContainerCreating")
        {
            let mut s = format!("container {} is waiting: {reason}", c.name);
            if let Some(m) = w.message.as_deref().filter(|m| !m.is_empty()) {
                let _ = write!(s, " ({m})");
            }
            // Restarting after a failure (OnFailure): the last run's log.
            let previous = c
                .last_state
                .as_ref()
                .and_then(|l| l.terminated.as_ref())
                .is_some();
            if let Some(t) = c.last_state.as_ref().and_then(|l| l.terminated.as_ref()) {
                let _ = write!(s, "; its last run exited with code {}", t.exit_code);
                if let Some(r) = &t.reason {
                    let _ = write!(s, " ({r})");
                }
            }
            return Some((s, phase_failed, previous));
        }
    }
    if phase_failed {
        let reason = status.reason.clone().unwrap_or_else(|| "Failed".into());
        let mut s = format!("pod failed: {reason}");
        if let Some(m) = status.message.as_deref().filter(|m| !m.is_empty()) {
            let _ = write!(s, ": {m}");
        }
        return Some((s, true, false));
    }
    None
}

async fn pod_log(api: &Api<Pod>, name: &str, previous: bool) -> Result<String, String> {
    let params = LogParams {
        container: Some(CONTAINER_NAME.to_string()),
        tail_lines: Some(LOG_TAIL_LINES),
        previous,
        ..LogParams::default()
    };
    match api.logs(name, &params).await {
        Ok(text) => Ok(last_lines(&text, LOG_TAIL_LINES)),
        Err(e) => Err(crate::kube::errors::error_chain(&e)),
    }
}

/// The last `n` lines of `text` (a server may ignore `tailLines`), each
/// cut to [`LINE_BYTES`], and no more than [`LOG_TAIL_BYTES`] in all (the
/// earliest lines go first): a job may print anything, a 10 MB line
/// included.
pub fn last_lines(text: &str, n: i64) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let keep = usize::try_from(n).unwrap_or(0);
    let mut kept: Vec<String> = lines[lines.len().saturating_sub(keep)..]
        .iter()
        .map(|l| cut(l, LINE_BYTES))
        .collect();
    while kept.iter().map(|l| l.len() + 1).sum::<usize>() > LOG_TAIL_BYTES && kept.len() > 1 {
        kept.remove(0);
    }
    kept.join("\n")
}

/// `text` cut to at most `max` bytes (on a character boundary), saying how
/// much was left out.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} more bytes)", &text[..end], text.len() - end)
}

/// `text` with every occurrence of each of `secrets` replaced by [`MASK`].
/// Values shorter than 4 characters are left: masking them would hide
/// ordinary words and tell more than it hides.
pub fn mask(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    let mut secrets: Vec<&String> = secrets.iter().filter(|s| s.chars().count() >= 4).collect();
    // Longest first, so that a secret containing another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in secrets {
        out = out.replace(s.as_str(), MASK);
    }
    out
}

/// The pods' reports as text for a diagnostic.
pub fn describe_pods(pods: &[PodReport]) -> String {
    let mut s = String::new();
    for p in pods {
        let _ = write!(s, "\n\nPod {} ({}): {}.", p.name, p.phase, p.problem);
        match &p.log {
            Ok(log) if log.trim().is_empty() => s.push_str("\nIts log is empty."),
            Ok(log) => {
                let _ = write!(s, "\nLast lines of its log:");
                for line in log.lines() {
                    let _ = write!(s, "\n  | {line}");
                }
            }
            Err(why) if why == "not collected" => {}
            Err(why) => {
                let _ = write!(s, "\nIts log could not be read: {why}");
            }
        }
    }
    s
}

/// Whether the apply that waits created the Job or updated it: what a
/// failure advises differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A new Job.
    Create,
    /// A Job updated in place.
    Update,
}

impl Phase {
    /// The operation, as in `timeouts.<name>`.
    fn name(self) -> &'static str {
        match self {
            Phase::Create => "create",
            Phase::Update => "update",
        }
    }
}

/// Waits for the Job an apply has just written and reports how that went:
/// a Job updated in place that had already failed is not waited for (a
/// warning says how to run it again), a Job its TTL deleted before its
/// outcome was read is a warning, and a failed wait an error
/// (`wait_error`). Returns the Job's last state, when the wait read one.
pub async fn after_apply(
    client: &Client,
    applied: &Job,
    phase: Phase,
    deadline: Instant,
    cancel: &CancellationToken,
    d: &mut Diagnostics,
) -> Option<Job> {
    let already_failed =
        phase == Phase::Update && matches!(verdict(applied), Some(Verdict::Failed { .. }));
    if already_failed {
        d.warning(
            "Kubernetes Job Had Already Failed",
            format!(
                "The Job {} was updated in place, but it had already failed before this apply, and a failed \
                 Job does not run again. To run it again, change `rerun_triggers` or run `terraform apply \
                 -replace=<address>`.",
                describe(applied)
            ),
        );
        return None;
    }
    match wait_for_job(client, applied, deadline, cancel).await {
        Ok(Finished::Complete(j) | Finished::Suspended(j)) => Some(*j),
        Ok(Finished::ReapedByTtl) => {
            d.warning(
                "Kubernetes Job Deleted By Its TTL",
                format!(
                    "The Job {} was deleted by Kubernetes (spec.ttl_seconds_after_finished) before its \
                     outcome could be read. The TTL controller deletes only finished Jobs; check the Job's \
                     logs elsewhere if the outcome matters.",
                    describe(applied)
                ),
            );
            None
        }
        Err(e) => wait_error(e, applied, phase, d),
    }
}

/// `<namespace>/<name>` of a Job.
fn describe(job: &Job) -> String {
    format!(
        "{}/{}",
        job.metadata.namespace.as_deref().unwrap_or_default(),
        job.metadata.name.as_deref().unwrap_or_default()
    )
}

/// Turns a wait failure into diagnostics; returns the Job's last state.
fn wait_error(e: WaitError, applied: &Job, phase: Phase, d: &mut Diagnostics) -> Option<Job> {
    let rerun = match phase {
        Phase::Create => {
            "Terraform marks the resource as tainted, so the next `terraform apply` replaces the Job and runs it \
             again."
        }
        Phase::Update => {
            "To run it again, change `rerun_triggers` or run `terraform apply -replace=<address>`."
        }
    };
    let name = describe(applied);
    match e {
        WaitError::Failed {
            job,
            reason,
            message,
            pods,
        } => {
            let why = match (reason.is_empty(), message.is_empty()) {
                (false, false) => format!("{reason}: {message}"),
                (false, true) => reason,
                (true, false) => message,
                (true, true) => "no reason given".into(),
            };
            d.error(
                "Kubernetes Job Failed",
                format!(
                    "The Job {name} failed: {why}.{}\n\n{rerun}",
                    describe_pods(&pods)
                ),
            );
            Some(*job)
        }
        WaitError::Deleted { last } => {
            d.error(
                "Kubernetes Job Deleted During Apply",
                format!(
                    "The Job {name} was deleted by someone else while Terraform waited for it to finish, and no \
                     `spec.ttl_seconds_after_finished` explains it. Its outcome is unknown. {rerun}"
                ),
            );
            last.map(|j| *j)
        }
        WaitError::TimedOut { job, pods } => {
            let pods_text = if pods.is_empty() {
                String::new()
            } else {
                format!(
                    "\n\nPods that are not making progress:{}",
                    describe_pods(&pods)
                )
            };
            d.error(
                "Timed Out Waiting For Kubernetes Job",
                format!(
                    "The Job {name} did not finish within the {} timeout. It keeps running in the cluster.{pods_text}\
                     \n\nRaise `timeouts.{}`, set `wait_for_completion = false` to not wait, or find out why it is \
                     slow. {rerun}",
                    phase.name(),
                    phase.name(),
                ),
            );
            job.map(|j| *j)
        }
        WaitError::Cancelled { job } => {
            d.error(
                "Wait Interrupted",
                format!(
                    "Terraform asked the provider to stop while it waited for the Job {name}. The Job keeps \
                     running in the cluster. {rerun}"
                ),
            );
            job.map(|j| *j)
        }
        WaitError::Watch(e) => {
            let r = ObjectRef::of::<Job>(
                applied.metadata.namespace.as_deref().unwrap_or_default(),
                applied.metadata.name.as_deref().unwrap_or_default(),
            );
            let source = match &e {
                WatchError::InitialListFailed(k)
                | WatchError::WatchStartFailed(k)
                | WatchError::WatchFailed(k) => Some(k),
                _ => None,
            };
            match source {
                Some(k) => d.extend(errors::diagnostics("watching", &r, k, &errors::no_fields)),
                None => d.error(
                    "Watching Kubernetes Job Failed",
                    format!("While watching {r}: {e}. {rerun}"),
                ),
            }
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A job's secret in its own log or last words is masked, and a huge
    /// line is cut: what reaches Terraform's output is bounded.
    #[test]
    fn logs_are_bounded_and_secrets_masked() {
        let secrets = vec!["hunter2-secret".to_string(), "ab".to_string()];
        assert_eq!(
            mask("connecting with hunter2-secret to ab", &secrets),
            "connecting with (secret) to ab"
        );
        let huge = "x".repeat(10 * 1024 * 1024);
        let text = format!("start\n{huge}\nend");
        let tail = last_lines(&text, LOG_TAIL_LINES);
        assert!(tail.len() <= LOG_TAIL_BYTES, "{}", tail.len());
        assert!(tail.ends_with("end"), "the last line is kept");
        assert!(tail.contains("more bytes"));
        let many: String = (0..200)
            .map(|i| format!("line {i} {}\n", "y".repeat(400)))
            .collect();
        let tail = last_lines(&many, LOG_TAIL_LINES);
        assert!(tail.len() <= LOG_TAIL_BYTES);
        assert!(tail.contains("line 199"));
        assert_eq!(cut("héllo", 2), "h... (5 more bytes)");
    }

    fn job(status: serde_json::Value, suspend: bool) -> Job {
        serde_json::from_value(json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "x", "namespace": "batch", "uid": "u"},
            "spec": {"suspend": suspend, "template": {"spec": {"containers": []}}},
            "status": status
        }))
        .unwrap()
    }

    /// The predicate on Jobs shaped as the server returns them.
    #[test]
    fn verdicts() {
        assert_eq!(verdict(&job(json!({"active": 1}), false)), None);
        assert_eq!(
            verdict(&job(
                json!({"conditions": [{"type": "Complete", "status": "True"}]}),
                false
            )),
            Some(Verdict::Complete)
        );
        // The interim conditions of Kubernetes 1.31+ are not the end yet:
        // the pods are still being counted.
        assert_eq!(
            verdict(&job(
                json!({"succeeded": 0, "uncountedTerminatedPods": {"succeeded": ["u1"]},
                       "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}]}),
                false
            )),
            None
        );
        assert_eq!(
            verdict(&job(
                json!({"conditions": [{"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}),
                false
            )),
            None
        );
        assert_eq!(
            verdict(&job(
                json!({"conditions": [
                    {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded"},
                    {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}
                ]}),
                false
            )),
            Some(Verdict::Failed {
                reason: "BackoffLimitExceeded".into(),
                message: "Job has reached the specified backoff limit".into()
            })
        );
        assert_eq!(
            verdict(&job(
                json!({"conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]}),
                false
            )),
            Some(Verdict::Failed {
                reason: "DeadlineExceeded".into(),
                message: String::new()
            })
        );
        assert_eq!(
            verdict(&job(
                json!({"conditions": [{"type": "Complete", "status": "False"}]}),
                false
            )),
            None
        );
        assert_eq!(
            verdict(&job(
                json!({"conditions": [{"type": "Suspended", "status": "True"}]}),
                true
            )),
            Some(Verdict::Suspended)
        );
    }

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x-abc"},
            "status": status
        }))
        .unwrap()
    }

    /// Exit codes, OOMKilled and waiting reasons are read from pod status.
    #[test]
    fn pod_problems() {
        let failed = pod(json!({"phase": "Failed", "containerStatuses": [{
            "name": "job-container", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 3, "reason": "Error"}}
        }]}));
        assert_eq!(
            pod_problem(&failed),
            Some((
                "container job-container exited with code 3 (Error)".into(),
                true,
                false
            ))
        );
        let oom = pod(json!({"phase": "Failed", "containerStatuses": [{
            "name": "job-container", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
        }]}));
        assert!(pod_problem(&oom).unwrap().0.contains("137 (OOMKilled)"));
        let pull = pod(json!({"phase": "Pending", "containerStatuses": [{
            "name": "job-container", "image": "nope", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"nope\""}}
        }]}));
        let (text, failed_for_good, _) = pod_problem(&pull).unwrap();
        assert!(text.contains("waiting: ImagePullBackOff"), "{text}");
        assert!(!failed_for_good);
        let running = pod(json!({"phase": "Running", "containerStatuses": [{
            "name": "job-container", "image": "busybox", "imageID": "", "ready": true, "restartCount": 0,
            "state": {"running": {}}
        }]}));
        assert_eq!(pod_problem(&running), None);
    }

    /// Log tails keep the last lines.
    #[test]
    fn log_tail() {
        let text: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let tail = last_lines(&text, 20);
        assert!(tail.starts_with("line 11"));
        assert!(tail.ends_with("line 30"));
    }
}
