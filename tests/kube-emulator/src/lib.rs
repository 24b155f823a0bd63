//! A Kubernetes API-server emulator for the provider's tests and quickstart.
//!
//! It answers the Kubernetes REST API the way kube-apiserver v1.3x does wherever
//! the provider depends on it (status codes, `Status` bodies, validation,
//! defaulting, immutability, server-side apply, resourceVersion, deletion
//! propagation, Job status), and runs stand-ins for the controllers a cluster has
//! (job controller, kubelet, garbage collector, namespace lifecycle, TTL after
//! finished, service accounts). Where it differs from a real API server, the
//! emulator is wrong.
//!
//! # Layout
//!
//! - [`store`]: objects as JSON per resource, one global resourceVersion counter,
//!   the change history watches resume from (older is 410 Gone).
//! - [`resources`]: the served kinds and their discovery facts.
//! - [`server`]: HTTP (hyper, HTTP/1.1 and HTTP/2, optional TLS), authentication,
//!   body limits, fault injection, routing; [`authz`] authorization (an RBAC
//!   stand-in); [`api`] the verbs; [`watch`] watch
//!   streams; [`discovery`] `/version`, `/api`, `/apis`, OpenAPI v3 stubs;
//!   [`table`] the `Table` answers kubectl asks for.
//! - [`ops`]: the write path (create, update, patch, apply, delete) in
//!   kube-apiserver's order; [`decode`] typed decoding; [`defaults`];
//!   [`validate`]; [`apply`] server-side apply and managedFields; [`patch`] the
//!   other patch types; [`schema`] list and struct merge semantics.
//! - [`controllers`]: job, kubelet, garbage collector, namespace, TTL and service
//!   account controllers, each switchable in [`Controllers`].
//! - [`admin`]: `/__emulator/...` faults, counters, reset.
//! - [`status`]: `Status` errors in kube-apiserver's wording.
//! - [`tls`]: generated CA, server and client certificates and kubeconfigs.
//! - [`proto`]: protobuf request bodies of the simple kinds (kubectl's typed `create`).
//! - [`testing`]: [`start`] an emulator on `127.0.0.1:0` for a test.
//!
//! # Pods: how a container behaves
//!
//! No image runs. A container's environment (plain `value`s, and values from
//! Secrets and ConfigMaps, resolved like a kubelet does) chooses what happens:
//!
//! | variable | effect | default |
//! | --- | --- | --- |
//! | `EMULATOR_RUN_SECONDS` | seconds from start to exit (fractions allowed) | [`EmulatorConfig::default_run_seconds`] |
//! | `EMULATOR_EXIT_CODE` | exit code; 0 is `Completed`, others `Error` | `0` |
//! | `EMULATOR_LOG_LINES` | log lines printed at start, separated by newlines or the two characters `\n` | none |
//! | `EMULATOR_LOG_LONG_LINE_BYTES` | one line of that many `x` bytes, printed before `EMULATOR_LOG_LINES` | none |
//! | `EMULATOR_IMAGE_PULL_FAILURE=1` | never starts: waiting `ErrImagePull`, then `ImagePullBackOff` | off |
//! | `EMULATOR_OOM=1` | terminated with reason `OOMKilled`, exit code 137, after the run time | off |
//! | `EMULATOR_NEVER_EXIT=1` | runs until deleted | off |
//!
//! A missing Secret or ConfigMap (or key) referenced by `env`/`envFrom` keeps the
//! container waiting with reason `CreateContainerConfigError`; a missing one
//! mounted as a volume keeps the pod in `ContainerCreating`. Pods are scheduled to
//! the single node `kube-emulator-node` at once.
//!
//! # Version and timing
//!
//! `/version` claims v1.34; validation follows v1.33–v1.34 (for example the
//! relaxed environment variable names: any printable ASCII but `=`).
//! [`EmulatorConfig::default`] keeps a cluster's timing (the job controller's
//! 10 s doubling back-off, the kubelet's 10 s restart back-off), which the binary
//! uses; [`EmulatorConfig::fast`] shortens them for tests. Controllers record
//! core/v1 Events (SuccessfulCreate, Completed, BackoffLimitExceeded,
//! DeadlineExceeded, Scheduled, Started, FailedCreate, ...).
//!
//! # Users and what they may do
//!
//! With [`EmulatorConfig::token`], [`EmulatorConfig::token_users`] or
//! [`EmulatorConfig::client_cert_auth`], every request must authenticate (401
//! otherwise): the `token` and the generated client certificate are the user
//! [`authz::ADMIN_USER`], each `token_users` token its user, and any client
//! certificate the CA signed ([`tls::TlsBundle::client_certificate`]) its
//! common name. Without credentials configured, requests are
//! [`authz::ANONYMOUS_USER`]'s. [`EmulatorConfig::authorization`] then refuses
//! some users some requests with kube-apiserver's 403 Forbidden `Status`
//! (`jobs.batch "x" is forbidden: User "alice" cannot get resource "jobs" in
//! API group "batch" in the namespace "private"`), or lets a user do only
//! what Roles, ClusterRoles and their bindings loaded from YAML grant (RBAC's
//! deny by default); see [`authz`]. The binary's
//! `--user NAME=TOKEN`, `--deny USER:VERBS:RESOURCES:NAMESPACES` and
//! `--allow-namespaces USER:NAMESPACES` set them.
//!
//! # What is not emulated
//!
//! Requests for these are refused with a `Status` (404 for unknown paths and
//! kinds, 405 for unsupported verbs and subresources), never answered with a
//! silent success:
//!
//! - kinds other than Namespace, ConfigMap, Secret, ServiceAccount, Pod, Event
//!   (core/v1) and Job (batch/v1); other versions of them; CRDs; aggregated APIs;
//! - subresources other than `status` (namespaces, pods, jobs), `log` (pods) and
//!   `finalize` (namespaces): no exec, attach, port-forward, eviction, binding,
//!   ephemeralcontainers, scale, token;
//! - protobuf and CBOR encodings: answers are JSON; request bodies are JSON, YAML,
//!   or protobuf for Namespace, ConfigMap, Secret and ServiceAccount only (what
//!   kubectl's typed `create` subcommands send; `kubectl create job` gets 415);
//!   aggregated discovery v2 (clients fall back to the legacy documents);
//!   OpenAPI v2; OpenAPI v3 documents carry paths and parameters only, no schemas;
//! - lists at an exact historical resourceVersion (the current state is served;
//!   older than the watch history is 410), snapshot-consistent pagination (later
//!   pages show the current state), `sendInitialEvents` without bookmarks;
//! - the RBAC API (Roles, RoleBindings, ... are not served: [`authz`] reads
//!   them from YAML given to the configuration; the binary has no flag for
//!   them) and groups other than `system:authenticated` and
//!   `system:unauthenticated`; `kubectl auth can-i`
//!   (SelfSubjectAccessReview) is not served; impersonation; audit; API
//!   priority and fairness (except injected 429s);
//! - admission beyond namespace lifecycle, service accounts (existence check and
//!   pod defaults, but no token volume is injected), priority and default
//!   tolerations; no LimitRanges or ResourceQuotas;
//! - CronJobs, Deployments and other controllers; probes (a running container
//!   is ready at once); init and sidecar containers are not run (a pod starts
//!   its `containers` directly); Job `podFailurePolicy`, `successPolicy`,
//!   `backoffLimitPerIndex` and `managedBy` are validated but not acted upon by
//!   the job controller;
//! - validation error values print as JSON where Go prints its internal structs
//!   with `%#v` (`spec.template: Invalid value: {...}: field is immutable`).

