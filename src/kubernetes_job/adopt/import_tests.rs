//! Import: ID parsing, and the reverse mapping checked by rendering a
//! configuration, dressing the objects as the API server returns them, and
//! mapping them back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use serde_json::{Value as J, json};

use super::*;
use crate::kubernetes_job::model::options::Options;
use crate::kubernetes_job::model::schema::schema;
use crate::kubernetes_job::render::Object;
use crate::kubernetes_job::testing;

/// Every accepted form, and each malformed one with the error it gets.
#[test]
fn id_parsing_table() {
    let ok = |cluster: Option<&str>, ns: &str, name: &str| {
        Ok(ImportId {
            cluster: cluster.map(str::to_string),
            namespace: ns.to_string(),
            name: name.to_string(),
        })
    };
    let malformed = |id: &str| Err::<ImportId, _>(ImportIdError::Malformed { id: id.to_string() });
    let cases: Vec<(&str, Result<ImportId, ImportIdError>)> = vec![
        ("batch/nightly", ok(None, "batch", "nightly")),
        ("prod:batch/nightly", ok(Some("prod"), "batch", "nightly")),
        ("prod-eu.1:a-1/b-2", ok(Some("prod-eu.1"), "a-1", "b-2")),
        ("nightly", malformed("nightly")),
        ("", malformed("")),
        ("a/b/c", malformed("a/b/c")),
        ("x:a:b/c", malformed("x:a:b/c")),
        ("a/b:c", malformed("a/b:c")),
    ];
    for (id, want) in cases {
        assert_eq!(ImportId::parse(id), want, "{id:?}");
    }
    for (id, part) in [
        ("Batch/nightly", "namespace"),
        ("batch/Nightly", "name"),
        ("/nightly", "namespace"),
        ("batch/", "name"),
        ("batch/-x", "name"),
        (":batch/x", "cluster"),
        (" prod:batch/x", "cluster"),
    ] {
        match ImportId::parse(id) {
            Err(ImportIdError::InvalidPart { part: p, .. }) => assert_eq!(p, part, "{id:?}"),
            other => panic!("{id:?}: {other:?}"),
        }
    }
}

/// A malformed ID's error shows both accepted forms.
#[test]
fn malformed_id_error_lists_forms() {
    let d = ImportId::parse("nightly").unwrap_err().diagnostics();
    let diag = d.iter().next().unwrap();
    assert_eq!(diag.summary, "Invalid Import ID");
    assert!(diag.detail.contains("NAMESPACE/NAME"), "{}", diag.detail);
    assert!(
        diag.detail.contains("CLUSTER:NAMESPACE/NAME"),
        "{}",
        diag.detail
    );
}

/// Identities: namespace and name required, cluster optional; the
/// identity of a state is the same value.
#[test]
fn identities() {
    let identity = Value::object([
        ("cluster", Value::Null),
        ("namespace", Value::string("batch")),
        ("name", Value::string("nightly")),
    ]);
    let id = ImportId::from_identity(&identity).unwrap();
    assert_eq!(id.to_string(), "batch/nightly");
    assert_eq!(id.identity(), identity);
    let missing = Value::object([("namespace", Value::string("batch"))]);
    assert!(matches!(
        ImportId::from_identity(&missing),
        Err(ImportIdError::InvalidIdentity { part: "name", .. })
    ));
    let state = testing::config(&json!({
        "metadata": {"name": "nightly"},
        "spec": {"namespace": {"value": "batch"}, "image": {"repo": "busybox"},
                 "target_cluster": {"cluster_name": "prod"}}
    }))
    .unwrap();
    assert_eq!(
        identity_of_state(&state).unwrap(),
        ImportId::parse("prod:batch/nightly").unwrap().identity()
    );
    let s = identity_schema();
    let required: Vec<_> = s
        .attributes
        .iter()
        .filter(|a| a.required_for_import)
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(required, ["namespace", "name"]);
}

/// Image references split into repo and tag the way a user writes them.
#[test]
fn image_splitting() {
    for (image, repo, tag) in [
        ("busybox", "busybox", None),
        ("busybox:1.36", "busybox", Some("1.36")),
        ("localhost:5000/x/y:v2", "localhost:5000/x/y", Some("v2")),
        ("localhost:5000/x", "localhost:5000/x", None),
        ("ghcr.io/a/b@sha256:abc", "ghcr.io/a/b@sha256:abc", None),
    ] {
        assert_eq!(
            split_image(image),
            (repo.to_string(), tag.map(str::to_string)),
            "{image}"
        );
    }
}

