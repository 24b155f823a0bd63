//! Protocol tests: the handshake, AutoMTLS, the go-plugin services and the
//! provider RPCs, driven the way Terraform drives them.
//!
//! Two kinds of server are used: the real binary (handshake, cookie,
//! negotiation, TLS, Shutdown, debug mode), and the library's `serve_on`
//! in this process with a small test provider (StopProvider, large values,
//! health, RPC semantics). Every server listens on a Unix socket in a
//! temporary directory; nothing uses a fixed port or sleeps to synchronise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use hyper_util::rt::TokioIo;
use planton_provider::server::proto::plugin::Empty;
use planton_provider::server::proto::plugin::grpc_controller_client::GrpcControllerClient;
use planton_provider::server::proto::tfplugin6 as pb;
use planton_provider::server::proto::tfplugin6::provider_client::ProviderClient;
use planton_provider::server::{self, handshake, tls};
use planton_provider::tf::diag::Diagnostics;
use planton_provider::tf::resource::{
    ApplyResponse, CreateRequest, DeleteRequest, ReadRequest, ReadResponse, UpdateRequest,
    ValidateRequest,
};
use planton_provider::tf::value::msgpack;
use planton_provider::tf::{Attribute, Block, Provider, Resource, Schema, Type, Value};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::UnixStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};

const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-planton");
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// Client side: certificates and channels
// ---------------------------------------------------------------------------

/// A client certificate as Terraform's go-plugin client makes it: the same
/// shape as the server's (self-signed ECDSA P-521, a CA used as a leaf, SAN
/// localhost), with go-plugin's organization.
fn client_identity() -> tls::Identity {
    tls::Identity::generate_for("HashiCorp").unwrap()
}

/// Trusts exactly the server certificate from the handshake line, as
/// go-plugin's client does (its pool holds only that certificate).
#[derive(Debug)]
struct PinnedServer {
    der: Vec<u8>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        assert_eq!(server_name.to_str(), "localhost");
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A plaintext gRPC channel over a Unix socket.
async fn plain_channel(socket: &Path) -> Result<Channel, tonic::transport::Error> {
    let socket = socket.to_path_buf();
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
        }))
        .await
}

