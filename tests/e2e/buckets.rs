//! The bucket table against the emulator's
//! immutability rules. Each step changes one field of the configuration the
//! previous step applied; the plan must say "updated in-place" (and the
//! apply keep the Job's UID) or "must be replaced" (and the apply succeed
//! with a new Job); a plan after each apply is empty.
//!
//! The pod template's labels (`metadata.id`, `org`, `env`) change in place
//! while the Job is suspended and has never started, as Kubernetes allows
//! (KEP-2926) and the emulator checks; otherwise they replace the Job.

use k8s_openapi::api::batch::v1::Job;

use crate::harness::{Cluster, apply, plan_exit, world};

const BASE: &str = r#"
resource "planton_kubernetes_job" "b" {
  metadata = {
    name = "buckets"
    org  = "acme"
    env  = "dev"
    slug = "s1"
  }
  spec = {
    namespace        = { value = "buckets" }
    create_namespace = true
    image            = { repo = "busybox", tag = "1.36" }
    resources = {
      limits   = { cpu = "1000m", memory = "1Gi" }
      requests = { cpu = "50m", memory = "100Mi" }
    }
    env = {
      variables = {
        EMULATOR_RUN_SECONDS = { value = "0.1" }
        MODE                 = { value = "a" }
      }
      secrets = {
        TOKEN = { value = "t1" }
      }
    }
    config_maps                = { "buckets-cfg" = "v1" }
    parallelism                = 1
    completions                = 1
    backoff_limit              = 6
    active_deadline_seconds    = 600
    ttl_seconds_after_finished = 3600
    suspend                    = false
    completion_mode            = "NonIndexed"
    restart_policy             = "Never"
    command                    = ["run"]
    args                       = ["--x"]
    volume_mounts = [
      { name = "scratch", mount_path = "/scratch", empty_dir = {} },
    ]
  }
  wait_for_completion = false
}
"#;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    InPlace,
    Replace,
}

/// Applies each change in turn and checks the plan's verdict and the Job.
fn run_steps(name: &str, steps: &[(&str, &str, &str, Expect)]) {
    run_steps_from(name, BASE, steps, |_, _| {});
}

/// [`run_steps`] from the configuration `base`; `check` looks at the
/// cluster after each step's apply (given the step's label).
fn run_steps_from(
    name: &str,
    base: &str,
    steps: &[(&str, &str, &str, Expect)],
    check: impl Fn(&Cluster, &str),
) {
    let (tf, cluster) = world(name, base);
    apply(&tf).success();
    let mut current = base.to_string();
    let mut uid = job_uid(&cluster, "buckets", "buckets");
    let mut namespace = "buckets".to_string();
    let mut job_name = "buckets".to_string();
    for (label, from, to, expect) in steps {
        assert!(
            current.contains(from),
            "{label}: {from:?} not in the configuration"
        );
        current = current.replacen(from, to, 1);
        cluster.configure(&tf, &current);
        if *from == "value = \"buckets\" }" {
            namespace = "buckets2".into();
        }
        if *from == "name = \"buckets\"" {
            job_name = "buckets-renamed".into();
        }
        let plan = tf.run(&["plan", "-no-color", "-input=false"]).success();
        let text = &plan.stdout;
        match expect {
            Expect::InPlace => assert!(
                text.contains("will be updated in-place") && !text.contains("must be replaced"),
                "{label}: expected an in-place update:\n{plan}"
            ),
            Expect::Replace => assert!(
                text.contains("must be replaced") && text.contains("forces replacement"),
                "{label}: expected a replacement:\n{plan}"
            ),
        }
        apply(&tf).success();
        let new_uid = job_uid(&cluster, &namespace, &job_name);
        match expect {
            Expect::InPlace => assert_eq!(new_uid, uid, "{label}: the Job was replaced"),
            Expect::Replace => assert_ne!(new_uid, uid, "{label}: the Job was not replaced"),
        }
        uid = new_uid;
        check(&cluster, label);
        let again = plan_exit(&tf);
        assert_eq!(
            again.code, 0,
            "{label}: the plan after apply is not empty:\n{again}"
        );
    }
    crate::harness::destroy(&tf);
}

