//! Bringing existing Jobs under management with the real
//! Terraform CLI against the emulator: import by ID and by identity,
//! Jobs made by kubectl, `terraform query` with configuration generation,
//! and the errors of imports that cannot work.

use std::path::PathBuf;
use std::process::Command;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::PostParams;
use kube_emulator::EmulatorConfig;
use kube_emulator::authz::Authorization;
use serde_json::{Value as Json, json};

use crate::harness::{Cluster, Output, Tf, apply, plan_exit, world};

/// A job with every kind of object this resource manages.
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
        DB_PASSWORD = { value = "import-test-only" }
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
    # Stored by the API server as "2" and "128Mi": spelled differently,
    # equal in value.
    resources = {
      limits   = { cpu = "2000m", memory = "1Gi" }
      requests = { cpu = "100m", memory = "131072Ki" }
    }
    backoff_limit = 2
  }
}
"#;

/// `terraform plan -out` then `show -json` of it, whatever the exit code of
/// plan (which must succeed).
fn plan_json(tf: &Tf) -> Json {
    tf.plan()
}

/// The actions the saved plan has for each resource address.
fn actions(plan: &Json) -> Vec<(String, Vec<String>, bool)> {
    plan["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|rc| {
            let actions = rc["change"]["actions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|a| a.as_str().unwrap_or_default().to_string())
                .collect();
            let importing = !rc["change"]["importing"].is_null();
            (
                rc["address"].as_str().unwrap_or_default().to_string(),
                actions,
                importing,
            )
        })
        .collect()
}

/// The identity Terraform stored for `address`, from the raw state.
fn stored_identity(tf: &Tf, address: &str) -> Json {
    let state = tf.run(&["state", "pull"]).success().json();
    let (ty, name) = address.split_once('.').unwrap();
    state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == ty && r["name"] == name)
        .map(|r| r["instances"][0]["identity"].clone())
        .unwrap_or(Json::Null)
}

/// The number of errors Terraform printed.
fn error_count(out: &Output) -> usize {
    out.stderr.matches("Error: ").count() + out.stdout.matches("Error: ").count()
}

/// A job applied by this provider, removed from state and
/// imported back, by ID and then by identity, plans no changes; its
/// identity is the same throughout.
#[test]
fn applied_job_imports_back_by_id_and_identity() {
    let (tf, _cluster) = world("import-round-trip", REPORT);
    apply(&tf).success();
    let address = "planton_kubernetes_job.report";
    let identity = stored_identity(&tf, address);
    assert_eq!(
        identity,
        json!({"cluster": null, "namespace": "reports", "name": "nightly-report"})
    );

    // By ID, with `terraform import`.
    tf.run(&["state", "rm", address]).success();
    let out = tf
        .run(&[
            "import",
            "-no-color",
            "-input=false",
            address,
            "reports/nightly-report",
        ])
        .success();
    assert!(!out.stdout.contains("Warning"), "{out}");
    let plan = plan_exit(&tf);
    assert_eq!(
        plan.code, 0,
        "plan after import by ID is not empty:\n{plan}"
    );
    assert_eq!(stored_identity(&tf, address), identity);

    // By identity, with an `import` block.
    tf.run(&["state", "rm", address]).success();
    tf.write(
        "import.tf",
        r#"
import {
  to       = planton_kubernetes_job.report
  identity = { namespace = "reports", name = "nightly-report" }
}
"#,
    );
    let plan = plan_json(&tf);
    assert_eq!(
        actions(&plan),
        [(address.to_string(), vec!["no-op".to_string()], true)],
        "the plan of the identity import changes something"
    );
    apply(&tf).success();
    std::fs::remove_file(tf.work().join("import.tf")).unwrap();
    let plan = plan_exit(&tf);
    assert_eq!(
        plan.code, 0,
        "plan after import by identity is not empty:\n{plan}"
    );
    assert_eq!(stored_identity(&tf, address), identity);
}

/// kubectl, from `.tools/bin` (scripts/install-tools.sh) or `$KUBECTL`.
fn kubectl() -> PathBuf {
    if let Some(k) = std::env::var_os("KUBECTL").filter(|v| !v.is_empty()) {
        return PathBuf::from(k);
    }
    crate::harness::terraform();
    crate::harness::repo_root().join(".tools/bin/kubectl")
}

