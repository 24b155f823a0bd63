//! Why connection settings could not become a client configuration, and
//! how each reason reads as a diagnostic: the cluster, the setting and
//! where it came from, the file involved, and what to do about it.

use std::path::PathBuf;

use kube::config::KubeconfigError;

use super::errors::error_chain;
use super::settings::{KubeconfigFiles, Origin, Scope};
use crate::tf::{AttributePath, Diagnostic, Severity};

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
                    error_chain(source)
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
            scope.capitalized()
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
