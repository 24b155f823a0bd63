//! Drift rules of refresh, on objects shaped as a server returns them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use k8s_openapi::ByteString;
use serde_json::json;

use super::*;
use crate::kubernetes_job::model::spec::KubernetesJob;
use crate::kubernetes_job::render::{Object, render};
use crate::kubernetes_job::testing;

/// A state as apply leaves it, and the live objects that match it exactly
/// (with UIDs, and a finished Job status).
fn applied(edit: impl FnOnce(&mut serde_json::Value)) -> (Value, Vec<Tracked>, Vec<Option<Live>>) {
    let mut j = json!({
        "metadata": {"name": "nightly", "env": "dev"},
        "spec": {
            "namespace": {"value": "batch"},
            "create_namespace": true,
            "image": {"repo": "busybox", "tag": "1.36"},
            "env": {"secrets": {"TOKEN": {"value": "t1"}}},
            "parallelism": 1, "completions": 1, "backoff_limit": 6,
            "completion_mode": "NonIndexed", "restart_policy": "Never", "suspend": false,
            "config_maps": {"cfg": "a: 1"}
        },
        "after_ttl_deletion": "keep"
    });
    edit(&mut j);
    let state = testing::config(&j).unwrap();
    let model = KubernetesJob::from_value(&state).unwrap();
    let rendered = render(&model, &Options::from_value(&state)).unwrap();
    let mut tracked = Vec::new();
    let mut live = Vec::new();
    for (i, object) in rendered.objects().into_iter().enumerate() {
        let uid = format!("uid-{i}");
        let r = object.object_ref();
        let l = match object {
            Object::Namespace(mut o) => {
                o.metadata.uid = Some(uid.clone());
                Live::Namespace(o)
            }
            Object::ServiceAccount(mut o) => {
                o.metadata.uid = Some(uid.clone());
                Live::ServiceAccount(o)
            }
            Object::Secret(mut o) => {
                o.metadata.uid = Some(uid.clone());
                Live::Secret(o)
            }
            Object::ConfigMap(mut o) => {
                o.metadata.uid = Some(uid.clone());
                Live::ConfigMap(o)
            }
            Object::Job(mut o) => {
                o.metadata.uid = Some(uid.clone());
                o.status = serde_json::from_value(json!({
                    "succeeded": 1,
                    "conditions": [{"type": "Complete", "status": "True"}]
                }))
                .unwrap();
                Live::Job(o)
            }
        };
        tracked.push(Tracked { object: r, uid });
        live.push(Some(l));
    }
    let mut state = state;
    state::set(&mut state, "objects", state::objects_value(&tracked));
    (state, tracked, live)
}

fn index_of(tracked: &[Tracked], kind: &str) -> usize {
    tracked.iter().position(|t| t.object.kind == kind).unwrap()
}

