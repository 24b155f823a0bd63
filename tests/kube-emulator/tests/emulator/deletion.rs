//! Deletion: propagation policies, the garbage collector, TTL after finished,
//! namespace termination, preconditions.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, Preconditions, PropagationPolicy};
use serde_json::json;

use crate::util::{create, env, eventually, has_condition, job, status_of, wait_job};

async fn running_job(e: &crate::util::Env, name: &str) -> (Api<Job>, Api<Pod>) {
    let jobs: Api<Job> = e.api("default");
    let mut spec = job(name, &[("EMULATOR_NEVER_EXIT", "1")]);
    spec["spec"]["parallelism"] = json!(2);
    spec["spec"]["completions"] = json!(2);
    create(&jobs, spec).await;
    wait_job(&jobs, name, 10, |j| {
        j.status.as_ref().and_then(|s| s.ready) == Some(2)
    })
    .await;
    (jobs, e.api("default"))
}

async fn job_pods(pods: &Api<Pod>, name: &str) -> Vec<Pod> {
    pods.list(&ListParams::default().labels(&format!("job-name={name}")))
        .await
        .unwrap()
        .items
}

/// Background propagation removes the Job at once and its pods soon after.
#[tokio::test]
async fn background_propagation_deletes_pods() {
    let e = env().await;
    let (jobs, pods) = running_job(&e, "bg").await;
    let r = jobs
        .delete("bg", &DeleteParams::background())
        .await
        .unwrap();
    assert!(r.is_right(), "a Job delete answers a Status");
    assert_eq!(status_of(jobs.get("bg").await.unwrap_err()).code, 404);
    eventually(10, || async {
        job_pods(&pods, "bg").await.is_empty().then_some(())
    })
    .await;
}

/// Foreground propagation keeps the Job (deletionTimestamp, foregroundDeletion) until its pods are gone.
#[tokio::test]
async fn foreground_propagation_waits_for_pods() {
    let e = env().await;
    let (jobs, pods) = running_job(&e, "fg").await;
    let r = jobs
        .delete("fg", &DeleteParams::foreground())
        .await
        .unwrap();
    let pending = r.left().expect("the Job stays while its pods go");
    assert!(pending.metadata.deletion_timestamp.is_some());
    assert_eq!(
        pending.metadata.finalizers.unwrap(),
        vec!["foregroundDeletion".to_string()]
    );
    eventually(10, || async {
        jobs.get_opt("fg").await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(job_pods(&pods, "fg").await.is_empty());
}

/// Orphan propagation (and the batch/v1 default) keeps pods and strips their ownerReferences.
#[tokio::test]
async fn orphan_propagation_keeps_pods() {
    let e = env().await;
    let (jobs, pods) = running_job(&e, "orph").await;
    jobs.delete("orph", &DeleteParams::default()).await.unwrap();
    eventually(10, || async {
        jobs.get_opt("orph").await.unwrap().is_none().then_some(())
    })
    .await;
    let left = eventually(10, || async {
        let ps = job_pods(&pods, "orph").await;
        ps.iter()
            .all(|p| p.metadata.owner_references.is_none())
            .then_some(ps)
    })
    .await;
    assert_eq!(left.len(), 2);
}

/// Delete preconditions that do not match answer 409 Conflict.
#[tokio::test]
async fn delete_preconditions_are_checked() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    create(&cms, json!({"metadata": {"name": "c"}})).await;
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("wrong".into()),
            resource_version: None,
        }),
        ..Default::default()
    };
    let s = status_of(cms.delete("c", &dp).await.unwrap_err());
    assert_eq!(s.code, 409);
    assert!(
        s.message
            .contains("Precondition failed: UID in precondition: wrong"),
        "{}",
        s.message
    );
    let dp = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        dry_run: true,
        ..Default::default()
    };
    cms.delete("c", &dp).await.unwrap();
    assert!(
        cms.get_opt("c").await.unwrap().is_some(),
        "dry run deletes nothing"
    );
}

/// A finished Job with ttlSecondsAfterFinished is deleted, pods included, on time.
#[tokio::test]
async fn ttl_after_finished_deletes_job_and_pods() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job("ttl", &[("EMULATOR_RUN_SECONDS", "0.05")]);
    spec["spec"]["ttlSecondsAfterFinished"] = json!(1);
    create(&jobs, spec).await;
    wait_job(&jobs, "ttl", 20, |j| has_condition(j, "Complete")).await;
    let done = std::time::Instant::now();
    eventually(10, || async {
        jobs.get_opt("ttl").await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(done.elapsed().as_secs_f64() < 4.0);
    let pods: Api<Pod> = e.api("default");
    eventually(10, || async {
        job_pods(&pods, "ttl").await.is_empty().then_some(())
    })
    .await;
}

/// Deleting a namespace sets Terminating, removes everything inside, then the namespace.
#[tokio::test]
async fn namespace_deletion_removes_content() {
    let e = env().await;
    e.namespace("gone").await;
    let cms: Api<ConfigMap> = e.api("gone");
    create(&cms, json!({"metadata": {"name": "c"}})).await;
    let jobs: Api<Job> = e.api("gone");
    create(&jobs, job("j", &[("EMULATOR_NEVER_EXIT", "1")])).await;
    wait_job(&jobs, "j", 10, |j| {
        j.status.as_ref().and_then(|s| s.active) == Some(1)
    })
    .await;
    let ns: Api<Namespace> = Api::all(e.client.clone());
    let r = ns.delete("gone", &DeleteParams::default()).await.unwrap();
    let terminating = r.left().unwrap();
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    eventually(10, || async {
        ns.get_opt("gone").await.unwrap().is_none().then_some(())
    })
    .await;
    let pods: Api<Pod> = Api::all(e.client.clone());
    assert!(
        pods.list(&ListParams::default().fields("metadata.namespace=gone"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

/// Deleting a Job without a propagation policy warns that its pods are kept (the batch/v1 default).
#[tokio::test]
async fn job_delete_without_policy_warns() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    create(&jobs, job("w", &[("EMULATOR_NEVER_EXIT", "1")])).await;
    let (code, headers, body) = e
        .raw(
            "DELETE",
            "/apis/batch/v1/namespaces/default/jobs/w",
            None,
            vec![],
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let warning = headers
        .get("warning")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        warning.starts_with("299 - \"child pods are preserved by default when jobs are deleted"),
        "{warning}"
    );
    assert_eq!(body["metadata"]["finalizers"], json!(["orphan"]));
}
