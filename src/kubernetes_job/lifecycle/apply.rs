//! Create and update: server-side apply of the rendered objects in
//! dependency order, then (optionally) waiting for the Job.
//!
//! Every object is recorded in the returned state as soon as the server
//! has it, so an apply that fails halfway returns the objects it made with
//! its errors: Terraform keeps them (a failed create is tainted and
//! replaced next time), and destroy removes them.
//!
//! Ownership ([`crate::kubernetes_job::model::ownership`]): a tracked object is applied with its
//! recorded UID in the body, so only that object is changed; a new object
//! is created (never overwritten). An object that exists but is not this
//! instance's is left alone and the apply fails, saying whose it is and how
//! to resolve it; the objects this apply created before it found out are
//! removed again, so that nothing is half made.

use futures::future::join_all;
use k8s_openapi::api::batch::v1::Job;
use kube::Client;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::kube::ObjectRef;
use crate::kube::apply::FIELD_MANAGER;
use crate::kube::errors;
use crate::kubernetes_job::adopt::kept::Adopted;
use crate::kubernetes_job::cluster::{self, GetError, Live};
use crate::kubernetes_job::lifecycle::buckets::{classify, touches_cluster, wanted_objects};
use crate::kubernetes_job::lifecycle::wait::{self, Phase};
use crate::kubernetes_job::model::attr;
use crate::kubernetes_job::model::options::Options;
use crate::kubernetes_job::model::ownership::{self, Instance};
use crate::kubernetes_job::model::spec::KubernetesJob;
use crate::kubernetes_job::model::state::{self, Private, Tracked};
use crate::kubernetes_job::model::write_only::WriteOnly;
use crate::kubernetes_job::render::{self, Object, Prepared, Rendered, is_owned_by};
use crate::tf::resource::ApplyResponse;
use crate::tf::{Diagnostics, Value};

/// Creates the resource from `planned`.
pub async fn create(
    client: &Client,
    planned: Value,
    wo: &WriteOnly,
    cancel: &CancellationToken,
) -> ApplyResponse {
    let started = Instant::now();
    let mut d = Diagnostics::new();
    let Some(prepared) = prepare(&planned, &mut d) else {
        return failed(Value::Null, d);
    };
    let (model, options, mut rendered) = (prepared.model, prepared.options, prepared.rendered);
    let instance = Instance::generate();
    rendered.add_write_only(wo);
    rendered.stamp(&instance);
    let secrets = secret_values(&rendered);
    let objects = rendered.objects();
    let mut tracked = Vec::new();
    let owner = Owner {
        instance: &instance,
        tracked: &[],
        lost: &[],
    };
    let job = apply_all(
        client,
        &rendered,
        &objects,
        &owner,
        &mut tracked,
        cancel,
        &mut d,
    )
    .await;
    let ending = Ending::of(client, Phase::Create, &options, &model, started, cancel);
    let mut resp = finish(ending, planned, tracked, job, d).await;
    if !resp.new_state.is_null() {
        resp.private = instance.merge_into(resp.private);
    }
    resp.diagnostics = masked(resp.diagnostics, &secrets);
    resp
}

/// The values of the job's own env secrets (literal and write-only): what
/// a failing job's log or last words must not show.
fn secret_values(rendered: &Rendered) -> Vec<String> {
    rendered
        .env_secret
        .iter()
        .flat_map(|s| s.data.iter().flatten())
        .map(|(_, v)| String::from_utf8_lossy(&v.0).into_owned())
        .collect()
}

/// Every diagnostic with the job's secret values masked ([`wait::mask`]).
fn masked(d: Diagnostics, secrets: &[String]) -> Diagnostics {
    Diagnostics(
        d.0.into_iter()
            .map(|mut diag| {
                diag.summary = wait::mask(&diag.summary, secrets);
                diag.detail = wait::mask(&diag.detail, secrets);
                diag
            })
            .collect(),
    )
}

