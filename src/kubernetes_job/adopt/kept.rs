//! Jobs adopted by import that this provider did not create: what their
//! spec cannot express, kept in private state and applied back.
//!
//! Everything that could make an in-place update change such a Job's pod
//! template lives in the template, and every template change replaces the
//! Job (`buckets`). So an adopted Job's template (and its own labels) is
//! kept exactly as import found it and applied unchanged by in-place
//! updates ([`Adopted::restore`]); objects it does not use (the
//! ServiceAccount Planton would create) are not created for it
//! ([`Adopted::manages`]). A replacement renders the Job from the spec
//! alone, as Planton does.
//!
//! [`differences`] compares the Job rendered from the imported spec with
//! the live one, ignoring what the API server fills in, and names the
//! fields the spec cannot express; import warns with that list.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};

use crate::kube::ObjectRef;
use crate::kubernetes_job::adopt::fetch::Found;
use crate::kubernetes_job::model::quantity::Quantity;
use crate::kubernetes_job::render::{Object, Rendered};

/// Labels the API server and the job controller put on a Job and its pod
/// template; never ours to send or compare.
pub const GENERATED_LABELS: [&str; 4] = [
    "controller-uid",
    "job-name",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
];

/// What an adopted Job keeps that its spec cannot express.
///
/// The template is kept with its literal env values replaced by keyed
/// hashes (private state lives in the state file): an in-place update
/// applies the live Job's own template once its hashed form is the one
/// kept, so no value is ever stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adopted {
    /// The pod template as import found it (generated labels removed),
    /// env values hashed under `key`.
    pub template: J,
    /// The key of the env value hashes; empty in states from before they
    /// were hashed (their template holds the values themselves).
    #[serde(default)]
    pub key: String,
    /// The Job's own labels as import found it (generated ones removed).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Whether the Job's pods use the ServiceAccount Planton names after
    /// the Job (and it exists as ours), so that it stays managed.
    #[serde(default)]
    pub service_account: bool,
}

impl Adopted {
    /// Records the live Job's template and labels.
    pub fn from_live(job: &Job, found: &Found) -> Adopted {
        let name = job.metadata.name.clone().unwrap_or_default();
        let template = job
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let uses_ours = template
            .spec
            .as_ref()
            .and_then(|p| p.service_account_name.as_deref())
            == Some(name.as_str());
        let key = crate::kubernetes_job::model::write_only::random_key();
        let mut template = kept_template(job);
        hash_env_values(&mut template, &key);
        let mut labels = job.metadata.labels.clone().unwrap_or_default();
        labels.retain(|k, _| !GENERATED_LABELS.contains(&k.as_str()));
        Adopted {
            template,
            key,
            labels,
            service_account: uses_ours && found.service_account.is_some(),
        }
    }

    /// Puts the kept labels into a rendering, and the live Job's template
    /// when `live` is given and its hashed form is the one kept. Returns
    /// false when the live template is not the one import found (it was
    /// replaced outside Terraform), so that nothing is applied over it.
    pub fn restore(&self, rendered: &mut Rendered, live: Option<&Job>) -> bool {
        rendered.job.metadata.labels = Some(self.labels.clone());
        let Some(live) = live else {
            return true;
        };
        let template = if self.key.is_empty() {
            // Kept before env values were hashed: the template itself.
            self.template.clone()
        } else {
            let found = kept_template(live);
            let mut hashed = found.clone();
            hash_env_values(&mut hashed, &self.key);
            if hashed != self.template {
                return false;
            }
            found
        };
        if let Ok(template) = serde_json::from_value::<PodTemplateSpec>(template)
            && let Some(spec) = rendered.job.spec.as_mut()
        {
            spec.template = template;
        }
        true
    }

    /// Whether this resource manages `object` for the adopted Job.
    pub fn manages(&self, object: &Object) -> bool {
        self.manages_ref(&object.object_ref())
    }

    /// Whether this resource manages the object `r` for the adopted Job.
    pub fn manages_ref(&self, r: &ObjectRef) -> bool {
        r.kind != "ServiceAccount" || self.service_account
    }
}

/// A Job's pod template as JSON, without what the API server and the job
/// controller generate.
fn kept_template(job: &Job) -> J {
    let template = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let mut template = serde_json::to_value(&template).unwrap_or(J::Null);
    if let Some(labels) = template
        .get_mut("metadata")
        .and_then(|m| m.get_mut("labels"))
        .and_then(J::as_object_mut)
    {
        labels.retain(|k, _| !GENERATED_LABELS.contains(&k.as_str()));
    }
    if let Some(meta) = template.get_mut("metadata").and_then(J::as_object_mut) {
        meta.remove("creationTimestamp");
    }
    template
}