/// Private bytes keep both the lifecycle's keys and import's.
#[test]
fn private_state_merges() {
    let lifecycle = state::Private {
        job_reaped: true,
        ..state::Private::default()
    }
    .to_bytes();
    let ours = ImportPrivate {
        imported: true,
        adopted: None,
    };
    let merged = ours.merge_into(lifecycle);
    assert!(state::Private::from_bytes(&merged).job_reaped);
    assert_eq!(ImportPrivate::from_private(&merged), ours);
    assert!(ImportPrivate::default().merge_into(Vec::new()).is_empty());
    assert_eq!(
        ImportPrivate::from_private(b"junk"),
        ImportPrivate::default()
    );
}

// ---------------------------------------------------------------------------
// Render, dress as the server would, reverse.

/// The Planton defaults a plan fills in, added to a configuration's JSON.
fn with_defaults(mut config: J) -> J {
    let spec = config["spec"].as_object_mut().unwrap();
    for (k, v) in [
        ("create_namespace", json!(false)),
        ("parallelism", json!(1)),
        ("completions", json!(1)),
        ("backoff_limit", json!(6)),
        ("completion_mode", json!("NonIndexed")),
        ("restart_policy", json!("Never")),
        ("suspend", json!(false)),
        (
            "resources",
            json!({"limits": {"cpu": "1000m", "memory": "1Gi"}, "requests": {"cpu": "50m", "memory": "100Mi"}}),
        ),
    ] {
        spec.entry(k).or_insert(v);
    }
    let root = config.as_object_mut().unwrap();
    root.entry("wait_for_completion").or_insert(json!(true));
    root.entry("after_ttl_deletion").or_insert(json!("keep"));
    root.entry("delete_propagation")
        .or_insert(json!("Background"));
    config
}

/// What the API server stores for an object we applied: a UID, defaults,
/// and quantities in canonical form.
fn as_stored(mut o: J, uid: &str) -> J {
    o["metadata"]["uid"] = json!(uid);
    fn canonical(j: &mut J) {
        match j {
            J::Object(m) => {
                for (k, v) in m.iter_mut() {
                    if (k == "cpu" || k == "sizeLimit") && v.as_str() == Some("1000m") {
                        *v = json!("1");
                    } else {
                        canonical(v);
                    }
                }
            }
            J::Array(a) => a.iter_mut().for_each(canonical),
            _ => {}
        }
    }
    canonical(&mut o);
    if o["kind"] == "Job" {
        let name = o["metadata"]["name"].clone();
        let spec = &mut o["spec"];
        spec["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
        spec["podReplacementPolicy"] = json!("TerminatingOrFailed");
        let t = &mut spec["template"];
        t["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] = json!(uid);
        t["metadata"]["labels"]["batch.kubernetes.io/job-name"] = name;
        let t = &mut o["spec"]["template"];
        let p = &mut t["spec"];
        p["dnsPolicy"] = json!("ClusterFirst");
        p["schedulerName"] = json!("default-scheduler");
        p["securityContext"] = json!({});
        p["terminationGracePeriodSeconds"] = json!(30);
        p["serviceAccount"] = p["serviceAccountName"].clone();
        for c in p["containers"].as_array_mut().unwrap() {
            c["terminationMessagePath"] = json!("/dev/termination-log");
            c["terminationMessagePolicy"] = json!("File");
            c["imagePullPolicy"] = json!("IfNotPresent");
            if c.get("resources").is_none() {
                c["resources"] = json!({});
            }
            for e in c["env"].as_array_mut().into_iter().flatten() {
                if let Some(fr) = e.pointer_mut("/valueFrom/fieldRef") {
                    fr["apiVersion"] = json!("v1");
                }
            }
        }
        for v in p["volumes"].as_array_mut().into_iter().flatten() {
            for source in ["configMap", "secret"] {
                if let Some(s) = v.get_mut(source) {
                    s.as_object_mut()
                        .unwrap()
                        .entry("defaultMode")
                        .or_insert(json!(420));
                }
            }
        }
        o["status"] =
            json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]});
    }
    o
}

