//! The clusters a provider process can reach: the provider-level cluster and
//! the named `clusters` entries, as ConfigureProvider left them, each with
//! one Kubernetes client built on first use and shared by every operation
//! of the process.
//!
//! A job selects its cluster with `spec.target_cluster.cluster_name`
//! ([`ClusterRef`]); without it, the provider-level settings are used. The
//! plan asks [`Clusters::plan`] (no network: a name that is not configured,
//! or a cluster with no usable settings, is an error; settings known only
//! after apply defer or plan without the cluster); apply and read ask
//! [`Clusters::connect`].
//!
//! Clients are built once per cluster, on first use; the outcome, failure
//! included, is kept, so a failing plugin runs once per process, not once
//! per job. An exec credential plugin runs then, under a time limit and the
//! operation's budget (`kube/exec.rs`); a plugin stopped because the
//! operation ran out of time or was cancelled is not kept as a failure, and
//! the next operation runs it again. No lock is held while a client is
//! used. Every client bounds its requests (`kube/budget.rs`): connecting
//! within 10 s, each request within 60 s, and each within the budget of the
//! operation that sends it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine;
use tokio::sync::OnceCell;

use super::config::{
    ClustersConfig, ConfigError, Environment, Parsed, ProviderConfig, Scope, resolve,
};
use crate::kube::budget::{BudgetLayer, RequestTimeoutLayer};
use crate::kube::connection::{ClusterIdentity, ContextLayer, describe_auth_error};
use crate::kube::exec::{Credential, ExecAuthLayer, ExecFailure, ExecPlugin};
use crate::tf::resource::DeferredReason;
use crate::tf::{AttributePath, Diagnostic, Diagnostics, Severity, Value};

/// The cluster a job names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterRef {
    /// No `target_cluster.cluster_name`: the provider-level settings.
    Provider,
    /// A `clusters` entry.
    Named(String),
    /// The name is known only after apply.
    Unknown,
}

impl ClusterRef {
    /// From the value of `spec.target_cluster.cluster_name` (null when
    /// `target_cluster` or the name is not set).
    pub fn from_name(name: &Value) -> Self {
        match name {
            Value::Unknown(_) => ClusterRef::Unknown,
            v => match v.as_str() {
                Some(n) if !n.is_empty() => ClusterRef::Named(n.to_string()),
                _ => ClusterRef::Provider,
            },
        }
    }
}

