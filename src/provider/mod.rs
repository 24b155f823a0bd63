//! The `planton` provider: its configuration block and the resource types it
//! offers.
//!
//! The provider block is empty for now; connection settings (kubeconfig,
//! context, token, named clusters) arrive with the provider-configuration
//! work, and with them the kube clients this module will build. It knows
//! nothing of the wire protocol.

use std::sync::Arc;

use async_trait::async_trait;

use crate::kubernetes_job::KubernetesJobResource;
use crate::tf::schema::Block;
use crate::tf::{Provider, Resource, Schema};

const DESCRIPTION: &str =
    "The planton provider manages Project Planton's `KubernetesJob` as the Terraform \
resource `planton_kubernetes_job`: a Kubernetes Job with its namespace, env Secret, ConfigMaps and \
ServiceAccount, described with the same fields as a Planton manifest.

The provider block takes no settings yet: `provider \"planton\" {}`.";

/// The `planton` provider.
#[derive(Debug, Clone, Default)]
pub struct PlantonProvider;

impl PlantonProvider {
    /// The provider with its resource types.
    pub fn new() -> Self {
        PlantonProvider
    }
}

#[async_trait]
impl Provider for PlantonProvider {
    fn schema(&self) -> Schema {
        Schema::new(Block::new(Vec::new(), DESCRIPTION))
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(KubernetesJobResource::new())]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The provider offers exactly the job resource and an empty, described
    /// provider block.
    #[test]
    fn offers_the_job_resource() {
        let p = PlantonProvider::new();
        let names: Vec<_> = p.resources().iter().map(|r| r.type_name()).collect();
        assert_eq!(names, ["planton_kubernetes_job"]);
        let schema = p.schema();
        assert!(schema.block.attributes.is_empty());
        assert!(!schema.block.description.is_empty());
    }
}