/// What an update knows besides the prior and planned states: what the
/// private state carries, and the write-only values of the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Carried<'a> {
    /// What the last refresh learned.
    pub private: &'a Private,
    /// The resource instance's identity; a state written before identities
    /// existed gets one now (its objects are proven this resource's by
    /// their recorded UIDs).
    pub instance: Option<&'a Instance>,
    /// For a Job that import adopted from another tool ([`crate::kubernetes_job::adopt::kept`]):
    /// what its spec cannot express, put back before anything is applied;
    /// objects the Job does not use are left out.
    pub adopted: Option<&'a Adopted>,
    /// The configuration's write-only values.
    pub wo: &'a WriteOnly,
}

/// Updates the resource from `prior` to `planned` in place (the plan has
/// ruled out anything that needs replacement). The response's private
/// state carries the instance.
pub async fn update(
    client: &Client,
    prior: &Value,
    planned: Value,
    carried: Carried<'_>,
    cancel: &CancellationToken,
) -> ApplyResponse {
    let instance = carried.instance.cloned().unwrap_or_else(Instance::generate);
    let mut resp = update_as(client, prior, planned, &instance, carried, cancel).await;
    resp.private = instance.merge_into(resp.private);
    resp
}

async fn update_as(
    client: &Client,
    prior: &Value,
    planned: Value,
    instance: &Instance,
    carried: Carried<'_>,
    cancel: &CancellationToken,
) -> ApplyResponse {
    let Carried {
        private,
        adopted,
        wo,
        ..
    } = carried;
    let started = Instant::now();
    let mut d = Diagnostics::new();
    let changes = classify(prior, &planned);
    let prior_tracked = state::objects_from_value(prior.get(attr::OBJECTS));
    // Objects the spec wants that the state does not track (a destroy that
    // stopped halfway) are created again, even when no attribute changed.
    let untracked = wanted_objects(&planned, wo, adopted).is_some_and(|refs| {
        refs.iter()
            .any(|r| !prior_tracked.iter().any(|t| &t.object == r))
    });
    if !touches_cluster(&changes, prior, private, untracked) {
        // Nothing in the cluster changes.
        let mut new_state = planned;
        state::set(
            &mut new_state,
            attr::OBJECTS,
            prior.get(attr::OBJECTS).clone(),
        );
        state::set(
            &mut new_state,
            attr::STATUS,
            prior.get(attr::STATUS).clone(),
        );
        state::set(&mut new_state, attr::DRIFT, Value::List(Vec::new()));
        return ApplyResponse {
            new_state: state::unknown_as_null(new_state),
            ..ApplyResponse::default()
        };
    }
    let Some(prepared) = prepare(&planned, &mut d) else {
        return failed(prior.clone(), d);
    };
    let (model, options, mut rendered) = (prepared.model, prepared.options, prepared.rendered);
    if let Some(a) = adopted {
        // The live Job's own template, which private state keeps only in
        // hashed form.
        let job_ref = rendered
            .objects()
            .iter()
            .map(Object::object_ref)
            .find(|r| r.kind == "Job");
        let live = match job_ref {
            Some(r) => match cluster::get(client, &r).await {
                Ok(Some(Live::Job(j))) => Some(*j),
                Ok(_) => None,
                Err(GetError::Api(e)) => {
                    d.extend(errors::diagnostics("reading", &r, &e, &errors::no_fields));
                    return failed(prior.clone(), d);
                }
                Err(GetError::Kind(_)) => None,
            },
            None => None,
        };
        if !a.restore(&mut rendered, live.as_ref()) {
            d.error(
                "Adopted Job Changed Outside Terraform",
                format!(
                    "The pod template of the Job {} is no longer the one it had when it was imported, so an \
                     in-place update would apply an old template over it. Import it again (`terraform state rm`, \
                     then `terraform import`) or replace it (`terraform apply -replace=<address>`).",
                    rendered.job.metadata.name.clone().unwrap_or_default()
                ),
            );
            return failed(prior.clone(), d);
        }
    }
    rendered.add_write_only(wo);
    rendered.stamp(instance);
    let secrets = secret_values(&rendered);
    let mut objects = rendered.objects();
    if let Some(a) = adopted {
        objects.retain(|o| a.manages(o));
    }
    // A Job its TTL deleted stays deleted; the other objects are updated.
    if private.job_reaped {
        objects.retain(|o| !matches!(o, Object::Job(_)));
    }
    // Tracked objects are applied by UID; objects found missing (deleted,
    // or replaced by someone else's) are created again, and one of the same
    // name that exists now is not ours.
    let live_tracked: Vec<Tracked> = prior_tracked
        .iter()
        .filter(|t| !private.is_missing(&t.object))
        .cloned()
        .collect();
    let lost: Vec<ObjectRef> = prior_tracked
        .iter()
        .map(|t| t.object.clone())
        .filter(|r| private.is_missing(r))
        .collect();
    let owner = Owner {
        instance,
        tracked: &live_tracked,
        lost: &lost,
    };
    let mut tracked = Vec::new();
    let job = apply_all(
        client,
        &rendered,
        &objects,
        &owner,
        &mut tracked,
        cancel,
        &mut d,
    )
    .await;
    // Objects still wanted but not applied (a failure stopped the apply, or
    // the Job is reaped) keep their entries; a released namespace does not,
    // and this job's claim on it goes, so that it never holds the namespace
    // for others (the namespace itself is kept).
    let wanted = rendered.refs();
    if !d.has_error() {
        for t in prior_tracked
            .iter()
            .filter(|t| t.object.kind == "Namespace" && !wanted.contains(&t.object))
        {
            if let Err(e) = cluster::release_namespace(
                client,
                &t.object.name,
                &t.uid,
                &instance.namespace_manager(),
            )
            .await
            {
                d.extend(errors::diagnostics(
                    "releasing",
                    &t.object,
                    &e,
                    &errors::no_fields,
                ));
            }
        }
    }
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
        state::set(&mut keep, attr::DRIFT, prior.get(attr::DRIFT).clone());
        keep
    } else {
        planned
    };
    let ending = Ending::of(client, Phase::Update, &options, &model, started, cancel);
    let mut resp = finish(ending, planned, tracked, job, d).await;
    if private.job_reaped {
        state::set(
            &mut resp.new_state,
            attr::STATUS,
            prior.get(attr::STATUS).clone(),
        );
    }
    resp.diagnostics = masked(resp.diagnostics, &secrets);
    resp
}