/// A cluster whose settings are known and usable.
pub struct Target {
    /// Which settings.
    pub scope: Scope,
    /// The cluster in words, for messages.
    pub identity: Arc<ClusterIdentity>,
    config: kube::Config,
    client: OnceCell<Result<kube::Client, Diagnostics>>,
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
                                "Kubernetes Client Not Built",
                                format!(
                                    "Building the client for {} was interrupted ({e}). This is a bug in \
                                     the provider; please report it with TF_LOG=debug output.",
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
/// context outermost.
fn build_client(
    mut config: kube::Config,
    identity: Arc<ClusterIdentity>,
    auth: ExecAuthLayer,
) -> Result<kube::Client, Diagnostics> {
    crate::kube::bound_config(&mut config);
    let builder =
        kube::client::ClientBuilder::try_from(config).map_err(|e| client_error(&identity, &e))?;
    Ok(builder
        .with_layer(&RequestTimeoutLayer::default())
        .with_layer(&crate::kube::retry::RetryLayer)
        .with_layer(&auth)
        .with_layer(&BudgetLayer)
        .with_layer(&ContextLayer::new(identity))
        .build())
}

fn exec_error(t: &ClusterIdentity, failure: &ExecFailure) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(
        "Exec Credential Plugin Failed",
        format!(
            "The provider could not connect to {} at {} (authenticating with {}): {failure}",
            t.cluster, t.endpoint, t.identity
        ),
    );
    d
}

fn client_error(t: &ClusterIdentity, err: &kube::Error) -> Diagnostics {
    let mut d = Diagnostics::new();
    let (summary, what) = match err {
        kube::Error::Auth(auth) => {
            let summary = match auth {
                kube::client::AuthError::AuthExecRun { .. }
                | kube::client::AuthError::AuthExecStart(_)
                | kube::client::AuthError::AuthExecParse(_)
                | kube::client::AuthError::ExecPluginFailed
                | kube::client::AuthError::MissingCommand => "Exec Credential Plugin Failed",
                _ => "Kubernetes Credentials Unavailable",
            };
            (summary, describe_auth_error(auth))
        }
        kube::Error::RustlsTls(e) => (
            "Invalid TLS Material",
            format!(
                "the CA certificate or the client certificate and key cannot be used: {}",
                crate::kube::errors::error_chain(e)
            ),
        ),
        kube::Error::ProxyProtocolUnsupported { .. }
        | kube::Error::ProxyProtocolDisabled { .. } => (
            "Unsupported Proxy",
            format!("{err}; use an http:// or https:// proxy"),
        ),
        other => (
            "Kubernetes Client Not Built",
            crate::kube::errors::error_chain(other),
        ),
    };
    d.error(
        summary,
        format!(
            "The provider could not connect to {} at {} (authenticating with {}): {what}",
            t.cluster, t.endpoint, t.identity
        ),
    );
    d
}

/// One cluster's state after ConfigureProvider.
#[derive(Debug, Clone)]
enum Entry {
    /// Settings known only after apply, at these paths.
    Unknown(Vec<AttributePath>),
    /// Usable; the client is built on first use.
    Ready(Arc<Target>),
    /// Not usable, for this reason.
    Failed(Box<Diagnostic>),
}

#[derive(Debug)]
struct Configured {
    provider: Entry,
    /// `None` when the `clusters` map itself is known only after apply.
    clusters: Option<BTreeMap<String, Entry>>,
}

/// What the plan may do about a job's cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanVerdict {
    /// The cluster's settings are known and usable.
    Ready,
    /// Not yet known and Terraform cannot defer: plan without the cluster
    /// (which the plan never contacts anyway), never with another one.
    PlanWithoutCluster,
    /// Defer the change.
    Defer(DeferredReason),
    /// The job cannot be planned.
    Error(Diagnostics),
}

/// The provider's clusters; see the module doc.
#[derive(Debug, Default)]
pub struct Clusters {
    configured: RwLock<Option<Arc<Configured>>>,
    deferral_allowed: AtomicBool,
}

impl Clusters {
    /// Nothing configured yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// ConfigureProvider: reads the block and the environment, resolves
    /// every cluster whose settings are known (reading files only: no
    /// request, no exec plugin) and reports what is wrong.
    pub fn configure(&self, config: &Value, env: &Environment) -> Diagnostics {
        let (parsed, d) = ProviderConfig::parse(config, env);
        self.install(parsed, d)
    }

    /// Records whether Terraform accepts deferred responses (from
    /// ConfigureProvider's capabilities); refreshes then defer too.
    pub fn allow_deferral(&self, allowed: bool) {
        self.deferral_allowed.store(allowed, Ordering::Relaxed);
    }

    /// Whether a refresh of a job on `r` should be deferred: its cluster's
    /// settings are known only after apply and Terraform accepts deferral.
    pub fn read_deferral(&self, r: &ClusterRef) -> Option<DeferredReason> {
        (self.deferral_allowed.load(Ordering::Relaxed) && self.is_unknown(r))
            .then_some(DeferredReason::ProviderConfigUnknown)
    }

