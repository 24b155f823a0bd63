//! The reverse mapping: a Job and its objects, as [`fetch`](super::fetch)
//! found them, back to the resource's state, so that a Job this provider
//! created imports to the configuration that created it. `metadata` and
//! `spec` are read from the Job's labels, its container (`job-container`,
//! else the first), its volumes and its Secrets and ConfigMaps; the
//! settings outside the spec take their defaults; the computed attributes
//! are recorded as apply records them. What the spec cannot express (a Job
//! made by kubectl or Helm: another container name, extra labels, fields
//! outside Planton's spec) is kept for the Job ([`super::kept`]) and named
//! in one warning, so that the plan after an import replaces nothing the
//! user did not change.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, EnvVar, Namespace, ResourceRequirements, Secret, ServiceAccount, Volume,
    VolumeMount as K8sVolumeMount,
};
use serde_json::{Map, Value as J, json};

use crate::kube::ObjectRef;
use crate::kubernetes_job::adopt::fetch::Found;
use crate::kubernetes_job::adopt::identity::ImportId;
use crate::kubernetes_job::adopt::kept::{self, Adopted};
use crate::kubernetes_job::adopt::private::ImportPrivate;
use crate::kubernetes_job::model::attr;
use crate::kubernetes_job::model::options::{self, AfterTtlDeletion, DeletePropagation};
use crate::kubernetes_job::model::ownership::Instance;
use crate::kubernetes_job::model::quantity::same_quantity;
use crate::kubernetes_job::model::schema::{
    DEFAULT_LIMIT_CPU, DEFAULT_LIMIT_MEMORY, DEFAULT_REQUEST_CPU, DEFAULT_REQUEST_MEMORY,
};
use crate::kubernetes_job::model::state::{self, Tracked};
use crate::kubernetes_job::render::{self, Rendered};
use crate::tf::{Diagnostics, Type, Value};

/// The outcome of [`reverse`].
#[derive(Debug, Clone)]
pub struct Imported {
    /// The state (a full value of the resource's type).
    pub state: Value,
    /// What goes into private state.
    pub private: ImportPrivate,
    /// Warnings: what the spec cannot express.
    pub diagnostics: Diagnostics,
}