/// Runs kubectl against `cluster` with `stdin` as the input of `-f -`.
fn kubectl_create(tf: &Tf, yaml: &str) {
    let path = tf.work().join("objects.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = Command::new(kubectl())
        .arg("--kubeconfig")
        .arg(tf.home().join("kubeconfig"))
        .args(["create", "-f"])
        .arg(&path)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap_or_else(|e| panic!("kubectl not runnable ({e}); run scripts/install-tools.sh"));
    assert!(
        out.status.success(),
        "kubectl create failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(path).unwrap();
}

const KUBECTL_OBJECTS: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: legacy-config
  namespace: team
data:
  settings: \"mode=fast\"
---
apiVersion: batch/v1
kind: Job
metadata:
  name: legacy
  namespace: team
  labels:
    app: legacy
spec:
  backoffLimit: 6
  template:
    metadata:
      labels:
        app: legacy
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
        command: [\"sh\", \"-c\", \"cat /cfg/settings\"]
        env:
        - name: MODE
          value: fast
        - name: EMULATOR_RUN_SECONDS
          value: \"0.2\"
        resources:
          limits:
            cpu: 500m
            memory: 128Mi
          requests:
            cpu: 100m
            memory: 64Mi
        volumeMounts:
        - name: cfg
          mountPath: /cfg
      volumes:
      - name: cfg
        configMap:
          name: legacy-config
";

const LEGACY: &str = r#"
resource "planton_kubernetes_job" "legacy" {
  metadata = { name = "legacy" }
  spec = {
    namespace = { value = "team" }
    image     = { repo = "busybox", tag = "TAG" }
    command   = ["sh", "-c", "cat /cfg/settings"]
    env = {
      variables = {
        MODE                 = { value = "fast" }
        EMULATOR_RUN_SECONDS = { value = "0.2" }
      }
    }
    resources = {
      limits   = { cpu = "500m", memory = "128Mi" }
      requests = { cpu = "100m", memory = "64Mi" }
    }
    backoff_limit = BACKOFF
    volume_mounts = [
      { name = "cfg", mount_path = "/cfg", config_map = { name = "legacy-config" } },
    ]
  }
}
"#;

fn legacy(tag: &str, backoff: u32) -> String {
    LEGACY
        .replace("TAG", tag)
        .replace("BACKOFF", &backoff.to_string())
}

/// A Job created with kubectl (command, env, resources, a
/// ConfigMap volume) imports with a warning naming what the spec cannot
/// express; the next plan is empty; an in-place change applies and keeps
/// the Job's own container; changing the image plans a replacement.
#[test]
fn kubectl_job_imports_without_replacement() {
    let tf = Tf::new("import-kubectl");
    let cluster = Cluster::start(&tf.home());
    kubectl_create(&tf, KUBECTL_OBJECTS);
    let before: Job = cluster.get("team", "legacy").unwrap();
    cluster.configure(&tf, &legacy("1.36", 6));
    tf.init();

    let address = "planton_kubernetes_job.legacy";
    let out = tf
        .run(&[
            "import",
            "-no-color",
            "-input=false",
            address,
            "team/legacy",
        ])
        .success();
    let text = out.stdout.replace('\n', " ") + &out.stderr.replace('\n', " ");
    assert!(
        text.contains("Job Fields Outside planton_kubernetes_job"),
        "{out}"
    );
    assert!(
        text.contains("spec.template.spec.containers[0].name"),
        "{out}"
    );

    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "plan after importing a kubectl Job:\n{plan}");

    // In place: the Job keeps its UID and its own container.
    cluster.configure(&tf, &legacy("1.36", 3));
    let plan = plan_json(&tf);
    assert_eq!(
        actions(&plan),
        [(address.to_string(), vec!["update".to_string()], false)]
    );
    apply(&tf).success();
    let after: Job = cluster.get("team", "legacy").unwrap();
    assert_eq!(after.metadata.uid, before.metadata.uid);
    assert_eq!(after.spec.as_ref().unwrap().backoff_limit, Some(3));
    let template = after.spec.unwrap().template.spec.unwrap();
    assert_eq!(template.containers[0].name, "main");
    assert_ne!(template.service_account_name.as_deref(), Some("legacy"));
    assert!(
        cluster
            .get::<k8s_openapi::api::core::v1::ServiceAccount>("team", "legacy")
            .is_none(),
        "a ServiceAccount the adopted Job does not use was created"
    );
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "plan after the in-place update:\n{plan}");

    // A new image replaces the Job.
    cluster.configure(&tf, &legacy("1.37", 3));
    let plan = plan_json(&tf);
    let (_, acts, _) = actions(&plan).remove(0);
    assert!(
        acts.contains(&"delete".to_string()) && acts.contains(&"create".to_string()),
        "changing the image does not replace: {acts:?}"
    );
}

/// Creates `count` Jobs named `job-<i>` in `ns` the way another tool would.
fn create_jobs(cluster: &Cluster, ns: &str, count: usize) {
    cluster
        .block_on(Api::<Namespace>::all(cluster.client.clone()).create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
        ))
        .unwrap();
    let api = cluster.api::<Job>(ns);
    for i in 0..count {
        let job: Job = serde_json::from_value(json!({
            "metadata": {"name": format!("job-{i}"), "labels": {"fleet": "yes"}},
            "spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{
                    "name": "worker", "image": format!("busybox:1.{i}"),
                    "args": ["echo", format!("{i}")],
                    "env": [{"name": "EMULATOR_RUN_SECONDS", "value": "0.1"}]
                }]
            }}}
        }))
        .unwrap();
        cluster
            .block_on(api.create(&PostParams::default(), &job))
            .unwrap();
    }
}

