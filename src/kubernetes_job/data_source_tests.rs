//! The data source's pure parts: its schema reuses the resource's
//! `status` and `outputs`, its state is built from a Job and its pods, and
//! its configuration is checked before any cluster is asked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::*;
use crate::tf::AttributeKind;

fn config(namespace: &str, name: &str) -> Value {
    Value::object([
        ("namespace", Value::string(namespace)),
        ("name", Value::string(name)),
        ("cluster", Value::Null),
        ("uid", Value::Null),
        ("status", Value::Null),
        ("outputs", Value::Null),
        ("image", Value::Null),
        ("labels", Value::Null),
        ("annotations", Value::Null),
        ("pods", Value::Null),
    ])
}

fn job(labels: serde_json::Value, containers: serde_json::Value) -> Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {
            "name": "report", "namespace": "team", "uid": "u-1",
            "labels": labels, "annotations": {"note": "kept"}
        },
        "spec": {"template": {"spec": {"containers": containers}}},
        "status": {
            "succeeded": 1,
            "conditions": [{"type": "Complete", "status": "True", "reason": "CompletionsReached"}]
        }
    }))
    .unwrap()
}

fn pod(phase: &str) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": phase}, "status": {"phase": phase}}))
        .unwrap()
}

/// `status` and `outputs` are the resource's attributes (same nested
/// attributes), and every attribute but the three that name the Job is
/// computed only.
#[test]
fn schema_reuses_the_resources_status_and_outputs() {
    let ours = schema();
    let resource = crate::kubernetes_job::model::schema::schema();
    for name in ["status", "outputs"] {
        let nested = |a: &Attribute| match &a.kind {
            AttributeKind::Nested(n) => format!("{:?}", n.attributes),
            AttributeKind::Type(t) => format!("{t:?}"),
        };
        assert_eq!(
            nested(ours.block.attribute(name).unwrap()),
            nested(resource.block.attribute(name).unwrap()),
            "{name}"
        );
    }
    for a in &ours.block.attributes {
        let configurable = matches!(a.name.as_str(), "namespace" | "name" | "cluster");
        assert_eq!(!a.computed, configurable, "{}", a.name);
        assert_eq!(
            a.required,
            a.name != "cluster" && configurable,
            "{}",
            a.name
        );
    }
    assert_eq!(
        ours.value_type(),
        schema().value_type(),
        "the schema is deterministic"
    );
}

/// A Job a planton_kubernetes_job made: outputs set, image of
/// `job-container` (not the first container), labels and annotations as
/// they are, status as the resource shows it, pods counted by phase.
#[test]
fn state_of_a_planton_job() {
    let labels = json!({
        "planton.ai/resource": "true", "planton.ai/kind": "KubernetesJob", "planton.ai/name": "report"
    });
    let containers = json!([
        {"name": "sidecar", "image": "envoy:1"},
        {"name": "job-container", "image": "busybox:1.36"}
    ]);
    let job = job(labels, containers);
    let pods = [
        pod("Succeeded"),
        pod("Failed"),
        pod("Failed"),
        pod("Running"),
        pod("Unknown"),
    ];
    let s = state(&config("team", "report"), &job, &pods);
    assert_eq!(
        s.get("outputs"),
        &Value::object([
            ("namespace", Value::string("team")),
            ("job_name", Value::string("report"))
        ])
    );
    assert_eq!(s.get("image"), &Value::string("busybox:1.36"));
    assert_eq!(s.get("uid"), &Value::string("u-1"));
    assert_eq!(s.get("status"), &status_value(&job));
    assert_eq!(
        s.get("annotations"),
        &Value::Map([("note".to_string(), Value::string("kept"))].into())
    );
    assert_eq!(
        s.get("labels").get("planton.ai/kind"),
        &Value::string("KubernetesJob")
    );
    assert_eq!(
        s.get("pods"),
        &Value::object([
            ("pending", Value::int(0)),
            ("running", Value::int(1)),
            ("succeeded", Value::int(1)),
            ("failed", Value::int(2)),
        ])
    );
    assert_eq!(s.get("namespace"), &Value::string("team"));
    assert!(s.is_wholly_known());
    crate::tf::value::msgpack::encode(&s, &schema().value_type()).unwrap();
}

