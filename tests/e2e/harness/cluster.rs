//! An API-server emulator for e2e tests, in-process on `127.0.0.1:0`, with
//! a kubeconfig for the provider block and a kube client (plus the
//! emulator's admin API) for the test to look at the cluster.
//!
//! The emulator runs on its own Tokio runtime, so the test thread can block
//! on Terraform while it serves.

use std::path::{Path, PathBuf};
use std::time::Instant;

use k8s_openapi::NamespaceResourceScope;
use kube::Api;
use kube_emulator::{EmulatorConfig, RunningEmulator};
use serde_json::{Value as Json, json};

use super::terraform::Tf;

/// A running emulator on its own runtime, and a client with the emulator's
/// own credentials (its admin token, when it has one) to look at it.
pub struct Emulator {
    runtime: tokio::runtime::Runtime,
    emulator: Option<RunningEmulator>,
    /// A client for checks.
    pub client: kube::Client,
}

impl Emulator {
    /// Starts an emulator with `config`.
    pub fn start(config: EmulatorConfig) -> Emulator {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime.block_on(kube_emulator::start(config)).unwrap();
        let client = runtime.block_on(async {
            let kc = kube::config::Kubeconfig::from_yaml(&emulator.kubeconfig).unwrap();
            let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .unwrap();
            kube::Client::try_from(config).unwrap()
        });
        Emulator {
            runtime,
            emulator: Some(emulator),
            client,
        }
    }

    /// The running emulator: its URL, kubeconfig and TLS material.
    pub fn running(&self) -> &RunningEmulator {
        self.emulator.as_ref().unwrap()
    }

    /// Runs a future on the emulator's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Runs a future in the background on the emulator's runtime.
    pub fn spawn<F>(&self, f: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.runtime.spawn(f);
    }

    /// A namespaced API.
    pub fn api<K>(&self, ns: &str) -> Api<K>
    where
        K: kube::Resource<Scope = NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), ns)
    }

    /// Gets a namespaced object as JSON, `None` if absent.
    pub fn get<K>(&self, ns: &str, name: &str) -> Option<K>
    where
        K: kube::Resource<Scope = NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        <K as kube::Resource>::DynamicType: Default,
    {
        self.block_on(self.api::<K>(ns).get_opt(name)).unwrap()
    }

    /// Calls the emulator's admin API (`/__emulator/<path>`).
    pub fn admin(&self, method: &str, path: &str, body: Option<Json>) -> Json {
        let req = http::Request::builder()
            .method(method)
            .uri(format!("/__emulator/{path}"))
            .header("content-type", "application/json")
            .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
            .unwrap();
        self.block_on(self.client.request::<Json>(req)).unwrap()
    }

    /// Blocks until the emulator has received a request matching `matcher`
    /// (`method`, `pathPrefix`, `watch`) since its counters were last
    /// zeroed, or fails after two minutes; returns when it saw it.
    pub fn arrived(&self, mut matcher: Json) -> Instant {
        matcher["count"] = json!(1);
        matcher["timeoutSeconds"] = json!(120);
        let got = self.admin("POST", "requests/wait", Some(matcher.clone()));
        assert_eq!(got["count"].as_u64(), Some(1), "{matcher} never arrived");
        Instant::now()
    }

    /// Names of the objects of one kind in a namespace (`kind` as the URL
    /// plural: `configmaps`, `jobs`, ...), sorted.
    pub fn names(&self, api_prefix: &str, ns: &str, plural: &str) -> Vec<String> {
        let req = http::Request::builder()
            .uri(format!("{api_prefix}/namespaces/{ns}/{plural}"))
            .body(Vec::new())
            .unwrap();
        let list: Json = self.block_on(self.client.request::<Json>(req)).unwrap();
        let mut names: Vec<String> = list["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|o| o["metadata"]["deletionTimestamp"].is_null())
            .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
            .collect();
        names.sort();
        names
    }

    /// Whether the namespace exists (and is not terminating).
    pub fn namespace_exists(&self, name: &str) -> bool {
        let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(self.client.clone());
        self.block_on(api.get_opt(name))
            .unwrap()
            .is_some_and(|n| n.metadata.deletion_timestamp.is_none())
    }
}

impl Drop for Emulator {
    /// Stops the emulator, after checking that none of its controllers'
    /// writes failed: a controller writes what it has just read and faults
    /// touch API requests only, so a failed write is a bug in the emulator,
    /// and a test that passed on top of one passed against a wrong cluster.
    fn drop(&mut self) {
        if self.emulator.is_some() && !std::thread::panicking() {
            let failed = self.admin("GET", "failed-writes", None);
            assert_eq!(
                failed["count"], 0,
                "controller writes failed in the emulator: {:#}",
                failed["recent"]
            );
        }
        if let Some(mut e) = self.emulator.take() {
            e.stop();
        }
    }
}

/// An emulator with a kubeconfig for the provider block (it derefs to the
/// [`Emulator`], to look at the cluster).
pub struct Cluster {
    emulator: Emulator,
    kubeconfig: PathBuf,
}

impl Cluster {
    /// Starts an emulator (fast timings) and writes its kubeconfig to
    /// `dir/kubeconfig`.
    pub fn start(dir: &Path) -> Cluster {
        Cluster::start_with(dir, EmulatorConfig::fast(), None)
    }

    /// Starts an emulator with `config`. The kubeconfig in `dir/kubeconfig`
    /// (the provider's) authenticates with `provider_token` when given, so
    /// that the provider can be a user the emulator's authorization
    /// refuses things; the test's own client keeps the emulator's
    /// credentials (its admin token).
    pub fn start_with(dir: &Path, config: EmulatorConfig, provider_token: Option<&str>) -> Cluster {
        let emulator = Emulator::start(config);
        let running = emulator.running();
        let provider_kubeconfig = match provider_token {
            Some(token) => kube_emulator::tls::kubeconfig(
                &running.url,
                running.tls.as_ref().map(|t| t.ca_pem.as_str()),
                &kube_emulator::tls::KubeconfigAuth {
                    token: Some(token),
                    client_cert: None,
                },
            ),
            None => running.kubeconfig.clone(),
        };
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(&kubeconfig, provider_kubeconfig).unwrap();
        Cluster {
            emulator,
            kubeconfig,
        }
    }

    /// Makes `hcl`, after a `provider "planton" { config_path = ... }` block
    /// for this cluster, the whole configuration of `tf`.
    pub fn configure(&self, tf: &Tf, hcl: &str) {
        tf.config(&format!(
            "provider \"planton\" {{\n  config_path = {:?}\n}}\n\n{hcl}",
            self.kubeconfig.display().to_string()
        ));
    }
}

impl std::ops::Deref for Cluster {
    type Target = Emulator;

    fn deref(&self) -> &Emulator {
        &self.emulator
    }
}
