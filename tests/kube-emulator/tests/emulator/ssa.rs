//! Server-side apply: conflicts, force, no-op re-apply, pruning, fieldManager.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::util::{env, job, status_of};

fn cm(data: serde_json::Value) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": data})
}

/// Server-side apply of ConfigMap `cfg` with `data`.
async fn apply_cfg(
    cms: &Api<ConfigMap>,
    pp: &PatchParams,
    data: serde_json::Value,
) -> kube::Result<ConfigMap> {
    cms.patch("cfg", pp, &Patch::Apply(cm(data))).await
}

/// A second manager applying a field the first owns gets 409 listing the conflict; force takes it.
#[tokio::test]
async fn apply_conflicts_between_managers_unless_forced() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    apply_cfg(
        &cms,
        &PatchParams::apply("alice"),
        json!({"a": "1", "b": "1"}),
    )
    .await
    .unwrap();
    let s = status_of(
        apply_cfg(&cms, &PatchParams::apply("bob"), json!({"a": "2"}))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Apply failed with 1 conflict: conflict with \"alice\": .data.a"
    );
    let cause = &s.details.unwrap().causes[0];
    assert_eq!(
        (cause.reason.as_str(), cause.field.as_str()),
        ("FieldManagerConflict", ".data.a")
    );
    // Same value: shared ownership, no conflict.
    apply_cfg(&cms, &PatchParams::apply("bob"), json!({"b": "1"}))
        .await
        .unwrap();
    let forced = apply_cfg(
        &cms,
        &PatchParams::apply("bob").force(),
        json!({"a": "2", "b": "1"}),
    )
    .await
    .unwrap();
    assert_eq!(forced.data.unwrap()["a"], "2");
    let managers: Vec<String> = forced
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .map(|m| m.manager.unwrap())
        .collect();
    assert!(managers.contains(&"alice".to_string()) && managers.contains(&"bob".to_string()));
    // Alice now conflicts with bob on a, listing both of her conflicting fields.
    let s = status_of(
        apply_cfg(
            &cms,
            &PatchParams::apply("alice"),
            json!({"a": "3", "b": "3"}),
        )
        .await
        .unwrap_err(),
    );
    assert!(
        s.message.starts_with(
            "Apply failed with 2 conflicts: conflicts with \"bob\":\n- .data.a\n- .data.b"
        ),
        "{}",
        s.message
    );
}

/// Re-applying the same configuration is a no-op: the resourceVersion does not move.
#[tokio::test]
async fn reapply_of_same_config_keeps_resource_version() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job("same", &[("EMULATOR_NEVER_EXIT", "1")]);
    spec["spec"]["suspend"] = json!(true);
    let pp = PatchParams::apply("planton");
    let first = jobs
        .patch("same", &pp, &Patch::Apply(spec.clone()))
        .await
        .unwrap();
    // The job controller records Suspended first; after that nothing else writes.
    let settled = crate::util::wait_job(&jobs, "same", 10, |j| {
        crate::util::has_condition(j, "Suspended")
    })
    .await;
    let rv = settled.metadata.resource_version;
    let second = jobs
        .patch("same", &pp, &Patch::Apply(spec.clone()))
        .await
        .unwrap();
    assert_eq!(second.metadata.resource_version, rv);
    assert_eq!(first.metadata.uid, second.metadata.uid);
    // Changing the template is refused as a real API server refuses it.
    spec["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:1.37");
    let s = status_of(
        jobs.patch("same", &pp, &Patch::Apply(spec))
            .await
            .unwrap_err(),
    );
    assert!(s.message.ends_with("field is immutable"), "{}", s.message);
}

/// Fields a manager stops applying are removed when nobody else owns them.
#[tokio::test]
async fn dropped_fields_are_removed() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    let pp = PatchParams::apply("alice");
    cms.patch("cfg", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "labels": {"x": "1", "y": "2"}}, "data": {"a": "1", "b": "2"}}))).await.unwrap();
    apply_cfg(&cms, &PatchParams::apply("bob"), json!({"b": "2"}))
        .await
        .unwrap();
    let c = cms.patch("cfg", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "labels": {"x": "1"}}, "data": {}}))).await.unwrap();
    assert_eq!(c.metadata.labels.unwrap().len(), 1);
    // a is gone (only alice owned it); b stays (bob owns it too).
    assert_eq!(
        c.data.unwrap().keys().cloned().collect::<Vec<_>>(),
        vec!["b".to_string()]
    );
}

