//! Crashes the fuzz targets found, each as the smallest input that shows
//! it, through the same public entry points Terraform reaches. Each stays
//! a test after its fix.

use planton_provider::kubernetes_job::KubernetesJobResource;
use planton_provider::tf::dispatch::apply_resource_change;
use planton_provider::tf::resource::{ApplyRequest, ClientCapabilities, ValidateRequest};
use planton_provider::tf::value::json;
use planton_provider::tf::{Resource, Value};
use tokio_util::sync::CancellationToken;

use crate::inputs::runtime;

/// A valid configuration with `spec` and top-level settings from JSON.
fn config(spec_extra: serde_json::Value, settings: serde_json::Value) -> Value {
    let resource = KubernetesJobResource::new();
    let mut spec = serde_json::json!({
        "namespace": {"value": "batch"},
        "image": {"repo": "busybox", "tag": "1.36"},
    });
    if let (Some(s), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
        s.extend(extra.clone());
    }
    let mut root = serde_json::json!({"metadata": {"name": "nightly"}, "spec": spec});
    if let (Some(r), Some(extra)) = (root.as_object_mut(), settings.as_object()) {
        r.extend(extra.clone());
    }
    json::decode(root.to_string().as_bytes(), &resource.schema().value_type()).unwrap()
}

/// The configuration is valid (Terraform would plan and apply it), and an
/// apply of it as planned, or a destroy of it as a state, answers with
/// diagnostics instead of crashing the provider.
fn valid_and_applies_without_crashing(config: Value) {
    let resource = KubernetesJobResource::new();
    let rt = runtime();
    let d = rt.block_on(resource.validate(ValidateRequest {
        config: config.clone(),
        capabilities: ClientCapabilities::default(),
    }));
    assert!(!d.has_error(), "the configuration is not valid: {d:?}");
    for (prior, planned) in [(Value::Null, config.clone()), (config.clone(), Value::Null)] {
        let resp = rt.block_on(apply_resource_change(
            &resource,
            ApplyRequest {
                prior_state: prior,
                planned_state: planned,
                config: config.clone(),
                planned_private: Vec::new(),
                cancel: CancellationToken::new(),
            },
        ));
        // Unconfigured: the provider says so, after building the budget.
        assert!(resp.diagnostics.has_error());
    }
}

/// `spec.active_deadline_seconds` near the int64 limit (valid for
/// Kubernetes and for validation) without `timeouts.create`: the create
/// timeout becomes the deadline plus a grace, and adding it to the clock
/// panicked ("overflow when adding duration to instant" in
/// `Budget::new`, src/kube/budget.rs). Found by
/// `applies_of_random_values_on_an_unconfigured_provider_never_panic`.
#[test]
fn a_job_deadline_near_the_int64_limit_does_not_crash_the_apply() {
    valid_and_applies_without_crashing(config(
        serde_json::json!({"active_deadline_seconds": 9_223_372_036_854_775_807i64}),
        serde_json::json!({}),
    ));
}

/// A timeout longer than the clock can hold (about 292 billion years;
/// `parse_duration` accepts up to what a `Duration` holds): the same
/// overflow, for create and for delete.
#[test]
fn a_timeout_beyond_the_clock_does_not_crash_the_apply() {
    valid_and_applies_without_crashing(config(
        serde_json::json!({}),
        serde_json::json!({"timeouts": {"create": "3000000000000000h", "delete": "3000000000000000h"}}),
    ));
}
