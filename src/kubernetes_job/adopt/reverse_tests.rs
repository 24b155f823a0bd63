//! The reverse mapping, checked by rendering a configuration, dressing the
//! objects as the API server returns them, and mapping them back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use k8s_openapi::api::batch::v1::Job;
use serde_json::{Value as J, json};

use super::*;
use crate::kubernetes_job::model::options::Options;
use crate::kubernetes_job::model::schema::schema;
use crate::kubernetes_job::model::spec::KubernetesJob;
use crate::kubernetes_job::render::Object;
use crate::kubernetes_job::testing::{self, with_defaults};

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

// ---------------------------------------------------------------------------
// Render, dress as the server would, reverse.

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
