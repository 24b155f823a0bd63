//! The plan: which changes update the objects in place and which replace the
//! Job, and what the computed attributes will be.
//!
//! Every configurable attribute is in exactly one bucket ([`BUCKETS`], tested
//! to cover the whole schema):
//!
//! - **state only**: nothing in the cluster depends on it (Planton metadata
//!   that is not rendered, and this resource's own settings);
//! - **in place**: the objects are updated by server-side apply (Job
//!   `parallelism`, `backoffLimit`, `activeDeadlineSeconds`,
//!   `ttlSecondsAfterFinished`, `suspend`; ConfigMap and Secret contents);
//! - **replace**: Kubernetes refuses to change it (the pod template, the
//!   Job's identity) or the user asked for a new run (`rerun_triggers`);
//! - **in place while suspended**: the pod template's labels, which
//!   Kubernetes lets change only while the Job is suspended and has never
//!   started (KEP-2926); otherwise replace;
//! - **elastic Indexed**: `completions` of an Indexed Job changes in place
//!   when it changes together with `parallelism` and equals it, before and
//!   after (KEP-3715); otherwise replace;
//! - **keys replace, values in place**: `config_maps` and `env.secrets`
//!   (their key sets shape the pod; their contents are object data);
//!   `docker_config_json` likewise (set or unset shapes the pod).
//!
//! A value that is not known yet is treated as a change; where it could
//! decide between in place and replace, the plan replaces, so that the plan
//! Terraform shows is never one the apply cannot carry out. The plan never
//! contacts the cluster.

use crate::kube::ObjectRef;
use crate::kubernetes_job::adopt::kept::Adopted;
use crate::kubernetes_job::adopt::private::ImportPrivate;
use crate::kubernetes_job::model::attr;
use crate::kubernetes_job::model::spec::KubernetesJob;
use crate::kubernetes_job::model::state::{self, Private};
use crate::kubernetes_job::model::write_only::{self, Record, WriteOnly};
use crate::kubernetes_job::render::planned_refs;
use crate::tf::resource::{PlanRequest, PlanResponse};
use crate::tf::{AttributePath, Value};

/// How a change of an attribute is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Recorded in state only.
    StateOnly,
    /// Applied to the objects in place.
    InPlace,
    /// Replaces the Job (and its objects).
    Replace,
    /// In place while the Job is suspended and never started, else replace.
    InPlaceWhileSuspended,
    /// In place for Indexed Jobs when equal to the new `parallelism`, else
    /// replace.
    ElasticIndexed,
    /// A map whose key set replaces; each value follows the listed entries
    /// below it.
    KeysReplace,
    /// A value whose presence (set or not) replaces and whose content
    /// changes in place.
    PresenceReplace,
}

/// Every configurable attribute, by path (map keys and list indices
/// omitted), and its bucket. An attribute not listed takes the bucket of
/// its nearest listed ancestor.
pub const BUCKETS: &[(&str, Bucket)] = &[
    ("metadata.name", Bucket::Replace),
    ("metadata.slug", Bucket::StateOnly),
    ("metadata.id", Bucket::InPlaceWhileSuspended),
    ("metadata.org", Bucket::InPlaceWhileSuspended),
    ("metadata.env", Bucket::InPlaceWhileSuspended),
    ("metadata.labels", Bucket::StateOnly),
    ("metadata.annotations", Bucket::StateOnly),
    ("metadata.tags", Bucket::StateOnly),
    ("metadata.group", Bucket::StateOnly),
    ("metadata.relationships", Bucket::StateOnly),
    ("spec.target_cluster", Bucket::Replace),
    ("spec.namespace", Bucket::Replace),
    ("spec.create_namespace", Bucket::InPlace),
    ("spec.image", Bucket::Replace),
    ("spec.resources", Bucket::Replace),
    ("spec.env.variables", Bucket::Replace),
    ("spec.env.secrets", Bucket::KeysReplace),
    ("spec.env.secrets.value", Bucket::PresenceReplace),
    ("spec.env.secrets.secret_ref", Bucket::Replace),
    ("spec.env.secrets.secret_ref.namespace", Bucket::StateOnly),
    ("spec.parallelism", Bucket::InPlace),
    ("spec.completions", Bucket::ElasticIndexed),
    ("spec.backoff_limit", Bucket::InPlace),
    ("spec.active_deadline_seconds", Bucket::InPlace),
    ("spec.ttl_seconds_after_finished", Bucket::InPlace),
    ("spec.completion_mode", Bucket::Replace),
    ("spec.restart_policy", Bucket::Replace),
    ("spec.command", Bucket::Replace),
    ("spec.args", Bucket::Replace),
    ("spec.config_maps", Bucket::KeysReplace),
    ("spec.volume_mounts", Bucket::Replace),
    ("spec.suspend", Bucket::InPlace),
    ("docker_config_json", Bucket::PresenceReplace),
    ("rerun_triggers", Bucket::Replace),
    ("wait_for_completion", Bucket::StateOnly),
    ("timeouts", Bucket::StateOnly),
    ("after_ttl_deletion", Bucket::StateOnly),
    ("delete_propagation", Bucket::StateOnly),
    // Write-only values are never in state; their versions roll them
    // (`write_only_changes` decides when a change of names replaces).
    ("env_secrets_wo", Bucket::StateOnly),
    ("env_secrets_wo_version", Bucket::InPlace),
    ("docker_config_json_wo", Bucket::StateOnly),
    ("docker_config_json_wo_version", Bucket::InPlace),
];

