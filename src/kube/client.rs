//! The one place that builds a Kubernetes client. [`Target`] is a cluster
//! whose settings resolved into a kube Config; its client is built on first
//! use and kept, failure included, so that every operation of the process
//! shares one connection pool and a failing exec plugin runs once. Building
//! runs the exec plugin (under a time limit and the operation's budget, see
//! `exec.rs`), then stacks our layers on kube's HTTP stack: the per-request
//! timeout and the operation's budget (`budget.rs`), our retries
//! (`retry.rs`), the renewed exec token, and the cluster context that names
//! the cluster in errors (`connection.rs`). Errors of building (credentials,
//! TLS material, proxies, the plugin) become diagnostics here.

use std::sync::Arc;

use base64::Engine;
use tokio::sync::OnceCell;

use super::budget::{BudgetLayer, CONNECT_TIMEOUT, RequestTimeoutLayer};
use super::connection::{Cause, ClusterIdentity, ContextLayer, describe_auth_error};
use super::errors::{BUG_REPORT, error_chain};
use super::exec::{Credential, ExecAuthLayer, ExecFailure, ExecPlugin};
use super::lists::SharedLists;
use super::resolve::Resolved;
use super::retry::RetryLayer;
use super::settings::Scope;
use crate::tf::Diagnostics;

/// A cluster whose settings are known and usable.
pub struct Target {
    /// Which settings.
    pub scope: Scope,
    /// The cluster in words, for messages.
    pub identity: Arc<ClusterIdentity>,
    config: kube::Config,
    client: OnceCell<Result<kube::Client, Diagnostics>>,
    lists: Arc<SharedLists>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("scope", &self.scope)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// The cluster `scope` names, reached with the resolved settings `r`;
    /// nothing is built yet.
    pub fn new(scope: Scope, r: Resolved) -> Self {
        Target {
            identity: Arc::new(ClusterIdentity {
                cluster: scope.to_string(),
                endpoint: r.endpoint,
                identity: r.identity,
            }),
            scope,
            config: r.config,
            client: OnceCell::new(),
            lists: Arc::default(),
        }
    }

    /// The lists shared by the reads of this cluster ([`super::lists`]).
    pub fn lists(&self) -> &Arc<SharedLists> {
        &self.lists
    }

    /// The shared client, built on first use.
    pub async fn client(&self) -> Result<kube::Client, Diagnostics> {
        // The outer error is the operation's (its budget ended the exec
        // plugin) and is not kept; the inner result is.
        let built = self
            .client
            .get_or_try_init(|| async {
                let mut config = self.config.clone();
                let auth = match config.auth_info.exec.take() {
                    Some(exec) => match run_exec(ExecPlugin::new(exec), &mut config).await {
                        Ok(auth) => auth,
                        Err(f) if f.problem.is_interruption() => {
                            return Err(exec_error(&self.identity, &f));
                        }
                        Err(f) => return Ok(Err(exec_error(&self.identity, &f))),
                    },
                    None => ExecAuthLayer::none(),
                };
                let identity = self.identity.clone();
                // Reading certificate files blocks; off the async threads.
                Ok(
                    tokio::task::spawn_blocking(move || build_client(config, identity, auth))
                        .await
                        .unwrap_or_else(|e| {
                            let mut d = Diagnostics::new();
                            d.error(
                                NOT_BUILT,
                                format!(
                                    "Building the client for {} was interrupted ({e}). {BUG_REPORT}",
                                    self.identity.cluster
                                ),
                            );
                            Err(d)
                        }),
                )
            })
            .await;
        match built {
            Ok(result) => result.clone(),
            Err(d) => Err(d),
        }
    }
}

/// Runs the exec plugin of `config` and puts its credential where kube
/// would: a client certificate into the TLS settings, a token without an
/// expiry into the config, a token that expires into the layer that renews
/// it.
async fn run_exec(
    plugin: ExecPlugin,
    config: &mut kube::Config,
) -> Result<ExecAuthLayer, ExecFailure> {
    let b64 = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem.as_bytes());
    let a = &mut config.auth_info;
    match plugin.run().await? {
        Credential::Certificate { certificate, key } => {
            a.client_certificate_data = Some(b64(&certificate));
            a.client_key_data = Some(b64(&key).into());
            a.client_certificate = None;
            a.client_key = None;
            Ok(ExecAuthLayer::none())
        }
        Credential::Token {
            token,
            expires: None,
        } => {
            a.token = Some(token.into());
            Ok(ExecAuthLayer::none())
        }
        Credential::Token {
            token,
            expires: Some(expires),
        } => Ok(ExecAuthLayer::renewing(plugin, token, expires)),
    }
}

/// Builds a client. Its HTTP stack, innermost first: kube's (TLS, the
/// connect timeout, credentials), the per-attempt timeout, our retry layer,
/// the exec plugin's renewed token, the operation's budget, and the cluster
/// context outermost. kube's own retries are off (they would retry requests
/// that are not idempotent and wait up to 1000 s), and so is its read
/// timeout: the budget layers bound requests instead, so that a long watch
/// is not cut.
fn build_client(
    mut config: kube::Config,
    identity: Arc<ClusterIdentity>,
    auth: ExecAuthLayer,
) -> Result<kube::Client, Diagnostics> {
    config.default_retry = false;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = None;
    // kube-rs tunnels through a proxy (HTTP/1.1); otherwise our transport.
    let builder = match config.proxy_url {
        Some(_) => kube::client::ClientBuilder::try_from(config),
        None => super::transport::builder(&config),
    }
    .map_err(|e| client_error(&identity, &e))?;
    Ok(builder
        .with_layer(&RequestTimeoutLayer::default())
        .with_layer(&RetryLayer)
        .with_layer(&auth)
        .with_layer(&BudgetLayer)
        .with_layer(&ContextLayer::new(identity))
        .build())
}

/// Titles of the failures to build a client.
const EXEC_FAILED: &str = "Exec Credential Plugin Failed";
const NOT_BUILT: &str = "Kubernetes Client Not Built";

/// A client for `t` could not be built, because of `what`.
fn cannot_connect(t: &ClusterIdentity, summary: &str, what: &str) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(
        summary,
        format!(
            "The provider could not connect to {} at {} (authenticating with {}): {what}",
            t.cluster, t.endpoint, t.identity
        ),
    );
    d
}

fn exec_error(t: &ClusterIdentity, failure: &ExecFailure) -> Diagnostics {
    cannot_connect(t, EXEC_FAILED, &failure.to_string())
}

fn client_error(t: &ClusterIdentity, err: &kube::Error) -> Diagnostics {
    let (summary, what) = match err {
        kube::Error::Auth(auth) => {
            let summary = match auth {
                kube::client::AuthError::AuthExecRun { .. }
                | kube::client::AuthError::AuthExecStart(_)
                | kube::client::AuthError::AuthExecParse(_)
                | kube::client::AuthError::ExecPluginFailed
                | kube::client::AuthError::MissingCommand => EXEC_FAILED,
                _ => Cause::Credentials.summary(),
            };
            (summary, describe_auth_error(auth))
        }
        kube::Error::RustlsTls(e) => (
            "Invalid TLS Material",
            format!(
                "the CA certificate or the client certificate and key cannot be used: {}",
                error_chain(e)
            ),
        ),
        kube::Error::ProxyProtocolUnsupported { .. }
        | kube::Error::ProxyProtocolDisabled { .. } => (
            "Unsupported Proxy",
            format!("{err}; use an http:// or https:// proxy"),
        ),
        other => (NOT_BUILT, error_chain(other)),
    };
    cannot_connect(t, summary, &what)
}
