//! The field-by-field fidelity table: for each of the 53 leaves of `spec`,
//! Planton's default and rule, and a few values to try. Each value goes
//! through two pipelines:
//!
//! - **Planton**, modelled here from the research notes on Project Planton's
//!   KubernetesJob: protovalidate's rules, the CLI's proto defaults, then
//!   what the Pulumi module renders (`planton` below). It is a model of
//!   Planton written for this test, deliberately separate from the
//!   provider's code.
//! - **This provider**: validation, the plan (with its defaults), then
//!   rendering.
//!
//! Either side may refuse a value (Planton's rules, a nil dereference in the
//! Pulumi module; our validation or plan). When both render, the objects are
//! compared as JSON. Every difference found for a leaf must be listed for
//! that leaf in the table of `docs/guides/coming-from-planton.md`: a new
//! difference that nobody documented fails this test, and so does a leaf
//! missing from the table below.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use base64::Engine as _;
use serde_json::{Map, Value as J, json};

use super::KubernetesJobResource;
use super::render::render;
use super::testing;
use crate::kubernetes_job::model::options::Options;
use crate::kubernetes_job::model::ownership::Instance;
use crate::kubernetes_job::model::schema::schema;
use crate::kubernetes_job::model::spec::KubernetesJob;
use crate::tf::plan::{PlanInput, plan_resource_change};
use crate::tf::resource::ClientCapabilities;
use crate::tf::{AttributeKind, Value};

const GUIDE: &str = "docs/guides/coming-from-planton.md";
const JOB: &str = "fidelity";
const NS: &str = "batch";

/// What one pipeline made of a configuration: the objects by
/// `Kind namespace/name`, or why it refused.
type Outcome = Result<BTreeMap<String, J>, String>;

/// A configuration both sides accept as they stand.
fn base() -> J {
    json!({
        "metadata": {"name": JOB},
        "spec": {
            "namespace": {"value": NS},
            "image": {"repo": "busybox", "tag": "1.36"},
            "resources": {
                "limits": {"cpu": "500m", "memory": "256Mi"},
                "requests": {"cpu": "100m", "memory": "64Mi"}
            },
            "command": ["sh", "-c", "true"]
        }
    })
}

// ---------------------------------------------------------------------------
// The table.

/// A change to `spec`.
type Change = Rc<dyn Fn(&mut Map<String, J>)>;

/// One value to try for a leaf: a name for messages and the change it makes
/// to `spec` (the leaf's enclosing objects included).
#[derive(Clone)]
struct Probe {
    label: String,
    apply: Change,
}

/// One leaf of `spec`.
struct Leaf {
    /// The attribute path without indexes, as in the schema tree.
    path: &'static str,
    /// Planton's default (`options.default`, or the module's own).
    planton_default: &'static str,
    /// Planton's validation rule.
    planton_rule: &'static str,
    probes: Vec<Probe>,
}