/// Reads and renders the plan ([`render::from_value`]); a failure is a
/// bug, reported as one (the plan only lets known, valid values through).
fn prepare(planned: &Value, d: &mut Diagnostics) -> Option<Prepared> {
    render::from_value(planned)
        .map_err(|e| e.report("the planned state", "Planned State", d))
        .ok()
}

/// Who this apply writes as: the instance, the objects its state tracks
/// (by UID), and which objects were tracked but found missing.
struct Owner<'a> {
    instance: &'a Instance,
    tracked: &'a [Tracked],
    lost: &'a [ObjectRef],
}

/// One object written.
struct Written {
    live: Live,
    /// This apply created it (so a failure later may remove it again).
    created: bool,
    /// This apply joined a namespace another job created (so a failure
    /// later withdraws the claim again).
    joined: bool,
    /// The fields another field manager had changed, which this apply took
    /// back (the server's conflict message).
    took_over: Option<String>,
}

/// Why an object could not be written.
enum WriteError {
    /// The API call failed.
    Api(kube::Error),
    /// It exists and is not this instance's: the summary and detail.
    NotOurs(&'static str, String),
}

/// Writes one object as [`Owner`] says (module docs).
async fn write(
    client: &Client,
    object: &Object,
    owner: &Owner<'_>,
    job_name: &str,
) -> Result<Written, WriteError> {
    let r = object.object_ref();
    let namespace = matches!(object, Object::Namespace(_));
    let manager = if namespace {
        owner.instance.namespace_manager()
    } else {
        FIELD_MANAGER.to_string()
    };
    if let Some(t) = owner
        .tracked
        .iter()
        .find(|t| t.object == r && !t.uid.is_empty())
    {
        let (live, took_over) = cluster::apply_owned(client, object, &t.uid, &manager, !namespace)
            .await
            .map_err(|e| match lost_since_read(&e) {
                true => WriteError::NotOurs(
                    "Kubernetes Object Replaced Outside Terraform",
                    replaced(&r),
                ),
                false => WriteError::Api(e),
            })?;
        return Ok(Written {
            live,
            created: false,
            joined: false,
            took_over,
        });
    }
    match cluster::create(client, object, &manager).await {
        Ok(live) => Ok(Written {
            live,
            created: true,
            joined: false,
            took_over: None,
        }),
        Err(e) if is_already_exists(&e) => {
            let live = match cluster::get(client, &r).await {
                Ok(Some(live)) => live,
                Ok(None) => return Err(WriteError::Api(e)),
                Err(GetError::Api(e)) => return Err(WriteError::Api(e)),
                Err(GetError::Kind(k)) => {
                    return Err(WriteError::NotOurs("Unexpected Object Kind", k.to_string()));
                }
            };
            let labels = live.metadata().labels.as_ref();
            let lost = owner.lost.contains(&r);
            let planton_namespace = namespace
                && labels.is_some_and(|l| {
                    l.get(render::LABEL_RESOURCE).map(String::as_str) == Some("true")
                        && l.get(render::LABEL_KIND).map(String::as_str) == Some(render::KIND)
                });
            let own_leftover = !lost
                && is_owned_by(labels, job_name)
                && Instance::of(labels).as_ref() == Some(owner.instance);
            if planton_namespace || own_leftover {
                // Join a namespace other planton jobs created, or finish
                // what an earlier attempt of this very instance began.
                let (live, took_over) =
                    cluster::apply_owned(client, object, &live.uid(), &manager, !namespace)
                        .await
                        .map_err(WriteError::Api)?;
                return Ok(Written {
                    live,
                    created: false,
                    joined: planton_namespace,
                    took_over,
                });
            }
            Err(not_ours(&r, &live, lost, job_name))
        }
        Err(e) => Err(WriteError::Api(e)),
    }
}

/// A UID-carrying apply refused because the object is gone (409 "uid
/// mismatch") or is another object now (422 on `metadata.uid`).
fn lost_since_read(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) if s.code == 409 => s.message.contains("uid mismatch"),
        kube::Error::Api(s) if s.code == 422 => s
            .details
            .as_ref()
            .is_some_and(|d| d.causes.iter().any(|c| c.field == "metadata.uid")),
        _ => false,
    }
}

