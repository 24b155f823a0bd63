//! The HTTP transport of a client: one connection per cluster, shared by
//! every call of the process.
//!
//! kube-rs's own transport speaks HTTP/1.1 only, where every request in
//! flight needs a connection of its own: Terraform refreshes ten jobs at
//! once, so a plan opened up to ten connections to each cluster and kept
//! them. Here the TLS connector also offers HTTP/2 (ALPN `h2`, which every
//! kube-apiserver accepts), and concurrent requests share one connection.
//!
//! HTTP/2 alone does not prevent a burst: requests that start together
//! before any connection exists would each open one, and only after the
//! handshake would all but one be dropped. So the first request of a client
//! goes alone ([`FirstAlone`]): the others wait until it is answered or
//! failed, or until its connection is up (then a moment more, for the pool
//! to hold it), and then find the connection in the pool. A server that
//! picks HTTP/1.1 gets a connection per request in flight, as before.
//!
//! A client with a proxy (`proxy_url`) keeps kube-rs's transport, which
//! tunnels HTTP/1.1 through it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Uri};
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::{Body, ClientBuilder, ConfigExt};
use tokio::sync::watch;
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};

/// How long the requests held back wait, once the first request's
/// connection is up, for the pool to hold it.
const POOL_GRACE: Duration = Duration::from_millis(50);

/// A response body as kube-rs's clients carry it.
type DynBody = dyn http_body::Body<Data = bytes::Bytes, Error = BoxError> + Send + Unpin;

/// The service under a client, as kube-rs's own builder makes it (its
/// `GenericService`), so that both builders give one type.
type GenericService =
    tower::util::BoxService<Request<Body>, http::Response<Box<DynBody>>, BoxError>;

/// A client builder over the HTTP/2-capable transport, with kube-rs's
/// layers (base URI, credentials, extra headers) as its own builder adds
/// them. For a config without a proxy.
pub fn builder(config: &kube::Config) -> Result<ClientBuilder<GenericService>, kube::Error> {
    let tls = config.rustls_client_config()?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(config.connect_timeout);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let https = match &config.tls_server_name {
        Some(name) => match rustls::pki_types::ServerName::try_from(name.clone()) {
            Ok(name) => {
                https.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
            }
            // kube-rs's builder refuses it too, with the error users know.
            Err(_) => return kube::client::ClientBuilder::try_from(config.clone()),
        },
        None => https,
    };
    let gate = Gate::default();
    let connector = Signalling {
        inner: https.enable_http1().enable_http2().wrap_connector(http),
        gate: gate.clone(),
    };
    let hyper = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .layer(FirstAloneLayer { gate })
        .map_err(BoxError::from)
        .service(hyper)
        .map_response(|response: http::Response<hyper::body::Incoming>| {
            response.map(|body| Box::new(body.map_err(BoxError::from)) as Box<DynBody>)
        })
        .boxed();
    Ok(ClientBuilder::new(
        service,
        config.default_namespace.clone(),
    ))
}

/// Where a client's first request is: not sent, connecting, connected,
/// answered (or failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Waiting,
    Connected,
    Released,
}

/// Shared by the connector and the request layer of one client.
#[derive(Clone)]
struct Gate {
    first_taken: Arc<AtomicBool>,
    stage: watch::Sender<Stage>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            first_taken: Arc::new(AtomicBool::new(false)),
            stage: watch::Sender::new(Stage::Waiting),
        }
    }
}

impl Gate {
    fn advance(&self, to: Stage) {
        self.stage.send_if_modified(|s| {
            let later = to > *s;
            if later {
                *s = to;
            }
            later
        });
    }

    /// Waits until a held-back request may go.
    async fn wait(&self) {
        let mut rx = self.stage.subscribe();
        let connected = {
            let Ok(stage) = rx.wait_for(|s| *s >= Stage::Connected).await else {
                return;
            };
            *stage == Stage::Connected
        };
        if connected {
            let released = rx.wait_for(|s| *s == Stage::Released);
            let _ = tokio::time::timeout(POOL_GRACE, released).await;
        }
    }
}

/// Releases the requests held back when the first one ends, however it ends.
struct ReleaseOnDrop(Gate);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        self.0.advance(Stage::Released);
    }
}

/// The connector, telling the gate when a connection attempt ends.
#[derive(Clone)]
struct Signalling<C> {
    inner: C,
    gate: Gate,
}