pub mod admin;
pub mod api;
pub mod apply;
pub mod authz;
pub mod controllers;
pub mod decode;
pub mod defaults;
pub mod discovery;
pub mod meta;
pub mod ops;
pub mod patch;
pub mod proto;
pub mod quantity;
pub mod resources;
pub mod schema;
pub mod selectors;
pub mod server;
pub mod status;
pub mod store;
pub mod table;
pub mod testing;
pub mod tls;
pub mod validate;
pub mod watch;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use server::serve;
pub use testing::{RunningEmulator, start};

/// Which controllers run.
#[derive(Clone, Debug)]
pub struct Controllers {
    /// The job controller: pods per Job, Job status, backoff, deadlines, suspend.
    pub job: bool,
    /// The kubelet stand-in: pods run, log and finish per their env.
    pub kubelet: bool,
    /// The garbage collector: ownerReferences, foreground and orphan finalizers.
    pub garbage_collector: bool,
    /// Namespace deletion: content removal, then the namespace.
    pub namespace: bool,
    /// TTL-after-finished deletion of Jobs.
    pub ttl_after_finished: bool,
    /// A `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap per namespace.
    pub service_accounts: bool,
}

impl Default for Controllers {
    fn default() -> Self {
        Self {
            job: true,
            kubelet: true,
            garbage_collector: true,
            namespace: true,
            ttl_after_finished: true,
            service_accounts: true,
        }
    }
}

