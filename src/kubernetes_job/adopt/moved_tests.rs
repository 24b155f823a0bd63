//! `moved` from hashicorp/kubernetes, checked with whole state files that
//! provider writes (`tests/fixtures/moved/`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value as J, json};

use super::*;
use crate::kubernetes_job::model::schema::schema;

const JOB_V1: &str = include_str!("../../../tests/fixtures/moved/kubernetes_job_v1.tfstate");
const JOB: &str = include_str!("../../../tests/fixtures/moved/kubernetes_job.tfstate");
const JOB_V1_VOLUMES: &str =
    include_str!("../../../tests/fixtures/moved/kubernetes_job_v1_volumes.tfstate");

/// The first instance's attributes and the resource type of a state file.
fn source(file: &str) -> (String, J) {
    let state: J = serde_json::from_str(file).unwrap();
    let resource = &state["resources"][0];
    (
        resource["type"].as_str().unwrap().to_string(),
        resource["instances"][0]["attributes"].clone(),
    )
}

fn request(type_name: &str, version: i64, attributes: &J) -> MoveRequest {
    MoveRequest {
        source_type_name: type_name.to_string(),
        source_provider_address: "registry.terraform.io/hashicorp/kubernetes".to_string(),
        source_schema_version: version,
        source_state: serde_json::to_vec(attributes).unwrap(),
        target_type_name: "planton_kubernetes_job".to_string(),
    }
}

fn moved(file: &str) -> (MoveResponse, J) {
    let (ty, attributes) = source(file);
    let schema_type = schema().value_type();
    let resp = accept(&request(&ty, 1, &attributes), &schema_type);
    assert!(!resp.diagnostics.has_error(), "{:?}", resp.diagnostics);
    let state = resp.state.as_ref().expect("a state");
    let json: J =
        serde_json::from_slice(&crate::tf::value::json::encode(state, &schema_type).unwrap())
            .unwrap();
    (resp, json)
}

