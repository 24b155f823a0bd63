//! `meta.k8s.io/v1` `Table` answers (what `kubectl get` asks for), with the
//! columns kube-apiserver's printers use for the served kinds.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::meta;
use crate::resources::ResourceType;

fn col(name: &str, ty: &str, priority: u8) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": ty, "format": format, "description": name, "priority": priority})
}

/// kubectl's short ages: `5s`, `3m2s`, `10m`, `4h`, `2d3h`, `12d`.
pub fn human_duration(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    match s {
        0..120 => format!("{s}s"),
        120..600 => format!("{}m{}s", s / 60, s % 60),
        600..10_800 => format!("{}m", s / 60),
        10_800..28_800 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        28_800..172_800 => format!("{}h", s / 3600),
        172_800..691_200 => format!("{}d{}h", s / 86_400, (s % 86_400) / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn age(obj: &Value) -> String {
    meta::get_str(obj, &["metadata", "creationTimestamp"])
        .and_then(meta::parse_time)
        .map(|t| human_duration(meta::now_secs() - t))
        .unwrap_or_else(|| "<unknown>".into())
}

fn count(v: Option<&Value>) -> usize {
    match v {
        Some(Value::Object(m)) => m.len(),
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    }
}

fn pod_status(obj: &Value) -> String {
    if meta::is_deleting(obj) {
        return "Terminating".into();
    }
    let mut reason = meta::get_str(obj, &["status", "phase"])
        .unwrap_or("Pending")
        .to_string();
    for cs in meta::get(obj, &["status", "containerStatuses"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(r) = meta::get_str(cs, &["state", "waiting", "reason"]) {
            reason = r.to_string();
        } else if let Some(r) = meta::get_str(cs, &["state", "terminated", "reason"]) {
            reason = r.to_string();
        }
    }
    reason
}

fn job_status(obj: &Value) -> &'static str {
    let conds = meta::get(obj, &["status", "conditions"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has = |t: &str| {
        conds.iter().any(|c| {
            c.get("type").and_then(Value::as_str) == Some(t)
                && c.get("status").and_then(Value::as_str) == Some("True")
        })
    };
    if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if meta::is_deleting(obj) {
        "Terminating"
    } else if has("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else if has("Suspended") {
        "Suspended"
    } else {
        "Running"
    }
}

fn columns_and_cells(rt: &ResourceType, obj: &Value) -> (Vec<Value>, Vec<Value>) {
    let name = json!(meta::name(obj));
    match rt.kind {
        "Namespace" => (
            vec![
                col("Name", "string", 0),
                col("Status", "string", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(meta::get_str(obj, &["status", "phase"]).unwrap_or("")),
                json!(age(obj)),
            ],
        ),
        "ConfigMap" => (
            vec![
                col("Name", "string", 0),
                col("Data", "integer", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(count(obj.get("data")) + count(obj.get("binaryData"))),
                json!(age(obj)),
            ],
        ),
        "Secret" => (
            vec![
                col("Name", "string", 0),
                col("Type", "string", 0),
                col("Data", "integer", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(obj.get("type").and_then(Value::as_str).unwrap_or("")),
                json!(count(obj.get("data"))),
                json!(age(obj)),
            ],
        ),
        "ServiceAccount" => (
            vec![
                col("Name", "string", 0),
                col("Secrets", "string", 0),
                col("Age", "string", 0),
            ],
            vec![name, json!(count(obj.get("secrets"))), json!(age(obj))],
        ),
        "Pod" => {
            let statuses = meta::get(obj, &["status", "containerStatuses"])
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = meta::get(obj, &["spec", "containers"])
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let ready = statuses
                .iter()
                .filter(|s| s.get("ready") == Some(&json!(true)))
                .count();
            let restarts: i64 = statuses
                .iter()
                .filter_map(|s| s.get("restartCount").and_then(Value::as_i64))
                .sum();
            (
                vec![
                    col("Name", "string", 0),
                    col("Ready", "string", 0),
                    col("Status", "string", 0),
                    col("Restarts", "string", 0),
                    col("Age", "string", 0),
                    col("IP", "string", 1),
                    col("Node", "string", 1),
                ],
                vec![
                    name,
                    json!(format!("{ready}/{total}")),
                    json!(pod_status(obj)),
                    json!(restarts.to_string()),
                    json!(age(obj)),
                    json!(meta::get_str(obj, &["status", "podIP"]).unwrap_or("<none>")),
                    json!(meta::get_str(obj, &["spec", "nodeName"]).unwrap_or("<none>")),
                ],
            )
        }
        "Job" => {
            let succeeded = meta::get_i64(obj, &["status", "succeeded"]).unwrap_or(0);
            let completions = meta::get_i64(obj, &["spec", "completions"])
                .map_or("<none>".to_string(), |c| c.to_string());
            let start = meta::get_str(obj, &["status", "startTime"]).and_then(meta::parse_time);
            let end = meta::get_str(obj, &["status", "completionTime"])
                .and_then(meta::parse_time)
                .unwrap_or_else(meta::now_secs);
            let duration = start.map(|s| human_duration(end - s)).unwrap_or_default();
            let containers = meta::get(obj, &["spec", "template", "spec", "containers"])
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let names: Vec<&str> = containers
                .iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str))
                .collect();
            let images: Vec<&str> = containers
                .iter()
                .filter_map(|c| c.get("image").and_then(Value::as_str))
                .collect();
            (
                vec![
                    col("Name", "string", 0),
                    col("Status", "string", 0),
                    col("Completions", "string", 0),
                    col("Duration", "string", 0),
                    col("Age", "string", 0),
                    col("Containers", "string", 1),
                    col("Images", "string", 1),
                ],
                vec![
                    name,
                    json!(job_status(obj)),
                    json!(format!("{succeeded}/{completions}")),
                    json!(duration),
                    json!(age(obj)),
                    json!(names.join(",")),
                    json!(images.join(",")),
                ],
            )
        }
        "Event" => (
            vec![
                col("Last Seen", "string", 0),
                col("Type", "string", 0),
                col("Reason", "string", 0),
                col("Object", "string", 0),
                col("Message", "string", 0),
            ],
            vec![
                json!(
                    meta::get_str(obj, &["lastTimestamp"])
                        .and_then(meta::parse_time)
                        .map(|t| human_duration(meta::now_secs() - t))
                        .unwrap_or_default()
                ),
                json!(obj.get("type").and_then(Value::as_str).unwrap_or("")),
                json!(obj.get("reason").and_then(Value::as_str).unwrap_or("")),
                json!(format!(
                    "{}/{}",
                    meta::get_str(obj, &["involvedObject", "kind"])
                        .unwrap_or("")
                        .to_lowercase(),
                    meta::get_str(obj, &["involvedObject", "name"]).unwrap_or("")
                )),
                json!(obj.get("message").and_then(Value::as_str).unwrap_or("")),
            ],
        ),
        _ => (
            vec![col("Name", "string", 0), col("Age", "string", 0)],
            vec![name, json!(age(obj))],
        ),
    }
}

/// A Table of `objects`.
pub fn render(
    rt: &ResourceType,
    objects: &[Arc<Value>],
    rv: &str,
    include_object: Option<&str>,
) -> Value {
    let columns = columns_and_cells(rt, &json!({})).0;
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let cells = columns_and_cells(rt, o).1;
            let object = match include_object {
                Some("None") => Value::Null,
                Some("Object") => (**o).clone(),
                _ => json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.get("metadata").cloned().unwrap_or(json!({}))}),
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns,
        "rows": rows,
    })
}