/// Maps a Job and its objects back to the resource's state: `metadata` and
/// `spec` as a configuration would set them, the settings outside the spec
/// at their defaults, and the computed attributes as apply records them.
pub fn reverse(id: &ImportId, found: &Found, schema_type: &Type) -> Imported {
    let job = &found.job;
    let name = id.name.clone();
    let labels = job.metadata.labels.clone().unwrap_or_default();
    let mut unexpressed = Vec::new();

    let label = |key: &str| labels.get(key).cloned().map(J::String).unwrap_or(J::Null);
    let metadata = json!({
        "name": name,
        "id": label(render::LABEL_ID),
        "org": label(render::LABEL_ORGANIZATION),
        "env": label(render::LABEL_ENVIRONMENT),
    });

    let job_spec = job.spec.clone().unwrap_or_default();
    let pod = job_spec.template.spec.clone().unwrap_or_default();
    let base = "spec.template.spec";
    let (index, container) = pick_container(&pod.containers);
    let cpath = format!("{base}.containers[{index}]");

    let pull_secret_name = render::pull_secret_name(&name);
    let ours_pull = found.pull_secret.is_some();
    let extra_pull: Vec<String> = pod
        .image_pull_secrets
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.name)
        .filter(|n| !(ours_pull && *n == pull_secret_name))
        .collect();
    if extra_pull.len() > 1 {
        unexpressed.push(format!("{base}.imagePullSecrets"));
    }
    let (repo, tag) = split_image(container.image.as_deref().unwrap_or_default());
    let mut spec = Map::new();
    if let Some(cluster) = &id.cluster {
        spec.insert("target_cluster".into(), json!({ "cluster_name": cluster }));
    }
    spec.insert("namespace".into(), json!({ "value": id.namespace }));
    spec.insert(
        "create_namespace".into(),
        J::Bool(found.namespace.is_some()),
    );
    spec.insert(
        "image".into(),
        json!({ "repo": repo, "tag": tag, "pull_secret_name": extra_pull.first() }),
    );
    spec.insert(
        "resources".into(),
        resources(container.resources.as_ref(), &cpath, &mut unexpressed),
    );
    spec.insert(
        "env".into(),
        env(
            container.env.as_deref().unwrap_or_default(),
            &name,
            found.env_secret.as_ref(),
            &cpath,
            &mut unexpressed,
        ),
    );
    let int = |v: Option<i32>| v.map(|n| json!(n)).unwrap_or(J::Null);
    spec.insert("parallelism".into(), int(job_spec.parallelism));
    // A work-queue Job leaves `completions` unset: 0 says so (as in Planton).
    spec.insert(
        "completions".into(),
        json!(job_spec.completions.unwrap_or(0)),
    );
    spec.insert("backoff_limit".into(), int(job_spec.backoff_limit));
    spec.insert(
        "active_deadline_seconds".into(),
        job_spec
            .active_deadline_seconds
            .map(|n| json!(n))
            .unwrap_or(J::Null),
    );
    spec.insert(
        "ttl_seconds_after_finished".into(),
        int(job_spec.ttl_seconds_after_finished),
    );
    spec.insert(
        "completion_mode".into(),
        json!(job_spec.completion_mode.clone()),
    );
    spec.insert("restart_policy".into(), json!(pod.restart_policy.clone()));
    spec.insert("command".into(), json!(container.command.clone()));
    spec.insert("args".into(), json!(container.args.clone()));
    let config_maps: Map<String, J> = found
        .config_maps
        .iter()
        .filter_map(|cm| {
            let cm_name = cm.metadata.name.clone()?;
            let data = cm.data.as_ref().and_then(|d| d.get(&cm_name)).cloned()?;
            Some((cm_name, J::String(data)))
        })
        .collect();
    if !config_maps.is_empty() {
        spec.insert("config_maps".into(), J::Object(config_maps));
    }
    spec.insert(
        "volume_mounts".into(),
        volume_mounts(
            container.volume_mounts.as_deref().unwrap_or_default(),
            pod.volumes.as_deref().unwrap_or_default(),
            &cpath,
            base,
            &mut unexpressed,
        ),
    );
    spec.insert("suspend".into(), json!(job_spec.suspend));

    let docker_config_json = found
        .pull_secret
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .and_then(|d| d.get(render::DOCKER_CONFIG_KEY))
        .and_then(|b| String::from_utf8(b.0.clone()).ok());

    // The resource's own settings take their defaults, as a configuration
    // that leaves them out would.
    let mut config = Map::new();
    config.insert(attr::METADATA.into(), metadata);
    config.insert(attr::SPEC.into(), J::Object(spec));
    config.insert(attr::DOCKER_CONFIG_JSON.into(), json!(docker_config_json));
    config.insert(
        attr::WAIT_FOR_COMPLETION.into(),
        json!(options::WAIT_FOR_COMPLETION_DEFAULT),
    );
    config.insert(
        attr::AFTER_TTL_DELETION.into(),
        json!(AfterTtlDeletion::default().name()),
    );
    config.insert(
        attr::DELETE_PROPAGATION.into(),
        json!(DeletePropagation::default().name()),
    );
    let config = J::Object(config);
    let mut diagnostics = Diagnostics::new();
    let mut value = match crate::tf::value::json::decode(config.to_string().as_bytes(), schema_type)
    {
        Ok(v) => v,
        Err(e) => {
            diagnostics.provider_bug(
                None,
                "Import Failed",
                format!("While mapping the Job {id} to planton_kubernetes_job: {e}."),
            );
            return Imported {
                state: Value::Null,
                private: ImportPrivate::default(),
                diagnostics,
            };
        }
    };

    // Computed attributes, as apply records them.
    let tracked = tracked(found);
    state::set(
        &mut value,
        "id",
        Value::string(format!("{}/{}", id.namespace, id.name)),
    );
    state::set(
        &mut value,
        "outputs",
        state::outputs_value(&Value::string(&id.namespace), &Value::string(&name)),
    );
    state::set(&mut value, "status", state::status_value(job));
    state::set(&mut value, "objects", state::objects_value(&tracked));
    state::set(&mut value, "drift", Value::List(Vec::new()));

    // What rendering the imported spec would not reproduce.
    let rendered: Option<Rendered> = match render::from_value(&value) {
        Ok(prepared) => Some(prepared.rendered),
        Err(e) => {
            e.report("the imported state", "Imported State", &mut diagnostics);
            None
        }
    }
    .map(|mut r| {
        if let Some(instance) = Instance::of(job.metadata.labels.as_ref()) {
            r.stamp(&instance);
        }
        r
    });
    let differences = match &rendered {
        Some(r) => kept::differences(&r.job, job),
        None => vec!["spec.template".to_string()],
    };
    let adopted = (!differences.is_empty()).then(|| Adopted::from_live(job, found));
    let mut all: Vec<String> = differences;
    all.extend(unexpressed);
    all.sort();
    all.dedup();
    if !all.is_empty() {
        diagnostics.warning(
            "Job Fields Outside planton_kubernetes_job",
            format!(
                "The Job {id} has fields that planton_kubernetes_job's spec cannot express (it was probably \
                 created by another tool):\n  - {}\n\nThey are kept as they are, in the resource's private state, \
                 for as long as this Job exists, and in-place updates leave them alone. A change that replaces \
                 the Job creates it from the spec alone, without them.",
                all.join("\n  - ")
            ),
        );
    }
    Imported {
        state: value,
        private: ImportPrivate {
            imported: true,
            adopted,
            moved: false,
        },
        diagnostics,
    }
}