/// Sets `path` (dotted, under `spec`) to `value`, creating the objects on
/// the way; `J::Null` removes the last step instead.
fn set(spec: &mut Map<String, J>, path: &str, value: &J) {
    let steps: Vec<&str> = path.split('.').collect();
    let (last, parents) = steps.split_last().unwrap();
    let mut here = spec;
    for step in parents {
        here = here
            .entry(step.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap();
    }
    if value.is_null() {
        here.remove(*last);
    } else {
        here.insert(last.to_string(), value.clone());
    }
}

/// Probes that set the leaf at `path` to each of `values` (null: unset)
/// inside `context`, which is merged into `spec` first.
fn values(context: J, path: &'static str, values: &[J]) -> Vec<Probe> {
    probes_of(context, values, move |spec, v| set(spec, path, v))
}

/// One probe per value: merge `context` into `spec`, then `put` the value.
fn probes_of(
    context: J,
    values: &[J],
    put: impl Fn(&mut Map<String, J>, &J) + Clone + 'static,
) -> Vec<Probe> {
    values
        .iter()
        .map(|v| {
            let (context, v, put) = (context.clone(), v.clone(), put.clone());
            Probe {
                label: if v.is_null() {
                    "unset".to_string()
                } else {
                    v.to_string()
                },
                apply: Rc::new(move |spec| {
                    merge(spec, &context);
                    put(spec, &v);
                }),
            }
        })
        .collect()
}

/// A probe that changes `spec` in a way of its own.
fn probe(label: &str, apply: impl Fn(&mut Map<String, J>) + 'static) -> Probe {
    Probe {
        label: label.to_string(),
        apply: Rc::new(apply),
    }
}

fn merge(spec: &mut Map<String, J>, context: &J) {
    let Some(context) = context.as_object() else {
        return;
    };
    for (k, v) in context {
        match (spec.get_mut(k), v) {
            (Some(J::Object(have)), J::Object(_)) => merge(have, v),
            _ => {
                spec.insert(k.clone(), v.clone());
            }
        }
    }
}

/// A volume mount named `data` at `/data` with `source` set to `fields`.
fn mount(source: &str, fields: J) -> J {
    let mut m = json!({"name": "data", "mount_path": "/data"});
    if !source.is_empty() {
        m[source] = fields;
    }
    json!({ "volume_mounts": [m] })
}

/// The path of a leaf inside the single mount of [`mount`].
fn in_mount(spec: &mut Map<String, J>, field: &str, value: &J) {
    let m = spec["volume_mounts"][0].as_object_mut().unwrap();
    set(m, field, value);
}

/// Probes for a leaf of the single volume mount of [`mount`].
fn mount_values(source: &'static str, fields: J, field: &'static str, vals: &[J]) -> Vec<Probe> {
    probes_of(mount(source, fields), vals, move |spec, v| {
        in_mount(spec, field, v)
    })
}

fn keyed_source_leaves(source: &'static str) -> Vec<Leaf> {
    let paths: [&'static str; 4] = match source {
        "config_map" => [
            "spec.volume_mounts.config_map.name",
            "spec.volume_mounts.config_map.key",
            "spec.volume_mounts.config_map.path",
            "spec.volume_mounts.config_map.default_mode",
        ],
        _ => [
            "spec.volume_mounts.secret.name",
            "spec.volume_mounts.secret.key",
            "spec.volume_mounts.secret.path",
            "spec.volume_mounts.secret.default_mode",
        ],
    };
    let at = |f: &str| format!("{source}.{f}");
    let field = |f: &str| -> &'static str { Box::leak(at(f).into_boxed_str()) };
    vec![
        Leaf {
            path: paths[0],
            planton_default: "none",
            planton_rule: "required, not empty",
            probes: mount_values(
                source,
                json!({"name": "settings"}),
                field("name"),
                &[json!("settings"), json!("")],
            ),
        },
        Leaf {
            path: paths[1],
            planton_default: "none (every key)",
            planton_rule: "none",
            probes: mount_values(
                source,
                json!({"name": "settings"}),
                field("key"),
                &[J::Null, json!("settings"), json!("")],
            ),
        },
        Leaf {
            path: paths[2],
            planton_default: "the key",
            planton_rule: "none",
            probes: [
                mount_values(
                    source,
                    json!({"name": "settings", "key": "settings"}),
                    field("path"),
                    &[J::Null, json!("app.yaml"), json!("")],
                ),
                mount_values(
                    source,
                    json!({"name": "settings"}),
                    field("path"),
                    &[json!("app.yaml")],
                )
                .into_iter()
                .map(|p| Probe {
                    label: "\"app.yaml\" without key".to_string(),
                    ..p
                })
                .collect(),
            ]
            .concat(),
        },
        Leaf {
            path: paths[3],
            planton_default: "none (the volume's 0644)",
            planton_rule: "none; 0 is not rendered",
            probes: mount_values(
                source,
                json!({"name": "settings"}),
                field("default_mode"),
                &[J::Null, json!(0), json!(493)],
            ),
        },
    ]
}

fn leaves() -> Vec<Leaf> {
    let mut leaves = vec![
        Leaf {
            path: "spec.target_cluster.cluster_kind",
            planton_default: "none",
            planton_rule: "one of the five cluster kinds when target_cluster is set",
            probes: values(
                json!({"target_cluster": {}}),
                "target_cluster.cluster_kind",
                &[J::Null, json!("GcpGkeCluster"), json!("KubernetesJob")],
            ),
        },
        Leaf {
            path: "spec.target_cluster.cluster_name",
            planton_default: "none",
            planton_rule: "none (not used by the modules)",
            probes: values(
                json!({"target_cluster": {"cluster_kind": "GcpGkeCluster"}}),
                "target_cluster.cluster_name",
                &[J::Null, json!("prod-cluster")],
            ),
        },
        Leaf {
            path: "spec.namespace.value",
            planton_default: "none",
            planton_rule: "namespace required (the oneof is not)",
            probes: values(json!({}), "namespace.value", &[json!("reports"), json!("")]),
        },
        Leaf {
            path: "spec.create_namespace",
            planton_default: "false",
            planton_rule: "none",
            probes: values(
                json!({}),
                "create_namespace",
                &[J::Null, json!(false), json!(true)],
            ),
        },
        Leaf {
            path: "spec.image.repo",
            planton_default: "none",
            planton_rule: "none",
            probes: values(
                json!({}),
                "image.repo",
                &[json!("ghcr.io/acme/report"), json!("")],
            ),
        },
        Leaf {
            path: "spec.image.tag",
            planton_default: "none",
            planton_rule: "none",
            probes: values(json!({}), "image.tag", &[J::Null, json!(""), json!("v2")]),
        },
        Leaf {
            path: "spec.image.pull_secret_name",
            planton_default: "none",
            planton_rule: "none (ignored by the modules)",
            probes: values(
                json!({}),
                "image.pull_secret_name",
                &[J::Null, json!("regcred")],
            ),
        },
        Leaf {
            path: "spec.env.variables.value",
            planton_default: "none",
            planton_rule: "none",
            probes: values(
                json!({}),
                "env.variables.LOG_LEVEL.value",
                &[json!("info"), json!("")],
            ),
        },
        Leaf {
            path: "spec.env.secrets.value",
            planton_default: "none",
            planton_rule: "none",
            probes: values(
                json!({}),
                "env.secrets.API_KEY.value",
                &[json!("s3cr3t"), json!("")],
            ),
        },
        Leaf {
            path: "spec.env.secrets.secret_ref.namespace",
            planton_default: "the component's namespace (ignored by the modules)",
            planton_rule: "none",
            probes: values(
                json!({"env": {"secrets": {"API_KEY": {"secret_ref": {"name": "creds", "key": "api"}}}}}),
                "env.secrets.API_KEY.secret_ref.namespace",
                &[J::Null, json!(NS), json!("other")],
            ),
        },
        Leaf {
            path: "spec.env.secrets.secret_ref.name",
            planton_default: "none",
            planton_rule: "required, not empty",
            probes: values(
                json!({"env": {"secrets": {"API_KEY": {"secret_ref": {"key": "api"}}}}}),
                "env.secrets.API_KEY.secret_ref.name",
                &[json!("creds"), json!("")],
            ),
        },
        Leaf {
            path: "spec.env.secrets.secret_ref.key",
            planton_default: "none",
            planton_rule: "required, not empty",
            probes: values(
                json!({"env": {"secrets": {"API_KEY": {"secret_ref": {"name": "creds"}}}}}),
                "env.secrets.API_KEY.secret_ref.key",
                &[json!("api"), json!("")],
            ),
        },
        Leaf {
            path: "spec.parallelism",
            planton_default: "1",
            planton_rule: "none; 0 is not rendered",
            probes: values(json!({}), "parallelism", &[J::Null, json!(0), json!(3)]),
        },
        Leaf {
            path: "spec.completions",
            planton_default: "1",
            planton_rule: "none; 0 is not rendered",
            probes: values(json!({}), "completions", &[J::Null, json!(0), json!(5)]),
        },
        Leaf {
            path: "spec.backoff_limit",
            planton_default: "6",
            planton_rule: "none; 0 is rendered (no retries)",
            probes: values(json!({}), "backoff_limit", &[J::Null, json!(0), json!(2)]),
        },
        Leaf {
            path: "spec.active_deadline_seconds",
            planton_default: "0 (no deadline)",
            planton_rule: "none; 0 is not rendered",
            probes: values(
                json!({}),
                "active_deadline_seconds",
                &[J::Null, json!(0), json!(3600)],
            ),
        },
        Leaf {
            path: "spec.ttl_seconds_after_finished",
            planton_default: "0 (no automatic cleanup)",
            planton_rule: "none; 0 is not rendered",
            probes: values(
                json!({}),
                "ttl_seconds_after_finished",
                &[J::Null, json!(0), json!(600)],
            ),
        },
        Leaf {
            path: "spec.completion_mode",
            planton_default: "NonIndexed",
            planton_rule: "NonIndexed or Indexed when set",
            probes: [
                values(
                    json!({}),
                    "completion_mode",
                    &[
                        J::Null,
                        json!("NonIndexed"),
                        json!("Indexed"),
                        json!(""),
                        json!("indexed"),
                    ],
                ),
                values(
                    json!({"completions": 4, "parallelism": 2}),
                    "completion_mode",
                    &[json!("Indexed")],
                ),
            ]
            .concat(),
        },
        Leaf {
            path: "spec.restart_policy",
            planton_default: "Never",
            planton_rule: "OnFailure or Never when set",
            probes: values(
                json!({}),
                "restart_policy",
                &[
                    J::Null,
                    json!("OnFailure"),
                    json!("Never"),
                    json!("Always"),
                    json!(""),
                ],
            ),
        },
        Leaf {
            path: "spec.command",
            planton_default: "none (the image's entrypoint)",
            planton_rule: "none",
            probes: values(json!({}), "command", &[J::Null, json!([]), json!(["run"])]),
        },
        Leaf {
            path: "spec.args",
            planton_default: "none",
            planton_rule: "none",
            probes: values(json!({}), "args", &[J::Null, json!([]), json!(["--fast"])]),
        },
        Leaf {
            path: "spec.config_maps",
            planton_default: "none",
            planton_rule: "none",
            probes: values(
                json!({}),
                "config_maps",
                &[
                    J::Null,
                    json!({}),
                    json!({"settings": "a: 1\n"}),
                    json!({"settings": ""}),
                ],
            ),
        },
        Leaf {
            path: "spec.suspend",
            planton_default: "false",
            planton_rule: "none",
            probes: values(json!({}), "suspend", &[J::Null, json!(false), json!(true)]),
        },
        Leaf {
            path: "spec.volume_mounts.name",
            planton_default: "none",
            planton_rule: "required, not empty",
            probes: [
                mount_values("empty_dir", json!({}), "name", &[json!("data"), json!("")]),
                vec![
                    probe("a mount without a source", |spec| {
                        merge(spec, &mount("", json!({})))
                    }),
                    probe("a mount with two sources", |spec| {
                        merge(spec, &mount("empty_dir", json!({})));
                        in_mount(spec, "pvc", &json!({"claim_name": "data"}));
                    }),
                ],
            ]
            .concat(),
        },
        Leaf {
            path: "spec.volume_mounts.mount_path",
            planton_default: "none",
            planton_rule: "required, not empty",
            probes: mount_values(
                "empty_dir",
                json!({}),
                "mount_path",
                &[json!("/scratch"), json!(""), json!("scratch")],
            ),
        },
        Leaf {
            path: "spec.volume_mounts.read_only",
            planton_default: "false",
            planton_rule: "none",
            probes: mount_values(
                "empty_dir",
                json!({}),
                "read_only",
                &[J::Null, json!(false), json!(true)],
            ),
        },
        Leaf {
            path: "spec.volume_mounts.sub_path",
            planton_default: "none",
            planton_rule: "none",
            probes: mount_values(
                "empty_dir",
                json!({}),
                "sub_path",
                &[J::Null, json!(""), json!("part")],
            ),
        },
        Leaf {
            path: "spec.volume_mounts.host_path.path",
            planton_default: "none",
            planton_rule: "required, not empty",
            probes: mount_values(
                "host_path",
                json!({}),
                "host_path.path",
                &[json!("/var/log"), json!("")],
            ),
        },
        Leaf {
            path: "spec.volume_mounts.host_path.type",
            planton_default: "\"\" (no check)",
            planton_rule: "\"\" or one of the seven hostPath types",
            probes: mount_values(
                "host_path",
                json!({"path": "/var/log"}),
                "host_path.type",
                &[J::Null, json!(""), json!("Directory"), json!("Folder")],
            ),
        },
        Leaf {
            path: "spec.volume_mounts.empty_dir.medium",
            planton_default: "\"\" (the node's disk)",
            planton_rule: "\"\" or Memory",
            probes: mount_values(
                "empty_dir",
                json!({}),
                "empty_dir.medium",
                &[J::Null, json!(""), json!("Memory"), json!("Disk")],
            ),
        },
        Leaf {
            path: "spec.volume_mounts.empty_dir.size_limit",
            planton_default: "none",
            planton_rule: "none",
            probes: mount_values(
                "empty_dir",
                json!({}),
                "empty_dir.size_limit",
                &[J::Null, json!(""), json!("1Gi")],
            ),
        },
        Leaf {
            path: "spec.volume_mounts.pvc.claim_name",
            planton_default: "none",
            planton_rule: "required, not empty",
            probes: mount_values(
                "pvc",
                json!({}),
                "pvc.claim_name",
                &[json!("data"), json!("")],
            ),
        },
        Leaf {
            path: "spec.volume_mounts.pvc.read_only",
            planton_default: "false",
            planton_rule: "none",
            probes: mount_values(
                "pvc",
                json!({"claim_name": "data"}),
                "pvc.read_only",
                &[J::Null, json!(false), json!(true)],
            ),
        },
    ];
    for side in ["limits", "requests"] {
        for quantity in ["cpu", "memory"] {
            let path: &'static str =
                Box::leak(format!("spec.resources.{side}.{quantity}").into_boxed_str());
            let field: &'static str =
                Box::leak(format!("resources.{side}.{quantity}").into_boxed_str());
            let mut probes = values(json!({}), field, &[J::Null, json!("")]);
            probes.push(probe("resources left out", |spec| {
                spec.remove("resources");
            }));
            probes.push(probe(&format!("{side} left out"), move |spec| {
                spec["resources"].as_object_mut().unwrap().remove(side);
            }));
            leaves.push(Leaf {
                path,
                planton_default: "none applied (the documented 1000m/1Gi, 50m/100Mi is an annotation)",
                planton_rule: "none",
                probes,
            });
        }
    }
    for (field, rule) in [
        ("kind", "a CloudResourceKind name"),
        ("env", "none"),
        ("name", "required, not empty"),
        ("field_path", "none"),
    ] {
        for (leaf_base, at, context) in [
            (
                "spec.namespace.value_from",
                "namespace.value_from",
                json!({"namespace": {"value": null, "value_from": {"name": "batch-ns"}}}),
            ),
            (
                "spec.env.variables.value_from",
                "env.variables.DB_HOST.value_from",
                json!({"env": {"variables": {"DB_HOST": {"value_from": {"name": "orders-db"}}}}}),
            ),
        ] {
            let example = match field {
                "kind" => json!("KubernetesPostgres"),
                "env" => json!("production"),
                "name" => json!("orders-db"),
                _ => json!("status.outputs.host"),
            };
            let path: &'static str = Box::leak(format!("{leaf_base}.{field}").into_boxed_str());
            let at: &'static str = Box::leak(format!("{at}.{field}").into_boxed_str());
            let mut probes = values(context.clone(), at, &[example]);
            if field == "name" {
                probes.extend(values(context, at, &[json!("")]));
            }
            if field == "kind" {
                probes.push(probe("\"Postgres\"", move |spec| {
                    merge(spec, &json!({}));
                    set(spec, at, &json!("Postgres"));
                    let name = at.replace(".kind", ".name");
                    set(spec, &name, &json!("orders-db"));
                }));
            }
            leaves.push(Leaf {
                path,
                planton_default: "none",
                planton_rule: rule,
                probes,
            });
        }
    }
    leaves.extend(keyed_source_leaves("config_map"));
    leaves.extend(keyed_source_leaves("secret"));
    leaves
}

// ---------------------------------------------------------------------------
// Planton: protovalidate, the CLI's proto defaults, the Pulumi module.

/// Reads a string the way protobuf does: null is "".
fn text<'a>(v: &'a J, key: &str) -> &'a str {
    v.get(key).and_then(J::as_str).unwrap_or("")
}

