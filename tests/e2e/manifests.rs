//! The manifest functions with the real Terraform CLI: every Planton
//! manifest under `examples/planton-manifests/` goes through
//! `kubernetes_job_from_manifest` into a `planton_kubernetes_job`, applies
//! against the emulator, plans no changes afterwards, and comes back from
//! `kubernetes_job_manifest` as the same data; a bad manifest is exactly one
//! error that names its manifest path; a value known only after apply stays
//! unknown where it is.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::PostParams;
use serde_json::{Value as Json, json};

use crate::harness::{Cluster, Tf, apply, plan_exit, repo_root};

/// One Planton manifest: its file name, the Job's name, and its data.
struct Manifest {
    file: String,
    name: String,
    namespace: String,
    creates_namespace: bool,
    data: Json,
}

impl Manifest {
    /// The resource label in the generated configuration.
    fn label(&self) -> String {
        self.name.replace('-', "_")
    }
}

/// Every manifest under `examples/planton-manifests/`, by file name.
fn manifests() -> Vec<Manifest> {
    let dir = repo_root().join("examples/planton-manifests");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let data: Json = serde_yaml::from_str(&fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Manifest {
                file: path.file_name().unwrap().to_string_lossy().into_owned(),
                name: data["metadata"]["name"].as_str().unwrap().to_string(),
                namespace: data["spec"]["namespace"]["value"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                creates_namespace: data["spec"]["createNamespace"] == json!(true),
                data,
            }
        })
        .collect()
}

/// One configuration for all the manifests: a local per manifest read by
/// the function, a resource per manifest (a Job that uses a namespace
/// another one creates depends on it), and the manifests written back.
fn configuration(manifests: &[Manifest]) -> String {
    let creators: BTreeMap<&str, String> = manifests
        .iter()
        .filter(|m| m.creates_namespace)
        .map(|m| (m.namespace.as_str(), m.label()))
        .collect();
    let mut hcl = String::from("locals {\n  jobs = {\n");
    for m in manifests {
        hcl.push_str(&format!(
            "    {:?} = provider::planton::kubernetes_job_from_manifest(yamldecode(file(\"${{path.module}}/manifests/{}\")))\n",
            m.name, m.file
        ));
    }
    hcl.push_str("  }\n}\n\n");
    for m in manifests {
        let depends_on = match creators.get(m.namespace.as_str()) {
            Some(creator) if !m.creates_namespace => {
                format!("\n  depends_on = [planton_kubernetes_job.{creator}]\n")
            }
            _ => String::new(),
        };
        hcl.push_str(&format!(
            r#"resource "planton_kubernetes_job" "{label}" {{
  metadata = local.jobs["{name}"].metadata
  spec     = local.jobs["{name}"].spec

  # Images and Secrets are made up: do not wait for the pods.
  wait_for_completion = false
{depends_on}}}

"#,
            label = m.label(),
            name = m.name,
        ));
    }
    hcl.push_str(
        r#"output "manifests" {
  value = { for name, job in local.jobs : name => provider::planton::kubernetes_job_manifest(job.metadata, job.spec) }
}
"#,
    );
    hcl
}

