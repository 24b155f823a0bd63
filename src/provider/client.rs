//! From the provider block to a shared [`kube::Client`].
//!
//! [`ConnectionSettings`] is what the provider block and the environment
//! say about reaching a cluster; [`kube_config`] turns settings into a
//! [`kube::Config`], and [`Clients`] builds one client per distinct settings
//! and hands out clones that share its connection pool.
//!
//! Where the kubeconfig comes from, first match wins:
//! 1. the provider attribute `config_path`;
//! 2. the environment variable `KUBE_CONFIG_PATH`;
//! 3. `KUBECONFIG` (a list of files, merged as kubectl merges them);
//! 4. `~/.kube/config`, if it exists.
//!
//! The context is `config_context`, else `KUBE_CTX`, else the kubeconfig's
//! current context. Nothing else is ever tried: no in-cluster credentials,
//! no `localhost:8080`. With none of the above, operations that need the
//! cluster fail with an error that says what was looked for.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use tokio::sync::OnceCell;

use crate::tf::{AttributePath, Diagnostics, Value};

/// How the provider reaches its cluster, once every setting is known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ConnectionSettings {
    /// `config_path` (or `KUBE_CONFIG_PATH`): one kubeconfig file.
    pub config_path: Option<PathBuf>,
    /// `config_context` (or `KUBE_CTX`): the context to use.
    pub config_context: Option<String>,
    /// `KUBECONFIG`, when neither of the above names a file.
    pub kubeconfig_env: Vec<PathBuf>,
    /// `$HOME/.kube/config`, the last resort.
    pub home_kubeconfig: Option<PathBuf>,
}

/// What the provider knows about its connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Settings {
    /// ConfigureProvider has not run (a bug if an operation needs it).
    #[default]
    Unconfigured,
    /// Part of the provider block is known only after apply.
    Unknown(Vec<AttributePath>),
    /// Ready to build a client.
    Known(ConnectionSettings),
}

/// Why no client could be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// Nothing names a kubeconfig.
    #[error("no kubeconfig is configured")]
    NoConfiguration,
    /// A kubeconfig file could not be read or parsed.
    #[error("reading the kubeconfig {path} failed")]
    ReadKubeconfig {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: KubeconfigError,
    },
    /// The kubeconfig was read, but the context, cluster or user it selects
    /// cannot be used.
    #[error("using the kubeconfig {source_name} failed")]
    SelectContext {
        /// Where the kubeconfig came from, for messages.
        source_name: String,
        /// What went wrong.
        #[source]
        source: KubeconfigError,
    },
    /// The client could not be built from the configuration (TLS material).
    #[error("building the Kubernetes client failed")]
    BuildClient(#[source] kube::Error),
}

impl ConnectionSettings {
    /// Reads the provider block (`config_path`, `config_context`) and the
    /// environment through `env`. Unknown attributes give
    /// [`Settings::Unknown`].
    pub fn from_provider_config(
        config: &Value,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Settings {
        let mut unknown = Vec::new();
        let mut attribute = |name: &str| -> Option<String> {
            match config.get(name) {
                Value::Unknown(_) => {
                    unknown.push(AttributePath::root(name));
                    None
                }
                v => v.as_str().filter(|s| !s.is_empty()).map(str::to_string),
            }
        };
        let path_attr = attribute("config_path");
        let context_attr = attribute("config_context");
        if !unknown.is_empty() {
            return Settings::Unknown(unknown);
        }
        let non_empty = |name: &str| env(name).filter(|v| !v.is_empty());
        let home = non_empty("HOME").map(PathBuf::from);
        let config_path = path_attr
            .map(|p| expand_home(&p, home.as_deref()))
            .or_else(|| non_empty("KUBE_CONFIG_PATH").map(PathBuf::from));
        let config_context =
            context_attr.or_else(|| non_empty("KUBE_CTX").and_then(|v| v.into_string().ok()));
        let kubeconfig_env = non_empty("KUBECONFIG")
            .map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let home_kubeconfig = home.map(|h| h.join(".kube").join("config"));
        Settings::Known(ConnectionSettings {
            config_path,
            config_context,
            kubeconfig_env,
            home_kubeconfig,
        })
    }

    /// Where the kubeconfig comes from, for messages.
    pub fn describe_source(&self) -> String {
        if let Some(p) = &self.config_path {
            return p.display().to_string();
        }
        if !self.kubeconfig_env.is_empty() {
            let files: Vec<String> = self
                .kubeconfig_env
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            return format!("KUBECONFIG ({})", files.join(", "));
        }
        match &self.home_kubeconfig {
            Some(p) => p.display().to_string(),
            None => "(none)".into(),
        }
    }
}

fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// The kubeconfig the settings name, read and merged.
fn read_kubeconfig(settings: &ConnectionSettings) -> Result<Kubeconfig, ConnectionError> {
    let read = |path: &Path| {
        Kubeconfig::read_from(path).map_err(|source| ConnectionError::ReadKubeconfig {
            path: path.to_path_buf(),
            source,
        })
    };
    if let Some(path) = &settings.config_path {
        return read(path);
    }
    if !settings.kubeconfig_env.is_empty() {
        let mut merged = Kubeconfig::default();
        for path in &settings.kubeconfig_env {
            let next = read(path)?;
            merged = merged
                .merge(next)
                .map_err(|source| ConnectionError::ReadKubeconfig {
                    path: path.clone(),
                    source,
                })?;
        }
        return Ok(merged);
    }
    match &settings.home_kubeconfig {
        Some(path) if path.is_file() => read(path),
        _ => Err(ConnectionError::NoConfiguration),
    }
}

/// The [`kube::Config`] for `settings`. Reads files (and may run an exec
/// credential plugin later, when the client first authenticates); never
/// contacts the cluster.
pub async fn kube_config(settings: &ConnectionSettings) -> Result<kube::Config, ConnectionError> {
    let kubeconfig = read_kubeconfig(settings)?;
    let options = KubeConfigOptions {
        context: settings.config_context.clone(),
        cluster: None,
        user: None,
    };
    kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|source| ConnectionError::SelectContext {
            source_name: settings.describe_source(),
            source,
        })
}