/// The bucket of an attribute path written with dots (`spec.image.tag`),
/// from its nearest listed ancestor.
pub fn bucket_of(path: &str) -> Option<Bucket> {
    BUCKETS
        .iter()
        .filter(|(p, _)| path == *p || path.starts_with(&format!("{p}.")))
        .max_by_key(|(p, _)| p.len())
        .map(|(_, b)| *b)
}

/// What a change from the prior state to the plan needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Attributes whose change replaces the Job.
    pub replace: Vec<AttributePath>,
    /// Whether objects in the cluster change in place.
    pub in_place: bool,
}

/// Whether `after` differs from `before`, counting anything unknown in
/// `after` as a difference.
fn differs(before: &Value, after: &Value) -> bool {
    !after.is_wholly_known() || !before.semantically_equal(after)
}

fn at<'a>(root: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(root, |v, step| v.get(step))
}

fn path_of(dotted: &str) -> AttributePath {
    AttributePath(
        dotted
            .split('.')
            .map(|s| crate::tf::PathStep::Attribute(s.to_string()))
            .collect(),
    )
}

/// Classifies the change from `prior` to `planned` (both non-null).
pub fn classify(prior: &Value, planned: &Value) -> Changes {
    let mut c = Changes::default();
    for (path, bucket) in BUCKETS {
        // Entries below a map are handled by the map's own logic.
        if path.starts_with("spec.env.secrets.") {
            continue;
        }
        let before = at(prior, path);
        let after = at(planned, path);
        if !differs(before, after) {
            continue;
        }
        match bucket {
            Bucket::StateOnly => {}
            Bucket::InPlace => c.in_place = true,
            Bucket::Replace => c.replace.push(path_of(path)),
            Bucket::InPlaceWhileSuspended => {
                if suspended_never_started(prior) {
                    c.in_place = true;
                } else {
                    c.replace.push(path_of(path));
                }
            }
            Bucket::ElasticIndexed => {
                if elastic_indexed(prior, planned) {
                    c.in_place = true;
                } else {
                    c.replace.push(path_of(path));
                }
            }
            Bucket::KeysReplace if *path == "spec.config_maps" => {
                keyed_map(before, after, &path_of(path), &mut c, |_, _, _, c| {
                    c.in_place = true;
                });
            }
            Bucket::KeysReplace => {
                keyed_map(before, after, &path_of(path), &mut c, secret_entry);
            }
            Bucket::PresenceReplace => presence(before, after, &path_of(path), &mut c),
        }
    }
    c.replace.sort();
    c.replace.dedup();
    c
}

/// Whether the prior Job was suspended and never started, the only time
/// Kubernetes lets its pod template's labels change (KEP-2926).
fn suspended_never_started(prior: &Value) -> bool {
    prior.get(attr::SPEC).get("suspend").as_bool() == Some(true)
        && prior.get(attr::STATUS).as_entries().is_some()
        && prior.get(attr::STATUS).get("start_time").is_null()
}