fn drift(state: &Value) -> Vec<String> {
    state
        .get("drift")
        .as_elements()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Live objects exactly as applied: no drift, and the status is read.
#[test]
fn nothing_changed() {
    let (state, tracked, live) = applied(|_| {});
    let (new_state, private, _) = refresh(state.clone(), &tracked, &live);
    assert!(drift(&new_state).is_empty());
    assert_eq!(private, Private::default());
    assert_eq!(new_state.get("status").get("succeeded"), &Value::int(1));
    assert_eq!(new_state.get("spec"), state.get("spec"));
}

/// Contents that map onto attributes are reflected into them; deleted keys
/// and labels are drift; fields we never set are ignored.
#[test]
fn contents_are_reflected_labels_are_drift() {
    let (state, tracked, mut live) = applied(|_| {});
    let cm = index_of(&tracked, "ConfigMap");
    if let Some(Live::ConfigMap(o)) = &mut live[cm] {
        o.data = Some([("cfg".to_string(), "a: 2".to_string())].into());
    }
    let secret = index_of(&tracked, "Secret");
    if let Some(Live::Secret(o)) = &mut live[secret] {
        o.data = Some([("TOKEN".to_string(), ByteString(b"t2".to_vec()))].into());
    }
    let job = index_of(&tracked, "Job");
    if let Some(Live::Job(o)) = &mut live[job] {
        let spec = o.spec.as_mut().unwrap();
        spec.parallelism = Some(3);
        spec.active_deadline_seconds = Some(60);
        o.metadata
            .labels
            .as_mut()
            .unwrap()
            .remove("planton.ai/environment");
    }
    let (new_state, private, _) = refresh(state, &tracked, &live);
    let spec = new_state.get("spec");
    assert_eq!(spec.get("config_maps").get("cfg"), &Value::string("a: 2"));
    assert_eq!(
        spec.get("env").get("secrets").get("TOKEN").get("value"),
        &Value::string("t2")
    );
    assert_eq!(spec.get("parallelism"), &Value::int(3));
    // Not set by us: someone else's.
    assert_eq!(spec.get("active_deadline_seconds"), &Value::Null);
    assert_eq!(
        drift(&new_state),
        ["Job batch/nightly: label planton.ai/environment was removed"]
    );
    assert!(private.missing.is_empty());

    // A key removed from the env Secret is drift, and no value is quoted.
    let (state, tracked, mut live) = applied(|_| {});
    if let Some(Live::Secret(o)) = &mut live[secret] {
        o.data = Some(Default::default());
    }
    let (new_state, _, _) = refresh(state, &tracked, &live);
    assert_eq!(
        drift(&new_state),
        ["Secret batch/nightly-env-secrets: data key TOKEN was removed"]
    );
}

/// Deleted objects are drift and listed as missing; an object of the same
/// name that is not ours counts as deleted.
#[test]
fn deleted_objects() {
    let (state, tracked, mut live) = applied(|_| {});
    let sa = index_of(&tracked, "ServiceAccount");
    live[sa] = None;
    let cm = index_of(&tracked, "ConfigMap");
    if let Some(Live::ConfigMap(o)) = &mut live[cm] {
        o.metadata.uid = Some("someone-else".into());
        o.metadata.labels = None;
    }
    let (new_state, private, _) = refresh(state, &tracked, &live);
    assert_eq!(
        drift(&new_state),
        [
            "ServiceAccount batch/nightly was deleted",
            "ConfigMap batch/cfg was deleted and another object of the same name was created outside \
             Terraform; it is not this resource's"
        ]
    );
    assert_eq!(private.missing.len(), 2);
    assert_eq!(
        state::objects_from_value(new_state.get("objects")).len(),
        tracked.len()
    );
}

/// A deleted Job: kept as finished under "keep" with a TTL; drift that
/// creates it again under "recreate" or without a TTL.
#[test]
fn deleted_job_follows_the_policy() {
    for (policy, ttl, want_reaped, want_drift) in [
        ("keep", Some(600), true, None),
        (
            "recreate",
            Some(600),
            false,
            Some(
                "Job batch/nightly was deleted by its TTL after it finished; after_ttl_deletion = \"recreate\" creates it again",
            ),
        ),
        ("keep", None, false, Some("Job batch/nightly was deleted")),
        // 0 means no TTL (as in Planton), so the TTL cannot explain it.
        (
            "keep",
            Some(0),
            false,
            Some("Job batch/nightly was deleted"),
        ),
    ] {
        let (state, tracked, mut live) = applied(|j| {
            j["after_ttl_deletion"] = json!(policy);
            j["spec"]["ttl_seconds_after_finished"] = json!(ttl);
        });
        let job = index_of(&tracked, "Job");
        live[job] = None;
        let (new_state, private, _) = refresh(state.clone(), &tracked, &live);
        assert_eq!(private.job_reaped, want_reaped, "{policy} {ttl:?}");
        assert_eq!(
            drift(&new_state),
            want_drift
                .map(str::to_string)
                .into_iter()
                .collect::<Vec<_>>(),
            "{policy} {ttl:?}"
        );
        assert_eq!(new_state.get("status"), state.get("status"));
    }
}
