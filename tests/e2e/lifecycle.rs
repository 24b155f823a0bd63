//! The resource lifecycle with the real Terraform CLI against the emulator:
//! apply creates exactly the expected objects, a second plan is empty,
//! destroy leaves the cluster as it was found.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

use crate::harness::{Cluster, Tf, apply, destroy, plan_exit, provider_pids, world};

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

/// Apply creates exactly the expected objects with
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
    // Every object carries the job's labels and the resource instance's
    // identity, the same on all of them.
    let instance = job.metadata.labels.as_ref().unwrap()["planton.ai/instance"].clone();
    assert_eq!(instance.len(), 32, "{instance}");
    for (what, meta) in [
        ("job", &job.metadata),
        ("config map", &cm.metadata),
        ("secret", &secret.metadata),
        ("service account", &sa.metadata),
    ] {
        let have = meta.labels.clone().unwrap_or_default();
        for (k, v) in &labels {
            assert_eq!(have.get(k), Some(v), "{what} label {k}: {have:?}");
        }
        assert_eq!(have.get("planton.ai/instance"), Some(&instance), "{what}");
    }
    // The namespace, which other jobs may share, carries this job's claim.
    let have = ns.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        have.get("planton.ai/resource").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        have.get("planton.ai/kind").map(String::as_str),
        Some("KubernetesJob")
    );
    assert_eq!(
        have.get(&format!("claims.planton.ai/{instance}"))
            .map(String::as_str),
        Some("nightly-report"),
        "{have:?}"
    );
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

/// In a namespace the resource did not create,
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
    cluster.configure(&tf, &hcl);
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

/// Waits (polling, in the test only) until `done` holds or 20 s pass.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A failing job (non-zero exit, backoff_limit 1)
/// makes apply fail within 2 seconds of the Job's Failed condition, with
/// the reason, the exit code and the tail of the log; the resource is
/// tainted, so the next plan replaces it.
#[test]
fn failing_job_fails_apply_fast_with_details() {
    let hcl = r#"
resource "planton_kubernetes_job" "migrate" {
  metadata = { name = "migrate" }
  spec = {
    namespace        = { value = "db" }
    create_namespace = true
    image            = { repo = "myregistry/migration-runner", tag = "v2.0.0" }
    command          = ["python", "manage.py", "migrate"]
    env = {
      variables = {
        EMULATOR_RUN_SECONDS = { value = "0.3" }
        EMULATOR_EXIT_CODE   = { value = "3" }
        EMULATOR_LOG_LINES   = { value = "Applying migration 0041\nApplying migration 0042\nERROR: relation \"users\" already exists" }
      }
    }
    backoff_limit = 1
  }
}
"#;
    let (tf, cluster) = world("lifecycle-failing", hcl);
    let failed_at = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = failed_at.clone();
    let jobs = cluster.api::<Job>("db");
    cluster.spawn(async move {
        loop {
            if let Ok(Some(job)) = jobs.get_opt("migrate").await {
                let failed = job
                    .status
                    .and_then(|s| s.conditions)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Failed" && c.status == "True");
                if failed {
                    *seen.lock().unwrap() = Some(std::time::Instant::now());
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    });
    let out = apply(&tf);
    let returned = std::time::Instant::now();
    assert_ne!(out.code, 0, "apply of a failing job succeeded:\n{out}");
    let failed_at = failed_at
        .lock()
        .unwrap()
        .expect("the Job never got its Failed condition");
    let lag = returned.duration_since(failed_at);
    assert!(
        lag < std::time::Duration::from_secs(2),
        "apply returned {lag:?} after the Failed condition"
    );
    let text = out.stderr.replace('\n', " ");
    for want in [
        "Kubernetes Job Failed",
        "BackoffLimitExceeded",
        "exited with code 3",
        "Applying migration 0042",
        "already exists",
        "tainted",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{out}");
    }
    let plan = tf.run(&["plan", "-no-color", "-input=false"]).success();
    assert!(
        plan.stdout.contains("is tainted, so must be replaced"),
        "{plan}"
    );
    eprintln!("failing job: apply returned {lag:?} after the Failed condition");
}

/// A job that completes and is then deleted by its
/// TTL plans no changes by default ("keep"); under "recreate" the plan
/// creates the Job again (as an update of the resource, which keeps
/// tracking its namespace and other objects so that destroy still removes
/// them: forgetting the resource, as hashicorp's provider does, would leave
/// them behind).
#[test]
fn ttl_deleted_jobs_follow_the_policy() {
    let job = |name: &str, policy: &str| {
        format!(
            r#"
resource "planton_kubernetes_job" "{name}" {{
  metadata = {{ name = "{name}" }}
  spec = {{
    namespace                  = {{ value = "ttl-{name}" }}
    create_namespace           = true
    image                      = {{ repo = "busybox", tag = "1.36" }}
    env                        = {{ variables = {{ EMULATOR_RUN_SECONDS = {{ value = "0.1" }} }} }}
    ttl_seconds_after_finished = 1
  }}
  {policy}
}}
"#
        )
    };
    let hcl = format!(
        "{}{}",
        job("kept", ""),
        job("again", "after_ttl_deletion = \"recreate\"")
    );
    let (tf, cluster) = world("lifecycle-ttl", &hcl);
    apply(&tf).success();
    eventually("the TTL controller to delete both Jobs", || {
        cluster.get::<Job>("ttl-kept", "kept").is_none()
            && cluster.get::<Job>("ttl-again", "again").is_none()
    });
    let plan = tf.plan();
    let actions: BTreeMap<String, serde_json::Value> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["change"]["actions"].clone(),
            )
        })
        .collect();
    assert_eq!(actions["kept"], json!(["no-op"]), "{plan:#}");
    assert_eq!(actions["again"], json!(["update"]), "{plan:#}");
    let text = tf.run(&["plan", "-no-color", "-input=false"]).success();
    assert!(
        text.stdout
            .contains("after_ttl_deletion = \\\"recreate\\\" creates it again"),
        "{text}"
    );
    let out = apply(&tf).success();
    assert!(out.stdout.contains("1 changed"), "{out}");
    // The Job ran again (and its TTL deleted it again): kept's did not.
    eventually("the recreated Job to finish and be deleted", || {
        cluster.get::<Job>("ttl-again", "again").is_none()
    });
    destroy(&tf);
    assert!(!cluster.namespace_exists("ttl-kept"));
    assert!(!cluster.namespace_exists("ttl-again"));
}

