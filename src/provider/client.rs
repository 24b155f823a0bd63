//! The Kubernetes clients a resource uses: [`Clients`], shared by the
//! provider and its resources.
//!
//! The provider block is read by [`super::config`] and its clusters are kept
//! by [`super::clusters`]; [`Clients`] is the handle resources hold. It also
//! accepts plain kubeconfig [`ConnectionSettings`] ([`Clients::configure`]),
//! for tests and tools that drive a resource without a provider block.

use std::path::PathBuf;

use super::clusters::{ClusterRef, Clusters, Connection, PlanVerdict};
use super::config::{
    ClustersConfig, ConnectionSettings as ClusterSettings, Environment, KubeconfigFiles, Origin,
    Parsed, ProviderConfig, Scope, Setting,
};
use crate::tf::{AttributePath, Diagnostics, Value};

/// A kubeconfig to use, without a provider block: `config_path`, else the
/// files of `kubeconfig_env` (as `KUBECONFIG` lists them), else
/// `home_kubeconfig` when it exists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ConnectionSettings {
    /// One kubeconfig file.
    pub config_path: Option<PathBuf>,
    /// The context to use (else the kubeconfig's current context).
    pub config_context: Option<String>,
    /// Files to merge, when `config_path` is not set.
    pub kubeconfig_env: Vec<PathBuf>,
    /// The last resort.
    pub home_kubeconfig: Option<PathBuf>,
}

/// What [`Clients::configure`] is told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Settings {
    /// Not configured (operations fail as a bug).
    #[default]
    Unconfigured,
    /// Known only after apply.
    Unknown(Vec<AttributePath>),
    /// A kubeconfig.
    Known(ConnectionSettings),
}

impl ConnectionSettings {
    fn into_cluster_settings(self) -> ClusterSettings {
        let origin = || Origin::Attribute(AttributePath::root("config_path"));
        let kubeconfig = match (
            self.config_path,
            self.kubeconfig_env.is_empty(),
            self.home_kubeconfig,
        ) {
            (Some(path), _, _) => KubeconfigFiles::Named {
                paths: vec![path],
                origin: origin(),
            },
            (None, false, _) => KubeconfigFiles::KubeconfigEnv(self.kubeconfig_env),
            (None, true, Some(home)) => KubeconfigFiles::Home(home),
            (None, true, None) => KubeconfigFiles::Nowhere,
        };
        let mut s = ClusterSettings::empty(Scope::Provider);
        s.kubeconfig = kubeconfig;
        s.context = self.config_context.map(|value| Setting {
            value,
            origin: Origin::Attribute(AttributePath::root("config_context")),
        });
        s
    }
}

/// The provider's clusters and their shared clients.
#[derive(Debug, Default)]
pub struct Clients {
    clusters: Clusters,
}

impl Clients {
    /// Nothing configured yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// ConfigureProvider: the provider block and the process environment,
    /// and whether Terraform accepts deferred responses.
    pub fn configure_provider(
        &self,
        config: &Value,
        env: &Environment,
        deferral_allowed: bool,
    ) -> Diagnostics {
        self.clusters.allow_deferral(deferral_allowed);
        self.clusters.configure(config, env)
    }

    /// Configures a provider-level kubeconfig directly (no named clusters).
    pub fn configure(&self, settings: Settings) -> Diagnostics {
        let provider = match settings {
            Settings::Unconfigured => {
                self.clusters.unconfigure();
                return Diagnostics::new();
            }
            Settings::Unknown(paths) => Parsed::Unknown(paths),
            Settings::Known(s) => Parsed::Known(Box::new(s.into_cluster_settings())),
        };
        self.clusters.install(
            ProviderConfig {
                provider,
                clusters: ClustersConfig::Known(Default::default()),
            },
            Diagnostics::new(),
        )
    }

    /// The provider's clusters.
    pub fn clusters(&self) -> &Clusters {
        &self.clusters
    }

    /// The client of the provider-level cluster.
    pub async fn client(&self) -> Result<kube::Client, Diagnostics> {
        self.connect(&ClusterRef::Provider).await.map(|c| c.client)
    }

    /// The cluster `r` names and its client.
    pub async fn connect(&self, r: &ClusterRef) -> Result<Connection, Diagnostics> {
        self.clusters.connect(r).await
    }

    /// What the plan of a job on `r` may do; see [`Clusters::plan`].
    pub fn plan(
        &self,
        r: &ClusterRef,
        name_path: &AttributePath,
        deferral_allowed: bool,
    ) -> PlanVerdict {
        self.clusters.plan(r, name_path, deferral_allowed)
    }

    /// Whether the settings of `r` are known only after apply.
    pub fn is_unknown(&self, r: &ClusterRef) -> bool {
        self.clusters.is_unknown(r)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \
        http://127.0.0.1:1\ncontexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  \
        user:\n    token: t\ncurrent-context: ctx\n";

    /// A kubeconfig configured directly builds one shared client; a
    /// missing context is an error that names it; unconfigured is a bug.
    #[tokio::test]
    async fn configures_a_kubeconfig_directly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, KUBECONFIG).unwrap();
        let clients = Clients::new();
        let Err(err) = clients.client().await else {
            panic!("a client without configuration")
        };
        assert_eq!(err.0[0].summary, "Provider Not Configured");

        let d = clients.configure(Settings::Known(ConnectionSettings {
            config_path: Some(path.clone()),
            ..ConnectionSettings::default()
        }));
        assert!(d.is_empty(), "{d:?}");
        clients.client().await.unwrap();
        let a = clients.connect(&ClusterRef::Provider).await.unwrap();
        let b = clients.connect(&ClusterRef::Provider).await.unwrap();
        assert!(std::sync::Arc::ptr_eq(&a.target, &b.target));
        assert_eq!(a.target.identity.endpoint, "http://127.0.0.1:1");

        let d = clients.configure(Settings::Known(ConnectionSettings {
            config_path: Some(path),
            config_context: Some("nope".into()),
            ..ConnectionSettings::default()
        }));
        assert_eq!(d.0[0].summary, "Kubeconfig Context Not Found");
        assert!(d.0[0].detail.contains("\"nope\""), "{}", d.0[0].detail);

        clients.configure(Settings::Unknown(vec![AttributePath::root("config_path")]));
        let Err(err) = clients.client().await else {
            panic!("a client for unknown settings")
        };
        assert_eq!(err.0[0].summary, "Provider Configuration Not Yet Known");
    }
}