/// `terraform query` over a namespace holding 50 Jobs lists
/// all 50 (and nothing from elsewhere); `-generate-config-out` writes
/// configuration that `terraform plan` accepts and that plans 50 imports
/// and no other change.
#[test]
fn query_lists_and_generates_configuration_for_50_jobs() {
    let (tf, cluster) = world("import-query", "");
    create_jobs(&cluster, "fleet", 50);
    create_jobs(&cluster, "elsewhere", 2);
    tf.write(
        "fleet.tfquery.hcl",
        r#"
list "planton_kubernetes_job" "fleet" {
  provider         = planton
  include_resource = true
  limit            = 200
  config {
    namespace = "fleet"
  }
}
"#,
    );
    let out = tf.run(&["query", "-no-color"]).success();
    let listed: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("list.planton_kubernetes_job.fleet"))
        .collect();
    assert_eq!(listed.len(), 50, "{out}");
    for i in 0..50 {
        let name = format!("fleet/job-{i}");
        assert!(
            listed
                .iter()
                .any(|l| l.contains(&format!("{name} ")) || l.ends_with(&name)),
            "{name} not listed:\n{out}"
        );
    }
    assert!(!out.stdout.contains("elsewhere/"), "{out}");

    tf.run(&["query", "-no-color", "-generate-config-out=generated.tf"])
        .success();
    let generated = tf.read("generated.tf");
    assert_eq!(generated.matches("import {").count(), 50, "{generated}");
    assert_eq!(
        generated
            .matches("resource \"planton_kubernetes_job\"")
            .count(),
        50,
        "{generated}"
    );
    std::fs::remove_file(tf.work().join("fleet.tfquery.hcl")).unwrap();
    let plan = plan_json(&tf);
    let acts = actions(&plan);
    assert_eq!(acts.len(), 50, "{acts:?}");
    for (address, a, importing) in &acts {
        assert!(
            *importing && a == &["no-op".to_string()],
            "{address}: {a:?} (importing: {importing})"
        );
    }
}

/// An import that cannot work gives one clear error: a Job
/// that does not exist, an ID in the wrong form, a namespace the
/// credentials may not read. The provider is the user `importer`, whom
/// the emulator's authorization refuses everything in the namespace
/// `private`, so the API server answers 403 Forbidden as kube-apiserver
/// answers a user without `get` on Jobs there.
#[test]
fn failed_imports_give_one_clear_error() {
    let hcl = r#"
resource "planton_kubernetes_job" "x" {
  metadata = { name = "x" }
  spec = {
    namespace = { value = "batch" }
    image     = { repo = "busybox" }
  }
}
"#;
    let tf = Tf::new("import-errors");
    let config = EmulatorConfig {
        token: Some("admin-token".into()),
        token_users: [("importer-token".to_string(), "importer".to_string())].into(),
        authorization: Authorization::default().deny("importer", &["*"], &["*"], &["private"]),
        ..EmulatorConfig::fast()
    };
    let cluster = Cluster::start_with(&tf.home(), config, Some("importer-token"));
    cluster.configure(&tf, hcl);
    tf.init();
    let import = |id: &str| {
        tf.run(&[
            "import",
            "-no-color",
            "-input=false",
            "planton_kubernetes_job.x",
            id,
        ])
    };
    let cases = [
        (
            "batch/missing",
            "Kubernetes Job Not Found",
            "no Job named \"missing\"",
        ),
        ("missing", "Invalid Import ID", "CLUSTER:NAMESPACE/NAME"),
        ("Batch/x", "Invalid Import ID", "namespace"),
    ];
    for (id, summary, detail) in cases {
        let out = import(id);
        assert_ne!(out.code, 0, "{id}: {out}");
        let text = out.stderr.replace('\n', " ");
        assert!(text.contains(summary), "{id}: {out}");
        assert!(text.contains(detail), "{id}: {out}");
        assert_eq!(error_count(&out), 1, "{id}: {out}");
    }

    create_jobs(&cluster, "private", 1);
    let out = import("private/job-0");
    assert_ne!(out.code, 0, "{out}");
    let text = out.stderr.replace('│', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("Permission Denied By Kubernetes"), "{out}");
    assert!(text.contains("Job private/job-0"), "{out}");
    assert!(
        text.contains(
            r#"jobs.batch "job-0" is forbidden: User "importer" cannot get resource "jobs" in API group "batch" in the namespace "private""#
        ),
        "{out}"
    );
    assert_eq!(error_count(&out), 1, "{out}");
}