/// A TLS gRPC channel over a Unix socket, presenting `client` (or no
/// certificate) and trusting only `server_der`.
async fn tls_channel(
    socket: &Path,
    server_der: &[u8],
    client: Option<&tls::Identity>,
) -> Result<Channel, tonic::transport::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedServer {
        der: server_der.to_vec(),
        algorithms: provider.signature_verification_algorithms,
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match client {
        Some(id) => builder
            .with_client_auth_cert(vec![id.cert().clone()], id.key())
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let socket = socket.to_path_buf();
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            let connector = connector.clone();
            async move {
                let stream = UnixStream::connect(socket).await?;
                let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
                let tls = connector.connect(name, stream).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

fn provider_client(channel: Channel) -> ProviderClient<Channel> {
    ProviderClient::new(channel)
        .max_decoding_message_size(server::MAX_MESSAGE_SIZE)
        .max_encoding_message_size(server::MAX_MESSAGE_SIZE)
}

// ---------------------------------------------------------------------------
// The real binary
// ---------------------------------------------------------------------------

/// A running provider process; killed on drop if still alive.
struct PluginProcess {
    child: Child,
    first_line: String,
    stderr: Arc<Mutex<String>>,
    _socket_base: tempfile::TempDir,
}

impl PluginProcess {
    /// Starts the binary as Terraform would, with AutoMTLS when `client`
    /// is given, and waits for its first stdout line.
    fn start(client: Option<&tls::Identity>, args: &[&str]) -> Self {
        let base = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(BINARY);
        cmd.args(args)
            .env_clear()
            .env(handshake::MAGIC_COOKIE_KEY, handshake::MAGIC_COOKIE_VALUE)
            .env(handshake::PROTOCOL_VERSIONS_KEY, "5,6")
            .env(handshake::SOCKET_DIR_KEY, base.path())
            .env("TF_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(id) = client {
            cmd.env(handshake::CLIENT_CERT_KEY, id.cert_pem());
        }
        let mut child = cmd.spawn().unwrap();

        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });

        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the child never blocks on a full pipe.
            let mut rest = Vec::new();
            let _ = reader.read_to_end(&mut rest);
        });
        let first_line = rx.recv_timeout(HANDSHAKE_DEADLINE).unwrap_or_default();
        let process = PluginProcess {
            child,
            first_line,
            stderr,
            _socket_base: base,
        };
        assert!(
            process.first_line.ends_with('\n'),
            "no first line on stdout; stderr: {}",
            process.stderr()
        );
        process
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Whether stderr contains `needle` before `deadline`: a thread collects
    /// stderr, so a line the plugin just wrote may not be there yet.
    fn stderr_shows(&self, needle: &str, deadline: Duration) -> bool {
        let start = Instant::now();
        loop {
            if self.stderr().contains(needle) {
                return true;
            }
            if start.elapsed() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for the process to exit, polling until `deadline`.
    fn wait_exit(&mut self, deadline: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if start.elapsed() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The fields of a handshake line.
struct Handshake {
    socket: PathBuf,
    cert: Option<Vec<u8>>,
}

fn parse_handshake(line: &str) -> Handshake {
    let line = line.strip_suffix('\n').unwrap();
    let fields: Vec<&str> = line.split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line {line:?}");
    assert_eq!(fields[0], "1", "core protocol version");
    assert_eq!(fields[1], "6", "plugin protocol version");
    assert_eq!(fields[2], "unix");
    assert_eq!(fields[4], "grpc");
    let cert = (!fields[5].is_empty()).then(|| {
        assert!(!fields[5].contains('='), "base64 must be unpadded");
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(fields[5])
            .unwrap()
    });
    Handshake {
        socket: PathBuf::from(fields[3]),
        cert,
    }
}

#[test]
fn handshake_line_has_the_documented_shape() {
    use std::os::unix::fs::FileTypeExt as _;

    let client = client_identity();
    let mut plugin = PluginProcess::start(Some(&client), &[]);
    let hs = parse_handshake(&plugin.first_line);
    assert!(
        std::fs::metadata(&hs.socket)
            .unwrap()
            .file_type()
            .is_socket()
    );
    let der = hs
        .cert
        .expect("AutoMTLS handshake carries the server certificate");
    // go-plugin parses the field only when it is longer than 50 characters.
    assert!(
        plugin
            .first_line
            .split('|')
            .nth(5)
            .unwrap()
            .trim_end()
            .len()
            > 50
    );
    // A DER certificate: an outer SEQUENCE spanning the whole buffer, with
    // the name Terraform's client verifies.
    assert_eq!(der[0], 0x30);
    assert!(der.windows(9).any(|w| w == b"localhost"));
    assert_eq!(der_length(&der), der.len());
    assert!(plugin.child.try_wait().unwrap().is_none(), "still serving");
    plugin.child.kill().unwrap();
}

/// Total length of a DER TLV at the start of `der`.
fn der_length(der: &[u8]) -> usize {
    let first = usize::from(der[1]);
    if first < 0x80 {
        return 2 + first;
    }
    let n = first & 0x7f;
    let len = der[2..2 + n]
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    2 + n + len
}

#[test]
fn running_by_hand_explains_and_exits_1() {
    let out = Command::new(BINARY)
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("This binary is a plugin"), "{err}");
    assert!(err.contains("terraform init"), "{err}");
    // One human paragraph, not a log line.
    assert!(!err.trim_start().starts_with('{'), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    let wrong = Command::new(BINARY)
        .env_clear()
        .env(handshake::MAGIC_COOKIE_KEY, "not-the-cookie")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
}

#[test]
fn protocol_5_alone_is_refused_clearly() {
    let out = Command::new(BINARY)
        .env_clear()
        .env(handshake::MAGIC_COOKIE_KEY, handshake::MAGIC_COOKIE_VALUE)
        .env(handshake::PROTOCOL_VERSIONS_KEY, "5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no handshake line");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("only protocol version 6"), "{err}");
    assert!(err.contains("\"5\""), "{err}");
}

#[test]
fn unknown_arguments_are_rejected() {
    let out = Command::new(BINARY)
        .arg("--bogus")
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("--debug"));
}

#[tokio::test]
async fn pinned_client_certificate_connects() {
    let client = client_identity();
    let plugin = PluginProcess::start(Some(&client), &[]);
    let hs = parse_handshake(&plugin.first_line);
    let channel = tls_channel(&hs.socket, hs.cert.as_ref().unwrap(), Some(&client))
        .await
        .unwrap();
    let schema = provider_client(channel.clone())
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(
        schema.provider.is_some(),
        "a provider schema is always present"
    );
    let caps = schema.server_capabilities.unwrap();
    assert!(caps.plan_destroy);
    assert!(!caps.get_provider_schema_optional);

    let health = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        health.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn other_client_certificates_are_refused() {
    let client = client_identity();
    let plugin = PluginProcess::start(Some(&client), &[]);
    let hs = parse_handshake(&plugin.first_line);
    let server_der = hs.cert.unwrap();

    // Another certificate of exactly the same shape.
    let stranger = client_identity();
    assert!(
        schema_call(tls_channel(&hs.socket, &server_der, Some(&stranger)).await)
            .await
            .is_err()
    );
    // No certificate at all.
    assert!(
        schema_call(tls_channel(&hs.socket, &server_der, None).await)
            .await
            .is_err()
    );
    // No TLS at all.
    assert!(schema_call(plain_channel(&hs.socket).await).await.is_err());
    // The pinned one still works afterwards.
    assert!(
        schema_call(tls_channel(&hs.socket, &server_der, Some(&client)).await)
            .await
            .is_ok()
    );
    assert!(
        plugin.stderr_shows("Refused a connection", Duration::from_secs(10)),
        "{}",
        plugin.stderr()
    );
}

/// GetProviderSchema over a channel that may have failed to connect; with
/// TLS 1.3 a refused client certificate surfaces on the first call.
async fn schema_call(channel: Result<Channel, tonic::transport::Error>) -> Result<(), String> {
    let channel = channel.map_err(|e| e.to_string())?;
    provider_client(channel)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn controller_shutdown_ends_the_process_within_a_second() {
    let client = client_identity();
    let mut plugin = PluginProcess::start(Some(&client), &[]);
    let hs = parse_handshake(&plugin.first_line);
    let channel = tls_channel(&hs.socket, hs.cert.as_ref().unwrap(), Some(&client))
        .await
        .unwrap();
    // An open call and an idle connection, as Terraform leaves them.
    provider_client(channel.clone())
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();

    let start = Instant::now();
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .unwrap();
    let status = plugin.wait_exit(Duration::from_secs(5));
    let elapsed = start.elapsed();
    let status = status.unwrap_or_else(|| panic!("still running; stderr: {}", plugin.stderr()));
    assert!(
        status.success(),
        "exit status {status}; stderr: {}",
        plugin.stderr()
    );
    assert!(
        elapsed < Duration::from_secs(1),
        "Shutdown took {elapsed:?}"
    );
    assert!(!hs.socket.exists(), "socket removed");
    assert!(
        !hs.socket.parent().unwrap().exists(),
        "socket directory removed"
    );
}

#[tokio::test]
async fn debug_mode_prints_a_reattach_line_and_serves_until_interrupted() {
    let mut plugin = PluginProcess::start(None, &["--debug"]);
    let line = plugin.first_line.trim_end().to_string();
    let json = line
        .strip_prefix("TF_REATTACH_PROVIDERS='")
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or_else(|| panic!("unexpected line {line:?}"));
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let p = &v[server::PROVIDER_ADDRESS];
    assert_eq!(p["Protocol"], "grpc");
    assert_eq!(p["ProtocolVersion"], 6);
    assert_eq!(p["Pid"], plugin.child.id());
    assert_eq!(p["Test"], true);
    assert_eq!(p["Addr"]["Network"], "unix");
    let socket = PathBuf::from(p["Addr"]["String"].as_str().unwrap());

    let channel = plain_channel(&socket).await.unwrap();
    assert!(schema_call(Ok(channel.clone())).await.is_ok());
    // The process outlives each Terraform run: Shutdown does not end it.
    GrpcControllerClient::new(channel.clone())
        .shutdown(Empty {})
        .await
        .unwrap();
    assert!(schema_call(Ok(channel)).await.is_ok());
    assert!(plugin.child.try_wait().unwrap().is_none());

    let status = Command::new("kill")
        .args(["-INT", &plugin.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = plugin
        .wait_exit(Duration::from_secs(5))
        .expect("exits on Ctrl-C");
    assert!(status.success(), "{status}; stderr: {}", plugin.stderr());
    assert!(!socket.exists());
}

#[tokio::test]
async fn sigint_is_ignored_in_plugin_mode() {
    // Ctrl-C in Terraform's terminal reaches the provider too; Terraform
    // handles it with StopProvider, so the process must keep serving.
    let client = client_identity();
    let mut plugin = PluginProcess::start(Some(&client), &[]);
    let hs = parse_handshake(&plugin.first_line);
    let channel = tls_channel(&hs.socket, hs.cert.as_ref().unwrap(), Some(&client))
        .await
        .unwrap();
    let status = Command::new("kill")
        .args(["-INT", &plugin.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // A call after the signal still succeeds, so the signal was handled.
    let mut client_rpc = provider_client(channel.clone());
    client_rpc
        .stop_provider(pb::stop_provider::Request {})
        .await
        .unwrap();
    client_rpc
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
    assert!(plugin.child.try_wait().unwrap().is_none());
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .unwrap();
    assert!(plugin.wait_exit(Duration::from_secs(5)).is_some());
}

// ---------------------------------------------------------------------------
// In-process server with a test provider
// ---------------------------------------------------------------------------

const TEST_TYPE: &str = "planton_test";

/// One resource: `value` (string) and computed `id`. Reads and applies
/// whose private bytes are `wait` block until cancelled.
struct TestResource {
    started: Arc<tokio::sync::Notify>,
}

fn test_schema() -> Schema {
    Schema::new(Block::new(
        vec![
            Attribute::optional("value", Type::String, "A value."),
            Attribute::computed("id", Type::String, "The id."),
        ],
        "A resource for protocol tests.",
    ))
}

#[async_trait]
impl Resource for TestResource {
    fn type_name(&self) -> &'static str {
        TEST_TYPE
    }
    fn schema(&self) -> Schema {
        test_schema()
    }
    async fn validate(&self, req: ValidateRequest) -> Diagnostics {
        let mut d = Diagnostics::new();
        let len = req.config.get("value").as_str().map_or(0, str::len);
        d.warning("Value Length", len.to_string());
        d
    }
    async fn create(&self, req: CreateRequest) -> ApplyResponse {
        ApplyResponse {
            new_state: req.planned_state,
            ..ApplyResponse::default()
        }
    }
    async fn update(&self, req: UpdateRequest) -> ApplyResponse {
        ApplyResponse {
            new_state: req.planned_state,
            ..ApplyResponse::default()
        }
    }
    async fn delete(&self, _req: DeleteRequest) -> ApplyResponse {
        ApplyResponse::default()
    }
    async fn read(&self, req: ReadRequest) -> ReadResponse {
        let mut resp = ReadResponse {
            new_state: req.current_state,
            ..ReadResponse::default()
        };
        if req.private == b"wait" {
            self.started.notify_one();
            req.cancel.cancelled().await;
            resp.diagnostics
                .error("Stopped", "Terraform asked the provider to stop.");
        } else {
            resp.diagnostics
                .warning("Cancelled", req.cancel.is_cancelled().to_string());
        }
        resp
    }
}

struct TestProvider {
    resource: Arc<TestResource>,
}

impl Provider for TestProvider {
    fn schema(&self) -> Schema {
        Schema::default()
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![self.resource.clone()]
    }
}

/// A server running in this process.
struct InProcess {
    channel: Channel,
    started: Arc<tokio::sync::Notify>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), server::ServeError>>,
    _dir: tempfile::TempDir,
}

impl InProcess {
    /// Serves the test provider with AutoMTLS and connects a pinned client.
    async fn start() -> Self {
        let started = Arc::new(tokio::sync::Notify::new());
        let provider = Arc::new(TestProvider {
            resource: Arc::new(TestResource {
                started: started.clone(),
            }),
        });
        Self::serve(provider, started).await
    }

    /// Serves the planton provider itself (for its functions, which need
    /// no configuration and no cluster).
    async fn start_planton() -> Self {
        let provider = Arc::new(planton_provider::provider::PlantonProvider::new());
        Self::serve(provider, Arc::new(tokio::sync::Notify::new())).await
    }

    async fn serve(provider: Arc<dyn Provider>, started: Arc<tokio::sync::Notify>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("plugin.sock");
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        let client = client_identity();
        let identity = tls::Identity::generate().unwrap();
        let config = tls::server_config(&identity, client.cert().clone()).unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(server::serve_on(
            listener,
            Some(config),
            provider,
            shutdown.clone(),
        ));
        let channel = tls_channel(&socket, identity.cert_der(), Some(&client))
            .await
            .unwrap();
        InProcess {
            channel,
            started,
            shutdown,
            task,
            _dir: dir,
        }
    }

    fn provider(&self) -> ProviderClient<Channel> {
        provider_client(self.channel.clone())
    }

    async fn stop(self) {
        GrpcControllerClient::new(self.channel.clone())
            .shutdown(Empty {})
            .await
            .unwrap();
        assert!(self.shutdown.is_cancelled());
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

fn summaries(diags: &[pb::Diagnostic]) -> Vec<(i32, String, String)> {
    diags
        .iter()
        .map(|d| (d.severity, d.summary.clone(), d.detail.clone()))
        .collect()
}

const WARNING: i32 = pb::diagnostic::Severity::Warning as i32;
const ERROR: i32 = pb::diagnostic::Severity::Error as i32;

fn msgpack_value(value: &Value) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: msgpack::encode(value, &test_schema().value_type()).unwrap(),
        json: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_provider_cancels_in_flight_work_and_the_server_keeps_serving() {
    let server = InProcess::start().await;
    let mut blocked = server.provider();
    let read = tokio::spawn(async move {
        blocked
            .read_resource(pb::read_resource::Request {
                type_name: TEST_TYPE.into(),
                private: b"wait".to_vec(),
                ..Default::default()
            })
            .await
    });
    // The read is inside the resource, waiting on its cancellation token.
    tokio::time::timeout(Duration::from_secs(10), server.started.notified())
        .await
        .unwrap();

    let stop = server
        .provider()
        .stop_provider(pb::stop_provider::Request {})
        .await
        .unwrap();
    assert_eq!(stop.into_inner().error, "");
    let read = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(summaries(&read.into_inner().diagnostics)[0].1, "Stopped");

    // Still serving, and later work gets a fresh, uncancelled token.
    let schema = server
        .provider()
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
    assert!(schema.into_inner().resource_schemas.contains_key(TEST_TYPE));
    let again = server
        .provider()
        .read_resource(pb::read_resource::Request {
            type_name: TEST_TYPE.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&again.diagnostics),
        vec![(WARNING, "Cancelled".into(), "false".into())]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_64_mib_value_decodes() {
    let server = InProcess::start().await;
    let big = 64usize << 20;
    // {"value": <64 MiB string>} written by hand: fixmap(1), fixstr "value", str32.
    let mut bytes = Vec::with_capacity(big + 16);
    bytes.push(0x81);
    bytes.push(0xa5);
    bytes.extend_from_slice(b"value");
    bytes.push(0xdb);
    bytes.extend_from_slice(&u32::try_from(big).unwrap().to_be_bytes());
    bytes.resize(bytes.len() + big, b'x');
    let resp = server
        .provider()
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: TEST_TYPE.into(),
            config: Some(pb::DynamicValue {
                msgpack: bytes,
                json: vec![],
            }),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&resp.diagnostics),
        vec![(WARNING, "Value Length".into(), big.to_string())]
    );
    server.stop().await;
}

#[tokio::test]
async fn health_reports_plugin_serving() {
    let server = InProcess::start().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel.clone());
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    server.stop().await;
}

#[tokio::test]
async fn unknown_types_are_diagnostics_not_failures() {
    let server = InProcess::start().await;
    let mut p = server.provider();

    let resp = p
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "planton_nope".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let d = summaries(&resp.diagnostics);
    assert_eq!(d[0].0, ERROR);
    assert_eq!(d[0].1, "Unknown Resource Type");
    assert!(
        d[0].2.contains("planton_nope") && d[0].2.contains(TEST_TYPE),
        "{}",
        d[0].2
    );

    for type_name in ["planton_nope", TEST_TYPE] {
        let plan = p
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: type_name.into(),
                proposed_new_state: Some(pb::DynamicValue {
                    msgpack: vec![0xc1],
                    json: vec![],
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            plan.diagnostics[0].severity, ERROR,
            "{type_name}: {:?}",
            plan.diagnostics
        );
    }

    let data = p
        .read_data_source(pb::read_data_source::Request {
            type_name: "planton_x".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&data.diagnostics)[0].1,
        "Unknown Data Source Type"
    );
    let eph = p
        .validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
            type_name: "planton_x".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&eph.diagnostics)[0].1,
        "Unknown Ephemeral Resource Type"
    );
    let list = p
        .validate_list_resource_config(pb::validate_list_resource_config::Request {
            type_name: "planton_x".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&list.diagnostics)[0].1,
        "Unknown List Resource Type"
    );
    let mut events = p
        .list_resource(pb::list_resource::Request {
            type_name: "planton_x".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let event = events.message().await.unwrap().unwrap();
    assert_eq!(
        summaries(&event.diagnostic)[0].1,
        "Unknown List Resource Type"
    );
    assert!(events.message().await.unwrap().is_none());

    let ids = p
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(ids.identity_schemas.is_empty() && ids.diagnostics.is_empty());
    let functions = p
        .get_functions(pb::get_functions::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(functions.functions.is_empty());
    let call = p
        .call_function(pb::call_function::Request {
            name: "f".into(),
            arguments: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(call.error.unwrap().text.contains("no functions"));
    let meta = p
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(meta.resources[0].type_name, TEST_TYPE);
    server.stop().await;
}

#[tokio::test]
async fn schema_is_markdown_with_the_resource() {
    let server = InProcess::start().await;
    let resp = server
        .provider()
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let schema = &resp.resource_schemas[TEST_TYPE];
    let block = schema.block.as_ref().unwrap();
    let value = block.attributes.iter().find(|a| a.name == "value").unwrap();
    assert_eq!(value.r#type, b"\"string\"".to_vec());
    assert!(value.optional && !value.required && !value.computed);
    assert_eq!(value.description_kind, pb::StringKind::Markdown as i32);
    assert!(resp.diagnostics.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn upgrade_plan_destroy_and_apply_delete() {
    let server = InProcess::start().await;
    let mut p = server.provider();
    let ty = test_schema().value_type();

    // UpgradeResourceState: JSON of the stored state in, msgpack out.
    let up = p
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: TEST_TYPE.into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: br#"{"value":"a","id":"1"}"#.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(up.diagnostics.is_empty(), "{:?}", up.diagnostics);
    let state = msgpack::decode(&up.upgraded_state.unwrap().msgpack, &ty).unwrap();
    let expected = Value::object([("value", Value::string("a")), ("id", Value::string("1"))]);
    assert_eq!(state, expected);

    // A newer state version than the provider knows is an error, not a panic.
    let newer = p
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: TEST_TYPE.into(),
            version: 7,
            raw_state: Some(pb::RawState {
                json: b"{}".to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(newer.diagnostics[0].severity, ERROR);
    assert!(newer.upgraded_state.is_none());

    // Destroy: Terraform proposes null, we plan null.
    let nil = pb::DynamicValue {
        msgpack: vec![0xc0],
        json: vec![],
    };
    let plan = p
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: TEST_TYPE.into(),
            prior_state: Some(msgpack_value(&expected)),
            proposed_new_state: Some(nil.clone()),
            config: Some(nil.clone()),
            prior_private: b"p".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        plan.diagnostics.iter().all(|d| d.severity != ERROR),
        "{:?}",
        plan.diagnostics
    );
    assert_eq!(plan.planned_state.unwrap().msgpack, vec![0xc0]);
    assert!(plan.requires_replace.is_empty());

    // Delete: planned null, new state null.
    let apply = p
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: TEST_TYPE.into(),
            prior_state: Some(msgpack_value(&expected)),
            planned_state: Some(nil.clone()),
            config: Some(nil),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(apply.diagnostics.is_empty(), "{:?}", apply.diagnostics);
    assert_eq!(apply.new_state.unwrap().msgpack, vec![0xc0]);

    // Legacy flat state is refused with a diagnostic.
    let flat = p
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: TEST_TYPE.into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: vec![],
                flatmap: [("id".to_string(), "1".to_string())].into(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&flat.diagnostics)[0].1,
        "Unsupported State Format"
    );
    server.stop().await;
}

#[tokio::test]
async fn json_fallback_and_undecodable_values() {
    let server = InProcess::start().await;
    let mut p = server.provider();
    let validate = |value: pb::DynamicValue| pb::validate_resource_config::Request {
        type_name: TEST_TYPE.into(),
        config: Some(value),
        client_capabilities: Some(pb::ClientCapabilities {
            deferral_allowed: false,
            write_only_attributes_allowed: true,
        }),
    };

    // JSON is read when msgpack is empty.
    let json = pb::DynamicValue {
        msgpack: vec![],
        json: br#"{"value":"abc","id":null}"#.to_vec(),
    };
    let resp = p
        .validate_resource_config(validate(json))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        summaries(&resp.diagnostics),
        vec![(WARNING, "Value Length".into(), "3".into())]
    );

    // Bytes that are not a value of the schema: a diagnostic, not a gRPC error.
    for bad in [vec![0xc1], vec![0x81, 0xa5], b"\x92\x01\x02".to_vec()] {
        let value = pb::DynamicValue {
            msgpack: bad.clone(),
            json: vec![],
        };
        let resp = p
            .validate_resource_config(validate(value))
            .await
            .unwrap()
            .into_inner();
        let d = summaries(&resp.diagnostics);
        assert_eq!(d.len(), 1, "{bad:?}: {d:?}");
        assert_eq!(
            (d[0].0, d[0].1.as_str()),
            (ERROR, "Unreadable Value From Terraform"),
            "{bad:?}"
        );
        assert!(d[0].2.contains(TEST_TYPE), "{}", d[0].2);
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Provider-defined functions, on the planton provider itself
// ---------------------------------------------------------------------------

const FROM_MANIFEST: &str = "kubernetes_job_from_manifest";
const TO_MANIFEST: &str = "kubernetes_job_manifest";

/// A JSON document as Terraform sends it to a dynamic parameter (the way
/// `yamldecode` or an object literal types it): msgpack of
/// `[type JSON, value]`.
fn dynamic_argument(json: &serde_json::Value) -> pb::DynamicValue {
    fn typed(json: &serde_json::Value) -> (Type, Value) {
        use serde_json::Value as J;
        match json {
            J::Null => (Type::Dynamic, Value::Null),
            J::Bool(b) => (Type::Bool, Value::Bool(*b)),
            J::Number(n) => (Type::Number, Value::Number(n.to_string().parse().unwrap())),
            J::String(s) => (Type::String, Value::string(s)),
            J::Array(items) => {
                let (types, values) = items.iter().map(typed).unzip();
                (Type::Tuple(types), Value::Tuple(values))
            }
            J::Object(fields) => {
                let (types, values) = fields
                    .iter()
                    .map(|(k, v)| {
                        let (t, v) = typed(v);
                        ((k.clone(), t), (k.clone(), v))
                    })
                    .unzip();
                (Type::Object(types), Value::Object(values))
            }
        }
    }
    let (ty, value) = typed(json);
    pb::DynamicValue {
        msgpack: msgpack::encode(&Value::Dynamic(ty, Box::new(value)), &Type::Dynamic).unwrap(),
        json: vec![],
    }
}

fn hello_world() -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "kubernetes.project-planton.org/v1",
        "kind": "KubernetesJob",
        "metadata": {"name": "hello-world"},
        "spec": {
            "namespace": {"value": "default"},
            "image": {"repo": "busybox", "tag": "latest"},
            "command": ["echo", "Hello, World!"],
            "backoffLimit": "2"
        }
    })
}

/// The type the resource gives its `metadata` and `spec`, from the
/// resource's schema in the same GetProviderSchema answer.
fn job_type_from(resp: &pb::get_provider_schema::Response) -> Type {
    let schema = &resp.resource_schemas["planton_kubernetes_job"];
    fn nested_type(a: &pb::schema::Attribute) -> Type {
        match &a.nested_type {
            None => Type::from_json_bytes(&a.r#type).unwrap(),
            Some(o) => {
                let object = Type::Object(
                    o.attributes
                        .iter()
                        .map(|a| (a.name.clone(), nested_type(a)))
                        .collect(),
                );
                use pb::schema::object::NestingMode as M;
                match M::try_from(o.nesting).unwrap() {
                    M::List => Type::list(object),
                    M::Set => Type::set(object),
                    M::Map => Type::map(object),
                    _ => object,
                }
            }
        }
    }
    let block = schema.block.as_ref().unwrap();
    let attr = |name: &str| nested_type(block.attributes.iter().find(|a| a.name == name).unwrap());
    Type::object([("metadata", attr("metadata")), ("spec", attr("spec"))])
}

/// GetProviderSchema, GetFunctions and GetMetadata declare both functions:
/// their dynamic parameters (unknown values allowed, null not) and their
/// return types, the reader's being exactly the resource's metadata and
/// spec.
#[tokio::test]
async fn the_schema_declares_both_functions_with_their_types() {
    let server = InProcess::start_planton().await;
    let mut p = server.provider();
    let schema = p
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let mut names: Vec<&String> = schema.functions.keys().collect();
    names.sort();
    assert_eq!(names, [FROM_MANIFEST, TO_MANIFEST]);

    let from = &schema.functions[FROM_MANIFEST];
    let params: Vec<_> = from
        .parameters
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.r#type.as_slice(),
                p.allow_null_value,
                p.allow_unknown_values,
            )
        })
        .collect();
    assert_eq!(params, [("manifest", &b"\"dynamic\""[..], false, true)]);
    let returned = Type::from_json_bytes(&from.r#return.as_ref().unwrap().r#type).unwrap();
    assert_eq!(returned, job_type_from(&schema));
    assert!(from.variadic_parameter.is_none());

    let to = &schema.functions[TO_MANIFEST];
    let params: Vec<_> = to
        .parameters
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.r#type.as_slice(),
                p.allow_null_value,
                p.allow_unknown_values,
            )
        })
        .collect();
    assert_eq!(
        params,
        [
            ("metadata", &b"\"dynamic\""[..], false, true),
            ("spec", &b"\"dynamic\""[..], false, true)
        ]
    );
    assert_eq!(
        to.r#return.as_ref().unwrap().r#type,
        b"\"dynamic\"".to_vec()
    );

    for f in [from, to] {
        assert!(!f.summary.is_empty() && !f.description.is_empty());
        assert_eq!(f.description_kind, pb::StringKind::Markdown as i32);
        assert!(
            f.parameters.iter().all(|p| !p.description.is_empty()
                && p.description_kind == pb::StringKind::Markdown as i32)
        );
    }

    let functions = p
        .get_functions(pb::get_functions::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(functions.functions, schema.functions);
    let meta = p
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    let mut listed: Vec<String> = meta.functions.into_iter().map(|f| f.name).collect();
    listed.sort();
    assert_eq!(listed, [FROM_MANIFEST, TO_MANIFEST]);
    server.stop().await;
}

/// A call decodes each argument by its parameter type and returns the
/// result encoded by the return type: the reader's object of the
/// resource's types, the writer's a dynamic value with its type.
#[tokio::test]
async fn a_call_returns_the_encoded_result() {
    let server = InProcess::start_planton().await;
    let mut p = server.provider();
    let schema = p
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let job_type = job_type_from(&schema);

    let resp = p
        .call_function(pb::call_function::Request {
            name: FROM_MANIFEST.into(),
            arguments: vec![dynamic_argument(&hello_world())],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.error.is_none(), "{:?}", resp.error);
    let job = msgpack::decode(&resp.result.unwrap().msgpack, &job_type).unwrap();
    assert_eq!(
        job.get("spec").get("image").get("repo"),
        &Value::string("busybox")
    );
    assert_eq!(job.get("spec").get("backoff_limit"), &Value::int(2));
    assert_eq!(job.get("spec").get("parallelism"), &Value::Null);

    // The reader's result, sent back as Terraform sends `local.job.metadata`
    // and `local.job.spec` to dynamic parameters.
    let Type::Object(fields) = &job_type else {
        panic!("{job_type:?}")
    };
    let part = |name: &str| pb::DynamicValue {
        msgpack: msgpack::encode(
            &Value::Dynamic(fields[name].clone(), Box::new(job.get(name).clone())),
            &Type::Dynamic,
        )
        .unwrap(),
        json: vec![],
    };
    let resp = p
        .call_function(pb::call_function::Request {
            name: TO_MANIFEST.into(),
            arguments: vec![part("metadata"), part("spec")],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.error.is_none(), "{:?}", resp.error);
    let manifest = msgpack::decode(&resp.result.unwrap().msgpack, &Type::Dynamic).unwrap();
    assert!(
        matches!(manifest, Value::Dynamic(Type::Object(_), _)),
        "{manifest:?}"
    );
    let mut expected = hello_world();
    expected["spec"]["backoffLimit"] = serde_json::json!(2);
    assert_eq!(
        msgpack::decode(&dynamic_argument(&expected).msgpack, &Type::Dynamic).unwrap(),
        manifest
    );

    // An unknown manifest: the result is unknown, not an error.
    let resp = p
        .call_function(pb::call_function::Request {
            name: FROM_MANIFEST.into(),
            arguments: vec![pb::DynamicValue {
                msgpack: vec![0xd4, 0, 0],
                json: vec![],
            }],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.error.is_none(), "{:?}", resp.error);
    assert!(
        msgpack::decode(&resp.result.unwrap().msgpack, &job_type)
            .unwrap()
            .is_unknown()
    );
    server.stop().await;
}

/// A bad argument is a FunctionError that names it; so is a null one.
/// Problems with the call itself (an unknown function, a wrong number of
/// arguments) name no argument.
#[tokio::test]
async fn a_bad_argument_is_a_function_error_naming_it() {
    let server = InProcess::start_planton().await;
    let mut p = server.provider();
    let mut call = async |name: &str, arguments: Vec<pb::DynamicValue>| {
        let resp = p
            .call_function(pb::call_function::Request {
                name: name.into(),
                arguments,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(resp.result.is_none(), "{name}: {:?}", resp.result);
        resp.error.unwrap()
    };

    let mut wrong_kind = hello_world();
    wrong_kind["kind"] = serde_json::json!("KubernetesCronJob");
    let e = call(FROM_MANIFEST, vec![dynamic_argument(&wrong_kind)]).await;
    assert_eq!(e.function_argument, Some(0));
    assert!(
        e.text.starts_with("kind: expected \"KubernetesJob\""),
        "{}",
        e.text
    );

    let mut misspelt = hello_world();
    misspelt["spec"]["image"]["tga"] = serde_json::json!("x");
    let e = call(FROM_MANIFEST, vec![dynamic_argument(&misspelt)]).await;
    assert_eq!(e.function_argument, Some(0));
    assert!(
        e.text.starts_with("spec.image.tga: unknown field"),
        "{}",
        e.text
    );

    let e = call(
        TO_MANIFEST,
        vec![
            dynamic_argument(&serde_json::json!({"name": "x"})),
            dynamic_argument(&serde_json::json!({"namespace": {"valeu": "x"}})),
        ],
    )
    .await;
    assert_eq!(e.function_argument, Some(1));
    assert!(
        e.text
            .starts_with("spec.namespace.valeu: unknown attribute"),
        "{}",
        e.text
    );

    let null = pb::DynamicValue {
        msgpack: vec![0xc0],
        json: vec![],
    };
    let e = call(FROM_MANIFEST, vec![null]).await;
    assert_eq!(e.function_argument, Some(0));
    assert!(
        e.text.contains("\"manifest\" must not be null"),
        "{}",
        e.text
    );

    let e = call(FROM_MANIFEST, vec![]).await;
    assert_eq!(e.function_argument, None);
    assert!(e.text.contains("takes 1 argument(s)"), "{}", e.text);

    let e = call("nope", vec![]).await;
    assert_eq!(e.function_argument, None);
    assert!(
        e.text.contains(FROM_MANIFEST) && e.text.contains(TO_MANIFEST),
        "{}",
        e.text
    );
    server.stop().await;
}
