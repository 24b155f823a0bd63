//! Write-only secrets with the real Terraform CLI against the emulator: the
//! values reach the cluster and nothing Terraform writes or prints; a new
//! version rolls them; an edit of the live Secret is drift.

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::harness::{Tf, apply, destroy, plan_exit, world};

const FIRST: &str = "wo-first-value-7b1f";
const SECOND: &str = "wo-second-value-93c2";
const REGISTRY_AUTH: &str = "cmVnaXN0cnktdXNlcjpyZWdpc3RyeS1wYXNz";

fn config(value: &str, version: u32) -> String {
    format!(
        r#"
resource "planton_kubernetes_job" "report" {{
  metadata = {{ name = "wo-report" }}
  spec = {{
    namespace        = {{ value = "secrets" }}
    create_namespace = true
    image            = {{ repo = "busybox", tag = "1.36" }}
    env = {{
      variables = {{ EMULATOR_RUN_SECONDS = {{ value = "0.1" }} }}
    }}
  }}
  env_secrets_wo                = {{ API_KEY = "{value}" }}
  env_secrets_wo_version        = {version}
  docker_config_json_wo         = jsonencode({{ auths = {{ "registry.example.com" = {{ auth = "{REGISTRY_AUTH}" }} }} }})
  docker_config_json_wo_version = 1
  wait_for_completion           = false
}}
"#
    )
}

fn secret_value(cluster: &crate::harness::Cluster, name: &str, key: &str) -> Option<String> {
    let s: Secret = cluster.get("secrets", name)?;
    s.data?
        .get(key)
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
}

/// Everything Terraform keeps or prints: state (private data decoded too),
/// `show -json`, and the plan's output.
fn everything_terraform_holds(tf: &Tf, plan_text: &str) -> String {
    let state = tf.read("terraform.tfstate");
    let mut all = state.clone();
    let parsed: serde_json::Value = serde_json::from_str(&state).unwrap();
    for r in parsed["resources"].as_array().into_iter().flatten() {
        for i in r["instances"].as_array().into_iter().flatten() {
            if let Some(p) = i["private"].as_str()
                && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(p)
            {
                all.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    all.push_str(&tf.run(&["show", "-json"]).success().stdout);
    all.push_str(plan_text);
    all
}

/// After apply the values are live and in nothing Terraform holds; the
/// next plan is empty; a new version rolls the Secret in place; an edit of
/// the live Secret shows as drift and the next apply puts the value back.
#[test]
fn write_only_secrets_stay_out_of_state_and_roll_by_version() {
    let (tf, cluster) = world("write-only", &config(FIRST, 1));
    apply(&tf).success();
    assert_eq!(
        secret_value(&cluster, "wo-report-env-secrets", "API_KEY").as_deref(),
        Some(FIRST)
    );
    let docker =
        secret_value(&cluster, "wo-report-image-pull-secret", ".dockerconfigjson").unwrap();
    assert!(docker.contains(REGISTRY_AUTH), "{docker}");

    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "{plan}");
    let held = everything_terraform_holds(&tf, &plan.stdout);
    for secret in [FIRST, REGISTRY_AUTH] {
        assert!(
            !held.contains(secret),
            "{secret} leaked into Terraform's files or output"
        );
    }

    // A new value with a new version rolls the Secret, in place.
    let uid = cluster
        .get::<k8s_openapi::api::batch::v1::Job>("secrets", "wo-report")
        .unwrap()
        .metadata
        .uid;
    tf.config(&format!(
        "provider \"planton\" {{\n  config_path = {:?}\n}}\n{}",
        tf.home().join("kubeconfig").display().to_string(),
        config(SECOND, 2)
    ));
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 2, "{plan}");
    assert!(!plan.stdout.contains(SECOND), "{plan}");
    apply(&tf).success();
    assert_eq!(
        secret_value(&cluster, "wo-report-env-secrets", "API_KEY").as_deref(),
        Some(SECOND)
    );
    assert_eq!(
        cluster
            .get::<k8s_openapi::api::batch::v1::Job>("secrets", "wo-report")
            .unwrap()
            .metadata
            .uid,
        uid,
        "a new value replaced the Job"
    );

    // Someone edits the live Secret: drift, and apply puts it back.
    let edited = base64::engine::general_purpose::STANDARD.encode("edited-by-hand");
    cluster
        .block_on(cluster.api::<Secret>("secrets").patch(
            "wo-report-env-secrets",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"API_KEY": edited}})),
        ))
        .unwrap();
    let plan = plan_exit(&tf);
    assert_eq!(
        plan.code, 2,
        "an edit of the live Secret is not drift:\n{plan}"
    );
    assert!(plan.stdout.contains("changed outside Terraform"), "{plan}");
    assert!(!plan.stdout.contains("edited-by-hand"), "{plan}");
    apply(&tf).success();
    assert_eq!(
        secret_value(&cluster, "wo-report-env-secrets", "API_KEY").as_deref(),
        Some(SECOND)
    );
    let held = everything_terraform_holds(&tf, "");
    for secret in [FIRST, SECOND, REGISTRY_AUTH] {
        assert!(
            !held.contains(secret),
            "{secret} leaked into Terraform's files"
        );
    }
    destroy(&tf);
}