/// Out-of-band edits (ConfigMap data changed, env
/// Secret deleted, a Job label removed) appear in the next plan, and apply
/// puts them back without replacing the Job.
#[test]
fn out_of_band_edits_are_planned_and_restored() {
    use kube::api::{DeleteParams, Patch, PatchParams};
    let (tf, cluster) = world("lifecycle-drift", REPORT);
    apply(&tf).success();
    let uid = cluster
        .get::<Job>("reports", "nightly-report")
        .unwrap()
        .metadata
        .uid;

    let merge = PatchParams::default();
    cluster
        .block_on(cluster.api::<ConfigMap>("reports").patch(
            "nightly-report-config",
            &merge,
            &Patch::Merge(json!({"data": {"nightly-report-config": "format: json\n"}})),
        ))
        .unwrap();
    cluster
        .block_on(
            cluster
                .api::<Secret>("reports")
                .delete("nightly-report-env-secrets", &DeleteParams::default()),
        )
        .unwrap();
    cluster
        .block_on(cluster.api::<Job>("reports").patch(
            "nightly-report",
            &merge,
            &Patch::Merge(json!({"metadata": {"labels": {"planton.ai/organization": null}}})),
        ))
        .unwrap();

    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 2, "the plan does not show the edits:\n{plan}");
    for want in [
        "will be updated in-place",
        "format: json",
        "Secret reports/nightly-report-env-secrets was deleted",
        "Job reports/nightly-report: label planton.ai/organization was removed",
    ] {
        assert!(
            plan.stdout.contains(want),
            "{want:?} missing from the plan:\n{plan}"
        );
    }
    assert!(!plan.stdout.contains("must be replaced"), "{plan}");

    apply(&tf).success();
    let cm: ConfigMap = cluster.get("reports", "nightly-report-config").unwrap();
    assert_eq!(cm.data.unwrap()["nightly-report-config"], "format: csv\n");
    assert!(
        cluster
            .get::<Secret>("reports", "nightly-report-env-secrets")
            .is_some()
    );
    let job: Job = cluster.get("reports", "nightly-report").unwrap();
    assert_eq!(job.metadata.uid, uid, "the Job was replaced");
    assert_eq!(
        job.metadata
            .labels
            .unwrap()
            .get("planton.ai/organization")
            .map(String::as_str),
        Some("acme")
    );
    let again = plan_exit(&tf);
    assert_eq!(
        again.code, 0,
        "the plan after restoring is not empty:\n{again}"
    );
}