impl ConnectionError {
    /// The error as diagnostics, with advice.
    pub fn diagnostics(&self, settings: &ConnectionSettings) -> Diagnostics {
        let mut d = Diagnostics::new();
        let chain = crate::kube::errors::error_chain(self);
        match self {
            ConnectionError::NoConfiguration => d.error(
                "No Kubernetes Cluster Configured",
                format!(
                    "The planton provider needs a kubeconfig to reach a cluster, and none is configured: the \
                     provider block sets no `config_path`, and KUBE_CONFIG_PATH and KUBECONFIG are not set, and \
                     {} does not exist. The provider never falls back to in-cluster credentials or localhost. Set \
                     `config_path` (and optionally `config_context`) in the `provider \"planton\"` block, or \
                     export KUBECONFIG.",
                    settings
                        .home_kubeconfig
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "~/.kube/config".into())
                ),
            ),
            ConnectionError::ReadKubeconfig { path, .. } => d.error(
                "Unreadable Kubeconfig",
                format!(
                    "The provider could not read the kubeconfig {}. Check that the file exists and is a valid \
                     kubeconfig.\n\nOriginal error: {chain}",
                    path.display()
                ),
            ),
            ConnectionError::SelectContext { .. } => d.error(
                "Unusable Kubeconfig Context",
                format!(
                    "The kubeconfig {} was read, but the provider could not use {}. Check `config_context` and \
                     that the context's cluster and user exist in the file.\n\nOriginal error: {chain}",
                    settings.describe_source(),
                    match &settings.config_context {
                        Some(c) => format!("the context {c:?}"),
                        None => "its current context".into(),
                    }
                ),
            ),
            ConnectionError::BuildClient(_) => d.error(
                "Unusable Kubernetes Client Configuration",
                format!(
                    "The provider could not build a Kubernetes client from the kubeconfig {} (often a malformed \
                     certificate or key).\n\nOriginal error: {chain}",
                    settings.describe_source()
                ),
            ),
        }
        d
    }
}

/// Kubernetes clients for the provider's resources: one per distinct
/// settings, built on first use and shared (each clone uses the same
/// connection pool). No lock is held while a client is being built.
#[derive(Default)]
pub struct Clients {
    settings: RwLock<Settings>,
    built: Mutex<HashMap<ConnectionSettings, Arc<OnceCell<kube::Client>>>>,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients")
            .field("settings", &self.settings())
            .finish_non_exhaustive()
    }
}

impl Clients {
    /// An unconfigured registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the provider's settings (ConfigureProvider).
    pub fn configure(&self, settings: Settings) {
        *self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = settings;
    }

