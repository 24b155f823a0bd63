//! Create, read, update, patch, list: defaults, Status errors, validation, selectors.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::util::{create, create_refused, env, job, status_of, typed};

/// Created objects get uid, creationTimestamp, resourceVersion and kind defaults.
#[tokio::test]
async fn create_sets_system_fields_and_defaults() {
    let e = env().await;
    e.namespace("app").await;
    let ns: Api<Namespace> = Api::all(e.client.clone());
    let n = ns.get("app").await.unwrap();
    assert_eq!(n.status.unwrap().phase.as_deref(), Some("Active"));
    assert_eq!(
        n.metadata.labels.unwrap()["kubernetes.io/metadata.name"],
        "app"
    );
    assert_eq!(
        n.spec.unwrap().finalizers.unwrap(),
        vec!["kubernetes".to_string()]
    );
    let secrets: Api<Secret> = e.api("app");
    let s = create(
        &secrets,
        json!({"metadata": {"name": "s"}, "stringData": {"k": "v"}}),
    )
    .await;
    assert_eq!(s.type_.as_deref(), Some("Opaque"));
    assert_eq!(s.data.unwrap()["k"].0, b"v");
    assert!(s.metadata.uid.is_some() && s.metadata.creation_timestamp.is_some());
    assert!(s.metadata.resource_version.unwrap().parse::<u64>().unwrap() > 0);
    let managed = s.metadata.managed_fields.unwrap();
    assert_eq!(managed[0].operation.as_deref(), Some("Update"));
}

/// A missing object answers 404 with kube-apiserver's message and details.
#[tokio::test]
async fn missing_object_is_not_found_status() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let s = status_of(jobs.get("nope").await.unwrap_err());
    assert_eq!(s.code, 404);
    assert_eq!(s.reason, "NotFound");
    assert_eq!(s.message, "jobs.batch \"nope\" not found");
    let d = s.details.unwrap();
    assert_eq!(
        (d.name.as_str(), d.group.as_str(), d.kind.as_str()),
        ("nope", "batch", "jobs")
    );
    let (code, _, body) = e
        .raw(
            "GET",
            "/api/v1/namespaces/default/configmaps/x",
            None,
            vec![],
        )
        .await;
    assert_eq!(code, 404);
    assert_eq!(body["message"], "configmaps \"x\" not found");
    assert_eq!(body["kind"], "Status");
    assert!(body["details"].get("group").is_none());
}

/// Creating an existing name answers 409 AlreadyExists.
#[tokio::test]
async fn duplicate_create_is_already_exists() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    let cm: ConfigMap = typed(json!({"metadata": {"name": "c"}, "data": {"a": "1"}}));
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let s = status_of(cms.create(&PostParams::default(), &cm).await.unwrap_err());
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(s.message, "configmaps \"c\" already exists");
}

/// An update carrying a stale resourceVersion gets 409 Conflict with the real message.
#[tokio::test]
async fn stale_resource_version_update_conflicts() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    let first = create(&cms, json!({"metadata": {"name": "c"}, "data": {"a": "1"}})).await;
    let mut second = first.clone();
    second.data = Some([("a".to_string(), "2".to_string())].into());
    cms.replace("c", &PostParams::default(), &second)
        .await
        .unwrap();
    let mut stale = first.clone();
    stale.data = Some([("a".to_string(), "3".to_string())].into());
    let s = status_of(
        cms.replace("c", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
    );
}

/// An update that changes nothing keeps the resourceVersion.
#[tokio::test]
async fn no_op_update_keeps_resource_version() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    let c = create(&cms, json!({"metadata": {"name": "c"}, "data": {"a": "1"}})).await;
    let again = cms.replace("c", &PostParams::default(), &c).await.unwrap();
    assert_eq!(again.metadata.resource_version, c.metadata.resource_version);
}

