//! Ownership with the real Terraform CLI against the emulator: two working
//! directories never share a job's objects; an object re-created outside
//! Terraform is drift and is never deleted; a namespace two jobs declare is
//! shared and deleted with the last of them.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use kube::api::{DeleteParams, ListParams, PostParams};

use crate::harness::{Cluster, Tf, apply, destroy, plan_exit, world};

/// One job in namespace `ns` that creates it, with a ConfigMap and a
/// literal secret; `wait_for_completion` off so that applies are quick.
fn job(label: &str, name: &str, ns: &str) -> String {
    format!(
        r#"
resource "planton_kubernetes_job" "{label}" {{
  metadata = {{ name = "{name}" }}
  spec = {{
    namespace        = {{ value = "{ns}" }}
    create_namespace = true
    image            = {{ repo = "busybox", tag = "1.36" }}
    env = {{
      variables = {{ EMULATOR_RUN_SECONDS = {{ value = "0.1" }} }}
      secrets   = {{ TOKEN = {{ value = "s3cr3t" }} }}
    }}
    config_maps = {{ "{name}-config" = "a: 1\n" }}
  }}
  wait_for_completion = false
}}
"#
    )
}

/// Each object of the job `name`, with its UID, resourceVersion and data.
fn snapshot(cluster: &Cluster, ns: &str, name: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(j) = cluster.get::<Job>(ns, name) {
        out.insert(
            "job".to_string(),
            format!("{:?} {:?}", j.metadata.uid, j.metadata.labels),
        );
    }
    if let Some(sa) = cluster.get::<ServiceAccount>(ns, name) {
        out.insert(
            "serviceaccount".to_string(),
            format!("{:?} {:?}", sa.metadata.uid, sa.metadata.resource_version),
        );
    }
    if let Some(cm) = cluster.get::<ConfigMap>(ns, &format!("{name}-config")) {
        out.insert(
            "configmap".to_string(),
            format!(
                "{:?} {:?} {:?}",
                cm.metadata.uid, cm.metadata.resource_version, cm.data
            ),
        );
    }
    if let Some(s) = cluster.get::<Secret>(ns, &format!("{name}-env-secrets")) {
        out.insert(
            "secret".to_string(),
            format!(
                "{:?} {:?} {:?}",
                s.metadata.uid, s.metadata.resource_version, s.data
            ),
        );
    }
    out
}

/// Two working directories declare the same job name and namespace: the
/// second apply fails naming the first's instance; the first's objects are
/// untouched (same UIDs, same data); destroying the second leaves them, and
/// the first still plans no changes.
#[test]
fn two_working_directories_never_share_a_job() {
    let hcl = job("report", "nightly", "reports");
    let (first, cluster) = world("ownership-first", &hcl);
    apply(&first).success();
    let before = snapshot(&cluster, "reports", "nightly");
    assert_eq!(before.len(), 4, "{before:?}");
    let instance = cluster
        .get::<Job>("reports", "nightly")
        .unwrap()
        .metadata
        .labels
        .unwrap()["planton.ai/instance"]
        .clone();

    let second = Tf::new("ownership-second");
    cluster.configure(&second, &hcl);
    second.init();
    let out = apply(&second);
    assert_ne!(out.code, 0, "the second state took the job over:\n{out}");
    let text = out.stderr.replace('\n', " ");
    assert!(text.contains("Owned By Another Resource"), "{out}");
    assert!(text.contains(&instance), "{out}");
    assert_eq!(snapshot(&cluster, "reports", "nightly"), before);

    destroy(&second);
    assert_eq!(snapshot(&cluster, "reports", "nightly"), before);
    let plan = plan_exit(&first);
    assert_eq!(plan.code, 0, "{plan}");
    destroy(&first);
    assert!(!cluster.namespace_exists("reports"));
}

/// An object of ours deleted and re-created by someone else with our labels
/// is drift in the next plan, and destroy never deletes it.
#[test]
fn a_recreated_object_is_drift_and_destroy_leaves_it() {
    let hcl = job("report", "nightly", "reports");
    let (tf, cluster) = world("ownership-recreated", &hcl);
    apply(&tf).success();
    let cms = cluster.api::<ConfigMap>("reports");
    let ours = cluster
        .get::<ConfigMap>("reports", "nightly-config")
        .unwrap();
    cluster
        .block_on(cms.delete("nightly-config", &DeleteParams::default()))
        .unwrap();
    let mut copy = ours.clone();
    copy.metadata.uid = None;
    copy.metadata.resource_version = None;
    copy.metadata.managed_fields = None;
    copy.metadata.creation_timestamp = None;
    let theirs = cluster
        .block_on(cms.create(&PostParams::default(), &copy))
        .unwrap();

    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 2, "{plan}");
    assert!(
        plan.stdout.contains("another object of the same name"),
        "{plan}"
    );

    destroy(&tf);
    let left = cluster
        .get::<ConfigMap>("reports", "nightly-config")
        .expect("destroy deleted an object that is not this resource's");
    assert_eq!(left.metadata.uid, theirs.metadata.uid);
    assert!(cluster.get::<Job>("reports", "nightly").is_none());
}

/// Two jobs declare the same namespace with `create_namespace = true`:
/// apply, then the plan is empty; destroying one leaves the namespace and
/// the other job intact; destroying the second removes the namespace.
#[test]
fn a_namespace_declared_by_two_jobs_is_shared() {
    let hcl = format!(
        "{}{}",
        job("alpha", "alpha", "team"),
        job("beta", "beta", "team")
    );
    let (tf, cluster) = world("ownership-shared-namespace", &hcl);
    apply(&tf).success();
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "the plan does not settle:\n{plan}");

    let beta = snapshot(&cluster, "team", "beta");
    tf.run(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-target=planton_kubernetes_job.alpha",
    ])
    .success();
    assert!(cluster.namespace_exists("team"));
    assert!(cluster.get::<Job>("team", "alpha").is_none());
    assert_eq!(snapshot(&cluster, "team", "beta"), beta);
    let left = cluster
        .block_on(
            cluster
                .api::<ConfigMap>("team")
                .list(&ListParams::default()),
        )
        .unwrap();
    assert!(
        left.items
            .iter()
            .all(|c| c.metadata.name.as_deref() != Some("alpha-config"))
    );

    destroy(&tf);
    assert!(!cluster.namespace_exists("team"));
}
