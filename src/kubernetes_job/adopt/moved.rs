//! `moved` from hashicorp/kubernetes's Job resources: the state that
//! `kubernetes_job_v1` (or the older `kubernetes_job`, the same schema)
//! wrote, taken over by `planton_kubernetes_job` without touching the Job.
//!
//! Terraform asks before it configures the provider, so the move is
//! offline: the source state is turned back into the Job it describes
//! ([`job_from_state`]), and that Job goes through import's own mapping
//! ([`reverse`]), as if import had read it from the cluster. What the spec
//! cannot express is kept for the Job and named in a warning, exactly as
//! for a Job another tool made; the settings the source had outside the
//! Job (`wait_for_completion`, `timeouts`) carry over.
//!
//! The pod template kept in private state is then the one rebuilt from the
//! source state, which need not be the server's spelling of it; the first
//! refresh replaces it with the live Job's (`ImportPrivate::moved` marks it), so
//! that an in-place update later compares like with like.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use serde_json::{Map, Value as J};

use kube::Client;

use crate::kubernetes_job::adopt::fetch::Found;
use crate::kubernetes_job::adopt::identity::ImportId;
use crate::kubernetes_job::adopt::kept::Adopted;
use crate::kubernetes_job::adopt::private::ImportPrivate;
use crate::kubernetes_job::adopt::reverse::{self, Imported};
use crate::kubernetes_job::cluster::{self, Live};
use crate::kubernetes_job::model::names::json_name;
use crate::kubernetes_job::model::{attr, state};
use crate::tf::resource::{MoveRequest, MoveResponse};
use crate::tf::{Diagnostics, Type, Value};

/// The provider whose Job resources can be moved here.
pub const SOURCE_PROVIDER: &str = "hashicorp/kubernetes";
/// Its resource types whose state can be moved here.
pub const SOURCE_TYPES: [&str; 2] = ["kubernetes_job_v1", "kubernetes_job"];
/// The schema version of those types that can be read (hashicorp/kubernetes
/// 2.x and later write it; 1.x wrote 0).
pub const SOURCE_SCHEMA_VERSION: i64 = 1;

/// Where each attribute of the source state goes, as the migration guide
/// lists it: a `planton_kubernetes_job` attribute, or [`KEPT`] for what the
/// spec cannot express (kept for the Job and named in the move's warning).
/// Paths leave out the index of SDK blocks (`spec.template.spec.container`
/// is `spec[0].template[0].spec[0].container[*]` in the state).
pub const MAPPING: &[(&str, &str)] = &[
    ("metadata.name", "metadata.name"),
    ("metadata.namespace", "spec.namespace.value"),
    ("metadata.uid", "objects.uid"),
    ("metadata.labels", KEPT),
    ("metadata.annotations", KEPT),
    (
        "spec.active_deadline_seconds",
        "spec.active_deadline_seconds",
    ),
    ("spec.backoff_limit", "spec.backoff_limit"),
    ("spec.completions", "spec.completions"),
    ("spec.completion_mode", "spec.completion_mode"),
    ("spec.parallelism", "spec.parallelism"),
    (
        "spec.ttl_seconds_after_finished",
        "spec.ttl_seconds_after_finished",
    ),
    ("spec.template.spec.restart_policy", "spec.restart_policy"),
    (
        "spec.template.spec.image_pull_secrets.name",
        "spec.image.pull_secret_name",
    ),
    (
        "spec.template.spec.container.image",
        "spec.image.repo, spec.image.tag",
    ),
    ("spec.template.spec.container.command", "spec.command"),
    ("spec.template.spec.container.args", "spec.args"),
    (
        "spec.template.spec.container.env.name",
        "spec.env.variables, spec.env.secrets",
    ),
    (
        "spec.template.spec.container.env.value",
        "spec.env.variables.value",
    ),
    (
        "spec.template.spec.container.env.value_from.secret_key_ref",
        "spec.env.secrets.secret_ref",
    ),
    ("spec.template.spec.container.resources", "spec.resources"),
    (
        "spec.template.spec.container.volume_mount",
        "spec.volume_mounts",
    ),
    (
        "spec.template.spec.container.volume_mount.mount_propagation",
        KEPT,
    ),
    (
        "spec.template.spec.volume.config_map",
        "spec.volume_mounts.config_map",
    ),
    (
        "spec.template.spec.volume.secret",
        "spec.volume_mounts.secret",
    ),
    (
        "spec.template.spec.volume.empty_dir",
        "spec.volume_mounts.empty_dir",
    ),
    (
        "spec.template.spec.volume.host_path",
        "spec.volume_mounts.host_path",
    ),
    (
        "spec.template.spec.volume.persistent_volume_claim",
        "spec.volume_mounts.pvc",
    ),
    ("spec.template.spec.container.name", KEPT),
    ("spec.template.metadata", KEPT),
    ("wait_for_completion", "wait_for_completion"),
    ("timeouts", "timeouts"),
];