fn present(v: &J, key: &str) -> bool {
    v.get(key).is_some_and(|x| !x.is_null())
}

fn entries(v: &J, key: &str) -> Vec<(String, J)> {
    v.get(key)
        .and_then(J::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

const CLUSTER_KINDS: [&str; 5] = [
    "AzureAksCluster",
    "AwsEksCluster",
    "GcpGkeCluster",
    "DigitalOceanKubernetesCluster",
    "CivoKubernetesCluster",
];
const HOST_PATH_TYPES: [&str; 8] = [
    "",
    "DirectoryOrCreate",
    "Directory",
    "FileOrCreate",
    "File",
    "Socket",
    "CharDevice",
    "BlockDevice",
];

/// Planton's protovalidate rules on `spec` (research (b)), plus what its
/// manifest loader refuses (protojson accepts only enum names it knows).
fn planton_validate(spec: &J) -> Result<(), String> {
    if !present(spec, "namespace") {
        return Err("namespace is required".into());
    }
    let refs = |v: &J, at: &str| -> Result<(), String> {
        if let Some(vf) = v.get("value_from").filter(|x| !x.is_null()) {
            if text(vf, "name").is_empty() {
                return Err(format!("{at}.value_from.name is required"));
            }
            let kind = text(vf, "kind");
            if !kind.is_empty() && !crate::kubernetes_job::model::kinds::is_kind(kind) {
                return Err(format!("{at}.value_from.kind: unknown enum name"));
            }
        }
        Ok(())
    };
    refs(&spec["namespace"], "namespace")?;
    if let Some(tc) = spec.get("target_cluster").filter(|x| !x.is_null()) {
        let kind = text(tc, "cluster_kind");
        if !kind.is_empty() && !crate::kubernetes_job::model::kinds::is_kind(kind) {
            return Err("cluster_kind: unknown enum name".into());
        }
        if !CLUSTER_KINDS.contains(&kind) {
            return Err("target_cluster.cluster_kind must be a cluster kind".into());
        }
    }
    if let Some(m) = spec.get("completion_mode").and_then(J::as_str)
        && !["NonIndexed", "Indexed"].contains(&m)
    {
        return Err("completion_mode not in list".into());
    }
    if let Some(p) = spec.get("restart_policy").and_then(J::as_str)
        && !["OnFailure", "Never"].contains(&p)
    {
        return Err("restart_policy not in list".into());
    }
    let env = spec.get("env").cloned().unwrap_or(J::Null);
    for (k, v) in entries(&env, "variables") {
        refs(&v, &format!("env.variables.{k}"))?;
    }
    for (k, v) in entries(&env, "secrets") {
        if let Some(r) = v.get("secret_ref").filter(|x| !x.is_null())
            && (text(r, "name").is_empty() || text(r, "key").is_empty())
        {
            return Err(format!(
                "env.secrets.{k}.secret_ref name and key are required"
            ));
        }
    }
    for m in spec
        .get("volume_mounts")
        .and_then(J::as_array)
        .cloned()
        .unwrap_or_default()
    {
        if text(&m, "name").is_empty() || text(&m, "mount_path").is_empty() {
            return Err("volume mount name and mount_path are required".into());
        }
        for keyed in ["config_map", "secret"] {
            if let Some(s) = m.get(keyed).filter(|x| !x.is_null())
                && text(s, "name").is_empty()
            {
                return Err(format!("{keyed}.name is required"));
            }
        }
        if let Some(h) = m.get("host_path").filter(|x| !x.is_null())
            && (text(h, "path").is_empty() || !HOST_PATH_TYPES.contains(&text(h, "type")))
        {
            return Err("host_path.path is required and type must be known".into());
        }
        if let Some(e) = m.get("empty_dir").filter(|x| !x.is_null())
            && !["", "Memory"].contains(&text(e, "medium"))
        {
            return Err("empty_dir.medium must be \"\" or Memory".into());
        }
        if let Some(p) = m.get("pvc").filter(|x| !x.is_null())
            && text(p, "claim_name").is_empty()
        {
            return Err("pvc.claim_name is required".into());
        }
    }
    Ok(())
}

/// The CLI's `protodefaults`: each unset field with `options.default`.
fn planton_defaults(spec: &mut Map<String, J>) {
    for (key, value) in [
        ("parallelism", json!(1)),
        ("completions", json!(1)),
        ("backoff_limit", json!(6)),
        ("active_deadline_seconds", json!(0)),
        ("ttl_seconds_after_finished", json!(0)),
        ("completion_mode", json!("NonIndexed")),
        ("restart_policy", json!("Never")),
        ("suspend", json!(false)),
    ] {
        if spec.get(key).is_none_or(J::is_null) {
            spec.insert(key.to_string(), value);
        }
    }
}

fn planton_labels(name: &str) -> J {
    json!({
        "planton.ai/resource": "true",
        "planton.ai/name": name,
        "planton.ai/kind": "KubernetesJob",
    })
}

/// What Planton's Pulumi module renders (research (c)), as Kubernetes JSON.
fn planton(config: &J) -> Outcome {
    let name = config["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let spec = config["spec"].clone();
    planton_validate(&spec)?;
    let mut spec = spec.as_object().cloned().unwrap_or_default();
    planton_defaults(&mut spec);
    let spec = J::Object(spec);
    let labels = planton_labels(&name);
    let ns = text(&spec["namespace"], "value").to_string();
    let meta = |object: &str| json!({"name": object, "namespace": ns, "labels": labels});
    let mut out = BTreeMap::new();

    if spec["create_namespace"].as_bool() == Some(true) {
        out.insert(
            format!("Namespace {ns}"),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}),
        );
    }
    let env = spec.get("env").cloned().unwrap_or(J::Null);
    let mut secret_data = Map::new();
    for (k, v) in entries(&env, "secrets") {
        let literal = text(&v, "value");
        if !present(&v, "secret_ref") && !literal.is_empty() {
            let encoded = base64::engine::general_purpose::STANDARD.encode(literal);
            secret_data.insert(k, J::String(encoded));
        }
    }
    let env_secret = format!("{name}-env-secrets");
    if !secret_data.is_empty() {
        out.insert(
            format!("Secret {ns}/{env_secret}"),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta(&env_secret),
                   "type": "Opaque", "data": secret_data}),
        );
    }
    for (k, v) in entries(&spec, "config_maps") {
        out.insert(
            format!("ConfigMap {ns}/{k}"),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(&k), "data": {(k.clone()): v}}),
        );
    }

    // The container. `job.go` dereferences image and resources directly.
    let image = spec
        .get("image")
        .filter(|x| !x.is_null())
        .ok_or("nil image")?;
    let resources = spec
        .get("resources")
        .filter(|x| !x.is_null())
        .ok_or("nil resources")?;
    let side = |key: &str| -> Result<J, String> {
        let cm = resources
            .get(key)
            .filter(|x| !x.is_null())
            .ok_or(format!("nil resources.{key}"))?;
        Ok(json!({"cpu": text(cm, "cpu"), "memory": text(cm, "memory")}))
    };
    let mut env_out = vec![
        json!({"name": "HOSTNAME", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}),
        json!({"name": "K8S_POD_ID", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}),
    ];
    for (k, v) in entries(&env, "variables") {
        // An unresolved value_from leaves the value empty: dropped.
        let value = text(&v, "value");
        if !value.is_empty() {
            env_out.push(json!({"name": k, "value": value}));
        }
    }
    for (k, v) in entries(&env, "secrets") {
        if let Some(r) = v.get("secret_ref").filter(|x| !x.is_null()) {
            env_out.push(json!({"name": k, "valueFrom": {"secretKeyRef": {"name": text(r, "name"), "key": text(r, "key")}}}));
        } else if !text(&v, "value").is_empty() {
            env_out.push(
                json!({"name": k, "valueFrom": {"secretKeyRef": {"name": env_secret, "key": k}}}),
            );
        }
    }
    let mut container = json!({
        "name": "job-container",
        "image": format!("{}:{}", text(image, "repo"), text(image, "tag")),
        "env": env_out,
        "resources": {"limits": side("limits")?, "requests": side("requests")?},
    });
    for list in ["command", "args"] {
        if let Some(items) = spec
            .get(list)
            .and_then(J::as_array)
            .filter(|a| !a.is_empty())
        {
            container[list] = J::Array(items.clone());
        }
    }
    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    for m in spec
        .get("volume_mounts")
        .and_then(J::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let mut mount = json!({
            "name": text(&m, "name"),
            "mountPath": text(&m, "mount_path"),
            "readOnly": m.get("read_only").and_then(J::as_bool).unwrap_or(false),
        });
        if !text(&m, "sub_path").is_empty() {
            mount["subPath"] = json!(text(&m, "sub_path"));
        }
        mounts.push(mount);
        volumes.push(planton_volume(&m));
    }
    if !mounts.is_empty() {
        container["volumeMounts"] = J::Array(mounts);
    }
    let mut pod = json!({
        "containers": [container],
        "restartPolicy": text(&spec, "restart_policy"),
    });
    if !volumes.is_empty() {
        pod["volumes"] = J::Array(volumes);
    }

    let mut job_spec = json!({
        "template": {"metadata": {"labels": labels}, "spec": pod},
        "backoffLimit": spec["backoff_limit"],
        "suspend": spec["suspend"],
    });
    for (key, field) in [
        ("parallelism", "parallelism"),
        ("completions", "completions"),
        ("activeDeadlineSeconds", "active_deadline_seconds"),
        ("ttlSecondsAfterFinished", "ttl_seconds_after_finished"),
    ] {
        if spec[field].as_i64().is_some_and(|n| n > 0) {
            job_spec[key] = spec[field].clone();
        }
    }
    if !text(&spec, "completion_mode").is_empty() {
        job_spec["completionMode"] = spec["completion_mode"].clone();
    }
    out.insert(
        format!("Job {ns}/{name}"),
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta(&name), "spec": job_spec}),
    );
    Ok(out)
}