/// Replaces every literal env value of the template's containers with its
/// keyed hash.
fn hash_env_values(template: &mut J, key: &str) {
    for list in ["containers", "initContainers"] {
        let Some(containers) = template
            .get_mut("spec")
            .and_then(|s| s.get_mut(list))
            .and_then(J::as_array_mut)
        else {
            continue;
        };
        for c in containers {
            for e in c
                .get_mut("env")
                .and_then(J::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(v) = e.get_mut("value")
                    && let Some(text) = v.as_str()
                {
                    *v = J::String(format!(
                        "hmac-sha256:{}",
                        crate::kubernetes_job::model::write_only::keyed_hash(key, text)
                    ));
                }
            }
        }
    }
}

/// The fields of `live` that `rendered` (the Job the imported spec
/// renders) does not reproduce, as paths like
/// `spec.template.spec.containers[0].name`. What the API server fills in
/// by default, and generated labels and selectors, do not count.
pub fn differences(rendered: &Job, live: &Job) -> Vec<String> {
    let want = serde_json::to_value(rendered).unwrap_or(J::Null);
    let have = serde_json::to_value(live).unwrap_or(J::Null);
    let mut out = Vec::new();
    let labels = |j: &J| {
        let mut m = j
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .cloned()
            .unwrap_or(J::Object(Map::new()));
        if let Some(o) = m.as_object_mut() {
            o.retain(|k, _| !GENERATED_LABELS.contains(&k.as_str()));
        }
        m
    };
    compare(&labels(&want), &labels(&have), "metadata.labels", &mut out);
    let spec = |j: &J| j.get("spec").cloned().unwrap_or(J::Null);
    compare(&spec(&want), &spec(&have), "spec", &mut out);
    out.sort();
    out.dedup();
    out
}

