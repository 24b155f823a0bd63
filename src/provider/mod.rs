//! The `planton` provider: its configuration block and the resource types it
//! offers.
//!
//! - [`client`]: connection settings (`config_path`, `config_context` and
//!   the environment) to a shared Kubernetes client.
//!
//! It knows nothing of the wire protocol.

pub mod client;

use std::sync::Arc;

use async_trait::async_trait;

use crate::kubernetes_job::KubernetesJobResource;
use crate::tf::resource::ConfigureRequest;
use crate::tf::schema::Block;
use crate::tf::{Attribute, Diagnostics, Provider, Resource, Schema, Type};
use client::{Clients, ConnectionSettings};

const DESCRIPTION: &str =
    "The planton provider manages Project Planton's `KubernetesJob` as the Terraform \
resource `planton_kubernetes_job`: a Kubernetes Job with its namespace, env Secret, ConfigMaps and \
ServiceAccount, described with the same fields as a Planton manifest.

The provider reaches its cluster through a kubeconfig: `config_path`, else the environment variable \
`KUBE_CONFIG_PATH`, else `KUBECONFIG`, else `~/.kube/config`. It never falls back to in-cluster credentials or \
to localhost: with none of these, operations that need the cluster fail with an error saying so.";

const CONFIG_PATH: &str = "Path to the kubeconfig file to use. Wins over the environment variables \
`KUBE_CONFIG_PATH` and `KUBECONFIG` and over `~/.kube/config`, which are used, in that order, when this is not \
set. A leading `~/` means the home directory.";

const CONFIG_CONTEXT: &str = "The kubeconfig context to use. Wins over the environment variable `KUBE_CTX`; \
when neither is set, the kubeconfig's current context is used.";

/// The `planton` provider.
#[derive(Debug, Clone, Default)]
pub struct PlantonProvider {
    clients: Arc<Clients>,
}

impl PlantonProvider {
    /// The provider with its resource types.
    pub fn new() -> Self {
        PlantonProvider::default()
    }
}

#[async_trait]
impl Provider for PlantonProvider {
    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            vec![
                Attribute::optional("config_path", Type::String, CONFIG_PATH),
                Attribute::optional("config_context", Type::String, CONFIG_CONTEXT),
            ],
            DESCRIPTION,
        ))
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(KubernetesJobResource::with_clients(
            self.clients.clone(),
        ))]
    }

    async fn configure(&self, req: ConfigureRequest) -> Diagnostics {
        // Files are read (and clients built) on first use, so that a plan
        // that needs no cluster never fails for want of one.
        self.clients
            .configure(ConnectionSettings::from_provider_config(
                &req.config,
                &|name| std::env::var_os(name),
            ));
        Diagnostics::new()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The provider offers exactly the job resource and a described provider
    /// block with the connection settings.
    #[test]
    fn offers_the_job_resource() {
        let p = PlantonProvider::new();
        let names: Vec<_> = p.resources().iter().map(|r| r.type_name()).collect();
        assert_eq!(names, ["planton_kubernetes_job"]);
        let schema = p.schema();
        let attrs: Vec<_> = schema
            .block
            .attributes
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(attrs, ["config_path", "config_context"]);
        assert!(!schema.block.description.is_empty());
    }
}
