//! The resource lifecycle with the real Terraform CLI against the emulator:
//! apply creates exactly the expected objects, a second plan is empty,
//! destroy leaves the cluster as it was found.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

use crate::cluster::Cluster;
use crate::harness::{Output, Tf};

/// `terraform apply -auto-approve`, whatever its exit code.
pub fn apply(tf: &Tf) -> Output {
    tf.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
}

/// `terraform plan -detailed-exitcode`: 0 no changes, 2 changes.
pub fn plan_exit(tf: &Tf) -> Output {
    tf.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])
}

/// `terraform destroy -auto-approve`, which must succeed.
pub fn destroy(tf: &Tf) -> Output {
    tf.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
        .success()
}

/// A Terraform world whose provider block points at `cluster`, with `hcl`
/// as the rest of the configuration; initialised.
pub fn world(name: &str, hcl: &str) -> (Tf, Cluster) {
    let tf = Tf::new(name);
    let cluster = Cluster::start(&tf.home());
    tf.config(&format!("{}\n{hcl}", cluster.provider_block()));
    tf.init();
    (tf, cluster)
}

/// The labels every object of the job `name` carries.
fn planton_labels(name: &str) -> BTreeMap<String, String> {
    [
        ("planton.ai/resource", "true"),
        ("planton.ai/name", name),
        ("planton.ai/kind", "KubernetesJob"),
        ("planton.ai/organization", "acme"),
        ("planton.ai/environment", "dev"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

const REPORT: &str = r#"
resource "planton_kubernetes_job" "report" {
  metadata = {
    name = "nightly-report"
    org  = "acme"
    env  = "dev"
  }
  spec = {
    namespace        = { value = "reports" }
    create_namespace = true
    image            = { repo = "busybox", tag = "1.36" }
    command          = ["/bin/sh", "-c", "cat /etc/report/report.yaml"]
    env = {
      variables = {
        EMULATOR_RUN_SECONDS = { value = "0.2" }
        REPORT_DAY           = { value = "yesterday" }
      }
      secrets = {
        DB_PASSWORD = { value = "quickstart-only" }
      }
    }
    config_maps = {
      "nightly-report-config" = "format: csv\n"
    }
    volume_mounts = [
      {
        name       = "config"
        mount_path = "/etc/report"
        read_only  = true
        config_map = { name = "nightly-report-config", key = "nightly-report-config", path = "report.yaml" }
      },
      {
        name       = "scratch"
        mount_path = "/scratch"
        empty_dir  = { size_limit = "64Mi" }
      },
    ]
    backoff_limit = 2
  }
}

output "outputs" {
  value = planton_kubernetes_job.report.outputs
}

output "succeeded" {
  value = planton_kubernetes_job.report.status.succeeded
}
"#;

/// Issue 6, acceptance 1: apply creates exactly the expected objects with
/// the expected names and labels; a second plan shows no changes; destroy
/// removes the namespace the resource created.
#[test]
fn apply_plan_destroy_created_namespace() {
    let (tf, cluster) = world("lifecycle-created-ns", REPORT);
    apply(&tf).success();

    assert_eq!(
        cluster.names("/apis/batch/v1", "reports", "jobs"),
        ["nightly-report"]
    );
    assert_eq!(
        cluster.names("/api/v1", "reports", "configmaps"),
        ["kube-root-ca.crt", "nightly-report-config"]
    );
    assert_eq!(
        cluster.names("/api/v1", "reports", "secrets"),
        ["nightly-report-env-secrets"]
    );
    assert_eq!(
        cluster.names("/api/v1", "reports", "serviceaccounts"),
        ["default", "nightly-report"]
    );
    let labels = planton_labels("nightly-report");
    let job: Job = cluster.get("reports", "nightly-report").unwrap();
    let cm: ConfigMap = cluster.get("reports", "nightly-report-config").unwrap();
    let secret: Secret = cluster
        .get("reports", "nightly-report-env-secrets")
        .unwrap();
    let sa: ServiceAccount = cluster.get("reports", "nightly-report").unwrap();
    let ns = cluster
        .block_on(Api::<Namespace>::all(cluster.client.clone()).get("reports"))
        .unwrap();
    for (what, meta) in [
        ("job", &job.metadata),
        ("config map", &cm.metadata),
        ("secret", &secret.metadata),
        ("service account", &sa.metadata),
        ("namespace", &ns.metadata),
    ] {
        let have = meta.labels.clone().unwrap_or_default();
        for (k, v) in &labels {
            assert_eq!(have.get(k), Some(v), "{what} label {k}: {have:?}");
        }
    }
    let template_labels = job
        .spec
        .as_ref()
        .unwrap()
        .template
        .metadata
        .as_ref()
        .unwrap()
        .labels
        .clone()
        .unwrap();
    for (k, v) in &labels {
        assert_eq!(template_labels.get(k), Some(v), "pod template label {k}");
    }

    let out = tf.run(&["output", "-json"]).success().json();
    assert_eq!(
        out["outputs"]["value"],
        json!({"namespace": "reports", "job_name": "nightly-report"})
    );
    assert_eq!(out["succeeded"]["value"], json!(1));

    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "second plan is not empty:\n{plan}");

    destroy(&tf);
    assert!(!cluster.namespace_exists("reports"));
}

/// Issue 6, acceptance 1: in a namespace the resource did not create,
/// destroy removes exactly its objects and leaves the namespace (and
/// everything else in it) as it was.
#[test]
fn destroy_leaves_existing_namespace_as_found() {
    let hcl = REPORT
        .replace("create_namespace = true", "create_namespace = false")
        .replace("\"reports\"", "\"team\"");
    let tf = Tf::new("lifecycle-existing-ns");
    let cluster = Cluster::start(&tf.home());
    cluster
        .block_on(
            Api::<Namespace>::all(cluster.client.clone()).create(
                &PostParams::default(),
                &serde_json::from_value(
                    json!({"metadata": {"name": "team", "labels": {"owner": "platform"}}}),
                )
                .unwrap(),
            ),
        )
        .unwrap();
    cluster
        .block_on(
            cluster.api::<ConfigMap>("team").create(
                &PostParams::default(),
                &serde_json::from_value(
                    json!({"metadata": {"name": "team-settings"}, "data": {"a": "b"}}),
                )
                .unwrap(),
            ),
        )
        .unwrap();
    let before = (
        cluster.names("/api/v1", "team", "configmaps"),
        cluster.names("/api/v1", "team", "secrets"),
        cluster.names("/api/v1", "team", "serviceaccounts"),
    );
    tf.config(&format!("{}\n{hcl}", cluster.provider_block()));
    tf.init();
    apply(&tf).success();
    assert_eq!(
        cluster.names("/apis/batch/v1", "team", "jobs"),
        ["nightly-report"]
    );
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "second plan is not empty:\n{plan}");

    destroy(&tf);
    assert!(cluster.namespace_exists("team"));
    let ns = cluster
        .block_on(Api::<Namespace>::all(cluster.client.clone()).get("team"))
        .unwrap();
    assert_eq!(
        ns.metadata.labels.unwrap().get("owner").map(String::as_str),
        Some("platform")
    );
    let after = (
        cluster.names("/api/v1", "team", "configmaps"),
        cluster.names("/api/v1", "team", "secrets"),
        cluster.names("/api/v1", "team", "serviceaccounts"),
    );
    assert_eq!(before, after);
    assert!(cluster.names("/apis/batch/v1", "team", "jobs").is_empty());
}