/// The target of a [`MAPPING`] row for what is kept, not expressed.
pub const KEPT: &str = "kept";

/// SDK block names that are a list in the Kubernetes API, and the API's
/// name for them. Every other block holds at most one element and is an
/// object in the API.
const LIST_BLOCKS: &[(&str, &str)] = &[
    ("container", "containers"),
    ("init_container", "initContainers"),
    ("ephemeral_container", "ephemeralContainers"),
    ("volume", "volumes"),
    ("volume_mount", "volumeMounts"),
    ("volume_device", "volumeDevices"),
    ("port", "ports"),
    ("env", "env"),
    ("env_from", "envFrom"),
    ("toleration", "tolerations"),
    ("image_pull_secrets", "imagePullSecrets"),
    ("host_aliases", "hostAliases"),
    ("topology_spread_constraint", "topologySpreadConstraints"),
    ("readiness_gate", "readinessGates"),
    ("scheduling_gates", "schedulingGates"),
    ("sysctl", "sysctls"),
    ("option", "options"),
    ("items", "items"),
    ("sources", "sources"),
    ("match_expressions", "matchExpressions"),
    ("node_selector_term", "nodeSelectorTerms"),
    (
        "preferred_during_scheduling_ignored_during_execution",
        "preferredDuringSchedulingIgnoredDuringExecution",
    ),
    ("http_header", "httpHeaders"),
    ("rule", "rules"),
    ("on_pod_condition", "onPodConditions"),
    ("resource_claims", "resourceClaims"),
    ("claims", "claims"),
];

/// Inside these blocks, `required_during_scheduling_ignored_during_execution`
/// is a list of terms (in node affinity it is one selector).
const POD_AFFINITY_BLOCKS: [&str; 2] = ["pod_affinity", "pod_anti_affinity"];

