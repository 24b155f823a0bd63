//! The plan right after an import. Some attributes live only in Terraform
//! (`rerun_triggers`, the Planton metadata that is not rendered,
//! `target_cluster.cluster_kind`): import cannot read them back, so the
//! first plan after an import takes them, and any value that renders the
//! same objects, from the configuration without replacing anything
//! ([`before_plan`]). Quantities keep the spelling the state holds when the
//! configuration writes the same value another way. For an adopted Job, the
//! kept pod template decides what the plan may leave alone and what
//! replaces it ([`after_plan`]).

use crate::kube::ObjectRef;
use crate::kubernetes_job::adopt::kept;
use crate::kubernetes_job::adopt::private::ImportPrivate;
use crate::kubernetes_job::model::quantity::same_quantity;
use crate::kubernetes_job::model::spec::KubernetesJob;
use crate::kubernetes_job::model::state;
use crate::kubernetes_job::model::write_only::WriteOnly;
use crate::kubernetes_job::render::{self, Rendered};
use crate::tf::resource::{PlanRequest, PlanResponse};
use crate::tf::{AttributePath, Value};

/// Runs before the resource's plan (`buckets`): keeps the prior spelling of
/// quantities the configuration writes differently (the server stores
/// `1000m` as `1`), and after an import lets the attributes import cannot
/// read back, and values that render the same objects, be taken from the
/// configuration without replacing the Job. Returns the prior state the
/// plan should classify the change against, when it differs from the real
/// one.
pub fn before_plan(req: &PlanRequest, resp: &mut PlanResponse) -> Option<Value> {
    let prior = &req.prior_state;
    if prior.is_null() || resp.planned_state.is_null() {
        return None;
    }
    keep_quantity_spelling(prior, &mut resp.planned_state);
    let private = ImportPrivate::from_private(&req.prior_private);
    if !private.imported {
        return None;
    }
    let planned = &resp.planned_state;
    // Prior as the configuration says it wherever the difference would
    // change nothing in the cluster, attribute by attribute; and
    // `rerun_triggers`, which import cannot read, from the configuration.
    let mut adjusted = prior.clone();
    let mut changed = false;
    if prior.get("rerun_triggers").is_null() && !planned.get("rerun_triggers").is_null() {
        state::set(
            &mut adjusted,
            "rerun_triggers",
            planned.get("rerun_triggers").clone(),
        );
        changed = true;
    }
    let mut candidates: Vec<Vec<&str>> = vec![vec!["docker_config_json"]];
    for parent in ["metadata", "spec"] {
        for name in planned
            .get(parent)
            .as_entries()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            // The cluster is the identity's; never taken over.
            if name != "target_cluster" {
                candidates.push(vec![parent, name.as_str()]);
            }
        }
    }
    for path in candidates {
        let want = path.iter().fold(planned, |v, s| v.get(s));
        let have = path.iter().fold(&adjusted, |v, s| v.get(s));
        if want.semantically_equal(have) {
            continue;
        }
        let mut candidate = adjusted.clone();
        let Some(slot) = state::get_mut(&mut candidate, &path) else {
            continue;
        };
        *slot = want.clone();
        if renders_the_same(prior, &candidate) {
            adjusted = candidate;
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    // The framework's replace triggers, against the adjusted prior: those
    // whose value now agrees would change nothing in the cluster.
    resp.requires_replace
        .retain(|p| !at_path(&adjusted, p).semantically_equal(at_path(planned, p)));
    Some(adjusted)
}

/// The value at `path` (attribute steps only; other steps give null).
fn at_path<'a>(v: &'a Value, path: &AttributePath) -> &'a Value {
    static NULL: Value = Value::Null;
    let mut current = v;
    for step in &path.0 {
        current = match step {
            crate::tf::PathStep::Attribute(name) => current.get(name),
            crate::tf::PathStep::Key(key) => current.get(key),
            crate::tf::PathStep::Index(i) => match usize::try_from(*i)
                .ok()
                .and_then(|i| current.as_elements().and_then(|e| e.get(i)))
            {
                Some(x) => x,
                None => &NULL,
            },
        };
    }
    current
}

