//! The action `planton_kubernetes_job_run` with the real Terraform CLI
//! against the emulator: invoked from the command line and from an
//! `action_trigger`, its progress in Terraform's output, its failures,
//! what its plan refuses, Ctrl-C, and what `terraform destroy` leaves.

use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use kube::api::{ListParams, PostParams};
use serde_json::json;

use crate::harness::{Cluster, Output, Tf, apply, destroy, interrupted, plan_exit, world};

const MANAGED: &str = r#"
variable "run_env" {
  type    = map(string)
  default = {}
}

resource "planton_kubernetes_job" "migrate" {
  metadata = {
    name = "migrate"
  }
  spec = {
    namespace        = { value = "runs" }
    create_namespace = true
    image            = { repo = "busybox", tag = "1.36" }
    env = {
      variables = {
        EMULATOR_RUN_SECONDS = { value = "0.1" }
      }
      secrets = {
        DB_PASSWORD = { value = "hunter2-secret" }
      }
    }
    backoff_limit = 0
  }
}

action "planton_kubernetes_job_run" "again" {
  config {
    job = planton_kubernetes_job.migrate.id
    env = var.run_env
  }
}
"#;

/// `terraform apply -invoke=action.planton_kubernetes_job_run.again` with
/// `run_env` for this run.
fn invoke(tf: &Tf, run_env: serde_json::Value) -> Output {
    tf.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-invoke=action.planton_kubernetes_job_run.again",
        &format!("-var=run_env={run_env}"),
    ])
}

/// The runs of the managed Job `migrate` in the cluster.
fn runs(cluster: &Cluster) -> Vec<Job> {
    cluster
        .block_on(
            cluster
                .api::<Job>("runs")
                .list(&ListParams::default().labels("planton.ai/run-of=migrate")),
        )
        .unwrap()
        .items
}

/// An invoked run is a new Job from the managed template, owned by the
/// managed Job and with a TTL; its progress is in Terraform's output while
/// it runs; the command succeeds when it completes, and the managed
/// resource's plan stays empty. A failing run fails the command with the
/// reason, the exit code and the log tail, secret values masked.
#[test]
fn invoked_run_reports_progress_and_failure() {
    let (tf, cluster) = world("action-invoke", MANAGED);
    apply(&tf).success();
    let managed: Job = cluster.get("runs", "migrate").unwrap();
    assert!(runs(&cluster).is_empty());

    let out = invoke(&tf, json!({"EMULATOR_RUN_SECONDS": "1.5"})).success();
    let text = out.flat();
    let listed = runs(&cluster);
    assert_eq!(listed.len(), 1, "{out}");
    let run = &listed[0];
    let name = run.metadata.name.clone().unwrap();
    assert!(name.starts_with("migrate-run-"), "{name}");
    assert!(
        text.contains(&format!("Started Job runs/{name} from runs/migrate")),
        "{out}"
    );
    assert!(text.contains(&format!("runs/{name}: 1 active")), "{out}");
    assert!(
        text.contains(&format!("runs/{name} completed after")),
        "{out}"
    );
    let owner = &run.metadata.owner_references.clone().unwrap()[0];
    assert_eq!(owner.uid, managed.metadata.uid.clone().unwrap());
    let spec = run.spec.clone().unwrap();
    assert_eq!(spec.ttl_seconds_after_finished, Some(3600));
    let status = run.status.clone().unwrap();
    assert_eq!(status.succeeded, Some(1), "{status:?}");
    let env = spec.template.spec.unwrap().containers[0]
        .env
        .clone()
        .unwrap();
    assert!(
        env.iter()
            .any(|e| e.name == "EMULATOR_RUN_SECONDS" && e.value.as_deref() == Some("1.5")),
        "{env:?}"
    );
    assert_eq!(
        plan_exit(&tf).code,
        0,
        "the managed resource's plan is empty"
    );

    let out = invoke(
        &tf,
        json!({"EMULATOR_EXIT_CODE": "3", "EMULATOR_LOG_LINES": "connecting with hunter2-secret\\nmigration 7 failed"}),
    );
    assert_ne!(out.code, 0, "{out}");
    let text = out.flat();
    assert!(text.contains("Kubernetes Job Run Failed"), "{out}");
    assert!(text.contains("BackoffLimitExceeded"), "{out}");
    assert!(text.contains("exited with code 3"), "{out}");
    assert!(text.contains("migration 7 failed"), "{out}");
    // The log line names the env Secret's value (the plan shows the run's
    // own `env` as configured); the error masks it.
    assert!(out.stderr.contains("connecting with (secret)"), "{out}");
    assert!(
        !out.stderr.contains("hunter2-secret"),
        "a secret value is masked:\n{out}"
    );
    assert_eq!(runs(&cluster).len(), 2);
    assert_eq!(plan_exit(&tf).code, 0);
}

