//! The bucket table, proven field by field, and the plan hook's computed
//! values.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;
use crate::kubernetes_job::model::schema::schema;
use crate::kubernetes_job::testing;
use crate::tf::resource::ClientCapabilities;
use crate::tf::{Attribute, AttributeKind};

/// A planned state: the base configuration with every default filled in,
/// after `edit` changed the JSON.
fn state_with(edit: impl FnOnce(&mut serde_json::Value)) -> Value {
    let mut j = json!({
        "metadata": {"name": "nightly", "org": "acme", "id": "k8sjob-1", "slug": "n", "tags": ["a"]},
        "spec": {
            "namespace": {"value": "batch"},
            "create_namespace": false,
            "image": {"repo": "busybox", "tag": "1.36"},
            "resources": {"limits": {"cpu": "1000m", "memory": "1Gi"}, "requests": {"cpu": "50m", "memory": "100Mi"}},
            "env": {
                "variables": {"A": {"value": "1"}},
                "secrets": {
                    "S": {"value": "s3cret"},
                    "R": {"secret_ref": {"name": "db", "key": "pw"}}
                }
            },
            "parallelism": 1, "completions": 1, "backoff_limit": 6,
            "completion_mode": "NonIndexed", "restart_policy": "Never", "suspend": false,
            "command": ["sh", "-c", "echo hi"],
            "config_maps": {"cfg": "a: 1"},
            "volume_mounts": [{"name": "cfg", "mount_path": "/etc/cfg", "config_map": {"name": "cfg"}}]
        },
        "wait_for_completion": true,
        "after_ttl_deletion": "keep",
        "delete_propagation": "Background"
    });
    edit(&mut j);
    testing::config(&j).unwrap()
}

fn base() -> Value {
    state_with(|_| {})
}

/// Sets the JSON value at a dotted path (creating objects on the way).
fn put(j: &mut serde_json::Value, path: &str, v: serde_json::Value) {
    let mut cur = j;
    let steps: Vec<&str> = path.split('.').collect();
    for step in &steps[..steps.len() - 1] {
        if !cur[*step].is_object() {
            cur[*step] = json!({});
        }
        cur = &mut cur[*step];
    }
    cur[steps[steps.len() - 1]] = v;
}