/// The objects import tracks, in apply order.
fn tracked(found: &Found) -> Vec<Tracked> {
    let uid = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.uid.clone().unwrap_or_default()
    };
    let ns = found.job.metadata.namespace.clone().unwrap_or_default();
    let name = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.name.clone().unwrap_or_default()
    };
    let mut out = Vec::new();
    if let Some(n) = &found.namespace {
        out.push(Tracked {
            object: ObjectRef::of::<Namespace>("", &name(&n.metadata)),
            uid: uid(&n.metadata),
        });
    }
    if let Some(s) = &found.service_account {
        out.push(Tracked {
            object: ObjectRef::of::<ServiceAccount>(&ns, &name(&s.metadata)),
            uid: uid(&s.metadata),
        });
    }
    for s in found.env_secret.iter().chain(found.pull_secret.iter()) {
        out.push(Tracked {
            object: ObjectRef::of::<Secret>(&ns, &name(&s.metadata)),
            uid: uid(&s.metadata),
        });
    }
    for c in &found.config_maps {
        let has_entry = c
            .data
            .as_ref()
            .is_some_and(|d| d.contains_key(&name(&c.metadata)));
        if has_entry {
            out.push(Tracked {
                object: ObjectRef::of::<ConfigMap>(&ns, &name(&c.metadata)),
                uid: uid(&c.metadata),
            });
        }
    }
    out.push(Tracked {
        object: ObjectRef::of::<Job>(&ns, &name(&found.job.metadata)),
        uid: uid(&found.job.metadata),
    });
    out
}

/// The container the spec describes: `job-container`, else the first
/// (with its index; a default container when there is none).
pub fn pick_container(containers: &[Container]) -> (usize, Container) {
    containers
        .iter()
        .position(|c| c.name == render::CONTAINER_NAME)
        .or((!containers.is_empty()).then_some(0))
        .map(|i| (i, containers[i].clone()))
        .unwrap_or_default()
}

/// `repo[:tag]` to repo and tag; a digest stays in the repo.
pub fn split_image(image: &str) -> (String, Option<String>) {
    if image.contains('@') {
        return (image.to_string(), None);
    }
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => {
            let at = name_start + i;
            (image[..at].to_string(), Some(image[at + 1..].to_string()))
        }
        None => (image.to_string(), None),
    }
}

