//! The computed part of the state (`id`, `outputs`, `status`, `objects`,
//! `drift`), its schema, and the private state carried between read, plan
//! and apply.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobCondition};
use serde::{Deserialize, Serialize};

use crate::kube::ObjectRef;
use crate::kubernetes_job::model::attr;
use crate::tf::{Attribute, Nesting, Type, Value};

/// The computed attributes' schema.
pub fn attributes() -> Vec<Attribute> {
    let computed =
        |name: &str, ty: Type, description: &str| Attribute::computed(name, ty, description);
    vec![
        outputs_attribute(),
        status_attribute(),
        Attribute::nested(
            attr::OBJECTS,
            Nesting::List,
            vec![
                computed("api_version", Type::String, OBJECT_API_VERSION),
                computed("kind", Type::String, OBJECT_KIND),
                computed("namespace", Type::String, OBJECT_NAMESPACE),
                computed("name", Type::String, OBJECT_NAME),
                computed("uid", Type::String, OBJECT_UID),
            ],
            OBJECTS,
        )
        .set_computed(),
        Attribute::computed(attr::DRIFT, Type::list(Type::String), DRIFT),
    ]
}

/// The `outputs` attribute (Planton's stack outputs), computed; its value
/// is [`outputs_value`].
pub fn outputs_attribute() -> Attribute {
    Attribute::nested(
        attr::OUTPUTS,
        Nesting::Single,
        vec![
            Attribute::computed("namespace", Type::String, OUTPUT_NAMESPACE),
            Attribute::computed("job_name", Type::String, OUTPUT_JOB_NAME),
        ],
        OUTPUTS,
    )
    .set_computed()
}

/// The `status` attribute, computed; its value is [`status_value`].
pub fn status_attribute() -> Attribute {
    let computed =
        |name: &str, ty: Type, description: &str| Attribute::computed(name, ty, description);
    Attribute::nested(
        attr::STATUS,
        Nesting::Single,
        vec![
            computed("active", Type::Number, STATUS_ACTIVE),
            computed("ready", Type::Number, STATUS_READY),
            computed("succeeded", Type::Number, STATUS_SUCCEEDED),
            computed("failed", Type::Number, STATUS_FAILED),
            computed("start_time", Type::String, STATUS_START_TIME),
            computed("completion_time", Type::String, STATUS_COMPLETION_TIME),
            Attribute::nested(
                "conditions",
                Nesting::List,
                vec![
                    computed("type", Type::String, CONDITION_TYPE),
                    computed("status", Type::String, CONDITION_STATUS),
                    computed("reason", Type::String, CONDITION_REASON),
                    computed("message", Type::String, CONDITION_MESSAGE),
                ],
                STATUS_CONDITIONS,
            )
            .set_computed(),
        ],
        STATUS,
    )
    .set_computed()
}

const OUTPUTS: &str = "Planton's stack outputs for the Job (`KubernetesJobStackOutputs`), for other \
resources and modules to use.";
const OUTPUT_NAMESPACE: &str = "Namespace the Job runs in.";
const OUTPUT_JOB_NAME: &str = "Name of the Kubernetes Job.";

const STATUS: &str = "The Job's status as last seen by the provider (after apply, or after the last \
refresh).";
const STATUS_ACTIVE: &str = "Number of pods running or pending.";
const STATUS_READY: &str = "Number of pods that are ready.";
const STATUS_SUCCEEDED: &str = "Number of pods that succeeded.";
const STATUS_FAILED: &str = "Number of pods that failed.";
const STATUS_START_TIME: &str = "When the Job started (RFC 3339), if it has.";
const STATUS_COMPLETION_TIME: &str = "When the Job completed successfully (RFC 3339), if it has.";
const STATUS_CONDITIONS: &str =
    "The Job's conditions, such as `Complete` or `Failed`, in the order Kubernetes lists them.";
const CONDITION_TYPE: &str = "Condition type, for example `Complete`, `Failed` or `Suspended`.";
const CONDITION_STATUS: &str = "Whether it holds: `True`, `False` or `Unknown`.";
const CONDITION_REASON: &str = "Machine-readable reason, for example `BackoffLimitExceeded`.";
const CONDITION_MESSAGE: &str = "Human-readable message, if any.";

