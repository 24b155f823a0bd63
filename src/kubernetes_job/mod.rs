//! The `planton_kubernetes_job` resource: Project Planton's KubernetesJob as
//! a Terraform resource.
//!
//! - [`schema`]: the attribute tree and its user-facing descriptions
//!   ([`options`] and [`state`] add the resource's own settings and
//!   computed attributes).
//! - [`spec`]: the typed model read from a configuration, plan or state.
//! - [`validate`]: plan-time checks (Planton's rules, what Kubernetes would
//!   reject, and what Terraform cannot do), each on its attribute path.
//! - [`quantity`]: Kubernetes resource quantities.
//! - [`render`]: the Kubernetes objects a known configuration stands for.
//! - [`buckets`]: the plan: in place or replace, field by field, and the
//!   computed values.
//! - [`apply`], [`read`], [`wait`], [`delete`]: the lifecycle against a
//!   cluster, through [`cluster`] (typed access by object reference).
//!
//! This module knows Terraform values and Kubernetes, but not the wire
//! protocol (`server`). Validation and planning never contact a cluster.

pub mod apply;
pub mod buckets;
pub mod cluster;
pub mod delete;
pub mod options;
pub mod quantity;
pub mod read;
pub mod render;
pub mod schema;
pub mod spec;
pub mod state;
pub mod validate;
pub mod wait;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
pub(crate) mod testing;

use std::sync::Arc;

use async_trait::async_trait;

use crate::provider::client::Clients;
use crate::provider::clusters::{ClusterRef, PlanVerdict};
use crate::tf::resource::{
    ApplyRequest, ApplyResponse, PlanRequest, PlanResponse, ReadRequest, ReadResponse,
    ValidateRequest,
};
use crate::tf::{AttributePath, Diagnostics, Resource, Schema, Value};

/// The resource type name.
pub const TYPE_NAME: &str = "planton_kubernetes_job";

/// The `planton_kubernetes_job` resource type.
#[derive(Debug, Clone, Default)]
pub struct KubernetesJobResource {
    clients: Arc<Clients>,
}

impl KubernetesJobResource {
    /// The resource, with clients of its own (unconfigured until a provider
    /// configures them; for tests).
    pub fn new() -> Self {
        KubernetesJobResource::default()
    }

    /// The resource, using the provider's clients.
    pub fn with_clients(clients: Arc<Clients>) -> Self {
        KubernetesJobResource { clients }
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
        let mut d = validate::validate(&req.config);
        d.extend(options::validate(&req.config));
        d
    }

    async fn plan(&self, req: &PlanRequest, resp: &mut PlanResponse) {
        buckets::refine_plan(req, resp);
        // The job's cluster: never contacted here, but it must exist, and
        // settings known only after apply defer or plan without it.
        let on = if req.config.is_null() {
            &req.prior_state
        } else {
            &req.config
        };
        match self.clients.plan(
            &target_cluster(on),
            &cluster_name_path(),
            req.capabilities.deferral_allowed,
        ) {
            PlanVerdict::Ready | PlanVerdict::PlanWithoutCluster => {}
            PlanVerdict::Defer(reason) => resp.deferred = Some(reason),
            PlanVerdict::Error(d) => resp.diagnostics.extend(d),
        }
    }

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let on = if req.planned_state.is_null() {
            &req.prior_state
        } else {
            &req.planned_state
        };
        let client = match self.clients.connect(&target_cluster(on)).await {
            Ok(c) => c.client,
            Err(diagnostics) => {
                return ApplyResponse {
                    new_state: req.prior_state,
                    private: Vec::new(),
                    diagnostics,
                };
            }
        };
        if req.planned_state.is_null() {
            delete::delete(&client, &req.prior_state, &req.cancel).await
        } else if req.prior_state.is_null() {
            apply::create(&client, req.planned_state, &req.cancel).await
        } else {
            let private = state::Private::from_bytes(&req.planned_private);
            apply::update(
                &client,
                &req.prior_state,
                req.planned_state,
                &private,
                &req.cancel,
            )
            .await
        }
    }

    async fn read(&self, req: ReadRequest) -> ReadResponse {
        if req.current_state.is_null() {
            return ReadResponse::default();
        }
        let cluster = target_cluster(&req.current_state);
        if self.clients.is_unknown(&cluster) {
            // Planning with provider settings known only after apply: keep
            // the state as it is rather than ask any other cluster.
            return ReadResponse {
                new_state: req.current_state,
                private: req.private,
                diagnostics: Diagnostics::new(),
            };
        }
        let client = match self.clients.connect(&cluster).await {
            Ok(c) => c.client,
            Err(diagnostics) => {
                return ReadResponse {
                    new_state: req.current_state,
                    private: req.private,
                    diagnostics,
                };
            }
        };
        read::read(&client, req.current_state, &req.cancel).await
    }
}

/// The cluster a configuration, plan or state names in
/// `spec.target_cluster.cluster_name`.
fn target_cluster(value: &Value) -> ClusterRef {
    ClusterRef::from_name(value.get("spec").get("target_cluster").get("cluster_name"))
}

fn cluster_name_path() -> AttributePath {
    AttributePath::root("spec")
        .attr("target_cluster")
        .attr("cluster_name")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::tf::Value;
    use tokio_util::sync::CancellationToken;

    /// Without a configured provider, apply and read fail clearly and keep
    /// the state.
    #[tokio::test]
    async fn unconfigured_provider_keeps_state() {
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
        assert_eq!(resp.diagnostics.0[0].summary, "Provider Not Configured");
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
        assert!(read.diagnostics.has_error());
        assert_eq!(r.type_name(), "planton_kubernetes_job");
    }
}
