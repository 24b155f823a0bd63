//! Planton's zeros with the real Terraform CLI against the emulator: a 0
//! in `ttl_seconds_after_finished`, `active_deadline_seconds`,
//! `parallelism`, `completions` or a volume's `default_mode` means "unset"
//! (left out of the Job, Kubernetes' default applies, the plan stays as
//! written), while `backoff_limit = 0` is sent and means no retries.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;

use crate::harness::{apply, plan_exit, world};

fn condition(job: &Job, type_: &str) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
}

/// Every zero Planton treats as unset: the apply waits for the Job to
/// finish, the live Job has no TTL and no deadline (so it is still there
/// after it finished), the counts and the file mode are Kubernetes'
/// defaults (had the zeros been sent, the Job would have been paused and
/// the files unreadable), and the next plan is empty.
#[test]
fn zeros_are_left_out_and_the_job_is_kept() {
    let hcl = r#"
resource "planton_kubernetes_job" "report" {
  metadata = { name = "zero-report" }
  spec = {
    namespace                  = { value = "zeros" }
    create_namespace           = true
    image                      = { repo = "busybox", tag = "1.36" }
    command                    = ["cat", "/etc/report/settings"]
    parallelism                = 0
    completions                = 0
    active_deadline_seconds    = 0
    ttl_seconds_after_finished = 0
    config_maps = {
      settings = "format: csv\n"
    }
    volume_mounts = [
      {
        name       = "settings"
        mount_path = "/etc/report"
        config_map = { name = "settings", default_mode = 0 }
      }
    ]
    env = {
      variables = {
        EMULATOR_RUN_SECONDS = { value = "0.2" }
      }
    }
  }
}

output "spec" {
  value = {
    parallelism = planton_kubernetes_job.report.spec.parallelism
    completions = planton_kubernetes_job.report.spec.completions
    ttl         = planton_kubernetes_job.report.spec.ttl_seconds_after_finished
    deadline    = planton_kubernetes_job.report.spec.active_deadline_seconds
  }
}
"#;
    let (tf, cluster) = world("zeros-unset", hcl);
    apply(&tf).success();

    let job = cluster
        .get::<Job>("zeros", "zero-report")
        .expect("the Job is gone after it finished");
    assert!(condition(&job, "Complete"), "{:?}", job.status);
    let spec = job.spec.as_ref().unwrap();
    assert_eq!(spec.ttl_seconds_after_finished, None);
    assert_eq!(spec.active_deadline_seconds, None);
    // Kubernetes defaults both to 1 when neither is given.
    assert_eq!((spec.parallelism, spec.completions), (Some(1), Some(1)));
    let volume = &spec
        .template
        .spec
        .as_ref()
        .unwrap()
        .volumes
        .as_ref()
        .unwrap()[0];
    assert_eq!(
        volume.config_map.as_ref().unwrap().default_mode,
        Some(0o644)
    );

    // The state keeps what was written.
    let out = tf.run(&["output", "-json"]).success().json();
    assert_eq!(
        out["spec"]["value"],
        serde_json::json!({"parallelism": 0, "completions": 0, "ttl": 0, "deadline": 0})
    );

    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "the plan after apply is not empty:\n{plan}");
    // Refreshed by that plan, and still there: no TTL removes it.
    assert!(cluster.get::<Job>("zeros", "zero-report").is_some());
}

/// `backoff_limit = 0` is sent as 0, as Planton's module does: a failing
/// pod is not retried, the Job fails after one pod.
#[test]
fn backoff_limit_zero_means_no_retries() {
    let hcl = r#"
resource "planton_kubernetes_job" "once" {
  metadata = { name = "run-once" }
  spec = {
    namespace        = { value = "once" }
    create_namespace = true
    image            = { repo = "busybox", tag = "1.36" }
    command          = ["false"]
    backoff_limit    = 0
    env = {
      variables = {
        EMULATOR_RUN_SECONDS = { value = "0.1" }
        EMULATOR_EXIT_CODE   = { value = "1" }
      }
    }
  }
}
"#;
    let (tf, cluster) = world("zeros-backoff", hcl);
    let out = apply(&tf);
    assert_ne!(out.code, 0, "a failing job applied:\n{out}");
    assert!(out.stderr.contains("BackoffLimitExceeded"), "{out}");

    let job = cluster.get::<Job>("once", "run-once").unwrap();
    assert_eq!(job.spec.as_ref().unwrap().backoff_limit, Some(0));
    assert!(condition(&job, "Failed"), "{:?}", job.status);
    assert_eq!(job.status.as_ref().and_then(|s| s.failed), Some(1));
    let pods = cluster
        .block_on(
            cluster
                .api::<Pod>("once")
                .list(&ListParams::default().labels("job-name=run-once")),
        )
        .unwrap();
    assert_eq!(pods.items.len(), 1, "the failed pod was retried");
}
