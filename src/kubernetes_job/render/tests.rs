//! Rendering pinned for Project Planton's own examples (research (e)),
//! against JSON fixtures in `tests/fixtures/render/` (`UPDATE_FIXTURES=1`
//! rewrites them; review the diff). Each example goes through the plan
//! pipeline first, so Planton's defaults are applied as they are in a plan.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::json;

use super::*;
use crate::kubernetes_job::KubernetesJobResource;
use crate::kubernetes_job::model::options::Options;
use crate::kubernetes_job::model::spec::KubernetesJob;
use crate::kubernetes_job::testing;
use crate::tf::plan::{PlanInput, plan_resource_change};
use crate::tf::resource::ClientCapabilities;

/// The Planton examples (and two of ours), as Terraform configurations.
fn examples() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        (
            "e1-hack-manifest",
            json!({
                "metadata": {"name": "test-batch-job"},
                "spec": {
                    "namespace": {"value": "test-jobs"}, "create_namespace": true,
                    "image": {"repo": "busybox", "tag": "latest"},
                    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
                    "env": {
                        "variables": {"BATCH_SIZE": {"value": "100"}, "LOG_LEVEL": {"value": "info"}},
                        "secrets": {"API_KEY": {"value": "test-api-key-value"}}
                    },
                    "parallelism": 1, "completions": 1, "backoff_limit": 3,
                    "active_deadline_seconds": 300, "ttl_seconds_after_finished": 600,
                    "completion_mode": "NonIndexed", "restart_policy": "Never",
                    "command": ["/bin/sh", "-c", "echo \"Starting batch job...\"\necho \"Batch size: $BATCH_SIZE\"\necho \"Log level: $LOG_LEVEL\"\nsleep 5\necho \"Batch job completed successfully!\"\n"]
                }
            }),
        ),
        (
            "e2-data-migration",
            json!({
                "metadata": {"name": "data-migration"},
                "spec": {
                    "namespace": {"value": "batch-jobs"}, "create_namespace": true,
                    "image": {"repo": "myregistry/migration-runner", "tag": "v1.2.0"},
                    "resources": {"limits": {"cpu": "2000m", "memory": "4Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}},
                    "env": {
                        "variables": {"DATABASE_URL": {"value": "postgres://localhost:5432/mydb"}, "BATCH_SIZE": {"value": "1000"}},
                        "secrets": {"DATABASE_PASSWORD": {"secret_ref": {"name": "db-credentials", "key": "password"}}}
                    },
                    "backoff_limit": 3, "active_deadline_seconds": 3600, "ttl_seconds_after_finished": 86400,
                    "command": ["python", "/app/migrate.py"]
                }
            }),
        ),
        (
            "e3-hello-world",
            json!({
                "metadata": {"name": "hello-world"},
                "spec": {
                    "namespace": {"value": "default"},
                    "image": {"repo": "busybox", "tag": "latest"},
                    "command": ["echo", "Hello, World!"]
                }
            }),
        ),
        (
            "e4-db-migration",
            json!({
                "metadata": {"name": "db-migration", "org": "mycompany", "env": "production", "id": "k8sjob-01abc"},
                "spec": {
                    "target_cluster": {"cluster_kind": "GcpGkeCluster", "cluster_name": "prod-cluster"},
                    "namespace": {"value": "production"},
                    "image": {"repo": "myregistry/migration-runner", "tag": "v2.0.0"},
                    "resources": {"limits": {"cpu": "1000m", "memory": "2Gi"}, "requests": {"cpu": "250m", "memory": "512Mi"}},
                    "env": {
                        "variables": {"DATABASE_HOST": {"value": "postgres.production.svc.cluster.local"}, "DATABASE_NAME": {"value": "myapp"}},
                        "secrets": {
                            "DATABASE_USER": {"secret_ref": {"name": "db-credentials", "key": "username"}},
                            "DATABASE_PASSWORD": {"secret_ref": {"name": "db-credentials", "key": "password"}}
                        }
                    },
                    "backoff_limit": 3, "active_deadline_seconds": 1800, "ttl_seconds_after_finished": 3600,
                    "restart_policy": "Never",
                    "command": ["python", "manage.py", "migrate"]
                }
            }),
        ),
        (
            "e6-indexed-processor",
            json!({
                "metadata": {"name": "indexed-processor"},
                "spec": {
                    "namespace": {"value": "data-processing"},
                    "image": {"repo": "myregistry/partition-processor", "tag": "v1.0.0"},
                    "resources": {"limits": {"cpu": "1000m", "memory": "2Gi"}, "requests": {"cpu": "250m", "memory": "512Mi"}},
                    "completion_mode": "Indexed", "completions": 10, "parallelism": 5, "backoff_limit": 3,
                    "env": {"variables": {"TOTAL_PARTITIONS": {"value": "10"}}},
                    "command": ["/bin/sh", "-c", "echo Processing partition $JOB_COMPLETION_INDEX of $TOTAL_PARTITIONS && python /app/process_partition.py --partition=$JOB_COMPLETION_INDEX"]
                }
            }),
        ),
        (
            "e7-database-backup",
            json!({
                "metadata": {"name": "database-backup"},
                "spec": {
                    "namespace": {"value": "backups"}, "create_namespace": true,
                    "image": {"repo": "postgres", "tag": "15"},
                    "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "256Mi"}},
                    "env": {
                        "variables": {"PGHOST": {"value": "postgres.production.svc.cluster.local"}, "PGDATABASE": {"value": "myapp"}},
                        "secrets": {
                            "PGUSER": {"secret_ref": {"name": "db-credentials", "key": "username"}},
                            "PGPASSWORD": {"secret_ref": {"name": "db-credentials", "key": "password"}}
                        }
                    },
                    "backoff_limit": 2, "active_deadline_seconds": 7200, "ttl_seconds_after_finished": 604800,
                    "config_maps": {"backup-script": "#!/bin/bash\nset -e\npg_dump | gzip > /backup/backup.sql.gz\n"},
                    "volume_mounts": [
                        {"name": "backup-script", "mount_path": "/scripts/backup.sh",
                         "config_map": {"name": "backup-script", "key": "backup-script", "path": "backup.sh", "default_mode": 493}},
                        {"name": "backup-storage", "mount_path": "/backup", "pvc": {"claim_name": "backup-pvc"}}
                    ],
                    "command": ["/bin/bash", "/scripts/backup.sh"]
                }
            }),
        ),
        (
            "private-job",
            json!({
                "metadata": {"name": "private-job"},
                "spec": {
                    "namespace": {"value": "jobs"}, "create_namespace": true,
                    "image": {"repo": "private.registry.com/myapp/worker", "tag": "v1.0.0", "pull_secret_name": "org-registry"},
                    "resources": {"limits": {"cpu": "1000m", "memory": "1Gi"}, "requests": {"cpu": "250m", "memory": "256Mi"}},
                    "command": ["/app/run-job"]
                },
                "docker_config_json": "{\"auths\":{\"private.registry.com\":{\"auth\":\"dXNlcm5hbWU6cGFzc3dvcmQ=\"}}}"
            }),
        ),
        (
            "volumes-every-source",
            json!({
                "metadata": {"name": "volumes"},
                "spec": {
                    "namespace": {"value": "vols"},
                    "image": {"repo": "busybox", "tag": ""},
                    "volume_mounts": [
                        {"name": "cm-all", "mount_path": "/cm", "config_map": {"name": "shared-config"}},
                        {"name": "secret-one", "mount_path": "/s", "read_only": true, "sub_path": "token",
                         "secret": {"name": "tls", "key": "tls.key", "default_mode": 256}},
                        {"name": "host", "mount_path": "/host", "host_path": {"path": "/var/log", "type": "Directory"}},
                        {"name": "scratch", "mount_path": "/scratch", "empty_dir": {"medium": "Memory", "size_limit": "64Mi"}},
                        {"name": "data", "mount_path": "/data", "pvc": {"claim_name": "data", "read_only": true}}
                    ]
                }
            }),
        ),
    ]
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/render")
        .join(format!("{name}.json"))
}

