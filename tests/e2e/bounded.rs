//! Everything bounded. With the real Terraform CLI
//! against the emulator: a server that takes ten minutes over the Job's
//! create, or goes silent while the apply waits for the Job, fails the
//! apply within its `timeouts.create` plus one second, with an error that
//! names the request; the next apply converges. Ctrl-C (SIGINT, which
//! Terraform turns into StopProvider) while a request hangs ends the
//! command within one second.
//!
//! Times are measured from the first request the emulator receives (the
//! apply's first create: a plan of a new resource sends none), which is
//! when the provider starts the operation's clock, to Terraform's exit.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Cluster, Output, Tf, apply, destroy, flat, interrupted, plan_exit, world};

/// A job in `namespace` that runs `run_seconds`, with `timeouts.create`.
fn job(namespace: &str, run_seconds: &str, create: &str) -> String {
    format!(
        r#"
resource "planton_kubernetes_job" "report" {{
  metadata = {{ name = "nightly" }}
  spec = {{
    namespace        = {{ value = "{namespace}" }}
    create_namespace = true
    image            = {{ repo = "busybox", tag = "1.36" }}
    env = {{
      variables = {{
        EMULATOR_RUN_SECONDS = {{ value = "{run_seconds}" }}
      }}
    }}
    config_maps = {{
      "nightly-config" = "format: csv\n"
    }}
  }}
  timeouts = {{ create = "{create}" }}
}}
"#
    )
}

/// Runs `terraform apply` while `during` runs on another thread (it gets
/// the cluster); returns Terraform's output, when the apply's first request
/// arrived, and when Terraform exited.
fn apply_while(
    tf: &Tf,
    cluster: &Cluster,
    during: impl FnOnce(&Cluster) + Send,
) -> (Output, Instant, Instant) {
    std::thread::scope(|s| {
        let first = s.spawn(|| cluster.arrived(json!({"pathPrefix": "/api"})));
        let side = s.spawn(|| during(cluster));
        let out = apply(tf);
        let exited = Instant::now();
        let first = first.join().unwrap();
        side.join().unwrap();
        (out, first, exited)
    })
}

/// A Job create that takes ten minutes fails the apply within
/// `timeouts.create` (20 s) plus one second, naming the request and the
/// cluster; nothing is left out of state; once the server answers again,
/// the next apply converges and the plan after it is empty.
#[test]
fn a_hung_job_create_fails_the_apply_at_the_create_timeout() {
    let (tf, cluster) = world("bounded-hung-create", &job("hung", "0.2", "20s"));
    cluster.admin(
        "POST",
        "faults",
        Some(json!({"method": "POST", "pathPrefix": "/apis/batch/v1/namespaces/hung/jobs", "action": "latency", "latencyMs": 600_000})),
    );
    let started = Instant::now();
    let (out, first, exited) = apply_while(&tf, &cluster, |_| {});
    let took = exited.duration_since(first);
    eprintln!(
        "hung Job create: Terraform exited {took:?} after the apply's first request ({:?} after \
         `terraform apply` started); timeouts.create = 20s",
        exited.duration_since(started)
    );
    assert_ne!(out.code, 0, "{out}");
    assert!(took < Duration::from_secs(21), "{took:?}\n{out}");
    // Not early either (the first request is seen here a little late).
    assert!(took > Duration::from_secs(19), "{took:?}\n{out}");
    let text = flat(&out.stderr);
    for want in [
        "Kubernetes Request Timed Out",
        "The request POST /apis/batch/v1/namespaces/hung/jobs to the provider-level cluster at http://127.0.0.1:",
        "got no answer within `timeouts.create` (20s)",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{out}");
    }
    // Everything made before the Job is in state.
    let listed = tf.run(&[
        "state",
        "show",
        "-no-color",
        "planton_kubernetes_job.report",
    ]);
    for kind in ["Namespace", "ServiceAccount", "ConfigMap"] {
        assert!(
            listed.stdout.contains(kind),
            "{kind} not in state:\n{listed}"
        );
    }

    cluster.admin("DELETE", "faults", None);
    apply(&tf).success();
    assert_eq!(cluster.names("/apis/batch/v1", "hung", "jobs"), ["nightly"]);
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "{plan}");
    destroy(&tf);
    assert!(cluster.names("/apis/batch/v1", "hung", "jobs").is_empty());
}

/// A server that goes silent while the apply waits for the
/// Job (the watch stays open, sends nothing and never ends; every new
/// request hangs) fails the apply within `timeouts.create` plus one second;
/// once it answers again, the next apply converges.
#[test]
fn a_silent_server_fails_the_wait_at_the_create_timeout() {
    // The Job finishes (in 2 s) while the server is silent: only the
    // provider does not hear of it.
    let (tf, cluster) = world("bounded-silent-wait", &job("quiet", "2", "20s"));
    let (out, first, exited) = apply_while(&tf, &cluster, |cluster| {
        cluster
            .arrived(json!({"pathPrefix": "/apis/batch/v1/namespaces/quiet/jobs", "watch": true}));
        cluster.admin(
            "POST",
            "faults",
            Some(json!({"pathPrefix": "/api", "action": "silence"})),
        );
    });
    let took = exited.duration_since(first);
    eprintln!(
        "silent server during the wait: Terraform exited {took:?} after the apply's first request; \
         timeouts.create = 20s"
    );
    assert_ne!(out.code, 0, "{out}");
    assert!(took < Duration::from_secs(21), "{took:?}\n{out}");
    // Not early either (the first request is seen here a little late).
    assert!(took > Duration::from_secs(19), "{took:?}\n{out}");
    let text = flat(&out.stderr);
    assert!(
        text.contains("Timed Out Waiting For Kubernetes Job"),
        "{out}"
    );
    assert!(
        text.contains("did not finish within the create timeout"),
        "{out}"
    );

    cluster.admin("DELETE", "faults", None);
    apply(&tf).success();
    let plan = plan_exit(&tf);
    assert_eq!(plan.code, 0, "{plan}");
    destroy(&tf);
    assert!(cluster.names("/apis/batch/v1", "quiet", "jobs").is_empty());
}