/// The objects a configuration renders, as the server would return them.
fn found_for(config: &Value) -> Found {
    let model = KubernetesJob::from_value(config).unwrap();
    let rendered = render::render(&model, &Options::from_value(config)).unwrap();
    let mut found = Found::default();
    for (i, o) in rendered.objects().iter().enumerate() {
        let stored = as_stored(o.to_json(), &format!("uid-{i}"));
        match o {
            Object::Namespace(_) => found.namespace = serde_json::from_value(stored).ok(),
            Object::ServiceAccount(_) => {
                found.service_account = serde_json::from_value(stored).ok()
            }
            Object::Secret(s) if s.type_.as_deref() == Some(render::DOCKER_CONFIG_TYPE) => {
                found.pull_secret = serde_json::from_value(stored).ok()
            }
            Object::Secret(_) => found.env_secret = serde_json::from_value(stored).ok(),
            Object::ConfigMap(_) => found
                .config_maps
                .push(serde_json::from_value(stored).unwrap()),
            Object::Job(_) => found.job = serde_json::from_value(stored).unwrap(),
        }
    }
    found
}

/// The attributes a configuration sets (everything but the computed ones).
fn configured(v: &Value) -> Value {
    let mut v = v.clone();
    for computed in ["id", "outputs", "status", "objects", "drift"] {
        state::set(&mut v, computed, Value::Null);
    }
    v
}

/// Render, then reverse: a Job this provider created imports to the
/// configuration that created it (with Planton's defaults written out),
/// needs no adoption and warns of nothing.
#[test]
fn render_then_reverse_gives_the_configuration() {
    let cases: Vec<(&str, J)> = vec![
        (
            "minimal",
            json!({
                "metadata": {"name": "hello"},
                "spec": {"namespace": {"value": "batch"}, "image": {"repo": "busybox"}}
            }),
        ),
        (
            "report with env, secrets, config maps and volumes",
            json!({
                "metadata": {"name": "nightly-report", "org": "acme", "env": "dev", "id": "k8sjob-1"},
                "spec": {
                    "namespace": {"value": "reports"},
                    "create_namespace": true,
                    "image": {"repo": "ghcr.io/acme/report", "tag": "v1.2", "pull_secret_name": "regcred"},
                    "command": ["/bin/sh", "-c", "run"],
                    "args": ["--day", "yesterday"],
                    "env": {
                        "variables": {"A": {"value": "1"}, "EMPTY": {"value": ""}},
                        "secrets": {
                            "DB_PASSWORD": {"value": "hunter2"},
                            "TOKEN": {"secret_ref": {"name": "api", "key": "token"}}
                        }
                    },
                    "config_maps": {"nightly-report-config": "format: csv\n"},
                    "volume_mounts": [
                        {"name": "config", "mount_path": "/etc/report", "read_only": true,
                         "config_map": {"name": "nightly-report-config", "key": "nightly-report-config", "path": "report.yaml"}},
                        {"name": "scratch", "mount_path": "/scratch", "empty_dir": {"size_limit": "64Mi", "medium": "Memory"}},
                        {"name": "certs", "mount_path": "/certs", "sub_path": "tls",
                         "secret": {"name": "certs", "default_mode": 256}},
                        {"name": "host", "mount_path": "/host", "host_path": {"path": "/var/log", "type": "Directory"}},
                        {"name": "data", "mount_path": "/data", "pvc": {"claim_name": "data", "read_only": true}}
                    ],
                    "backoff_limit": 2,
                    "active_deadline_seconds": 600,
                    "ttl_seconds_after_finished": 3600
                },
                "docker_config_json": "{\"auths\":{}}"
            }),
        ),
        (
            "indexed, suspended, on failure, own resources",
            json!({
                "metadata": {"name": "shards"},
                "spec": {
                    "namespace": {"value": "batch"},
                    "image": {"repo": "busybox", "tag": "1.36"},
                    "completion_mode": "Indexed", "completions": 3, "parallelism": 3,
                    "restart_policy": "OnFailure", "suspend": true,
                    "resources": {"limits": {"cpu": "2", "memory": "512Mi"}, "requests": {"cpu": "250m"}}
                }
            }),
        ),
        (
            "no resources at all",
            json!({
                "metadata": {"name": "bare"},
                "spec": {"namespace": {"value": "batch"}, "image": {"repo": "busybox"}, "resources": {}}
            }),
        ),
    ];
    let ty = schema().value_type();
    for (name, config) in cases {
        let expected = testing::config(&with_defaults(config)).unwrap();
        let found = found_for(&expected);
        let id = ImportId {
            cluster: None,
            namespace: found.job.metadata.namespace.clone().unwrap(),
            name: found.job.metadata.name.clone().unwrap(),
        };
        let imported = reverse(&id, &found, &ty);
        assert!(
            imported.diagnostics.is_empty(),
            "{name}: {:?}",
            imported.diagnostics
        );
        assert_eq!(configured(&imported.state), expected, "{name}");
        assert_eq!(imported.private.adopted, None, "{name}");
        assert!(imported.private.imported, "{name}");
        // Computed attributes are what apply records.
        let objects = state::objects_from_value(imported.state.get("objects"));
        assert_eq!(objects.last().unwrap().object.kind, "Job", "{name}");
        assert!(objects.iter().all(|t| !t.uid.is_empty()), "{name}");
        assert_eq!(
            imported.state.get("id").as_str(),
            Some(format!("{}/{}", id.namespace, id.name).as_str())
        );
        assert!(
            state::status_finished(imported.state.get("status")),
            "{name}"
        );
    }
}

