//! The data source `planton_kubernetes_job` with the real Terraform CLI
//! against the emulator: it reads Jobs another tool made and Jobs a
//! `planton_kubernetes_job` made, a missing Job is one error naming it, a
//! refused read names the permission missing, every plan reads the Job
//! afresh, Ctrl-C ends a read that gets no answer, and the oldest supported
//! Terraform reads it too.

use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use kube_emulator::EmulatorConfig;
use kube_emulator::authz::Authorization;
use serde_json::{Value as Json, json};

use crate::harness::{Cluster, Output, Tf, apply, flat, interrupted, plan_exit, world};

/// A Job as kubectl would make it, in `namespace`: labels, an annotation,
/// a sidecar before the container named `main`, and a run that exits with
/// `exit_code` (no retry).
fn kubectl_job(namespace: &str, name: &str, exit_code: u8) -> Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {
            "name": name, "namespace": namespace,
            "labels": {"app": name, "stage": "one"},
            "annotations": {"owner": "data-team"}
        },
        "spec": {
            "backoffLimit": 0,
            "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{
                    "name": "main", "image": "busybox:1.36",
                    "env": [
                        {"name": "EMULATOR_RUN_SECONDS", "value": "0.2"},
                        {"name": "EMULATOR_EXIT_CODE", "value": exit_code.to_string()}
                    ]
                }]
            }}
        }
    }))
    .unwrap()
}

/// Creates `namespace` (if needed) and the Jobs in it, straight through the
/// API as kubectl would, and waits until each has finished.
fn create_finished(cluster: &Cluster, namespace: &str, jobs: &[Job]) {
    let namespaces: Api<Namespace> = Api::all(cluster.client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": namespace}})).unwrap();
    if !cluster.namespace_exists(namespace) {
        cluster
            .block_on(namespaces.create(&PostParams::default(), &ns))
            .unwrap();
    }
    let api = cluster.api::<Job>(namespace);
    for job in jobs {
        cluster
            .block_on(api.create(&PostParams::default(), job))
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for job in jobs {
        let name = job.metadata.name.clone().unwrap();
        cluster.block_on(async {
            let finished =
                kube::runtime::wait::await_condition(api.clone(), &name, |j: Option<&Job>| {
                    j.and_then(|j| j.status.as_ref())
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|c| {
                            c.iter().any(|c| {
                                (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True"
                            })
                        })
                });
            tokio::time::timeout_at(deadline.into(), finished)
                .await
                .unwrap_or_else(|_| panic!("the Job {name} did not finish within a minute"))
                .unwrap();
        });
    }
}

/// The number of errors Terraform printed.
fn error_count(out: &Output) -> usize {
    out.stderr.matches("Error: ").count() + out.stdout.matches("Error: ").count()
}

const READS: &str = r#"
resource "planton_kubernetes_job" "managed" {
  metadata = { name = "nightly-report" }
  spec = {
    namespace        = { value = "reports" }
    create_namespace = true
    image            = { repo = "busybox", tag = "1.36" }
    env = {
      variables = { EMULATOR_RUN_SECONDS = { value = "0.2" } }
    }
  }
}

data "planton_kubernetes_job" "managed" {
  namespace = planton_kubernetes_job.managed.outputs.namespace
  name      = planton_kubernetes_job.managed.outputs.job_name
}

data "planton_kubernetes_job" "legacy" {
  namespace = "team"
  name      = "legacy"
}

data "planton_kubernetes_job" "broken" {
  namespace = "team"
  name      = "broken"
}

output "managed" {
  value = data.planton_kubernetes_job.managed
}

output "legacy" {
  value = data.planton_kubernetes_job.legacy
}

output "broken" {
  value = data.planton_kubernetes_job.broken
}
"#;

/// Jobs kubectl made (one that succeeded, one that failed) and one this
/// configuration applies are read: status, image, labels, annotations and
/// pod counts as the cluster has them; outputs only for the managed one.
#[test]
fn reads_kubectl_and_managed_jobs() {
    let (tf, cluster) = world("data-source-reads", READS);
    create_finished(
        &cluster,
        "team",
        &[
            kubectl_job("team", "legacy", 0),
            kubectl_job("team", "broken", 1),
        ],
    );
    apply(&tf).success();
    let out = tf.run(&["output", "-json"]).success().json();

    let legacy = &out["legacy"]["value"];
    let live: Job = cluster.get("team", "legacy").unwrap();
    assert_eq!(legacy["uid"], json!(live.metadata.uid.unwrap()));
    assert_eq!(legacy["outputs"], Json::Null, "{legacy:#}");
    assert_eq!(legacy["image"], json!("busybox:1.36"));
    assert_eq!(legacy["labels"], json!({"app": "legacy", "stage": "one"}));
    assert_eq!(legacy["annotations"], json!({"owner": "data-team"}));
    assert_eq!(legacy["status"]["succeeded"], json!(1), "{legacy:#}");
    assert_eq!(legacy["status"]["failed"], json!(0));
    assert!(
        legacy["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Complete" && c["status"] == "True"),
        "{legacy:#}"
    );
    assert_eq!(
        legacy["pods"],
        json!({"pending": 0, "running": 0, "succeeded": 1, "failed": 0})
    );

    let broken = &out["broken"]["value"];
    assert_eq!(broken["status"]["failed"], json!(1), "{broken:#}");
    assert_eq!(
        broken["pods"],
        json!({"pending": 0, "running": 0, "succeeded": 0, "failed": 1})
    );

    let managed = &out["managed"]["value"];
    assert_eq!(
        managed["outputs"],
        json!({"namespace": "reports", "job_name": "nightly-report"}),
        "{managed:#}"
    );
    assert_eq!(managed["image"], json!("busybox:1.36"));
    assert_eq!(managed["labels"]["planton.ai/resource"], json!("true"));
    assert_eq!(managed["status"]["succeeded"], json!(1), "{managed:#}");
    assert_eq!(managed["pods"]["succeeded"], json!(1));
    // The same status as the resource's own attribute.
    let state = tf.run(&["show", "-json"]).success().json();
    let resource = state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "planton_kubernetes_job.managed")
        .unwrap()
        .clone();
    assert_eq!(managed["status"], resource["values"]["status"]);

    // Nothing changed: the next plan is empty.
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "{plan}");
}