/// `terraform destroy` of the managed Job leaves none of its runs behind:
/// they are its dependents, and Kubernetes deletes them with it. (In a
/// namespace the resource does not own, which destroy leaves standing.)
#[test]
fn destroy_leaves_no_run_behind() {
    let hcl = MANAGED.replace("create_namespace = true", "create_namespace = false");
    let (tf, cluster) = world("action-destroy", &hcl);
    cluster
        .block_on(
            kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(cluster.client.clone()).create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": "runs"}})).unwrap(),
            ),
        )
        .unwrap();
    apply(&tf).success();
    invoke(&tf, json!({})).success();
    invoke(&tf, json!({})).success();
    let before = runs(&cluster);
    assert_eq!(before.len(), 2);
    destroy(&tf);
    assert!(cluster.namespace_exists("runs"));
    // The garbage collector deletes each run (the same object: its UID)
    // once its owner is gone.
    for run in before {
        let name = run.metadata.name.clone().unwrap();
        let uid = run.metadata.uid.clone().unwrap();
        let api = cluster.api::<Job>("runs");
        let gone = cluster.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(30),
                kube::runtime::wait::await_condition(
                    api,
                    &name,
                    kube::runtime::conditions::is_deleted(&uid),
                ),
            )
            .await
        });
        assert!(
            matches!(gone, Ok(Ok(_))),
            "the run {name} is still there after destroy: {gone:?}"
        );
    }
}

/// An `action_trigger` after_update runs the Job once per apply that
/// updates it, and not on create or on a no-op apply.
#[test]
fn action_trigger_runs_once_per_update() {
    let hcl = MANAGED.replace(
        "    backoff_limit = 0\n  }\n}",
        "    backoff_limit = var.backoff_limit\n  }\n  lifecycle {\n    action_trigger {\n      events  = [after_update]\n      actions = [action.planton_kubernetes_job_run.again]\n    }\n  }\n}\n\nvariable \"backoff_limit\" {\n  type    = number\n  default = 0\n}",
    );
    let (tf, cluster) = world("action-trigger", &hcl);
    apply(&tf).success();
    assert!(runs(&cluster).is_empty(), "no run on create");
    let update = |limit: u32| {
        tf.run(&[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            &format!("-var=backoff_limit={limit}"),
        ])
        .success()
    };
    update(1);
    assert_eq!(runs(&cluster).len(), 1, "one run for the update");
    update(1);
    assert_eq!(runs(&cluster).len(), 1, "no run for a no-op apply");
    update(2);
    assert_eq!(runs(&cluster).len(), 2);
}

/// The plan of an action refuses a Job that does not exist and one no
/// planton_kubernetes_job manages, naming it.
#[test]
fn plan_refuses_missing_and_foreign_jobs() {
    let hcl = r#"
action "planton_kubernetes_job_run" "again" {
  config {
    job = var.job
  }
}

variable "job" {
  type = string
}
"#;
    let (tf, cluster) = world("action-plan", hcl);
    let plan = |job: &str| {
        tf.run(&[
            "plan",
            "-input=false",
            "-no-color",
            "-invoke=action.planton_kubernetes_job_run.again",
            &format!("-var=job={job}"),
        ])
    };
    let out = plan("default/nowhere");
    assert_ne!(out.code, 0, "{out}");
    assert!(
        out.flat().contains("There is no Job default/nowhere"),
        "{out}"
    );

    cluster
        .block_on(cluster.api::<Job>("default").create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "by-hand"},
                "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}},
            }))
            .unwrap(),
        ))
        .unwrap();
    let out = plan("default/by-hand");
    assert_ne!(out.code, 0, "{out}");
    let text = out.flat();
    assert!(
        text.contains("Job Not Managed By planton_kubernetes_job"),
        "{out}"
    );
    assert!(text.contains("default/by-hand"), "{out}");
    assert!(runs(&cluster).is_empty());
}