const OBJECTS: &str = "Every Kubernetes object this resource created or adopted, in the order they were \
applied. `terraform destroy` deletes exactly these (a namespace only when it is listed here).";
const OBJECT_API_VERSION: &str = "API version, for example `batch/v1`.";
const OBJECT_KIND: &str = "Kind, for example `Job` or `ConfigMap`.";
const OBJECT_NAMESPACE: &str = "Namespace; empty for a Namespace object.";
const OBJECT_NAME: &str = "The name of the object.";
const OBJECT_UID: &str = "The object's UID when last applied or read.";

const DRIFT: &str = "Changes made outside Terraform to the objects of this resource, found by the last \
refresh: deleted objects and changed labels. A plan that finds any shows them here and plans an update that \
puts the objects back. (Changed ConfigMap data, Secret values and mutable Job fields show as changes of the \
attributes they come from instead.) Empty when everything matches.";

/// One entry of `objects`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// Which object.
    pub object: ObjectRef,
    /// Its UID when last seen.
    pub uid: String,
}

/// The `objects` value.
pub fn objects_value(objects: &[Tracked]) -> Value {
    Value::List(
        objects
            .iter()
            .map(|t| {
                Value::object([
                    ("api_version", Value::string(&t.object.api_version)),
                    ("kind", Value::string(&t.object.kind)),
                    ("namespace", Value::string(&t.object.namespace)),
                    ("name", Value::string(&t.object.name)),
                    ("uid", Value::string(&t.uid)),
                ])
            })
            .collect(),
    )
}

/// The entries of an `objects` value; malformed entries are skipped.
pub fn objects_from_value(v: &Value) -> Vec<Tracked> {
    v.as_elements()
        .unwrap_or_default()
        .iter()
        .filter_map(|o| {
            let s = |n: &str| o.get(n).as_str().map(str::to_string);
            Some(Tracked {
                object: ObjectRef {
                    api_version: s("api_version")?,
                    kind: s("kind")?,
                    namespace: s("namespace").unwrap_or_default(),
                    name: s("name")?,
                },
                uid: s("uid").unwrap_or_default(),
            })
        })
        .collect()
}

/// The `outputs` value.
pub fn outputs_value(namespace: &Value, job_name: &Value) -> Value {
    Value::object([
        ("namespace", namespace.clone()),
        ("job_name", job_name.clone()),
    ])
}

/// The `status` value of a Job as the server returned it.
pub fn status_value(job: &Job) -> Value {
    let status = job.status.clone().unwrap_or_default();
    let count = |n: Option<i32>| Value::int(i64::from(n.unwrap_or(0)));
    let time = |t: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| {
        t.map(|t| Value::string(t.0.to_string()))
            .unwrap_or(Value::Null)
    };
    let conditions = status
        .conditions
        .unwrap_or_default()
        .into_iter()
        .map(|c: JobCondition| {
            let opt = |s: Option<String>| s.map(Value::String).unwrap_or(Value::Null);
            Value::object([
                ("type", Value::String(c.type_)),
                ("status", Value::String(c.status)),
                ("reason", opt(c.reason)),
                ("message", opt(c.message)),
            ])
        })
        .collect();
    Value::object([
        ("active", count(status.active)),
        ("ready", count(status.ready)),
        ("succeeded", count(status.succeeded)),
        ("failed", count(status.failed)),
        ("start_time", time(status.start_time)),
        ("completion_time", time(status.completion_time)),
        ("conditions", Value::List(conditions)),
    ])
}

/// Whether a `status` value says the Job finished (Complete or Failed).
pub fn status_finished(status: &Value) -> bool {
    status
        .get("conditions")
        .as_elements()
        .unwrap_or_default()
        .iter()
        .any(|c| {
            matches!(c.get("type").as_str(), Some("Complete" | "Failed"))
                && c.get("status").as_str() == Some("True")
        })
}

