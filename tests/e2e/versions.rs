//! The supported range of Terraform versions: the core steps (init from
//! the mirror, apply that waits for the Job, an empty plan, import by ID
//! both ways, destroy) run, as the same code, on the oldest supported
//! Terraform ([`OLDEST_TERRAFORM`], `.tools/bin/terraform-1.8`) and on the
//! current one. On the oldest, a provider function works, and a write-only
//! attribute (Terraform 1.11+) is one error naming the version it needs.
//! A state the oldest wrote is planned with no changes by the current one.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use serde_json::json;

use crate::harness::{Cluster, OLDEST_TERRAFORM, Output, Tf, apply, destroy, plan_exit, repo_root};

/// A Terraform the tests run.
#[derive(Clone, Copy, Debug)]
enum Version {
    /// The oldest supported one ([`Tf::oldest`]).
    Oldest,
    /// The one every other test runs ([`Tf::new`]).
    Current,
}

impl Version {
    /// A fresh world running this Terraform; checks first that it runs
    /// the Terraform it should.
    fn tf(self, name: &str) -> Tf {
        let tf = match self {
            Version::Oldest => Tf::oldest(name),
            Version::Current => Tf::new(name),
        };
        self.check_version(&tf);
        tf
    }

    /// What `terraform version` must say, unless the environment chose
    /// this Terraform (`$TERRAFORM_OLDEST`, `$TERRAFORM`).
    fn expected_prefix(self) -> (&'static str, String) {
        match self {
            Version::Oldest => ("TERRAFORM_OLDEST", format!("{OLDEST_TERRAFORM}.")),
            Version::Current => ("TERRAFORM", "1.15.".to_string()),
        }
    }

    /// A world running this Terraform whose provider points at a fresh
    /// emulator, with `hcl` as the rest of the configuration, initialised
    /// from the mirror.
    fn world(self, name: &str, hcl: &str) -> (Tf, Cluster) {
        let tf = self.tf(name);
        let cluster = Cluster::start(&tf.home());
        cluster.configure(&tf, hcl);
        tf.init();
        (tf, cluster)
    }

    /// Fails unless `tf` runs this Terraform; prints its version.
    fn check_version(self, tf: &Tf) {
        let out = tf.run(&["version", "-json"]).success();
        let version = out.json()["terraform_version"]
            .as_str()
            .unwrap_or_else(|| panic!("no terraform_version:\n{out}"))
            .to_string();
        eprintln!("{self:?}: Terraform {version}");
        let (var, prefix) = self.expected_prefix();
        if std::env::var_os(var).is_none_or(|v| v.is_empty()) {
            assert!(
                version.starts_with(&prefix),
                "{self:?} Terraform is {version}, expected {prefix}x"
            );
        }
    }
}

/// A job with a ConfigMap, an env Secret and a namespace of its own; it
/// runs for a tenth of a second in the emulator, and apply waits for it.
const JOB: &str = r#"
resource "planton_kubernetes_job" "report" {
  metadata = { name = "report" }
  spec = {
    namespace        = { value = "versions" }
    create_namespace = true
    image            = { repo = "busybox", tag = "1.36" }
    command          = ["/bin/sh", "-c", "cat /etc/report/report.yaml"]
    env = {
      variables = { EMULATOR_RUN_SECONDS = { value = "0.1" } }
      secrets   = { DB_PASSWORD = { value = "versions-test-only" } }
    }
    config_maps = { "report-config" = "format: csv\n" }
    volume_mounts = [
      {
        name       = "config"
        mount_path = "/etc/report"
        config_map = { name = "report-config", key = "report-config", path = "report.yaml" }
      },
    ]
  }
}
"#;

const ADDRESS: &str = "planton_kubernetes_job.report";
const ID: &str = "versions/report";

/// The job's objects in the emulator, by kind, and whether its namespace
/// exists.
fn objects(cluster: &Cluster) -> (bool, bool, bool, bool, bool) {
    (
        cluster.get::<Job>("versions", "report").is_some(),
        cluster
            .get::<ConfigMap>("versions", "report-config")
            .is_some(),
        cluster
            .get::<Secret>("versions", "report-env-secrets")
            .is_some(),
        cluster
            .get::<ServiceAccount>("versions", "report")
            .is_some(),
        cluster.namespace_exists("versions"),
    )
}

/// `out`, after checking that Terraform printed no warning: on an older
/// Terraform, a warning is how a protocol answer it does not understand
/// would show.
#[track_caller]
fn no_warning(out: Output) -> Output {
    assert!(
        !out.stdout.contains("Warning:") && !out.stderr.contains("Warning:"),
        "{out}"
    );
    out
}

/// Asserts that `plan -detailed-exitcode` finds nothing to do.
#[track_caller]
fn assert_plan_empty(tf: &Tf, after: &str) {
    let plan = no_warning(plan_exit(tf));
    assert_eq!(plan.code, 0, "the plan after {after} is not empty:\n{plan}");
}

