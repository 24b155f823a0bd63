//! What the provider reads from its process besides the provider block:
//! the `KUBE_*` variables that stand in for unset attributes (the names
//! hashicorp's kubernetes provider uses), `KUBECONFIG` and `HOME`, and the
//! pod environment that makes the service account usable. [`Environment`]
//! is injected so that tests decide what the process "has".

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::kube::settings::{InCluster, KUBERNETES_SERVICE_HOST, Origin, Setting};
use crate::tf::Diagnostics;

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

/// The title of a variable the provider cannot use.
const INVALID_VARIABLE: &str = "Invalid Environment Variable";

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

    pub(super) fn var_string(
        &self,
        name: &'static str,
        d: &mut Diagnostics,
    ) -> Option<Setting<String>> {
        let value = self.var(name)?;
        match value.into_string() {
            Ok(value) => Some(Setting {
                value,
                origin: Origin::Env(name),
            }),
            Err(_) => {
                d.error(
                    INVALID_VARIABLE,
                    format!("The environment variable {name} is not valid UTF-8. Fix or unset it."),
                );
                None
            }
        }
    }

    /// A boolean variable, spelled as Go's `strconv.ParseBool` accepts it
    /// (hashicorp's provider reads `KUBE_INSECURE` that way).
    pub(super) fn var_bool(
        &self,
        name: &'static str,
        d: &mut Diagnostics,
    ) -> Option<Setting<bool>> {
        let v = self.var_string(name, d)?;
        let value = match v.value.as_str() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
            "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
            _ => {
                d.error(
                    INVALID_VARIABLE,
                    format!(
                        "The environment variable {name} is {:?}, which is not a boolean. Set it to \
                         `true` or `false`, or unset it.",
                        v.value
                    ),
                );
                return None;
            }
        };
        Some(Setting {
            value,
            origin: v.origin,
        })
    }

    /// The pod's service account, when the provider runs in a pod whose
    /// token is mounted.
    pub(super) fn in_cluster(&self) -> Option<InCluster> {
        let host = self.var(KUBERNETES_SERVICE_HOST)?.into_string().ok()?;
        let port = self
            .var("KUBERNETES_SERVICE_PORT")
            .and_then(|p| p.into_string().ok())
            .unwrap_or_else(|| "443".to_string());
        let dir = self.service_account_dir.clone();
        dir.join("token")
            .is_file()
            .then_some(InCluster { host, port, dir })
    }

    pub(super) fn home(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }
}
