//! The provider block: its schema, reading it (with the `KUBE_*` environment
//! variables) into [`ConnectionSettings`], and resolving settings into a
//! [`kube::Config`].
//!
//! Three steps, each its own type (raw input and validated model differ):
//!
//! 1. [`ProviderConfig::parse`]: the provider block's [`Value`] and the
//!    environment to settings, per scope (the provider level and each
//!    `clusters` entry). A scope with a value Terraform knows only after apply
//!    is [`Parsed::Unknown`]: nothing falls back to the environment or to
//!    another cluster in its place.
//! 2. [`resolve`]: known settings to a [`kube::Config`]; reads kubeconfig and
//!    certificate text, never contacts a cluster and never runs an exec
//!    plugin (that happens when the client is built, in `clusters`).
//! 3. Errors as [`ConfigError`], each naming the scope, the setting and where
//!    it came from, turned into diagnostics by [`ConfigError::diagnostic`].
//!
//! Precedence, for each setting: the attribute, then its environment variable
//! (provider level only), then the kubeconfig. Which kubeconfig: `config_path`
//! or `config_paths`, else `KUBE_CONFIG_PATH`, else `KUBE_CONFIG_PATHS`, else
//! (only when no `host` is set, or a context is selected) `KUBECONFIG`, else
//! `~/.kube/config`. In a pod, with nothing at all configured, the pod's
//! service account. Nothing else: never localhost.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use kube::config::{
    ExecConfig, ExecInteractiveMode, KubeConfigOptions, Kubeconfig, KubeconfigError,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::tf::schema::Block;
use crate::tf::{
    Attribute, AttributePath, Diagnostic, Diagnostics, Nesting, Schema, Severity, Type, Value,
};

// ---------------------------------------------------------------------------
// Environment variables

/// `config_path`.
pub const KUBE_CONFIG_PATH: &str = "KUBE_CONFIG_PATH";
/// `config_paths`, separated like `PATH` (`:` on Unix).
pub const KUBE_CONFIG_PATHS: &str = "KUBE_CONFIG_PATHS";
/// `config_context`.
pub const KUBE_CTX: &str = "KUBE_CTX";
/// `config_context_cluster`.
pub const KUBE_CTX_CLUSTER: &str = "KUBE_CTX_CLUSTER";
/// `config_context_auth_info`.
pub const KUBE_CTX_AUTH_INFO: &str = "KUBE_CTX_AUTH_INFO";
/// `host`.
pub const KUBE_HOST: &str = "KUBE_HOST";
/// `token`.
pub const KUBE_TOKEN: &str = "KUBE_TOKEN";
/// `cluster_ca_certificate`.
pub const KUBE_CLUSTER_CA_CERT_DATA: &str = "KUBE_CLUSTER_CA_CERT_DATA";
/// `client_certificate`.
pub const KUBE_CLIENT_CERT_DATA: &str = "KUBE_CLIENT_CERT_DATA";
/// `client_key`.
pub const KUBE_CLIENT_KEY_DATA: &str = "KUBE_CLIENT_KEY_DATA";
/// `insecure`.
pub const KUBE_INSECURE: &str = "KUBE_INSECURE";
/// `tls_server_name`.
pub const KUBE_TLS_SERVER_NAME: &str = "KUBE_TLS_SERVER_NAME";
/// `proxy_url`.
pub const KUBE_PROXY_URL: &str = "KUBE_PROXY_URL";

/// Every `KUBE_*` variable the provider reads; with any of them set, the
/// in-cluster configuration is never used.
pub const KUBE_ENV_VARS: [&str; 13] = [
    KUBE_CONFIG_PATH,
    KUBE_CONFIG_PATHS,
    KUBE_CTX,
    KUBE_CTX_CLUSTER,
    KUBE_CTX_AUTH_INFO,
    KUBE_HOST,
    KUBE_TOKEN,
    KUBE_CLUSTER_CA_CERT_DATA,
    KUBE_CLIENT_CERT_DATA,
    KUBE_CLIENT_KEY_DATA,
    KUBE_INSECURE,
    KUBE_TLS_SERVER_NAME,
    KUBE_PROXY_URL,
];

/// Where a pod's service account credentials are mounted.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