/// `volumes.go`: the first source set, in Planton's order.
fn planton_volume(m: &J) -> J {
    let mut volume = json!({"name": text(m, "name")});
    let keyed = |s: &J| {
        let mut out = Map::new();
        if !text(s, "key").is_empty() {
            let path = match text(s, "path") {
                "" => text(s, "key"),
                p => p,
            };
            out.insert(
                "items".into(),
                json!([{"key": text(s, "key"), "path": path}]),
            );
        }
        if s["default_mode"].as_i64().is_some_and(|n| n > 0) {
            out.insert("defaultMode".into(), s["default_mode"].clone());
        }
        out
    };
    if let Some(s) = m.get("config_map").filter(|x| !x.is_null()) {
        let mut src = keyed(s);
        src.insert("name".into(), json!(text(s, "name")));
        volume["configMap"] = J::Object(src);
    } else if let Some(s) = m.get("secret").filter(|x| !x.is_null()) {
        let mut src = keyed(s);
        src.insert("secretName".into(), json!(text(s, "name")));
        volume["secret"] = J::Object(src);
    } else if let Some(h) = m.get("host_path").filter(|x| !x.is_null()) {
        let mut src = json!({"path": text(h, "path")});
        if !text(h, "type").is_empty() {
            src["type"] = json!(text(h, "type"));
        }
        volume["hostPath"] = src;
    } else if let Some(e) = m.get("empty_dir").filter(|x| !x.is_null()) {
        let mut src = json!({});
        for (from, to) in [("medium", "medium"), ("size_limit", "sizeLimit")] {
            if !text(e, from).is_empty() {
                src[to] = json!(text(e, from));
            }
        }
        volume["emptyDir"] = src;
    } else if let Some(p) = m.get("pvc").filter(|x| !x.is_null()) {
        volume["persistentVolumeClaim"] = json!({
            "claimName": text(p, "claim_name"),
            "readOnly": p.get("read_only").and_then(J::as_bool).unwrap_or(false),
        });
    }
    volume
}

