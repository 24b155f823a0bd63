//! Watch: resume from a resourceVersion, 410 Gone after compaction, selectors,
//! bookmarks, and kube-rs's watcher.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;

use crate::util::{create, env, raw};

/// A watch from a list's resourceVersion sees exactly the later changes, in order.
#[tokio::test]
async fn watch_resumes_from_resource_version() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    create(&cms, json!({"metadata": {"name": "before"}})).await;
    let rv = list_version(&cms).await;
    create(&cms, json!({"metadata": {"name": "after"}})).await;
    cms.delete("before", &Default::default()).await.unwrap();
    let mut stream = cms
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .unwrap()
        .boxed();
    let mut seen = Vec::new();
    while let Some(ev) = stream.try_next().await.unwrap() {
        match ev {
            WatchEvent::Added(c) => seen.push(format!("ADDED {}", c.metadata.name.unwrap())),
            WatchEvent::Deleted(c) => seen.push(format!("DELETED {}", c.metadata.name.unwrap())),
            other => seen.push(format!("{other:?}")),
        }
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(seen, ["ADDED after", "DELETED before"]);
}

/// A watch from a resourceVersion older than the history gets a 410 Expired ERROR event.
#[tokio::test]
async fn watch_too_old_resource_version_is_gone() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    create(&cms, json!({"metadata": {"name": "x"}})).await;
    let (code, _, _) = raw(&e.emu.url, "POST", "/__emulator/compact", None, vec![]).await;
    assert_eq!(code, 200);
    let mut stream = cms
        .watch(&WatchParams::default(), "1")
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await.unwrap() {
        Some(WatchEvent::Error(err)) => {
            assert_eq!(err.code, 410);
            assert_eq!(err.reason, "Expired");
            assert!(
                err.message.starts_with("too old resource version: 1 ("),
                "{}",
                err.message
            );
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
}

/// A label-selected watch sees an object leave the selection as DELETED; bookmarks arrive.
#[tokio::test]
async fn selector_transitions_and_bookmarks() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    let rv = list_version(&cms).await;
    let mut stream = cms
        .watch(&WatchParams::default().labels("app=x").timeout(10), &rv)
        .await
        .unwrap()
        .boxed();
    create(
        &cms,
        json!({"metadata": {"name": "c", "labels": {"app": "x"}}}),
    )
    .await;
    cms.patch(
        "c",
        &Default::default(),
        &kube::api::Patch::Merge(json!({"metadata": {"labels": {"app": "y"}}})),
    )
    .await
    .unwrap();
    let mut kinds = Vec::new();
    while let Some(ev) = stream.try_next().await.unwrap() {
        kinds.push(match ev {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => "BOOKMARK",
            WatchEvent::Error(_) => "ERROR",
        });
        if kinds.contains(&"BOOKMARK") && kinds.contains(&"DELETED") {
            break;
        }
    }
    assert_eq!(&kinds[..2], &["ADDED", "DELETED"]);
}

/// kube-rs's watcher (list, then watch with bookmarks and a name field selector) sees changes.
#[tokio::test]
async fn kube_runtime_watcher_observes_object() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    let stream = watcher(
        cms.clone(),
        watcher::Config::default().fields("metadata.name=w"),
    )
    .applied_objects();
    let mut stream = stream.boxed();
    create(&cms, json!({"metadata": {"name": "other"}})).await;
    create(&cms, json!({"metadata": {"name": "w"}, "data": {"k": "1"}})).await;
    let got = tokio::time::timeout(std::time::Duration::from_secs(5), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got.metadata.name.as_deref(), Some("w"));
    let streaming =
        watcher(cms.clone(), watcher::Config::default().streaming_lists()).applied_objects();
    let mut streaming = streaming.boxed();
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), streaming.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(first.metadata.name.is_some());
}

/// The resourceVersion of a list of `api`'s objects: where a watch starts.
async fn list_version(api: &Api<ConfigMap>) -> String {
    api.list(&Default::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap()
}