/// The oldest supported Terraform reads the data source as the current
/// one does.
#[test]
fn reads_on_the_oldest_terraform() {
    let tf = Tf::oldest("data-source-oldest");
    let cluster = Cluster::start(&tf.home());
    create_finished(&cluster, "team", &[kubectl_job("team", "legacy", 0)]);
    cluster.configure(
        &tf,
        r#"
data "planton_kubernetes_job" "legacy" {
  namespace = "team"
  name      = "legacy"
}

output "legacy" {
  value = data.planton_kubernetes_job.legacy
}
"#,
    );
    tf.init();
    apply(&tf).success();
    let out = tf.run(&["output", "-json"]).success().json();
    let legacy = &out["legacy"]["value"];
    assert_eq!(legacy["status"]["succeeded"], json!(1), "{legacy:#}");
    assert_eq!(legacy["pods"]["succeeded"], json!(1), "{legacy:#}");
    assert_eq!(legacy["outputs"], Json::Null, "{legacy:#}");
}

/// A Job that does not exist is exactly one error naming its namespace and
/// name, and its cluster when the configuration names one.
#[test]
fn a_missing_job_is_one_error_naming_it() {
    let (tf, cluster) = world(
        "data-source-missing",
        r#"
data "planton_kubernetes_job" "ghost" {
  namespace = "team"
  name      = "ghost"
}
"#,
    );
    let out = plan_exit(&tf);
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(error_count(&out), 1, "{out}");
    let text = flat(&out.stderr);
    assert!(text.contains("Kubernetes Job Not Found"), "{out}");
    assert!(
        text.contains(r#"no Job named "ghost" in the namespace "team""#),
        "{out}"
    );

    // In a named cluster, the error names it too.
    let kubeconfig = tf.home().join("kubeconfig").display().to_string();
    tf.config(&format!(
        r#"
provider "planton" {{
  config_path = {kubeconfig:?}
  clusters = {{
    prod = {{ config_path = {kubeconfig:?} }}
  }}
}}

data "planton_kubernetes_job" "ghost" {{
  cluster   = "prod"
  namespace = "team"
  name      = "ghost"
}}
"#
    ));
    let out = plan_exit(&tf);
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(error_count(&out), 1, "{out}");
    let text = flat(&out.stderr);
    assert!(
        text.contains(r#""ghost" in the namespace "team" in the cluster "prod""#),
        "{out}"
    );
    drop(cluster);
}

/// Every plan reads the Job again: after its labels change outside
/// Terraform, the next plan shows the new value (and asks the API server
/// for the Job by name).
#[test]
fn a_new_plan_reads_the_job_afresh() {
    let (tf, cluster) = world(
        "data-source-fresh",
        r#"
data "planton_kubernetes_job" "legacy" {
  namespace = "team"
  name      = "legacy"
}

output "stage" {
  value = data.planton_kubernetes_job.legacy.labels["stage"]
}
"#,
    );
    create_finished(&cluster, "team", &[kubectl_job("team", "legacy", 0)]);
    apply(&tf).success();
    let out = tf.run(&["output", "-json"]).success().json();
    assert_eq!(out["stage"]["value"], json!("one"));

    let api = cluster.api::<Job>("team");
    cluster
        .block_on(api.patch(
            "legacy",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"stage": "two"}}})),
        ))
        .unwrap();
    cluster.admin("DELETE", "requests", None);
    let plan = tf.plan();
    assert_eq!(
        plan["output_changes"]["stage"]["after"],
        json!("two"),
        "{:#}",
        plan["output_changes"]
    );
    let requests = cluster.admin("GET", "requests", None);
    assert!(
        requests
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["method"] == "GET"
                && r["path"] == "/apis/batch/v1/namespaces/team/jobs/legacy"),
        "{requests:#}"
    );
}

