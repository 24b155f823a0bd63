//! GenerateResourceConfig for `planton_kubernetes_job`: the configuration
//! Terraform writes for an imported Job (`terraform plan
//! -generate-config-out`, `terraform query -generate-config-out`).
//!
//! The framework's rule does most of it ([`config_from_state`]): only
//! attributes a configuration sets, none that are computed, and nothing
//! that equals its default. On top, `spec.resources` that equals Planton's
//! default in another spelling (`1` for `1000m`) is left out too, so the
//! generated block is the short one a user would write.

use crate::kubernetes_job::model::quantity::same_quantity;
use crate::kubernetes_job::model::schema::{default_resources, schema};
use crate::kubernetes_job::model::state;
use crate::tf::Value;
use crate::tf::generate::config_from_state;
use crate::tf::resource::GenerateConfigResponse;

/// The configuration for `state`.
pub fn generate(state_value: &Value) -> GenerateConfigResponse {
    let mut config = config_from_state(&schema().block, state_value);
    if let Some(resources) = state::get_mut(&mut config, &["spec", "resources"])
        && same_resources(resources, &default_resources())
    {
        *resources = Value::Null;
    }
    GenerateConfigResponse {
        config,
        diagnostics: crate::tf::Diagnostics::new(),
    }
}

/// Whether two `spec.resources` values hold the same quantities.
fn same_resources(a: &Value, b: &Value) -> bool {
    ["limits", "requests"].iter().all(|side| {
        ["cpu", "memory"].iter().all(|q| {
            let (x, y) = (a.get(side).get(q), b.get(side).get(q));
            match (x.as_str(), y.as_str()) {
                (Some(x), Some(y)) => same_quantity(x, y),
                _ => x == y,
            }
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::kubernetes_job::testing;
    use serde_json::json;

    /// Computed attributes, defaults and Planton's default resources (in
    /// any spelling) are left out; the rest is kept.
    #[test]
    fn generated_configuration_is_minimal() {
        let mut state_value = testing::config(&json!({
            "metadata": {"name": "report", "org": "acme"},
            "spec": {
                "namespace": {"value": "batch"},
                "image": {"repo": "busybox", "tag": "1.36"},
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                              "requests": {"cpu": "50m", "memory": "100Mi"}},
                "parallelism": 1, "completions": 1, "backoff_limit": 2,
                "completion_mode": "NonIndexed", "restart_policy": "Never",
                "suspend": false, "create_namespace": false,
                "command": ["sh", "-c", "true"]
            },
            "wait_for_completion": true,
            "after_ttl_deletion": "keep",
            "delete_propagation": "Background"
        }))
        .unwrap();
        state::set(&mut state_value, "id", Value::string("batch/report"));
        state::set(&mut state_value, "drift", Value::List(vec![]));
        let config = generate(&state_value).config;
        let want = testing::config(&json!({
            "metadata": {"name": "report", "org": "acme"},
            "spec": {
                "namespace": {"value": "batch"},
                "image": {"repo": "busybox", "tag": "1.36"},
                "backoff_limit": 2,
                "command": ["sh", "-c", "true"]
            }
        }))
        .unwrap();
        assert_eq!(config, want);
    }

    /// Resources other than the default are kept as stored.
    #[test]
    fn other_resources_are_kept() {
        let state_value = testing::config(&json!({
            "metadata": {"name": "report"},
            "spec": {
                "namespace": {"value": "batch"},
                "image": {"repo": "busybox"},
                "resources": {"limits": {"cpu": "2"}}
            }
        }))
        .unwrap();
        let config = generate(&state_value).config;
        assert_eq!(
            config.get("spec").get("resources").get("limits").get("cpu"),
            &Value::string("2")
        );
        assert!(
            config
                .get("spec")
                .get("resources")
                .get("requests")
                .is_null()
        );
    }
}
