//! The admin path (faults, counters, reset) and refusals of malformed, unknown
//! and oversized requests.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use serde_json::json;

use crate::util::{create, env, eventually, job};

/// Injected 429/503 faults answer Status bodies with Retry-After, count down, and requests are counted.
#[tokio::test]
async fn faults_and_counters() {
    let e = env().await;
    let fault = json!({"method": "GET", "pathPrefix": "/api/v1/namespaces/default/configmaps", "action": "status", "code": 429, "retryAfterSeconds": 2, "times": 1});
    let (code, _, body) = e.post_json("/__emulator/faults", &fault).await;
    assert_eq!(code, 201, "{body}");
    let (code, headers, body) = e
        .raw("GET", "/api/v1/namespaces/default/configmaps", None, vec![])
        .await;
    assert_eq!(
        (code, body["reason"].as_str()),
        (429, Some("TooManyRequests"))
    );
    assert_eq!(headers["retry-after"], "2");
    let (code, _, _) = e
        .raw("GET", "/api/v1/namespaces/default/configmaps", None, vec![])
        .await;
    assert_eq!(code, 200, "the fault applied once");
    let fault = json!({"method": "POST", "pathPrefix": "/api/v1", "action": "status", "code": 503});
    e.post_json("/__emulator/faults", &fault).await;
    let cm = serde_json::to_vec(&json!({"metadata": {"name": "c"}})).unwrap();
    let (code, _, s) = e
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            cm,
        )
        .await;
    assert_eq!((code, s["code"].as_u64()), (503, Some(503)));
    e.raw("DELETE", "/__emulator/faults", None, vec![]).await;
    let cms: Api<ConfigMap> = e.api("default");
    create(&cms, json!({"metadata": {"name": "c"}})).await;
    let (_, _, counts) = e.raw("GET", "/__emulator/requests", None, vec![]).await;
    let post = counts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["method"] == "POST" && c["path"] == "/api/v1/namespaces/default/configmaps")
        .unwrap();
    assert_eq!(post["count"], 2);
}

/// Latency faults delay answers; reset faults drop the connection; reset clears objects.
#[tokio::test]
async fn latency_reset_and_store_reset() {
    let e = env().await;
    let fault = json!({"pathPrefix": "/api/v1/namespaces/default/secrets", "action": "latency", "latencyMs": 300, "times": 1});
    e.post_json("/__emulator/faults", &fault).await;
    let started = std::time::Instant::now();
    let (code, _, _) = e
        .raw("GET", "/api/v1/namespaces/default/secrets", None, vec![])
        .await;
    assert_eq!(code, 200);
    assert!(started.elapsed().as_millis() >= 300);
    let fault =
        json!({"pathPrefix": "/api/v1/namespaces/default/secrets", "action": "reset", "times": 1});
    e.post_json("/__emulator/faults", &fault).await;
    let cms: Api<k8s_openapi::api::core::v1::Secret> = e.api("default");
    assert!(matches!(
        cms.list(&Default::default()).await,
        Err(kube::Error::HyperError(_) | kube::Error::Service(_))
    ));
    let cms: Api<ConfigMap> = e.api("default");
    create(&cms, json!({"metadata": {"name": "c"}})).await;
    let (code, _, _) = e.raw("POST", "/__emulator/reset", None, vec![]).await;
    assert_eq!(code, 200);
    assert!(cms.get_opt("c").await.unwrap().is_none());
    let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(e.client.clone());
    assert!(
        ns.get_opt("default").await.unwrap().is_some(),
        "default namespaces come back"
    );
}

