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
//! operation's budget (`exec.rs`); a plugin stopped because the
//! operation ran out of time or was cancelled is not kept as a failure, and
//! the next operation runs it again. No lock is held while a client is
//! used. Every client bounds its requests (`budget.rs`): connecting within
//! 10 s, each request within 60 s, and each within the budget of the
//! operation that sends it.
//!
//! The registry takes its settings ready-made ([`Clusters::install`]):
//! reading a configuration is the caller's business.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use super::client::Target;
use super::errors::BUG_REPORT;
use super::resolve::resolve;
use super::settings::{CLUSTERS_ATTRIBUTE, ClustersConfig, Parsed, ProviderSettings, Scope};
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

    /// ConfigureProvider: installs the settings read from the provider
    /// block, resolving every cluster whose settings are known (reading
    /// files only: no request, no exec plugin), and reports what is wrong.
    /// The provider-level settings are needed only by jobs without
    /// `target_cluster`, so with named clusters, their problems are
    /// reported by those jobs' plans.
    pub fn install(&self, settings: ProviderSettings) -> Diagnostics {
        let mut d = Diagnostics::new();
        let clusters_in_use = match &settings.clusters {
            ClustersConfig::Unknown => true,
            ClustersConfig::Known(m) => !m.is_empty(),
        };
        let provider = entry(Scope::Provider, &settings.provider, &mut d);
        if let Entry::Failed(diag) = &provider
            && !clusters_in_use
        {
            d.0.push(diag.as_ref().clone());
        }
        let clusters = match &settings.clusters {
            ClustersConfig::Unknown => None,
            ClustersConfig::Known(m) => {
                let mut out = BTreeMap::new();
                for (name, p) in m {
                    let entry = entry(Scope::Cluster(name.clone()), p, &mut d);
                    if let Entry::Failed(diag) = &entry {
                        d.0.push(diag.as_ref().clone());
                    }
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
                            UNKNOWN_CLUSTER,
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
                    format!(
                        "The job's `spec.target_cluster.cluster_name` is still unknown during apply, so the \
                         provider cannot tell which cluster to use. {BUG_REPORT}"
                    ),
                );
                return Err(d);
            }
            ClusterRef::Provider => &c.provider,
            ClusterRef::Named(n) => match &c.clusters {
                None => {
                    return Err(not_yet_known(
                        &Scope::Cluster(n.clone()),
                        &[AttributePath::root(CLUSTERS_ATTRIBUTE)],
                    ));
                }
                Some(m) => match m.get(n) {
                    Some(e) => e,
                    None => {
                        let mut d = Diagnostics::new();
                        d.error(UNKNOWN_CLUSTER, unknown_cluster_detail(n, m.keys()));
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

/// One scope's entry: its settings resolved when they are known. Warnings
/// of resolving go to `d`; a failure is kept in the entry.
fn entry(scope: Scope, parsed: &Parsed, d: &mut Diagnostics) -> Entry {
    match parsed {
        Parsed::Unknown(paths) => Entry::Unknown(paths.clone()),
        Parsed::Known(s) => match resolve(s) {
            Ok(r) => {
                d.extend(r.warnings.clone());
                Entry::Ready(Arc::new(Target::new(scope, r)))
            }
            Err(e) => Entry::Failed(Box::new(e.diagnostic(&scope))),
        },
    }
}

/// The title of an error about a cluster name that is not configured.
const UNKNOWN_CLUSTER: &str = "Unknown Target Cluster";

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
        detail: format!(
            "Terraform asked for a Kubernetes operation before configuring the provider. {BUG_REPORT}"
        ),
        path: None,
    });
    d
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    use crate::kube::settings::{
        ConnectionSettings, ExecSettings, KubeconfigFiles, Origin, Setting,
    };

    /// Known settings of `scope`, with what `f` sets.
    fn known(scope: Scope, f: impl FnOnce(&mut ConnectionSettings)) -> Parsed {
        let mut s = ConnectionSettings::empty(scope);
        f(&mut s);
        Parsed::Known(Box::new(s))
    }

    /// A setting of `scope` from its attribute.
    fn set<T>(scope: &Scope, name: &str, value: T) -> Option<Setting<T>> {
        Some(Setting {
            value,
            origin: Origin::Attribute(scope.attr(name)),
        })
    }

    /// `host` of `scope`: an address, or (`None`) known only after apply.
    fn at(scope: Scope, host: Option<&str>) -> Parsed {
        match host {
            None => Parsed::Unknown(vec![scope.attr("host")]),
            Some(h) => known(scope.clone(), |s| s.host = set(&scope, "host", h.into())),
        }
    }

    /// Nothing set at the provider level, and no kubeconfig at home.
    fn nothing() -> Parsed {
        known(Scope::Provider, |s| {
            s.kubeconfig = KubeconfigFiles::Home("/nonexistent-home/.kube/config".into())
        })
    }

    /// Named clusters, each at its `host`.
    fn named(entries: &[(&str, Option<&str>)]) -> ClustersConfig {
        ClustersConfig::Known(
            entries
                .iter()
                .map(|(name, host)| {
                    (
                        name.to_string(),
                        at(Scope::Cluster(name.to_string()), *host),
                    )
                })
                .collect(),
        )
    }

    fn no_clusters() -> ClustersConfig {
        ClustersConfig::Known(BTreeMap::new())
    }

    /// The provider level at `https://127.0.0.1:1` with the exec plugin
    /// `command` and its `args`.
    fn with_plugin(command: &std::path::Path, args: &[&str]) -> ProviderSettings {
        let exec = ExecSettings {
            api_version: "client.authentication.k8s.io/v1".into(),
            command: command.display().to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: BTreeMap::new(),
        };
        ProviderSettings {
            provider: known(Scope::Provider, |s| {
                s.host = set(&Scope::Provider, "host", "https://127.0.0.1:1".into());
                s.exec = set(&Scope::Provider, "exec", exec);
            }),
            clusters: no_clusters(),
        }
    }

    fn path() -> AttributePath {
        AttributePath::root("spec")
            .attr("target_cluster")
            .attr("cluster_name")
    }

    async fn configured(provider: Parsed, clusters: ClustersConfig) -> (Clusters, Diagnostics) {
        configured_with(ProviderSettings { provider, clusters }).await
    }

    async fn configured_with(settings: ProviderSettings) -> (Clusters, Diagnostics) {
        let c = Clusters::new();
        let d = c.install(settings);
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
        let (c, d) = configured(
            at(Scope::Provider, Some("https://p:6443")),
            named(&[
                ("east", Some("https://e:6443")),
                ("west", Some("https://w:6443")),
            ]),
        )
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
        let (c, d) = configured(
            at(Scope::Provider, None),
            named(&[("known", Some("https://k:6443")), ("later", None)]),
        )
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

        let (c, _) = configured(
            at(Scope::Provider, Some("https://p:6443")),
            ClustersConfig::Unknown,
        )
        .await;
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
        let (_, d) = configured(nothing(), no_clusters()).await;
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(d.0[0].summary, "No Kubernetes Cluster Configured");

        let (c, d) = configured(nothing(), named(&[("east", Some("https://e:1"))])).await;
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
        let (c, _) = configured(
            at(Scope::Provider, Some("https://127.0.0.1:1")),
            no_clusters(),
        )
        .await;
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
        let (c, d) = configured_with(with_plugin(&script, &[])).await;
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
        let (c, d) = configured_with(with_plugin(&script, &["--role", "s3cr3t"])).await;
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
        let bad = Scope::Cluster("bad".into());
        let bad_entry = known(bad.clone(), |s| {
            s.kubeconfig = KubeconfigFiles::Named {
                paths: vec!["/nonexistent/kubeconfig".into()],
                origin: Origin::Attribute(bad.attr("config_path")),
            }
        });
        let (_, d) = configured(
            at(Scope::Provider, Some("https://p:1")),
            ClustersConfig::Known(BTreeMap::from([("bad".to_string(), bad_entry)])),
        )
        .await;
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(d.0[0].summary, "Kubeconfig Not Found");
        assert!(
            d.0[0].detail.contains("cluster \"bad\""),
            "{}",
            d.0[0].detail
        );
    }

    const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \
        http://127.0.0.1:1\ncontexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  \
        user:\n    token: t\ncurrent-context: ctx\n";

    /// A kubeconfig installed directly builds one shared client; a missing
    /// context is an error that names it; unconfigured is a bug.
    #[tokio::test]
    async fn configures_a_kubeconfig_directly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, KUBECONFIG).unwrap();
        let clusters = Clusters::new();
        let Err(err) = clusters.connect(&ClusterRef::Provider).await else {
            panic!("a client without configuration")
        };
        assert_eq!(err.0[0].summary, "Provider Not Configured");

        let d = clusters.install(ProviderSettings::provider_level(
            ConnectionSettings::kubeconfig_file(path.clone()),
        ));
        assert!(d.is_empty(), "{d:?}");
        let a = clusters.connect(&ClusterRef::Provider).await.unwrap();
        let b = clusters.connect(&ClusterRef::Provider).await.unwrap();
        assert!(Arc::ptr_eq(&a.target, &b.target));
        assert_eq!(a.target.identity.endpoint, "http://127.0.0.1:1");

        let mut nope = ConnectionSettings::kubeconfig_file(path);
        nope.context = set(&Scope::Provider, "config_context", "nope".into());
        let d = clusters.install(ProviderSettings::provider_level(nope));
        assert_eq!(d.0[0].summary, "Kubeconfig Context Not Found");
        assert!(d.0[0].detail.contains("\"nope\""), "{}", d.0[0].detail);

        clusters.install(ProviderSettings {
            provider: Parsed::Unknown(vec![AttributePath::root("config_path")]),
            clusters: no_clusters(),
        });
        let Err(err) = clusters.connect(&ClusterRef::Provider).await else {
            panic!("a client for unknown settings")
        };
        assert_eq!(err.0[0].summary, "Provider Configuration Not Yet Known");
    }
}