/// Invalid objects answer 422 Invalid with field causes (names, restartPolicy, env names).
#[tokio::test]
async fn validation_errors_carry_causes() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    let s = create_refused(&cms, json!({"metadata": {"name": "Bad_Name"}})).await;
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert!(s.message.starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"), "{}", s.message);
    let cause = &s.details.unwrap().causes[0];
    assert_eq!(
        (cause.reason.as_str(), cause.field.as_str()),
        ("FieldValueInvalid", "metadata.name")
    );

    let jobs: Api<Job> = e.api("default");
    let mut j = job("j", &[("A=B", "x")]);
    j["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
    let s = create_refused(&jobs, j).await;
    assert_eq!(s.code, 422);
    let fields: Vec<String> = s
        .details
        .unwrap()
        .causes
        .iter()
        .map(|c| c.field.clone())
        .collect();
    assert!(
        fields.contains(&"spec.template.spec.restartPolicy".to_string()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"spec.template.spec.containers[0].env[0].name".to_string()),
        "{fields:?}"
    );
    assert!(
        s.message.starts_with("Job.batch \"j\" is invalid: ["),
        "{}",
        s.message
    );
    assert!(s.message.contains(
        "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""
    ));

    let mut j = job("q", &[]);
    j["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "one"}});
    let (code, _, body) = e
        .post_json("/apis/batch/v1/namespaces/default/jobs", &j)
        .await;
    assert_eq!(code, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("quantities must match the regular expression"),
        "{body}"
    );
}

/// Creating in a missing namespace is 404; in a terminating one 403 with the real message.
#[tokio::test]
async fn namespace_lifecycle_admission() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("ghost");
    let s = create_refused(&cms, json!({"metadata": {"name": "c"}})).await;
    assert_eq!(
        (s.code, s.message.as_str()),
        (404, "namespaces \"ghost\" not found")
    );
    e.namespace("doomed").await;
    let cms: Api<ConfigMap> = e.api("doomed");
    create(
        &cms,
        json!({"metadata": {"name": "keep", "finalizers": ["example.com/hold"]}}),
    )
    .await;
    let ns: Api<Namespace> = Api::all(e.client.clone());
    ns.delete("doomed", &Default::default()).await.unwrap();
    let s = create_refused(&cms, json!({"metadata": {"name": "c"}})).await;
    assert_eq!(s.code, 403);
    assert_eq!(
        s.message,
        "configmaps \"c\" is forbidden: unable to create new content in namespace doomed because it is being terminated"
    );
    assert_eq!(s.details.unwrap().causes[0].reason, "NamespaceTerminating");
    // Deleting a terminating namespace again is a conflict.
    let again = status_of(ns.delete("doomed", &Default::default()).await.unwrap_err());
    assert_eq!(again.code, 409);
    assert_eq!(
        again.message,
        "Operation cannot be fulfilled on namespaces \"doomed\": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system."
    );
}

/// A Job gets batch/v1 and pod-template defaults, the generated selector and labels.
#[tokio::test]
async fn job_defaults_match_kube_apiserver() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job("d", &[("EMULATOR_NEVER_EXIT", "1")]);
    spec["spec"]["suspend"] = json!(true);
    spec["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox");
    let j = create(&jobs, spec).await;
    let uid = j.metadata.uid.clone().unwrap();
    assert_eq!(j.metadata.generation, Some(1));
    // Created without labels, the Job reads back with its template's labels.
    assert_eq!(
        j.metadata.labels.as_ref().unwrap()["batch.kubernetes.io/job-name"],
        "d"
    );
    let s = j.spec.unwrap();
    assert_eq!(
        (s.parallelism, s.completions, s.backoff_limit),
        (Some(1), Some(1), Some(6))
    );
    assert_eq!(s.completion_mode.as_deref(), Some("NonIndexed"));
    assert_eq!(
        s.pod_replacement_policy.as_deref(),
        Some("TerminatingOrFailed")
    );
    assert_eq!(s.manual_selector, Some(false));
    assert_eq!(
        s.selector.unwrap().match_labels.unwrap()["batch.kubernetes.io/controller-uid"],
        uid
    );
    let labels = s.template.metadata.unwrap().labels.unwrap();
    for k in ["batch.kubernetes.io/controller-uid", "controller-uid"] {
        assert_eq!(labels[k], uid);
    }
    for k in ["batch.kubernetes.io/job-name", "job-name"] {
        assert_eq!(labels[k], "d");
    }
    let ps = s.template.spec.unwrap();
    assert_eq!(ps.dns_policy.as_deref(), Some("ClusterFirst"));
    assert_eq!(ps.scheduler_name.as_deref(), Some("default-scheduler"));
    assert_eq!(ps.termination_grace_period_seconds, Some(30));
    assert!(ps.security_context.is_some());
    let c = &ps.containers[0];
    assert_eq!(c.image_pull_policy.as_deref(), Some("Always"));
    assert_eq!(
        c.termination_message_path.as_deref(),
        Some("/dev/termination-log")
    );
    assert_eq!(c.termination_message_policy.as_deref(), Some("File"));
}