/// `spec.resources` from the container's; Planton's default spelling where
/// the value is the default (the server stores `1000m` as `1`).
fn resources(r: Option<&ResourceRequirements>, cpath: &str, unexpressed: &mut Vec<String>) -> J {
    let side = |map: Option<
        &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >,
                which: &str,
                defaults: (&str, &str),
                unexpressed: &mut Vec<String>| {
        let Some(map) = map else { return J::Null };
        let mut out = Map::new();
        for (key, q) in map {
            let default = match key.as_str() {
                "cpu" => defaults.0,
                "memory" => defaults.1,
                _ => {
                    unexpressed.push(format!("{cpath}.resources.{which}[{key}]"));
                    continue;
                }
            };
            let text = if same_quantity(&q.0, default) {
                default.to_string()
            } else {
                q.0.clone()
            };
            out.insert(key.clone(), J::String(text));
        }
        if out.is_empty() {
            J::Null
        } else {
            J::Object(out)
        }
    };
    let Some(r) = r else {
        return json!({});
    };
    if r.claims.as_ref().is_some_and(|c| !c.is_empty()) {
        unexpressed.push(format!("{cpath}.resources.claims"));
    }
    json!({
        "limits": side(r.limits.as_ref(), "limits", (DEFAULT_LIMIT_CPU, DEFAULT_LIMIT_MEMORY), unexpressed),
        "requests": side(r.requests.as_ref(), "requests", (DEFAULT_REQUEST_CPU, DEFAULT_REQUEST_MEMORY), unexpressed),
    })
}

/// Whether `e` is one of the variables the provider puts first.
fn is_injected(e: &EnvVar) -> bool {
    let field = e
        .value_from
        .as_ref()
        .and_then(|v| v.field_ref.as_ref())
        .map(|f| f.field_path.as_str());
    e.value.is_none()
        && matches!(
            (e.name.as_str(), field),
            ("HOSTNAME", Some("status.podIP")) | ("K8S_POD_ID", Some("metadata.name"))
        )
}

/// `spec.env` from the container's env.
fn env(
    vars: &[EnvVar],
    job_name: &str,
    env_secret: Option<&Secret>,
    cpath: &str,
    unexpressed: &mut Vec<String>,
) -> J {
    let secret_data: BTreeMap<String, String> = env_secret
        .and_then(|s| s.data.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((k, String::from_utf8(v.0).ok()?)))
        .collect();
    let env_secret_name = render::env_secret_name(job_name);
    let mut variables = Map::new();
    let mut secrets = Map::new();
    for e in vars {
        if is_injected(e) {
            continue;
        }
        let here = format!("{cpath}.env[{}]", e.name);
        if variables.contains_key(&e.name) || secrets.contains_key(&e.name) {
            unexpressed.push(here);
            continue;
        }
        let secret_ref = e.value_from.as_ref().and_then(|v| {
            let only_secret = v.config_map_key_ref.is_none()
                && v.field_ref.is_none()
                && v.resource_field_ref.is_none();
            v.secret_key_ref.as_ref().filter(|_| only_secret)
        });
        match (&e.value_from, secret_ref) {
            (None, _) => {
                variables.insert(
                    e.name.clone(),
                    json!({ "value": e.value.clone().unwrap_or_default() }),
                );
            }
            (Some(_), Some(r)) => {
                if r.optional == Some(true) {
                    unexpressed.push(format!("{here}.valueFrom.secretKeyRef.optional"));
                }
                let literal =
                    (env_secret.is_some() && r.name == env_secret_name && r.key == e.name)
                        .then(|| secret_data.get(&e.name))
                        .flatten();
                let entry = match literal {
                    Some(value) => json!({ "value": value }),
                    None => json!({ "secret_ref": { "name": r.name, "key": r.key } }),
                };
                secrets.insert(e.name.clone(), entry);
            }
            (Some(_), None) => unexpressed.push(here),
        }
    }
    if variables.is_empty() && secrets.is_empty() {
        return J::Null;
    }
    let or_null = |m: Map<String, J>| if m.is_empty() { J::Null } else { J::Object(m) };
    json!({ "variables": or_null(variables), "secrets": or_null(secrets) })
}

