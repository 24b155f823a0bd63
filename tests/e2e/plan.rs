//! `terraform plan`: what a user sees before anything is applied.

use serde_json::{Value as Json, json};

use crate::harness::{RESOURCE_TYPE, Tf};

/// A job that sets only what is required, so every default shows. The
/// provider names a cluster (planning a new job never contacts it, and
/// nothing listens there): with no cluster configured at all, the plan
/// would fail.
const MINIMAL_JOB: &str = r#"provider "planton" {
  host = "https://127.0.0.1:9"
}

resource "planton_kubernetes_job" "hello" {
  metadata = {
    name = "hello"
  }
  spec = {
    namespace = {
      value = "jobs"
    }
    image = {
      repo = "busybox"
      tag  = "1.36"
    }
  }
}
"#;

/// The one resource change in a `terraform show -json` plan.
fn only_change(plan: &Json) -> &Json {
    let changes = plan["resource_changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no resource_changes in plan:\n{plan:#}"));
    assert_eq!(changes.len(), 1, "expected one resource change:\n{plan:#}");
    let change = &changes[0];
    assert_eq!(change["type"], RESOURCE_TYPE, "{change:#}");
    change
}

/// Planning a new job (which needs no cluster) shows Planton's defaults as
/// known values: parallelism 1, completions 1, backoff_limit 6,
/// completion_mode NonIndexed, restart_policy Never, suspend false, and the
/// documented resources; the id is unknown until apply.
#[test]
fn plan_create_shows_planton_defaults_as_known_values() {
    let tf = Tf::new("plan-defaults");
    tf.config(MINIMAL_JOB);
    tf.init();
    let plan = tf.plan();
    let change = only_change(&plan);
    assert_eq!(change["change"]["actions"], json!(["create"]), "{change:#}");

    let after = &change["change"]["after"];
    let after_unknown = &change["change"]["after_unknown"];
    let spec = &after["spec"];
    let expected = [
        ("parallelism", json!(1)),
        ("completions", json!(1)),
        ("backoff_limit", json!(6)),
        ("completion_mode", json!("NonIndexed")),
        ("restart_policy", json!("Never")),
        ("suspend", json!(false)),
        ("create_namespace", json!(false)),
        (
            "resources",
            json!({
                "limits": { "cpu": "1000m", "memory": "1Gi" },
                "requests": { "cpu": "50m", "memory": "100Mi" }
            }),
        ),
    ];
    let mut problems = Vec::new();
    for (name, want) in &expected {
        if after_unknown["spec"][name] == json!(true) {
            problems.push(format!("spec.{name} is unknown (known after apply)"));
        } else if &spec[name] != want {
            problems.push(format!("spec.{name}: expected {want}, got {}", spec[name]));
        }
    }
    if after_unknown["id"] != json!(true) {
        problems.push(format!(
            "id: expected unknown until apply, got {} (after_unknown {})",
            after["id"], after_unknown["id"]
        ));
    }
    assert!(
        problems.is_empty(),
        "planned values are not as expected:\n{}\n\nplanned change:\n{change:#}",
        problems.join("\n")
    );

    // The same values appear among the plan's planned values.
    let planned = &plan["planned_values"]["root_module"]["resources"][0]["values"]["spec"];
    for (name, want) in &expected {
        assert_eq!(
            &planned[name], want,
            "planned_values spec.{name}:\n{plan:#}"
        );
    }
}