/// Whether two fully known states render the same Kubernetes objects
/// (quantities compared by value, server-filled defaults ignored).
fn renders_the_same(a: &Value, b: &Value) -> bool {
    if !a.is_wholly_known() || !b.is_wholly_known() {
        return false;
    }
    // A state that does not render is not the same as any other.
    let render = |v: &Value| render::from_value(v).ok().map(|p| p.rendered);
    match (render(a), render(b)) {
        (Some(x), Some(y)) => {
            let objects = |r: &Rendered| {
                r.objects()
                    .iter()
                    .map(|o| kept::normalized(o.to_json()))
                    .collect::<Vec<_>>()
            };
            objects(&x) == objects(&y)
        }
        _ => false,
    }
}

/// Quantity attributes: where the configuration writes the value the prior
/// state holds in another spelling, the plan keeps the prior spelling
/// (Terraform accepts the prior value for an equivalent configuration).
fn keep_quantity_spelling(prior: &Value, planned: &mut Value) {
    for side in ["limits", "requests"] {
        for q in ["cpu", "memory"] {
            let path = ["spec", "resources", side, q];
            let before = path.iter().fold(prior, |v, s| v.get(s));
            if let (Some(b), Some(slot)) = (before.as_str(), state::get_mut(planned, &path))
                && let Some(a) = slot.as_str()
                && a != b
                && same_quantity(a, b)
            {
                *slot = Value::string(b);
            }
        }
    }
    let prior_mounts = prior
        .get("spec")
        .get("volume_mounts")
        .as_elements()
        .unwrap_or_default();
    if let Some(Value::List(mounts)) = state::get_mut(planned, &["spec", "volume_mounts"]) {
        for (m, before) in mounts.iter_mut().zip(prior_mounts) {
            let b = before.get("empty_dir").get("size_limit");
            if let (Some(b), Some(slot)) =
                (b.as_str(), state::get_mut(m, &["empty_dir", "size_limit"]))
                && let Some(a) = slot.as_str()
                && a != b
                && same_quantity(a, b)
            {
                *slot = Value::string(b);
            }
        }
    }
}

/// Runs after the resource's plan: an adopted Job keeps its own pod
/// template, so (a) the objects it does not have (a ServiceAccount it does
/// not use) are not planned, and (b) a change of the `planton.ai/*` labels,
/// which live on the template, replaces it.
pub fn after_plan(req: &PlanRequest, resp: &mut PlanResponse) {
    let prior = &req.prior_state;
    if prior.is_null() || resp.planned_state.is_null() {
        return;
    }
    let Some(adopted) = ImportPrivate::from_private(&req.prior_private).adopted else {
        return;
    };
    let planned = &mut resp.planned_state;
    for attr in ["id", "org", "env"] {
        let (b, a) = (
            prior.get("metadata").get(attr),
            planned.get("metadata").get(attr),
        );
        if !a.is_wholly_known() || !b.semantically_equal(a) {
            resp.requires_replace
                .push(AttributePath::root("metadata").attr(attr));
        }
    }
    resp.requires_replace.sort();
    resp.requires_replace.dedup();
    if !resp.requires_replace.is_empty() {
        // As the plan marks any replacement: new objects, new status.
        state::set_new_objects_unknown(planned);
        return;
    }
    if !planned.get("objects").is_unknown() {
        return;
    }
    let private = state::Private::from_bytes(&req.prior_private);
    if !private.missing.is_empty() {
        return;
    }
    let Ok(model) = KubernetesJob::from_value(planned) else {
        return;
    };
    let wo = WriteOnly::from_config(&req.config);
    let Some(mut want) = render::planned_refs(&model, planned.get("docker_config_json"), &wo)
    else {
        return;
    };
    want.retain(|r| adopted.manages_ref(r));
    let prior_objects = state::objects_from_value(prior.get("objects"));
    let mut have: Vec<ObjectRef> = prior_objects.iter().map(|t| t.object.clone()).collect();
    want.sort();
    have.sort();
    if want == have {
        state::set(planned, "objects", prior.get("objects").clone());
    }
}