/// `[3]` to `[]`, so a path matches the defaults table.
fn pattern(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether `value` at `path` (present only in the live object) is what the
/// API server or a controller fills in.
fn is_server_default(path: &str, value: &J, live_parent: &J) -> bool {
    let p = pattern(path);
    let is = |expected: J| *value == expected;
    match p.as_str() {
        "spec.selector" | "spec.template.metadata.creationTimestamp" => true,
        "spec.podReplacementPolicy" => is(J::from("TerminatingOrFailed")) || is(J::from("Failed")),
        "spec.manualSelector" => is(J::Bool(false)),
        "spec.template.spec.dnsPolicy" => is(J::from("ClusterFirst")),
        "spec.template.spec.schedulerName" => is(J::from("default-scheduler")),
        "spec.template.spec.securityContext" | "spec.template.spec.containers[].resources" => {
            is(J::Object(Map::new()))
        }
        "spec.template.spec.terminationGracePeriodSeconds" => is(J::from(30)),
        "spec.template.spec.enableServiceLinks" => is(J::Bool(true)),
        "spec.template.spec.priority" => is(J::from(0)),
        "spec.template.spec.preemptionPolicy" => is(J::from("PreemptLowerPriority")),
        // The deprecated alias the server copies from serviceAccountName.
        "spec.template.spec.serviceAccount" => live_parent.get("serviceAccountName") == Some(value),
        "spec.template.spec.containers[].terminationMessagePath" => {
            is(J::from("/dev/termination-log"))
        }
        "spec.template.spec.containers[].terminationMessagePolicy" => is(J::from("File")),
        "spec.template.spec.containers[].imagePullPolicy" => {
            is(J::from("IfNotPresent")) || is(J::from("Always"))
        }
        "spec.template.spec.containers[].env[].valueFrom.fieldRef.apiVersion" => is(J::from("v1")),
        "spec.template.spec.volumes[].configMap.defaultMode"
        | "spec.template.spec.volumes[].secret.defaultMode" => is(J::from(420)),
        "spec.template.spec.volumes[].hostPath.type" => is(J::from("")),
        "spec.template.spec.containers[].volumeMounts[].readOnly"
        | "spec.template.spec.volumes[].persistentVolumeClaim.readOnly" => is(J::Bool(false)),
        _ => p
            .strip_prefix("spec.template.metadata.labels.")
            .is_some_and(|label| GENERATED_LABELS.contains(&label)),
    }
}

/// Whether `path` holds a resource quantity.
fn is_quantity(path: &str) -> bool {
    let p = pattern(path);
    p.contains(".resources.limits.")
        || p.contains(".resources.requests.")
        || p.ends_with(".emptyDir.sizeLimit")
}

fn same_scalar(path: &str, a: &J, b: &J) -> bool {
    if a == b {
        return true;
    }
    match (a, b) {
        (J::String(x), J::String(y)) if is_quantity(path) => {
            matches!((Quantity::parse(x), Quantity::parse(y)), (Ok(p), Ok(q)) if p == q)
        }
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        _ => false,
    }
}

fn compare(want: &J, have: &J, path: &str, out: &mut Vec<String>) {
    match (want, have) {
        (J::Object(w), J::Object(h)) => {
            for (k, wv) in w {
                let here = format!("{path}.{k}");
                match h.get(k) {
                    Some(hv) => compare(wv, hv, &here, out),
                    None if wv.is_null() || is_empty_default(wv) => {}
                    None => out.push(here),
                }
            }
            for (k, hv) in h {
                if w.contains_key(k) || hv.is_null() {
                    continue;
                }
                let here = format!("{path}.{k}");
                if is_server_default(&here, hv, have) {
                    continue;
                }
                // An object only the server has: each of its fields must be
                // a default.
                match hv {
                    J::Object(_) => compare(&J::Object(Map::new()), hv, &here, out),
                    _ => out.push(here),
                }
            }
        }
        (J::Array(w), J::Array(h)) => match merge_key(path) {
            // Lists Kubernetes merges by a key: matched by it, named by it.
            Some(key) => {
                let keys = |items: &[J]| -> Vec<String> {
                    items
                        .iter()
                        .map(|i| {
                            i.get(key)
                                .and_then(J::as_str)
                                .unwrap_or_default()
                                .to_string()
                        })
                        .collect()
                };
                let (wk, hk) = (keys(w), keys(h));
                for (k, wv) in wk.iter().zip(w) {
                    let here = format!("{path}[{k}]");
                    match hk.iter().position(|x| x == k) {
                        Some(j) => compare(wv, &h[j], &here, out),
                        None => out.push(here),
                    }
                }
                for k in hk.iter().filter(|k| !wk.contains(k)) {
                    out.push(format!("{path}[{k}]"));
                }
                let common_w: Vec<&String> = wk.iter().filter(|k| hk.contains(k)).collect();
                let common_h: Vec<&String> = hk.iter().filter(|k| wk.contains(k)).collect();
                if common_w != common_h {
                    out.push(format!("{path} (order)"));
                }
            }
            None => {
                for i in 0..w.len().max(h.len()) {
                    let here = format!("{path}[{i}]");
                    match (w.get(i), h.get(i)) {
                        (Some(wv), Some(hv)) => compare(wv, hv, &here, out),
                        _ => out.push(here),
                    }
                }
            }
        },
        (J::Null, J::Null) => {}
        (J::Null, h) if is_server_default(path, h, &J::Null) => {}
        (w, h) if w.is_null() || h.is_null() => {
            if !(is_empty_default(w) || is_empty_default(h)) {
                out.push(path.to_string());
            }
        }
        (w, h) => {
            if !same_scalar(path, w, h) {
                out.push(path.to_string());
            }
        }
    }
}

/// The key Kubernetes merges the list at `path` by, where we name items by
/// it.
fn merge_key(path: &str) -> Option<&'static str> {
    let p = pattern(path);
    if p.ends_with(".env") || p.ends_with(".volumes") || p.ends_with(".imagePullSecrets") {
        Some("name")
    } else if p.ends_with(".volumeMounts") {
        Some("mountPath")
    } else {
        None
    }
}

/// An empty object or list, which the server may leave out.
fn is_empty_default(v: &J) -> bool {
    match v {
        J::Object(m) => m.is_empty(),
        J::Array(a) => a.is_empty(),
        J::Null => true,
        _ => false,
    }
}