fn job_uid(cluster: &Cluster, ns: &str, name: &str) -> String {
    cluster
        .get::<Job>(ns, name)
        .unwrap_or_else(|| panic!("no Job {ns}/{name}"))
        .metadata
        .uid
        .unwrap()
}

/// Every in-place field updates the live Job (or its objects) and keeps the
/// Job's UID.
#[test]
fn in_place_fields_keep_the_job() {
    use Expect::InPlace;
    run_steps(
        "buckets-in-place",
        &[
            (
                "parallelism",
                "parallelism                = 1",
                "parallelism                = 2",
                InPlace,
            ),
            (
                "backoff_limit",
                "backoff_limit              = 6",
                "backoff_limit              = 3",
                InPlace,
            ),
            (
                "active_deadline_seconds",
                "active_deadline_seconds    = 600",
                "active_deadline_seconds    = 900",
                InPlace,
            ),
            (
                "ttl_seconds_after_finished",
                "ttl_seconds_after_finished = 3600",
                "ttl_seconds_after_finished = 7200",
                InPlace,
            ),
            (
                "suspend",
                "suspend                    = false",
                "suspend                    = true",
                InPlace,
            ),
            (
                "config map content",
                "\"buckets-cfg\" = \"v1\"",
                "\"buckets-cfg\" = \"v2\"",
                InPlace,
            ),
            (
                "secret value",
                "TOKEN = { value = \"t1\" }",
                "TOKEN = { value = \"t2\" }",
                InPlace,
            ),
            (
                "metadata.slug (state only)",
                "slug = \"s1\"",
                "slug = \"s2\"",
                InPlace,
            ),
            (
                "delete_propagation (state only)",
                "wait_for_completion = false",
                "wait_for_completion = false\n  delete_propagation  = \"Foreground\"",
                InPlace,
            ),
        ],
    );
}

/// Every replace field says "must be replaced" and the apply succeeds with a
/// new Job.
#[test]
fn replace_fields_replace_the_job() {
    use Expect::Replace;
    run_steps(
        "buckets-replace",
        &[
            ("image tag", "tag = \"1.36\"", "tag = \"1.37\"", Replace),
            (
                "image repo",
                "repo = \"busybox\"",
                "repo = \"alpine\"",
                Replace,
            ),
            ("cpu limit", "cpu = \"1000m\"", "cpu = \"900m\"", Replace),
            (
                "memory request",
                "memory = \"100Mi\"",
                "memory = \"128Mi\"",
                Replace,
            ),
            (
                "variable value",
                "MODE                 = { value = \"a\" }",
                "MODE                 = { value = \"b\" }",
                Replace,
            ),
            (
                "secret key set",
                "TOKEN = { value = \"t1\" }",
                "TOKEN = { value = \"t1\" }\n        OTHER = { value = \"o\" }",
                Replace,
            ),
            (
                "config map key set",
                "\"buckets-cfg\" = \"v1\"",
                "\"buckets-cfg\" = \"v1\", \"more-cfg\" = \"m\"",
                Replace,
            ),
            ("command", "[\"run\"]", "[\"go\"]", Replace),
            ("args", "[\"--x\"]", "[\"--y\"]", Replace),
            ("restart policy", "\"Never\"", "\"OnFailure\"", Replace),
            (
                "completions",
                "completions                = 1",
                "completions                = 2",
                Replace,
            ),
            ("completion mode", "\"NonIndexed\"", "\"Indexed\"", Replace),
            (
                "volume mount",
                "mount_path = \"/scratch\"",
                "mount_path = \"/tmp/scratch\"",
                Replace,
            ),
            (
                "metadata.env (pod labels)",
                "env  = \"dev\"",
                "env  = \"prod\"",
                Replace,
            ),
            (
                "docker_config_json set",
                "wait_for_completion = false",
                "wait_for_completion = false\n  docker_config_json  = jsonencode({ auths = {} })",
                Replace,
            ),
            (
                "rerun_triggers",
                "wait_for_completion = false",
                "wait_for_completion = false\n  rerun_triggers      = { release = \"2\" }",
                Replace,
            ),
            (
                "namespace",
                "value = \"buckets\" }",
                "value = \"buckets2\" }",
                Replace,
            ),
            (
                "metadata.name",
                "name = \"buckets\"",
                "name = \"buckets-renamed\"",
                Replace,
            ),
        ],
    );
}