    /// Installs settings read by [`ProviderConfig::parse`] (whose problems
    /// are `d`), resolving the known ones. The provider-level settings are
    /// needed only by jobs without `target_cluster`, so with `clusters` set,
    /// their problems are reported by those jobs' plans.
    pub fn install(&self, parsed: ProviderConfig, mut d: Diagnostics) -> Diagnostics {
        let clusters_in_use = match &parsed.clusters {
            ClustersConfig::Unknown => true,
            ClustersConfig::Known(m) => !m.is_empty(),
        };
        let provider = match &parsed.provider {
            Parsed::Unknown(paths) => Entry::Unknown(paths.clone()),
            Parsed::Known(s) => match resolve(s) {
                Ok(r) => {
                    d.extend(r.warnings.clone());
                    Entry::Ready(target(Scope::Provider, r))
                }
                Err(e) => {
                    let diag = provider_failure(&e);
                    if !clusters_in_use {
                        d.0.push(diag.clone());
                    }
                    Entry::Failed(Box::new(diag))
                }
            },
        };
        let clusters = match &parsed.clusters {
            ClustersConfig::Unknown => None,
            ClustersConfig::Known(m) => {
                let mut out = BTreeMap::new();
                for (name, p) in m {
                    let scope = Scope::Cluster(name.clone());
                    let entry = match p {
                        Parsed::Unknown(paths) => Entry::Unknown(paths.clone()),
                        Parsed::Known(s) => match resolve(s) {
                            Ok(r) => {
                                d.extend(r.warnings.clone());
                                Entry::Ready(target(scope, r))
                            }
                            Err(e) => {
                                let diag = e.diagnostic(&scope);
                                d.0.push(diag.clone());
                                Entry::Failed(Box::new(diag))
                            }
                        },
                    };
                    out.insert(name.clone(), entry);
                }
                Some(out)
            }
        };
        *self
            .configured
            .write()
            .unwrap_or_else(PoisonError::into_inner) =
            Some(Arc::new(Configured { provider, clusters }));
        d
    }

