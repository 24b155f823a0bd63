//! Create and update: server-side apply of the rendered objects in
//! dependency order, then (optionally) waiting for the Job.
//!
//! Every object is recorded in the returned state as soon as the server
//! has it, so an apply that fails halfway returns the objects it made with
//! its errors: Terraform keeps them (a failed create is tainted and
//! replaced next time), and destroy removes them. Objects that already
//! exist are adopted only when they carry this Job's `planton.ai/*` labels
//! (an earlier apply that was interrupted made them); anything else is left
//! alone and the apply fails, saying how to resolve it.

use std::collections::BTreeSet;

use futures::future::join_all;
use k8s_openapi::api::batch::v1::Job;
use kube::Client;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::adopt::Adopted;
use super::buckets::classify;
use super::cluster::{self, GetError, Live};
use super::options::Options;
use super::render::{self, Object, Rendered, is_owned_by};
use super::spec::KubernetesJob;
use super::state::{self, Private, Tracked};
use super::wait::{self, Finished, WaitError};
use crate::kube::ObjectRef;
use crate::kube::errors;
use crate::tf::resource::ApplyResponse;
use crate::tf::{Diagnostics, Value};

/// Whether this apply creates the resource or updates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Create,
    Update,
}

/// Creates the resource from `planned`.
pub async fn create(client: &Client, planned: Value, cancel: &CancellationToken) -> ApplyResponse {
    let started = Instant::now();
    let mut d = Diagnostics::new();
    let Some((model, options, rendered)) = prepare(&planned, &mut d) else {
        return failed(Value::Null, d);
    };
    let objects = rendered.objects();
    let refs: Vec<ObjectRef> = objects.iter().map(Object::object_ref).collect();
    let job_name = rendered.job.metadata.name.clone().unwrap_or_default();
    if !check_ownership(client, &refs, &job_name, &mut d).await {
        return failed(Value::Null, d);
    }
    let mut tracked = Vec::new();
    let job = apply_all(client, &rendered, &objects, &mut tracked, cancel, &mut d).await;
    let timeout = options.create_timeout(
        model
            .spec
            .known()
            .and_then(|s| s.active_deadline_seconds.known()),
    );
    finish(
        client,
        planned,
        Phase::Create,
        &options,
        tracked,
        job,
        started + timeout,
        cancel,
        d,
    )
    .await
}

/// Updates the resource from `prior` to `planned` in place (the plan has
/// ruled out anything that needs replacement).
pub async fn update(
    client: &Client,
    prior: &Value,
    planned: Value,
    private: &Private,
    cancel: &CancellationToken,
) -> ApplyResponse {
    update_adopted(client, prior, planned, private, None, cancel).await
}

/// [`update`] for a Job that import adopted from another tool
/// ([`super::adopt`]): `adopted` puts back what the spec cannot express
/// before anything is applied, and leaves out objects the Job does not use.
pub async fn update_adopted(
    client: &Client,
    prior: &Value,
    planned: Value,
    private: &Private,
    adopted: Option<&Adopted>,
    cancel: &CancellationToken,
) -> ApplyResponse {
    let started = Instant::now();
    let mut d = Diagnostics::new();
    let changes = classify(prior, &planned);
    let drifted = !prior
        .get("drift")
        .as_elements()
        .unwrap_or_default()
        .is_empty();
    let prior_tracked = state::objects_from_value(prior.get("objects"));
    if !changes.in_place && !drifted && private.missing.is_empty() {
        // Nothing in the cluster changes.
        let mut new_state = planned;
        state::set(&mut new_state, "objects", prior.get("objects").clone());
        state::set(&mut new_state, "status", prior.get("status").clone());
        state::set(&mut new_state, "drift", Value::List(Vec::new()));
        return ApplyResponse {
            new_state: state::unknown_as_null(new_state),
            ..ApplyResponse::default()
        };
    }
    let Some((model, options, mut rendered)) = prepare(&planned, &mut d) else {
        return failed(prior.clone(), d);
    };
    if let Some(a) = adopted {
        a.restore(&mut rendered);
    }
    let job_name = rendered.job.metadata.name.clone().unwrap_or_default();
    let mut objects = rendered.objects();
    if let Some(a) = adopted {
        objects.retain(|o| a.manages(o));
    }
    // A Job its TTL deleted stays deleted; the other objects are updated.
    if private.job_reaped {
        objects.retain(|o| !matches!(o, Object::Job(_)));
    }
    // Objects not applied before (or gone since) must not belong to anyone
    // else.
    let known: BTreeSet<&ObjectRef> = prior_tracked
        .iter()
        .map(|t| &t.object)
        .filter(|r| !private.is_missing(r))
        .collect();
    let new_refs: Vec<ObjectRef> = objects
        .iter()
        .map(Object::object_ref)
        .filter(|r| !known.contains(r))
        .collect();
    if !check_ownership(client, &new_refs, &job_name, &mut d).await {
        return failed(prior.clone(), d);
    }
    let mut tracked = Vec::new();
    let job = apply_all(client, &rendered, &objects, &mut tracked, cancel, &mut d).await;
    // Objects still wanted but not applied (a failure stopped the apply, or
    // the Job is reaped) keep their entries; a released namespace does not.
    let wanted = rendered.refs();
    for t in &prior_tracked {
        if wanted.contains(&t.object) && !tracked.iter().any(|n| n.object == t.object) {
            tracked.push(t.clone());
        }
    }
    tracked.sort_by_key(|t| {
        wanted
            .iter()
            .position(|r| *r == t.object)
            .unwrap_or(usize::MAX)
    });
    // When not every object could be applied, the state keeps the prior
    // values, so that the next plan shows the change again.
    let planned = if d.has_error() {
        let mut keep = prior.clone();
        state::set(&mut keep, "drift", prior.get("drift").clone());
        keep
    } else {
        planned
    };
    let timeout = options.update_timeout(
        model
            .spec
            .known()
            .and_then(|s| s.active_deadline_seconds.known()),
    );
    let mut resp = finish(
        client,
        planned,
        Phase::Update,
        &options,
        tracked,
        job,
        started + timeout,
        cancel,
        d,
    )
    .await;
    if private.job_reaped {
        state::set(&mut resp.new_state, "status", prior.get("status").clone());
    }
    resp
}

