//! From known connection settings to a [`kube::Config`]: the kubeconfig
//! files read and merged as kubectl merges them, the context, cluster and
//! user selected, then the explicit settings laid over them, or the pod's
//! service account. Only files are read here; no request is sent and no
//! exec plugin runs (that happens when the client is built).

use std::fmt;
use std::path::PathBuf;

use base64::Engine;
use kube::config::{
    ExecConfig, ExecInteractiveMode, KubeConfigOptions, Kubeconfig, KubeconfigError,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::config_error::ConfigError;
use super::errors::error_chain;
use super::settings::{
    ConnectionSettings, InCluster, KUBERNETES_SERVICE_HOST, KubeconfigFiles, Origin, Setting,
};
use crate::tf::Diagnostics;

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
                if let Some(origin) = s.context_origin() {
                    return Err(ConfigError::ContextWithoutKubeconfig {
                        origin: origin.clone(),
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
    let text = error_chain(err);
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
        origin: Origin::Env(KUBERNETES_SERVICE_HOST),
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
#[path = "resolve_tests.rs"]
mod tests;