/// A Job's pod template is immutable: "field is immutable"; generation moves with spec only.
#[tokio::test]
async fn job_template_is_immutable_and_generation_tracks_spec() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    create(&jobs, job("im", &[("EMULATOR_NEVER_EXIT", "1")])).await;
    let pp = PatchParams::default();
    let s = status_of(
        jobs.patch("im", &pp, &Patch::Merge(json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "busybox:1.37"}]}}}})))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert!(
        s.message
            .starts_with("Job.batch \"im\" is invalid: spec.template: Invalid value: "),
        "{}",
        s.message
    );
    assert!(s.message.ends_with(": field is immutable"), "{}", s.message);
    let j = jobs
        .patch(
            "im",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(j.metadata.generation, Some(1));
    let j = jobs
        .patch(
            "im",
            &pp,
            &Patch::Merge(json!({"spec": {"parallelism": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(j.metadata.generation, Some(2));
    let s = status_of(
        jobs.patch(
            "im",
            &pp,
            &Patch::Merge(json!({"spec": {"completions": 3}})),
        )
        .await
        .unwrap_err(),
    );
    assert!(
        s.message
            .contains("spec.completions: Invalid value: 3: field is immutable"),
        "{}",
        s.message
    );
}

/// KEP-2926: while a Job is suspended and has never started, its pod
/// template's labels, annotations, node selector, tolerations, scheduling
/// gates and node affinity may change (by SSA too); nothing else may, and
/// once the Job has started (even if suspended again) none of it may.
#[tokio::test]
async fn suspended_job_that_never_started_may_change_scheduling_directives() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job("held", &[("EMULATOR_NEVER_EXIT", "1")]);
    spec["spec"]["suspend"] = json!(true);
    spec["spec"]["template"]["metadata"] = json!({"labels": {"team": "a"}});
    let pp = PatchParams::apply("planton");
    jobs.patch("held", &pp, &Patch::Apply(spec.clone()))
        .await
        .unwrap();
    let t = &mut spec["spec"]["template"];
    t["metadata"] = json!({"labels": {"team": "b"}, "annotations": {"note": "x"}});
    t["spec"]["nodeSelector"] = json!({"disk": "ssd"});
    t["spec"]["tolerations"] = json!([{"key": "gpu", "operator": "Exists"}]);
    t["spec"]["schedulingGates"] = json!([{"name": "example.com/quota"}]);
    t["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}});
    let j = jobs
        .patch("held", &pp, &Patch::Apply(spec.clone()))
        .await
        .unwrap();
    let template = j.spec.unwrap().template;
    assert_eq!(template.metadata.unwrap().labels.unwrap()["team"], "b");
    assert_eq!(template.spec.unwrap().node_selector.unwrap()["disk"], "ssd");

    let mut image = spec.clone();
    image["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:1.37");
    let mut pod_affinity = spec.clone();
    pod_affinity["spec"]["template"]["spec"]["affinity"]["podAffinity"] = json!({
        "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "zone"}]});
    for (what, body) in [("image", image), ("pod affinity", pod_affinity)] {
        let s = status_of(
            jobs.patch("held", &pp, &Patch::Apply(body))
                .await
                .unwrap_err(),
        );
        assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"), "{what}");
        assert!(
            s.message
                .starts_with("Job.batch \"held\" is invalid: spec.template: Invalid value: ")
                && s.message.ends_with(": field is immutable"),
            "{what}: {}",
            s.message
        );
    }

    // Started once, then suspended again: the template is fixed for good.
    let mp = PatchParams::default();
    jobs.patch(
        "held",
        &mp,
        &Patch::Merge(json!({"spec": {"suspend": false}})),
    )
    .await
    .unwrap();
    crate::util::wait_job(&jobs, "held", 10, |j| {
        j.status.as_ref().is_some_and(|s| s.start_time.is_some())
    })
    .await;
    jobs.patch(
        "held",
        &mp,
        &Patch::Merge(json!({"spec": {"suspend": true}})),
    )
    .await
    .unwrap();
    let s = status_of(
        jobs.patch(
            "held",
            &mp,
            &Patch::Merge(json!({"spec": {"template": {"metadata": {"labels": {"team": "c"}}}}})),
        )
        .await
        .unwrap_err(),
    );
    assert!(s.message.ends_with(": field is immutable"), "{}", s.message);
}

/// Strategic merge patch merges containers and env by name; JSON merge patch replaces lists.
#[tokio::test]
async fn strategic_merge_patch_merges_lists_by_key() {
    let e = env().await;
    let jobs: Api<Job> = e.api("default");
    let mut spec = job("p", &[("A", "1")]);
    spec["spec"]["suspend"] = json!(true);
    create(&jobs, spec).await;
    // Suspended and never started: still immutable template (env is not a scheduling directive).
    let r = jobs
        .patch("p", &PatchParams::default(), &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "env": [{"name": "B", "value": "2"}]}]}}}})))
        .await;
    assert_eq!(status_of(r.unwrap_err()).code, 422);
    let cms: Api<ConfigMap> = e.api("default");
    create(
        &cms,
        json!({"metadata": {"name": "c", "finalizers": ["a.io/x"]}, "data": {"a": "1"}}),
    )
    .await;
    let c = cms
        .patch(
            "c",
            &PatchParams::default(),
            &Patch::Strategic(json!({"metadata": {"finalizers": ["b.io/y"]}, "data": {"b": "2"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        c.metadata.finalizers.unwrap(),
        vec!["a.io/x".to_string(), "b.io/y".to_string()]
    );
    assert_eq!(c.data.unwrap().len(), 2);
    let c = cms
        .patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["c.io/z"]}})),
        )
        .await
        .unwrap();
    assert_eq!(c.metadata.finalizers.unwrap(), vec!["c.io/z".to_string()]);
    let c = cms
        .patch(
            "c",
            &PatchParams::default(),
            &Patch::<()>::Json(
                serde_json::from_value(json!([{"op": "remove", "path": "/metadata/finalizers"}]))
                    .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert!(c.metadata.finalizers.is_none());
}

/// Lists honour set-based label selectors, field selectors and limit/continue.
#[tokio::test]
async fn list_selectors_and_pagination() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    for (name, tier) in [("a", "web"), ("b", "db"), ("c", "web"), ("d", "cache")] {
        create(
            &cms,
            json!({"metadata": {"name": name, "labels": {"tier": tier}}}),
        )
        .await;
    }
    let names = |l: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        l.items
            .into_iter()
            .map(|c| c.metadata.name.unwrap())
            .collect()
    };
    assert_eq!(
        names(
            cms.list(&ListParams::default().labels("tier in (web,cache)"))
                .await
                .unwrap()
        ),
        ["a", "c", "d"]
    );
    assert_eq!(
        names(
            cms.list(&ListParams::default().labels("tier!=web,tier"))
                .await
                .unwrap()
        ),
        ["b", "d"]
    );
    assert_eq!(
        names(
            cms.list(&ListParams::default().fields("metadata.name=b"))
                .await
                .unwrap()
        ),
        ["b"]
    );
    let first = cms
        .list(&ListParams::default().labels("tier").limit(2))
        .await
        .unwrap();
    let token = first.metadata.continue_.clone().unwrap();
    assert_eq!(names(first), ["a", "b"]);
    let second = cms
        .list(
            &ListParams::default()
                .labels("tier")
                .limit(2)
                .continue_token(&token),
        )
        .await
        .unwrap();
    assert!(second.metadata.continue_.is_none());
    assert_eq!(names(second), ["c", "d"]);
    let (code, _, body) = e
        .raw(
            "GET",
            "/api/v1/namespaces/default/configmaps?fieldSelector=data.x%3Dy",
            None,
            vec![],
        )
        .await;
    assert_eq!((code, body["reason"].as_str()), (400, Some("BadRequest")));
}