/// A rendered object as JSON with values that mean the same written the
/// same: quantities as thousandths, and the volume file mode the server
/// fills in left out. Used to tell whether two states render the same
/// objects.
pub fn normalized(j: J) -> J {
    fn walk(j: J, path: &str) -> J {
        match j {
            J::Object(m) => J::Object(
                m.into_iter()
                    .filter(|(k, v)| !(k == "defaultMode" && v.as_i64() == Some(420)))
                    .map(|(k, v)| {
                        let here = format!("{path}.{k}");
                        (k, walk(v, &here))
                    })
                    .collect(),
            ),
            J::Array(a) => J::Array(
                a.into_iter()
                    .enumerate()
                    .map(|(i, v)| walk(v, &format!("{path}[{i}]")))
                    .collect(),
            ),
            J::String(s) if is_quantity(path) => match Quantity::parse(&s) {
                Ok(q) => J::String(q.to_string()),
                Err(_) => J::String(s),
            },
            other => other,
        }
    }
    walk(j, "")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    fn job(spec: J) -> Job {
        serde_json::from_value(json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "x", "namespace": "ns", "labels": {"a": "b"}},
            "spec": spec,
        }))
        .unwrap()
    }

    /// What the server fills in is not a difference; what the spec cannot
    /// say is, by its path.
    #[test]
    fn differences_ignore_server_defaults() {
        let rendered = job(json!({
            "parallelism": 1,
            "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "job-container", "image": "busybox:1.36",
                    "resources": {"limits": {"cpu": "1000m", "memory": "1Gi"}},
                    "volumeMounts": [{"name": "v", "mountPath": "/v", "readOnly": false}]}],
                "volumes": [{"name": "v", "configMap": {"name": "cm"}}]
            }}
        }));
        let mut live = json!({
            "parallelism": 1,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
            "podReplacementPolicy": "TerminatingOrFailed",
            "template": {
                "metadata": {"labels": {"batch.kubernetes.io/job-name": "x", "controller-uid": "u"}},
                "spec": {
                "restartPolicy": "Never",
                "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
                "securityContext": {}, "terminationGracePeriodSeconds": 30,
                "containers": [{"name": "job-container", "image": "busybox:1.36",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
                    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                    "volumeMounts": [{"name": "v", "mountPath": "/v", "readOnly": false}]}],
                "volumes": [{"name": "v", "configMap": {"name": "cm", "defaultMode": 420}}]
            }}
        });
        assert_eq!(
            differences(&rendered, &job(live.clone())),
            Vec::<String>::new()
        );
        live["template"]["spec"]["containers"][0]["name"] = json!("main");
        live["template"]["spec"]["nodeSelector"] = json!({"disk": "ssd"});
        live["backoffLimitPerIndex"] = json!(1);
        assert_eq!(
            differences(&rendered, &job(live)),
            [
                "spec.backoffLimitPerIndex",
                "spec.template.spec.containers[0].name",
                "spec.template.spec.nodeSelector.disk",
            ]
        );
    }

    /// Restoring puts the kept template and labels back and drops the
    /// ServiceAccount the adopted Job does not use.
    #[test]
    fn restore_and_manages() {
        let a = Adopted {
            template: json!({"spec": {"containers": [{"name": "main", "image": "busybox"}]}}),
            labels: BTreeMap::from([("app".to_string(), "x".to_string())]),
            service_account: false,
            // A state from before env values were hashed.
            key: String::new(),
        };
        let mut rendered = crate::kubernetes_job::render::render(
            &crate::kubernetes_job::model::spec::KubernetesJob::from_value(
                &crate::kubernetes_job::testing::config(&json!({
                    "metadata": {"name": "x"},
                    "spec": {"namespace": {"value": "ns"}, "image": {"repo": "busybox"},
                             "restart_policy": "Never"}
                }))
                .unwrap(),
            )
            .unwrap(),
            &crate::kubernetes_job::model::options::Options::default(),
        )
        .unwrap();
        let live = rendered.job.clone();
        assert!(a.restore(&mut rendered, Some(&live)));
        let spec = rendered.job.spec.as_ref().unwrap();
        assert_eq!(
            spec.template.spec.as_ref().unwrap().containers[0].name,
            "main"
        );
        assert_eq!(
            rendered
                .job
                .metadata
                .labels
                .as_ref()
                .unwrap()
                .get("app")
                .unwrap(),
            "x"
        );
        let kept: Vec<String> = rendered
            .objects()
            .iter()
            .filter(|o| a.manages(o))
            .map(|o| o.object_ref().kind)
            .collect();
        assert_eq!(kept, ["Job"]);
    }

    /// Quantities written differently normalise to the same text, and the
    /// default file mode disappears.
    #[test]
    fn normalisation() {
        let a = normalized(
            json!({"resources": {"limits": {"cpu": "1000m"}}, "configMap": {"defaultMode": 420}}),
        );
        let b = normalized(json!({"resources": {"limits": {"cpu": "1"}}, "configMap": {}}));
        assert_eq!(a, b);
    }
}