// ---------------------------------------------------------------------------
// This provider: validation, plan, render.

async fn ours(config: &J) -> Outcome {
    let config = testing::config(config)?;
    let validation = super::validate::validate(&config);
    if validation.has_error() {
        return Err(format!("{:?}", validation.0[0].summary));
    }
    let resp = plan_resource_change(
        &KubernetesJobResource::new(),
        PlanInput {
            prior_state: Value::Null,
            proposed_new_state: config.clone(),
            config,
            prior_private: Vec::new(),
            capabilities: ClientCapabilities::default(),
        },
    )
    .await;
    if resp.diagnostics.has_error() {
        return Err(format!("plan: {:?}", resp.diagnostics.0[0].summary));
    }
    let plan = resp.planned_state;
    let model = KubernetesJob::from_value(&plan).map_err(|e| e.to_string())?;
    let mut rendered = render(&model, &Options::from_value(&plan)).map_err(|e| e.to_string())?;
    // What apply sends: the objects marked as this resource instance's.
    rendered.stamp(&instance());
    Ok(rendered
        .objects()
        .iter()
        .map(|o| (o.object_ref().to_string(), o.to_json()))
        .collect())
}

// ---------------------------------------------------------------------------
// Comparing.

/// Paths where `a` and `b` differ, under `at`.
fn diff(at: &str, a: &J, b: &J, out: &mut Vec<String>) {
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let here = format!("{at}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => diff(&here, p, q, out),
                    _ => out.push(here),
                }
            }
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{at}[{i}]"), p, q, out);
            }
        }
        _ if a == b => {}
        _ => out.push(at.to_string()),
    }
}

