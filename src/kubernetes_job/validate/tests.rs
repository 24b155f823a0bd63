//! Unit tests of [`super::validate`]: a table of named cases, each a valid
//! base configuration with one change and the exact (summary, path) pairs it
//! must produce; and the unknown-value cases. Planton's own spec test cases
//! are in [`super::planton_tests`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value as J, json};

use super::*;
use crate::kubernetes_job::testing::{self, UNKNOWN};
use crate::tf::Severity;

/// A configuration that passes every rule; cases change one thing in it.
fn base() -> J {
    json!({
        "metadata": {"name": "nightly-report", "org": "acme", "env": "production"},
        "spec": {
            "namespace": {"value": "batch"},
            "image": {"repo": "ghcr.io/acme/report", "tag": "1.4.2"},
            "resources": {
                "limits": {"cpu": "1", "memory": "1Gi"},
                "requests": {"cpu": "250m", "memory": "256Mi"}
            },
            "env": {
                "variables": {
                    "LOG_LEVEL": {"value": "info"},
                    "REGION": {"value": "eu-west-1"}
                },
                "secrets": {
                    "API_KEY": {"secret_ref": {"name": "report-credentials", "key": "api-key"}},
                    "DB_PASSWORD": {"value": "hunter2"}
                }
            },
            "backoff_limit": 2,
            "command": ["/app/report"],
            "args": ["--since", "24h"],
            "config_maps": {"report-config": "format: pdf\n"},
            "volume_mounts": [
                {
                    "name": "config",
                    "mount_path": "/etc/report/config.yaml",
                    "config_map": {
                        "name": "report-config",
                        "key": "report-config",
                        "path": "config.yaml",
                        "default_mode": 420
                    }
                },
                {"name": "scratch", "mount_path": "/scratch", "empty_dir": {"size_limit": "1Gi"}},
                {"name": "output", "mount_path": "/output", "pvc": {"claim_name": "report-output"}}
            ]
        }
    })
}

/// The (summary, path) pairs `validate` reports, sorted; every one must be
/// an error with a path and a detail.
pub(crate) fn errors_of(config: &crate::tf::Value) -> Vec<(String, String)> {
    let diags = validate(config);
    let mut out: Vec<(String, String)> = diags
        .iter()
        .map(|d| {
            assert_eq!(d.severity, Severity::Error, "{d:?}");
            assert!(d.detail.len() > 40, "detail too short: {d:?}");
            let path = d.path.as_ref().expect("every diagnostic has a path");
            (d.summary.clone(), path.to_string())
        })
        .collect();
    out.sort();
    out
}

pub(super) fn errors(config: &J) -> Vec<(String, String)> {
    let value = testing::config(config).unwrap_or_else(|e| panic!("test config: {e}"));
    errors_of(&value)
}

pub(super) fn spec(c: &mut J) -> &mut J {
    &mut c["spec"]
}

fn remove(obj: &mut J, key: &str) {
    obj.as_object_mut().expect("an object").remove(key);
}

/// A change to a configuration.
type Edit = fn(&mut J);

/// One named case: an edit of [`base`] and exactly what it must report.
pub(crate) struct Case {
    pub name: &'static str,
    edit: Edit,
    pub expect: &'static [(&'static str, &'static str)],
}