/// deletecollection deletes what the selector matches and answers the deleted list.
#[tokio::test]
async fn delete_collection_honours_selectors() {
    let e = env().await;
    let cms: Api<ConfigMap> = e.api("default");
    for (name, app) in [("a", "x"), ("b", "x"), ("c", "y")] {
        create(
            &cms,
            json!({"metadata": {"name": name, "labels": {"app": app}}}),
        )
        .await;
    }
    let r = cms
        .delete_collection(&Default::default(), &ListParams::default().labels("app=x"))
        .await
        .unwrap();
    let deleted: Vec<String> = r
        .left()
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(deleted, ["a", "b"]);
    let left: Vec<String> = cms
        .list(&ListParams::default().labels("app"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(left, ["c"]);
}

/// A Pod created directly is scheduled, runs and succeeds; its spec is immutable but for the image.
#[tokio::test]
async fn bare_pod_runs_to_completion() {
    let e = env().await;
    let pods: Api<k8s_openapi::api::core::v1::Pod> = e.api("default");
    let pod = json!({"metadata": {"name": "bare"}, "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox", "env": [{"name": "EMULATOR_RUN_SECONDS", "value": "0.05"}]}]}});
    let p = create(&pods, pod).await;
    let spec = p.spec.unwrap();
    assert_eq!(spec.service_account_name.as_deref(), Some("default"));
    assert_eq!(spec.enable_service_links, Some(true));
    let done = crate::util::eventually(10, || async {
        let p = pods.get("bare").await.unwrap();
        (p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded")).then_some(p)
    })
    .await;
    assert_eq!(
        done.spec.unwrap().node_name.as_deref(),
        Some("kube-emulator-node")
    );
    let s = status_of(
        pods.patch(
            "bare",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"spec": {"restartPolicy": "Always"}})),
        )
        .await
        .unwrap_err(),
    );
    assert!(
        s.message
            .contains("spec: Forbidden: pod updates may not change fields other than"),
        "{}",
        s.message
    );
}