/// The API server answers 429 and 503 for a while
/// during apply; the apply still succeeds and creates each object once.
#[test]
fn faults_during_apply_are_retried() {
    let (tf, cluster) = world("lifecycle-faults", REPORT);
    cluster.admin("DELETE", "requests", None);
    for fault in [
        json!({"method": "POST", "pathPrefix": "/api/v1", "action": "status", "code": 429, "retryAfterSeconds": 1, "times": 3}),
        json!({"method": "POST", "pathPrefix": "/apis/batch", "action": "status", "code": 503, "times": 3}),
        json!({"method": "GET", "pathPrefix": "/apis/batch", "action": "status", "code": 503, "times": 2}),
    ] {
        cluster.admin("POST", "faults", Some(fault));
    }
    apply(&tf).success();
    assert_eq!(
        cluster.names("/apis/batch/v1", "reports", "jobs"),
        ["nightly-report"]
    );
    assert_eq!(
        cluster.names("/api/v1", "reports", "pods").len(),
        1,
        "one Job, one pod"
    );
    let faults = cluster.admin("GET", "faults", None);
    assert_eq!(faults, json!([]), "not every fault was hit: {faults}");
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "{plan}");
    destroy(&tf);
    assert!(!cluster.namespace_exists("reports"));
}

/// An apply whose provider process is killed halfway (after some objects
/// exist, before the Job) never saved the identity its objects carry, so
/// the next apply cannot tell them from another state's: it fails, naming
/// that identity and the one explicit step that recovers (delete the
/// leftovers by their instance label, and the claim on the namespace).
/// After that step the apply converges and destroy removes everything.
#[test]
fn killed_apply_is_recovered() {
    let (tf, cluster) = world("lifecycle-killed", REPORT);
    // Hold the Job's apply so that the kill lands between objects.
    cluster.admin(
        "POST",
        "faults",
        Some(json!({"method": "POST", "pathPrefix": "/apis/batch", "action": "latency", "latencyMs": 30000})),
    );
    let mut child = tf
        .command(["apply", "-auto-approve", "-input=false", "-no-color"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    eventually("the ConfigMap of the first apply", || {
        cluster
            .get::<ConfigMap>("reports", "nightly-report-config")
            .is_some()
    });
    let terraform_pid = child.id();
    let mut killed = Vec::new();
    eventually("the provider process", || {
        killed = provider_pids(terraform_pid);
        !killed.is_empty()
    });
    for pid in &killed {
        let status = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "apply succeeded although its provider was killed"
    );
    assert!(cluster.get::<Job>("reports", "nightly-report").is_none());
    cluster.admin("DELETE", "faults", None);

    let leftover = cluster
        .get::<ConfigMap>("reports", "nightly-report-config")
        .unwrap();
    let instance = leftover.metadata.labels.unwrap()["planton.ai/instance"].clone();
    let out = apply(&tf);
    assert_ne!(
        out.code, 0,
        "the leftovers were taken over silently:\n{out}"
    );
    let text = out.stderr.replace('\n', " ");
    assert!(text.contains("Owned By Another Resource"), "{out}");
    assert!(text.contains(&instance), "{out}");
    let step = format!("planton.ai/instance={instance}");
    assert!(text.contains(&step), "{out}");

    // The step the error names.
    let selector = kube::api::ListParams::default().labels(&step);
    cluster
        .block_on(
            cluster
                .api::<ConfigMap>("reports")
                .delete_collection(&Default::default(), &selector),
        )
        .unwrap();
    cluster
        .block_on(
            cluster
                .api::<ServiceAccount>("reports")
                .delete_collection(&Default::default(), &selector),
        )
        .unwrap();
    cluster
        .block_on(
            cluster
                .api::<Secret>("reports")
                .delete_collection(&Default::default(), &selector),
        )
        .unwrap();
    let claim = format!("claims.planton.ai/{instance}");
    assert!(text.contains(&claim), "{out}");
    let namespaces: Api<Namespace> = Api::all(cluster.client.clone());
    cluster
        .block_on(namespaces.patch(
            "reports",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"metadata": {"labels": {claim.as_str(): null}}})),
        ))
        .unwrap();

    apply(&tf).success();
    assert_eq!(
        cluster.names("/apis/batch/v1", "reports", "jobs"),
        ["nightly-report"]
    );
    assert_eq!(
        cluster.names("/api/v1", "reports", "configmaps"),
        ["kube-root-ca.crt", "nightly-report-config"]
    );
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "{plan}");
    destroy(&tf);
    assert!(!cluster.namespace_exists("reports"));
}