/// All nine Planton examples in one configuration: one apply creates every
/// Job, the next plan is empty, and each manifest comes back from
/// `kubernetes_job_manifest` equal to the YAML file as data.
#[test]
fn planton_manifests_apply_plan_clean_and_come_back_unchanged() {
    let manifests = manifests();
    assert_eq!(manifests.len(), 9, "expected Planton's nine examples");
    let tf = Tf::new("manifests-apply");
    let cluster = Cluster::start(&tf.home());
    for m in &manifests {
        tf.write(
            format!("manifests/{}", m.file),
            fs::read(repo_root().join("examples/planton-manifests").join(&m.file)).unwrap(),
        );
    }
    // Namespaces no manifest creates must exist beforehand, as Planton
    // expects of them.
    let created: BTreeSet<&str> = manifests
        .iter()
        .filter(|m| m.creates_namespace)
        .map(|m| m.namespace.as_str())
        .collect();
    let needed: BTreeSet<&str> = manifests
        .iter()
        .map(|m| m.namespace.as_str())
        .filter(|ns| !created.contains(ns))
        .collect();
    for ns in needed {
        if !cluster.namespace_exists(ns) {
            cluster
                .block_on(Api::<Namespace>::all(cluster.client.clone()).create(
                    &PostParams::default(),
                    &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
                ))
                .unwrap();
        }
    }
    cluster.configure(&tf, &configuration(&manifests));
    tf.init();

    apply(&tf).success();
    for m in &manifests {
        assert!(
            cluster
                .names("/apis/batch/v1", &m.namespace, "jobs")
                .contains(&m.name),
            "no Job {}/{} after apply",
            m.namespace,
            m.name
        );
    }
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "the plan after apply is not empty:\n{plan}");

    let out = tf.run(&["output", "-json", "manifests"]).success().json();
    let mut problems = Vec::new();
    for m in &manifests {
        if out[&m.name] != m.data {
            problems.push(format!(
                "{}:\n  file:   {}\n  output: {}",
                m.file, m.data, out[&m.name]
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A manifest with a wrong kind, with an unknown field, and with a value
/// of the wrong type: each is exactly one error on the function's argument,
/// and its text names the manifest path.
#[test]
fn bad_manifests_are_one_error_naming_the_path() {
    let tf = Tf::new("manifests-errors");
    tf.config(
        r#"locals {
  job = provider::planton::kubernetes_job_from_manifest(yamldecode(file("${path.module}/job.yaml")))
}

resource "planton_kubernetes_job" "job" {
  metadata = local.job.metadata
  spec     = local.job.spec
}
"#,
    );
    tf.init();
    let good =
        fs::read_to_string(repo_root().join("examples/planton-manifests/database-backup.yaml"))
            .unwrap();
    let cases = [
        (
            "wrong kind",
            good.replace("kind: KubernetesJob", "kind: KubernetesCronJob"),
            "kind: expected \"KubernetesJob\", found the string \"KubernetesCronJob\"",
        ),
        (
            "unknown field",
            good.replace(
                "        path: backup.sh",
                "        path: backup.sh\n        mode: 493",
            ),
            "spec.volumeMounts[0].configMap.mode: unknown field \"mode\"",
        ),
        (
            "wrong type",
            good.replace("tag: \"15\"", "tag: 15"),
            "spec.image.tag: expected a string, found the number 15",
        ),
    ];
    let mut problems = Vec::new();
    for (name, yaml, expected) in cases {
        assert_ne!(yaml, good, "{name}: the case changes nothing");
        tf.write("job.yaml", &yaml);
        let v = tf.validate_json();
        let errors = v.errors();
        if errors.len() != 1 {
            problems.push(format!("{name}: {} errors:\n{}", errors.len(), v.raw));
            continue;
        }
        // Terraform points at the argument when the error names one.
        if errors[0].summary != "Invalid function argument" {
            problems.push(format!("{name}: summary {:?}", errors[0].summary));
        }
        if !errors[0].detail.contains(expected) {
            problems.push(format!("{name}: {:?} lacks {expected:?}", errors[0].detail));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// A manifest merged with a value known only after apply: the plan shows
/// just that value unknown (the rest of the manifest is converted and
/// checked), and the apply uses it.
#[test]
fn values_known_after_apply_stay_unknown_only_where_they_are() {
    let tf = Tf::new("manifests-unknown");
    let cluster = Cluster::start(&tf.home());
    tf.write(
        "job.yaml",
        fs::read(repo_root().join("examples/planton-manifests/hello-world.yaml")).unwrap(),
    );
    cluster.configure(
        &tf,
        r#"resource "terraform_data" "tag" {
  input = "1.36"
}

locals {
  manifest = yamldecode(file("${path.module}/job.yaml"))
  job = provider::planton::kubernetes_job_from_manifest(merge(local.manifest, {
    spec = merge(local.manifest.spec, {
      image = { repo = "busybox", tag = terraform_data.tag.output }
    })
  }))
}

resource "planton_kubernetes_job" "job" {
  metadata = local.job.metadata
  spec     = local.job.spec

  wait_for_completion = false
}
"#,
    );
    tf.init();
    let plan = tf.plan();
    let job = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "planton_kubernetes_job.job")
        .unwrap_or_else(|| panic!("no job in the plan:\n{plan:#}"));
    assert_eq!(
        job["change"]["after_unknown"]["spec"]["image"]["tag"],
        json!(true),
        "{job:#}"
    );
    assert_eq!(
        job["change"]["after"]["spec"]["image"]["repo"],
        json!("busybox")
    );
    assert_eq!(
        job["change"]["after"]["spec"]["command"],
        json!(["echo", "Hello, World!"])
    );
    apply(&tf).success();
    let live: k8s_openapi::api::batch::v1::Job = cluster.get("default", "hello-world").unwrap();
    assert_eq!(
        live.spec.unwrap().template.spec.unwrap().containers[0].image,
        Some("busybox:1.36".to_string())
    );
}