/// What a case expects.
#[derive(Debug, PartialEq)]
enum Want {
    /// No replacement, no cluster change.
    StateOnly,
    /// No replacement, objects updated in place.
    InPlace,
    /// Replacement, reported at this path.
    Replace(&'static str),
}

fn check(name: &str, prior: &Value, planned: &Value, want: Want) {
    let c = classify(prior, planned);
    let got = match (c.replace.as_slice(), c.in_place) {
        ([], false) => Want::StateOnly,
        ([], true) => Want::InPlace,
        (paths, _) => {
            let shown: Vec<String> = paths.iter().map(ToString::to_string).collect();
            match want {
                Want::Replace(p) if shown.iter().any(|s| s == p) => Want::Replace(p),
                _ => panic!("{name}: replaced at {shown:?}, wanted {want:?}"),
            }
        }
    };
    assert_eq!(got, want, "{name}");
}

/// Every configurable attribute, field by field: a change lands in the
/// bucket the table says.
#[test]
fn every_field_in_its_bucket() {
    use Want::*;
    let cases: Vec<(&str, &str, serde_json::Value, Want)> = vec![
        (
            "name",
            "metadata.name",
            json!("other"),
            Replace("metadata.name"),
        ),
        ("slug", "metadata.slug", json!("m"), StateOnly),
        (
            "id label",
            "metadata.id",
            json!("k8sjob-2"),
            Replace("metadata.id"),
        ),
        (
            "org label",
            "metadata.org",
            json!("other"),
            Replace("metadata.org"),
        ),
        (
            "env label",
            "metadata.env",
            json!("prod"),
            Replace("metadata.env"),
        ),
        ("labels", "metadata.labels", json!({"team": "x"}), StateOnly),
        (
            "annotations",
            "metadata.annotations",
            json!({"a": "b"}),
            StateOnly,
        ),
        ("tags", "metadata.tags", json!(["b"]), StateOnly),
        ("group", "metadata.group", json!("app/jobs"), StateOnly),
        (
            "relationships",
            "metadata.relationships",
            json!([{"kind": "KubernetesNamespace", "name": "batch", "type": "runs_on"}]),
            StateOnly,
        ),
        (
            "target cluster",
            "spec.target_cluster",
            json!({"cluster_kind": "GcpGkeCluster", "cluster_name": "prod"}),
            Replace("spec.target_cluster"),
        ),
        (
            "namespace",
            "spec.namespace.value",
            json!("other"),
            Replace("spec.namespace"),
        ),
        (
            "create namespace",
            "spec.create_namespace",
            json!(true),
            InPlace,
        ),
        (
            "image repo",
            "spec.image.repo",
            json!("alpine"),
            Replace("spec.image"),
        ),
        (
            "image tag",
            "spec.image.tag",
            json!("1.37"),
            Replace("spec.image"),
        ),
        (
            "pull secret name",
            "spec.image.pull_secret_name",
            json!("regcred"),
            Replace("spec.image"),
        ),
        (
            "cpu limit",
            "spec.resources.limits.cpu",
            json!("2"),
            Replace("spec.resources"),
        ),
        (
            "memory request",
            "spec.resources.requests.memory",
            json!("1Gi"),
            Replace("spec.resources"),
        ),
        (
            "variable value",
            "spec.env.variables.A.value",
            json!("2"),
            Replace("spec.env.variables"),
        ),
        (
            "variable added",
            "spec.env.variables.B",
            json!({"value": "x"}),
            Replace("spec.env.variables"),
        ),
        (
            "secret value",
            "spec.env.secrets.S.value",
            json!("other"),
            InPlace,
        ),
        (
            "secret value emptied",
            "spec.env.secrets.S.value",
            json!(""),
            InPlace,
        ),
        (
            "secret added",
            "spec.env.secrets.T",
            json!({"value": "x"}),
            Replace("spec.env.secrets"),
        ),
        (
            "secret ref name",
            "spec.env.secrets.R.secret_ref.name",
            json!("db2"),
            Replace("spec.env.secrets[\"R\"].secret_ref.name"),
        ),
        (
            "secret ref key",
            "spec.env.secrets.R.secret_ref.key",
            json!("pw2"),
            Replace("spec.env.secrets[\"R\"].secret_ref.key"),
        ),
        (
            "secret ref namespace",
            "spec.env.secrets.R.secret_ref.namespace",
            json!("batch"),
            StateOnly,
        ),
        (
            "secret value to ref",
            "spec.env.secrets.S",
            json!({"secret_ref": {"name": "db", "key": "x"}}),
            Replace("spec.env.secrets[\"S\"].secret_ref"),
        ),
        ("parallelism", "spec.parallelism", json!(3), InPlace),
        (
            "completions",
            "spec.completions",
            json!(3),
            Replace("spec.completions"),
        ),
        ("backoff limit", "spec.backoff_limit", json!(1), InPlace),
        (
            "deadline",
            "spec.active_deadline_seconds",
            json!(60),
            InPlace,
        ),
        ("ttl", "spec.ttl_seconds_after_finished", json!(0), InPlace),
        (
            "completion mode",
            "spec.completion_mode",
            json!("Indexed"),
            Replace("spec.completion_mode"),
        ),
        (
            "restart policy",
            "spec.restart_policy",
            json!("OnFailure"),
            Replace("spec.restart_policy"),
        ),
        (
            "command",
            "spec.command",
            json!(["true"]),
            Replace("spec.command"),
        ),
        ("args", "spec.args", json!(["x"]), Replace("spec.args")),
        (
            "config map content",
            "spec.config_maps.cfg",
            json!("a: 2"),
            InPlace,
        ),
        (
            "config map added",
            "spec.config_maps.more",
            json!("b"),
            Replace("spec.config_maps"),
        ),
        (
            "volume mount",
            "spec.volume_mounts",
            json!([{"name": "cfg", "mount_path": "/etc/other", "config_map": {"name": "cfg"}}]),
            Replace("spec.volume_mounts"),
        ),
        ("suspend", "spec.suspend", json!(true), InPlace),
        (
            "docker config set",
            "docker_config_json",
            json!("{\"auths\":{}}"),
            Replace("docker_config_json"),
        ),
        (
            "rerun triggers",
            "rerun_triggers",
            json!({"v": "2"}),
            Replace("rerun_triggers"),
        ),
        ("wait", "wait_for_completion", json!(false), StateOnly),
        ("timeouts", "timeouts", json!({"create": "1m"}), StateOnly),
        (
            "ttl policy",
            "after_ttl_deletion",
            json!("recreate"),
            StateOnly,
        ),
        (
            "propagation",
            "delete_propagation",
            json!("Foreground"),
            StateOnly,
        ),
    ];
    let prior = base();
    for (name, path, value, want) in cases {
        let planned = state_with(|j| put(j, path, value));
        check(name, &prior, &planned, want);
    }
}

/// Changes that depend on other fields or on the Job's state.
#[test]
fn conditional_buckets() {
    // Template labels: in place while the Job is suspended and never started.
    let mut prior = state_with(|j| put(j, "spec.suspend", json!(true)));
    state::set(
        &mut prior,
        "status",
        Value::object([("start_time", Value::Null), ("active", Value::int(0))]),
    );
    let planned = state_with(|j| {
        put(j, "spec.suspend", json!(true));
        put(j, "metadata.env", json!("prod"));
    });
    check("label while suspended", &prior, &planned, Want::InPlace);
    state::set(
        &mut prior,
        "status",
        Value::object([("start_time", Value::string("2026-01-01T00:00:00Z"))]),
    );
    check(
        "label after start",
        &prior,
        &planned,
        Want::Replace("metadata.env"),
    );

    // Elastic Indexed: completions with parallelism, equal.
    let indexed = |c: i64, p: i64| {
        state_with(|j| {
            put(j, "spec.completion_mode", json!("Indexed"));
            put(j, "spec.completions", json!(c));
            put(j, "spec.parallelism", json!(p));
        })
    };
    check("elastic", &indexed(4, 4), &indexed(6, 6), Want::InPlace);
    check(
        "indexed, not equal after",
        &indexed(4, 4),
        &indexed(6, 4),
        Want::Replace("spec.completions"),
    );
    check(
        "indexed, not equal before",
        &indexed(4, 2),
        &indexed(6, 6),
        Want::Replace("spec.completions"),
    );

    // docker_config_json: content in place, removal replaces.
    let with = |s: &str| state_with(|j| put(j, "docker_config_json", json!(s)));
    check(
        "docker content",
        &with("{\"a\":1}"),
        &with("{\"a\":2}"),
        Want::InPlace,
    );
    check(
        "docker removed",
        &with("{\"a\":1}"),
        &base(),
        Want::Replace("docker_config_json"),
    );
}

/// Unknown values: a replace field that is unknown replaces; an unknown
/// content keeps its bucket; an unknown key set replaces.
#[test]
fn unknown_values() {
    let prior = base();
    let unknown = || json!(testing::UNKNOWN);
    for (name, path, want) in [
        ("unknown tag", "spec.image.tag", Want::Replace("spec.image")),
        ("unknown content", "spec.config_maps.cfg", Want::InPlace),
        (
            "unknown key set",
            "spec.config_maps",
            Want::Replace("spec.config_maps"),
        ),
        (
            "unknown secret value",
            "spec.env.secrets.S.value",
            Want::InPlace,
        ),
        ("unknown parallelism", "spec.parallelism", Want::InPlace),
        (
            "unknown completions",
            "spec.completions",
            Want::Replace("spec.completions"),
        ),
        ("unknown slug", "metadata.slug", Want::StateOnly),
    ] {
        let planned = state_with(|j| put(j, path, unknown()));
        check(name, &prior, &planned, want);
    }
    check("no change", &prior, &base(), Want::StateOnly);
}

/// Every configurable attribute of the schema has a bucket.
#[test]
fn table_covers_the_schema() {
    fn walk(attrs: &[Attribute], prefix: &str, out: &mut Vec<String>) {
        for a in attrs {
            if a.computed && !a.optional && !a.required {
                continue;
            }
            let path = if prefix.is_empty() {
                a.name.clone()
            } else {
                format!("{prefix}.{}", a.name)
            };
            out.push(path.clone());
            if let AttributeKind::Nested(n) = &a.kind {
                walk(&n.attributes, &path, out);
            }
        }
    }
    let mut leaves = Vec::new();
    walk(&schema().block.attributes, "", &mut leaves);
    let mut missing: Vec<&String> = leaves
        .iter()
        .filter(|p| !matches!(p.as_str(), "metadata" | "spec" | "spec.env"))
        .filter(|p| bucket_of(p).is_none())
        .collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "attributes without a bucket: {missing:?}"
    );
    assert!(leaves.len() > 60, "{leaves:?}");
    assert_eq!(bucket_of("spec.image.tag"), Some(Bucket::Replace));
    assert_eq!(
        bucket_of("spec.env.secrets.secret_ref.namespace"),
        Some(Bucket::StateOnly)
    );
}

