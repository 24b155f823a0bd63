//! The `planton_kubernetes_job` resource: Project Planton's KubernetesJob as
//! a Terraform resource.
//!
//! - [`schema`]: the attribute tree and its user-facing descriptions.
//! - [`spec`]: the typed model read from a configuration, plan or state.
//! - [`validate`]: plan-time checks (Planton's rules, what Kubernetes would
//!   reject, and what Terraform cannot do), each on its attribute path.
//! - [`quantity`]: Kubernetes resource quantities.
//!
//! This module knows Terraform values and Kubernetes rules, but not the wire
//! protocol (`server`) and not, so far, any cluster: this build validates
//! and plans; applying comes with the lifecycle work.

pub mod quantity;
pub mod schema;
pub mod spec;
pub mod validate;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
pub(crate) mod testing;

use async_trait::async_trait;

use crate::tf::resource::{
    ApplyRequest, ApplyResponse, ReadRequest, ReadResponse, ValidateRequest,
};
use crate::tf::{Diagnostics, Resource, Schema};

/// The resource type name.
pub const TYPE_NAME: &str = "planton_kubernetes_job";

/// The `planton_kubernetes_job` resource type.
#[derive(Debug, Clone, Default)]
pub struct KubernetesJobResource;

impl KubernetesJobResource {
    /// The resource.
    pub fn new() -> Self {
        KubernetesJobResource
    }
}

#[async_trait]
impl Resource for KubernetesJobResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    async fn validate(&self, req: ValidateRequest) -> Diagnostics {
        validate::validate(&req.config)
    }

    // plan(): the framework pipeline (defaults, unknown computed values,
    // requires-replace) is all this build needs.

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let mut resp = ApplyResponse {
            // Nothing changed, so the state stays what it was.
            new_state: req.prior_state,
            ..ApplyResponse::default()
        };
        resp.diagnostics.error(
            "Apply Not Yet Supported",
            "This build of the planton provider can validate and plan planton_kubernetes_job, but cannot apply \
             it yet: nothing was created, changed or deleted in any cluster. Use `terraform validate` and \
             `terraform plan` to check configurations; applying arrives with a later provider release.",
        );
        resp
    }

    async fn read(&self, req: ReadRequest) -> ReadResponse {
        // Nothing is ever created, so there is nothing to refresh.
        ReadResponse {
            new_state: req.current_state,
            private: req.private,
            diagnostics: Diagnostics::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::tf::Value;
    use tokio_util::sync::CancellationToken;

    /// Apply refuses clearly and keeps the prior state; read changes nothing.
    #[tokio::test]
    async fn apply_refuses_and_read_is_identity() {
        let r = KubernetesJobResource::new();
        let state = Value::object([("id", Value::string("batch/nightly"))]);
        let resp = r
            .apply(ApplyRequest {
                prior_state: state.clone(),
                planned_state: Value::Null,
                config: Value::Null,
                planned_private: Vec::new(),
                cancel: CancellationToken::new(),
            })
            .await;
        assert!(resp.diagnostics.has_error());
        assert_eq!(resp.diagnostics.0[0].summary, "Apply Not Yet Supported");
        assert_eq!(resp.new_state, state);

        let read = r
            .read(ReadRequest {
                current_state: state.clone(),
                private: vec![1, 2],
                cancel: CancellationToken::new(),
            })
            .await;
        assert_eq!(read.new_state, state);
        assert_eq!(read.private, vec![1, 2]);
        assert!(read.diagnostics.is_empty());
        assert_eq!(r.type_name(), "planton_kubernetes_job");
    }
}