/// Takes over the state of hashicorp/kubernetes's Job resources.
pub fn accept(req: &MoveRequest, schema_type: &Type) -> MoveResponse {
    let fail = |summary: &str, detail: String| MoveResponse {
        diagnostics: {
            let mut d = Diagnostics::new();
            d.error(summary, detail);
            d
        },
        ..MoveResponse::default()
    };
    if !is_source_provider(&req.source_provider_address)
        || !SOURCE_TYPES.contains(&req.source_type_name.as_str())
    {
        return fail(
            "Unsupported Move Source",
            format!(
                "{target} cannot take over the state of {source} (provider {provider}). It takes over \
                 {types} of {SOURCE_PROVIDER} only. To bring this object under {target}, remove it from \
                 the state (`terraform state rm`) and import the Job instead.",
                target = req.target_type_name,
                source = req.source_type_name,
                provider = req.source_provider_address,
                types = SOURCE_TYPES.join(" and "),
            ),
        );
    }
    if req.source_schema_version != SOURCE_SCHEMA_VERSION {
        let why = if req.source_schema_version < SOURCE_SCHEMA_VERSION {
            "an older hashicorp/kubernetes wrote it; run `terraform apply -refresh-only` once with \
             hashicorp/kubernetes 2.x or later, which upgrades it, and move it then"
        } else {
            "a newer hashicorp/kubernetes wrote it than this provider knows; remove it from the state \
             and import the Job instead"
        };
        return fail(
            "Unsupported Source Schema Version",
            format!(
                "The state of {} has schema version {}; {} reads version {SOURCE_SCHEMA_VERSION} only: {why}.",
                req.source_type_name, req.source_schema_version, req.target_type_name
            ),
        );
    }
    let source: J = match serde_json::from_slice(&req.source_state) {
        Ok(J::Object(m)) => J::Object(m),
        Ok(_) | Err(_) if req.source_state.is_empty() => {
            return fail(
                "Unreadable Source State",
                format!(
                    "Terraform sent the state of {} without its JSON form, so it cannot be moved. Remove it \
                     from the state and import the Job instead.",
                    req.source_type_name
                ),
            );
        }
        Ok(_) => return unreadable(req, "it is not a JSON object".to_string()),
        Err(e) => return unreadable(req, e.to_string()),
    };
    let rebuilt = match job_from_state(&source) {
        Ok(r) => r,
        Err(e) => return unreadable(req, e),
    };
    let id = ImportId {
        cluster: None,
        namespace: rebuilt.job.metadata.namespace.clone().unwrap_or_default(),
        name: rebuilt.job.metadata.name.clone().unwrap_or_default(),
    };
    let found = Found {
        job: rebuilt.job,
        ..Found::default()
    };
    let Imported {
        mut state,
        mut private,
        mut diagnostics,
    } = reverse::reverse(&id, &found, schema_type);
    if diagnostics.has_error() {
        return MoveResponse {
            diagnostics,
            ..MoveResponse::default()
        };
    }
    if let Some(wait) = source.get(attr::WAIT_FOR_COMPLETION).and_then(J::as_bool) {
        state::set(&mut state, attr::WAIT_FOR_COMPLETION, Value::Bool(wait));
    }
    state::set(&mut state, attr::TIMEOUTS, timeouts(&source));
    private.moved = private.adopted.is_some();
    if !rebuilt.dropped.is_empty() {
        diagnostics.warning(
            "Source State Fields Not Read",
            format!(
                "These fields of {}'s state could not be read as the Job's fields; the Job keeps them as they \
                 are, and the next refresh reads them from the cluster:\n  - {}",
                req.source_type_name,
                rebuilt.dropped.join("\n  - ")
            ),
        );
    }
    MoveResponse {
        state: Some(state),
        private: private.merge_into(Vec::new()),
        diagnostics,
    }
}

/// The first refresh after a move: the pod template kept for the Job
/// becomes the live Job's, when the Job the state tracks (same UID) is
/// there. Otherwise nothing changes, and the refresh reports the Job gone
/// or replaced as it would for any Job.
pub async fn take_live_template(client: &Client, state: &Value, carried: &mut ImportPrivate) {
    let tracked = state::objects_from_value(state.get(attr::OBJECTS));
    let Some(job) = tracked.iter().find(|t| t.object.kind == "Job") else {
        return;
    };
    let Ok(Some(Live::Job(live))) = cluster::get(client, &job.object).await else {
        return;
    };
    if live.metadata.uid.as_deref() != Some(job.uid.as_str()) {
        return;
    }
    let found = Found {
        job: (*live).clone(),
        ..Found::default()
    };
    carried.adopted = Some(Adopted::from_live(&live, &found));
    carried.moved = false;
}

fn unreadable(req: &MoveRequest, why: String) -> MoveResponse {
    let mut d = Diagnostics::new();
    d.error(
        "Unreadable Source State",
        format!(
            "The state of {} could not be read as a Job: {why}. Remove it from the state and import the Job \
             instead.",
            req.source_type_name
        ),
    );
    MoveResponse {
        diagnostics: d,
        ..MoveResponse::default()
    }
}

/// `registry.terraform.io/hashicorp/kubernetes` on any registry host (so
/// OpenTofu's too), or the bare type name some clients send.
fn is_source_provider(address: &str) -> bool {
    let parts: Vec<&str> = address.split('/').collect();
    match parts.as_slice() {
        [name] => *name == "kubernetes",
        [namespace, name] | [_, namespace, name] => {
            namespace.eq_ignore_ascii_case("hashicorp") && *name == "kubernetes"
        }
        _ => false,
    }
}

/// The source's `timeouts` block as this resource's.
fn timeouts(source: &J) -> Value {
    let t = source.get(attr::TIMEOUTS);
    let each = |name: &str| {
        t.and_then(|t| t.get(name))
            .and_then(J::as_str)
            .filter(|s| !s.is_empty())
            .map_or(Value::Null, Value::string)
    };
    if t.is_none_or(J::is_null) {
        return Value::Null;
    }
    Value::object([
        ("create", each("create")),
        ("update", each("update")),
        ("delete", each("delete")),
    ])
}