/// The migration Job's state maps onto the spec a configuration would
/// write for it, with the source's settings and the Job tracked by UID.
#[test]
fn kubernetes_job_v1_state_maps_to_the_spec() {
    let (resp, state) = moved(JOB_V1);
    assert_eq!(state["id"], json!("payments/schema-migrate"));
    assert_eq!(state["metadata"]["name"], json!("schema-migrate"));
    let spec = &state["spec"];
    assert_eq!(spec["namespace"]["value"], json!("payments"));
    assert_eq!(spec["create_namespace"], json!(false));
    assert_eq!(
        spec["image"]["repo"],
        json!("ghcr.io/example/payments-migrate")
    );
    assert_eq!(spec["image"]["tag"], json!("2.14.1"));
    assert_eq!(spec["command"], json!(["/app/migrate"]));
    assert_eq!(
        spec["args"],
        json!(["up", "--dir=/migrations", "--lock-timeout=60s"])
    );
    assert_eq!(
        spec["env"]["variables"],
        json!({
            "DB_HOST": {"value": "payments-db.payments.svc.cluster.local", "value_from": null},
            "DB_NAME": {"value": "payments", "value_from": null},
        })
    );
    assert_eq!(
        spec["env"]["secrets"]["DB_PASSWORD"]["secret_ref"],
        json!({"name": "payments-db-credentials", "key": "password", "namespace": null})
    );
    assert_eq!(
        spec["resources"],
        json!({"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}})
    );
    let mounts = spec["volume_mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 2, "{mounts:?}");
    assert_eq!(mounts[0]["name"], json!("migrations"));
    assert_eq!(mounts[0]["mount_path"], json!("/migrations"));
    assert_eq!(mounts[0]["read_only"], json!(true));
    assert_eq!(
        mounts[0]["config_map"]["name"],
        json!("payments-migrations")
    );
    // 0644 is the API's default, which the spec leaves unset.
    assert_eq!(mounts[0]["config_map"]["default_mode"], J::Null);
    assert_eq!(mounts[1]["name"], json!("scratch"));
    assert_eq!(mounts[1]["mount_path"], json!("/tmp"));
    assert!(mounts[1]["empty_dir"].is_object(), "{:?}", mounts[1]);
    assert_eq!(spec["backoff_limit"], json!(2));
    assert_eq!(spec["ttl_seconds_after_finished"], json!(3600));
    assert_eq!(spec["restart_policy"], json!("Never"));
    assert_eq!(state["wait_for_completion"], json!(true));
    assert_eq!(
        state["timeouts"],
        json!({"create": "5m", "update": "5m", "delete": null})
    );
    assert_eq!(
        state["objects"],
        json!([{
            "api_version": "batch/v1", "kind": "Job", "namespace": "payments",
            "name": "schema-migrate", "uid": "0c7f2a94-3e1b-4c55-9d0e-7a6b1f2e8c31",
        }])
    );

    // What the spec cannot say is kept, named once, and marked for the
    // first refresh to take from the live Job.
    let private = ImportPrivate::from_private(&resp.private);
    assert!(private.imported && private.moved, "{private:?}");
    let adopted = private.adopted.expect("the Job is adopted");
    assert_eq!(
        adopted
            .labels
            .get("app.kubernetes.io/name")
            .map(String::as_str),
        Some("payments-db")
    );
    let warnings: Vec<_> = resp.diagnostics.0.iter().collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .detail
            .contains("spec.template.spec.containers[0].name"),
        "{}",
        warnings[0].detail
    );
}

/// The older type name moves the same way, with its own settings.
#[test]
fn kubernetes_job_state_moves_with_its_settings() {
    let (_, state) = moved(JOB);
    assert_eq!(state["metadata"]["name"], json!("daily-report"));
    assert_eq!(state["spec"]["namespace"]["value"], json!("analytics"));
    assert_eq!(state["wait_for_completion"], json!(false));
    assert_eq!(
        state["spec"]["image"]["repo"],
        json!("registry.example.com/analytics/daily-report")
    );
    assert_eq!(state["spec"]["backoff_limit"], json!(6));
}

/// Anything but the two types of hashicorp/kubernetes, at schema version
/// 1 and as JSON naming a created Job, is one error saying what to do.
#[test]
fn other_sources_are_one_clear_error() {
    let (_, attributes) = source(JOB_V1);
    let schema_type = schema().value_type();
    let error = |req: MoveRequest| {
        let resp = accept(&req, &schema_type);
        assert!(resp.state.is_none());
        assert_eq!(resp.diagnostics.0.len(), 1, "{:?}", resp.diagnostics);
        let d = resp.diagnostics.0[0].clone();
        assert!(resp.diagnostics.has_error());
        (d.summary, d.detail)
    };

    let (summary, detail) = error(request("kubernetes_deployment_v1", 1, &attributes));
    assert_eq!(summary, "Unsupported Move Source");
    assert!(detail.contains("kubernetes_deployment_v1"), "{detail}");
    assert!(detail.contains("terraform state rm"), "{detail}");

    let mut other_provider = request("kubernetes_job_v1", 1, &attributes);
    other_provider.source_provider_address = "registry.terraform.io/example/kubernetes".into();
    let (summary, detail) = error(other_provider);
    assert_eq!(summary, "Unsupported Move Source");
    assert!(detail.contains("example/kubernetes"), "{detail}");

    let (summary, detail) = error(request("kubernetes_job", 0, &attributes));
    assert_eq!(summary, "Unsupported Source Schema Version");
    assert!(detail.contains("schema version 0"), "{detail}");
    assert!(detail.contains("-refresh-only"), "{detail}");

    let mut junk = request("kubernetes_job_v1", 1, &attributes);
    junk.source_state = b"[1, 2]".to_vec();
    assert_eq!(error(junk).0, "Unreadable Source State");

    let mut never_created = attributes.clone();
    never_created["metadata"][0]["uid"] = json!("");
    let (summary, detail) = error(request("kubernetes_job_v1", 1, &never_created));
    assert_eq!(summary, "Unreadable Source State");
    assert!(detail.contains("no uid"), "{detail}");

    let mut bad_image = attributes.clone();
    bad_image["spec"][0]["template"][0]["spec"][0]["container"] = json!("nope");
    assert_eq!(
        error(request("kubernetes_job_v1", 1, &bad_image)).0,
        "Unreadable Source State"
    );
}

/// OpenTofu's registry host and the bare name some clients send are the
/// same provider; a look-alike is not.
#[test]
fn source_provider_addresses() {
    for ok in [
        "registry.terraform.io/hashicorp/kubernetes",
        "registry.opentofu.org/hashicorp/kubernetes",
        "hashicorp/kubernetes",
        "kubernetes",
    ] {
        assert!(is_source_provider(ok), "{ok}");
    }
    for no in [
        "registry.terraform.io/hashicorp/kubernetes-alpha",
        "registry.terraform.io/someone/kubernetes",
        "",
    ] {
        assert!(!is_source_provider(no), "{no}");
    }
}

/// A value the API's types refuse is coerced when it is a number in a
/// string, else left out and named; the rest of the Job still moves.
#[test]
fn refused_values_are_coerced_or_named() {
    let (_, mut attributes) = source(JOB_V1);
    let pod = &mut attributes["spec"][0]["template"][0]["spec"][0];
    pod["termination_grace_period_seconds"] = json!("45");
    pod["container"][0]["port"] = json!([{"container_port": "http", "name": "web"}]);
    let rebuilt = job_from_state(&attributes).unwrap();
    let pod = rebuilt.job.spec.unwrap().template.spec.unwrap();
    assert_eq!(pod.termination_grace_period_seconds, Some(45));
    assert_eq!(
        rebuilt.dropped,
        vec!["spec.template.spec.containers[0].ports[0].containerPort".to_string()]
    );
    assert_eq!(pod.containers[0].ports.as_ref().map(Vec::len), Some(1));
}

/// Every row of [`MAPPING`] that names an attribute of ours is carried by
/// the move: each value a fixture sets is checked against its most
/// specific row, and shows up under that row's target; every row is
/// exercised by a fixture.
#[test]
fn every_mapping_row_is_carried() {
    let mut exercised = std::collections::BTreeSet::new();
    for file in [JOB_V1, JOB, JOB_V1_VOLUMES] {
        let (_, attributes) = source(file);
        let (_, state) = moved(file);
        for (path, values) in set_paths(&attributes) {
            let Some((from, to)) = row_for(&path) else {
                continue;
            };
            exercised.insert(from);
            let is_block = values
                .iter()
                .all(|v| v.as_array().is_some_and(|a| a.iter().all(J::is_object)));
            if to == KEPT || is_block {
                continue;
            }
            let mut targets = Vec::new();
            for t in to.split(", ") {
                leaves(&at(&state, t), &mut targets);
            }
            let mut sources = Vec::new();
            for v in &values {
                source_leaves(v, false, &mut sources);
            }
            // The API's default file mode, which the spec leaves unset.
            for s in sources.iter().filter(|s| !s.is_empty() && *s != "0644") {
                let s = &octal_as_decimal(s);
                // A value kept whole, or split (an image into repo and tag).
                let carried = targets
                    .iter()
                    .any(|t| t == s || (t.len() > 2 && s.contains(t.as_str())));
                assert!(
                    carried,
                    "{path} ({from} -> {to}): {s:?} is not among {targets:?}"
                );
            }
        }
    }
    let unexercised: Vec<_> = MAPPING
        .iter()
        .map(|(from, _)| *from)
        .filter(|f| !exercised.contains(f))
        .collect();
    assert!(
        unexercised.is_empty(),
        "no fixture sets {unexercised:?}; add them so the mapping is checked"
    );
}

/// The most specific [`MAPPING`] row for a source path.
fn row_for(path: &str) -> Option<(&'static str, &'static str)> {
    MAPPING
        .iter()
        .filter(|(from, _)| path == *from || path.starts_with(&format!("{from}.")))
        .max_by_key(|(from, _)| from.len())
        .copied()
}

/// The values at a dotted path, through lists and maps.
fn at(v: &J, path: &str) -> J {
    path.split('.').fold(v.clone(), |v, step| match v {
        J::Array(items) => J::Array(items.iter().map(|i| i[step].clone()).collect()),
        // A map keyed by data (env variables by name): through its values.
        J::Object(m) if !m.contains_key(step) => {
            J::Array(m.values().map(|i| i[step].clone()).collect())
        }
        J::Object(m) => m.get(step).cloned().unwrap_or(J::Null),
        _ => J::Null,
    })
}

/// Every scalar under `v`, and every map key, as text.
fn leaves(v: &J, out: &mut Vec<String>) {
    match v {
        J::Null => {}
        J::Array(items) => items.iter().for_each(|i| leaves(i, out)),
        J::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                leaves(v, out);
            }
        }
        J::String(s) => out.push(s.clone()),
        other => out.push(other.to_string()),
    }
}