    /// Forgets the configuration (operations then fail as a bug).
    pub fn unconfigure(&self) {
        *self
            .configured
            .write()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn configured(&self) -> Option<Arc<Configured>> {
        self.configured
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The configured cluster names; `None` before configuration or when
    /// `clusters` is known only after apply.
    pub fn names(&self) -> Option<Vec<String>> {
        self.configured()?
            .clusters
            .as_ref()
            .map(|m| m.keys().cloned().collect())
    }

    /// Whether the settings of the cluster `r` names are known only after
    /// apply (so a refresh must leave the state as it is).
    pub fn is_unknown(&self, r: &ClusterRef) -> bool {
        let Some(c) = self.configured() else {
            return false;
        };
        match r {
            ClusterRef::Unknown => true,
            ClusterRef::Provider => matches!(c.provider, Entry::Unknown(_)),
            ClusterRef::Named(n) => match &c.clusters {
                None => true,
                Some(m) => matches!(m.get(n), Some(Entry::Unknown(_))),
            },
        }
    }

    /// What the plan of a job on `r` may do. `name_path` is the attribute
    /// that names the cluster, for errors. Never contacts a cluster.
    pub fn plan(
        &self,
        r: &ClusterRef,
        name_path: &AttributePath,
        deferral_allowed: bool,
    ) -> PlanVerdict {
        // Terraform configures the provider before any plan; a resource
        // planned on its own (tests) has nothing to check, and planning
        // never contacts a cluster anyway.
        let Some(c) = self.configured() else {
            return PlanVerdict::Ready;
        };
        let unknown = |reason| {
            if deferral_allowed {
                PlanVerdict::Defer(reason)
            } else {
                PlanVerdict::PlanWithoutCluster
            }
        };
        let entry = match r {
            ClusterRef::Unknown => return unknown(DeferredReason::ResourceConfigUnknown),
            ClusterRef::Provider => &c.provider,
            ClusterRef::Named(n) => match &c.clusters {
                None => return unknown(DeferredReason::ProviderConfigUnknown),
                Some(m) => match m.get(n) {
                    Some(e) => e,
                    None => {
                        let mut d = Diagnostics::new();
                        d.attribute_error(
                            name_path.clone(),
                            "Unknown Target Cluster",
                            unknown_cluster_detail(n, m.keys()),
                        );
                        return PlanVerdict::Error(d);
                    }
                },
            },
        };
        match entry {
            Entry::Ready(_) => PlanVerdict::Ready,
            Entry::Unknown(_) => unknown(DeferredReason::ProviderConfigUnknown),
            Entry::Failed(diag) => {
                let mut d = Diagnostics::new();
                d.0.push(job_failure(diag, r, c.clusters.as_ref()));
                PlanVerdict::Error(d)
            }
        }
    }

    /// The cluster `r` names, with its shared client, or diagnostics saying
    /// why there is none (apply, read, delete).
    pub async fn connect(&self, r: &ClusterRef) -> Result<Connection, Diagnostics> {
        let Some(c) = self.configured() else {
            return Err(unconfigured());
        };
        let entry = match r {
            ClusterRef::Unknown => {
                let mut d = Diagnostics::new();
                d.error(
                    "Target Cluster Not Yet Known",
                    "The job's `spec.target_cluster.cluster_name` is still unknown during apply, so the provider \
                     cannot tell which cluster to use. This is a bug in the provider; please report it with \
                     TF_LOG=debug output.",
                );
                return Err(d);
            }
            ClusterRef::Provider => &c.provider,
            ClusterRef::Named(n) => match &c.clusters {
                None => {
                    return Err(not_yet_known(
                        &Scope::Cluster(n.clone()),
                        &[AttributePath::root("clusters")],
                    ));
                }
                Some(m) => match m.get(n) {
                    Some(e) => e,
                    None => {
                        let mut d = Diagnostics::new();
                        d.error(
                            "Unknown Target Cluster",
                            unknown_cluster_detail(n, m.keys()),
                        );
                        return Err(d);
                    }
                },
            },
        };
        match entry {
            Entry::Unknown(paths) => {
                let scope = match r {
                    ClusterRef::Named(n) => Scope::Cluster(n.clone()),
                    _ => Scope::Provider,
                };
                Err(not_yet_known(&scope, paths))
            }
            Entry::Failed(diag) => {
                let mut d = Diagnostics::new();
                d.0.push(job_failure(diag, r, c.clusters.as_ref()));
                Err(d)
            }
            Entry::Ready(t) => Ok(Connection {
                client: t.client().await?,
                target: t.clone(),
            }),
        }
    }
}

/// A cluster and its client.
#[derive(Clone)]
pub struct Connection {
    /// The shared client.
    pub client: kube::Client,
    /// The cluster.
    pub target: Arc<Target>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

fn target(scope: Scope, r: super::config::Resolved) -> Arc<Target> {
    Arc::new(Target {
        identity: Arc::new(ClusterIdentity {
            cluster: scope.to_string(),
            endpoint: r.endpoint,
            identity: r.identity,
        }),
        scope,
        config: r.config,
        client: OnceCell::new(),
    })
}

fn provider_failure(e: &ConfigError) -> Diagnostic {
    e.diagnostic(&Scope::Provider)
}

/// A failure of the settings a job needs, said from the job's side.
fn job_failure(
    diag: &Diagnostic,
    r: &ClusterRef,
    clusters: Option<&BTreeMap<String, Entry>>,
) -> Diagnostic {
    let mut d = diag.clone();
    // Paths point into the provider block; on a job they would point at the
    // wrong place.
    d.path = None;
    if matches!(r, ClusterRef::Provider)
        && let Some(m) = clusters
        && !m.is_empty()
    {
        d.detail.push_str(&format!(
            "\n\nThis job sets no `spec.target_cluster.cluster_name`, so it uses the provider-level settings. \
             To use a named cluster instead, set it to one of: {}.",
            quoted(m.keys())
        ));
    }
    d
}

fn unknown_cluster_detail<'a>(name: &str, names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&String> = names.collect();
    if names.is_empty() {
        format!(
            "The job targets the cluster {name:?}, but the provider configures no named clusters. Add \
             `clusters = {{ {name} = {{ ... }} }}` to the `provider \"planton\"` block, or remove \
             `target_cluster` to use the provider-level settings."
        )
    } else {
        format!(
            "The job targets the cluster {name:?}, which is not among the provider's `clusters`: {}. Use one \
             of these names, or add {name:?} to `clusters` in the `provider \"planton\"` block.",
            quoted(names.into_iter())
        )
    }
}

fn quoted<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn not_yet_known(scope: &Scope, paths: &[AttributePath]) -> Diagnostics {
    let mut d = Diagnostics::new();
    let names: Vec<String> = paths.iter().map(|p| format!("`{p}`")).collect();
    d.error(
        "Provider Configuration Not Yet Known",
        format!(
            "The settings of {scope} depend on values that are still unknown ({}), so the provider cannot \
             tell where the cluster is and will not guess or use another cluster. This happens when the \
             provider block uses attributes of resources that are not created yet and the apply reaches this \
             job before they are known. Apply those resources first (for example \
             `terraform apply -target=...`), then apply again.",
            names.join(", ")
        ),
    );
    d
}

fn unconfigured() -> Diagnostics {
    let mut d = Diagnostics::new();
    d.0.push(Diagnostic {
        severity: Severity::Error,
        summary: "Provider Not Configured".into(),
        detail: "Terraform asked for a Kubernetes operation before configuring the provider. This is a bug in \
                 the provider; please report it with TF_LOG=debug output."
            .into(),
        path: None,
    });
    d
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn env() -> Environment {
        Environment::fixed(&[("HOME", "/nonexistent-home")], "/nonexistent/sa")
    }

    fn entry(host: Value) -> Value {
        Value::object([("host", host)])
    }

    fn block(provider_host: Value, clusters: Value) -> Value {
        Value::object([("host", provider_host), ("clusters", clusters)])
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn path() -> AttributePath {
        AttributePath::root("spec")
            .attr("target_cluster")
            .attr("cluster_name")
    }

    async fn configured(config: Value) -> (Clusters, Diagnostics) {
        let c = Clusters::new();
        let d = c.configure(&config, &env());
        (c, d)
    }

    /// The cluster a job names: none, a name, or unknown.
    #[test]
    fn cluster_ref_from_name() {
        assert_eq!(ClusterRef::from_name(&Value::Null), ClusterRef::Provider);
        assert_eq!(
            ClusterRef::from_name(&Value::string("a")),
            ClusterRef::Named("a".into())
        );
        assert_eq!(ClusterRef::from_name(&Value::UNKNOWN), ClusterRef::Unknown);
    }

    /// A name that is not configured is a plan-time error on the attribute,
    /// listing the configured names; configured names plan.
    #[tokio::test]
    async fn unknown_name_lists_configured_names() {
        let (c, d) = configured(block(
            Value::string("https://p:6443"),
            map(&[
                ("east", entry(Value::string("https://e:6443"))),
                ("west", entry(Value::string("https://w:6443"))),
            ]),
        ))
        .await;
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(c.names().unwrap(), ["east", "west"]);
        assert_eq!(
            c.plan(&ClusterRef::Named("east".into()), &path(), false),
            PlanVerdict::Ready
        );
        assert_eq!(
            c.plan(&ClusterRef::Provider, &path(), false),
            PlanVerdict::Ready
        );
        let PlanVerdict::Error(d) = c.plan(&ClusterRef::Named("north".into()), &path(), true)
        else {
            panic!("no error")
        };
        assert_eq!(d.0[0].summary, "Unknown Target Cluster");
        assert_eq!(d.0[0].path.as_ref().unwrap(), &path());
        assert!(
            d.0[0].detail.contains("\"east\", \"west\""),
            "{}",
            d.0[0].detail
        );
    }

    /// Settings known only after apply defer when Terraform allows it, and
    /// otherwise plan without the cluster; apply then fails clearly. Other
    /// clusters are unaffected.
    #[tokio::test]
    async fn unknown_settings_defer_or_plan_without_cluster() {
        let (c, d) = configured(block(
            Value::UNKNOWN,
            map(&[
                ("known", entry(Value::string("https://k:6443"))),
                ("later", entry(Value::UNKNOWN)),
            ]),
        ))
        .await;
        assert!(d.is_empty(), "{d:?}");
        for r in [ClusterRef::Provider, ClusterRef::Named("later".into())] {
            assert_eq!(
                c.plan(&r, &path(), true),
                PlanVerdict::Defer(DeferredReason::ProviderConfigUnknown)
            );
            assert_eq!(c.plan(&r, &path(), false), PlanVerdict::PlanWithoutCluster);
            assert!(c.is_unknown(&r));
            let err = c.connect(&r).await.unwrap_err();
            assert_eq!(err.0[0].summary, "Provider Configuration Not Yet Known");
        }
        assert!(!c.is_unknown(&ClusterRef::Named("known".into())));
        assert_eq!(c.read_deferral(&ClusterRef::Provider), None);
        c.allow_deferral(true);
        assert_eq!(
            c.read_deferral(&ClusterRef::Provider),
            Some(DeferredReason::ProviderConfigUnknown)
        );
        assert_eq!(c.read_deferral(&ClusterRef::Named("known".into())), None);
        assert_eq!(
            c.plan(&ClusterRef::Named("known".into()), &path(), true),
            PlanVerdict::Ready
        );
        assert_eq!(
            c.plan(&ClusterRef::Unknown, &path(), true),
            PlanVerdict::Defer(DeferredReason::ResourceConfigUnknown)
        );

        let (c, _) = configured(block(Value::string("https://p:6443"), Value::UNKNOWN)).await;
        assert_eq!(c.names(), None);
        assert_eq!(
            c.plan(&ClusterRef::Named("any".into()), &path(), false),
            PlanVerdict::PlanWithoutCluster
        );
        assert_eq!(
            c.plan(&ClusterRef::Provider, &path(), false),
            PlanVerdict::Ready
        );
    }

    /// With nothing configured, ConfigureProvider fails with one clear
    /// error; with named clusters, only jobs that use the provider level do.
    #[tokio::test]
    async fn nothing_configured() {
        let (_, d) = configured(block(Value::Null, Value::Null)).await;
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(d.0[0].summary, "No Kubernetes Cluster Configured");

        let (c, d) = configured(block(
            Value::Null,
            map(&[("east", entry(Value::string("https://e:1")))]),
        ))
        .await;
        assert!(d.is_empty(), "{d:?}");
        let PlanVerdict::Error(d) = c.plan(&ClusterRef::Provider, &path(), false) else {
            panic!()
        };
        assert_eq!(d.0[0].summary, "No Kubernetes Cluster Configured");
        assert!(
            d.0[0].detail.contains("one of: \"east\""),
            "{}",
            d.0[0].detail
        );
        assert_eq!(
            c.plan(&ClusterRef::Named("east".into()), &path(), false),
            PlanVerdict::Ready
        );
    }

    /// A client is built once per cluster and shared; a failure is kept
    /// too (an exec plugin that fails runs once).
    #[tokio::test]
    async fn clients_are_built_once() {
        let (c, _) = configured(block(Value::string("https://127.0.0.1:1"), Value::Null)).await;
        let a = c.connect(&ClusterRef::Provider).await.unwrap();
        let b = c.connect(&ClusterRef::Provider).await.unwrap();
        assert!(Arc::ptr_eq(&a.target, &b.target));
        assert_eq!(a.target.identity.endpoint, "https://127.0.0.1:1");

        let dir = tempfile::tempdir().unwrap();
        let counter = dir.path().join("runs");
        let script = dir.path().join("plugin.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho run >> {}\necho 'login expired' >&2\nexit 2\n",
                counter.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let exec = Value::object([
            (
                "api_version",
                Value::string("client.authentication.k8s.io/v1"),
            ),
            ("command", Value::string(script.display().to_string())),
            ("args", Value::Null),
            ("env", Value::Null),
        ]);
        let config = Value::object([
            ("host", Value::string("https://127.0.0.1:1")),
            ("exec", exec),
        ]);
        let (c, d) = configured(config).await;
        assert!(d.is_empty(), "{d:?}");
        for _ in 0..3 {
            let err = c.connect(&ClusterRef::Provider).await.unwrap_err();
            assert_eq!(err.0[0].summary, "Exec Credential Plugin Failed");
            assert!(
                err.0[0].detail.contains("login expired"),
                "{}",
                err.0[0].detail
            );
            assert!(
                err.0[0]
                    .detail
                    .contains("the provider-level cluster at https://127.0.0.1:1")
            );
        }
        assert_eq!(
            std::fs::read_to_string(&counter).unwrap().lines().count(),
            1
        );
    }

    /// A plugin that hangs is stopped when the operation's time runs out,
    /// with an error that names its command and none of its arguments;
    /// that is the operation's failure, not the plugin's, so the next
    /// operation runs the plugin again.
    #[tokio::test]
    async fn a_hung_plugin_ends_with_the_operation_and_is_tried_again() {
        use crate::kube::budget::Budget;
        use tokio_util::sync::CancellationToken;

        let dir = tempfile::tempdir().unwrap();
        let counter = dir.path().join("runs");
        let script = dir.path().join("get-token");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho run >> {}\nexec sleep 600\n",
                counter.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let exec = Value::object([
            (
                "api_version",
                Value::string("client.authentication.k8s.io/v1"),
            ),
            ("command", Value::string(script.display().to_string())),
            (
                "args",
                Value::List(vec![Value::string("--role"), Value::string("s3cr3t")]),
            ),
            ("env", Value::Null),
        ]);
        let config = Value::object([
            ("host", Value::string("https://127.0.0.1:1")),
            ("exec", exec),
        ]);
        let (c, d) = configured(config).await;
        assert!(d.is_empty(), "{d:?}");
        for run in 1..=2 {
            let budget = Budget::new(
                "the refresh time limit (300ms)",
                std::time::Duration::from_millis(300),
                CancellationToken::new(),
            );
            let started = std::time::Instant::now();
            let err = budget
                .run(c.connect(&ClusterRef::Provider))
                .await
                .unwrap_err();
            let took = started.elapsed();
            assert!(took < std::time::Duration::from_millis(1300), "{took:?}");
            assert_eq!(err.0[0].summary, "Exec Credential Plugin Failed");
            let detail = &err.0[0].detail;
            assert!(
                detail.contains(&format!(
                    "the exec credential plugin `{}` did not finish within the refresh time limit (300ms)",
                    script.display()
                )),
                "{detail}"
            );
            assert!(
                !detail.contains("s3cr3t") && !detail.contains("--role"),
                "{detail}"
            );
            assert_eq!(
                std::fs::read_to_string(&counter).unwrap().lines().count(),
                run
            );
        }
    }

    /// A named cluster's broken settings are reported at configure time,
    /// naming the cluster.
    #[tokio::test]
    async fn named_cluster_errors_at_configure() {
        let (_, d) = configured(block(
            Value::string("https://p:1"),
            map(&[(
                "bad",
                Value::object([("config_path", Value::string("/nonexistent/kubeconfig"))]),
            )]),
        ))
        .await;
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(d.0[0].summary, "Kubeconfig Not Found");
        assert!(
            d.0[0].detail.contains("cluster \"bad\""),
            "{}",
            d.0[0].detail
        );
    }
}