/// A Job rebuilt from the source state, and what of the state it could not
/// carry (a value the API's types do not take).
#[derive(Debug)]
pub struct Rebuilt {
    /// The Job.
    pub job: Job,
    /// Paths (in the API's spelling) left out of it.
    pub dropped: Vec<String>,
}

/// Rebuilds the Job that a `kubernetes_job_v1` state describes: SDK blocks
/// (lists) become the API's objects and lists, snake_case names the API's
/// camelCase, empty values are left out, and numbers the SDK stores as
/// strings (`"0644"` modes, `"60"` TTLs) are numbers again. A value that
/// still does not fit the API's types is left out and named.
pub fn job_from_state(state: &J) -> Result<Rebuilt, String> {
    let block = |name: &str| {
        state
            .get(name)
            .and_then(J::as_array)
            .and_then(|a| a.first())
            .filter(|b| b.is_object())
    };
    let metadata = block("metadata").ok_or("it has no `metadata` block")?;
    let spec = block("spec").ok_or("it has no `spec` block")?;
    let name = metadata
        .get("name")
        .and_then(J::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("its `metadata` has no name")?;
    let uid = metadata.get("uid").and_then(J::as_str).unwrap_or_default();
    if uid.is_empty() {
        return Err(format!(
            "its `metadata` has no uid, so it names no Job that exists (the Job {name} was never created)"
        ));
    }
    let mut job = Map::new();
    job.insert("apiVersion".into(), J::String("batch/v1".into()));
    job.insert("kind".into(), J::String("Job".into()));
    let mut meta = convert_block(metadata, "");
    if let J::Object(m) = &mut meta
        && !m.contains_key("namespace")
    {
        // The SDK resource's default.
        m.insert("namespace".into(), J::String("default".into()));
    }
    job.insert("metadata".into(), meta);
    let mut spec = convert_block(spec, "");
    if let J::Object(m) = &mut spec {
        // The SDK resource has no `suspend`; the API server stores false.
        m.entry("suspend").or_insert(J::Bool(false));
    }
    job.insert("spec".into(), spec);
    let mut job = J::Object(job);
    let mut dropped = Vec::new();
    // Each round fixes or drops the one value the API's types refused.
    for _ in 0..64 {
        let text = job.to_string();
        let de = &mut serde_json::Deserializer::from_str(&text);
        match serde_path_to_error::deserialize::<_, Job>(de) {
            Ok(parsed) => {
                let containers = parsed
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.spec.as_ref())
                    .map_or(0, |p| p.containers.len());
                if containers == 0 {
                    return Err("its pod template has no container".to_string());
                }
                return Ok(Rebuilt {
                    job: parsed,
                    dropped,
                });
            }
            Err(e) => {
                let path = e.path().to_string();
                let steps = path_steps(&path);
                if steps.is_empty() || !coerce_or_drop(&mut job, &steps, &mut dropped, &path) {
                    return Err(format!("{}: {}", path, e.inner()));
                }
            }
        }
    }
    Err("too many of its values do not fit a Job".to_string())
}

/// serde_path_to_error's path (`spec.template.spec.containers[0].ports`)
/// as steps.
fn path_steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Step::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                if let Ok(n) = rest[1..end].parse() {
                    out.push(Step::Index(n));
                }
                rest = &rest[end + 1..];
            }
        } else if !rest.is_empty() && rest != "?" {
            out.push(Step::Key(rest.to_string()));
        }
    }
    out
}