/// A read the credentials may not make is one error naming the Job and the
/// verb and resource the provider's user lacks: `get` on `jobs`, then
/// `list` on `pods`.
#[test]
fn a_refused_read_names_the_missing_permission() {
    for (verb, resource, wording) in [
        (
            "get",
            "jobs",
            "may not `get` `jobs` (the API group `batch`)",
        ),
        ("list", "pods", "may not `list` `pods` (the core API group)"),
    ] {
        let tf = Tf::new(&format!("data-source-refused-{verb}"));
        let config = EmulatorConfig {
            token: Some("admin-token".into()),
            token_users: [("reader-token".to_string(), "reader".to_string())].into(),
            authorization: Authorization::default().deny("reader", &[verb], &[resource], &["team"]),
            ..EmulatorConfig::fast()
        };
        let cluster = Cluster::start_with(&tf.home(), config, Some("reader-token"));
        create_finished(&cluster, "team", &[kubectl_job("team", "legacy", 0)]);
        cluster.configure(
            &tf,
            r#"
data "planton_kubernetes_job" "legacy" {
  namespace = "team"
  name      = "legacy"
}
"#,
        );
        tf.init();
        let out = plan_exit(&tf);
        assert_eq!(out.code, 1, "{out}");
        assert_eq!(error_count(&out), 1, "{out}");
        let text = flat(&out.stderr);
        assert!(text.contains("Permission Denied By Kubernetes"), "{out}");
        assert!(text.contains("cannot read the Job team/legacy"), "{out}");
        assert!(text.contains(wording), "{out}");
    }
}

/// Ctrl-C while the Job's read gets no answer ends the command within a
/// second, naming the request.
#[test]
fn ctrl_c_ends_a_hung_read_within_a_second() {
    let (tf, cluster) = world(
        "data-source-ctrl-c",
        r#"
data "planton_kubernetes_job" "legacy" {
  namespace = "team"
  name      = "legacy"
}
"#,
    );
    let read = json!({"method": "GET", "pathPrefix": "/apis/batch/v1/namespaces/team/jobs/legacy"});
    let mut fault = read.clone();
    fault["action"] = json!("latency");
    fault["latencyMs"] = json!(600_000);
    cluster.admin("POST", "faults", Some(fault));
    let plan = ["plan", "-input=false", "-no-color"];
    let (out, took) = interrupted(&tf, &plan, |_| {
        cluster.arrived(read);
    });
    eprintln!("Ctrl-C during a hung data source read: Terraform exited {took:?} after SIGINT");
    assert_ne!(out.code, 0, "{out}");
    assert!(took < Duration::from_secs(1), "{took:?}\n{out}");
    let text = flat(&out.stderr);
    assert!(text.contains("Kubernetes Request Cancelled"), "{out}");
    assert!(
        text.contains("GET /apis/batch/v1/namespaces/team/jobs/legacy"),
        "{out}"
    );
    cluster.admin("DELETE", "faults", None);
}
