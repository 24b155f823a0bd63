//! A TCP proxy in front of the emulator, for the faults the emulator
//! cannot make on its own: every open connection cut at once (watches
//! included), and an API server that is gone for a while and comes back
//! with its data (a restart: etcd keeps the objects, the connections do
//! not survive).
//!
//! The provider's kubeconfig points at the proxy; the test's own client
//! talks to the emulator directly, so it sees the cluster through any
//! outage.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::harness::Emulator;

#[derive(Default)]
struct Shared {
    down: AtomicBool,
    refused: AtomicU64,
    connections: Mutex<Vec<AbortHandle>>,
}

/// The proxy, serving on the emulator's runtime until dropped with it.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`, for the provider's kubeconfig.
    pub url: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts a proxy to `emulator` on a free loopback port.
    pub fn start(emulator: &Emulator) -> Proxy {
        let listener = emulator.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let upstream = emulator.running().addr;
        let shared = Arc::new(Shared::default());
        emulator.spawn(serve(listener, upstream, shared.clone()));
        Proxy {
            url: format!("http://{addr}"),
            shared,
        }
    }

    /// Cuts every open connection (the client sees them closed).
    pub fn sever(&self) {
        for c in self.shared.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    /// The server goes away: open connections are cut, and new ones are
    /// closed as soon as they are made, until [`Proxy::come_back`].
    pub fn go_down(&self) {
        self.shared.down.store(true, Ordering::SeqCst);
        self.sever();
    }

    /// The server is back.
    pub fn come_back(&self) {
        self.shared.down.store(false, Ordering::SeqCst);
    }

    /// Connections turned away while down, so far.
    pub fn turned_away(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

async fn serve(listener: TcpListener, upstream: SocketAddr, shared: Arc<Shared>) {
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            continue;
        };
        if shared.down.load(Ordering::SeqCst) {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            drop(client);
            continue;
        }
        let task = tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        });
        let mut open = shared.connections.lock().unwrap();
        open.retain(|c| !c.is_finished());
        open.push(task.abort_handle());
    }
}
