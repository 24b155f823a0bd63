//! The job controller and kubelet stand-in: completion modes, failures and
//! retries, backoff limit, deadline, suspend, pod outcomes and logs.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, LogParams, Patch, PatchParams};
use serde_json::json;

use crate::util::{condition_reason, create, env, eventually, has_condition, job, wait_job};

async fn pods_of(pods: &Api<Pod>, job: &str) -> Vec<Pod> {
    pods.list(&ListParams::default().labels(&format!("batch.kubernetes.io/job-name={job}")))
        .await
        .unwrap()
        .items
}

/// A NonIndexed Job with completions 3 and parallelism 2 completes: SuccessCriteriaMet, then Complete.
#[tokio::test]
async fn non_indexed_job_completes() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job(
        "ni",
        &[
            ("EMULATOR_RUN_SECONDS", "0.1"),
            ("EMULATOR_LOG_LINES", "hello\\nworld"),
        ],
    );
    spec["spec"]["completions"] = json!(3);
    spec["spec"]["parallelism"] = json!(2);
    create(&jobs, spec).await;
    let j = wait_job(&jobs, "ni", 20, |j| has_condition(j, "Complete")).await;
    let st = j.status.clone().unwrap();
    assert_eq!(st.succeeded, Some(3));
    assert_eq!(st.active, None);
    assert!(st.start_time.is_some() && st.completion_time.is_some());
    assert!(has_condition(&j, "SuccessCriteriaMet"));
    assert_eq!(
        condition_reason(&j, "Complete").as_deref(),
        Some("CompletionsReached")
    );
    let pods: Api<Pod> = e.api("default");
    let ps = pods_of(&pods, "ni").await;
    assert_eq!(ps.len(), 3);
    for p in &ps {
        assert_eq!(
            p.status.as_ref().unwrap().phase.as_deref(),
            Some("Succeeded")
        );
        assert!(
            p.metadata.finalizers.is_none(),
            "tracking finalizer removed"
        );
        let owner = &p.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (
                owner.kind.as_str(),
                owner.controller,
                owner.block_owner_deletion
            ),
            ("Job", Some(true), Some(true))
        );
    }
    let name = ps[0].metadata.name.clone().unwrap();
    assert_eq!(
        pods.logs(&name, &LogParams::default()).await.unwrap(),
        "hello\nworld\n"
    );
    assert_eq!(
        pods.logs(
            &name,
            &LogParams {
                tail_lines: Some(1),
                ..Default::default()
            }
        )
        .await
        .unwrap(),
        "world\n"
    );
    let events: Api<Event> = e.api("default");
    let reasons: Vec<String> = events
        .list(&ListParams::default().fields("involvedObject.name=ni"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|e| e.reason)
        .collect();
    assert!(
        reasons.contains(&"Completed".to_string())
            && reasons.contains(&"SuccessfulCreate".to_string()),
        "{reasons:?}"
    );
}

/// A finished pod is counted as kube-controller-manager 1.36 counts it: first
/// recorded in `uncountedTerminatedPods` with the interim SuccessCriteriaMet
/// condition while `succeeded` is still unset, then counted, and only then
/// Complete with a completionTime. Seen through a watch, every step.
#[tokio::test]
async fn pods_are_counted_before_the_job_is_complete() {
    use futures::{StreamExt, TryStreamExt};
    use kube::api::{WatchEvent, WatchParams};

    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    create(&jobs, job("counted", &[("EMULATOR_RUN_SECONDS", "0.1")])).await;
    let mut stream = jobs
        .watch(&WatchParams::default().fields("metadata.name=counted"), "0")
        .await
        .unwrap()
        .boxed();
    let mut interim_uncounted = false;
    let finished = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(event) = stream.try_next().await.unwrap() {
            let (WatchEvent::Added(j) | WatchEvent::Modified(j)) = event else {
                continue;
            };
            let st = j.status.clone().unwrap_or_default();
            let uncounted = st
                .uncounted_terminated_pods
                .as_ref()
                .and_then(|u| u.succeeded.as_ref())
                .is_some_and(|s| !s.is_empty());
            if has_condition(&j, "Complete") {
                return j;
            }
            if has_condition(&j, "SuccessCriteriaMet") && uncounted {
                assert_eq!(st.succeeded.unwrap_or(0), 0, "counted before recorded");
                assert!(st.completion_time.is_none());
                interim_uncounted = true;
            }
        }
        panic!("the watch ended before the Job completed");
    })
    .await
    .expect("the Job did not complete within 20 s");
    assert!(
        interim_uncounted,
        "no interim state with SuccessCriteriaMet and an uncounted pod was seen"
    );
    let st = finished.status.unwrap();
    assert_eq!(st.succeeded, Some(1));
    assert!(st.completion_time.is_some());
    assert!(
        st.uncounted_terminated_pods
            .and_then(|u| u.succeeded)
            .unwrap_or_default()
            .is_empty()
    );
}