/// The core steps, the same on every version.
fn core_steps(version: Version) {
    let started = std::time::Instant::now();
    let (tf, cluster) = version.world(&format!("versions-{version:?}"), JOB);

    // Apply waits for the Job to complete.
    no_warning(apply(&tf).success());
    let job: Job = cluster.get("versions", "report").unwrap();
    assert_eq!(
        job.status.and_then(|s| s.succeeded),
        Some(1),
        "apply returned before the Job completed"
    );
    assert_eq!(objects(&cluster), (true, true, true, true, true));
    assert_plan_empty(&tf, "apply");

    // Import by ID with `terraform import`.
    tf.run(&["state", "rm", ADDRESS]).success();
    no_warning(
        tf.run(&["import", "-no-color", "-input=false", ADDRESS, ID])
            .success(),
    );
    assert_plan_empty(&tf, "terraform import");

    // Import by ID with an `import` block.
    tf.run(&["state", "rm", ADDRESS]).success();
    tf.write(
        "import.tf",
        format!("import {{\n  to = {ADDRESS}\n  id = {ID:?}\n}}\n"),
    );
    let out = no_warning(apply(&tf).success());
    assert!(out.stdout.contains("1 imported"), "{out}");
    std::fs::remove_file(tf.work().join("import.tf")).unwrap();
    assert_plan_empty(&tf, "the import block");

    no_warning(destroy(&tf));
    assert_eq!(objects(&cluster), (false, false, false, false, false));
    eprintln!("{version:?}: core steps took {:?}", started.elapsed());
}

#[test]
fn core_steps_on_the_oldest_terraform() {
    core_steps(Version::Oldest);
}

#[test]
fn core_steps_on_the_current_terraform() {
    core_steps(Version::Current);
}

/// A job applied by the oldest Terraform, whose state has no resource
/// identity (Terraform 1.12+), is planned with no changes by the current
/// Terraform, which records the identity from the provider's answer; the
/// current Terraform then destroys it.
#[test]
fn state_from_the_oldest_terraform_plans_empty_on_the_current_one() {
    let (tf, cluster) = Version::Oldest.world("versions-upgrade", JOB);
    no_warning(apply(&tf).success());
    let state = tf.run(&["state", "pull"]).success().json();
    assert_eq!(
        state["resources"][0]["instances"][0]["identity"],
        serde_json::Value::Null,
        "Terraform {OLDEST_TERRAFORM} stored an identity"
    );

    let tf = tf.upgraded();
    Version::Current.check_version(&tf);
    assert_plan_empty(&tf, "the upgrade of Terraform");
    no_warning(apply(&tf).success());
    let state = tf.run(&["state", "pull"]).success().json();
    assert_eq!(
        state["resources"][0]["instances"][0]["identity"],
        json!({"cluster": null, "namespace": "versions", "name": "report"}),
        "{state:#}"
    );
    no_warning(destroy(&tf));
    assert_eq!(objects(&cluster), (false, false, false, false, false));
}

/// The number of errors Terraform printed.
fn error_count(out: &Output) -> usize {
    out.stderr.matches("Error: ").count() + out.stdout.matches("Error: ").count()
}

/// On Terraform 1.8, which would store a write-only attribute's value like
/// any other, setting one is exactly one error that names Terraform 1.11,
/// and no state holds the value (nor does the cluster get a Job).
#[test]
fn write_only_attribute_on_the_oldest_terraform_names_the_version_it_needs() {
    const VALUE: &str = "wo-on-old-terraform-5e9d";
    let hcl = JOB.replace(
        "\n  }\n}\n",
        &format!(
            "\n  }}\n  env_secrets_wo         = {{ API_KEY = \"{VALUE}\" }}\n  env_secrets_wo_version = 1\n}}\n"
        ),
    );
    assert!(hcl.contains("env_secrets_wo "), "{hcl}");
    let (tf, cluster) = Version::Oldest.world("versions-write-only", &hcl);
    for out in [tf.run(&["plan", "-no-color", "-input=false"]), apply(&tf)] {
        assert_ne!(out.code, 0, "{out}");
        assert_eq!(error_count(&out), 1, "{out}");
        let text = out.stderr.replace('\n', " ");
        assert!(
            text.contains("Write-Only Attribute Needs Terraform 1.11"),
            "{out}"
        );
    }
    let state = tf.run(&["state", "pull"]).success().stdout;
    assert!(!state.contains(VALUE), "the value is in state:\n{state}");
    for file in ["terraform.tfstate", "terraform.tfstate.backup"] {
        let path = tf.work().join(file);
        if path.exists() {
            assert!(!tf.read(file).contains(VALUE), "the value is in {file}");
        }
    }
    assert_eq!(objects(&cluster), (false, false, false, false, false));
}

/// On Terraform 1.8 the provider's functions work: a Planton manifest goes
/// through `kubernetes_job_from_manifest` and back through
/// `kubernetes_job_manifest` unchanged.
#[test]
fn provider_functions_on_the_oldest_terraform() {
    let tf = Version::Oldest.tf("versions-functions");
    let file = "hello-world.yaml";
    let yaml =
        std::fs::read_to_string(repo_root().join("examples/planton-manifests").join(file)).unwrap();
    tf.write(file, &yaml);
    tf.config(&format!(
        r#"locals {{
  job = provider::planton::kubernetes_job_from_manifest(yamldecode(file("${{path.module}}/{file}")))
}}

output "job" {{
  value = local.job
}}

output "manifest" {{
  value = provider::planton::kubernetes_job_manifest(local.job.metadata, local.job.spec)
}}
"#
    ));
    tf.init();
    no_warning(apply(&tf).success());
    let out = tf.run(&["output", "-json"]).success().json();
    let data: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(out["manifest"]["value"], data);
    assert_eq!(
        out["job"]["value"]["spec"]["image"],
        json!({"repo": "busybox", "tag": "latest", "pull_secret_name": null})
    );
}
