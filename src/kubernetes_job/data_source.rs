//! The data source `planton_kubernetes_job`: facts about one Job, whoever
//! made it, read afresh on every plan without managing it. The Job is read
//! with one GET (never from the lists the resource's refreshes share) and
//! its pods with one LIST by the label the Job controller gives them, the
//! same selector as the failure report of a wait. `status` and `outputs`
//! have the resource's shape and meaning; `outputs` is set only for a Job
//! a `planton_kubernetes_job` made.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client};

use crate::kube::{ObjectRef, errors, is_not_found};
use crate::kubernetes_job::adopt::identity::{ImportId, ImportIdError};
use crate::kubernetes_job::adopt::reverse::pick_container;
use crate::kubernetes_job::lifecycle::wait::pod_selector;
use crate::kubernetes_job::model::state::{
    outputs_attribute, outputs_value, status_attribute, status_value,
};
use crate::kubernetes_job::render;
use crate::tf::{Attribute, AttributePath, Block, Diagnostics, Nesting, Schema, Type, Value};

/// The data source's schema.
pub fn schema() -> Schema {
    let mut status = status_attribute();
    status.description = STATUS.to_string();
    let mut outputs = outputs_attribute();
    outputs.description = OUTPUTS.to_string();
    let count =
        |name: &str, description: &str| Attribute::computed(name, Type::Number, description);
    Schema::new(Block::new(
        vec![
            Attribute::required("namespace", Type::String, NAMESPACE),
            Attribute::required("name", Type::String, NAME),
            Attribute::optional("cluster", Type::String, CLUSTER),
            Attribute::computed("uid", Type::String, UID),
            status,
            outputs,
            Attribute::computed("image", Type::String, IMAGE),
            Attribute::computed("labels", Type::map(Type::String), LABELS),
            Attribute::computed("annotations", Type::map(Type::String), ANNOTATIONS),
            Attribute::nested(
                "pods",
                Nesting::Single,
                vec![
                    count("pending", PODS_PENDING),
                    count("running", PODS_RUNNING),
                    count("succeeded", PODS_SUCCEEDED),
                    count("failed", PODS_FAILED),
                ],
                PODS,
            )
            .set_computed(),
        ],
        DESCRIPTION,
    ))
}

const DESCRIPTION: &str = "Reads one Kubernetes Job without managing it: any Job of the cluster, whether a \
`planton_kubernetes_job` made it (in this configuration or another) or another tool did. The Job is read \
afresh on every `terraform plan`, so its `status` and pod counts are those of the moment. A Job that does not \
exist is an error. The provider's credentials need `get` on `jobs` and `list` on `pods` in the Job's \
namespace (guide \"Permissions\").";

const NAMESPACE: &str = "Namespace of the Job.";
const NAME: &str = "Name of the Job.";
const CLUSTER: &str = "Name of the provider's `clusters` entry the Job is in; the provider-level cluster \
when not set (as `spec.target_cluster.cluster_name` of the resource).";
const UID: &str = "The Job's UID.";
const STATUS: &str = "The Job's status when it was read, with the shape and meaning of the resource's \
`status`.";
const OUTPUTS: &str = "Planton's stack outputs for the Job (`KubernetesJobStackOutputs`), as the resource \
gives them; null unless a `planton_kubernetes_job` made the Job (its labels `planton.ai/resource`, \
`planton.ai/kind` and `planton.ai/name` say so).";
const IMAGE: &str = "The image of the Job's container `job-container`, or of its first container when none \
has that name.";
const LABELS: &str = "The Job's own labels.";
const ANNOTATIONS: &str = "The Job's own annotations.";
const PODS: &str = "How many of the Job's pods are in each phase, counted when the Job was read (pods \
already removed, for example by the Job's `ttl_seconds_after_finished`, are not counted).";
const PODS_PENDING: &str = "Pods accepted but not yet running (phase `Pending`).";
const PODS_RUNNING: &str = "Pods running (phase `Running`).";
const PODS_SUCCEEDED: &str = "Pods whose container exited successfully (phase `Succeeded`).";
const PODS_FAILED: &str = "Pods whose container failed (phase `Failed`).";

/// Which Job a configuration names: its namespace and name are checked as
/// an import ID's are.
pub fn job_of(config: &Value) -> Result<ImportId, Diagnostics> {
    let text = |name: &str| config.get(name).as_str().unwrap_or_default().to_string();
    let id = ImportId {
        cluster: config
            .get("cluster")
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        namespace: text("namespace"),
        name: text("name"),
    };
    let d = validate(config);
    if d.has_error() { Err(d) } else { Ok(id) }
}

/// Checks `namespace`, `name` and `cluster` where they are known.
pub fn validate(config: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    let parts = [
        ("namespace", "Invalid Namespace", "{}/x"),
        ("name", "Invalid Job Name", "x/{}"),
    ];
    for (attribute, summary, form) in parts {
        let Some(value) = config.get(attribute).as_str() else {
            continue;
        };
        if let Err(e) = ImportId::parse(&form.replace("{}", value)) {
            let problem = match e {
                ImportIdError::InvalidPart { problem, .. } => problem,
                other => other.to_string(),
            };
            d.attribute_error(
                AttributePath::root(attribute),
                summary,
                format!(
                    "`{attribute}` is {value:?}, which is not a Kubernetes {attribute}: {problem}."
                ),
            );
        }
    }
    if let Some(c) = config.get("cluster").as_str()
        && (c.trim().is_empty() || c != c.trim())
    {
        d.attribute_error(
            AttributePath::root("cluster"),
            "Invalid Cluster Name",
            format!(
                "`cluster` is {c:?}: name one of the provider's `clusters` entries, or leave it out for the \
                 provider-level cluster."
            ),
        );
    }
    d
}

