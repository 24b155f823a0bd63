//! The plan pipeline that runs for every PlanResourceChange, in the order
//! terraform-plugin-framework uses: defaults, unknown computed values,
//! use-state-for-unknown, requires-replace, then the resource's own hook.

use super::resource::{ClientCapabilities, PlanRequest, PlanResponse, Resource};
use super::value::Value;

/// Everything PlanResourceChange receives, decoded.
#[derive(Debug, Clone)]
pub struct PlanInput {
    /// Prior state (`Null` on create).
    pub prior_state: Value,
    /// Terraform's proposed new state (`Null` on destroy).
    pub proposed_new_state: Value,
    /// Configuration (`Null` on destroy).
    pub config: Value,
    /// Prior private bytes.
    pub prior_private: Vec<u8>,
    /// Terraform's capabilities.
    pub capabilities: ClientCapabilities,
}

/// Plans a change of `resource`.
pub async fn plan_resource_change(resource: &dyn Resource, input: PlanInput) -> PlanResponse {
    let mut resp = PlanResponse {
        planned_state: input.proposed_new_state.clone(),
        planned_private: input.prior_private.clone(),
        ..PlanResponse::default()
    };
    let req = PlanRequest {
        prior_state: input.prior_state,
        config: input.config,
        prior_private: input.prior_private,
        capabilities: input.capabilities,
    };
    resource.plan(&req, &mut resp).await;
    resp
}
