//! Connection settings as the registry of clusters receives them: for the
//! provider-level cluster and each named cluster, either values known in
//! full or the attribute paths still unknown. Whoever reads a configuration
//! (the provider, from its block and environment) fills these types in; this
//! file only says what a setting is, where it came from and how messages
//! name it, and reads nothing itself.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::tf::AttributePath;

/// The attribute that holds the named clusters; a named cluster's settings
/// sit under `clusters["<name>"]`.
pub const CLUSTERS_ATTRIBUTE: &str = "clusters";

/// The variable a pod's in-cluster settings take the API server's host from.
pub const KUBERNETES_SERVICE_HOST: &str = "KUBERNETES_SERVICE_HOST";

/// Which set of connection settings: the provider level or one `clusters`
/// entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The provider block's own attributes (and the environment).
    Provider,
    /// `clusters["<name>"]`.
    Cluster(String),
}

impl Scope {
    /// The attribute path of this scope's settings.
    pub fn path(&self) -> AttributePath {
        match self {
            Scope::Provider => AttributePath::empty(),
            Scope::Cluster(name) => AttributePath::root(CLUSTERS_ATTRIBUTE).key(name),
        }
    }

    /// The path of one attribute of this scope.
    pub fn attr(&self, name: &str) -> AttributePath {
        match self {
            Scope::Provider => AttributePath::root(name),
            Scope::Cluster(_) => self.path().attr(name),
        }
    }

    /// The scope as the start of a sentence: `The provider-level cluster`.
    pub fn capitalized(&self) -> String {
        let text = self.to_string();
        let mut chars = text.chars();
        match chars.next() {
            Some(c) => c.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }
}

impl fmt::Display for Scope {
    /// `the provider-level settings`, `cluster "prod"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Provider => f.write_str("the provider-level cluster"),
            Scope::Cluster(name) => write!(f, "cluster {name:?}"),
        }
    }
}

/// Where a setting came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A provider block attribute.
    Attribute(AttributePath),
    /// An environment variable.
    Env(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Attribute(path) => write!(f, "`{path}`"),
            Origin::Env(name) => write!(f, "the environment variable {name}"),
        }
    }
}

/// A setting's value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Its source.
    pub origin: Origin,
}

/// A secret string: compared and hashed, never printed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The `exec` attribute.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ExecSettings {
    /// `api_version`.
    pub api_version: String,
    /// `command`.
    pub command: String,
    /// `args`.
    pub args: Vec<String>,
    /// `env`.
    pub env: BTreeMap<String, String>,
}

impl fmt::Debug for ExecSettings {
    // Arguments and environment values may hold secrets: names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecSettings")
            .field("api_version", &self.api_version)
            .field("command", &self.command)
            .field("args", &format_args!("<{} redacted>", self.args.len()))
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ExecSettings {
    /// The plugin as messages name it: its command only. Arguments and
    /// environment values are its settings and may hold secrets.
    pub fn command_line(&self) -> String {
        self.command.clone()
    }
}

/// Which kubeconfig files a scope reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KubeconfigFiles {
    /// None: `host` and the other attributes alone.
    None,
    /// Named by an attribute or a `KUBE_CONFIG_PATH(S)` variable; each must exist.
    Named {
        /// The files, merged in order.
        paths: Vec<PathBuf>,
        /// The attribute or variable that named them.
        origin: Origin,
    },
    /// The files in `KUBECONFIG`; each must exist.
    KubeconfigEnv(Vec<PathBuf>),
    /// `~/.kube/config`, which may not exist.
    Home(PathBuf),
    /// No `KUBECONFIG` and no `HOME`.
    Nowhere,
}

impl KubeconfigFiles {
    /// Whether this names any file at all.
    pub fn is_none(&self) -> bool {
        matches!(self, KubeconfigFiles::None)
    }
}

impl fmt::Display for KubeconfigFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |paths: &[PathBuf]| {
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            KubeconfigFiles::None => f.write_str("no kubeconfig"),
            KubeconfigFiles::Named { paths, origin } => {
                write!(f, "{} (from {origin})", list(paths))
            }
            KubeconfigFiles::KubeconfigEnv(paths) => write!(f, "{} (from KUBECONFIG)", list(paths)),
            KubeconfigFiles::Home(path) => write!(f, "{}", path.display()),
            KubeconfigFiles::Nowhere => f.write_str("no kubeconfig (HOME is not set)"),
        }
    }
}

/// A pod's in-cluster environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InCluster {
    /// `KUBERNETES_SERVICE_HOST`.
    pub host: String,
    /// `KUBERNETES_SERVICE_PORT` (443 when unset).
    pub port: String,
    /// The service account directory (token, ca.crt, namespace).
    pub dir: PathBuf,
}