/// A name given both in `spec.env.secrets` and write-only is one plan-time
/// error at the write-only entry.
#[test]
fn a_secret_given_twice_is_refused() {
    let hcl = config(FIRST, 1).replace(
        "variables = { EMULATOR_RUN_SECONDS = { value = \"0.1\" } }",
        "secrets = { API_KEY = { value = \"literal\" } }",
    );
    let (tf, _cluster) = world("write-only-twice", &hcl);
    let out = tf.run(&["plan", "-no-color", "-input=false"]);
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains("Secret Given Twice"), "{out}");
    assert_eq!(out.stderr.matches("Error: ").count(), 1, "{out}");
    // Terraform quotes the configuration line; the provider's own text
    // names the variable, never the value.
    let detail: String = out
        .stderr
        .lines()
        .filter(|l| !l.contains("env_secrets_wo  "))
        .collect();
    assert!(!detail.contains(FIRST), "{out}");
}

/// A failing job that prints its own secret values (a literal one and a
/// write-only one) in its log: the apply's error shows the log with the
/// values masked, and a 10 MB line cut to the byte limit.
#[test]
fn a_failing_jobs_secrets_are_masked_and_its_log_bounded() {
    let hcl = r#"
resource "planton_kubernetes_job" "leaky" {
  metadata = { name = "leaky" }
  spec = {
    namespace        = { value = "leaky" }
    create_namespace = true
    image            = { repo = "busybox", tag = "1.36" }
    backoff_limit    = 0
    env = {
      variables = {
        EMULATOR_RUN_SECONDS         = { value = "0.1" }
        EMULATOR_EXIT_CODE           = { value = "1" }
        EMULATOR_LOG_LONG_LINE_BYTES = { value = "10485760" }
        EMULATOR_LOG_LINES           = { value = "db password is literal-pw-4411\napi token is wo-token-8823\nbye" }
      }
      secrets = { DB_PASSWORD = { value = "literal-pw-4411" } }
    }
  }
  env_secrets_wo         = { API_TOKEN = "wo-token-8823" }
  env_secrets_wo_version = 1
}
"#;
    let (tf, _cluster) = world("write-only-masked", hcl);
    let out = apply(&tf);
    assert_ne!(out.code, 0, "{out}");
    let text = out.stderr.replace('\n', " ");
    assert!(
        text.contains("Kubernetes Job Failed"),
        "{}",
        &out.stderr[..out.stderr.len().min(4000)]
    );
    assert!(
        text.contains("db password is (secret)"),
        "{}",
        &out.stderr[..out.stderr.len().min(4000)]
    );
    assert!(
        text.contains("api token is (secret)"),
        "{}",
        &out.stderr[..out.stderr.len().min(4000)]
    );
    assert!(text.contains("more bytes"), "the long line was not cut");
    // Terraform quotes configuration lines; the provider's text never
    // holds the values.
    let provider_text: String = out.stderr.lines().filter(|l| !l.contains(" = ")).collect();
    assert!(!provider_text.contains("literal-pw-4411"));
    assert!(!provider_text.contains("wo-token-8823"));
    assert!(
        out.stderr.len() < 64 * 1024,
        "{} bytes of output",
        out.stderr.len()
    );
}