/// The resource instance the comparisons render for.
fn instance() -> Instance {
    Instance::parse("0123456789abcdef0123456789abcdef").unwrap()
}

/// Differences every rendering has: the ServiceAccount this provider
/// creates, the pod running as it, and the instance label on each object.
/// The guide lists them under `metadata.name`.
fn is_global(difference: &str) -> bool {
    if difference.ends_with(".metadata.labels.planton.ai/instance") {
        return true;
    }
    (difference.starts_with("ServiceAccount ") && difference.ends_with(": only here"))
        || difference.ends_with(".template.spec.serviceAccountName")
}

fn compare(planton: &Outcome, ours: &Outcome) -> Vec<String> {
    match (planton, ours) {
        (Err(_), Err(_)) => Vec::new(),
        (Ok(_), Err(why)) => vec![format!(
            "Planton accepts it, this provider refuses it ({why})"
        )],
        (Err(why), Ok(_)) => vec![format!(
            "Planton refuses it ({why}), this provider accepts it"
        )],
        (Ok(p), Ok(o)) => {
            let mut out = Vec::new();
            let keys: BTreeSet<&String> = p.keys().chain(o.keys()).collect();
            for k in keys {
                match (p.get(k), o.get(k)) {
                    (Some(x), Some(y)) => {
                        let mut paths = Vec::new();
                        diff("", x, y, &mut paths);
                        out.extend(paths.into_iter().map(|path| format!("{k}:{path}")));
                    }
                    (Some(_), None) => out.push(format!("{k}: only Planton")),
                    (None, _) => out.push(format!("{k}: only here")),
                }
            }
            out.retain(|d| !is_global(d));
            out
        }
    }
}