const fn case(
    name: &'static str,
    edit: Edit,
    expect: &'static [(&'static str, &'static str)],
) -> Case {
    Case { name, edit, expect }
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        case("base config is valid", |_| {}, &[]),
        // metadata.name
        case(
            "job name with uppercase",
            |c| c["metadata"]["name"] = json!("Nightly-Report"),
            &[("Invalid Job Name", "metadata.name")],
        ),
        case(
            "job name of 64 characters",
            |c| c["metadata"]["name"] = json!("a".repeat(64)),
            &[("Invalid Job Name", "metadata.name")],
        ),
        case(
            "job name of 63 characters",
            |c| c["metadata"]["name"] = json!("a".repeat(63)),
            &[],
        ),
        case(
            "job name with a dot",
            |c| c["metadata"]["name"] = json!("nightly.report"),
            &[("Invalid Job Name", "metadata.name")],
        ),
        case(
            "job name ending with a dash",
            |c| c["metadata"]["name"] = json!("nightly-"),
            &[("Invalid Job Name", "metadata.name")],
        ),
        case(
            "empty job name",
            |c| c["metadata"]["name"] = json!(""),
            &[("Invalid Job Name", "metadata.name")],
        ),
        // namespace
        case(
            "namespace without value",
            |c| spec(c)["namespace"] = json!({}),
            &[("Missing Namespace", "spec.namespace.value")],
        ),
        case(
            "empty namespace value",
            |c| spec(c)["namespace"]["value"] = json!(""),
            &[("Missing Namespace", "spec.namespace.value")],
        ),
        case(
            "namespace not a DNS label",
            |c| spec(c)["namespace"]["value"] = json!("Batch_Jobs"),
            &[("Invalid Namespace", "spec.namespace.value")],
        ),
        case(
            "namespace from a Planton reference",
            |c| {
                spec(c)["namespace"] =
                    json!({"value_from": {"kind": "KubernetesNamespace", "name": "shared"}})
            },
            &[("Unresolvable Value Reference", "spec.namespace.value_from")],
        ),
        case(
            "namespace reference with an empty name",
            |c| spec(c)["namespace"] = json!({"value_from": {"name": ""}}),
            &[("Missing Reference Name", "spec.namespace.value_from.name")],
        ),
        case(
            "namespace reference without a name",
            |c| spec(c)["namespace"] = json!({"value_from": {"kind": "KubernetesNamespace"}}),
            &[("Missing Reference Name", "spec.namespace.value_from.name")],
        ),
        // enums
        case(
            "restart policy Always",
            |c| spec(c)["restart_policy"] = json!("Always"),
            &[("Invalid Restart Policy", "spec.restart_policy")],
        ),
        case(
            "restart policy in lowercase",
            |c| spec(c)["restart_policy"] = json!("never"),
            &[("Invalid Restart Policy", "spec.restart_policy")],
        ),
        case(
            "empty restart policy",
            |c| spec(c)["restart_policy"] = json!(""),
            &[("Invalid Restart Policy", "spec.restart_policy")],
        ),
        case(
            "restart policy OnFailure",
            |c| spec(c)["restart_policy"] = json!("OnFailure"),
            &[],
        ),
        case(
            "completion mode in lowercase",
            |c| spec(c)["completion_mode"] = json!("indexed"),
            &[("Invalid Completion Mode", "spec.completion_mode")],
        ),
        // counts
        case(
            // Planton's default, 1, is planned for the missing value.
            "indexed without completions",
            |c| spec(c)["completion_mode"] = json!("Indexed"),
            &[],
        ),
        case(
            "indexed with zero completions",
            |c| {
                spec(c)["completion_mode"] = json!("Indexed");
                spec(c)["completions"] = json!(0);
            },
            &[("Missing Completions", "spec.completions")],
        ),
        case(
            "zero means unset for the Job's counts and durations",
            |c| {
                spec(c)["parallelism"] = json!(0);
                spec(c)["completions"] = json!(0);
                spec(c)["backoff_limit"] = json!(0);
                spec(c)["active_deadline_seconds"] = json!(0);
                spec(c)["ttl_seconds_after_finished"] = json!(0);
            },
            &[],
        ),
        case(
            "indexed with completions",
            |c| {
                spec(c)["completion_mode"] = json!("Indexed");
                spec(c)["completions"] = json!(10);
                spec(c)["parallelism"] = json!(5);
            },
            &[],
        ),
        case(
            "indexed with too many completions",
            |c| {
                spec(c)["completion_mode"] = json!("Indexed");
                spec(c)["completions"] = json!(100_001);
            },
            &[("Invalid Completions", "spec.completions")],
        ),
        case(
            "indexed with too much parallelism",
            |c| {
                spec(c)["completion_mode"] = json!("Indexed");
                spec(c)["completions"] = json!(100_000);
                spec(c)["parallelism"] = json!(100_001);
            },
            &[("Invalid Parallelism", "spec.parallelism")],
        ),
        case(
            "non-indexed may have many completions",
            |c| spec(c)["completions"] = json!(100_001),
            &[],
        ),
        case(
            "negative parallelism",
            |c| spec(c)["parallelism"] = json!(-1),
            &[("Invalid Parallelism", "spec.parallelism")],
        ),
        case(
            "fractional completions",
            |c| spec(c)["completions"] = json!(1.5),
            &[("Invalid Completions", "spec.completions")],
        ),
        case(
            "backoff limit beyond int32",
            |c| spec(c)["backoff_limit"] = json!(2_147_483_648_i64),
            &[("Invalid Backoff Limit", "spec.backoff_limit")],
        ),
        case(
            "backoff limit zero",
            |c| spec(c)["backoff_limit"] = json!(0),
            &[],
        ),
        case(
            "negative ttl",
            |c| spec(c)["ttl_seconds_after_finished"] = json!(-5),
            &[(
                "Invalid TTL After Finished",
                "spec.ttl_seconds_after_finished",
            )],
        ),
        case(
            "ttl zero deletes at once",
            |c| spec(c)["ttl_seconds_after_finished"] = json!(0),
            &[],
        ),
        case(
            "active deadline negative",
            |c| spec(c)["active_deadline_seconds"] = json!(-1),
            &[("Invalid Active Deadline", "spec.active_deadline_seconds")],
        ),
        case(
            "active deadline beyond int64",
            |c| spec(c)["active_deadline_seconds"] = json!(9_223_372_036_854_775_808_u64),
            &[("Invalid Active Deadline", "spec.active_deadline_seconds")],
        ),
        // target cluster
        // Issue 4: Terraform needs only the name (Planton requires the kind).
        case(
            "target cluster without kind",
            |c| spec(c)["target_cluster"] = json!({"cluster_name": "prod"}),
            &[],
        ),
        case(
            "empty cluster kind",
            |c| spec(c)["target_cluster"] = json!({"cluster_kind": "", "cluster_name": "prod"}),
            &[("Invalid Cluster Kind", "spec.target_cluster.cluster_kind")],
        ),
        case(
            "empty cluster name",
            |c| spec(c)["target_cluster"] = json!({"cluster_name": " "}),
            &[("Invalid Cluster Name", "spec.target_cluster.cluster_name")],
        ),
        case(
            "cluster kind in lowercase",
            |c| spec(c)["target_cluster"] = json!({"cluster_kind": "gcpgkecluster"}),
            &[("Invalid Cluster Kind", "spec.target_cluster.cluster_kind")],
        ),
        case(
            "target cluster with kind",
            |c| {
                spec(c)["target_cluster"] =
                    json!({"cluster_kind": "CivoKubernetesCluster", "cluster_name": "prod"})
            },
            &[],
        ),
        // image
        case(
            "empty image repository",
            |c| spec(c)["image"]["repo"] = json!(""),
            &[("Missing Image Repository", "spec.image.repo")],
        ),
        case(
            "image repository with a space",
            |c| spec(c)["image"]["repo"] = json!("acme/nightly report"),
            &[("Invalid Image Repository", "spec.image.repo")],
        ),
        case(
            "image repository path in uppercase",
            |c| spec(c)["image"]["repo"] = json!("Acme/Report"),
            &[("Invalid Image Repository", "spec.image.repo")],
        ),
        case(
            "registry host may use uppercase",
            |c| spec(c)["image"]["repo"] = json!("Registry.Example.com:5000/acme/report"),
            &[],
        ),
        case(
            "image tag with a space",
            |c| spec(c)["image"]["tag"] = json!("v1 beta"),
            &[("Invalid Image Tag", "spec.image.tag")],
        ),
        case(
            "image tag starting with a dash",
            |c| spec(c)["image"]["tag"] = json!("-rc1"),
            &[("Invalid Image Tag", "spec.image.tag")],
        ),
        case(
            "tag on a repository that has one",
            |c| spec(c)["image"]["repo"] = json!("busybox:1.36"),
            &[("Conflicting Image Tag", "spec.image.tag")],
        ),
        case(
            "registry port is not a tag",
            |c| spec(c)["image"]["repo"] = json!("registry:5000/busybox"),
            &[],
        ),
        case(
            "digest without tag",
            |c| spec(c)["image"] = json!({"repo": "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}),
            &[],
        ),
        // resources
        case(
            "cpu limit not a quantity",
            |c| spec(c)["resources"]["limits"]["cpu"] = json!("1 core"),
            &[("Invalid Quantity", "spec.resources.limits.cpu")],
        ),
        case(
            "empty cpu limit",
            |c| spec(c)["resources"]["limits"]["cpu"] = json!(""),
            &[("Invalid Quantity", "spec.resources.limits.cpu")],
        ),
        case(
            "memory with a wrong suffix",
            |c| spec(c)["resources"]["limits"]["memory"] = json!("1GB"),
            &[("Invalid Quantity", "spec.resources.limits.memory")],
        ),
        case(
            "negative memory request",
            |c| spec(c)["resources"]["requests"]["memory"] = json!("-100Mi"),
            &[("Negative Quantity", "spec.resources.requests.memory")],
        ),
        case(
            "cpu request above limit",
            |c| spec(c)["resources"]["requests"]["cpu"] = json!("2"),
            &[("Request Exceeds Limit", "spec.resources.requests.cpu")],
        ),
        case(
            "both requests above limits",
            |c| {
                spec(c)["resources"]["requests"] = json!({"cpu": "1500m", "memory": "2Gi"});
            },
            &[
                ("Request Exceeds Limit", "spec.resources.requests.cpu"),
                ("Request Exceeds Limit", "spec.resources.requests.memory"),
            ],
        ),
        case(
            "request equal to limit in other units",
            |c| spec(c)["resources"]["requests"] = json!({"cpu": "1000m", "memory": "1024Mi"}),
            &[],
        ),
        case(
            "limits only",
            |c| remove(&mut spec(c)["resources"], "requests"),
            &[],
        ),
        // env names
        case(
            "variable name starting with a digit",
            |c| spec(c)["env"]["variables"]["1ST_RUN"] = json!({"value": "yes"}),
            &[(
                "Invalid Environment Variable Name",
                "spec.env.variables[\"1ST_RUN\"]",
            )],
        ),
        case(
            "secret name with a space",
            |c| spec(c)["env"]["secrets"]["API TOKEN"] = json!({"value": "x"}),
            &[(
                "Invalid Environment Variable Name",
                "spec.env.secrets[\"API TOKEN\"]",
            )],
        ),
        case(
            "variable name starting with two dots",
            |c| spec(c)["env"]["variables"]["..CONFIG"] = json!({"value": "x"}),
            &[(
                "Invalid Environment Variable Name",
                "spec.env.variables[\"..CONFIG\"]",
            )],
        ),
        case(
            "variable name with dots and dashes",
            |c| spec(c)["env"]["variables"]["my.env-name"] = json!({"value": "x"}),
            &[],
        ),
        case(
            "variable named HOSTNAME",
            |c| spec(c)["env"]["variables"]["HOSTNAME"] = json!({"value": "x"}),
            &[(
                "Duplicate Environment Variable",
                "spec.env.variables[\"HOSTNAME\"]",
            )],
        ),
        case(
            "secret named K8S_POD_ID",
            |c| spec(c)["env"]["secrets"]["K8S_POD_ID"] = json!({"value": "x"}),
            &[(
                "Duplicate Environment Variable",
                "spec.env.secrets[\"K8S_POD_ID\"]",
            )],
        ),
        case(
            "same name as variable and secret",
            |c| spec(c)["env"]["secrets"]["LOG_LEVEL"] = json!({"value": "debug"}),
            &[(
                "Duplicate Environment Variable",
                "spec.env.secrets[\"LOG_LEVEL\"]",
            )],
        ),
        // variables
        case(
            "variable from a Planton reference",
            |c| {
                spec(c)["env"]["variables"]["DB_HOST"] = json!({"value_from": {
                    "kind": "KubernetesPostgres", "name": "main-db", "field_path": "status.outputs.host"
                }})
            },
            &[(
                "Unresolvable Value Reference",
                "spec.env.variables[\"DB_HOST\"].value_from",
            )],
        ),
        case(
            "variable reference with an empty name",
            |c| spec(c)["env"]["variables"]["DB_HOST"] = json!({"value_from": {"name": ""}}),
            &[(
                "Missing Reference Name",
                "spec.env.variables[\"DB_HOST\"].value_from.name",
            )],
        ),
        case(
            "variable with value and reference",
            |c| {
                spec(c)["env"]["variables"]["DB_HOST"] =
                    json!({"value": "db", "value_from": {"name": "main-db"}})
            },
            &[(
                "Unresolvable Value Reference",
                "spec.env.variables[\"DB_HOST\"].value_from",
            )],
        ),
        case(
            "variable without value",
            |c| spec(c)["env"]["variables"]["EMPTY"] = json!({}),
            &[("Missing Variable Value", "spec.env.variables[\"EMPTY\"]")],
        ),
        case(
            "variable with an empty value",
            |c| spec(c)["env"]["variables"]["EMPTY"] = json!({"value": ""}),
            &[],
        ),
        // secrets
        case(
            "secret without value",
            |c| spec(c)["env"]["secrets"]["API_KEY"] = json!({}),
            &[("Missing Secret Value", "spec.env.secrets[\"API_KEY\"]")],
        ),
        case(
            "secret with value and reference",
            |c| spec(c)["env"]["secrets"]["API_KEY"]["value"] = json!("s3cr3t"),
            &[("Conflicting Secret Value", "spec.env.secrets[\"API_KEY\"]")],
        ),
        case(
            "secret reference with an empty name",
            |c| spec(c)["env"]["secrets"]["API_KEY"]["secret_ref"]["name"] = json!(""),
            &[(
                "Missing Secret Name",
                "spec.env.secrets[\"API_KEY\"].secret_ref.name",
            )],
        ),
        case(
            "secret reference with an empty key",
            |c| spec(c)["env"]["secrets"]["API_KEY"]["secret_ref"]["key"] = json!(""),
            &[(
                "Missing Secret Key",
                "spec.env.secrets[\"API_KEY\"].secret_ref.key",
            )],
        ),
        case(
            "secret reference with neither name nor key",
            |c| spec(c)["env"]["secrets"]["API_KEY"]["secret_ref"] = json!({}),
            &[
                (
                    "Missing Secret Key",
                    "spec.env.secrets[\"API_KEY\"].secret_ref.key",
                ),
                (
                    "Missing Secret Name",
                    "spec.env.secrets[\"API_KEY\"].secret_ref.name",
                ),
            ],
        ),
        case(
            "secret reference to an invalid Secret name",
            |c| {
                spec(c)["env"]["secrets"]["API_KEY"]["secret_ref"]["name"] =
                    json!("Report_Credentials")
            },
            &[(
                "Invalid Secret Name",
                "spec.env.secrets[\"API_KEY\"].secret_ref.name",
            )],
        ),
        case(
            "secret reference to an invalid key",
            |c| spec(c)["env"]["secrets"]["API_KEY"]["secret_ref"]["key"] = json!("api key"),
            &[(
                "Invalid Secret Key",
                "spec.env.secrets[\"API_KEY\"].secret_ref.key",
            )],
        ),
        case(
            "secret reference to another namespace",
            |c| spec(c)["env"]["secrets"]["API_KEY"]["secret_ref"]["namespace"] = json!("shared"),
            &[(
                "Cross-Namespace Secret Reference",
                "spec.env.secrets[\"API_KEY\"].secret_ref.namespace",
            )],
        ),
        case(
            "secret reference to the job's namespace",
            |c| spec(c)["env"]["secrets"]["API_KEY"]["secret_ref"]["namespace"] = json!("batch"),
            &[],
        ),
        // config maps
        case(
            "config map name with uppercase",
            |c| spec(c)["config_maps"]["Report_Config"] = json!("x"),
            &[(
                "Invalid ConfigMap Name",
                "spec.config_maps[\"Report_Config\"]",
            )],
        ),
        case(
            "config map name with dots",
            |c| spec(c)["config_maps"]["report.config.v2"] = json!("x"),
            &[],
        ),
        case(
            "config map over 1 MiB",
            |c| spec(c)["config_maps"]["big"] = json!("x".repeat(MAX_CONFIG_MAP_BYTES)),
            &[("ConfigMap Too Large", "spec.config_maps[\"big\"]")],
        ),
        case(
            "config map with null content",
            |c| spec(c)["config_maps"]["empty"] = J::Null,
            &[("Missing ConfigMap Data", "spec.config_maps[\"empty\"]")],
        ),
        // volume mounts
        case(
            "volume mount without source",
            |c| remove(&mut spec(c)["volume_mounts"][1], "empty_dir"),
            &[("Missing Volume Source", "spec.volume_mounts[1]")],
        ),
        case(
            "volume mount with two sources",
            |c| spec(c)["volume_mounts"][1]["host_path"] = json!({"path": "/tmp"}),
            &[("Conflicting Volume Sources", "spec.volume_mounts[1]")],
        ),
        case(
            "volume name with uppercase",
            |c| spec(c)["volume_mounts"][1]["name"] = json!("Scratch"),
            &[("Invalid Volume Name", "spec.volume_mounts[1].name")],
        ),
        case(
            "empty volume name",
            |c| spec(c)["volume_mounts"][1]["name"] = json!(""),
            &[("Missing Volume Name", "spec.volume_mounts[1].name")],
        ),
        case(
            "duplicate volume name",
            |c| spec(c)["volume_mounts"][2]["name"] = json!("scratch"),
            &[("Duplicate Volume Name", "spec.volume_mounts[2].name")],
        ),
        case(
            "relative mount path",
            |c| spec(c)["volume_mounts"][1]["mount_path"] = json!("scratch"),
            &[("Invalid Mount Path", "spec.volume_mounts[1].mount_path")],
        ),
        case(
            "empty mount path",
            |c| spec(c)["volume_mounts"][2]["mount_path"] = json!(""),
            &[("Missing Mount Path", "spec.volume_mounts[2].mount_path")],
        ),
        case(
            "duplicate mount path",
            |c| spec(c)["volume_mounts"][2]["mount_path"] = json!("/scratch"),
            &[("Duplicate Mount Path", "spec.volume_mounts[2].mount_path")],
        ),
        case(
            "sub path climbing out",
            |c| spec(c)["volume_mounts"][2]["sub_path"] = json!("reports/../../etc"),
            &[("Invalid Sub Path", "spec.volume_mounts[2].sub_path")],
        ),
        case(
            "absolute sub path",
            |c| spec(c)["volume_mounts"][2]["sub_path"] = json!("/etc"),
            &[("Invalid Sub Path", "spec.volume_mounts[2].sub_path")],
        ),
        case(
            "relative sub path",
            |c| spec(c)["volume_mounts"][2]["sub_path"] = json!("reports/today"),
            &[],
        ),
        case(
            "absolute item path",
            |c| spec(c)["volume_mounts"][0]["config_map"]["path"] = json!("/etc/config.yaml"),
            &[(
                "Invalid Volume Item Path",
                "spec.volume_mounts[0].config_map.path",
            )],
        ),
        case(
            "item path starting with two dots",
            |c| spec(c)["volume_mounts"][0]["config_map"]["path"] = json!("..data"),
            &[(
                "Invalid Volume Item Path",
                "spec.volume_mounts[0].config_map.path",
            )],
        ),
        case(
            "item path without key",
            |c| remove(&mut spec(c)["volume_mounts"][0]["config_map"], "key"),
            &[("Path Without Key", "spec.volume_mounts[0].config_map.path")],
        ),
        case(
            "default mode above 0777",
            |c| spec(c)["volume_mounts"][0]["config_map"]["default_mode"] = json!(512),
            &[(
                "Invalid Default Mode",
                "spec.volume_mounts[0].config_map.default_mode",
            )],
        ),
        case(
            "default mode 0777",
            |c| spec(c)["volume_mounts"][0]["config_map"]["default_mode"] = json!(511),
            &[],
        ),
        case(
            "fractional default mode",
            |c| spec(c)["volume_mounts"][0]["config_map"]["default_mode"] = json!(420.5),
            &[(
                "Invalid Default Mode",
                "spec.volume_mounts[0].config_map.default_mode",
            )],
        ),
        case(
            "empty config map volume name",
            |c| spec(c)["volume_mounts"][0]["config_map"]["name"] = json!(""),
            &[(
                "Missing ConfigMap Name",
                "spec.volume_mounts[0].config_map.name",
            )],
        ),
        case(
            "secret volume with an empty name",
            |c| {
                spec(c)["volume_mounts"][1] =
                    json!({"name": "tls", "mount_path": "/tls", "secret": {"name": ""}})
            },
            &[("Missing Secret Name", "spec.volume_mounts[1].secret.name")],
        ),
        case(
            "secret volume with a negative mode",
            |c| {
                spec(c)["volume_mounts"][1] = json!({"name": "tls", "mount_path": "/tls",
                    "secret": {"name": "tls", "default_mode": -1}})
            },
            &[(
                "Invalid Default Mode",
                "spec.volume_mounts[1].secret.default_mode",
            )],
        ),
        case(
            "empty host path",
            |c| {
                spec(c)["volume_mounts"][1] =
                    json!({"name": "logs", "mount_path": "/logs", "host_path": {"path": ""}})
            },
            &[("Missing Host Path", "spec.volume_mounts[1].host_path.path")],
        ),
        case(
            "host path with dot dot",
            |c| spec(c)["volume_mounts"][1] = json!({"name": "logs", "mount_path": "/logs", "host_path": {"path": "/var/../etc"}}),
            &[("Invalid Host Path", "spec.volume_mounts[1].host_path.path")],
        ),
        case(
            "host path type in lowercase",
            |c| {
                spec(c)["volume_mounts"][1] = json!({"name": "logs", "mount_path": "/logs",
                    "host_path": {"path": "/var/log", "type": "directory"}})
            },
            &[(
                "Invalid Host Path Type",
                "spec.volume_mounts[1].host_path.type",
            )],
        ),
        case(
            "host path with empty type",
            |c| {
                spec(c)["volume_mounts"][1] = json!({"name": "logs", "mount_path": "/logs",
                    "host_path": {"path": "/var/log", "type": ""}})
            },
            &[],
        ),
        case(
            "empty dir medium in lowercase",
            |c| spec(c)["volume_mounts"][1]["empty_dir"]["medium"] = json!("memory"),
            &[(
                "Invalid Storage Medium",
                "spec.volume_mounts[1].empty_dir.medium",
            )],
        ),
        case(
            "empty dir in memory",
            |c| spec(c)["volume_mounts"][1]["empty_dir"]["medium"] = json!("Memory"),
            &[],
        ),
        case(
            "empty dir size limit with a wrong suffix",
            |c| spec(c)["volume_mounts"][1]["empty_dir"]["size_limit"] = json!("1 GB"),
            &[(
                "Invalid Quantity",
                "spec.volume_mounts[1].empty_dir.size_limit",
            )],
        ),
        case(
            "negative empty dir size limit",
            |c| spec(c)["volume_mounts"][1]["empty_dir"]["size_limit"] = json!("-1Gi"),
            &[(
                "Negative Quantity",
                "spec.volume_mounts[1].empty_dir.size_limit",
            )],
        ),
        case(
            "empty size limit means none",
            |c| spec(c)["volume_mounts"][1]["empty_dir"]["size_limit"] = json!(""),
            &[],
        ),
        case(
            "empty claim name",
            |c| spec(c)["volume_mounts"][2]["pvc"]["claim_name"] = json!(""),
            &[("Missing Claim Name", "spec.volume_mounts[2].pvc.claim_name")],
        ),
        // relationships
        case(
            "relationship of an unknown type",
            |c| {
                c["metadata"]["relationships"] =
                    json!([{"kind": "KubernetesNamespace", "name": "batch", "type": "requires"}])
            },
            &[(
                "Invalid Relationship Type",
                "metadata.relationships[0].type",
            )],
        ),
        case(
            "relationship of an unknown kind",
            |c| {
                c["metadata"]["relationships"] =
                    json!([{"kind": "KubernetesPostgresql", "name": "orders", "type": "uses"}])
            },
            &[("Unknown Planton Kind", "metadata.relationships[0].kind")],
        ),
        case(
            "relationship kind in the wrong case",
            |c| {
                c["metadata"]["relationships"] =
                    json!([{"kind": "kubernetesNamespace", "name": "batch", "type": "runs_on"}])
            },
            &[("Unknown Planton Kind", "metadata.relationships[0].kind")],
        ),
        case(
            "value_from of an unknown kind",
            |c| {
                spec(c)["env"]["variables"]["DB_HOST"] =
                    json!({"value_from": {"kind": "Postgres", "name": "orders"}})
            },
            &[
                (
                    "Unknown Planton Kind",
                    "spec.env.variables[\"DB_HOST\"].value_from.kind",
                ),
                (
                    "Unresolvable Value Reference",
                    "spec.env.variables[\"DB_HOST\"].value_from",
                ),
            ],
        ),
        case(
            "relationship without kind and name",
            |c| {
                c["metadata"]["relationships"] = json!([
                    {"kind": "KubernetesNamespace", "name": "batch", "type": "runs_on"},
                    {"kind": "", "name": "", "type": "depends_on"}
                ])
            },
            &[
                (
                    "Missing Relationship Kind",
                    "metadata.relationships[1].kind",
                ),
                (
                    "Missing Relationship Name",
                    "metadata.relationships[1].name",
                ),
            ],
        ),
        // lists
        case(
            "null command element",
            |c| spec(c)["command"] = json!(["/app/report", null]),
            &[("Null List Element", "spec.command[1]")],
        ),
        // several problems at once
        case(
            "every problem is reported",
            |c| {
                c["metadata"]["name"] = json!("Nightly");
                spec(c)["restart_policy"] = json!("Always");
                spec(c)["volume_mounts"][2]["mount_path"] = json!("output");
                spec(c)["env"]["secrets"]["API_KEY"]["secret_ref"]["key"] = json!("");
            },
            &[
                ("Invalid Job Name", "metadata.name"),
                ("Invalid Mount Path", "spec.volume_mounts[2].mount_path"),
                ("Invalid Restart Policy", "spec.restart_policy"),
                (
                    "Missing Secret Key",
                    "spec.env.secrets[\"API_KEY\"].secret_ref.key",
                ),
            ],
        ),
    ]
}

/// Every named case reports exactly its expected (summary, path) pairs.
#[test]
fn table() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let mut config = base();
        (case.edit)(&mut config);
        let got = errors(&config);
        let mut want: Vec<(String, String)> = case
            .expect
            .iter()
            .map(|(s, p)| (s.to_string(), p.to_string()))
            .collect();
        want.sort();
        if got != want {
            failures.push(format!("{}:\n  want {want:?}\n  got  {got:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Unknown values skip their checks and never fail them, whatever their
/// siblings say.
#[test]
fn unknown_values_skip_checks() {
    let unknown_cases: Vec<(&str, Edit)> = vec![
        ("unknown image repo", |c| {
            spec(c)["image"]["repo"] = json!(UNKNOWN)
        }),
        ("unknown namespace value", |c| {
            spec(c)["namespace"]["value"] = json!(UNKNOWN);
            // Cannot compare with a namespace not known yet.
            spec(c)["env"]["secrets"]["API_KEY"]["secret_ref"]["namespace"] = json!("shared");
        }),
        ("unknown map of variables", |c| {
            spec(c)["env"]["variables"] = json!(UNKNOWN);
            // Would duplicate a variable if the map were known to hold it.
            spec(c)["env"]["secrets"]["LOG_LEVEL"] = json!({"value": "x"});
        }),
        ("unknown single env var value", |c| {
            spec(c)["env"]["variables"]["LOG_LEVEL"]["value"] = json!(UNKNOWN)
        }),
        ("unknown variable entry", |c| {
            spec(c)["env"]["variables"]["LOG_LEVEL"] = json!(UNKNOWN)
        }),
        ("unknown secret reference", |c| {
            spec(c)["env"]["secrets"]["API_KEY"]["secret_ref"] = json!(UNKNOWN)
        }),
        ("unknown secret value beside a reference", |c| {
            spec(c)["env"]["secrets"]["API_KEY"]["value"] = json!(UNKNOWN)
        }),
        ("unknown job name", |c| {
            c["metadata"]["name"] = json!(UNKNOWN)
        }),
        ("unknown metadata", |c| c["metadata"] = json!(UNKNOWN)),
        ("unknown spec", |c| c["spec"] = json!(UNKNOWN)),
        ("unknown completions with Indexed", |c| {
            spec(c)["completion_mode"] = json!("Indexed");
            spec(c)["completions"] = json!(UNKNOWN);
        }),
        ("unknown completion mode", |c| {
            spec(c)["completion_mode"] = json!(UNKNOWN)
        }),
        ("unknown cpu limit", |c| {
            spec(c)["resources"]["limits"]["cpu"] = json!(UNKNOWN);
            spec(c)["resources"]["requests"]["cpu"] = json!("64");
        }),
        ("unknown volume mounts", |c| {
            spec(c)["volume_mounts"] = json!(UNKNOWN)
        }),
        ("unknown volume mount", |c| {
            spec(c)["volume_mounts"][1] = json!(UNKNOWN)
        }),
        ("unknown only volume source", |c| {
            spec(c)["volume_mounts"][1]["empty_dir"] = json!(UNKNOWN)
        }),
        ("unknown namespace reference", |c| {
            spec(c)["namespace"] = json!({"value_from": UNKNOWN})
        }),
        ("unknown config map content", |c| {
            spec(c)["config_maps"]["report-config"] = json!(UNKNOWN)
        }),
        ("unknown command", |c| {
            spec(c)["command"] = json!(["/app/report", UNKNOWN])
        }),
        ("unknown target cluster kind", |c| {
            spec(c)["target_cluster"] = json!({"cluster_kind": UNKNOWN})
        }),
    ];
    for (name, edit) in unknown_cases {
        let mut config = base();
        edit(&mut config);
        assert_eq!(errors(&config), Vec::<(String, String)>::new(), "{name}");
    }
}

/// A reference whose name is unknown is still a reference Terraform cannot
/// resolve: set is set.
#[test]
fn reference_with_unknown_name_is_unresolvable() {
    let mut config = base();
    spec(&mut config)["env"]["variables"]["DB_HOST"] = json!({"value_from": {"name": UNKNOWN}});
    assert_eq!(
        errors(&config),
        vec![(
            "Unresolvable Value Reference".to_string(),
            "spec.env.variables[\"DB_HOST\"].value_from".to_string()
        )]
    );
}

/// Details never quote a secret's value.
#[test]
fn details_never_show_secret_values() {
    let mut config = base();
    spec(&mut config)["env"]["secrets"]["API_KEY"]["value"] = json!("do-not-print-me");
    spec(&mut config)["env"]["secrets"]["HOSTNAME"] = json!({"value": "do-not-print-me"});
    spec(&mut config)["env"]["secrets"]["BAD NAME"] = json!({"value": "do-not-print-me"});
    let value = testing::config(&config).unwrap();
    let diags = validate(&value);
    assert_eq!(diags.0.len(), 3, "{diags:?}");
    for d in diags.iter() {
        assert!(!d.detail.contains("do-not-print-me"), "{d:?}");
    }
}

/// Details quote the bad value and say how to fix it.
#[test]
fn details_quote_the_value_and_the_fix() {
    let mut config = base();
    spec(&mut config)["restart_policy"] = json!("never");
    let value = testing::config(&config).unwrap();
    let d = &validate(&value).0[0];
    assert!(d.detail.contains("\"never\""), "{}", d.detail);
    assert!(d.detail.contains("did you mean \"Never\""), "{}", d.detail);

    let mut config = base();
    spec(&mut config)["env"]["variables"]["DB_HOST"] = json!({"value_from": {
        "kind": "KubernetesPostgres", "name": "main-db", "field_path": "status.outputs.host"
    }});
    let value = testing::config(&config).unwrap();
    let d = &validate(&value).0[0];
    assert!(
        d.detail.contains("DB_HOST = { value = var.db_host }"),
        "{}",
        d.detail
    );
    assert!(
        d.detail.contains("KubernetesPostgres \"main-db\""),
        "{}",
        d.detail
    );
}

/// A value whose shape does not match the schema is a bug diagnostic, not a
/// panic.
#[test]
fn shape_mismatch_is_a_bug_diagnostic() {
    let config = crate::tf::Value::object([(
        "spec",
        crate::tf::Value::object([("parallelism", crate::tf::Value::string("two"))]),
    )]);
    let d = validate(&config);
    assert_eq!(d.0.len(), 1);
    assert_eq!(d.0[0].summary, "Unexpected Configuration Shape");
    assert_eq!(
        d.0[0].path.as_ref().map(ToString::to_string).as_deref(),
        Some("spec.parallelism")
    );
}