/// `GET /__emulator/failed-writes` counts the controllers' writes that
/// failed (each one a bug in the emulator; the count moving is tested next
/// to the controllers): the ordinary work of every controller, a Job run,
/// reaped by its TTL and a namespace deleted with its content, leaves it
/// at zero, and so does a reset.
#[tokio::test]
async fn ordinary_controller_work_fails_no_write() {
    use k8s_openapi::api::batch::v1::Job;
    use k8s_openapi::api::core::v1::{Namespace, Pod};

    let e = env().await;
    e.namespace("work").await;
    let jobs: Api<Job> = e.api("work");
    let mut job = job("reaped", &[("EMULATOR_RUN_SECONDS", "0.1")]);
    job["spec"]["ttlSecondsAfterFinished"] = json!(0);
    create(&jobs, job).await;
    eventually(10, || async {
        jobs.get_opt("reaped")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    let pods: Api<Pod> = e.api("work");
    create(
        &pods,
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "env": [{"name": "EMULATOR_NEVER_EXIT", "value": "1"}]}]}}),
    )
    .await;
    let namespaces: Api<Namespace> = Api::all(e.client.clone());
    namespaces
        .delete("work", &Default::default())
        .await
        .unwrap();
    eventually(20, || async {
        namespaces
            .get_opt("work")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    e.raw("POST", "/__emulator/reset", None, vec![]).await;
    let (code, _, failed) = e
        .raw("GET", "/__emulator/failed-writes", None, vec![])
        .await;
    assert_eq!((code, failed), (200, json!({"count": 0, "recent": []})));
}

/// A silence fault is a server that stops answering but keeps its
/// connections: an open watch sends nothing more and does not end at its
/// timeoutSeconds, a new matching request gets no answer; once the fault is
/// cleared, both go on. Requests the fault does not match are answered.
#[tokio::test]
async fn silence_holds_requests_and_open_watches() {
    use futures::StreamExt;
    use kube::api::{WatchEvent, WatchParams};

    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    let before = create(&cms, json!({"metadata": {"name": "before"}})).await;
    let from = before.metadata.resource_version.unwrap();
    let mut events = cms
        .watch(&WatchParams::default().timeout(1), &from)
        .await
        .unwrap()
        .boxed();
    let (code, _, counted) = e
        .post_json(
            "/__emulator/requests/wait",
            &json!({"pathPrefix": "/api/v1/namespaces/default/configmaps", "watch": true, "count": 1, "timeoutSeconds": 5}),
        )
        .await;
    assert_eq!((code, counted["count"].as_u64()), (200, Some(1)));

    let fault = json!({"method": "GET", "pathPrefix": "/api/v1/namespaces/default/configmaps", "action": "silence"});
    let (code, _, _) = e.post_json("/__emulator/faults", &fault).await;
    assert_eq!(code, 201);
    // Not matched (a POST): answered, and its change is held back from the watch.
    create(&cms, json!({"metadata": {"name": "during"}})).await;
    let held = tokio::spawn({
        let cms = cms.clone();
        async move { cms.get("during").await }
    });
    // Past the watch's timeoutSeconds: nothing arrives, nothing ends.
    let quiet = tokio::time::timeout(std::time::Duration::from_secs(2), events.next()).await;
    assert!(
        quiet.is_err(),
        "the silenced watch said something: {quiet:?}"
    );
    assert!(!held.is_finished(), "the silenced GET was answered");

    e.raw("DELETE", "/__emulator/faults", None, vec![]).await;
    let got = held.await.unwrap().unwrap();
    assert_eq!(got.metadata.name.as_deref(), Some("during"));
    // The held change (and bookmarks), then the end the timeout called for.
    let rest: Vec<_> = events.collect().await;
    let added: Vec<_> = rest
        .iter()
        .filter_map(|e| match e {
            Ok(WatchEvent::Added(c)) => c.metadata.name.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(added, ["during"], "{rest:?}");
}

/// Malformed bodies are 400, unknown kinds and paths 404, oversized bodies 413, all as Status.
#[tokio::test]
async fn bad_requests_get_status_answers() {
    let e = env().await;
    let path = "/api/v1/namespaces/default/configmaps";
    let (code, _, body) = e
        .raw(
            "POST",
            path,
            Some("application/json"),
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(
        (code, body["kind"].as_str(), body["reason"].as_str()),
        (400, Some("Status"), Some("BadRequest"))
    );
    let (code, _, body) = e
        .raw("POST", path, Some("application/json"), b"[1,2]".to_vec())
        .await;
    assert_eq!((code, body["reason"].as_str()), (400, Some("BadRequest")));
    let (code, _, body) = e
        .raw(
            "POST",
            path,
            Some("application/json"),
            br#"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"x"}}"#.to_vec(),
        )
        .await;
    assert_eq!(code, 400, "{body}");
    let (code, _, body) = e.raw("POST", path, Some("text/plain"), b"x".to_vec()).await;
    assert_eq!(
        (code, body["reason"].as_str()),
        (415, Some("UnsupportedMediaType"))
    );
    for p in [
        "/api/v1/namespaces/default/deployments",
        "/apis/apps/v1/deployments",
        "/nonsense",
        "/apis/batch/v2/jobs",
        "/api/v1/namespaces/default/pods/x/exec",
    ] {
        let (code, _, body) = e.raw("GET", p, None, vec![]).await;
        assert_eq!(
            (code, body["kind"].as_str(), body["reason"].as_str()),
            (404, Some("Status"), Some("NotFound")),
            "{p}"
        );
    }
    let (code, _, body) = e
        .raw(
            "PUT",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(
        (code, body["reason"].as_str()),
        (405, Some("MethodNotAllowed"))
    );
    let big = json!({"metadata": {"name": "big"}, "data": {"x": "a".repeat(3 * 1024 * 1024)}});
    let (code, _, body) = e.post_json(path, &big).await;
    assert_eq!(
        (code, body["reason"].as_str()),
        (413, Some("RequestEntityTooLarge"))
    );
    assert_eq!(
        body["message"],
        "Request entity too large: limit is 3145728"
    );
    let (code, _, body) = e
        .raw(
            "PATCH",
            &format!("{path}/none"),
            Some("application/merge-patch+json"),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!((code, body["reason"].as_str()), (404, Some("NotFound")));
}

/// Discovery documents describe the served resources for kubectl and kube-rs.
#[tokio::test]
async fn discovery_documents() {
    let e = env().await;
    // The entry for `name` in an API resource list.
    let served = |v: &serde_json::Value, name: &str| {
        v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .clone()
    };
    let (_, _, v) = e.raw("GET", "/version", None, vec![]).await;
    assert_eq!(v["major"], "1");
    let (_, _, v) = e.raw("GET", "/apis/batch/v1", None, vec![]).await;
    let jobs = served(&v, "jobs");
    assert_eq!(
        (
            jobs["kind"].as_str(),
            jobs["namespaced"].as_bool(),
            jobs["singularName"].as_str()
        ),
        (Some("Job"), Some(true), Some("job"))
    );
    let (_, _, v) = e.raw("GET", "/api/v1", None, vec![]).await;
    let ns = served(&v, "namespaces");
    assert_eq!(ns["shortNames"], json!(["ns"]));
    let (_, _, v) = e.raw("GET", "/apis", None, vec![]).await;
    assert_eq!(v["groups"][0]["name"], "batch");
    let (code, _, v) = e.raw("GET", "/openapi/v3", None, vec![]).await;
    assert_eq!(code, 200);
    let url = v["paths"]["apis/batch/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, _, doc) = e.raw("GET", &url, None, vec![]).await;
    assert_eq!(code, 200);
    let patch = &doc["paths"]["/apis/batch/v1/namespaces/{namespace}/jobs/{name}"]["patch"];
    assert!(
        patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation")
    );
}