fn is_already_exists(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists")
}

fn replaced(r: &ObjectRef) -> String {
    format!(
        "{r} is no longer the object this resource created: it was deleted, or deleted and created again by \
         someone else, since Terraform last read it. The provider does not touch it. Run `terraform plan` to \
         see the change, then `terraform apply` again."
    )
}

/// The error for an existing object that is not this instance's.
fn not_ours(r: &ObjectRef, live: &Live, lost: bool, job_name: &str) -> WriteError {
    let labels = live.metadata().labels.as_ref();
    let import = match r.kind.as_str() {
        "Namespace" => String::new(),
        _ => format!(
            " To manage that job with this resource instead, remove it from the other state (`terraform state \
             rm`) and import it here: `terraform import <address> {}/{job_name}`.",
            r.namespace
        ),
    };
    if lost {
        return WriteError::NotOurs(
            "Kubernetes Object Replaced Outside Terraform",
            format!(
                "{r} was deleted after this resource created it, and an object of the same name was created since \
                 by someone else (its UID is not the one in state). The provider does not take it over. Delete it \
                 (`kubectl delete {} -n {} {}`) and apply again, or choose another `metadata.name`.",
                r.kind.to_lowercase(),
                r.namespace,
                r.name
            ),
        );
    }
    if is_owned_by(labels, job_name) {
        let whose = match Instance::of(labels) {
            Some(other) => format!(
                "another planton_kubernetes_job resource, instance {other} (label {}={other})",
                ownership::LABEL_INSTANCE
            ),
            None => "a planton_kubernetes_job resource of an earlier provider version".to_string(),
        };
        let leftovers = match Instance::of(labels) {
            Some(other) => format!(
                " If instead an earlier `terraform apply` of this configuration was interrupted before it recorded \
                 anything, the objects it left carry that instance: import the Job as above when it exists, or \
                 delete them (`kubectl delete serviceaccount,secret,configmap,job -n {ns} -l {}={other}`), remove \
                 its claim on the namespace if it made one (`kubectl label namespace {ns} {}-`), and apply again.",
                ownership::LABEL_INSTANCE,
                other.claim_label(),
                ns = r.namespace,
            ),
            None => String::new(),
        };
        return WriteError::NotOurs(
            "Kubernetes Object Owned By Another Resource",
            format!(
                "{r} already exists and belongs to {whose}: another Terraform state (a workspace or directory) \
                 declares a job with the same name and namespace. Two resources never share objects, so this \
                 apply changes nothing. Rename this job (`metadata.name`) or use another namespace.{import}\
                 {leftovers}"
            ),
        );
    }
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
    WriteError::NotOurs(
        "Kubernetes Object Not Managed By This Resource",
        format!("{what} {fix}"),
    )
}