/// A suspended Job that has never started takes new pod template
/// labels (`metadata.org`, `metadata.env`) in place, and the live template
/// carries them; once it runs, the same change replaces it.
#[test]
fn template_labels_in_place_while_suspended_and_never_started() {
    use Expect::{InPlace, Replace};
    let base = BASE.replace(
        "suspend                    = false",
        "suspend                    = true",
    );
    run_steps_from(
        "buckets-suspended-labels",
        &base,
        &[
            (
                "org while suspended",
                "org  = \"acme\"",
                "org  = \"globex\"",
                InPlace,
            ),
            (
                "env while suspended",
                "env  = \"dev\"",
                "env  = \"prod\"",
                InPlace,
            ),
            (
                "resume",
                "suspend                    = true",
                "suspend                    = false",
                InPlace,
            ),
            (
                "org after it ran",
                "org  = \"globex\"",
                "org  = \"initech\"",
                Replace,
            ),
        ],
        |cluster, label| {
            let job: Job = cluster.get("buckets", "buckets").unwrap();
            let labels = job.spec.unwrap().template.metadata.unwrap().labels.unwrap();
            let want = match label {
                "org while suspended" => ("globex", "dev"),
                "env while suspended" | "resume" => ("globex", "prod"),
                _ => ("initech", "prod"),
            };
            assert_eq!(
                (
                    labels["planton.ai/organization"].as_str(),
                    labels["planton.ai/environment"].as_str()
                ),
                want,
                "{label}: the live pod template's labels"
            );
        },
    );
}

/// An elastic Indexed Job changes completions together with parallelism in
/// place; changing completions alone replaces it.
#[test]
fn elastic_indexed_completions() {
    let base = BASE
        .replace("\"NonIndexed\"", "\"Indexed\"")
        .replace(
            "completions                = 1",
            "completions                = 3",
        )
        .replace(
            "parallelism                = 1",
            "parallelism                = 3",
        );
    let (tf, cluster) = world("buckets-elastic", &base);
    apply(&tf).success();
    let uid = job_uid(&cluster, "buckets", "buckets");
    let elastic = base
        .replace(
            "completions                = 3",
            "completions                = 5",
        )
        .replace(
            "parallelism                = 3",
            "parallelism                = 5",
        );
    cluster.configure(&tf, &elastic);
    let plan = tf.run(&["plan", "-no-color", "-input=false"]).success();
    assert!(plan.stdout.contains("will be updated in-place"), "{plan}");
    apply(&tf).success();
    assert_eq!(job_uid(&cluster, "buckets", "buckets"), uid);
    let job: Job = cluster.get("buckets", "buckets").unwrap();
    assert_eq!(job.spec.unwrap().completions, Some(5));

    let alone = elastic.replace(
        "completions                = 5",
        "completions                = 6",
    );
    cluster.configure(&tf, &alone);
    let plan = tf.run(&["plan", "-no-color", "-input=false"]).success();
    assert!(plan.stdout.contains("must be replaced"), "{plan}");
    apply(&tf).success();
    assert_ne!(job_uid(&cluster, "buckets", "buckets"), uid);
    crate::harness::destroy(&tf);
}