/// An Indexed Job runs one pod per index with the index annotation, label, env and hostname.
#[tokio::test]
async fn indexed_job_completes_every_index() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job("ix", &[("EMULATOR_RUN_SECONDS", "0.1")]);
    spec["spec"]["completions"] = json!(3);
    spec["spec"]["parallelism"] = json!(3);
    spec["spec"]["completionMode"] = json!("Indexed");
    create(&jobs, spec).await;
    let j = wait_job(&jobs, "ix", 20, |j| has_condition(j, "Complete")).await;
    assert_eq!(j.status.unwrap().completed_indexes.as_deref(), Some("0-2"));
    let pods: Api<Pod> = e.api("default");
    let mut indexes: Vec<String> = Vec::new();
    for p in pods_of(&pods, "ix").await {
        let i =
            p.metadata.annotations.as_ref().unwrap()["batch.kubernetes.io/job-completion-index"]
                .clone();
        assert_eq!(
            p.metadata.labels.as_ref().unwrap()["batch.kubernetes.io/job-completion-index"],
            i
        );
        let spec = p.spec.unwrap();
        assert_eq!(spec.hostname, Some(format!("ix-{i}")));
        let env = spec.containers[0].env.clone().unwrap();
        assert_eq!(env[0].name, "JOB_COMPLETION_INDEX");
        indexes.push(i);
    }
    indexes.sort();
    assert_eq!(indexes, ["0", "1", "2"]);
}

/// Failing pods are replaced until the backoff limit: FailureTarget, then Failed BackoffLimitExceeded.
#[tokio::test]
async fn failing_job_exceeds_backoff_limit() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job(
        "fail",
        &[
            ("EMULATOR_RUN_SECONDS", "0.05"),
            ("EMULATOR_EXIT_CODE", "3"),
        ],
    );
    spec["spec"]["backoffLimit"] = json!(2);
    create(&jobs, spec).await;
    let j = wait_job(&jobs, "fail", 20, |j| has_condition(j, "Failed")).await;
    assert_eq!(j.status.as_ref().unwrap().failed, Some(3));
    assert!(has_condition(&j, "FailureTarget"));
    assert_eq!(
        condition_reason(&j, "Failed").as_deref(),
        Some("BackoffLimitExceeded")
    );
    assert!(j.status.as_ref().unwrap().completion_time.is_none());
    let pods: Api<Pod> = e.api("default");
    let ps = pods_of(&pods, "fail").await;
    assert_eq!(ps.len(), 3);
    let term = ps[0]
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0]
        .state
        .as_ref()
        .unwrap()
        .terminated
        .clone()
        .unwrap();
    assert_eq!((term.exit_code, term.reason.as_deref()), (3, Some("Error")));
}

/// restartPolicy OnFailure restarts the container in place; restarts count toward the backoff limit.
#[tokio::test]
async fn on_failure_restarts_in_place_until_backoff_limit() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job(
        "retry",
        &[
            ("EMULATOR_RUN_SECONDS", "0.05"),
            ("EMULATOR_EXIT_CODE", "1"),
        ],
    );
    spec["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure");
    spec["spec"]["backoffLimit"] = json!(2);
    create(&jobs, spec).await;
    let j = wait_job(&jobs, "retry", 20, |j| has_condition(j, "Failed")).await;
    assert_eq!(
        condition_reason(&j, "Failed").as_deref(),
        Some("BackoffLimitExceeded")
    );
    let events: Api<Event> = e.api("default");
    let creates = events
        .list(&ListParams::default().fields("involvedObject.name=retry,reason=SuccessfulCreate"))
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(
        creates, 1,
        "OnFailure restarts in place instead of creating pods"
    );
}

/// activeDeadlineSeconds fails a running Job with DeadlineExceeded and stops its pods.
#[tokio::test]
async fn deadline_exceeded_fails_job() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job("late", &[("EMULATOR_NEVER_EXIT", "1")]);
    spec["spec"]["activeDeadlineSeconds"] = json!(1);
    create(&jobs, spec).await;
    let j = wait_job(&jobs, "late", 20, |j| has_condition(j, "Failed")).await;
    assert_eq!(
        condition_reason(&j, "Failed").as_deref(),
        Some("DeadlineExceeded")
    );
    let pods: Api<Pod> = e.api("default");
    for p in pods_of(&pods, "late").await {
        assert_eq!(p.status.unwrap().phase.as_deref(), Some("Failed"));
    }
}