/// The planned state of a configuration: the plan pipeline's defaults.
async fn planned(config: &serde_json::Value) -> crate::tf::Value {
    let config = testing::config(config).unwrap();
    let resp = plan_resource_change(
        &KubernetesJobResource::new(),
        PlanInput {
            prior_state: crate::tf::Value::Null,
            proposed_new_state: config.clone(),
            config,
            prior_private: Vec::new(),
            capabilities: ClientCapabilities::default(),
        },
    )
    .await;
    assert!(!resp.diagnostics.has_error(), "{:?}", resp.diagnostics);
    resp.planned_state
}

/// Each example renders to exactly its fixture.
#[tokio::test]
async fn examples_render_to_their_fixtures() {
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    let mut mismatched = Vec::new();
    for (name, config) in examples() {
        let validation =
            crate::kubernetes_job::validate::validate(&testing::config(&config).unwrap());
        assert!(
            !validation.has_error(),
            "{name} is not valid: {validation:?}"
        );
        let plan = planned(&config).await;
        let model = KubernetesJob::from_value(&plan).unwrap();
        let rendered = render(&model, &Options::from_value(&plan)).unwrap();
        let objects: Vec<serde_json::Value> =
            rendered.objects().iter().map(Object::to_json).collect();
        let text = serde_json::to_string_pretty(&objects).unwrap() + "\n";
        let path = fixture_path(name);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_FIXTURES=1 writes it)", path.display()));
        if want != text {
            mismatched.push(format!("{name}:\n{text}"));
        }
    }
    assert!(
        mismatched.is_empty(),
        "rendering differs from tests/fixtures/render (UPDATE_FIXTURES=1 rewrites; review the diff):\n{}",
        mismatched.join("\n")
    );
}