/// Reads the model and options and renders; a failure here is a bug (the
/// plan only lets known, valid values through).
fn prepare(planned: &Value, d: &mut Diagnostics) -> Option<(KubernetesJob, Options, Rendered)> {
    let model = match KubernetesJob::from_value(planned) {
        Ok(m) => m,
        Err(e) => {
            d.error(
                "Unexpected Planned State",
                format!(
                    "While reading the planned state: {e}. This is a bug in the provider; please report it \
                     with TF_LOG=debug output."
                ),
            );
            return None;
        }
    };
    let options = Options::from_value(planned);
    match render::render(&model, &options) {
        Ok(r) => Some((model, options, r)),
        Err(e) => {
            d.attribute_error(
                e.path.clone(),
                "Value Not Known At Apply",
                format!(
                    "While rendering the Kubernetes objects, {e}. Terraform resolves every value before it \
                     applies, so this is a bug in the provider; please report it with TF_LOG=debug output."
                ),
            );
            None
        }
    }
}

/// Checks that none of `refs` exists unless it is labelled as this Job's.
/// Reads them all at once. Returns false (with diagnostics) otherwise.
async fn check_ownership(
    client: &Client,
    refs: &[ObjectRef],
    job_name: &str,
    d: &mut Diagnostics,
) -> bool {
    let found = join_all(refs.iter().map(|r| cluster::get(client, r))).await;
    let mut ok = true;
    for (r, result) in refs.iter().zip(found) {
        match result {
            Ok(None) => {}
            Ok(Some(live)) if is_owned_by(live.metadata().labels.as_ref(), job_name) => {
                tracing::info!(object = %r, "Adopting an object an earlier apply of this job created");
            }
            Ok(Some(_)) => {
                ok = false;
                d.error(
                    "Kubernetes Object Not Managed By This Resource",
                    not_ours(r, job_name),
                );
            }
            Err(GetError::Api(e)) => {
                ok = false;
                d.extend(errors::diagnostics("reading", r, &e, &errors::no_fields));
            }
            Err(GetError::Kind(e)) => {
                ok = false;
                d.error("Unexpected Object Kind", e.to_string());
            }
        }
    }
    ok
}

fn not_ours(r: &ObjectRef, job_name: &str) -> String {
    let what = format!(
        "{r} already exists, and it was not created by this resource: it lacks the labels \
         {}=true, {}={} and {}={job_name}. The provider never takes over objects it did not create.",
        render::LABEL_RESOURCE,
        render::LABEL_KIND,
        render::KIND,
        render::LABEL_NAME,
    );
    let fix = match r.kind.as_str() {
        "Namespace" => format!(
            "To run the Job in this existing namespace, set `spec.create_namespace = false`. To let this resource \
             manage the namespace instead, delete it first (`kubectl delete namespace {}`), which deletes \
             everything in it.",
            r.name
        ),
        "Job" => format!(
            "Choose another `metadata.name`, or remove the existing Job (`kubectl delete job -n {} {} \
             --cascade=foreground`) and apply again. To manage the existing Job with Terraform instead, \
             import it (`terraform import <address> {}/{}`, or an `import` block).",
            r.namespace, r.name, r.namespace, r.name
        ),
        "ConfigMap" => format!(
            "Rename the `spec.config_maps` entry, or remove the existing ConfigMap (`kubectl delete configmap -n {} \
             {}`) and apply again.",
            r.namespace, r.name
        ),
        kind => format!(
            "Choose another `metadata.name`, or remove the existing {kind} (`kubectl delete {} -n {} {}`) and apply \
             again.",
            kind.to_lowercase(),
            r.namespace,
            r.name
        ),
    };
    format!("{what} {fix}")
}

