//! `moved` blocks from hashicorp/kubernetes's `kubernetes_job_v1` and
//! `kubernetes_job` to `planton_kubernetes_job`, with the real Terraform CLI
//! against the emulator: the state files under `tests/fixtures/moved/`,
//! pointed at a Job seeded the way that provider would have created it,
//! move without replacing the Job; a move from a type this provider cannot
//! take fails with one error.
//!
//! Terraform installs every provider the state names and reads the schema
//! of the one the old resource belonged to, so each world's mirror also
//! holds a stand-in for hashicorp/kubernetes (`tests/stand-in/`, an empty
//! provider): anything more Terraform asked of it would fail the test.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::Api;
use kube::api::PostParams;
use serde_json::{Value as Json, json};

use crate::harness::{Cluster, Output, Tf, apply, plan_exit};

/// The source provider, as the fixtures' state names it.
const SOURCE: &str = "hashicorp/kubernetes";
/// The version of it the mirror offers (any version satisfies the state).
const SOURCE_VERSION: &str = "3.2.1";

const V1_STATE: &str = include_str!("../fixtures/moved/kubernetes_job_v1.tfstate");
/// The Job that state describes, as hashicorp/kubernetes sends it.
const V1_JOB: &str = include_str!("../fixtures/moved/kubernetes_job_v1.job.json");
const JOB_STATE: &str = include_str!("../fixtures/moved/kubernetes_job.tfstate");

/// The resource the migration Job of `kubernetes_job_v1.tfstate` moves to.
const MIGRATE: &str = r#"
resource "planton_kubernetes_job" "migrate" {
  metadata = { name = "schema-migrate" }
  spec = {
    namespace = { value = "payments" }
    image     = { repo = "ghcr.io/example/payments-migrate", tag = "2.14.1" }
    command   = ["/app/migrate"]
    args      = ["up", "--dir=/migrations", "--lock-timeout=60s"]
    env = {
      variables = {
        DB_HOST = { value = "payments-db.payments.svc.cluster.local" }
        DB_NAME = { value = "payments" }
      }
      secrets = {
        DB_PASSWORD = { secret_ref = { name = "payments-db-credentials", key = "password" } }
      }
    }
    resources = {
      limits   = { cpu = "500m", memory = "256Mi" }
      requests = { cpu = "100m", memory = "128Mi" }
    }
    backoff_limit              = 2
    ttl_seconds_after_finished = 3600
    volume_mounts = [
      {
        name       = "migrations"
        mount_path = "/migrations"
        read_only  = true
        config_map = { name = "payments-migrations" }
      },
      {
        name       = "scratch"
        mount_path = "/tmp"
        empty_dir  = {}
      },
    ]
  }
  wait_for_completion = true
  timeouts = {
    create = "5m"
    update = "5m"
  }
}
"#;

/// The resource the report Job of `kubernetes_job.tfstate` moves to.
const REPORT: &str = r#"
resource "planton_kubernetes_job" "report" {
  metadata = { name = "daily-report" }
  spec = {
    namespace = { value = "analytics" }
    image     = { repo = "registry.example.com/analytics/daily-report", tag = "1.3.0" }
    args      = ["--date=yesterday", "--format=csv"]
    env = {
      variables = {
        REPORT_BUCKET = { value = "s3://example-reports/daily" }
      }
    }
    resources = {
      limits   = { memory = "64Mi" }
      requests = { cpu = "50m", memory = "64Mi" }
    }
    backoff_limit = 6
  }
  wait_for_completion = false
}
"#;

/// How long a seeded Job may take to finish in the emulator.
const JOB_DEADLINE: Duration = Duration::from_secs(60);

/// A world with our provider and the source's stand-in in its mirror, and
/// an emulator.
fn moved_world(name: &str) -> (Tf, Cluster) {
    moved_world_of(Tf::new(name))
}

/// [`moved_world`] around the world `tf`.
fn moved_world_of(tf: Tf) -> (Tf, Cluster) {
    tf.mirror_provider(
        SOURCE,
        SOURCE_VERSION,
        Path::new(env!("CARGO_BIN_EXE_e2e-stand-in-kubernetes")),
    );
    let cluster = Cluster::start(&tf.home());
    (tf, cluster)
}

/// Creates an object from JSON in the emulator.
fn create<K>(cluster: &Cluster, api: Api<K>, object: Json)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let object: K = serde_json::from_value(object).unwrap();
    cluster
        .block_on(api.create(&PostParams::default(), &object))
        .unwrap();
}

/// Creates the namespace `ns`.
fn namespace(cluster: &Cluster, ns: &str) {
    create(
        cluster,
        Api::<Namespace>::all(cluster.client.clone()),
        json!({"metadata": {"name": ns}}),
    );
}