/// Terraform's exit code when it crashes (its own panic handler).
const TERRAFORM_CRASHED: i32 = 11;

/// `terraform apply -invoke` of a run that never ends, interrupted with
/// SIGINT once Terraform has printed that a pod of the run is active;
/// Terraform's output and how long it took to exit after the signal.
fn interrupted_invoke(tf: &Tf) -> (Output, Duration) {
    let args = [
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-invoke=action.planton_kubernetes_job_run.again",
        "-var=run_env={\"EMULATOR_NEVER_EXIT\":\"1\"}",
    ];
    interrupted(tf, &args, |printed| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match printed.recv_timeout(left) {
                Ok(line) if line.contains(": 1 active") => break,
                Ok(_) => {}
                Err(e) => panic!("Terraform never reported the run active: {e}"),
            }
        }
    })
}

/// Ctrl-C while an invoked run goes on ends the command within a second;
/// the run keeps going and the message says how to find it.
#[test]
fn ctrl_c_leaves_the_run_running() {
    let (tf, cluster) = world("action-ctrl-c", MANAGED);
    apply(&tf).success();
    let (mut out, mut took) = interrupted_invoke(&tf);
    let mut attempts = 1;
    if out.code == TERRAFORM_CRASHED && out.stderr.contains("TERRAFORM CRASH") {
        // Terraform itself now and then panics on an interrupt during an
        // action; this test is about the provider's answer, so the
        // interruption is made once more.
        eprintln!("Terraform crashed on Ctrl-C; interrupting a second run:\n{out}");
        (out, took) = interrupted_invoke(&tf);
        attempts += 1;
    }
    eprintln!("Ctrl-C during an invoked run: Terraform exited {took:?} after SIGINT");
    assert_ne!(out.code, 0, "{out}");
    assert!(took < Duration::from_secs(1), "{took:?}\n{out}");
    let listed = runs(&cluster);
    assert_eq!(listed.len(), attempts);
    let text = out.flat();
    assert!(text.contains("Kubernetes Job Run Interrupted"), "{out}");
    let run = listed
        .iter()
        .find(|j| {
            let name = j.metadata.name.as_deref().unwrap_or_default();
            text.contains(&format!("kubectl -n runs get job {name}"))
        })
        .unwrap_or_else(|| panic!("the message names no run:\n{out}"));
    assert_eq!(
        run.status.as_ref().and_then(|s| s.active),
        Some(1),
        "the run keeps going"
    );
}

/// An `action_trigger` after_create on the resource runs the new Job's
/// first run as soon as it exists (its `id` unknown when planned), and one
/// on another resource runs it when that resource changes.
#[test]
fn action_trigger_after_create_and_from_another_resource() {
    let hcl = MANAGED.replace(
        "    backoff_limit = 0\n  }\n}",
        "    backoff_limit = 0\n  }\n  lifecycle {\n    action_trigger {\n      events  = [after_create]\n      actions = [action.planton_kubernetes_job_run.again]\n    }\n  }\n}\n\nvariable \"release\" {\n  type    = string\n  default = \"v1\"\n}\n\nresource \"terraform_data\" \"release\" {\n  input = var.release\n  lifecycle {\n    action_trigger {\n      events  = [after_update]\n      actions = [action.planton_kubernetes_job_run.again]\n    }\n  }\n}",
    );
    let (tf, cluster) = world("action-trigger-create", &hcl);
    apply(&tf).success();
    assert_eq!(runs(&cluster).len(), 1, "one run after the create");
    tf.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var=release=v2",
    ])
    .success();
    assert_eq!(runs(&cluster).len(), 2, "one run for the release's update");
    let plan = tf.run(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        "-var=release=v2",
    ]);
    assert_eq!(plan.code, 0, "{plan}");
}