/// Reads the Job `id` names and its pods into the data source's state
/// (`config` with its computed attributes set). One error when the Job
/// does not exist or may not be read.
pub async fn read(client: &Client, id: &ImportId, config: &Value) -> Result<Value, Diagnostics> {
    let job_ref = id.job_ref();
    let job = match Api::<Job>::namespaced(client.clone(), &id.namespace)
        .get_opt(&id.name)
        .await
    {
        Ok(Some(job)) => job,
        Ok(None) => return Err(not_found(id)),
        Err(e) if is_not_found(&e) => return Err(not_found(id)),
        Err(e) => return Err(refused(id, &job_ref, &e, "get", "jobs", "batch")),
    };
    let pods = match Api::<Pod>::namespaced(client.clone(), &id.namespace)
        .list(&ListParams::default().labels(&pod_selector(&job)))
        .await
    {
        Ok(list) => list.items,
        Err(e) => {
            let pods_ref =
                ObjectRef::of::<Pod>(&id.namespace, &format!("(pods of the Job {})", id.name));
            return Err(refused(id, &pods_ref, &e, "list", "pods", ""));
        }
    };
    Ok(state(config, &job, &pods))
}

/// The state for `config` from the Job and its pods as read.
pub fn state(config: &Value, job: &Job, pods: &[Pod]) -> Value {
    let meta = &job.metadata;
    let text = |s: Option<&String>| s.map_or(Value::Null, Value::string);
    let map = |m: Option<&BTreeMap<String, String>>| {
        Value::Map(
            m.into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), Value::string(v)))
                .collect(),
        )
    };
    let name = meta.name.clone().unwrap_or_default();
    let outputs = if render::is_owned_by(meta.labels.as_ref(), &name) {
        outputs_value(config.get("namespace"), config.get("name"))
    } else {
        Value::Null
    };
    let containers = job
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    let image = if containers.is_empty() {
        Value::Null
    } else {
        text(pick_container(containers).1.image.as_ref())
    };
    let mut state = config.clone();
    if let Value::Object(fields) = &mut state {
        for (attribute, value) in [
            ("uid", text(meta.uid.as_ref())),
            ("status", status_value(job)),
            ("outputs", outputs),
            ("image", image),
            ("labels", map(meta.labels.as_ref())),
            ("annotations", map(meta.annotations.as_ref())),
            ("pods", pod_counts(pods)),
        ] {
            fields.insert(attribute.to_string(), value);
        }
    }
    state
}

/// The `pods` value: how many pods are in each phase.
fn pod_counts(pods: &[Pod]) -> Value {
    let count = |phase: &str| {
        let n = pods
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some(phase))
            .count();
        Value::int(i64::try_from(n).unwrap_or(i64::MAX))
    };
    Value::object([
        ("pending", count("Pending")),
        ("running", count("Running")),
        ("succeeded", count("Succeeded")),
        ("failed", count("Failed")),
    ])
}

/// " in the cluster \"prod\"" for a named cluster, else nothing.
fn in_cluster(id: &ImportId) -> String {
    id.cluster
        .as_ref()
        .map(|c| format!(" in the cluster {c:?}"))
        .unwrap_or_default()
}

fn not_found(id: &ImportId) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(
        "Kubernetes Job Not Found",
        format!(
            "There is no Job named {:?} in the namespace {:?}{} (or the namespace does not exist), so the \
             data source planton_kubernetes_job has nothing to read. `kubectl get jobs -n {}` lists the Jobs \
             there.",
            id.name,
            id.namespace,
            in_cluster(id),
            id.namespace
        ),
    );
    d
}

/// The diagnostic of a request the API server refused: for a 403, which
/// permission the data source needs (`verb` on `resource` of `group`),
/// otherwise what the API server said.
fn refused(
    id: &ImportId,
    object: &ObjectRef,
    e: &kube::Error,
    verb: &str,
    resource: &str,
    group: &str,
) -> Diagnostics {
    let kube::Error::Api(status) = e else {
        return errors::diagnostics("reading", object, e, &errors::no_fields);
    };
    if status.code != 403 {
        return errors::diagnostics("reading", object, e, &errors::no_fields);
    }
    let group = if group.is_empty() {
        "the core API group".to_string()
    } else {
        format!("the API group `{group}`")
    };
    let mut d = Diagnostics::new();
    d.error(
        "Permission Denied By Kubernetes",
        format!(
            "The data source planton_kubernetes_job cannot read the Job {}/{}{}: the provider's credentials may \
             not `{verb}` `{resource}` ({group}) in the namespace {:?}. Grant that permission (the Role in \
             examples/rbac/role.yaml has it, see the guide \"Permissions\"). The API server answered: {}",
            id.namespace,
            id.name,
            in_cluster(id),
            id.namespace,
            status.message
        ),
    );
    d
}

#[cfg(test)]
#[path = "data_source_tests.rs"]
mod tests;