/// Creates the Job and waits for it to finish (the fixtures' Jobs have
/// run); returns it as the API server has it then.
fn seed_job(cluster: &Cluster, ns: &str, job: Json) -> Job {
    let name = job["metadata"]["name"].as_str().unwrap().to_string();
    create(cluster, cluster.api::<Job>(ns), job);
    let api = cluster.api::<Job>(ns);
    let done = cluster.block_on(async {
        tokio::time::timeout(
            JOB_DEADLINE,
            kube::runtime::wait::await_condition(
                api,
                &name,
                kube::runtime::conditions::is_job_completed(),
            ),
        )
        .await
    });
    let job = done
        .unwrap_or_else(|_| panic!("Job {ns}/{name} did not complete within {JOB_DEADLINE:?}"))
        .unwrap()
        .unwrap();
    assert!(job.metadata.uid.is_some());
    job
}

/// A Job as hashicorp/kubernetes sends it to the API server: `spec` and
/// the pod spec `pod` with what that provider always sends (its defaults
/// and explicit `false`s) added.
fn as_hashicorp_sends(
    metadata: Json,
    mut spec: Json,
    template_metadata: Json,
    mut pod: Json,
) -> Json {
    for (key, value) in [
        ("completions", json!(1)),
        ("parallelism", json!(1)),
        ("manualSelector", json!(false)),
    ] {
        spec[key] = value;
    }
    for (key, value) in [
        ("automountServiceAccountToken", json!(true)),
        ("dnsPolicy", json!("ClusterFirst")),
        ("enableServiceLinks", json!(true)),
        ("shareProcessNamespace", json!(false)),
        ("restartPolicy", json!("Never")),
        ("terminationGracePeriodSeconds", json!(30)),
    ] {
        pod[key] = value;
    }
    for container in pod["containers"].as_array_mut().unwrap() {
        container["terminationMessagePath"] = json!("/dev/termination-log");
        for mount in container["volumeMounts"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            mount["mountPropagation"] = json!("None");
        }
    }
    spec["template"] = json!({"metadata": template_metadata, "spec": pod});
    json!({"metadata": metadata, "spec": spec})
}

/// The migration Job `kubernetes_job_v1.tfstate` describes, as
/// hashicorp/kubernetes creates it (with its ConfigMap and Secret, which
/// another part of that configuration would have made).
fn seed_migration(cluster: &Cluster) -> Job {
    namespace(cluster, "payments");
    create(
        cluster,
        cluster.api::<ConfigMap>("payments"),
        json!({
            "metadata": {"name": "payments-migrations"},
            "data": {"0001_init.sql": "create table accounts (id bigint primary key);\n"}
        }),
    );
    create(
        cluster,
        cluster.api::<Secret>("payments"),
        json!({
            "metadata": {"name": "payments-db-credentials"},
            "stringData": {"password": "moved-test-only"}
        }),
    );
    let job: Json = serde_json::from_str(V1_JOB).unwrap();
    seed_job(cluster, "payments", job)
}

/// The report Job `kubernetes_job.tfstate` describes, as
/// hashicorp/kubernetes creates it.
fn seed_report(cluster: &Cluster) -> Job {
    namespace(cluster, "analytics");
    let job = as_hashicorp_sends(
        json!({
            "name": "daily-report",
            "namespace": "analytics",
            "labels": {"team": "analytics"}
        }),
        json!({"backoffLimit": 6}),
        json!({}),
        json!({
            "containers": [{
                "name": "report",
                "image": "registry.example.com/analytics/daily-report:1.3.0",
                "args": ["--date=yesterday", "--format=csv"],
                "env": [{"name": "REPORT_BUCKET", "value": "s3://example-reports/daily"}],
                "resources": {
                    "limits": {"memory": "64Mi"},
                    "requests": {"cpu": "50m", "memory": "64Mi"}
                }
            }]
        }),
    );
    seed_job(cluster, "analytics", job)
}

/// `fixture` with the live Job's UID, resource version and generation in
/// the resource's metadata, as a refresh would have left them.
fn state_for(fixture: &str, job: &Job) -> String {
    let mut state: Json = serde_json::from_str(fixture).unwrap();
    let metadata = &mut state["resources"][0]["instances"][0]["attributes"]["metadata"][0];
    metadata["uid"] = json!(job.metadata.uid.as_deref().unwrap());
    metadata["resource_version"] = json!(job.metadata.resource_version.as_deref().unwrap());
    metadata["generation"] = json!(job.metadata.generation.unwrap_or(1));
    serde_json::to_string_pretty(&state).unwrap()
}

/// The `moved` block from `from` to `to`.
fn moved(from: &str, to: &str) -> String {
    format!("moved {{\n  from = {from}\n  to   = {to}\n}}\n")
}

