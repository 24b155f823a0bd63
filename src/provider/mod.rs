//! The `planton` provider: its configuration block and the resource types,
//! data sources, list resources and functions it offers.
//!
//! - [`schema`]: the provider block's schema and its descriptions.
//! - [`env`](mod@env): what it reads from its process (`KUBE_*`, `KUBECONFIG`,
//!   `HOME`, a pod's service account).
//! - [`settings`]: the block and the environment read into the connection
//!   settings of [`crate::kube::settings`], which ConfigureProvider hands to
//!   the registry of clusters ([`crate::kube::clusters::Clusters`]) that the
//!   provider shares with its resources.
//!
//! It knows nothing of the wire protocol, and reaches no cluster itself.

pub mod env;
pub mod schema;
pub mod settings;

use std::sync::Arc;

use async_trait::async_trait;

use crate::kube::clusters::Clusters;
use crate::kubernetes_job::run::KubernetesJobRun;
use crate::kubernetes_job::{KubernetesJobDataSource, KubernetesJobList, KubernetesJobResource};
use crate::tf::action::Action;
use crate::tf::resource::{ConfigureRequest, DataSource, ListResource};
use crate::tf::{Diagnostics, Function, Provider, Resource, Schema};
use env::Environment;

/// The `planton` provider.
#[derive(Debug, Clone, Default)]
pub struct PlantonProvider {
    clusters: Arc<Clusters>,
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
        schema::provider_schema()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(KubernetesJobResource::with_clients(
            self.clusters.clone(),
        ))]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(KubernetesJobDataSource::with_clients(
            self.clusters.clone(),
        ))]
    }

    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        vec![Arc::new(KubernetesJobList::with_clients(
            self.clusters.clone(),
        ))]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        crate::kubernetes_job::manifest::functions()
    }

    fn actions(&self) -> Vec<Arc<dyn Action>> {
        vec![Arc::new(KubernetesJobRun::with_clients(
            self.clusters.clone(),
        ))]
    }

    async fn validate(&self, config: &crate::tf::Value) -> Diagnostics {
        // The configuration's own problems (empty values, contradicting
        // settings, named clusters without settings); the environment and
        // files are checked when the provider is configured.
        settings::parse(config, &Environment::none()).1
    }

    async fn configure(&self, req: ConfigureRequest) -> Diagnostics {
        // Files are read here (no request, no exec plugin); clients are
        // built when a job first needs its cluster.
        let (settings, mut d) = settings::parse(&req.config, &Environment::process());
        self.clusters
            .allow_deferral(req.capabilities.deferral_allowed);
        d.extend(self.clusters.install(settings));
        d
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The provider offers exactly the job resource and its data source,
    /// and a described provider block with the connection settings.
    #[test]
    fn offers_the_job_resource() {
        let p = PlantonProvider::new();
        let names: Vec<_> = p.resources().iter().map(|r| r.type_name()).collect();
        assert_eq!(names, ["planton_kubernetes_job"]);
        let names: Vec<_> = p.data_sources().iter().map(|r| r.type_name()).collect();
        assert_eq!(names, ["planton_kubernetes_job"]);
        let schema = p.schema();
        assert!(schema.block.attribute("host").is_some());
        assert!(schema.block.attribute("clusters").is_some());
        assert!(!schema.block.description.is_empty());
    }

    /// The provider offers the two manifest functions.
    #[test]
    fn offers_the_manifest_functions() {
        let names: Vec<_> = PlantonProvider::new()
            .functions()
            .iter()
            .map(|f| f.name())
            .collect();
        assert_eq!(
            names,
            ["kubernetes_job_from_manifest", "kubernetes_job_manifest"]
        );
    }
}