/// A Job made with kubectl: what the spec can say is mapped, the rest is
/// kept for restoring and named in one warning.
#[test]
fn kubectl_job_is_adopted() {
    let live: Job = serde_json::from_value(as_stored(
        json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "legacy", "namespace": "team", "labels": {"app": "legacy"}},
            "spec": {
                "backoffLimit": 4, "completions": 1, "parallelism": 1,
                "completionMode": "NonIndexed", "suspend": false,
                "template": {
                    "metadata": {"labels": {"app": "legacy"}},
                    "spec": {
                        "restartPolicy": "Never",
                        "serviceAccountName": "default",
                        "containers": [{
                            "name": "main", "image": "busybox:1.36",
                            "command": ["sh", "-c", "cat /cfg/settings"],
                            "env": [{"name": "MODE", "value": "fast"},
                                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                            "volumeMounts": [{"name": "cfg", "mountPath": "/cfg"}]
                        }],
                        "volumes": [{"name": "cfg", "configMap": {"name": "legacy-config"}}]
                    }
                }
            }
        }),
        "u-1",
    ))
    .unwrap();
    let found = Found {
        job: live.clone(),
        ..Found::default()
    };
    let id = ImportId::parse("team/legacy").unwrap();
    let imported = reverse(&id, &found, &schema().value_type());
    let expected = testing::config(&with_defaults(json!({
        "metadata": {"name": "legacy"},
        "spec": {
            "namespace": {"value": "team"},
            "image": {"repo": "busybox", "tag": "1.36"},
            "command": ["sh", "-c", "cat /cfg/settings"],
            "env": {"variables": {"MODE": {"value": "fast"}}},
            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
            "backoff_limit": 4,
            "volume_mounts": [{"name": "cfg", "mount_path": "/cfg", "config_map": {"name": "legacy-config"}}]
        }
    })))
    .unwrap();
    assert_eq!(configured(&imported.state), expected);
    let adopted = imported.private.adopted.clone().expect("adopted");
    assert!(!adopted.service_account);
    assert_eq!(
        adopted.labels.get("app").map(String::as_str),
        Some("legacy")
    );
    assert_eq!(
        adopted.template["spec"]["containers"][0]["name"],
        json!("main")
    );
    let warnings: Vec<_> = imported.diagnostics.iter().collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let detail = &warnings[0].detail;
    for field in [
        "spec.template.spec.containers[0].name",
        "spec.template.spec.containers[0].env[NODE]",
        "spec.template.spec.serviceAccountName",
        "spec.template.metadata.labels.app",
    ] {
        assert!(detail.contains(field), "{field} not named in:\n{detail}");
    }
    // Only the Job is tracked: nothing else is this resource's.
    let objects = state::objects_from_value(imported.state.get("objects"));
    assert_eq!(objects.len(), 1);

    // Rendering the imported spec and restoring reproduces the live Job.
    let model = KubernetesJob::from_value(&imported.state).unwrap();
    let mut rendered = render::render(&model, &Options::from_value(&imported.state)).unwrap();
    assert!(adopted.restore(&mut rendered, Some(&live)));
    assert_eq!(
        kept::differences(&rendered.job, &live),
        Vec::<String>::new()
    );
    // Private state keeps no literal env value, only keyed hashes; a live
    // template whose values changed is not restored over.
    let kept = serde_json::to_string(&adopted.template).unwrap();
    for c in live
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers
        .iter()
    {
        for e in c.env.iter().flatten() {
            if let Some(v) = e.value.as_deref().filter(|v| v.len() >= 3) {
                assert!(!kept.contains(&format!("\"{v}\"")), "{v} kept in {kept}");
            }
        }
    }
    assert!(kept.contains("hmac-sha256:"), "{kept}");
    let mut changed = live.clone();
    if let Some(e) = changed
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
        .env
        .as_mut()
        .and_then(|env| env.iter_mut().find(|e| e.value.is_some()))
    {
        e.value = Some("changed-by-hand".into());
        let mut again = render::render(&model, &Options::from_value(&imported.state)).unwrap();
        assert!(!adopted.restore(&mut again, Some(&changed)));
    }
    assert!(
        rendered
            .objects()
            .iter()
            .filter(|o| adopted.manages(o))
            .all(|o| o.object_ref().kind == "Job")
    );
}

