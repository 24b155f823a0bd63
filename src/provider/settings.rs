//! Reading the provider block, with the process environment, into the
//! connection settings the registry of clusters takes
//! ([`crate::kube::settings`]): one [`Parsed`] per scope, the provider level
//! and each `clusters` entry. A scope with a value Terraform knows only
//! after apply stays [`Parsed::Unknown`]: nothing falls back to the
//! environment or to another cluster in its place.
//!
//! Precedence, for each setting: the attribute, then its environment variable
//! (provider level only), then the kubeconfig. Which kubeconfig: `config_path`
//! or `config_paths`, else `KUBE_CONFIG_PATH`, else `KUBE_CONFIG_PATHS`, else
//! (only when no `host` is set, or a context is selected) `KUBECONFIG`, else
//! `~/.kube/config`. In a pod, with nothing at all configured, the pod's
//! service account. Nothing else: never localhost. Problems that make a
//! setting unusable (empty strings, settings that contradict each other,
//! invalid environment variables) are diagnostics on their paths; the
//! setting then counts as unset.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::env::*;
use crate::kube::settings::{
    CLUSTERS_ATTRIBUTE, ClustersConfig, ConnectionSettings, ExecSettings, KubeconfigFiles, Origin,
    Parsed, ProviderSettings, Scope, Secret, Setting,
};
use crate::tf::{AttributePath, Diagnostics, Value};

/// Reads the provider block. Problems that make a setting unusable
/// (empty strings, settings that contradict each other, invalid
/// environment variables) are returned as diagnostics on their paths;
/// the settings are then as if the offending value were unset.
pub fn parse(config: &Value, env: &Environment) -> (ProviderSettings, Diagnostics) {
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
    let clusters_set = !config.get(CLUSTERS_ATTRIBUTE).is_null();
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
    let clusters = match config.get(CLUSTERS_ATTRIBUTE) {
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
    (ProviderSettings { provider, clusters }, d)
}

/// The title of an empty string where a value is needed.
const EMPTY_SETTING: &str = "Empty Provider Setting";
/// The title of settings that contradict each other.
const CONFLICTING_SETTINGS: &str = "Conflicting Provider Settings";

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
                        EMPTY_SETTING,
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
            value: Secret::new(s.value),
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
                                EMPTY_SETTING,
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
                CONFLICTING_SETTINGS,
                format!(
                    "{} sets both `config_path` and `config_paths`. Set one of them: list every file in \
                     `config_paths`, or name the one file in `config_path`.",
                    scope.capitalized()
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
            value: Secret::new(t.value),
            origin: t.origin,
        })
    });
    s.cluster_ca_certificate = or_env(raw.cluster_ca_certificate, KUBE_CLUSTER_CA_CERT_DATA, d);
    s.client_certificate = or_env(raw.client_certificate, KUBE_CLIENT_CERT_DATA, d);
    s.client_key = raw.client_key.or_else(|| {
        env.var_string(KUBE_CLIENT_KEY_DATA, d).map(|t| Setting {
            value: Secret::new(t.value),
            origin: t.origin,
        })
    });
    s.insecure = raw.insecure.or_else(|| env.var_bool(KUBE_INSECURE, d));
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
        s.in_cluster = env.in_cluster();
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
    let mut s = ConnectionSettings {
        scope,
        kubeconfig: KubeconfigFiles::None,
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
    let selects = s.selects_context();
    if named.is_none() && !selects && s.host.is_none() {
        d.attribute_error(
            s.scope.path(),
            "Cluster Without Connection Settings",
            format!(
                "{} sets neither `host` nor a kubeconfig (`config_path`, `config_paths`, `config_context`). \
                 A named cluster never falls back to the provider-level settings or to a default kubeconfig: \
                 say where the cluster is.",
                s.scope.capitalized()
            ),
        );
    }
    s.kubeconfig = match named {
        Some(files) => files,
        None if selects => match provider_files {
            Some(files) => files.clone(),
            // The provider-level file attributes are not yet known.
            None => return Err(vec![AttributePath::root("config_path")]),
        },
        None => KubeconfigFiles::None,
    };
    check_combinations(&s, d);
    Ok(s)
}

/// Settings that contradict each other are errors, not a silent choice.
fn check_combinations(s: &ConnectionSettings, d: &mut Diagnostics) {
    let scope = s.scope.capitalized();
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
            let summary = "Credentials Over Plain HTTP";
            if loopback {
                d.attribute_warning(
                    s.scope.attr("host"),
                    summary,
                    format!("{detail} The address is this machine's, so this is only a warning."),
                );
            } else {
                d.attribute_error(s.scope.attr("host"), summary, detail);
            }
        }
    }
    if let (Some(token), Some(exec)) = (&s.token, &s.exec) {
        d.attribute_error(
            s.scope.attr("exec"),
            CONFLICTING_SETTINGS,
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
            CONFLICTING_SETTINGS,
            format!(
                "{scope} turns certificate verification off (insecure = true, from {}) and sets a CA \
                 certificate to verify against (from {}). Remove `insecure` to verify the server, or the CA \
                 certificate if you really mean not to.",
                insecure.origin, ca.origin
            ),
        );
    }
}

fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
