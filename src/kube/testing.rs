//! For this folder's unit tests: a client of the provider's own making for
//! an in-process API-server emulator, and the emulator's admin API.

#![allow(clippy::unwrap_used)]

use kube_emulator::{EmulatorConfig, RunningEmulator};

use crate::kube::clusters::{ClusterRef, Clusters};
use crate::kube::settings::{ConnectionSettings, ProviderSettings};

/// A running emulator and the provider-level client for it, built the way
/// the provider builds every client (from a kubeconfig file kept in `dir`).
pub struct World {
    /// Serves until dropped with the world.
    _emulator: RunningEmulator,
    /// The provider's client.
    pub client: kube::Client,
    _dir: tempfile::TempDir,
}

impl World {
    /// Starts an emulator with `config` and builds its client.
    pub async fn start(config: EmulatorConfig) -> World {
        let emulator = kube_emulator::start(config).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, &emulator.kubeconfig).unwrap();
        let clusters = Clusters::new();
        clusters.install(ProviderSettings::provider_level(
            ConnectionSettings::kubeconfig_file(path),
        ));
        let client = clusters
            .connect(&ClusterRef::Provider)
            .await
            .unwrap()
            .client;
        World {
            _emulator: emulator,
            client,
            _dir: dir,
        }
    }

    /// `method /__emulator/{path}` with a JSON `body`, through the client.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let req = http::Request::builder()
            .method(method)
            .uri(format!("/__emulator/{path}"))
            .header("content-type", "application/json")
            .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
            .unwrap();
        self.client.request::<serde_json::Value>(req).await.unwrap()
    }
}