/// Every value the SDK's state sets under `v`, as text: the values of a
/// block's attributes (a block is an object in a list), and the keys and
/// values of a map attribute (an object anywhere else).
fn source_leaves(v: &J, in_block_list: bool, out: &mut Vec<String>) {
    match v {
        J::Array(items) => items.iter().for_each(|i| source_leaves(i, true, out)),
        J::Object(m) => {
            for (k, v) in m {
                if is_unset(k, v) {
                    continue;
                }
                if !in_block_list {
                    out.push(k.clone());
                }
                source_leaves(v, false, out);
            }
        }
        other => leaves(other, out),
    }
}

/// A file mode the SDK writes in octal (`"0400"`), as the number ours holds.
fn octal_as_decimal(s: &str) -> String {
    match s.strip_prefix('0').map(|o| i64::from_str_radix(o, 8)) {
        Some(Ok(n)) if s.len() == 4 => n.to_string(),
        _ => s.to_string(),
    }
}

/// The migration guide's mapping table says what [`MAPPING`] does, row for
/// row, and nothing else (plus its last row for everything not listed).
#[test]
fn the_guide_lists_the_mapping() {
    let guide = include_str!("../../../docs/guides/migrating-from-kubernetes-job-v1.md");
    let table = guide
        .split("<!-- mapping:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- mapping:end -->").next())
        .expect("the guide marks its mapping table");
    let mut rows = Vec::new();
    for line in table.lines().filter(|l| l.starts_with('|')).skip(2) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 2, "{line}");
        let target = match cells[1] {
            "kept, not expressible" => KEPT.to_string(),
            t => t.replace('`', ""),
        };
        rows.push((cells[0].replace('`', ""), target));
    }
    assert_eq!(
        rows.pop(),
        Some(("any other attribute".to_string(), KEPT.to_string())),
        "the table ends with the row for everything else"
    );
    let code: Vec<(String, String)> = MAPPING
        .iter()
        .map(|(from, to)| (from.to_string(), to.to_string()))
        .collect();
    assert_eq!(rows, code, "the guide's table and MAPPING differ");
}