/// A suspended Job creates no pods and says Suspended; resumed, it completes.
#[tokio::test]
async fn suspend_and_resume() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job("sus", &[("EMULATOR_RUN_SECONDS", "0.1")]);
    spec["spec"]["suspend"] = json!(true);
    create(&jobs, spec).await;
    let j = wait_job(&jobs, "sus", 10, |j| has_condition(j, "Suspended")).await;
    assert_eq!(
        condition_reason(&j, "Suspended").as_deref(),
        Some("JobSuspended")
    );
    let pods: Api<Pod> = e.api("default");
    assert!(pods_of(&pods, "sus").await.is_empty());
    jobs.patch(
        "sus",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": false}})),
    )
    .await
    .unwrap();
    let j = wait_job(&jobs, "sus", 20, |j| has_condition(j, "Complete")).await;
    assert!(!has_condition(&j, "Suspended"));
    assert_eq!(
        condition_reason(&j, "Suspended").as_deref(),
        Some("JobResumed")
    );
}

/// Pod outcomes come from env: image pull failure waits, OOM kills with 137, missing secrets block.
#[tokio::test]
async fn pod_outcomes_follow_env() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    create(&jobs, job("pull", &[("EMULATOR_IMAGE_PULL_FAILURE", "1")])).await;
    let mut oom = job(
        "oom",
        &[("EMULATOR_OOM", "1"), ("EMULATOR_RUN_SECONDS", "0.05")],
    );
    oom["spec"]["backoffLimit"] = json!(0);
    create(&jobs, oom).await;
    let mut sec = job("sec", &[]);
    sec["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "X", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "k"}}}]);
    create(&jobs, sec).await;
    let pods: Api<Pod> = e.api("default");
    let reason_of = |p: &Pod| -> Option<String> {
        let cs = p
            .status
            .as_ref()?
            .container_statuses
            .as_ref()?
            .first()?
            .clone();
        let st = cs.state?;
        st.waiting
            .and_then(|w| w.reason)
            .or(st.terminated.and_then(|t| t.reason))
    };
    let pull = eventually(10, || async {
        pods_of(&pods, "pull")
            .await
            .into_iter()
            .find(|p| reason_of(p).is_some_and(|r| r == "ErrImagePull" || r == "ImagePullBackOff"))
    })
    .await;
    assert_eq!(pull.status.unwrap().phase.as_deref(), Some("Pending"));
    let j = wait_job(&jobs, "oom", 20, |j| has_condition(j, "Failed")).await;
    assert_eq!(
        condition_reason(&j, "Failed").as_deref(),
        Some("BackoffLimitExceeded")
    );
    let p = pods_of(&pods, "oom").await.remove(0);
    let t = p.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!((t.exit_code, t.reason.as_deref()), (137, Some("OOMKilled")));
    let blocked = eventually(10, || async {
        pods_of(&pods, "sec")
            .await
            .into_iter()
            .find(|p| reason_of(p).as_deref() == Some("CreateContainerConfigError"))
    })
    .await;
    let msg = blocked.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .waiting
        .unwrap()
        .message;
    assert_eq!(msg.as_deref(), Some("secret \"missing\" not found"));
    let name = pods_of(&pods, "pull").await[0]
        .metadata
        .name
        .clone()
        .unwrap();
    let err = pods.logs(&name, &LogParams::default()).await.unwrap_err();
    assert!(
        format!("{err}").contains("is waiting to start: trying and failing to pull image"),
        "{err}"
    );
}

/// A failed pod is replaced after the backoff and the Job completes once a retry succeeds.
#[tokio::test]
async fn failed_pod_is_retried_until_success() {
    let e = env().await;
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = e.api("default");
    create(
        &cms,
        json!({"metadata": {"name": "outcome"}, "data": {"code": "1"}}),
    )
    .await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job("flaky", &[("EMULATOR_RUN_SECONDS", "0.05")]);
    spec["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "EMULATOR_RUN_SECONDS", "value": "0.05"}, {"name": "EMULATOR_EXIT_CODE", "valueFrom": {"configMapKeyRef": {"name": "outcome", "key": "code"}}}]);
    create(&jobs, spec).await;
    wait_job(&jobs, "flaky", 20, |j| {
        j.status.as_ref().and_then(|s| s.failed).unwrap_or(0) >= 1
    })
    .await;
    cms.patch(
        "outcome",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"code": "0"}})),
    )
    .await
    .unwrap();
    let j = wait_job(&jobs, "flaky", 20, |j| has_condition(j, "Complete")).await;
    let st = j.status.unwrap();
    assert_eq!(st.succeeded, Some(1));
    assert!(st.failed.unwrap_or(0) >= 1);
}
