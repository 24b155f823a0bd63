//! Start an emulator in-process for tests: [`start`] binds `127.0.0.1:0`, serves in
//! a background task and hands back its URL and a kubeconfig. Dropping the
//! [`RunningEmulator`] stops it.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::EmulatorConfig;
use crate::tls::TlsBundle;

/// A running in-process emulator.
pub struct RunningEmulator {
    /// `http://127.0.0.1:PORT` or `https://...`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// A kubeconfig (YAML) with the server, its CA and the credentials the config requires.
    pub kubeconfig: String,
    /// The TLS material, when serving HTTPS.
    pub tls: Option<Arc<TlsBundle>>,
    stop: Option<oneshot::Sender<()>>,
}

impl RunningEmulator {
    /// Stop serving.
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Start an emulator on a free loopback port.
pub async fn start(config: EmulatorConfig) -> std::io::Result<RunningEmulator> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let url = format!("{}://{addr}", config.scheme());
    let tls = config.tls.clone();
    let kubeconfig = config.kubeconfig(&url);
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = crate::serve(listener, config, async move {
            let _ = rx.await;
        })
        .await;
    });
    Ok(RunningEmulator {
        url,
        addr,
        kubeconfig,
        tls,
        stop: Some(tx),
    })
}