/// Every leaf of `spec` in the schema, as dotted paths without indexes.
fn schema_leaves() -> BTreeSet<String> {
    fn walk(attrs: &[crate::tf::Attribute], at: &str, out: &mut BTreeSet<String>) {
        for a in attrs {
            let here = format!("{at}.{}", a.name);
            match &a.kind {
                AttributeKind::Type(_) => {
                    out.insert(here);
                }
                AttributeKind::Nested(n) => walk(&n.attributes, &here, out),
            }
        }
    }
    let schema = schema();
    let spec = schema
        .block
        .attributes
        .iter()
        .find(|a| a.name == "spec")
        .unwrap();
    let mut out = BTreeSet::new();
    if let AttributeKind::Nested(n) = &spec.kind {
        walk(&n.attributes, "spec", &mut out);
    }
    out
}

/// The attributes the guide's table of differences lists: every backticked
/// `spec....` path in its first column, indexes and keys dropped.
fn documented(guide: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in guide.lines().filter(|l| l.starts_with('|')) {
        let first = line.split('|').nth(1).unwrap_or("");
        for (i, part) in first.split('`').enumerate() {
            if i % 2 == 1 && (part.starts_with("spec.") || part.starts_with("metadata.")) {
                let mut path = String::new();
                let mut depth = 0;
                for c in part.chars() {
                    match c {
                        '[' => depth += 1,
                        ']' => depth -= 1,
                        _ if depth == 0 => path.push(c),
                        _ => {}
                    }
                }
                out.insert(path);
            }
        }
    }
    out
}