/// Applies `objects` in order: the Namespace, then the ServiceAccount,
/// Secrets and ConfigMaps together, then the Job. Records each object as it
/// lands; stops at the first failure. When an object turns out not to be
/// ours, the objects this apply created are deleted again (by UID) and not
/// recorded. Returns the Job as applied.
async fn apply_all(
    client: &Client,
    rendered: &Rendered,
    objects: &[Object],
    owner: &Owner<'_>,
    tracked: &mut Vec<Tracked>,
    cancel: &CancellationToken,
    d: &mut Diagnostics,
) -> Option<Job> {
    let (namespace, rest): (Vec<&Object>, Vec<&Object>) = objects
        .iter()
        .partition(|o| matches!(o, Object::Namespace(_)));
    let (jobs, middle): (Vec<&Object>, Vec<&Object>) =
        rest.into_iter().partition(|o| matches!(o, Object::Job(_)));
    let job_name = rendered.job.metadata.name.clone().unwrap_or_default();
    let mut created: Vec<Tracked> = Vec::new();
    let mut joined: Vec<Tracked> = Vec::new();
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
        let results = join_all(group.iter().map(|o| write(client, o, owner, &job_name))).await;
        let mut failed = false;
        let mut foreign = false;
        for (object, result) in group.iter().zip(results) {
            let r = object.object_ref();
            match result {
                Ok(written) => {
                    let entry = Tracked {
                        object: r,
                        uid: written.live.uid(),
                    };
                    if written.created {
                        created.push(entry.clone());
                    } else if written.joined {
                        joined.push(entry.clone());
                    }
                    tracked.push(entry);
                    if let Some(conflict) = written.took_over {
                        d.warning(
                            "Kubernetes Fields Taken Back",
                            format!(
                                "{} had fields changed by another field manager; this apply set them back to \
                                 the configuration. The server said: {conflict}",
                                object.object_ref()
                            ),
                        );
                    }
                    if let Live::Job(j) = written.live {
                        job = Some(*j);
                    }
                }
                Err(WriteError::Api(e)) => {
                    failed = true;
                    let fields = |field: &str| rendered.attribute_for(&r, field);
                    d.extend(errors::diagnostics("applying", &r, &e, &fields));
                }
                Err(WriteError::NotOurs(summary, detail)) => {
                    failed = true;
                    foreign = true;
                    d.error(summary, detail);
                }
            }
        }
        if foreign {
            undo(client, &created, &joined, owner.instance, tracked, d).await;
        }
        if failed {
            return None;
        }
    }
    job
}