/// Ctrl-C during a wait reaches the provider as
/// StopProvider and ends the wait at once; the create is recorded tainted,
/// and destroy still removes everything.
#[test]
fn interrupt_ends_the_wait() {
    let hcl = REPORT.replace(
        "EMULATOR_RUN_SECONDS = { value = \"0.2\" }",
        "EMULATOR_NEVER_EXIT  = { value = \"1\" }",
    );
    let (tf, cluster) = world("lifecycle-interrupt", &hcl);
    let child = tf
        .command(["apply", "-auto-approve", "-input=false", "-no-color"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted once the provider waits: its watch on the Job is open.
    cluster.arrived(json!({"pathPrefix": "/apis/batch/v1/namespaces/reports/jobs", "watch": true}));
    let interrupted = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let took = interrupted.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("Wait Interrupted"), "{stderr}");
    assert!(
        took < std::time::Duration::from_secs(3),
        "Terraform took {took:?} to stop"
    );
    eprintln!("interrupt: Terraform exited {took:?} after SIGINT");
    let plan = tf.run(&["plan", "-no-color", "-input=false"]).success();
    assert!(
        plan.stdout.contains("is tainted, so must be replaced"),
        "{plan}"
    );
    destroy(&tf);
    assert!(!cluster.namespace_exists("reports"));
}

/// Applying into a namespace that is being deleted (held Terminating by a
/// finalizer) fails with one error that names the namespace and says it is
/// being deleted, not a permissions problem.
#[test]
fn apply_into_a_terminating_namespace_says_so() {
    let hcl = r#"
resource "planton_kubernetes_job" "late" {
  metadata = { name = "late" }
  spec = {
    namespace = { value = "doomed" }
    image     = { repo = "busybox", tag = "1.36" }
  }
}
"#;
    let (tf, cluster) = world("lifecycle-terminating-namespace", hcl);
    let namespaces: Api<Namespace> = Api::all(cluster.client.clone());
    cluster
        .block_on(namespaces.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "doomed"}})).unwrap(),
        ))
        .unwrap();
    cluster
        .block_on(
            cluster.api::<ConfigMap>("doomed").create(
                &PostParams::default(),
                &serde_json::from_value(
                    json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
                )
                .unwrap(),
            ),
        )
        .unwrap();
    cluster
        .block_on(namespaces.delete("doomed", &Default::default()))
        .unwrap();

    let out = apply(&tf);
    assert_ne!(out.code, 0, "{out}");
    let text = out.stderr.replace('\n', " ");
    assert_eq!(out.stderr.matches("Error: ").count(), 1, "{out}");
    assert!(text.contains("Namespace Is Being Deleted"), "{out}");
    assert!(
        text.contains("The namespace doomed is being deleted"),
        "{out}"
    );
    assert!(!text.contains("Grant the missing permission"), "{out}");
}