/// The table covers exactly the 53 leaves of `spec`.
#[test]
fn the_table_covers_every_leaf_of_spec() {
    let table: BTreeSet<String> = leaves().iter().map(|l| l.path.to_string()).collect();
    assert_eq!(leaves().len(), table.len(), "a leaf is listed twice");
    assert_eq!(table, schema_leaves());
    assert_eq!(table.len(), 53);
    for leaf in leaves() {
        assert!(
            !leaf.probes.is_empty(),
            "{} has no values to try",
            leaf.path
        );
        assert!(!leaf.planton_default.is_empty() && !leaf.planton_rule.is_empty());
    }
}

/// The base configuration renders the same on both sides, but for the
/// ServiceAccount (so the per-leaf comparisons below start from equality).
#[tokio::test]
async fn the_base_configuration_renders_as_planton_renders_it() {
    let config = base();
    let planton = planton(&config);
    let ours = ours(&config).await;
    assert!(planton.is_ok(), "{planton:?}");
    assert_eq!(compare(&planton, &ours), Vec::<String>::new());
    let all = ours.unwrap();
    assert!(all.contains_key(&format!("ServiceAccount {NS}/{JOB}")));
}

/// Each value of each leaf renders as Planton renders it, unless the
/// guide's table lists that leaf as a deliberate difference.
#[tokio::test]
async fn every_leaf_behaves_as_in_planton_or_is_documented() {
    let guide_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GUIDE);
    let guide = std::fs::read_to_string(&guide_path).unwrap();
    let documented = documented(&guide);
    assert!(
        documented.contains("metadata.name"),
        "the guide must list the ServiceAccount difference under metadata.name"
    );
    let mut undocumented = Vec::new();
    let mut differing = BTreeSet::new();
    for leaf in leaves() {
        for probe in &leaf.probes {
            let mut config = base();
            (probe.apply)(config["spec"].as_object_mut().unwrap());
            let differences = compare(&planton(&config), &ours(&config).await);
            if differences.is_empty() {
                continue;
            }
            differing.insert(leaf.path);
            if !documented.contains(leaf.path) {
                undocumented.push(format!(
                    "{} = {}:\n    {}",
                    leaf.path,
                    probe.label,
                    differences.join("\n    ")
                ));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "differences from Planton that {GUIDE} does not list:\n{}",
        undocumented.join("\n")
    );
    // The zeros Planton leaves out are rendered as Planton does.
    for same in [
        "spec.parallelism",
        "spec.completions",
        "spec.backoff_limit",
        "spec.active_deadline_seconds",
        "spec.ttl_seconds_after_finished",
        "spec.volume_mounts.config_map.default_mode",
        "spec.volume_mounts.secret.default_mode",
    ] {
        assert!(
            !differing.contains(same),
            "{same} renders differently from Planton"
        );
    }
}

/// The comparison finds a rendering difference when there is one: a Job
/// whose TTL of 0 is rendered (as this provider once did) differs from
/// Planton's, which leaves it out.
#[tokio::test]
async fn a_rendered_zero_ttl_is_a_difference() {
    let mut config = base();
    config["spec"]["ttl_seconds_after_finished"] = json!(0);
    let mut ours = ours(&config).await.unwrap();
    let job = ours.get_mut(&format!("Job {NS}/{JOB}")).unwrap();
    job["spec"]["ttlSecondsAfterFinished"] = json!(0);
    assert_eq!(
        compare(&planton(&config), &Ok(ours)),
        vec![format!("Job {NS}/{JOB}:.spec.ttlSecondsAfterFinished")]
    );
}