/// Starts `terraform apply`, waits until `ready` says the moment has come,
/// sends SIGINT (Ctrl-C) and returns Terraform's output and how long it
/// took to exit after the signal.
fn interrupted_apply(tf: &Tf, ready: impl FnOnce()) -> (Output, Duration) {
    interrupted(
        tf,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        |_| ready(),
    )
}

/// Ctrl-C while the Job's create gets no answer ends
/// `terraform apply` within a second; what was made is in state, and
/// destroy removes it.
#[test]
fn ctrl_c_ends_a_hung_apply_within_a_second() {
    let (tf, cluster) = world("bounded-ctrl-c-apply", &job("stuck", "0.2", "10m"));
    let create = json!({"method": "POST", "pathPrefix": "/apis/batch/v1/namespaces/stuck/jobs"});
    let mut fault = create.clone();
    fault["action"] = json!("latency");
    fault["latencyMs"] = json!(600_000);
    cluster.admin("POST", "faults", Some(fault));
    let (out, took) = interrupted_apply(&tf, || {
        cluster.arrived(create);
    });
    eprintln!("Ctrl-C during a hung Job create: Terraform exited {took:?} after SIGINT");
    assert_ne!(out.code, 0, "{out}");
    assert!(took < Duration::from_secs(1), "{took:?}\n{out}");
    let text = flat(&out.stderr);
    assert!(text.contains("Kubernetes Request Cancelled"), "{out}");
    assert!(
        text.contains("POST /apis/batch/v1/namespaces/stuck/jobs"),
        "{out}"
    );
    cluster.admin("DELETE", "faults", None);
    destroy(&tf);
    assert!(!cluster.namespace_exists("stuck"));
}

/// Ctrl-C while the apply waits on a server that went silent
/// ends `terraform apply` within a second.
#[test]
fn ctrl_c_ends_a_silent_wait_within_a_second() {
    let (tf, cluster) = world("bounded-ctrl-c-wait", &job("hush", "600", "10m"));
    let (out, took) = interrupted_apply(&tf, || {
        cluster
            .arrived(json!({"pathPrefix": "/apis/batch/v1/namespaces/hush/jobs", "watch": true}));
        cluster.admin(
            "POST",
            "faults",
            Some(json!({"pathPrefix": "/api", "action": "silence"})),
        );
    });
    eprintln!("Ctrl-C during a silent wait: Terraform exited {took:?} after SIGINT");
    assert_ne!(out.code, 0, "{out}");
    assert!(took < Duration::from_secs(1), "{took:?}\n{out}");
    assert!(flat(&out.stderr).contains("Wait Interrupted"), "{out}");
    cluster.admin("DELETE", "faults", None);
    destroy(&tf);
    assert!(!cluster.namespace_exists("hush"));
}

/// Ctrl-C while the ownership check (reading the namespace
/// that already exists, to see whose it is) gets no answer ends
/// `terraform apply` within a second, naming the read; nothing is in state.
#[test]
fn ctrl_c_ends_a_hung_ownership_check_within_a_second() {
    let (tf, cluster) = world("bounded-ctrl-c-owner", &job("owned", "0.2", "10m"));
    let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> =
        kube::Api::all(cluster.client.clone());
    cluster
        .block_on(namespaces.create(
            &Default::default(),
            &serde_json::from_value(json!({"metadata": {"name": "owned"}})).unwrap(),
        ))
        .unwrap();
    let read = json!({"method": "GET", "pathPrefix": "/api/v1/namespaces/owned"});
    let mut fault = read.clone();
    fault["action"] = json!("silence");
    cluster.admin("POST", "faults", Some(fault));
    let (out, took) = interrupted_apply(&tf, || {
        cluster.arrived(read);
    });
    eprintln!("Ctrl-C during a hung ownership check: Terraform exited {took:?} after SIGINT");
    assert_ne!(out.code, 0, "{out}");
    assert!(took < Duration::from_secs(1), "{took:?}\n{out}");
    let text = flat(&out.stderr);
    assert!(text.contains("Kubernetes Request Cancelled"), "{out}");
    assert!(text.contains("GET /api/v1/namespaces/owned"), "{out}");
    cluster.admin("DELETE", "faults", None);
    let listed = tf.run(&["state", "list", "-no-color"]);
    assert_eq!(listed.stdout.trim(), "", "{listed}");
}