fn plan(prior: Value, planned: Value, private: Vec<u8>) -> PlanResponse {
    let req = PlanRequest {
        prior_state: prior,
        config: planned.clone(),
        prior_private: private,
        capabilities: ClientCapabilities::default(),
    };
    let mut resp = PlanResponse {
        planned_state: planned,
        ..PlanResponse::default()
    };
    refine_plan(&req, &mut resp);
    resp
}

/// A state as an apply leaves it: computed values filled.
fn applied(mut v: Value) -> Value {
    state::set(&mut v, "id", Value::string("batch/nightly"));
    state::set(
        &mut v,
        "outputs",
        state::outputs_value(&Value::string("batch"), &Value::string("nightly")),
    );
    state::set(&mut v, "drift", Value::List(vec![]));
    let refs = planned_refs(
        &KubernetesJob::from_value(&v).unwrap(),
        &Value::Null,
        &Default::default(),
    )
    .unwrap();
    let tracked: Vec<state::Tracked> = refs
        .into_iter()
        .map(|object| state::Tracked {
            object,
            uid: "u".into(),
        })
        .collect();
    state::set(&mut v, "objects", state::objects_value(&tracked));
    state::set(
        &mut v,
        "status",
        Value::object([
            ("succeeded", Value::int(1)),
            ("start_time", Value::string("t")),
        ]),
    );
    v
}