/// Applies `objects` in order: the Namespace, then the ServiceAccount,
/// Secrets and ConfigMaps together, then the Job. Records each object as it
/// lands; stops at the first failure. Returns the Job as applied.
async fn apply_all(
    client: &Client,
    rendered: &Rendered,
    objects: &[Object],
    tracked: &mut Vec<Tracked>,
    cancel: &CancellationToken,
    d: &mut Diagnostics,
) -> Option<Job> {
    let (namespace, rest): (Vec<&Object>, Vec<&Object>) = objects
        .iter()
        .partition(|o| matches!(o, Object::Namespace(_)));
    let (jobs, middle): (Vec<&Object>, Vec<&Object>) =
        rest.into_iter().partition(|o| matches!(o, Object::Job(_)));
    let mut job = None;
    for group in [namespace, middle, jobs] {
        if group.is_empty() {
            continue;
        }
        if cancel.is_cancelled() {
            d.error(
                "Apply Interrupted",
                "Terraform asked the provider to stop before every object was applied. The objects applied so \
                 far are recorded in state; run `terraform apply` again to finish.",
            );
            return None;
        }
        let results = join_all(group.iter().map(|o| cluster::apply(client, o))).await;
        let mut failed = false;
        for (object, result) in group.iter().zip(results) {
            let r = object.object_ref();
            match result {
                Ok(live) => {
                    tracked.push(Tracked {
                        object: r,
                        uid: live.uid(),
                    });
                    if let Live::Job(j) = live {
                        job = Some(*j);
                    }
                }
                Err(e) => {
                    failed = true;
                    let fields = |field: &str| rendered.attribute_for(&r, field);
                    d.extend(errors::diagnostics("applying", &r, &e, &fields));
                }
            }
        }
        if failed {
            return None;
        }
    }
    job
}

/// Waits when asked to, then builds the new state.
#[allow(clippy::too_many_arguments)]
async fn finish(
    client: &Client,
    planned: Value,
    phase: Phase,
    options: &Options,
    tracked: Vec<Tracked>,
    job: Option<Job>,
    deadline: Instant,
    cancel: &CancellationToken,
    mut d: Diagnostics,
) -> ApplyResponse {
    let mut status_job = job.clone();
    if let Some(applied) = job
        .as_ref()
        .filter(|_| options.wait_for_completion && !d.has_error())
    {
        let already_failed = phase == Phase::Update
            && matches!(wait::verdict(applied), Some(wait::Verdict::Failed { .. }));
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
        } else {
            match wait::wait_for_job(client, applied, deadline, cancel).await {
                Ok(Finished::Complete(j) | Finished::Suspended(j)) => status_job = Some(*j),
                Ok(Finished::ReapedByTtl) => d.warning(
                    "Kubernetes Job Deleted By Its TTL",
                    format!(
                        "The Job {} was deleted by Kubernetes (spec.ttl_seconds_after_finished) before its \
                         outcome could be read. The TTL controller deletes only finished Jobs; check the Job's \
                         logs elsewhere if the outcome matters.",
                        describe(applied)
                    ),
                ),
                Err(e) => {
                    if let Some(j) = wait_error(e, applied, phase, &mut d) {
                        status_job = Some(j);
                    }
                }
            }
        }
    }
    let mut new_state = planned;
    if let (Some(ns), Some(name)) = (
        new_state.get("spec").get("namespace").get("value").as_str(),
        new_state.get("metadata").get("name").as_str(),
    ) {
        let id = Value::string(format!("{ns}/{name}"));
        state::set(&mut new_state, "id", id);
    }
    state::set(&mut new_state, "objects", state::objects_value(&tracked));
    if let Some(j) = &status_job {
        state::set(&mut new_state, "status", state::status_value(j));
    }
    if tracked.is_empty() && phase == Phase::Create {
        return failed(Value::Null, d);
    }
    ApplyResponse {
        new_state: state::unknown_as_null(new_state),
        private: Vec::new(),
        diagnostics: d,
    }
}

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
                    wait::describe_pods(&pods)
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
                    wait::describe_pods(&pods)
                )
            };
            d.error(
                "Timed Out Waiting For Kubernetes Job",
                format!(
                    "The Job {name} did not finish within the {} timeout. It keeps running in the cluster.{pods_text}\
                     \n\nRaise `timeouts.{}`, set `wait_for_completion = false` to not wait, or find out why it is \
                     slow. {rerun}",
                    match phase {
                        Phase::Create => "create",
                        Phase::Update => "update",
                    },
                    match phase {
                        Phase::Create => "create",
                        Phase::Update => "update",
                    },
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
                crate::kube::watch::WatchError::InitialListFailed(k)
                | crate::kube::watch::WatchError::WatchStartFailed(k)
                | crate::kube::watch::WatchError::WatchFailed(k) => Some(k),
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

/// An error answer that keeps `state`.
fn failed(state: Value, d: Diagnostics) -> ApplyResponse {
    ApplyResponse {
        new_state: state,
        private: Vec::new(),
        diagnostics: d,
    }
}