/// Whether a `completions` change is an elastic Indexed Job's: Indexed
/// before and after, and completions equal to parallelism before and after.
/// (Kubernetes checks only "after"; KEP-3715 describes both, and asking for
/// both never plans an update some API server refuses.)
fn elastic_indexed(prior: &Value, planned: &Value) -> bool {
    let indexed = |v: &Value| v.get(attr::SPEC).get("completion_mode").as_str() == Some("Indexed");
    let in_tandem = |v: &Value| {
        let completions = v.get(attr::SPEC).get("completions").as_number();
        completions.is_some() && completions == v.get(attr::SPEC).get("parallelism").as_number()
    };
    indexed(prior) && indexed(planned) && in_tandem(prior) && in_tandem(planned)
}

/// A map whose key set replaces; `entry` decides for each key in both.
fn keyed_map(
    before: &Value,
    after: &Value,
    path: &AttributePath,
    c: &mut Changes,
    entry: fn(&Value, &Value, &AttributePath, &mut Changes),
) {
    let empty = std::collections::BTreeMap::new();
    let (b, a) = match (before, after) {
        (_, Value::Unknown(_)) => {
            c.replace.push(path.clone());
            return;
        }
        (b, a) => (
            b.as_entries().unwrap_or(&empty),
            a.as_entries().unwrap_or(&empty),
        ),
    };
    if b.keys().ne(a.keys()) {
        c.replace.push(path.clone());
        return;
    }
    for (k, av) in a {
        let bv = b.get(k).unwrap_or(&Value::Null);
        if differs(bv, av) {
            entry(bv, av, &path.key(k.clone()), c);
        }
    }
}

/// One `env.secrets` entry: `value` changes in place while it stays set;
/// the `secret_ref` (and switching between the two) replaces, except its
/// `namespace`, which is not rendered.
fn secret_entry(before: &Value, after: &Value, path: &AttributePath, c: &mut Changes) {
    if after.is_unknown() {
        c.replace.push(path.clone());
        return;
    }
    presence(
        before.get("value"),
        after.get("value"),
        &path.attr("value"),
        c,
    );
    let (rb, ra) = (before.get("secret_ref"), after.get("secret_ref"));
    if !differs(rb, ra) {
        return;
    }
    if rb.is_null() != ra.is_null() || ra.is_unknown() {
        c.replace.push(path.attr("secret_ref"));
        return;
    }
    for field in ["name", "key"] {
        if differs(rb.get(field), ra.get(field)) {
            c.replace.push(path.attr("secret_ref").attr(field));
        }
    }
}

/// A value whose presence shapes the pod and whose content is object data.
/// Unknown keeps its presence when it was set (validation will reject a
/// null then); unknown where there was nothing is a new presence.
fn presence(before: &Value, after: &Value, path: &AttributePath, c: &mut Changes) {
    if !differs(before, after) {
        return;
    }
    let set = |v: &Value| match v {
        Value::Null => false,
        Value::String(s) if path.0.len() == 1 => !s.is_empty(),
        _ => true,
    };
    if after.is_unknown() {
        if set(before) {
            c.in_place = true;
        } else {
            c.replace.push(path.clone());
        }
    } else if set(before) != set(after) {
        c.replace.push(path.clone());
    } else {
        c.in_place = true;
    }
}

/// The write-only values ([`crate::kubernetes_job::model::write_only`]) are not in state: their
/// names (part of the pod) and the presence of `docker_config_json_wo` (an
/// image pull Secret in the pod) are compared with the names recorded at
/// the last apply. A change replaces the Job, and is taken only together
/// with a change of the `*_version` attribute, which is how Terraform sees
/// a change of write-only values at all.
fn write_only_changes(
    req: &PlanRequest,
    planned: &Value,
    changes: &mut Changes,
    d: &mut crate::tf::Diagnostics,
) {
    let wo = WriteOnly::from_config(&req.config);
    let recorded = Record::from_private(&req.prior_private).unwrap_or_default();
    let checks = [
        (
            write_only::ENV_SECRETS,
            write_only::ENV_SECRETS_VERSION,
            !wo.env_unknown && wo.names() != recorded.names(),
            wo.env_unknown,
        ),
        (
            write_only::DOCKER_CONFIG,
            write_only::DOCKER_CONFIG_VERSION,
            !wo.docker_unknown
                && wo.docker_config_json.is_some() != recorded.docker_config_json.is_some(),
            wo.docker_unknown,
        ),
    ];
    for (attribute, version, changed, unknown) in checks {
        let version_changed = differs(req.prior_state.get(version), planned.get(version));
        if (changed || unknown) && version_changed {
            changes.replace.push(AttributePath::root(version));
        } else if changed {
            d.attribute_error(
                AttributePath::root(attribute),
                "Write-Only Names Changed Without A New Version",
                format!(
                    "The names in `{attribute}` (or whether it is set) changed since the last apply, which \
                     changes the pod and so replaces the Job. Terraform keeps no trace of write-only values, so \
                     such a change is applied only with a new `{version}`: change it too."
                ),
            );
        }
    }
}