impl<C> Service<Uri> for Signalling<C>
where
    C: Service<Uri>,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = C::Error;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, C::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let gate = self.gate.clone();
        Box::pin(async move {
            let connected = connecting.await;
            gate.advance(match connected {
                Ok(_) => Stage::Connected,
                Err(_) => Stage::Released,
            });
            connected
        })
    }
}

/// See the module doc.
#[derive(Clone)]
struct FirstAloneLayer {
    gate: Gate,
}

impl<S> Layer<S> for FirstAloneLayer {
    type Service = FirstAlone<S>;

    fn layer(&self, inner: S) -> FirstAlone<S> {
        FirstAlone {
            inner,
            gate: self.gate.clone(),
        }
    }
}

/// Sends a client's first request alone; see the module doc.
#[derive(Clone)]
pub struct FirstAlone<S> {
    inner: S,
    gate: Gate,
}

impl<S, B> Service<Request<B>> for FirstAlone<S>
where
    S: Service<Request<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let gate = self.gate.clone();
        if *gate.stage.borrow() == Stage::Released {
            return Box::pin(self.inner.call(req));
        }
        if !gate.first_taken.swap(true, Ordering::AcqRel) {
            let sent = self.inner.call(req);
            // Answered, failed, or dropped half-way (its budget ended while
            // connecting): the others go either way.
            let release = ReleaseOnDrop(gate);
            return Box::pin(async move {
                let _release = release;
                sent.await
            });
        }
        // Not ready in this poll_ready's sense: another clone is called once
        // the first request let it through.
        let inner = self.inner.clone();
        Box::pin(async move {
            gate.wait().await;
            inner.oneshot(req).await
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use futures::future::join_all;
    use kube_emulator::EmulatorConfig;
    use kube_emulator::tls::TlsBundle;

    use crate::kube::testing::World;

    /// Twenty requests sent at once on a new client over TLS travel on one
    /// HTTP/2 connection: the emulator accepts one connection in all.
    #[tokio::test]
    async fn concurrent_requests_share_one_connection() {
        let config = EmulatorConfig {
            tls: Some(Arc::new(TlsBundle::generate().unwrap())),
            ..EmulatorConfig::fast()
        };
        let w = World::start(config).await;
        let client = w.client.clone();
        let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> =
            kube::Api::all(client.clone());
        let params = kube::api::ListParams::default();
        let answers = join_all((0..20).map(|_| namespaces.list(&params))).await;
        for a in answers {
            a.unwrap();
        }
        // The admin request rides the same connection.
        let counted = w.admin("GET", "connections", None).await;
        assert_eq!(counted["accepted"], 1, "{counted}");
        assert_eq!(counted["api"], 1, "{counted}");
    }

    /// A first request dropped while its connection hangs (its budget
    /// ended) holds nothing back: the next request opens a connection of
    /// its own. The server accepts TCP and never answers the TLS handshake.
    #[tokio::test]
    async fn a_dropped_first_request_releases_the_others() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let (accepted_tx, mut accepted) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
                let _ = accepted_tx.send(());
            }
        });
        let config = kube::Config::new(url.parse().unwrap());
        let client = super::builder(&config).unwrap().build();
        let get = || http::Request::get("/version").body(Vec::new()).unwrap();

        let first =
            tokio::time::timeout(Duration::from_millis(300), client.request_text(get())).await;
        assert!(
            first.is_err(),
            "the first request should still be connecting"
        );
        tokio::time::timeout(Duration::from_secs(5), accepted.recv())
            .await
            .expect("the first connection arrives");
        let second = client.clone();
        let next = tokio::spawn(async move { second.request_text(get()).await });
        tokio::time::timeout(Duration::from_secs(5), accepted.recv())
            .await
            .expect("the next request opens its own connection");
        next.abort();
    }

    /// Without TLS there is no ALPN, so HTTP/1.1: requests sent at once,
    /// held back behind the first, all get their answer.
    #[tokio::test]
    async fn plain_http_requests_sent_at_once_all_succeed() {
        let w = World::start(EmulatorConfig::fast()).await;
        let client = w.client.clone();
        let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> =
            kube::Api::all(client.clone());
        let params = kube::api::ListParams::default();
        let answers = join_all((0..5).map(|_| namespaces.list(&params))).await;
        for a in answers {
            a.unwrap();
        }
    }
}
