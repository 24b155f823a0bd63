//! Serving: the process Terraform started (cookie, negotiation, AutoMTLS,
//! handshake line) or a listener a caller bound, with the provider service
//! and go-plugin's services on one gRPC server, until Shutdown or a signal.

use std::io;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use super::handshake::{self, HandshakeError};
use super::{controller, grpc, proto, tls};

use super::controller::OnShutdown;
use crate::tf::Provider;

/// Largest message accepted or sent, as terraform-plugin-go allows.
pub const MAX_MESSAGE_SIZE: usize = 256 << 20;

/// How long a client may take to finish its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long open calls may take to finish once shutdown was requested.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(300);

/// The provider's source address, as Terraform knows it.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/project-planton/planton";

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The handshake could not be completed.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The gRPC server failed.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves a process Terraform started: checks the magic cookie, negotiates
/// the protocol, sets up AutoMTLS, prints the handshake line and serves
/// until GRPCController.Shutdown (or SIGTERM). Returns the exit code.
pub async fn serve(provider: Arc<dyn Provider>) -> ExitCode {
    match serve_plugin(provider).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Plain text: a person running the binary by hand reads this.
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_plugin(provider: Arc<dyn Provider>) -> Result<(), ServeError> {
    use handshake::{
        CLIENT_CERT_KEY, MAGIC_COOKIE_KEY, PROTOCOL_VERSIONS_KEY, SOCKET_DIR_KEY, SocketDir,
    };

    handshake::check_magic_cookie(std::env::var_os(MAGIC_COOKIE_KEY).as_deref())?;
    let offered = std::env::var(PROTOCOL_VERSIONS_KEY).ok();
    handshake::negotiate_protocol(offered.as_deref())?;

    let client_cert = std::env::var(CLIENT_CERT_KEY)
        .ok()
        .filter(|s| !s.trim().is_empty());
    let (tls, server_cert) = match client_cert {
        Some(pem) => {
            let client = tls::parse_client_cert(&pem)?;
            let identity = tls::Identity::generate()?;
            let config = tls::server_config(&identity, client)?;
            (Some(config), Some(identity.cert_der().to_vec()))
        }
        None => {
            tracing::warn!("PLUGIN_CLIENT_CERT is not set; serving without TLS");
            (None, None)
        }
    };

    let dir = SocketDir::create(std::env::var_os(SOCKET_DIR_KEY).map(Into::into))?;
    let listener = dir.bind()?;
    let shutdown = CancellationToken::new();
    watch_signals(shutdown.clone(), SigInt::Ignore);

    handshake::announce(&handshake::handshake_line(
        dir.socket_path(),
        server_cert.as_deref(),
    ))?;
    tracing::info!(socket = %dir.socket_path().display(), tls = tls.is_some(), "Serving");
    let result = serve_with(listener, tls, provider, shutdown, OnShutdown::Stop).await;
    drop(dir);
    result
}

/// Serves the provider on `listener` until `shutdown` is cancelled, which
/// GRPCController.Shutdown does. With `tls`, each connection must complete
/// a TLS handshake first; without, the connection is plaintext.
pub async fn serve_on(
    listener: UnixListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    provider: Arc<dyn Provider>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    serve_with(listener, tls, provider, shutdown, OnShutdown::Stop).await
}

pub(super) async fn serve_with(
    listener: UnixListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    provider: Arc<dyn Provider>,
    shutdown: CancellationToken,
    on_shutdown: OnShutdown,
) -> Result<(), ServeError> {
    use proto::plugin::grpc_broker_server::GrpcBrokerServer;
    use proto::plugin::grpc_controller_server::GrpcControllerServer;
    use proto::plugin::grpc_stdio_server::GrpcStdioServer;
    use proto::tfplugin6::provider_server::ProviderServer;

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let provider = ProviderServer::new(grpc::ProviderService::new(provider))
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let controller = GrpcControllerServer::new(controller::Controller {
        shutdown: shutdown.clone(),
        on_shutdown,
    });
    let stdio = GrpcStdioServer::new(controller::Stdio {
        shutdown: shutdown.clone(),
    });
    let broker = GrpcBrokerServer::new(controller::Broker {
        shutdown: shutdown.clone(),
    });

    let incoming = accept(listener, tls.map(TlsAcceptor::from), shutdown.clone());
    let server = tonic::transport::Server::builder()
        // Large states arrive faster with a window that grows.
        .http2_adaptive_window(Some(true))
        .add_service(health)
        .add_service(provider)
        .add_service(controller)
        .add_service(stdio)
        .add_service(broker)
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    tokio::pin!(server);

    // Once asked to stop, give open calls a moment, then stop regardless:
    // Terraform kills us two seconds after Shutdown anyway.
    let deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = &mut server => result.map_err(ServeError::from),
        () = deadline => {
            tracing::warn!("Connections still open after shutdown; stopping anyway");
            Ok(())
        }
    }
}

/// Accepts connections (and completes TLS handshakes, each in its own task
/// so a slow client cannot hold up others) until `shutdown`.
fn accept(
    listener: UnixListener,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
) -> ReceiverStream<io::Result<PluginStream>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Typically out of file descriptors; back off briefly.
                    tracing::warn!(error = %e, "Could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match &tls {
                None => {
                    if tx.send(Ok(PluginStream::Plain(stream))).await.is_err() {
                        break;
                    }
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(stream)) => {
                                let _ = tx.send(Ok(PluginStream::Tls(Box::new(stream)))).await;
                            }
                            Ok(Err(e)) => {
                                tracing::warn!(error = %e, "Refused a connection: TLS handshake failed")
                            }
                            Err(_) => {
                                tracing::warn!("Refused a connection: TLS handshake timed out")
                            }
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

/// A client connection, with or without TLS.
enum PluginStream {
    Plain(UnixStream),
    Tls(Box<TlsStream<UnixStream>>),
}

impl tonic::transport::server::Connected for PluginStream {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for PluginStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PluginStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            PluginStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for PluginStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            PluginStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            PluginStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            PluginStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            PluginStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            PluginStream::Plain(s) => s.is_write_vectored(),
            PluginStream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PluginStream::Plain(s) => Pin::new(s).poll_flush(cx),
            PluginStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PluginStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            PluginStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What SIGINT does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SigInt {
    /// Ctrl-C in Terraform's terminal reaches us too; Terraform then calls
    /// StopProvider itself, so the signal must not kill us mid-apply.
    Ignore,
    /// Debug mode: Ctrl-C ends the process.
    Stop,
}

/// SIGTERM always stops serving (cleanly, so the socket is removed).
pub(super) fn watch_signals(shutdown: CancellationToken, sigint: SigInt) {
    use tokio::signal::unix::{SignalKind, signal};

    match signal(SignalKind::interrupt()) {
        Ok(mut interrupts) => {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                while interrupts.recv().await.is_some() {
                    match sigint {
                        SigInt::Ignore => {
                            tracing::debug!("Ignoring SIGINT; Terraform sends StopProvider")
                        }
                        SigInt::Stop => {
                            tracing::info!("Interrupted; stopping");
                            shutdown.cancel();
                        }
                    }
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "Could not watch SIGINT"),
    }
    match signal(SignalKind::terminate()) {
        Ok(mut terms) => {
            tokio::spawn(async move {
                if terms.recv().await.is_some() {
                    tracing::info!("Terminated; stopping");
                    shutdown.cancel();
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "Could not watch SIGTERM"),
    }
}
