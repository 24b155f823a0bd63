//! The examples under `examples/` applied against the emulator: each
//! applies, plans no changes afterwards, and destroys cleanly. The provider
//! block of an example names no cluster, so the kubeconfig is put where the
//! provider looks last, `~/.kube/config` (the test's own home).

use std::fs;
use std::path::Path;

use serde_json::json;

use crate::examples::copy_subdirectories;
use crate::harness::{Cluster, Tf, apply, destroy, plan_exit, repo_root};

/// A world with `examples/<name>` (and its modules) as the working
/// directory, initialised, and an emulator whose kubeconfig is
/// `~/.kube/config`.
fn example_world(name: &str) -> (Tf, Cluster) {
    let tf = Tf::new(&format!("apply-example-{}", name.replace('/', "-")));
    let cluster = Cluster::start(&tf.home());
    let kube = tf.home().join(".kube");
    fs::create_dir_all(&kube).unwrap();
    fs::copy(tf.home().join("kubeconfig"), kube.join("config")).unwrap();
    let dir = repo_root().join("examples").join(name);
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            tf.write(path.file_name().unwrap(), fs::read(&path).unwrap());
        }
    }
    copy_subdirectories(&dir, &dir, &tf);
    tf.init();
    (tf, cluster)
}

fn example_exists(name: &str) -> bool {
    Path::new(&repo_root().join("examples").join(name)).is_dir()
}

/// The quickstart's configuration: the job with a
/// config map, an env secret and volumes applies, reports its status,
/// plans no changes, and destroys everything it made.
#[test]
fn quickstart_example_applies_and_destroys() {
    assert!(example_exists("quickstart"));
    let (tf, cluster) = example_world("quickstart");
    apply(&tf).success();
    let out = tf.run(&["output", "-json"]).success().json();
    assert_eq!(
        out["outputs"]["value"],
        json!({"namespace": "reports", "job_name": "nightly-report"})
    );
    assert_eq!(out["status"]["value"]["succeeded"], json!(1));
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "{plan}");
    destroy(&tf);
    assert!(!cluster.namespace_exists("reports"));
}

/// The module-composition example (a module with
/// variables and outputs, one job's outputs in another's env, for_each)
/// plans with the migration's image tag unknown, applies, plans no changes
/// afterwards, and destroys cleanly.
#[test]
fn module_composition_example_applies_and_destroys() {
    let (tf, cluster) = example_world("module-composition");
    cluster.admin("DELETE", "requests", None);
    let plan = tf.plan();
    // A plan with values unknown until apply never calls the cluster.
    assert_eq!(cluster.admin("GET", "requests", None), json!([]));
    let changes = plan["resource_changes"].as_array().unwrap();
    let migrate = changes
        .iter()
        .find(|c| c["address"] == "module.migrate.planton_kubernetes_job.this")
        .unwrap_or_else(|| panic!("no migration job in the plan:\n{plan:#}"));
    assert_eq!(
        migrate["change"]["after_unknown"]["spec"]["image"]["tag"],
        json!(true),
        "the image tag should be known only after apply:\n{migrate:#}"
    );
    assert_eq!(
        migrate["change"]["after"]["outputs"],
        json!({"namespace": "shop", "job_name": "migrate"})
    );

    apply(&tf).success();
    let out = tf.run(&["output", "-json"]).success().json();
    assert_eq!(out["migration"]["value"]["namespace"], json!("shop"));
    assert_eq!(
        out["workers"]["value"],
        json!({
            "emails": {"job_name": "worker-emails", "succeeded": 1},
            "invoices": {"job_name": "worker-invoices", "succeeded": 1}
        })
    );
    assert_eq!(
        cluster.names("/apis/batch/v1", "shop", "jobs"),
        ["migrate", "worker-emails", "worker-invoices"]
    );
    let worker: k8s_openapi::api::batch::v1::Job = cluster.get("shop", "worker-emails").unwrap();
    let env: Vec<(String, Option<String>)> = worker.spec.unwrap().template.spec.unwrap().containers
        [0]
    .env
    .clone()
    .unwrap()
    .into_iter()
    .map(|e| (e.name, e.value))
    .collect();
    assert!(
        env.contains(&("MIGRATION_JOB".into(), Some("migrate".into()))),
        "{env:?}"
    );

    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "{plan}");
    destroy(&tf);
    assert!(!cluster.namespace_exists("shop"));
}

/// The from-planton-manifest example: the manifest read by
/// `kubernetes_job_from_manifest` applies, plans no changes afterwards,
/// and its `manifest` output (`yamlencode` of `kubernetes_job_manifest`)
/// is `job.yaml` again, as data.
#[test]
fn from_planton_manifest_example_applies_and_writes_the_manifest_back() {
    let (tf, cluster) = example_world("from-planton-manifest");
    apply(&tf).success();
    let out = tf.run(&["output", "-json"]).success().json();
    assert_eq!(
        out["job"]["value"],
        json!({"namespace": "reports", "job_name": "nightly-report"})
    );
    let written: serde_json::Value =
        serde_yaml::from_str(out["manifest"]["value"].as_str().unwrap()).unwrap();
    let original: serde_json::Value = serde_yaml::from_str(
        &fs::read_to_string(repo_root().join("examples/from-planton-manifest/job.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(written, original);
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "{plan}");
    destroy(&tf);
    assert!(!cluster.namespace_exists("reports"));
}