#[derive(Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Turns the value at `steps` into a number when it is a numeric string,
/// else removes it and records `path`. False when there is nothing there
/// to change (the error is not about one value).
fn coerce_or_drop(job: &mut J, steps: &[Step], dropped: &mut Vec<String>, path: &str) -> bool {
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut at = job;
    for s in parents {
        at = match (s, at) {
            (Step::Key(k), J::Object(m)) => match m.get_mut(k) {
                Some(v) => v,
                None => return false,
            },
            (Step::Index(i), J::Array(a)) => match a.get_mut(*i) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    let slot = match (last, &mut *at) {
        (Step::Key(k), J::Object(m)) => m.get_mut(k),
        (Step::Index(i), J::Array(a)) => a.get_mut(*i),
        _ => None,
    };
    let Some(slot) = slot else {
        return false;
    };
    if let Some(n) = slot.as_str().and_then(|s| number_of(s, last)) {
        *slot = J::Number(n.into());
        return true;
    }
    match (last, at) {
        (Step::Key(k), J::Object(m)) => {
            m.remove(k);
        }
        (Step::Index(i), J::Array(a)) => {
            a.remove(*i);
        }
        _ => return false,
    }
    dropped.push(path.to_string());
    true
}

/// A number the SDK stored as a string: file modes in octal (`"0644"`),
/// anything else in decimal.
fn number_of(s: &str, step: &Step) -> Option<i64> {
    let is_mode = matches!(step, Step::Key(k) if k.ends_with("Mode") || k == "mode");
    if is_mode {
        return i64::from_str_radix(s, 8).ok();
    }
    s.parse().ok()
}

/// An SDK block's object as the API's: names in camelCase, nested blocks as
/// objects or lists, maps (labels, resource limits) kept verbatim, unset
/// values left out. `parent` is the SDK name of the enclosing block.
fn convert_block(block: &J, parent: &str) -> J {
    let J::Object(fields) = block else {
        return block.clone();
    };
    let mut out = Map::new();
    for (name, value) in fields {
        if is_unset(name, value) {
            continue;
        }
        let converted = match value {
            J::Array(items) if items.iter().all(J::is_object) => {
                let list_name = LIST_BLOCKS
                    .iter()
                    .find(|(sdk, _)| *sdk == name)
                    .map(|(_, api)| *api)
                    .or_else(|| {
                        (name == "required_during_scheduling_ignored_during_execution"
                            && POD_AFFINITY_BLOCKS.contains(&parent))
                        .then_some("requiredDuringSchedulingIgnoredDuringExecution")
                    });
                if let Some(api) = list_name {
                    let list = items.iter().map(|i| convert_block(i, name)).collect();
                    out.insert(api.to_string(), J::Array(list));
                    continue;
                }
                let Some(first) = items.first() else {
                    continue;
                };
                let object = convert_block(first, name);
                // A volume's source is there even with nothing set in it
                // (`empty_dir {}`); elsewhere an empty block says nothing.
                if is_empty(&object) && parent != "volume" {
                    continue;
                }
                object
            }
            // A map attribute (labels, limits) or a list of scalars.
            other => other.clone(),
        };
        out.insert(json_name(name), converted);
    }
    J::Object(out)
}

/// What the SDK writes for an attribute nobody set: null, `""`, an empty
/// list or map, and `false` or `0` where the API's own default is the
/// same. (The SDK cannot tell those from values set to them; the live Job,
/// read at the first refresh, can.)
fn is_unset(name: &str, v: &J) -> bool {
    const TRUE_BY_DEFAULT: [&str; 2] = ["automount_service_account_token", "enable_service_links"];
    const ZERO_MEANS_SOMETHING: [&str; 3] = ["backoff_limit", "parallelism", "completions"];
    match v {
        J::Bool(false) => !TRUE_BY_DEFAULT.contains(&name),
        J::Number(n) => n.as_i64() == Some(0) && !ZERO_MEANS_SOMETHING.contains(&name),
        other => is_empty(other),
    }
}

/// An empty value: null, `""`, or an empty list or map.
fn is_empty(v: &J) -> bool {
    match v {
        J::Null => true,
        J::String(s) => s.is_empty(),
        J::Array(a) => a.is_empty(),
        J::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// The attribute paths set in a source state, in [`MAPPING`]'s spelling
/// (block indexes left out), for the guide's checks.
pub fn set_paths(state: &J) -> BTreeMap<String, Vec<J>> {
    let mut out = BTreeMap::new();
    walk(state, "", &mut out);
    out
}

fn walk(v: &J, path: &str, out: &mut BTreeMap<String, Vec<J>>) {
    let J::Object(m) = v else {
        return;
    };
    for (k, v) in m {
        if is_unset(k, v) {
            continue;
        }
        let p = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        out.entry(p.clone()).or_default().push(v.clone());
        for item in v.as_array().into_iter().flatten() {
            walk(item, &p, out);
        }
    }
}

#[cfg(test)]
#[path = "moved_tests.rs"]
mod tests;