/// How one scope reaches its cluster, once every value is known. The
/// client cache is keyed by this, so equal settings share a client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectionSettings {
    /// Whose settings these are.
    pub scope: Scope,
    /// The kubeconfig files to read.
    pub kubeconfig: KubeconfigFiles,
    /// `config_context`.
    pub context: Option<Setting<String>>,
    /// `config_context_cluster`.
    pub context_cluster: Option<Setting<String>>,
    /// `config_context_auth_info`.
    pub context_auth_info: Option<Setting<String>>,
    /// `host`.
    pub host: Option<Setting<String>>,
    /// `token`.
    pub token: Option<Setting<Secret>>,
    /// `cluster_ca_certificate` (PEM).
    pub cluster_ca_certificate: Option<Setting<String>>,
    /// `client_certificate` (PEM).
    pub client_certificate: Option<Setting<String>>,
    /// `client_key` (PEM).
    pub client_key: Option<Setting<Secret>>,
    /// `insecure`.
    pub insecure: Option<Setting<bool>>,
    /// `tls_server_name`.
    pub tls_server_name: Option<Setting<String>>,
    /// `proxy_url`.
    pub proxy_url: Option<Setting<String>>,
    /// `exec`.
    pub exec: Option<Setting<ExecSettings>>,
    /// The pod's service account, when nothing else is configured and the
    /// provider runs in a pod.
    pub in_cluster: Option<InCluster>,
}

impl ConnectionSettings {
    /// Settings for `scope` with nothing set.
    pub fn empty(scope: Scope) -> Self {
        ConnectionSettings {
            scope,
            kubeconfig: KubeconfigFiles::None,
            context: None,
            context_cluster: None,
            context_auth_info: None,
            host: None,
            token: None,
            cluster_ca_certificate: None,
            client_certificate: None,
            client_key: None,
            insecure: None,
            tls_server_name: None,
            proxy_url: None,
            exec: None,
            in_cluster: None,
        }
    }

    /// Provider-level settings that read one kubeconfig file, as
    /// `config_path` does: for tests and tools that drive a resource
    /// without a provider block.
    pub fn kubeconfig_file(path: impl Into<PathBuf>) -> Self {
        let scope = Scope::Provider;
        ConnectionSettings {
            kubeconfig: KubeconfigFiles::Named {
                paths: vec![path.into()],
                origin: Origin::Attribute(scope.attr("config_path")),
            },
            ..ConnectionSettings::empty(scope)
        }
    }

    /// Whether a `config_context*` setting selects from a kubeconfig.
    pub fn selects_context(&self) -> bool {
        self.context_origin().is_some()
    }

    /// Where the first `config_context*` setting that selects from a
    /// kubeconfig came from.
    pub fn context_origin(&self) -> Option<&Origin> {
        [
            &self.context,
            &self.context_cluster,
            &self.context_auth_info,
        ]
        .into_iter()
        .flatten()
        .map(|c| &c.origin)
        .next()
    }
}

/// One scope's settings as far as they are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Some values are known only after apply (these paths).
    Unknown(Vec<AttributePath>),
    /// Every value is known.
    Known(Box<ConnectionSettings>),
}

/// The `clusters` attribute as far as it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClustersConfig {
    /// The map itself is known only after apply: not even its names are known.
    Unknown,
    /// The entries by name (empty when `clusters` is not set).
    Known(BTreeMap<String, Parsed>),
}

/// Every cluster's settings: the provider-level cluster's and the named
/// clusters'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The provider-level settings.
    pub provider: Parsed,
    /// The named clusters.
    pub clusters: ClustersConfig,
}

impl ProviderSettings {
    /// The provider-level cluster alone, without named clusters.
    pub fn provider_level(settings: ConnectionSettings) -> Self {
        ProviderSettings {
            provider: Parsed::Known(Box::new(settings)),
            clusters: ClustersConfig::Known(BTreeMap::new()),
        }
    }

    /// The configured cluster names, when known.
    pub fn cluster_names(&self) -> Option<Vec<String>> {
        match &self.clusters {
            ClustersConfig::Unknown => None,
            ClustersConfig::Known(m) => Some(m.keys().cloned().collect()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::tf::PathStep;

    /// Scopes render as users read them and build their attribute paths.
    #[test]
    fn scopes() {
        let c = Scope::Cluster("prod".into());
        assert_eq!(c.to_string(), "cluster \"prod\"");
        assert_eq!(c.attr("host").to_string(), "clusters[\"prod\"].host");
        assert_eq!(
            Scope::Provider.attr("host").0,
            vec![PathStep::Attribute("host".into())]
        );
        assert_eq!(format!("{:?}", Secret::new("s3cr3t")), "Secret(<redacted>)");
    }
}