// ---------------------------------------------------------------------------
// Schema

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
            Scope::Cluster(name) => AttributePath::root("clusters").key(name),
        }
    }

    /// The path of one attribute of this scope.
    pub fn attr(&self, name: &str) -> AttributePath {
        match self {
            Scope::Provider => AttributePath::root(name),
            Scope::Cluster(_) => self.path().attr(name),
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

/// The provider block's schema.
pub fn provider_schema() -> Schema {
    let mut attributes = connection_attributes(true);
    attributes.push(
        Attribute::nested(
            "clusters",
            Nesting::Map,
            connection_attributes(false),
            CLUSTERS,
        )
        .set_optional(),
    );
    Schema::new(Block::new(attributes, PROVIDER))
}

/// The connection attributes, at the provider level (with environment
/// variables) or in a `clusters` entry (without).
fn connection_attributes(provider_level: bool) -> Vec<Attribute> {
    let d = |text: &str, env: &str| describe(text, env, provider_level);
    vec![
        Attribute::optional(
            "config_path",
            Type::String,
            &d(CONFIG_PATH, KUBE_CONFIG_PATH),
        ),
        Attribute::optional(
            "config_paths",
            Type::list(Type::String),
            &d(CONFIG_PATHS, KUBE_CONFIG_PATHS),
        ),
        Attribute::optional("config_context", Type::String, &d(CONFIG_CONTEXT, KUBE_CTX)),
        Attribute::optional(
            "config_context_cluster",
            Type::String,
            &d(CONFIG_CONTEXT_CLUSTER, KUBE_CTX_CLUSTER),
        ),
        Attribute::optional(
            "config_context_auth_info",
            Type::String,
            &d(CONFIG_CONTEXT_AUTH_INFO, KUBE_CTX_AUTH_INFO),
        ),
        Attribute::optional("host", Type::String, &d(HOST, KUBE_HOST)),
        Attribute::optional("token", Type::String, &d(TOKEN, KUBE_TOKEN)).sensitive(),
        Attribute::optional(
            "cluster_ca_certificate",
            Type::String,
            &d(CLUSTER_CA_CERTIFICATE, KUBE_CLUSTER_CA_CERT_DATA),
        ),
        Attribute::optional(
            "client_certificate",
            Type::String,
            &d(CLIENT_CERTIFICATE, KUBE_CLIENT_CERT_DATA),
        ),
        Attribute::optional(
            "client_key",
            Type::String,
            &d(CLIENT_KEY, KUBE_CLIENT_KEY_DATA),
        )
        .sensitive(),
        Attribute::optional("insecure", Type::Bool, &d(INSECURE, KUBE_INSECURE)),
        Attribute::optional(
            "tls_server_name",
            Type::String,
            &d(TLS_SERVER_NAME, KUBE_TLS_SERVER_NAME),
        ),
        Attribute::optional("proxy_url", Type::String, &d(PROXY_URL, KUBE_PROXY_URL)),
        Attribute::nested(
            "exec",
            Nesting::Single,
            vec![
                Attribute::required("api_version", Type::String, EXEC_API_VERSION),
                Attribute::required("command", Type::String, EXEC_COMMAND),
                Attribute::optional("args", Type::list(Type::String), EXEC_ARGS),
                Attribute::optional("env", Type::map(Type::String), EXEC_ENV).sensitive(),
            ],
            EXEC,
        )
        .set_optional(),
    ]
}

/// A description with its environment variable named (provider level) or
/// the note that entries take no environment variables.
fn describe(text: &str, env: &str, provider_level: bool) -> String {
    if provider_level {
        format!("{text} Wins over the environment variable `{env}`.")
    } else {
        format!("{text} (In a `clusters` entry, no environment variable is read.)")
    }
}

const PROVIDER: &str = "The planton provider manages Project Planton's `KubernetesJob` as the Terraform \
resource `planton_kubernetes_job`: a Kubernetes Job with its namespace, env Secret, ConfigMaps and \
ServiceAccount, described with the same fields as a Planton manifest.

**Reaching a cluster.** For each setting the attribute wins over its `KUBE_*` environment variable, which wins \
over the kubeconfig. The kubeconfig is `config_path` or `config_paths`, else `KUBE_CONFIG_PATH`, else \
`KUBE_CONFIG_PATHS`, else (only when `host` is not set, or a `config_context*` attribute selects a context) the \
files in `KUBECONFIG`, else `~/.kube/config` if it exists. `host`, `token`, `cluster_ca_certificate`, \
`client_certificate`, `client_key`, `insecure`, `tls_server_name`, `proxy_url` and `exec` override what the \
kubeconfig says. With nothing configured at all, a provider running inside a Kubernetes pod uses the pod's \
service account; anywhere else, planning a job fails with an error. The provider never falls back to localhost.

**Several clusters.** `clusters` names further clusters, each with its own settings; a job picks one with \
`spec.target_cluster.cluster_name`, so one module can fan the same job out to many clusters with `for_each`.

**Settings known only after apply** (a cluster created in the same configuration): jobs on that cluster are \
planned without contacting it and without falling back to any other cluster, or deferred when Terraform allows \
deferral; the apply then uses the cluster once its settings are known.";

const CLUSTERS: &str = "Further clusters by name, each with the same connection settings as the provider \
block (without environment variables). A `planton_kubernetes_job` whose `spec.target_cluster.cluster_name` is a \
key of this map is managed in that cluster; a job without `target_cluster` uses the provider-level settings, and \
naming a cluster that is not here is a plan-time error. An entry must set `host`, `config_path`, \
`config_paths` or a `config_context*` attribute; an entry that selects a context without naming a file reads \
the provider-level kubeconfig files. Each cluster's client is built once per provider process, when a job \
first needs it.";

const CONFIG_PATH: &str = "Path to the kubeconfig file to read; a leading `~/` is the home directory. Wins \
over the `KUBECONFIG` variable and `~/.kube/config`. Set either `config_path` or `config_paths`, not both.";

const CONFIG_PATHS: &str = "Kubeconfig files to read and merge the way kubectl merges `KUBECONFIG`: the \
first file to define a context, cluster or user wins. Wins over the `KUBECONFIG` variable and \
`~/.kube/config`. Set either `config_path` or `config_paths`, not both.";

const CONFIG_CONTEXT: &str = "The kubeconfig context to use; without it, the kubeconfig's `current-context`. \
Selecting a context reads a kubeconfig even when `host` is set.";

const CONFIG_CONTEXT_CLUSTER: &str =
    "The kubeconfig cluster to use instead of the one the context names.";

const CONFIG_CONTEXT_AUTH_INFO: &str =
    "The kubeconfig user to use instead of the one the context names.";

const HOST: &str = "The API server's address, e.g. `https://203.0.113.10:6443` (`https://` is assumed \
without a scheme). Wins over the kubeconfig's `server`. When `host` is set and no kubeconfig is named \
(`config_path`, `config_paths`, their variables, or a `config_context*` attribute), no kubeconfig is read at \
all: `KUBECONFIG` and `~/.kube/config` are ignored, so the credentials of your default cluster are never sent \
to this host.";

const TOKEN: &str = "A bearer token to authenticate with. Wins over the kubeconfig user's token, token file \
and exec plugin. Set either `token` or `exec`, not both.";

const CLUSTER_CA_CERTIFICATE: &str = "PEM-encoded CA certificate(s) the API server's certificate must chain \
to (PEM text: for a kubeconfig's base64 `certificate-authority-data`, use `base64decode(...)`). Wins over the \
kubeconfig's `certificate-authority`. Without any CA, the system's trusted roots are used.";

const CLIENT_CERTIFICATE: &str = "PEM-encoded client certificate for TLS client authentication, with \
`client_key`. Wins over the kubeconfig user's certificate.";

const CLIENT_KEY: &str = "PEM-encoded private key of `client_certificate`. Wins over the kubeconfig user's \
key.";

const INSECURE: &str = "Skip verifying the API server's certificate. Off by default; `true` wins over the \
kubeconfig's `insecure-skip-tls-verify`, and `false` turns that off. Anyone on the network path can then read \
and change the traffic, credentials included, so the provider warns whenever verification is off. Cannot be \
combined with `cluster_ca_certificate`.";

const TLS_SERVER_NAME: &str = "The name to check the API server's certificate against, when it differs \
from the host in the address. Wins over the kubeconfig's `tls-server-name`.";

const PROXY_URL: &str = "URL of an HTTP proxy (`http://` or `https://`) for requests to the API server. \
Wins over the kubeconfig's `proxy-url`.";

const EXEC: &str = "An exec credential plugin: a program that prints an `ExecCredential` with a token or a \
client certificate, such as `aws eks get-token`, `gke-gcloud-auth-plugin` or `kubelogin`. Wins over the \
kubeconfig user's credentials; set either `token` or `exec`, not both. The plugin runs when a job first needs \
the cluster (never during validation), without a terminal, and may take at most 30 seconds; if it fails or \
is stopped, the error names its command (not its arguments) and shows its standard error.";

const EXEC_API_VERSION: &str = "The `ExecCredential` API version the plugin speaks, e.g. `client.authentication.k8s.io/v1beta1`.";

const EXEC_COMMAND: &str = "The program to run; looked up in `PATH` unless it contains a `/`.";

const EXEC_ARGS: &str = "Arguments to the program.";

const EXEC_ENV: &str =
    "Environment variables for the program, added to the provider's own environment.";

// ---------------------------------------------------------------------------
// Settings

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

    /// Whether a `config_context*` setting selects from a kubeconfig.
    pub fn selects_context(&self) -> bool {
        self.context.is_some() || self.context_cluster.is_some() || self.context_auth_info.is_some()
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

/// The whole provider block, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// The provider-level settings.
    pub provider: Parsed,
    /// The named clusters.
    pub clusters: ClustersConfig,
}

/// Looks up one environment variable.
type EnvLookup = dyn Fn(&str) -> Option<OsString> + Send + Sync;

/// What the provider reads from its process: environment variables and the
/// service account directory. Injected so that tests control both.
#[derive(Clone)]
pub struct Environment {
    vars: Arc<EnvLookup>,
    service_account_dir: PathBuf,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("service_account_dir", &self.service_account_dir)
            .finish_non_exhaustive()
    }
}

impl Environment {
    /// The provider process's own environment.
    pub fn process() -> Self {
        Environment {
            vars: Arc::new(|name| std::env::var_os(name)),
            service_account_dir: PathBuf::from(SERVICE_ACCOUNT_DIR),
        }
    }

    /// No variables and no service account: the configuration alone.
    pub fn none() -> Self {
        Environment::fixed(&[], SERVICE_ACCOUNT_DIR)
    }

    /// A fixed set of variables and a service account directory (tests).
    pub fn fixed(vars: &[(&str, &str)], service_account_dir: impl Into<PathBuf>) -> Self {
        let vars: Vec<(String, OsString)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Environment {
            vars: Arc::new(move |name| {
                vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            }),
            service_account_dir: service_account_dir.into(),
        }
    }

    /// A variable, `None` when unset or empty.
    pub fn var(&self, name: &str) -> Option<OsString> {
        (self.vars)(name).filter(|v| !v.is_empty())
    }

    fn var_string(&self, name: &'static str, d: &mut Diagnostics) -> Option<Setting<String>> {
        let value = self.var(name)?;
        match value.into_string() {
            Ok(value) => Some(Setting {
                value,
                origin: Origin::Env(name),
            }),
            Err(_) => {
                d.error(
                    "Invalid Environment Variable",
                    format!("The environment variable {name} is not valid UTF-8. Fix or unset it."),
                );
                None
            }
        }
    }

    fn home(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }
}

impl ProviderConfig {
    /// Reads the provider block. Problems that make a setting unusable
    /// (empty strings, settings that contradict each other, invalid
    /// environment variables) are returned as diagnostics on their paths;
    /// the settings are then as if the offending value were unset.
    pub fn parse(config: &Value, env: &Environment) -> (ProviderConfig, Diagnostics) {
        let mut d = Diagnostics::new();
        let provider_raw = Raw::read(config, &Scope::Provider, &mut d);
        // The provider-level kubeconfig files, which `clusters` entries that
        // select a context without naming a file also read.
        let provider_files = provider_raw
            .as_ref()
            .ok()
            .map(|raw| provider_files(raw, env, &mut d));
        // Named clusters count as configuration: with them, a job without
        // `target_cluster` never lands in the pod's own cluster unasked.
        let clusters_set = !config.get("clusters").is_null();
        let provider = match provider_raw {
            Err(unknown) => Parsed::Unknown(unknown),
            Ok(raw) => Parsed::Known(Box::new(provider_settings(
                raw,
                provider_files.clone().unwrap_or(KubeconfigFiles::Nowhere),
                clusters_set,
                env,
                &mut d,
            ))),
        };
        let home = env.home();
        let clusters = match config.get("clusters") {
            Value::Unknown(_) => ClustersConfig::Unknown,
            Value::Null => ClustersConfig::Known(BTreeMap::new()),
            v => ClustersConfig::Known(
                v.as_entries()
                    .map(|entries| {
                        entries
                            .iter()
                            .map(|(name, entry)| {
                                let scope = Scope::Cluster(name.clone());
                                let parsed = match Raw::read(entry, &scope, &mut d) {
                                    Err(unknown) => Parsed::Unknown(unknown),
                                    Ok(raw) => match cluster_settings(
                                        raw,
                                        scope,
                                        provider_files.as_ref(),
                                        home.as_deref(),
                                        &mut d,
                                    ) {
                                        Ok(s) => Parsed::Known(Box::new(s)),
                                        Err(unknown) => Parsed::Unknown(unknown),
                                    },
                                };
                                (name.clone(), parsed)
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
        };
        (ProviderConfig { provider, clusters }, d)
    }

    /// The configured cluster names, when known.
    pub fn cluster_names(&self) -> Option<Vec<String>> {
        match &self.clusters {
            ClustersConfig::Unknown => None,
            ClustersConfig::Known(m) => Some(m.keys().cloned().collect()),
        }
    }
}

/// One scope's attributes as written, before environment variables and
/// kubeconfig defaults.
#[derive(Debug, Default)]
struct Raw {
    config_path: Option<Setting<String>>,
    config_paths: Option<Setting<Vec<String>>>,
    context: Option<Setting<String>>,
    context_cluster: Option<Setting<String>>,
    context_auth_info: Option<Setting<String>>,
    host: Option<Setting<String>>,
    token: Option<Setting<Secret>>,
    cluster_ca_certificate: Option<Setting<String>>,
    client_certificate: Option<Setting<String>>,
    client_key: Option<Setting<Secret>>,
    insecure: Option<Setting<bool>>,
    tls_server_name: Option<Setting<String>>,
    proxy_url: Option<Setting<String>>,
    exec: Option<Setting<ExecSettings>>,
}

/// Reads attributes of one object, collecting unknown paths and problems.
struct Reader<'a> {
    object: &'a Value,
    scope: &'a Scope,
    base: AttributePath,
    unknown: Vec<AttributePath>,
    d: &'a mut Diagnostics,
}

impl Reader<'_> {
    fn path(&self, name: &str) -> AttributePath {
        if self.base.0.is_empty() {
            AttributePath::root(name)
        } else {
            self.base.attr(name)
        }
    }

    fn origin(&self, name: &str) -> Origin {
        Origin::Attribute(self.path(name))
    }

    /// A string attribute; empty strings are an error (unset it instead,
    /// so that an empty value never silently selects a default).
    fn string(&mut self, name: &str) -> Option<String> {
        let path = self.path(name);
        match self.object.get(name) {
            Value::Null => None,
            Value::Unknown(_) => {
                self.unknown.push(path);
                None
            }
            v => match v.as_str() {
                Some("") => {
                    self.d.attribute_error(
                        path,
                        "Empty Provider Setting",
                        format!(
                            "`{name}` of {} is an empty string. Leave it unset (null) to use the default \
                             instead: an empty value is never taken to mean \"not set\".",
                            self.scope
                        ),
                    );
                    None
                }
                Some(s) => Some(s.to_string()),
                None => None,
            },
        }
    }

    fn setting(&mut self, name: &str) -> Option<Setting<String>> {
        let value = self.string(name)?;
        Some(Setting {
            value,
            origin: self.origin(name),
        })
    }

    fn secret(&mut self, name: &str) -> Option<Setting<Secret>> {
        self.setting(name).map(|s| Setting {
            value: Secret(s.value),
            origin: s.origin,
        })
    }

    fn bool(&mut self, name: &str) -> Option<Setting<bool>> {
        match self.object.get(name) {
            Value::Unknown(_) => {
                let path = self.path(name);
                self.unknown.push(path);
                None
            }
            v => v.as_bool().map(|value| Setting {
                value,
                origin: self.origin(name),
            }),
        }
    }

    fn strings(&mut self, value: &Value, path: &AttributePath, what: &str) -> Option<Vec<String>> {
        match value {
            Value::Null => None,
            Value::Unknown(_) => {
                self.unknown.push(path.clone());
                None
            }
            v => {
                let mut out = Vec::new();
                for (i, e) in v.as_elements().unwrap_or_default().iter().enumerate() {
                    match e {
                        Value::Unknown(_) => self.unknown.push(path.index(i)),
                        e => match e.as_str() {
                            Some(s) if !s.is_empty() => out.push(s.to_string()),
                            _ => self.d.attribute_error(
                                path.index(i),
                                "Empty Provider Setting",
                                format!("Each element of `{what}` must be a non-empty string."),
                            ),
                        },
                    }
                }
                Some(out)
            }
        }
    }

    fn exec(&mut self) -> Option<Setting<ExecSettings>> {
        let path = self.path("exec");
        let exec = self.object.get("exec");
        match exec {
            Value::Null => return None,
            Value::Unknown(_) => {
                self.unknown.push(path);
                return None;
            }
            _ => {}
        }
        let mut inner = Reader {
            object: exec,
            scope: self.scope,
            base: path.clone(),
            unknown: Vec::new(),
            d: self.d,
        };
        let api_version = inner.string("api_version");
        let command = inner.string("command");
        let args = inner
            .strings(exec.get("args"), &path.attr("args"), "exec.args")
            .unwrap_or_default();
        let mut env = BTreeMap::new();
        match exec.get("env") {
            Value::Null => {}
            Value::Unknown(_) => inner.unknown.push(path.attr("env")),
            v => {
                for (k, val) in v.as_entries().into_iter().flatten() {
                    match val {
                        Value::Unknown(_) => inner.unknown.push(path.attr("env").key(k)),
                        val => {
                            env.insert(k.clone(), val.as_str().unwrap_or_default().to_string());
                        }
                    }
                }
            }
        }
        let unknown = std::mem::take(&mut inner.unknown);
        self.unknown.extend(unknown);
        Some(Setting {
            value: ExecSettings {
                api_version: api_version?,
                command: command?,
                args,
                env,
            },
            origin: Origin::Attribute(path),
        })
    }
}

impl Raw {
    /// Reads one scope's attributes; `Err` lists the paths known only after
    /// apply.
    fn read(object: &Value, scope: &Scope, d: &mut Diagnostics) -> Result<Raw, Vec<AttributePath>> {
        if object.is_unknown() {
            return Err(vec![scope.path()]);
        }
        let mut r = Reader {
            object,
            scope,
            base: scope.path(),
            unknown: Vec::new(),
            d,
        };
        let config_paths_path = r.path("config_paths");
        let config_paths = r
            .strings(
                object.get("config_paths"),
                &config_paths_path,
                "config_paths",
            )
            .map(|value| Setting {
                value,
                origin: Origin::Attribute(config_paths_path.clone()),
            });
        let raw = Raw {
            config_path: r.setting("config_path"),
            config_paths,
            context: r.setting("config_context"),
            context_cluster: r.setting("config_context_cluster"),
            context_auth_info: r.setting("config_context_auth_info"),
            host: r.setting("host"),
            token: r.secret("token"),
            cluster_ca_certificate: r.setting("cluster_ca_certificate"),
            client_certificate: r.setting("client_certificate"),
            client_key: r.secret("client_key"),
            insecure: r.bool("insecure"),
            tls_server_name: r.setting("tls_server_name"),
            proxy_url: r.setting("proxy_url"),
            exec: r.exec(),
        };
        if !r.unknown.is_empty() {
            return Err(r.unknown);
        }
        if raw.config_path.is_some() && raw.config_paths.is_some() {
            d.attribute_error(
                scope.attr("config_paths"),
                "Conflicting Provider Settings",
                format!(
                    "{} sets both `config_path` and `config_paths`. Set one of them: list every file in \
                     `config_paths`, or name the one file in `config_path`.",
                    capitalize(&scope.to_string())
                ),
            );
        }
        Ok(raw)
    }

    /// Whether any attribute is set.
    fn is_empty(&self) -> bool {
        self.config_path.is_none()
            && self.config_paths.is_none()
            && self.context.is_none()
            && self.context_cluster.is_none()
            && self.context_auth_info.is_none()
            && self.host.is_none()
            && self.token.is_none()
            && self.cluster_ca_certificate.is_none()
            && self.client_certificate.is_none()
            && self.client_key.is_none()
            && self.insecure.is_none()
            && self.tls_server_name.is_none()
            && self.proxy_url.is_none()
            && self.exec.is_none()
    }

    /// The files `config_path` / `config_paths` name, if either is set.
    fn named_files(&self, home: Option<&Path>) -> Option<KubeconfigFiles> {
        if let Some(p) = &self.config_path {
            return Some(KubeconfigFiles::Named {
                paths: vec![expand_home(&p.value, home)],
                origin: p.origin.clone(),
            });
        }
        self.config_paths.as_ref().map(|p| KubeconfigFiles::Named {
            paths: p.value.iter().map(|s| expand_home(s, home)).collect(),
            origin: p.origin.clone(),
        })
    }
}

/// The provider-level kubeconfig files, ignoring whether `host` makes them
/// unnecessary: attribute, `KUBE_CONFIG_PATH`, `KUBE_CONFIG_PATHS`,
/// `KUBECONFIG`, `~/.kube/config`.
fn provider_files(raw: &Raw, env: &Environment, d: &mut Diagnostics) -> KubeconfigFiles {
    let home = env.home();
    if let Some(files) = raw.named_files(home.as_deref()) {
        return files;
    }
    if let Some(p) = env.var_string(KUBE_CONFIG_PATH, d) {
        return KubeconfigFiles::Named {
            paths: vec![expand_home(&p.value, home.as_deref())],
            origin: p.origin,
        };
    }
    if let Some(list) = env.var(KUBE_CONFIG_PATHS) {
        return KubeconfigFiles::Named {
            paths: split_paths(&list),
            origin: Origin::Env(KUBE_CONFIG_PATHS),
        };
    }
    if let Some(list) = env.var("KUBECONFIG") {
        let paths = split_paths(&list);
        if !paths.is_empty() {
            return KubeconfigFiles::KubeconfigEnv(paths);
        }
    }
    match home {
        Some(home) => KubeconfigFiles::Home(home.join(".kube").join("config")),
        None => KubeconfigFiles::Nowhere,
    }
}

fn split_paths(list: &std::ffi::OsStr) -> Vec<PathBuf> {
    std::env::split_paths(list)
        .filter(|p| !p.as_os_str().is_empty())
        .collect()
}

/// The provider-level settings: attributes, then environment variables.
fn provider_settings(
    raw: Raw,
    files: KubeconfigFiles,
    clusters_set: bool,
    env: &Environment,
    d: &mut Diagnostics,
) -> ConnectionSettings {
    let nothing_set =
        raw.is_empty() && !clusters_set && KUBE_ENV_VARS.iter().all(|v| env.var(v).is_none());
    let named = raw.named_files(env.home().as_deref()).is_some()
        || env.var(KUBE_CONFIG_PATH).is_some()
        || env.var(KUBE_CONFIG_PATHS).is_some();
    let or_env = |attr: Option<Setting<String>>, name: &'static str, d: &mut Diagnostics| {
        attr.or_else(|| env.var_string(name, d))
    };
    let mut s = ConnectionSettings::empty(Scope::Provider);
    s.context = or_env(raw.context, KUBE_CTX, d);
    s.context_cluster = or_env(raw.context_cluster, KUBE_CTX_CLUSTER, d);
    s.context_auth_info = or_env(raw.context_auth_info, KUBE_CTX_AUTH_INFO, d);
    s.host = or_env(raw.host, KUBE_HOST, d);
    s.token = raw.token.or_else(|| {
        env.var_string(KUBE_TOKEN, d).map(|t| Setting {
            value: Secret(t.value),
            origin: t.origin,
        })
    });
    s.cluster_ca_certificate = or_env(raw.cluster_ca_certificate, KUBE_CLUSTER_CA_CERT_DATA, d);
    s.client_certificate = or_env(raw.client_certificate, KUBE_CLIENT_CERT_DATA, d);
    s.client_key = raw.client_key.or_else(|| {
        env.var_string(KUBE_CLIENT_KEY_DATA, d).map(|t| Setting {
            value: Secret(t.value),
            origin: t.origin,
        })
    });
    s.insecure = raw.insecure.or_else(|| {
        let v = env.var_string(KUBE_INSECURE, d)?;
        match parse_bool(&v.value) {
            Some(value) => Some(Setting {
                value,
                origin: v.origin,
            }),
            None => {
                d.error(
                    "Invalid Environment Variable",
                    format!(
                        "The environment variable {KUBE_INSECURE} is {:?}, which is not a boolean. Set it to \
                         `true` or `false`, or unset it.",
                        v.value
                    ),
                );
                None
            }
        }
    });
    s.tls_server_name = or_env(raw.tls_server_name, KUBE_TLS_SERVER_NAME, d);
    s.proxy_url = or_env(raw.proxy_url, KUBE_PROXY_URL, d);
    s.exec = raw.exec;
    // A kubeconfig is read when one is named, when a context is selected,
    // or when there is no host: never behind an explicit host's back.
    s.kubeconfig = if named || s.selects_context() || s.host.is_none() {
        files
    } else {
        KubeconfigFiles::None
    };
    if nothing_set
        && !matches!(&s.kubeconfig, KubeconfigFiles::KubeconfigEnv(_))
        && !matches!(&s.kubeconfig, KubeconfigFiles::Home(p) if p.is_file())
    {
        s.in_cluster = in_cluster(env);
    }
    check_combinations(&s, d);
    s
}

/// A `clusters` entry's settings: its attributes only, plus the provider's
/// kubeconfig files when it selects a context without naming a file.
fn cluster_settings(
    raw: Raw,
    scope: Scope,
    provider_files: Option<&KubeconfigFiles>,
    home: Option<&Path>,
    d: &mut Diagnostics,
) -> Result<ConnectionSettings, Vec<AttributePath>> {
    let named = raw.named_files(home);
    let selects =
        raw.context.is_some() || raw.context_cluster.is_some() || raw.context_auth_info.is_some();
    if named.is_none() && !selects && raw.host.is_none() {
        d.attribute_error(
            scope.path(),
            "Cluster Without Connection Settings",
            format!(
                "{} sets neither `host` nor a kubeconfig (`config_path`, `config_paths`, `config_context`). \
                 A named cluster never falls back to the provider-level settings or to a default kubeconfig: \
                 say where the cluster is.",
                capitalize(&scope.to_string())
            ),
        );
    }
    let kubeconfig = match named {
        Some(files) => files,
        None if selects => match provider_files {
            Some(files) => files.clone(),
            // The provider-level file attributes are not yet known.
            None => return Err(vec![AttributePath::root("config_path")]),
        },
        None => KubeconfigFiles::None,
    };
    let s = ConnectionSettings {
        scope,
        kubeconfig,
        context: raw.context,
        context_cluster: raw.context_cluster,
        context_auth_info: raw.context_auth_info,
        host: raw.host,
        token: raw.token,
        cluster_ca_certificate: raw.cluster_ca_certificate,
        client_certificate: raw.client_certificate,
        client_key: raw.client_key,
        insecure: raw.insecure,
        tls_server_name: raw.tls_server_name,
        proxy_url: raw.proxy_url,
        exec: raw.exec,
        in_cluster: None,
    };
    check_combinations(&s, d);
    Ok(s)
}

/// Settings that contradict each other are errors, not a silent choice.
fn check_combinations(s: &ConnectionSettings, d: &mut Diagnostics) {
    let scope = capitalize(&s.scope.to_string());
    // Credentials over plain HTTP travel in clear: refused, except to this
    // machine (a local test cluster or a tunnel), where it is a warning.
    if let Some(host) = &s.host
        && host
            .value
            .trim()
            .to_ascii_lowercase()
            .starts_with("http://")
    {
        let credential = [
            s.token.as_ref().map(|t| ("a token", &t.origin)),
            s.client_key.as_ref().map(|k| ("a client key", &k.origin)),
            s.exec
                .as_ref()
                .map(|e| ("exec plugin credentials", &e.origin)),
        ]
        .into_iter()
        .flatten()
        .next();
        if let Some((what, origin)) = credential {
            let loopback = http::Uri::try_from(host.value.trim())
                .ok()
                .and_then(|u| u.host().map(str::to_string))
                .is_some_and(|h| {
                    let h = h.trim_start_matches('[').trim_end_matches(']');
                    h == "localhost"
                        || h.parse::<std::net::IpAddr>()
                            .is_ok_and(|ip| ip.is_loopback())
                });
            let detail = format!(
                "{scope} sends {what} (from {origin}) to {} over plain HTTP (from {}), where anyone on the \
                 way can read it. Use an https:// address.",
                host.value.trim(),
                host.origin
            );
            if loopback {
                d.attribute_warning(
                    s.scope.attr("host"),
                    "Credentials Over Plain HTTP",
                    format!("{detail} The address is this machine's, so this is only a warning."),
                );
            } else {
                d.attribute_error(s.scope.attr("host"), "Credentials Over Plain HTTP", detail);
            }
        }
    }
    if let (Some(token), Some(exec)) = (&s.token, &s.exec) {
        d.attribute_error(
            s.scope.attr("exec"),
            "Conflicting Provider Settings",
            format!(
                "{scope} has a token (from {}) and an exec plugin (from {}). Use one of them.",
                token.origin, exec.origin
            ),
        );
    }
    if let (Some(insecure), Some(ca)) = (&s.insecure, &s.cluster_ca_certificate)
        && insecure.value
    {
        d.attribute_error(
            s.scope.attr("insecure"),
            "Conflicting Provider Settings",
            format!(
                "{scope} turns certificate verification off (insecure = true, from {}) and sets a CA \
                 certificate to verify against (from {}). Remove `insecure` to verify the server, or the CA \
                 certificate if you really mean not to.",
                insecure.origin, ca.origin
            ),
        );
    }
}

fn in_cluster(env: &Environment) -> Option<InCluster> {
    let host = env.var("KUBERNETES_SERVICE_HOST")?.into_string().ok()?;
    let port = env
        .var("KUBERNETES_SERVICE_PORT")
        .and_then(|p| p.into_string().ok())
        .unwrap_or_else(|| "443".to_string());
    let dir = env.service_account_dir.clone();
    dir.join("token")
        .is_file()
        .then_some(InCluster { host, port, dir })
}

/// Go's `strconv.ParseBool`, which hashicorp's provider uses for `KUBE_INSECURE`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------
// Resolution

/// Known settings, resolved: what a client is built from, and how to name
/// the cluster and the credentials in messages.
#[derive(Clone)]
pub struct Resolved {
    /// The client configuration.
    pub config: kube::Config,
    /// The API server's address.
    pub endpoint: String,
    /// Who the provider authenticates as, in words (never a secret).
    pub identity: String,
    /// Warnings (certificate verification off).
    pub warnings: Diagnostics,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolved")
            .field("endpoint", &self.endpoint)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// Why settings could not be resolved into a client configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Nothing says where the cluster is.
    #[error("no cluster is configured")]
    NothingConfigured {
        /// What was looked for (the kubeconfig that does not exist).
        looked_for: Box<KubeconfigFiles>,
    },
    /// A kubeconfig file that must exist does not, or cannot be read.
    #[error("cannot read the kubeconfig {path}")]
    ReadKubeconfig {
        /// The file.
        path: PathBuf,
        /// What named it.
        named_by: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A kubeconfig file is not a valid kubeconfig.
    #[error("the kubeconfig {path} is not valid")]
    ParseKubeconfig {
        /// The file.
        path: PathBuf,
        /// The parser's message (with the line and column).
        message: String,
    },
    /// The kubeconfig has no such context, cluster or user.
    #[error("the kubeconfig has no {what} {name:?}")]
    MissingEntry {
        /// `context`, `cluster`, `user`.
        what: &'static str,
        /// The name looked for.
        name: String,
        /// Who asked for it.
        asked_by: String,
        /// The files read.
        files: Box<KubeconfigFiles>,
        /// The names the files do define.
        available: Vec<String>,
    },
    /// The kubeconfig sets no current context and none was selected.
    #[error("the kubeconfig sets no current-context")]
    NoCurrentContext {
        /// The files read.
        files: Box<KubeconfigFiles>,
        /// The contexts they define.
        available: Vec<String>,
    },
    /// The kubeconfig's selected entries are unusable (no server, bad data).
    #[error("the kubeconfig {files} cannot be used")]
    UnusableKubeconfig {
        /// The files read.
        files: Box<KubeconfigFiles>,
        /// kube's error.
        #[source]
        source: KubeconfigError,
    },
    /// A setting has a value the provider cannot use.
    #[error("{origin} is not valid: {reason}")]
    InvalidSetting {
        /// The setting's attribute (for the diagnostic's path).
        attribute: &'static str,
        /// Where the value came from.
        origin: Origin,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// `config_context*` is set but there is no kubeconfig to select from.
    #[error("a kubeconfig context is selected but no kubeconfig exists")]
    ContextWithoutKubeconfig {
        /// The setting.
        origin: Origin,
        /// What was looked for.
        looked_for: Box<KubeconfigFiles>,
    },
    /// The pod's service account files cannot be read.
    #[error("cannot read the pod's service account from {dir}")]
    InCluster {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl ConfigError {
    /// The error as one diagnostic about `scope`, on the attribute it
    /// concerns where there is one.
    pub fn diagnostic(&self, scope: &Scope) -> Diagnostic {
        let origin_path = |o: &Origin| match o {
            Origin::Attribute(p) => Some(p.clone()),
            Origin::Env(_) => None,
        };
        let (summary, detail, path): (&str, String, Option<AttributePath>) = match self {
            ConfigError::NothingConfigured { looked_for } => (
                "No Kubernetes Cluster Configured",
                nothing_configured_detail(scope, looked_for),
                None,
            ),
            ConfigError::ReadKubeconfig {
                path,
                named_by,
                source,
            } => (
                if source.kind() == std::io::ErrorKind::NotFound {
                    "Kubeconfig Not Found"
                } else {
                    "Unreadable Kubeconfig"
                },
                format!(
                    "The kubeconfig {} for {scope}, named by {named_by}, cannot be read: {source}. Check the \
                     path, or remove the setting that names it.",
                    path.display()
                ),
                None,
            ),
            ConfigError::ParseKubeconfig { path, message } => (
                "Invalid Kubeconfig",
                format!(
                    "The kubeconfig {} for {scope} is not a valid kubeconfig: {message}",
                    path.display()
                ),
                None,
            ),
            ConfigError::MissingEntry {
                what,
                name,
                asked_by,
                files,
                available,
            } => (
                match *what {
                    "context" => "Kubeconfig Context Not Found",
                    "cluster" => "Kubeconfig Cluster Not Found",
                    _ => "Kubeconfig User Not Found",
                },
                format!(
                    "{asked_by} selects the {what} {name:?} for {scope}, but the kubeconfig {files} defines \
                     no {what} of that name. It defines {}.",
                    list_names(available, what)
                ),
                None,
            ),
            ConfigError::NoCurrentContext { files, available } => (
                "No Kubeconfig Context Selected",
                format!(
                    "The kubeconfig {files} for {scope} sets no `current-context`, and no context is selected. \
                     Set `config_context` to one of {}.",
                    list_names(available, "context")
                ),
                None,
            ),
            ConfigError::UnusableKubeconfig { files, source } => (
                "Unusable Kubeconfig",
                format!(
                    "The kubeconfig {files} cannot be used for {scope}: {}.",
                    crate::kube::errors::error_chain(source)
                ),
                None,
            ),
            ConfigError::InvalidSetting {
                attribute,
                origin,
                reason,
            } => (
                "Invalid Provider Setting",
                format!("{origin} for {scope} is not usable: {reason}"),
                origin_path(origin).or_else(|| Some(scope.attr(attribute))),
            ),
            ConfigError::ContextWithoutKubeconfig { origin, looked_for } => (
                "No Kubeconfig To Select From",
                format!(
                    "{origin} selects a kubeconfig context for {scope}, but there is no kubeconfig: {}. Name \
                     the file with `config_path`, or remove the context setting.",
                    match looked_for.as_ref() {
                        KubeconfigFiles::Home(p) => format!("{} does not exist", p.display()),
                        other => other.to_string(),
                    }
                ),
                origin_path(origin),
            ),
            ConfigError::InCluster { dir, source } => (
                "Unreadable Service Account",
                format!(
                    "The provider runs in a Kubernetes pod with no other settings, so it uses the pod's \
                     service account for {scope}, but {} cannot be read: {source}.",
                    dir.display()
                ),
                None,
            ),
        };
        Diagnostic {
            severity: Severity::Error,
            summary: summary.to_string(),
            detail,
            path,
        }
    }
}

fn nothing_configured_detail(scope: &Scope, looked_for: &KubeconfigFiles) -> String {
    let looked = match looked_for {
        KubeconfigFiles::Home(p) => {
            format!("KUBECONFIG is not set and {} does not exist", p.display())
        }
        KubeconfigFiles::Nowhere => "KUBECONFIG and HOME are not set".to_string(),
        KubeconfigFiles::KubeconfigEnv(paths) => format!(
            "none of the files KUBECONFIG lists exists ({})",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("no kubeconfig ({other})"),
    };
    match scope {
        Scope::Provider => format!(
            "The planton provider has no cluster to manage jobs in: the provider block sets no `host`, \
             `config_path`, `config_paths` or `config_context`, no KUBE_* environment variable is set, \
             {looked}, and the provider is not running inside a Kubernetes pod. It never falls back to \
             localhost. Configure the cluster in the `provider \"planton\"` block (for example `config_path` \
             and `config_context`, or `host`, `token` and `cluster_ca_certificate`), or give each job a \
             `spec.target_cluster.cluster_name` from `clusters`."
        ),
        Scope::Cluster(_) => format!(
            "{} has no connection settings ({looked}). Set `host` or `config_path` in its entry.",
            capitalize(&scope.to_string())
        ),
    }
}

fn list_names(names: &[String], what: &str) -> String {
    if names.is_empty() {
        format!("no {what} at all")
    } else {
        names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Resolves known settings into a client configuration. Reads files only;
/// never blocks on the network.
pub fn resolve(s: &ConnectionSettings) -> Result<Resolved, ConfigError> {
    if let Some(ic) = &s.in_cluster {
        return resolve_in_cluster(ic);
    }
    let (mut config, mut identity, mut warnings) = match read_kubeconfig(s)? {
        Some((kubeconfig, files)) => from_kubeconfig(s, kubeconfig, files)?,
        None => match &s.host {
            Some(host) => (
                kube::Config::new(parse_host(host)?),
                "no credentials (anonymous requests)".to_string(),
                Diagnostics::new(),
            ),
            None => {
                if let Some(origin) = [&s.context, &s.context_cluster, &s.context_auth_info]
                    .into_iter()
                    .flatten()
                    .map(|c| c.origin.clone())
                    .next()
                {
                    return Err(ConfigError::ContextWithoutKubeconfig {
                        origin,
                        looked_for: Box::new(s.kubeconfig.clone()),
                    });
                }
                return Err(ConfigError::NothingConfigured {
                    looked_for: Box::new(s.kubeconfig.clone()),
                });
            }
        },
    };
    apply_overrides(s, &mut config, &mut identity)?;
    let endpoint = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    if config.accept_invalid_certs {
        let origin = match &s.insecure {
            Some(i) => i.origin.to_string(),
            None => "the kubeconfig's insecure-skip-tls-verify".to_string(),
        };
        warnings.attribute_warning(
            s.scope.attr("insecure"),
            "TLS Verification Disabled",
            format!(
                "The provider does not verify the certificate of {} at {endpoint} ({origin}). Anyone on the \
                 network path can read and change the traffic, credentials included. Set \
                 `cluster_ca_certificate` instead of `insecure`.",
                s.scope
            ),
        );
    }
    Ok(Resolved {
        endpoint,
        identity,
        config,
        warnings,
    })
}

/// The kubeconfig the settings name, read and merged, or `None` when they
/// name none (or only a default one that does not exist).
fn read_kubeconfig(
    s: &ConnectionSettings,
) -> Result<Option<(Kubeconfig, Box<KubeconfigFiles>)>, ConfigError> {
    let (paths, named_by): (Vec<PathBuf>, String) = match &s.kubeconfig {
        KubeconfigFiles::None | KubeconfigFiles::Nowhere => return Ok(None),
        KubeconfigFiles::Home(p) if !p.is_file() => return Ok(None),
        KubeconfigFiles::Home(p) => (vec![p.clone()], "the default location".into()),
        KubeconfigFiles::Named { paths, origin } => (paths.clone(), origin.to_string()),
        // As kubectl does, files KUBECONFIG lists but that do not exist
        // are skipped; with none left, there is no kubeconfig.
        KubeconfigFiles::KubeconfigEnv(paths) => {
            let existing: Vec<PathBuf> = paths.iter().filter(|p| p.exists()).cloned().collect();
            if existing.is_empty() {
                return Ok(None);
            }
            (existing, "the environment variable KUBECONFIG".into())
        }
    };
    let mut merged: Option<Kubeconfig> = None;
    for path in &paths {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadKubeconfig {
            path: path.clone(),
            named_by: named_by.clone(),
            source,
        })?;
        // Parse the text ourselves first: kube's reader would lose the
        // file name, and its messages carry the line and column.
        if let Err(e) = Kubeconfig::from_yaml(&text) {
            return Err(ConfigError::ParseKubeconfig {
                path: path.clone(),
                message: parse_message(&e),
            });
        }
        let next = Kubeconfig::read_from(path).map_err(|e| ConfigError::ParseKubeconfig {
            path: path.clone(),
            message: parse_message(&e),
        })?;
        merged = Some(match merged {
            None => next,
            Some(m) => m.merge(next).map_err(|e| ConfigError::ParseKubeconfig {
                path: path.clone(),
                message: parse_message(&e),
            })?,
        });
    }
    Ok(merged.map(|k| (k, Box::new(s.kubeconfig.clone()))))
}

/// The parser's message without the source excerpt it appends: the excerpt
/// could show a token or key from the lines around the error. The line and
/// column stay.
fn parse_message(err: &KubeconfigError) -> String {
    let text = crate::kube::errors::error_chain(err);
    let first = text.lines().next().unwrap_or_default().trim();
    first
        .strip_prefix("failed to parse kubeconfig YAML: ")
        .unwrap_or(first)
        .trim_start_matches("error: ")
        .to_string()
}

fn from_kubeconfig(
    s: &ConnectionSettings,
    kubeconfig: Kubeconfig,
    files: Box<KubeconfigFiles>,
) -> Result<(kube::Config, String, Diagnostics), ConfigError> {
    let contexts: Vec<String> = kubeconfig.contexts.iter().map(|c| c.name.clone()).collect();
    let context_name = match (&s.context, &kubeconfig.current_context) {
        (Some(c), _) => {
            if !contexts.contains(&c.value) {
                return Err(ConfigError::MissingEntry {
                    what: "context",
                    name: c.value.clone(),
                    asked_by: c.origin.to_string(),
                    files,
                    available: contexts,
                });
            }
            c.value.clone()
        }
        (None, Some(current)) if !current.is_empty() => {
            if !contexts.contains(current) {
                return Err(ConfigError::MissingEntry {
                    what: "context",
                    name: current.clone(),
                    asked_by: "The kubeconfig's current-context".into(),
                    files,
                    available: contexts,
                });
            }
            current.clone()
        }
        (None, _) => {
            return Err(ConfigError::NoCurrentContext {
                files,
                available: contexts,
            });
        }
    };
    let context = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.clone())
        .unwrap_or_default();
    let cluster_name = s
        .context_cluster
        .as_ref()
        .map(|c| (c.value.clone(), c.origin.to_string()))
        .unwrap_or_else(|| {
            (
                context.cluster.clone(),
                format!("The context {context_name:?}"),
            )
        });
    let clusters: Vec<String> = kubeconfig.clusters.iter().map(|c| c.name.clone()).collect();
    if !clusters.contains(&cluster_name.0) {
        return Err(ConfigError::MissingEntry {
            what: "cluster",
            name: cluster_name.0,
            asked_by: cluster_name.1,
            files,
            available: clusters,
        });
    }
    let user_name = s
        .context_auth_info
        .as_ref()
        .map(|u| (u.value.clone(), u.origin.to_string()))
        .or_else(|| {
            context
                .user
                .clone()
                .map(|u| (u, format!("The context {context_name:?}")))
        });
    let users: Vec<String> = kubeconfig
        .auth_infos
        .iter()
        .map(|u| u.name.clone())
        .collect();
    if let Some((user, asked_by)) = &user_name
        && !users.contains(user)
    {
        // kubectl quietly goes anonymous here; a provider should not.
        return Err(ConfigError::MissingEntry {
            what: "user",
            name: user.clone(),
            asked_by: asked_by.clone(),
            files,
            available: users,
        });
    }
    let options = KubeConfigOptions {
        context: Some(context_name),
        cluster: s.context_cluster.as_ref().map(|c| c.value.clone()),
        user: s.context_auth_info.as_ref().map(|u| u.value.clone()),
    };
    // kube's loader is an async fn that never waits on anything: polling it
    // to completion here keeps resolution synchronous (and usable outside
    // the runtime).
    let config =
        futures::executor::block_on(kube::Config::from_custom_kubeconfig(kubeconfig, &options))
            .map_err(|source| ConfigError::UnusableKubeconfig {
                files: files.clone(),
                source,
            })?;
    let identity = match &user_name {
        Some((user, _)) => format!(
            "the kubeconfig user {user:?} ({})",
            credential_kind(&config.auth_info)
        ),
        None => "no credentials (the context names no user)".to_string(),
    };
    Ok((config, identity, Diagnostics::new()))
}

/// What kind of credential an [`kube::config::AuthInfo`] carries, in words.
fn credential_kind(a: &kube::config::AuthInfo) -> String {
    if let Some(p) = &a.auth_provider {
        return format!("auth provider {:?}", p.name);
    }
    if a.username.is_some() && a.password.is_some() {
        return "username and password".into();
    }
    if a.token.is_some() {
        return "bearer token".into();
    }
    if a.token_file.is_some() {
        return "token file".into();
    }
    if let Some(exec) = &a.exec {
        // The command only: arguments may hold secrets.
        let cmd = exec.command.clone().unwrap_or_default();
        return format!("exec plugin `{cmd}`");
    }
    if a.client_certificate.is_some() || a.client_certificate_data.is_some() {
        return "client certificate".into();
    }
    "no credentials".into()
}

fn apply_overrides(
    s: &ConnectionSettings,
    config: &mut kube::Config,
    identity: &mut String,
) -> Result<(), ConfigError> {
    if let Some(host) = &s.host {
        config.cluster_url = parse_host(host)?;
    }
    if let Some(ca) = &s.cluster_ca_certificate {
        config.root_cert = Some(parse_certificates(ca, "cluster_ca_certificate")?);
        config.root_cert_file = None;
    }
    if let Some(insecure) = &s.insecure {
        config.accept_invalid_certs = insecure.value;
        if insecure.value {
            // As kubectl's --insecure-skip-tls-verify: no CA to check against.
            config.root_cert = None;
            config.root_cert_file = None;
        }
    }
    if let Some(name) = &s.tls_server_name {
        config.tls_server_name = Some(name.value.clone());
    }
    if let Some(proxy) = &s.proxy_url {
        config.proxy_url = Some(parse_proxy(proxy)?);
    }
    let a = &mut config.auth_info;
    let mut credentials = Vec::new();
    if let Some(token) = &s.token {
        a.token = Some(token.value.expose().to_string().into());
        a.token_file = None;
        a.exec = None;
        a.auth_provider = None;
        a.username = None;
        a.password = None;
        credentials.push(format!("the bearer token from {}", token.origin));
    }
    if let Some(cert) = &s.client_certificate {
        parse_certificates(cert, "client_certificate")?;
        a.client_certificate_data =
            Some(base64::engine::general_purpose::STANDARD.encode(cert.value.as_bytes()));
        a.client_certificate = None;
        credentials.push(format!("the client certificate from {}", cert.origin));
    }
    if let Some(key) = &s.client_key {
        if PrivateKeyDer::from_pem_slice(key.value.expose().as_bytes()).is_err() {
            return Err(ConfigError::InvalidSetting {
                attribute: "client_key",
                origin: key.origin.clone(),
                reason: "it is not a PEM-encoded private key (`-----BEGIN ... PRIVATE KEY-----`)"
                    .into(),
            });
        }
        a.client_key_data = Some(
            base64::engine::general_purpose::STANDARD
                .encode(key.value.expose().as_bytes())
                .into(),
        );
        a.client_key = None;
    }
    if let Some(exec) = &s.exec {
        let e = &exec.value;
        a.exec = Some(ExecConfig {
            api_version: Some(e.api_version.clone()),
            command: Some(e.command.clone()),
            args: Some(e.args.clone()),
            env: Some(
                e.env
                    .iter()
                    .map(|(k, v)| {
                        [
                            ("name".to_string(), k.clone()),
                            ("value".to_string(), v.clone()),
                        ]
                        .into_iter()
                        .collect()
                    })
                    .collect(),
            ),
            ..ExecConfig::default()
        });
        a.token = None;
        a.token_file = None;
        a.auth_provider = None;
        a.username = None;
        a.password = None;
        credentials.push(format!(
            "the exec plugin `{}` from {}",
            e.command_line(),
            exec.origin
        ));
    }
    // A provider has no terminal: capture the plugin's stderr for messages
    // instead of letting it inherit ours.
    if let Some(exec) = &mut a.exec {
        exec.interactive_mode = Some(ExecInteractiveMode::Never);
    }
    let has_cert = a.client_certificate.is_some() || a.client_certificate_data.is_some();
    let has_key = a.client_key.is_some() || a.client_key_data.is_some();
    if has_cert != has_key {
        let (attribute, missing) = if has_cert {
            ("client_key", "a client certificate without its key")
        } else {
            ("client_certificate", "a client key without its certificate")
        };
        return Err(ConfigError::InvalidSetting {
            attribute,
            origin: Origin::Attribute(s.scope.attr(attribute)),
            reason: format!(
                "the settings give {missing}; set both `client_certificate` and `client_key`"
            ),
        });
    }
    if !credentials.is_empty() {
        *identity = credentials.join(" and ");
    }
    Ok(())
}

fn parse_host(host: &Setting<String>) -> Result<http::Uri, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidSetting {
        attribute: "host",
        origin: host.origin.clone(),
        reason,
    };
    let text = host.value.trim();
    let text = if text.contains("://") {
        text.to_string()
    } else {
        format!("https://{text}")
    };
    let uri: http::Uri = text
        .parse()
        .map_err(|e| invalid(format!("{:?} is not a URL ({e})", host.value)))?;
    match uri.scheme_str() {
        Some("https" | "http") => {}
        _ => {
            return Err(invalid(format!(
                "{:?} must start with https:// (or http://)",
                host.value
            )));
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid(format!("{:?} names no host", host.value)));
    }
    Ok(uri)
}

fn parse_proxy(proxy: &Setting<String>) -> Result<http::Uri, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidSetting {
        attribute: "proxy_url",
        origin: proxy.origin.clone(),
        reason,
    };
    let uri: http::Uri = proxy
        .value
        .parse()
        .map_err(|e| invalid(format!("it is not a URL ({e})")))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => Ok(uri),
        _ => Err(invalid(
            "it must be an http:// or https:// proxy URL, such as `http://proxy.example:3128`"
                .into(),
        )),
    }
}

/// The DER certificates in PEM text, or an error that says what was wrong.
fn parse_certificates(
    pem: &Setting<String>,
    attribute: &'static str,
) -> Result<Vec<Vec<u8>>, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidSetting {
        attribute,
        origin: pem.origin.clone(),
        reason,
    };
    let mut certs = Vec::new();
    for cert in CertificateDer::pem_slice_iter(pem.value.as_bytes()) {
        match cert {
            Ok(c) => certs.push(c.as_ref().to_vec()),
            Err(e) => return Err(invalid(format!("its PEM cannot be decoded ({e})"))),
        }
    }
    if certs.is_empty() {
        let hint = if base64::engine::general_purpose::STANDARD
            .decode(pem.value.trim())
            .is_ok_and(|b| b.starts_with(b"-----BEGIN"))
        {
            " It looks base64-encoded (as a kubeconfig's `*-data` fields are); pass `base64decode(...)` of it."
        } else {
            ""
        };
        return Err(invalid(format!(
            "it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`).{hint}"
        )));
    }
    Ok(certs)
}

fn resolve_in_cluster(ic: &InCluster) -> Result<Resolved, ConfigError> {
    let read = |name: &str| {
        std::fs::read(ic.dir.join(name)).map_err(|source| ConfigError::InCluster {
            dir: ic.dir.clone(),
            source,
        })
    };
    let host = if ic.host.contains(':') {
        format!("[{}]", ic.host)
    } else {
        ic.host.clone()
    };
    let url = format!("https://{host}:{}", ic.port);
    let uri: http::Uri = url.parse().map_err(|e| ConfigError::InvalidSetting {
        attribute: "host",
        origin: Origin::Env("KUBERNETES_SERVICE_HOST"),
        reason: format!("{url:?} is not a URL ({e})"),
    })?;
    let ca = read("ca.crt")?;
    let mut config = kube::Config::new(uri);
    config.root_cert = Some(
        CertificateDer::pem_slice_iter(&ca)
            .filter_map(Result::ok)
            .map(|c| c.as_ref().to_vec())
            .collect(),
    );
    config.auth_info.token_file = Some(ic.dir.join("token").display().to_string());
    if let Ok(ns) = read("namespace") {
        let ns = String::from_utf8_lossy(&ns).trim().to_string();
        if !ns.is_empty() {
            config.default_namespace = ns;
        }
    }
    Ok(Resolved {
        endpoint: url,
        identity: "the pod's service account".to_string(),
        config,
        warnings: Diagnostics::new(),
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