/// Apply without fieldManager is 422; apply creates a missing object (201) with an Apply entry.
#[tokio::test]
async fn apply_requires_field_manager_and_creates() {
    let e = env().await;
    let body = serde_json::to_vec(&cm(json!({"a": "1"}))).unwrap();
    let path = "/api/v1/namespaces/default/configmaps/cfg";
    let (code, _, s) = e
        .raw(
            "PATCH",
            path,
            Some("application/apply-patch+yaml"),
            body.clone(),
        )
        .await;
    assert_eq!(code, 422);
    assert_eq!(
        s["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    let (code, _, obj) = e
        .raw(
            "PATCH",
            &format!("{path}?fieldManager=m"),
            Some("application/apply-patch+yaml"),
            body,
        )
        .await;
    assert_eq!(code, 201);
    assert_eq!(obj["metadata"]["managedFields"][0]["operation"], "Apply");
    assert_eq!(
        obj["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:data": {"f:a": {}}})
    );
    let yaml =
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"1\"\n  b: two\n"
            .to_vec();
    let (code, _, obj) = e
        .raw(
            "PATCH",
            &format!("{path}?fieldManager=m"),
            Some("application/apply-patch+yaml"),
            yaml,
        )
        .await;
    assert_eq!(code, 200, "{obj}");
    assert_eq!(obj["data"]["b"], "two");
}

/// Applying a field another client set with an update names that manager and its apiVersion.
#[tokio::test]
async fn apply_conflict_with_update_manager_names_api_version() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    let created: ConfigMap =
        crate::util::typed(json!({"metadata": {"name": "cfg"}, "data": {"a": "1"}}));
    cms.create(
        &kube::api::PostParams {
            field_manager: Some("creator".into()),
            ..Default::default()
        },
        &created,
    )
    .await
    .unwrap();
    let s = status_of(
        apply_cfg(&cms, &PatchParams::apply("applier"), json!({"a": "2"}))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        s.message,
        "Apply failed with 1 conflict: conflict with \"creator\" using v1: .data.a"
    );
}

/// An apply that names a UID is a precondition, as in kube-apiserver: on a
/// missing object it is refused (409, "uid mismatch") instead of creating
/// it, and on an object with another UID it is refused (422, the UID is
/// immutable); only the named object is changed.
#[tokio::test]
async fn apply_with_a_uid_changes_only_that_object() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    let pp = PatchParams::apply("planton").force();
    let mut body = cm(json!({"a": "1"}));
    body["metadata"]["uid"] = json!("0b5d8f0e-0000-4000-8000-000000000001");
    let s = status_of(
        cms.patch("cfg", &pp, &Patch::Apply(&body))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert!(
        s.message.ends_with(
            "uid mismatch: the provided object specified uid 0b5d8f0e-0000-4000-8000-000000000001, and no existing object was found"
        ),
        "{}",
        s.message
    );
    assert!(cms.get_opt("cfg").await.unwrap().is_none());

    let created = apply_cfg(&cms, &pp, json!({"a": "1"})).await.unwrap();
    let uid = created.metadata.uid.clone().unwrap();
    let s = status_of(
        cms.patch("cfg", &pp, &Patch::Apply(&body))
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 422, "{}", s.message);
    assert!(s.message.contains("metadata.uid"), "{}", s.message);
    body["metadata"]["uid"] = json!(uid);
    body["data"] = json!({"a": "2"});
    let updated = cms.patch("cfg", &pp, &Patch::Apply(&body)).await.unwrap();
    assert_eq!(updated.data.unwrap()["a"], "2");
}

/// A request may rewrite managedFields, as kube-apiserver allows: turning
/// the create's Update entry into an Apply entry of the same manager makes
/// a later apply that drops a field remove it.
#[tokio::test]
async fn managed_fields_can_be_rewritten_by_a_patch() {
    use kube::api::PostParams;
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    let created = cms
        .create(
            &PostParams {
                field_manager: Some("planton".into()),
                ..PostParams::default()
            },
            &serde_json::from_value(cm(json!({"a": "1", "b": "2"}))).unwrap(),
        )
        .await
        .unwrap();
    let entries = created.metadata.managed_fields.clone().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].operation.as_deref(), Some("Update"));
    let mut converted = serde_json::to_value(&entries).unwrap();
    converted[0]["operation"] = json!("Apply");
    let rv = created.metadata.resource_version.clone().unwrap();
    let patch = json!([
        {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
        {"op": "replace", "path": "/metadata/managedFields", "value": converted}
    ]);
    let patched = cms
        .patch(
            "cfg",
            &PatchParams::default(),
            &Patch::Json::<()>(serde_json::from_value(patch).unwrap()),
        )
        .await
        .unwrap();
    let entries = patched.metadata.managed_fields.unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].operation.as_deref(), Some("Apply"));
    let applied = apply_cfg(
        &cms,
        &PatchParams::apply("planton").force(),
        json!({"a": "1"}),
    )
    .await
    .unwrap();
    let data = applied.data.unwrap();
    assert!(!data.contains_key("b"), "{data:?}");
}

/// A manager that applies nothing more releases what only it owned, even
/// inside a map another manager created: its own keys go, shared keys stay.
#[tokio::test]
async fn an_empty_apply_releases_the_keys_only_that_manager_owned() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    apply_cfg(&cms, &PatchParams::apply("alice"), json!({"shared": "1"}))
        .await
        .unwrap();
    apply_cfg(
        &cms,
        &PatchParams::apply("bob"),
        json!({"shared": "1", "bobs": "2"}),
    )
    .await
    .unwrap();
    let released = cms
        .patch(
            "cfg",
            &PatchParams::apply("bob"),
            &Patch::Apply(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}),
            ),
        )
        .await
        .unwrap();
    let data = released.data.unwrap();
    assert_eq!(data.get("shared").map(String::as_str), Some("1"));
    assert!(!data.contains_key("bobs"), "{data:?}");
}