/// The `CLUSTER:` form and an identity with `cluster` import a Job of a
/// named cluster; the plan after each is empty and the stored identity
/// names the cluster.
#[test]
fn job_in_a_named_cluster_imports_by_cluster_id_and_identity() {
    let tf = Tf::new("import-named-cluster");
    let cluster = Cluster::start(&tf.home());
    let provider = format!(
        "provider \"planton\" {{\n  clusters = {{\n    prod = {{ config_path = {:?} }}\n  }}\n}}\n",
        tf.home().join("kubeconfig").display().to_string()
    );
    let job = r#"
resource "planton_kubernetes_job" "report" {
  metadata = { name = "report" }
  spec = {
    target_cluster   = { cluster_name = "prod" }
    namespace        = { value = "reports" }
    create_namespace = true
    image            = { repo = "busybox", tag = "1.36" }
    env = {
      variables = { EMULATOR_RUN_SECONDS = { value = "0.1" } }
    }
  }
}
"#;
    tf.config(&format!("{provider}\n{job}"));
    tf.init();
    apply(&tf).success();
    assert!(cluster.get::<Job>("reports", "report").is_some());
    let address = "planton_kubernetes_job.report";
    let identity = json!({"cluster": "prod", "namespace": "reports", "name": "report"});
    assert_eq!(stored_identity(&tf, address), identity);

    tf.run(&["state", "rm", address]).success();
    tf.run(&[
        "import",
        "-no-color",
        "-input=false",
        address,
        "prod:reports/report",
    ])
    .success();
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "plan after import by CLUSTER:ID:\n{plan}");
    assert_eq!(stored_identity(&tf, address), identity);

    tf.run(&["state", "rm", address]).success();
    tf.write(
        "import.tf",
        r#"
import {
  to       = planton_kubernetes_job.report
  identity = { cluster = "prod", namespace = "reports", name = "report" }
}
"#,
    );
    apply(&tf).success();
    std::fs::remove_file(tf.work().join("import.tf")).unwrap();
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "plan after import by identity:\n{plan}");

    // A cluster the provider does not have is one clear error.
    tf.run(&["state", "rm", address]).success();
    let out = tf.run(&[
        "import",
        "-no-color",
        "-input=false",
        address,
        "staging:reports/report",
    ]);
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains("staging"), "{out}");
    assert_eq!(error_count(&out), 1, "{out}");
}

/// `terraform plan -generate-config-out` writes the configuration of a
/// Job kubectl made (GenerateResourceConfig); planning with it imports the
/// Job and changes nothing.
#[test]
fn plan_generates_configuration_for_an_import_block() {
    let tf = Tf::new("import-generate");
    let cluster = Cluster::start(&tf.home());
    kubectl_create(&tf, KUBECTL_OBJECTS);
    cluster.configure(
        &tf,
        "import {\n  to = planton_kubernetes_job.legacy\n  id = \"team/legacy\"\n}\n",
    );
    tf.init();
    tf.run(&[
        "plan",
        "-no-color",
        "-input=false",
        "-generate-config-out=generated.tf",
    ])
    .success();
    let generated = tf.read("generated.tf");
    for want in [
        "resource \"planton_kubernetes_job\" \"legacy\"",
        "\"legacy-config\"",
        "cpu    = \"500m\"",
        "\"cat /cfg/settings\"",
    ] {
        assert!(generated.contains(want), "{want:?} missing:\n{generated}");
    }
    let plan = plan_json(&tf);
    assert_eq!(
        actions(&plan),
        [(
            "planton_kubernetes_job.legacy".to_string(),
            vec!["no-op".to_string()],
            true
        )],
        "{generated}"
    );
}