/// Replaces every unknown inside `v` with null (a state must be known).
pub fn unknown_as_null(v: Value) -> Value {
    match v {
        Value::Unknown(_) => Value::Null,
        Value::List(items) => Value::List(items.into_iter().map(unknown_as_null).collect()),
        Value::Set(items) => Value::Set(items.into_iter().map(unknown_as_null).collect()),
        Value::Tuple(items) => Value::Tuple(items.into_iter().map(unknown_as_null).collect()),
        Value::Map(m) => Value::Map(
            m.into_iter()
                .map(|(k, v)| (k, unknown_as_null(v)))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, unknown_as_null(v)))
                .collect(),
        ),
        Value::Dynamic(t, v) => Value::Dynamic(t, Box::new(unknown_as_null(*v))),
        other => other,
    }
}

/// Sets `object[name]` (a known object) to `value`.
pub fn set(object: &mut Value, name: &str, value: Value) {
    if let Value::Object(m) = object {
        m.insert(name.to_string(), value);
    }
}

/// Marks the values that a create or replacement makes new, `objects` and
/// `status`, as known only after apply.
pub fn set_new_objects_unknown(planned: &mut Value) {
    set(planned, attr::OBJECTS, Value::UNKNOWN);
    set(planned, attr::STATUS, Value::UNKNOWN);
}

/// The object at `path` (attribute names) inside `root`, for in-place
/// edits; `None` when a step is not a known object or map.
pub fn get_mut<'a>(root: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    let mut current = root;
    for step in path {
        current = match current {
            Value::Object(m) | Value::Map(m) => m.get_mut(*step)?,
            _ => return None,
        };
    }
    Some(current)
}

/// What read learns that plan and apply need but users need not see.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Private {
    /// The Job was deleted by its TTL after finishing and the policy keeps
    /// it in state: apply must not create it again for in-place changes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub job_reaped: bool,
    /// Tracked objects that no longer exist (apply creates them again, with
    /// new UIDs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingObject>,
}

/// A tracked object that read found missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingObject {
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl MissingObject {
    /// The object `r` names.
    pub fn of(r: &ObjectRef) -> Self {
        MissingObject {
            kind: r.kind.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
        }
    }
}

impl Private {
    /// Decodes private bytes; empty or foreign bytes mean "nothing known".
    pub fn from_bytes(bytes: &[u8]) -> Private {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    /// Encodes for Terraform (empty when there is nothing to say).
    pub fn to_bytes(&self) -> Vec<u8> {
        if *self == Private::default() {
            return Vec::new();
        }
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Whether `object` was found missing.
    pub fn is_missing(&self, object: &ObjectRef) -> bool {
        self.missing.iter().any(|m| {
            m.kind == object.kind && m.namespace == object.namespace && m.name == object.name
        })
    }
}

/// Labels as a sorted map, or empty.
pub fn labels_of(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> BTreeMap<String, String> {
    meta.labels.clone().unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::Job;

    /// `objects` round-trips through its value.
    #[test]
    fn objects_round_trip() {
        let t = vec![Tracked {
            object: ObjectRef::of::<Job>("batch", "nightly"),
            uid: "u-1".into(),
        }];
        assert_eq!(objects_from_value(&objects_value(&t)), t);
    }

    /// A Job's status as a server returns it becomes the `status` value.
    #[test]
    fn status_from_server_json() {
        let job: Job = serde_json::from_value(serde_json::json!({
            "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"},
            "status": {
                "succeeded": 1, "ready": 0,
                "startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T00:00:05Z",
                "conditions": [
                    {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"},
                    {"type": "Complete", "status": "True", "reason": "CompletionsReached"}
                ]
            }
        }))
        .unwrap();
        let v = status_value(&job);
        assert_eq!(v.get("succeeded"), &Value::int(1));
        assert_eq!(v.get("active"), &Value::int(0));
        assert_eq!(v.get("start_time"), &Value::string("2026-01-01T00:00:00Z"));
        let conditions = v.get("conditions").as_elements().unwrap();
        assert_eq!(conditions[1].get("type"), &Value::string("Complete"));
        assert_eq!(conditions[1].get("message"), &Value::Null);
        assert!(status_finished(&v));
    }

    /// Private state round-trips and is empty when there is nothing to say.
    #[test]
    fn private_bytes() {
        assert!(Private::default().to_bytes().is_empty());
        let p = Private {
            job_reaped: true,
            missing: vec![],
        };
        assert_eq!(Private::from_bytes(&p.to_bytes()), p);
        assert_eq!(Private::from_bytes(b"garbage"), Private::default());
    }
}