/// The changes `terraform plan -json` reported (`planned_change` and
/// `resource_drift` messages), as (type, previous address, address,
/// action).
fn streamed_changes(out: &Output) -> Vec<(String, String, String, String)> {
    out.stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Json>(line).ok())
        .filter(|m| m["type"] == "planned_change" || m["type"] == "resource_drift")
        .map(|m| {
            let text = |v: &Json| v.as_str().unwrap_or_default().to_string();
            (
                text(&m["type"]),
                text(&m["change"]["previous_resource"]["addr"]),
                text(&m["change"]["resource"]["addr"]),
                text(&m["change"]["action"]),
            )
        })
        .collect()
}

/// The diagnostics of one severity `terraform plan -json` streamed, as
/// "summary: detail".
fn streamed_diagnostics(out: &Output, severity: &str) -> Vec<String> {
    out.stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Json>(line).ok())
        .filter(|m| m["type"] == "diagnostic" && m["diagnostic"]["severity"] == severity)
        .map(|m| {
            format!(
                "{}: {}",
                m["diagnostic"]["summary"].as_str().unwrap_or_default(),
                m["diagnostic"]["detail"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// The actions of the saved plan for each address, with its previous
/// address.
fn saved_changes(tf: &Tf) -> Vec<(String, String, Vec<String>)> {
    let plan = tf
        .run(&["show", "-json", "-no-color", "tfplan"])
        .success()
        .json();
    plan["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|rc| {
            (
                rc["previous_address"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                rc["address"].as_str().unwrap_or_default().to_string(),
                rc["change"]["actions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|a| a.as_str().unwrap_or_default().to_string())
                    .collect(),
            )
        })
        .collect()
}

/// The resource types the state holds, with their provider.
fn state_resources(tf: &Tf) -> Vec<(String, String)> {
    let state = tf.run(&["state", "pull"]).success().json();
    state["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                format!(
                    "{}.{}",
                    r["type"].as_str().unwrap_or_default(),
                    r["name"].as_str().unwrap_or_default()
                ),
                r["provider"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The move from `from` (in `state`, describing `before`) to `to`, with
/// `hcl` the resource block: the plan shows the move and no replacement,
/// apply keeps the Job, the next plan is empty. Returns the plan's
/// warnings.
fn assert_moves(
    tf: &Tf,
    cluster: &Cluster,
    (from, to): (&str, &str),
    hcl: &str,
    before: &Job,
) -> Vec<String> {
    let ns = before.metadata.namespace.as_deref().unwrap();
    let name = before.metadata.name.as_deref().unwrap();
    cluster.configure(tf, &format!("{}\n{hcl}", moved(from, to)));
    tf.init();

    let out = tf.run(&["plan", "-json", "-input=false", "-no-color", "-out=tfplan"]);
    assert_eq!(out.code, 0, "plan with the moved block failed:\n{out}");
    let changes = streamed_changes(&out);
    assert!(
        changes
            .iter()
            .any(|(_, previous, address, _)| previous == from && address == to),
        "the plan does not show {from} moved to {to}: {changes:?}\n{out}"
    );
    for (_, _, address, action) in &changes {
        assert!(
            !["delete", "create", "replace"].contains(&action.as_str()),
            "the plan has {action} for {address}: {changes:?}\n{out}"
        );
    }
    let saved = saved_changes(tf);
    assert!(
        saved
            .iter()
            .any(|(previous, address, _)| previous == from && address == to),
        "the saved plan has no change from {from} to {to}: {saved:?}"
    );
    for (_, address, actions) in &saved {
        assert!(
            !actions.iter().any(|a| a == "delete" || a == "create"),
            "the saved plan replaces {address}: {actions:?}"
        );
        // A configuration that says what the Job is changes nothing.
        assert_eq!(
            actions,
            &["no-op".to_string()],
            "the move of {address} changes more than its address"
        );
    }
    let warnings = streamed_diagnostics(&out, "warning");

    apply(tf).success();
    let after: Job = cluster
        .get(ns, name)
        .unwrap_or_else(|| panic!("the Job {ns}/{name} is gone after the move"));
    assert_eq!(
        after.metadata.uid, before.metadata.uid,
        "the Job was replaced by the move"
    );
    assert_eq!(
        state_resources(tf),
        [(
            to.to_string(),
            "provider[\"registry.terraform.io/project-planton/planton\"]".to_string()
        )],
        "the state after the move"
    );
    let plan = plan_exit(tf);
    assert_eq!(
        plan.code, 0,
        "the plan after the move is not empty:\n{plan}"
    );
    warnings
}

/// A `kubernetes_job_v1` (a database migration with env from a Secret,
/// resources, a ConfigMap and an emptyDir volume) moves to
/// `planton_kubernetes_job` without replacing its Job, warning about
/// what the spec cannot say, and the next plan is empty.
#[test]
fn kubernetes_job_v1_moves_without_replacement() {
    let (tf, cluster) = moved_world("moved-job-v1");
    let before = seed_migration(&cluster);
    tf.write("terraform.tfstate", state_for(V1_STATE, &before));
    let warnings = assert_moves(
        &tf,
        &cluster,
        (
            "kubernetes_job_v1.migrate",
            "planton_kubernetes_job.migrate",
        ),
        MIGRATE,
        &before,
    );
    let text = warnings.join("\n");
    assert!(
        text.contains("spec.template.spec.containers[0].name"),
        "the move does not warn that the container's name is kept: {warnings:?}"
    );
}

/// The same move on the oldest Terraform this provider supports: moves
/// across providers are what makes 1.8 the oldest.
#[test]
fn kubernetes_job_v1_moves_on_the_oldest_terraform() {
    let (tf, cluster) = moved_world_of(Tf::oldest("moved-job-v1-oldest"));
    let version = tf.run(&["version"]).success();
    assert!(version.stdout.starts_with("Terraform v1.8."), "{version}");
    let before = seed_migration(&cluster);
    tf.write("terraform.tfstate", state_for(V1_STATE, &before));
    assert_moves(
        &tf,
        &cluster,
        (
            "kubernetes_job_v1.migrate",
            "planton_kubernetes_job.migrate",
        ),
        MIGRATE,
        &before,
    );
}

/// A `kubernetes_job` (the deprecated name, same schema) moves the same
/// way.
#[test]
fn kubernetes_job_moves_without_replacement() {
    let (tf, cluster) = moved_world("moved-job");
    let before = seed_report(&cluster);
    tf.write("terraform.tfstate", state_for(JOB_STATE, &before));
    assert_moves(
        &tf,
        &cluster,
        ("kubernetes_job.report", "planton_kubernetes_job.report"),
        REPORT,
        &before,
    );
}

/// A `moved` from a hashicorp/kubernetes type other than a Job fails the
/// plan with exactly one error, which names that type and ours; nothing
/// in the cluster or the state changes.
#[test]
fn moved_from_a_deployment_is_one_error() {
    let (tf, cluster) = moved_world("moved-deployment");
    let state = json!({
        "version": 4,
        "terraform_version": "1.15.5",
        "serial": 1,
        "lineage": "3f6c0a51-8d2e-4b7a-9c1e-5a4b3c2d1e0f",
        "outputs": {},
        "resources": [{
            "mode": "managed",
            "type": "kubernetes_deployment_v1",
            "name": "web",
            "provider": "provider[\"registry.terraform.io/hashicorp/kubernetes\"]",
            "instances": [{
                "schema_version": 1,
                "attributes": {
                    "id": "web/frontend",
                    "metadata": [{
                        "annotations": null, "generate_name": "", "generation": 1,
                        "labels": {"app": "frontend"}, "name": "frontend", "namespace": "web",
                        "resource_version": "1200", "uid": "5e0b6f1c-2a3d-4e5f-8a9b-0c1d2e3f4a5b"
                    }],
                    "spec": [],
                    "timeouts": null,
                    "wait_for_rollout": true
                },
                "sensitive_attributes": []
            }]
        }],
        "check_results": null
    });
    tf.write(
        "terraform.tfstate",
        serde_json::to_string_pretty(&state).unwrap(),
    );
    cluster.configure(
        &tf,
        &format!(
            "{}\n{}",
            moved("kubernetes_deployment_v1.web", "planton_kubernetes_job.web"),
            r#"
resource "planton_kubernetes_job" "web" {
  metadata = { name = "frontend" }
  spec = {
    namespace = { value = "web" }
    image     = { repo = "busybox", tag = "1.36" }
  }
}
"#
        ),
    );
    tf.init();
    let out = tf.run(&["plan", "-json", "-input=false", "-no-color"]);
    assert_eq!(out.code, 1, "the plan did not fail:\n{out}");
    let errors = streamed_diagnostics(&out, "error");
    assert_eq!(errors.len(), 1, "not exactly one error: {errors:?}\n{out}");
    assert!(
        errors[0].contains("kubernetes_deployment_v1")
            && errors[0].contains("planton_kubernetes_job"),
        "the error names neither the source type nor ours: {errors:?}"
    );
    assert_eq!(
        state_resources(&tf),
        [(
            "kubernetes_deployment_v1.web".to_string(),
            "provider[\"registry.terraform.io/hashicorp/kubernetes\"]".to_string()
        )],
        "the failed plan changed the state"
    );
    assert!(
        cluster.names("/apis/batch/v1", "web", "jobs").is_empty(),
        "a Job was created"
    );
}