    /// The provider's settings.
    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The client for the provider's settings, or diagnostics saying why
    /// there is none.
    pub async fn client(&self) -> Result<kube::Client, Diagnostics> {
        let settings = match self.settings() {
            Settings::Known(s) => s,
            Settings::Unknown(paths) => {
                let mut d = Diagnostics::new();
                let names: Vec<String> = paths.iter().map(ToString::to_string).collect();
                d.error(
                    "Provider Configuration Not Yet Known",
                    format!(
                        "The provider block's {} depends on values that are known only after apply, so the \
                         provider cannot tell which cluster to use yet. Apply the resources the provider block \
                         depends on first (for example `terraform apply -target=...`), then apply again.",
                        names.join(", ")
                    ),
                );
                return Err(d);
            }
            Settings::Unconfigured => {
                let mut d = Diagnostics::new();
                d.error(
                    "Provider Not Configured",
                    "Terraform asked for a Kubernetes operation before configuring the provider. This is a bug \
                     in the provider; please report it with TF_LOG=debug output.",
                );
                return Err(d);
            }
        };
        let cell = {
            let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
            built.entry(settings.clone()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            let config = kube_config(&settings).await?;
            crate::kube::client(config).map_err(ConnectionError::BuildClient)
        })
        .await
        .cloned()
        .map_err(|e| e.diagnostics(&settings))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    fn block(path: Value, context: Value) -> Value {
        Value::object([("config_path", path), ("config_context", context)])
    }

    fn known(s: Settings) -> ConnectionSettings {
        match s {
            Settings::Known(s) => s,
            other => panic!("not known: {other:?}"),
        }
    }

    /// The attribute wins over KUBE_CONFIG_PATH, which wins over KUBECONFIG;
    /// `~/` expands to $HOME.
    #[test]
    fn precedence() {
        let env = env_of(&[
            ("HOME", "/home/u"),
            ("KUBE_CONFIG_PATH", "/env/kube"),
            ("KUBECONFIG", "/a:/b"),
            ("KUBE_CTX", "env-ctx"),
        ]);
        let s = known(ConnectionSettings::from_provider_config(
            &block(Value::string("~/k.yaml"), Value::string("attr-ctx")),
            &env,
        ));
        assert_eq!(s.config_path, Some(PathBuf::from("/home/u/k.yaml")));
        assert_eq!(s.config_context.as_deref(), Some("attr-ctx"));

        let s = known(ConnectionSettings::from_provider_config(
            &block(Value::Null, Value::Null),
            &env,
        ));
        assert_eq!(s.config_path, Some(PathBuf::from("/env/kube")));
        assert_eq!(s.config_context.as_deref(), Some("env-ctx"));
        assert_eq!(s.kubeconfig_env, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(
            s.home_kubeconfig,
            Some(PathBuf::from("/home/u/.kube/config"))
        );
    }

    /// Unknown attributes are reported, never replaced by the environment.
    #[test]
    fn unknown_attributes() {
        let env = env_of(&[("KUBE_CONFIG_PATH", "/env/kube")]);
        let s = ConnectionSettings::from_provider_config(&block(Value::UNKNOWN, Value::Null), &env);
        assert_eq!(
            s,
            Settings::Unknown(vec![AttributePath::root("config_path")])
        );
    }

    /// With nothing configured and no ~/.kube/config, there is no fallback:
    /// the error says what was looked for.
    #[tokio::test]
    async fn nothing_configured_is_an_error() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path().display().to_string();
        let clients = Clients::new();
        clients.configure(ConnectionSettings::from_provider_config(
            &block(Value::Null, Value::Null),
            &env_of(&[("HOME", &home)]),
        ));
        let Err(err) = clients.client().await else {
            panic!("a client was built with nothing configured");
        };
        assert_eq!(err.0[0].summary, "No Kubernetes Cluster Configured");
        assert!(err.0[0].detail.contains("never falls back"));
    }

    /// A kubeconfig with a context builds a client once; the same settings
    /// get the same (shared) client, and a missing context is an error that
    /// names it.
    #[tokio::test]
    async fn builds_from_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:1\n\
             contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n\
             current-context: ctx\n",
        )
        .unwrap();
        let settings = ConnectionSettings {
            config_path: Some(path.clone()),
            ..ConnectionSettings::default()
        };
        let config = kube_config(&settings).await.unwrap();
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:1/");

        let clients = Clients::new();
        clients.configure(Settings::Known(settings.clone()));
        clients.client().await.unwrap();
        clients.client().await.unwrap();
        assert_eq!(clients.built.lock().unwrap().len(), 1);

        let wrong = ConnectionSettings {
            config_context: Some("nope".into()),
            ..settings
        };
        let err = kube_config(&wrong).await.unwrap_err();
        let d = err.diagnostics(&wrong);
        assert_eq!(d.0[0].summary, "Unusable Kubeconfig Context");
        assert!(d.0[0].detail.contains("\"nope\""), "{}", d.0[0].detail);
    }
}