/// Deletes the objects this apply created (newest first, by UID) and
/// withdraws its claim on a namespace it joined, so that a failed apply
/// leaves nothing; drops them from `tracked`.
async fn undo(
    client: &Client,
    created: &[Tracked],
    joined: &[Tracked],
    instance: &Instance,
    tracked: &mut Vec<Tracked>,
    d: &mut Diagnostics,
) {
    for t in joined {
        match cluster::release_namespace(
            client,
            &t.object.name,
            &t.uid,
            &instance.namespace_manager(),
        )
        .await
        {
            Ok(_) => tracked.retain(|k| k.object != t.object),
            Err(e) => d.extend(errors::diagnostics(
                "releasing",
                &t.object,
                &e,
                &errors::no_fields,
            )),
        }
    }
    for t in created.iter().rev() {
        match cluster::delete(
            client,
            &t.object,
            &t.uid,
            kube::api::PropagationPolicy::Background,
        )
        .await
        {
            Ok(_) => tracked.retain(|k| k.object != t.object),
            Err(GetError::Api(e)) => d.extend(errors::diagnostics(
                "removing again",
                &t.object,
                &e,
                &errors::no_fields,
            )),
            Err(GetError::Kind(_)) => {}
        }
    }
}

/// What [`finish`] needs to know about the apply it ends.
struct Ending<'a> {
    client: &'a Client,
    phase: Phase,
    options: &'a Options,
    /// When the operation's time is up.
    deadline: Instant,
    cancel: &'a CancellationToken,
}

impl<'a> Ending<'a> {
    /// The ending of an apply of `model` that started at `started`: its
    /// time is the phase's timeout, which a Job deadline may lengthen.
    fn of(
        client: &'a Client,
        phase: Phase,
        options: &'a Options,
        model: &KubernetesJob,
        started: Instant,
        cancel: &'a CancellationToken,
    ) -> Self {
        let job_deadline = model
            .spec
            .known()
            .and_then(|s| s.active_deadline_seconds.known());
        let timeout = match phase {
            Phase::Create => options.create_timeout(job_deadline),
            Phase::Update => options.update_timeout(job_deadline),
        };
        Ending {
            client,
            phase,
            options,
            deadline: crate::kube::budget::later(started, timeout),
            cancel,
        }
    }
}

/// Waits when asked to ([`wait::after_apply`]), then builds the new state.
async fn finish(
    ending: Ending<'_>,
    planned: Value,
    tracked: Vec<Tracked>,
    job: Option<Job>,
    mut d: Diagnostics,
) -> ApplyResponse {
    let Ending {
        client,
        phase,
        options,
        deadline,
        cancel,
    } = ending;
    let mut status_job = job.clone();
    if let Some(applied) = job
        .as_ref()
        .filter(|_| options.wait_for_completion && !d.has_error())
        && let Some(j) = wait::after_apply(client, applied, phase, deadline, cancel, &mut d).await
    {
        status_job = Some(j);
    }
    let mut new_state = planned;
    if let (Some(ns), Some(name)) = (
        new_state
            .get(attr::SPEC)
            .get("namespace")
            .get("value")
            .as_str(),
        new_state.get(attr::METADATA).get("name").as_str(),
    ) {
        let id = Value::string(format!("{ns}/{name}"));
        state::set(&mut new_state, attr::ID, id);
    }
    state::set(
        &mut new_state,
        attr::OBJECTS,
        state::objects_value(&tracked),
    );
    if let Some(j) = &status_job {
        state::set(&mut new_state, attr::STATUS, state::status_value(j));
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

/// An error answer that keeps `state`.
fn failed(state: Value, d: Diagnostics) -> ApplyResponse {
    ApplyResponse {
        new_state: state,
        private: Vec::new(),
        diagnostics: d,
    }
}