/// `spec.volume_mounts` from the container's mounts and the pod's volumes.
fn volume_mounts(
    mounts: &[K8sVolumeMount],
    volumes: &[Volume],
    cpath: &str,
    base: &str,
    unexpressed: &mut Vec<String>,
) -> J {
    let mut out = Vec::new();
    let mut used = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        let here = format!("{cpath}.volumeMounts[{i}]");
        let Some((vi, v)) = volumes.iter().enumerate().find(|(_, v)| v.name == m.name) else {
            unexpressed.push(here);
            continue;
        };
        let vpath = format!("{base}.volumes[{vi}]");
        if used.contains(&vi) {
            // One volume mounted twice: the spec pairs volumes and mounts.
            unexpressed.push(here);
            continue;
        }
        if m.mount_propagation.is_some()
            || m.sub_path_expr.is_some()
            || m.recursive_read_only.is_some()
        {
            unexpressed.push(here.clone());
        }
        let mut entry = Map::new();
        entry.insert("name".into(), J::String(m.name.clone()));
        entry.insert("mount_path".into(), J::String(m.mount_path.clone()));
        if m.read_only == Some(true) {
            entry.insert("read_only".into(), J::Bool(true));
        }
        if let Some(sp) = m.sub_path.as_ref().filter(|s| !s.is_empty()) {
            entry.insert("sub_path".into(), J::String(sp.clone()));
        }
        let keyed = |name: &str,
                     items: Option<&Vec<k8s_openapi::api::core::v1::KeyToPath>>,
                     mode: Option<i32>,
                     optional: Option<bool>,
                     path: String,
                     unexpressed: &mut Vec<String>| {
            let mut src = Map::new();
            src.insert("name".into(), J::String(name.to_string()));
            match items.map(Vec::as_slice).unwrap_or_default() {
                [] => {}
                [item] => {
                    src.insert("key".into(), J::String(item.key.clone()));
                    if item.path != item.key {
                        src.insert("path".into(), J::String(item.path.clone()));
                    }
                    if item.mode.is_some() {
                        unexpressed.push(format!("{path}.items[0].mode"));
                    }
                }
                _ => unexpressed.push(format!("{path}.items")),
            }
            // 420 (0644) is what the server fills in when nothing is set.
            if let Some(mode) = mode.filter(|m| *m != 420) {
                src.insert("default_mode".into(), json!(mode));
            }
            if optional.is_some() {
                unexpressed.push(format!("{path}.optional"));
            }
            J::Object(src)
        };
        if let Some(cm) = &v.config_map {
            let src = keyed(
                &cm.name,
                cm.items.as_ref(),
                cm.default_mode,
                cm.optional,
                format!("{vpath}.configMap"),
                unexpressed,
            );
            entry.insert("config_map".into(), src);
        } else if let Some(s) = &v.secret {
            let src = keyed(
                s.secret_name.as_deref().unwrap_or_default(),
                s.items.as_ref(),
                s.default_mode,
                s.optional,
                format!("{vpath}.secret"),
                unexpressed,
            );
            entry.insert("secret".into(), src);
        } else if let Some(h) = &v.host_path {
            entry.insert(
                "host_path".into(),
                json!({ "path": h.path, "type": h.type_.clone().filter(|t| !t.is_empty()) }),
            );
        } else if let Some(e) = &v.empty_dir {
            entry.insert(
                "empty_dir".into(),
                json!({
                    "medium": e.medium.clone().filter(|m| !m.is_empty()),
                    "size_limit": e.size_limit.as_ref().map(|q| q.0.clone()),
                }),
            );
        } else if let Some(c) = &v.persistent_volume_claim {
            let mut pvc = Map::new();
            pvc.insert("claim_name".into(), J::String(c.claim_name.clone()));
            if c.read_only == Some(true) {
                pvc.insert("read_only".into(), J::Bool(true));
            }
            entry.insert("pvc".into(), J::Object(pvc));
        } else {
            unexpressed.push(vpath);
            continue;
        }
        used.push(vi);
        out.push(J::Object(entry));
    }
    for (vi, _) in volumes.iter().enumerate() {
        if !used.contains(&vi) {
            unexpressed.push(format!("{base}.volumes[{vi}]"));
        }
    }
    if out.is_empty() {
        J::Null
    } else {
        J::Array(out)
    }
}

#[cfg(test)]
#[path = "reverse_tests.rs"]
mod tests;