/// A Job another tool made (or one that only looks like Planton's, with
/// another name in its label): no outputs; the first container's image;
/// no labels is an empty map.
#[test]
fn state_of_a_foreign_job() {
    let containers = json!([{"name": "main", "image": "alpine:3"}, {"name": "b", "image": "x"}]);
    let s = state(
        &config("team", "report"),
        &job(json!(null), containers.clone()),
        &[],
    );
    assert_eq!(s.get("outputs"), &Value::Null);
    assert_eq!(s.get("image"), &Value::string("alpine:3"));
    assert_eq!(s.get("labels"), &Value::Map(Default::default()));
    assert_eq!(s.get("pods").get("succeeded"), &Value::int(0));
    let lookalike = json!({
        "planton.ai/resource": "true", "planton.ai/kind": "KubernetesJob", "planton.ai/name": "other"
    });
    let s = state(&config("team", "report"), &job(lookalike, containers), &[]);
    assert_eq!(s.get("outputs"), &Value::Null);
    crate::tf::value::msgpack::encode(&s, &schema().value_type()).unwrap();
}

/// Names Kubernetes would refuse are errors on their attribute; unknown
/// values are not checked; a cluster name is used as given.
#[test]
fn configuration_checks() {
    assert!(validate(&config("team", "report")).is_empty());
    let d = validate(&config("Team", "report_1"));
    let paths: Vec<_> =
        d.0.iter()
            .map(|d| d.path.clone().unwrap().to_string())
            .collect();
    assert_eq!(paths, ["namespace", "name"], "{d:?}");
    assert!(d.0[0].detail.contains("\"Team\""), "{d:?}");
    let mut unknown = config("team", "x");
    crate::kubernetes_job::model::state::set(&mut unknown, "name", Value::UNKNOWN);
    assert!(validate(&unknown).is_empty());
    let mut named = config("team", "report");
    crate::kubernetes_job::model::state::set(&mut named, "cluster", Value::string(" prod"));
    assert_eq!(validate(&named).0[0].summary, "Invalid Cluster Name");
    crate::kubernetes_job::model::state::set(&mut named, "cluster", Value::string("prod"));
    let id = job_of(&named).unwrap();
    assert_eq!(
        (id.cluster.as_deref(), id.to_string()),
        (Some("prod"), "prod:team/report".into())
    );
    assert!(job_of(&config("team", "-bad")).is_err());
}

/// The messages name the Job, and the cluster when it is a named one.
#[test]
fn not_found_names_the_job_and_cluster() {
    let id = ImportId::parse("prod:team/report").unwrap();
    let d = not_found(&id);
    assert_eq!(d.0.len(), 1);
    assert!(
        d.0[0]
            .detail
            .contains("\"report\" in the namespace \"team\" in the cluster \"prod\""),
        "{d:?}"
    );
    let d = not_found(&ImportId::parse("team/report").unwrap());
    assert!(!d.0[0].detail.contains("cluster"), "{d:?}");
}

/// Provider settings known only after apply: the read defers when
/// Terraform allows it (asking no cluster), and is otherwise one error
/// saying the settings are not yet known.
#[tokio::test]
async fn settings_known_only_after_apply_defer_or_fail() {
    use std::sync::Arc;

    use tokio_util::sync::CancellationToken;

    use crate::kube::clusters::Clusters;
    use crate::kube::settings::{ClustersConfig, Parsed, ProviderSettings};
    use crate::kubernetes_job::KubernetesJobDataSource;
    use crate::tf::resource::{ClientCapabilities, DataSource, DeferredReason, ReadDataRequest};

    let clusters = Arc::new(Clusters::new());
    let _ = clusters.install(ProviderSettings {
        provider: Parsed::Unknown(vec![AttributePath::root("host")]),
        clusters: ClustersConfig::Known(Default::default()),
    });
    let data_source = KubernetesJobDataSource::with_clients(clusters);
    let read = |deferral_allowed| ReadDataRequest {
        config: config("team", "report"),
        capabilities: ClientCapabilities {
            deferral_allowed,
            ..ClientCapabilities::default()
        },
        cancel: CancellationToken::new(),
    };
    let resp = data_source.read(read(true)).await;
    assert_eq!(resp.deferred, Some(DeferredReason::ProviderConfigUnknown));
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);

    let resp = data_source.read(read(false)).await;
    assert_eq!(resp.deferred, None);
    assert_eq!(resp.diagnostics.0.len(), 1, "{:?}", resp.diagnostics);
    assert_eq!(
        resp.diagnostics.0[0].summary,
        "Provider Configuration Not Yet Known"
    );
}