/// How an emulator behaves. `Default` is faithful to a real cluster's timing
/// (10 s job backoff); [`EmulatorConfig::fast`] shortens delays for tests.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Controllers to run.
    pub controllers: Controllers,
    /// Changes kept for watches to resume from.
    pub watch_history: usize,
    /// How often watches with `allowWatchBookmarks=true` get a BOOKMARK.
    pub bookmark_interval: Duration,
    /// First delay before the job controller replaces a failed pod (doubles, capped at 6 min).
    pub job_backoff_base: Duration,
    /// First delay before a kubelet restarts a failed container (restartPolicy OnFailure; doubles, capped at 5 min).
    pub restart_backoff_base: Duration,
    /// Run time of a container without `EMULATOR_RUN_SECONDS`.
    pub default_run_seconds: f64,
    /// Time from a pod's creation until its containers start.
    pub pod_start_delay: Duration,
    /// Largest request body, in bytes (kube-apiserver: 3 MiB).
    pub max_body_bytes: usize,
    /// Serve HTTPS with this material.
    pub tls: Option<Arc<tls::TlsBundle>>,
    /// Require this bearer token (or a client certificate, when enabled); it
    /// authenticates as [`authz::ADMIN_USER`], and the kubeconfigs the
    /// emulator writes carry it.
    pub token: Option<String>,
    /// More bearer tokens, each authenticating as the user it maps to (token
    /// to user name, like kube-apiserver's static token file); the binary's
    /// `--user NAME=TOKEN`.
    pub token_users: BTreeMap<String, String>,
    /// What users may not do (default: nothing is refused).
    pub authorization: authz::Authorization,
    /// Accept client certificates signed by the bundle's CA as authentication
    /// (requires `tls`; the binary's `--client-cert-auth`, alias `--client-ca`);
    /// requests then need a certificate or the token.
    pub client_cert_auth: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            controllers: Controllers::default(),
            watch_history: 10_000,
            bookmark_interval: Duration::from_secs(60),
            job_backoff_base: Duration::from_secs(10),
            restart_backoff_base: Duration::from_secs(10),
            default_run_seconds: 1.0,
            pod_start_delay: Duration::from_millis(100),
            max_body_bytes: 3 * 1024 * 1024,
            tls: None,
            token: None,
            token_users: BTreeMap::new(),
            authorization: authz::Authorization::default(),
            client_cert_auth: false,
        }
    }
}

impl EmulatorConfig {
    /// Short delays for tests: 50 ms backoffs, 1 s bookmarks, pods start after 10 ms.
    pub fn fast() -> Self {
        Self {
            bookmark_interval: Duration::from_secs(1),
            job_backoff_base: Duration::from_millis(50),
            restart_backoff_base: Duration::from_millis(50),
            default_run_seconds: 0.2,
            pod_start_delay: Duration::from_millis(10),
            ..Self::default()
        }
    }

    /// The scheme it serves: `https` with `tls`, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// A kubeconfig for an emulator with this configuration serving at `url`:
    /// the bundle's CA, the token, and with `client_cert_auth` the bundle's
    /// client certificate.
    pub fn kubeconfig(&self, url: &str) -> String {
        let tls = self.tls.as_deref();
        let client_cert = if self.client_cert_auth {
            tls.map(|t| (t.client_cert_pem.as_str(), t.client_key_pem.as_str()))
        } else {
            None
        };
        let auth = tls::KubeconfigAuth {
            token: self.token.as_deref(),
            client_cert,
        };
        tls::kubeconfig(url, tls.map(|t| t.ca_pem.as_str()), &auth)
    }

    /// Whether requests must authenticate.
    pub fn requires_auth(&self) -> bool {
        self.token.is_some() || self.client_cert_auth || !self.token_users.is_empty()
    }
}

/// Anything that can stop the server.
pub trait Shutdown: Future<Output = ()> + Send + 'static {}
impl<F: Future<Output = ()> + Send + 'static> Shutdown for F {}