/// The rules the fixtures show, stated once more where they matter most:
/// names, env order, secret references, container name, image reference.
#[tokio::test]
async fn planton_conventions() {
    let (_, config) = examples().into_iter().next().unwrap();
    let plan = planned(&config).await;
    let r = render(
        &KubernetesJob::from_value(&plan).unwrap(),
        &Options::from_value(&plan),
    )
    .unwrap();
    let refs: Vec<String> = r.refs().iter().map(ToString::to_string).collect();
    assert_eq!(
        refs,
        [
            "Namespace test-jobs",
            "ServiceAccount test-jobs/test-batch-job",
            "Secret test-jobs/test-batch-job-env-secrets",
            "Job test-jobs/test-batch-job"
        ]
    );
    let pod = r.job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let c = &pod.containers[0];
    assert_eq!(c.name, "job-container");
    assert_eq!(c.image.as_deref(), Some("busybox:latest"));
    let env: Vec<&str> = c
        .env
        .as_ref()
        .unwrap()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(
        env,
        [
            "HOSTNAME",
            "K8S_POD_ID",
            "BATCH_SIZE",
            "LOG_LEVEL",
            "API_KEY"
        ]
    );
    let api_key = &c.env.as_ref().unwrap()[4];
    let selector = api_key
        .value_from
        .as_ref()
        .unwrap()
        .secret_key_ref
        .as_ref()
        .unwrap();
    assert_eq!(
        (selector.name.as_str(), selector.key.as_str()),
        ("test-batch-job-env-secrets", "API_KEY")
    );
    assert_eq!(pod.service_account_name.as_deref(), Some("test-batch-job"));
    assert_eq!(image_reference("busybox", ""), "busybox");
}

/// 422 causes map back to the attributes they came from.
#[tokio::test]
async fn api_fields_map_to_attributes() {
    let (_, config) = examples()
        .into_iter()
        .find(|(n, _)| *n == "e7-database-backup")
        .unwrap();
    let plan = planned(&config).await;
    let r = render(
        &KubernetesJob::from_value(&plan).unwrap(),
        &Options::from_value(&plan),
    )
    .unwrap();
    let job = crate::kube::ObjectRef::of::<k8s_openapi::api::batch::v1::Job>(
        "backups",
        "database-backup",
    );
    let at = |field: &str| r.attribute_for(&job, field).map(|p| p.to_string());
    assert_eq!(
        at("spec.template.spec.containers[0].image").as_deref(),
        Some("spec.image.repo")
    );
    assert_eq!(
        at("spec.template.spec.containers[0].env[3].value").as_deref(),
        Some("spec.env.variables[\"PGHOST\"]")
    );
    assert_eq!(
        at("spec.template.spec.containers[0].env[5].valueFrom").as_deref(),
        Some("spec.env.secrets[\"PGUSER\"]")
    );
    assert_eq!(
        at("spec.template.spec.containers[0].volumeMounts[1].mountPath").as_deref(),
        Some("spec.volume_mounts[1].mount_path")
    );
    assert_eq!(
        at("spec.template.spec.volumes[0].configMap.defaultMode").as_deref(),
        Some("spec.volume_mounts[0]")
    );
    assert_eq!(
        at("spec.template.spec.containers[0].resources.limits[cpu]").as_deref(),
        Some("spec.resources.limits.cpu")
    );
    assert_eq!(
        at("spec.backoffLimit").as_deref(),
        Some("spec.backoff_limit")
    );
    let cm = crate::kube::ObjectRef::of::<k8s_openapi::api::core::v1::ConfigMap>(
        "backups",
        "backup-script",
    );
    assert_eq!(
        r.attribute_for(&cm, "data")
            .map(|p| p.to_string())
            .as_deref(),
        Some("spec.config_maps[\"backup-script\"]")
    );
}

/// `Debug` of everything that holds a job's secrets (the model, the
/// options, the rendered objects) shows that they are set, never what they
/// are: a debug log must not carry them.
#[tokio::test]
async fn debug_output_never_shows_secret_values() {
    let (_, mut config) = examples().into_iter().next().unwrap();
    config["docker_config_json"] =
        json!("{\"auths\":{\"r.example\":{\"auth\":\"cmVnLXNlY3JldA==\"}}}");
    let plan = planned(&config).await;
    let model = KubernetesJob::from_value(&plan).unwrap();
    let options = Options::from_value(&plan);
    let rendered = render(&model, &options).unwrap();
    let shown = format!(
        "{model:?} {options:?} {rendered:?} {:?}",
        rendered.objects()
    );
    assert!(shown.contains("<redacted>"), "{shown}");
    for secret in [
        "test-api-key-value",
        "cmVnLXNlY3JldA==",
        "dGVzdC1hcGkta2V5LXZhbHVl",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}