/// Whether applying a change touches the cluster: an attribute changes in
/// place, the last refresh found drift to repair, tracked objects were
/// found missing, or the plan wants objects the state does not track
/// (`untracked`, as the caller counts them). Otherwise apply only records
/// the new values.
pub fn touches_cluster(
    changes: &Changes,
    prior: &Value,
    private: &Private,
    untracked: bool,
) -> bool {
    let drifted = !prior
        .get(attr::DRIFT)
        .as_elements()
        .unwrap_or_default()
        .is_empty();
    changes.in_place || drifted || !private.missing.is_empty() || untracked
}

/// The objects a plan or configuration wants this resource to manage (an
/// adopted Job keeps only the ones it uses); `None` while a value that
/// decides it is unknown.
pub fn wanted_objects(
    planned: &Value,
    wo: &WriteOnly,
    adopted: Option<&Adopted>,
) -> Option<Vec<ObjectRef>> {
    let job = KubernetesJob::from_value(planned).ok()?;
    let refs = planned_refs(&job, planned.get(attr::DOCKER_CONFIG_JSON), wo)?;
    Some(
        refs.into_iter()
            .filter(|r| adopted.is_none_or(|a| a.manages_ref(r)))
            .collect(),
    )
}

/// The resource's plan hook: decides replacement and the computed values.
pub fn refine_plan(req: &PlanRequest, resp: &mut PlanResponse) {
    if resp.planned_state.is_null() {
        return;
    }
    let prior = &req.prior_state;
    let planned = &mut resp.planned_state;
    // `id` is the framework's: unknown until created, then kept. The
    // outputs are known as soon as the configuration is.
    let namespace = planned
        .get(attr::SPEC)
        .get("namespace")
        .get("value")
        .clone();
    let name = planned.get(attr::METADATA).get("name").clone();
    state::set(
        planned,
        attr::OUTPUTS,
        state::outputs_value(&namespace, &name),
    );
    state::set(planned, attr::DRIFT, Value::List(Vec::new()));

    if prior.is_null() {
        state::set_new_objects_unknown(planned);
        return;
    }

    let mut changes = classify(prior, planned);
    write_only_changes(req, planned, &mut changes, &mut resp.diagnostics);
    resp.requires_replace.append(&mut changes.replace);
    resp.requires_replace.sort();
    resp.requires_replace.dedup();
    if !resp.requires_replace.is_empty() {
        state::set_new_objects_unknown(planned);
        return;
    }

    let private = Private::from_bytes(&req.prior_private);

    // Objects keep their UIDs unless the set of objects changes or missing
    // ones are created again.
    let prior_objects = state::objects_from_value(prior.get(attr::OBJECTS));
    let adopted = ImportPrivate::from_private(&req.prior_private).adopted;
    let wanted = wanted_objects(
        planned,
        &WriteOnly::from_config(&req.config),
        adopted.as_ref(),
    );
    let same_objects = wanted.is_some_and(|mut want| {
        let mut have: Vec<_> = prior_objects.iter().map(|t| t.object.clone()).collect();
        want.sort();
        have.sort();
        want == have
    });
    let objects = if same_objects && private.missing.is_empty() {
        prior.get(attr::OBJECTS).clone()
    } else {
        Value::UNKNOWN
    };
    state::set(planned, attr::OBJECTS, objects);
    // Objects the state does not track are created again by apply.
    let touches_cluster = touches_cluster(&changes, prior, &private, !same_objects);

    // Apply reads the Job's status again whenever it touches the cluster,
    // unless the Job is gone for good (reaped by its TTL).
    let status = if touches_cluster && !private.job_reaped {
        Value::UNKNOWN
    } else {
        prior.get(attr::STATUS).clone()
    };
    state::set(planned, attr::STATUS, status);
}

#[cfg(test)]
#[path = "buckets_tests.rs"]
mod tests;