/// Create: outputs are known at plan time; objects and status are not.
#[test]
fn create_plan() {
    let resp = plan(Value::Null, base(), vec![]);
    let p = &resp.planned_state;
    assert_eq!(p.get("outputs").get("job_name"), &Value::string("nightly"));
    assert!(p.get("objects").is_unknown());
    assert!(p.get("status").is_unknown());
    assert_eq!(p.get("drift"), &Value::List(vec![]));
}

/// An unchanged resource plans exactly its prior state.
#[test]
fn unchanged_plan_is_empty() {
    let prior = applied(base());
    let mut proposed = base();
    for k in ["id", "outputs", "drift", "objects", "status"] {
        state::set(&mut proposed, k, prior.get(k).clone());
    }
    let resp = plan(prior.clone(), proposed, vec![]);
    assert!(resp.requires_replace.is_empty());
    assert!(resp.planned_state.semantically_equal(&prior));
}

/// In place: objects keep their UIDs; status will be read again. State
/// only: status stays too. Replace: both unknown.
#[test]
fn computed_values_follow_the_change() {
    let prior = applied(base());
    let in_place = plan(
        prior.clone(),
        state_with(|j| put(j, "spec.parallelism", json!(2))),
        vec![],
    );
    assert!(in_place.requires_replace.is_empty());
    assert_eq!(in_place.planned_state.get("objects"), prior.get("objects"));
    assert!(in_place.planned_state.get("status").is_unknown());

    let state_only = plan(
        prior.clone(),
        state_with(|j| put(j, "metadata.slug", json!("z"))),
        vec![],
    );
    assert_eq!(state_only.planned_state.get("status"), prior.get("status"));

    let replace = plan(
        prior.clone(),
        state_with(|j| put(j, "spec.image.tag", json!("2"))),
        vec![],
    );
    assert_eq!(replace.requires_replace.len(), 1);
    assert!(replace.planned_state.get("objects").is_unknown());

    // Adding the namespace to the objects changes them.
    let ns = plan(
        prior,
        state_with(|j| put(j, "spec.create_namespace", json!(true))),
        vec![],
    );
    assert!(ns.planned_state.get("objects").is_unknown());
}

/// Drift found by read plans an update that clears it; a missing object
/// will get a new UID.
#[test]
fn drift_plans_an_update() {
    let mut prior = applied(base());
    state::set(
        &mut prior,
        "drift",
        Value::List(vec![Value::string(
            "Secret batch/nightly-env-secrets was deleted",
        )]),
    );
    let private = state::Private {
        job_reaped: false,
        missing: vec![state::MissingObject {
            kind: "Secret".into(),
            namespace: "batch".into(),
            name: "nightly-env-secrets".into(),
        }],
    };
    let resp = plan(prior.clone(), base(), private.to_bytes());
    let p = &resp.planned_state;
    assert_eq!(p.get("drift"), &Value::List(vec![]));
    assert!(p.get("objects").is_unknown());
    assert!(p.get("status").is_unknown());
    assert!(!p.semantically_equal(&prior));
}