/// Objects are found by Planton's names and this Job's labels only.
#[test]
fn assemble_finds_only_this_jobs_objects() {
    let labels = |name: &str| json!({"planton.ai/resource": "true", "planton.ai/kind": "KubernetesJob", "planton.ai/name": name});
    let meta = |name: &str, ns: Option<&str>, owner: &str| json!({"name": name, "namespace": ns, "labels": labels(owner)});
    let job: Job = serde_json::from_value(json!({"metadata": meta("a", Some("ns"), "a")})).unwrap();
    let secrets: Vec<Secret> = vec![
        serde_json::from_value(json!({"metadata": meta("a-env-secrets", Some("ns"), "a")}))
            .unwrap(),
        serde_json::from_value(
            json!({"metadata": meta("a-image-pull-secret", Some("other"), "a")}),
        )
        .unwrap(),
    ];
    let cms: Vec<ConfigMap> = vec![
        serde_json::from_value(json!({"metadata": meta("cfg", Some("ns"), "a")})).unwrap(),
        serde_json::from_value(json!({"metadata": meta("cfg-b", Some("ns"), "b")})).unwrap(),
    ];
    let sas: Vec<ServiceAccount> = vec![
        serde_json::from_value(json!({"metadata": {"name": "a", "namespace": "ns"}})).unwrap(),
    ];
    let nss: Vec<Namespace> =
        vec![serde_json::from_value(json!({"metadata": meta("ns", None, "a")})).unwrap()];
    let found = Found::assemble(job, &nss, &sas, &secrets, &cms);
    assert!(found.env_secret.is_some());
    assert!(found.pull_secret.is_none(), "other namespace");
    assert!(found.service_account.is_none(), "unlabelled");
    assert!(found.namespace.is_some());
    let names: Vec<_> = found
        .config_maps
        .iter()
        .map(|c| c.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["cfg"]);
}

// ---------------------------------------------------------------------------
// The plan right after an import.

fn plan_req(prior: Value, config: Value, private: Vec<u8>) -> (PlanRequest, PlanResponse) {
    let req = PlanRequest {
        prior_state: prior,
        config: config.clone(),
        prior_private: private.clone(),
        capabilities: Default::default(),
    };
    let mut planned = config;
    for computed in ["id", "outputs", "status", "objects", "drift"] {
        state::set(
            &mut planned,
            computed,
            req.prior_state.get(computed).clone(),
        );
    }
    let resp = PlanResponse {
        planned_state: planned,
        planned_private: private,
        ..PlanResponse::default()
    };
    (req, resp)
}

/// Equal quantities keep the prior spelling; after an import, values
/// that render the same objects and the triggers import cannot read are
/// taken without replacing.
#[test]
fn plan_after_import() {
    let base = json!({
        "metadata": {"name": "r"},
        "spec": {"namespace": {"value": "ns"}, "image": {"repo": "busybox", "tag": "1.36"},
                 "volume_mounts": [{"name": "v", "mount_path": "/v", "config_map": {"name": "c"}}]}
    });
    let prior = testing::config(&with_defaults(base.clone())).unwrap();
    let mut config = base.clone();
    config["spec"]["image"] = json!({"repo": "busybox:1.36"});
    config["spec"]["volume_mounts"][0]["read_only"] = json!(false);
    config["spec"]["volume_mounts"][0]["config_map"]["default_mode"] = json!(420);
    config["spec"]["resources"] = json!({"limits": {"cpu": "1", "memory": "1024Mi"}, "requests": {"cpu": "0.05", "memory": "100Mi"}});
    config["rerun_triggers"] = json!({"v": "1"});
    let config = testing::config(&with_defaults(config)).unwrap();
    let imported = ImportPrivate {
        imported: true,
        adopted: None,
    }
    .merge_into(Vec::new());

    // Not imported: quantities keep their spelling, the rest is a change.
    let (req, mut resp) = plan_req(prior.clone(), config.clone(), Vec::new());
    resp.requires_replace
        .push(AttributePath::root("rerun_triggers"));
    assert!(before_plan(&req, &mut resp).is_none());
    assert_eq!(
        resp.planned_state
            .get("spec")
            .get("resources")
            .get("limits")
            .get("cpu"),
        &Value::string("1000m")
    );
    assert_eq!(resp.requires_replace.len(), 1);

    // Imported: classified against a prior that agrees.
    let (req, mut resp) = plan_req(prior.clone(), config.clone(), imported);
    resp.requires_replace
        .push(AttributePath::root("rerun_triggers"));
    let adjusted = before_plan(&req, &mut resp).expect("adjusted prior");
    assert!(
        resp.requires_replace.is_empty(),
        "{:?}",
        resp.requires_replace
    );
    let changes =
        crate::kubernetes_job::lifecycle::buckets::classify(&adjusted, &resp.planned_state);
    assert_eq!(changes, Default::default());

    // Imported, but a real change (another image) still replaces.
    let mut other = config.clone();
    state::set(
        state::get_mut(&mut other, &["spec", "image"]).unwrap(),
        "repo",
        Value::string("busybox:1.37"),
    );
    let (req, mut resp) = plan_req(
        prior,
        other,
        ImportPrivate {
            imported: true,
            adopted: None,
        }
        .merge_into(Vec::new()),
    );
    let adjusted = before_plan(&req, &mut resp).expect("triggers adjusted");
    let changes =
        crate::kubernetes_job::lifecycle::buckets::classify(&adjusted, &resp.planned_state);
    assert_eq!(changes.replace, [AttributePath::root("spec").attr("image")]);
}

/// For an adopted Job: a change of the labels on its kept template
/// replaces it, and the ServiceAccount it does not use is not planned.
#[test]
fn plan_of_an_adopted_job() {
    let config = json!({
        "metadata": {"name": "legacy"},
        "spec": {"namespace": {"value": "team"}, "image": {"repo": "busybox", "tag": "1.36"}}
    });
    let mut prior = testing::config(&with_defaults(config.clone())).unwrap();
    let job_only = vec![state::Tracked {
        object: ObjectRef::of::<Job>("team", "legacy"),
        uid: "u".into(),
    }];
    state::set(&mut prior, "objects", state::objects_value(&job_only));
    let private = ImportPrivate {
        imported: false,
        adopted: Some(Adopted::default()),
    }
    .merge_into(Vec::new());

    // Unchanged: the prior objects stand, although Planton would add a
    // ServiceAccount.
    let (req, mut resp) = plan_req(
        prior.clone(),
        testing::config(&with_defaults(config.clone())).unwrap(),
        private.clone(),
    );
    state::set(&mut resp.planned_state, "objects", Value::UNKNOWN);
    after_plan(&req, &mut resp);
    assert!(resp.requires_replace.is_empty());
    assert_eq!(resp.planned_state.get("objects"), prior.get("objects"));

    // A new organization label replaces.
    let mut changed = config;
    changed["metadata"]["org"] = json!("acme");
    let (req, mut resp) = plan_req(
        prior,
        testing::config(&with_defaults(changed)).unwrap(),
        private,
    );
    after_plan(&req, &mut resp);
    assert_eq!(
        resp.requires_replace,
        [AttributePath::root("metadata").attr("org")]
    );
    assert!(resp.planned_state.get("objects").is_unknown());
}
