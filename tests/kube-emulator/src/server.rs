//! HTTP serving: connections (plain or TLS), authentication, body limits, the
//! admin path, fault injection, authorization, and the one boundary where
//! errors become responses.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited, combinators::BoxBody};
use hyper::body::{Body, Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::admin::{Admin, ConnectionMark};
use crate::controllers::logs::Logs;
use crate::status::ApiError;
use crate::store::Store;
use crate::{EmulatorConfig, Shutdown, api, authz, controllers};

/// Completes once the emulator is stopping.
pub async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// Shared state of one emulator.
pub struct State {
    /// All objects.
    pub store: Mutex<Store>,
    /// Configuration.
    pub config: EmulatorConfig,
    /// Faults and counters.
    pub admin: Admin,
    /// Container logs the kubelet stand-in wrote.
    pub logs: Mutex<Logs>,
    /// Flips to true on shutdown.
    pub stopping: watch::Receiver<bool>,
    /// The address clients use (`https://127.0.0.1:PORT`).
    pub url: String,
}

impl State {
    /// Lock the store (a poisoned lock is recovered: the store has no invariants a
    /// panic in a reader could break).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lock the logs.
    pub fn logs(&self) -> MutexGuard<'_, Logs> {
        self.logs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A response body: whole, or streamed (watch).
pub type ResBody = BoxBody<Bytes, Infallible>;

/// A body fed from a channel.
pub struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(b)) => Poll::Ready(Some(Ok(Frame::data(b)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// What a handler answers.
pub enum Reply {
    /// A JSON body.
    Json {
        /// HTTP status.
        code: u16,
        /// Body.
        body: Value,
        /// `Warning` header texts.
        warnings: Vec<String>,
    },
    /// Plain text (logs, health).
    Text {
        /// HTTP status.
        code: u16,
        /// Body.
        body: String,
    },
    /// A streamed JSON body (watch).
    Stream(mpsc::Receiver<Bytes>),
}

impl Reply {
    /// 200 with a JSON body.
    pub fn ok(body: Value) -> Self {
        Self::Json {
            code: 200,
            body,
            warnings: Vec::new(),
        }
    }
}

fn full(bytes: impl Into<Bytes>) -> ResBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn json_response(
    code: u16,
    body: &Value,
    warnings: &[String],
    extra: Option<(&str, String)>,
) -> Response<ResBody> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = Response::new(full(bytes));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        "audit-id",
        HeaderValue::from_str(&crate::meta::new_uid()).unwrap_or(HeaderValue::from_static("0")),
    );
    for w in warnings {
        let v = format!("299 - {}", crate::status::go_quote(w));
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.append(http::header::WARNING, v);
        }
    }
    if let Some((k, v)) = extra
        && let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        )
    {
        h.insert(k, v);
    }
    r
}

/// Turn an error into its `Status` response.
pub fn error_response(e: &ApiError) -> Response<ResBody> {
    let retry = e.retry_after.map(|s| ("retry-after", s.to_string()));
    json_response(e.code, &e.to_body(), &[], retry)
}

fn reply_response(reply: Reply) -> Response<ResBody> {
    match reply {
        Reply::Json {
            code,
            body,
            warnings,
        } => json_response(code, &body, &warnings, None),
        Reply::Text { code, body } => {
            let mut r = Response::new(full(body));
            *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain"),
            );
            r
        }
        Reply::Stream(rx) => {
            let mut r = Response::new(ChannelBody { rx }.boxed());
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r.headers_mut().insert(
                http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache, private"),
            );
            r
        }
    }
}

/// A parsed request.
pub struct ApiRequest {
    /// Method.
    pub method: Method,
    /// Path without the query string.
    pub path: String,
    /// Decoded query parameters.
    pub query: HashMap<String, String>,
    /// Headers.
    pub headers: HeaderMap,
    /// Whole body.
    pub body: Bytes,
}

impl ApiRequest {
    /// A query parameter.
    pub fn param(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    /// A header as text.
    pub fn header(&self, k: &str) -> &str {
        self.headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(a), Some(b)) => {
                    out.push(a * 16 + b);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse a query string.
pub fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

/// Why a connection should be dropped instead of answered.
#[derive(Debug)]
pub struct ConnectionReset;

impl std::fmt::Display for ConnectionReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault injection")
    }
}

impl std::error::Error for ConnectionReset {}

/// The user a request authenticates as, or `None` when it must be refused
/// with 401: the client certificate's user first, then the bearer token.
fn authenticate(
    config: &EmulatorConfig,
    cert_user: Option<&str>,
    headers: &HeaderMap,
) -> Option<String> {
    if let Some(user) = cert_user {
        return Some(user.to_string());
    }
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(given) = bearer {
        if config.token.as_deref() == Some(given) {
            return Some(authz::ADMIN_USER.to_string());
        }
        if let Some(user) = config.token_users.get(given) {
            return Some(user.clone());
        }
    }
    if config.requires_auth() {
        None
    } else {
        Some(authz::ANONYMOUS_USER.to_string())
    }
}

async fn handle(
    state: Arc<State>,
    connection: Arc<ConnectionMark>,
    cert_user: Option<Arc<str>>,
    req: Request<Incoming>,
) -> Result<Response<ResBody>, ConnectionReset> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parse_query(parts.uri.query().unwrap_or(""));
    let method = parts.method.clone();
    let max = state.config.max_body_bytes;
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Ok(error_response(&ApiError::too_large(max)));
    }
    let body = match Limited::new(body, max).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return Ok(error_response(&ApiError::too_large(max)));
            }
            return Ok(error_response(&ApiError::bad_request(format!(
                "error reading request body: {e}"
            ))));
        }
    };
    if let Some(rest) = path.strip_prefix("/__emulator/") {
        if method == Method::POST && rest.trim_end_matches('/') == "requests/wait" {
            let (code, v) = state.admin.wait_for_requests(&body).await;
            return Ok(json_response(code, &v, &[], None));
        }
        return Ok(admin_request(&state, method.as_str(), rest, &body));
    }
    state.admin.count(method.as_str(), &path);
    state.admin.count_api_connection(&connection);
    if matches!(query.get("watch").map(String::as_str), Some("true" | "1")) {
        state.admin.count_watch(&path);
    }
    // A silenced server keeps the request waiting, answering nothing.
    state
        .admin
        .wait_while_silenced(method.as_str(), &path)
        .await;
    let Some(user) = authenticate(&state.config, cert_user.as_deref(), &parts.headers) else {
        return Ok(error_response(&ApiError::unauthorized()));
    };
    let fault = state.admin.faults_for(method.as_str(), &path);
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    if fault.reset {
        return Err(ConnectionReset);
    }
    if let Some((code, retry)) = fault.status {
        let mut e = match code {
            429 => ApiError::too_many_requests(retry.unwrap_or(1)),
            503 => ApiError::service_unavailable(
                "the server is currently unable to handle the request",
            ),
            500 => ApiError::internal("injected fault"),
            c => {
                let mut e = ApiError::internal("injected fault");
                e.code = c;
                e
            }
        };
        if retry.is_some() {
            e.retry_after = retry;
        }
        return Ok(error_response(&e));
    }
    // After the (injected) priority and fairness answers, as in kube-apiserver's
    // filter chain, and before anything is looked up.
    let attributes = authz::RequestAttributes::parse(method.as_str(), &path, &query);
    if let Err(e) = state.config.authorization.authorize(&user, &attributes) {
        return Ok(error_response(&e));
    }
    let (method_name, stream_path) = (method.to_string(), path.clone());
    let request = ApiRequest {
        method,
        path,
        query,
        headers: parts.headers,
        body,
    };
    Ok(match api::handle(&state, request).await {
        Ok(Reply::Stream(rx)) => reply_response(Reply::Stream(silenceable(
            state.clone(),
            method_name,
            stream_path,
            rx,
        ))),
        Ok(reply) => reply_response(reply),
        Err(e) => error_response(&e),
    })
}

/// A stream that a `silence` fault can pause: while one covers the request,
/// nothing more is sent, and the end of the stream is held back too, so the
/// client sees an open connection that says nothing.
fn silenceable(
    state: Arc<State>,
    method: String,
    path: String,
    mut rx: mpsc::Receiver<Bytes>,
) -> mpsc::Receiver<Bytes> {
    let (tx, out) = mpsc::channel::<Bytes>(1);
    tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                next = rx.recv() => next,
                () = tx.closed() => return,
            };
            tokio::select! {
                () = state.admin.wait_while_silenced(&method, &path) => {}
                () = tx.closed() => return,
            }
            match next {
                Some(chunk) => {
                    if tx.send(chunk).await.is_err() {
                        return;
                    }
                }
                None => return,
            }
        }
    });
    out
}

fn admin_request(state: &Arc<State>, method: &str, rest: &str, body: &[u8]) -> Response<ResBody> {
    let rest = rest.trim_end_matches('/');
    match (method, rest) {
        ("POST", "reset") => {
            {
                let mut store = state.store();
                store.clear();
                controllers::seed(&mut store);
            }
            state.logs().clear();
            state.admin.clear();
            json_response(200, &serde_json::json!({}), &[], None)
        }
        ("GET", "failed-writes") => {
            json_response(200, &state.store().failed_writes().to_json(), &[], None)
        }
        ("POST", "compact") => {
            let rv = {
                let mut store = state.store();
                store.compact();
                store.current_rv()
            };
            json_response(
                200,
                &serde_json::json!({"resourceVersion": rv.to_string()}),
                &[],
                None,
            )
        }
        _ => {
            let (code, v) = state.admin.handle(method, rest, body);
            json_response(code, &v, &[], None)
        }
    }
}

/// Serve the emulator on `listener` until `shutdown` completes.
///
/// Only loopback listeners are accepted: the emulator is for tests on one
/// machine, and its authorization is a test double, not a protection.
pub async fn serve(
    listener: TcpListener,
    config: EmulatorConfig,
    shutdown: impl Shutdown,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("kube-emulator listens on loopback addresses only, not {addr}"),
        ));
    }
    let tls = match &config.tls {
        Some(bundle) => Some(tokio_rustls::TlsAcceptor::from(
            bundle
                .server_config(config.client_cert_auth)
                .map_err(|e| std::io::Error::other(e.to_string()))?,
        )),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut store = Store::new(config.watch_history);
    controllers::seed(&mut store);
    let state = Arc::new(State {
        store: Mutex::new(store),
        config,
        admin: Admin::default(),
        logs: Mutex::new(Logs::default()),
        stopping: stop_rx,
        url: format!("{scheme}://{addr}"),
    });
    let controller_tasks = controllers::spawn(state.clone());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let connection = Arc::new(state.admin.connection_accepted());
        let state = state.clone();
        let tls = tls.clone();
        let stopping = state.stopping.clone();
        tokio::spawn(async move {
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            match tls {
                Some(acceptor) => {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    // rustls verified the chain; its leaf names the user.
                    let cert_user: Option<Arc<str>> = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .and_then(|leaf| crate::tls::certificate_user(leaf))
                        .map(Arc::from);
                    let svc = hyper::service::service_fn(move |req| {
                        handle(state.clone(), connection.clone(), cert_user.clone(), req)
                    });
                    let conn = builder.serve_connection(TokioIo::new(stream), svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = crate::server::stopped(stopping.clone()) => {}
                    }
                }
                None => {
                    let svc = hyper::service::service_fn(move |req| {
                        handle(state.clone(), connection.clone(), None, req)
                    });
                    let conn = builder.serve_connection(TokioIo::new(stream), svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = crate::server::stopped(stopping.clone()) => {}
                    }
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    for t in controller_tasks {
        t.abort();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        let q = parse_query("labelSelector=app%3Dx%2Cb+in+%28c%29&watch=1&x");
        assert_eq!(
            q.get("labelSelector").map(String::as_str),
            Some("app=x,b in (c)")
        );
        assert_eq!(q.get("x").map(String::as_str), Some(""));
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    /// One HTTP/1.1 connection to `addr`.
    async fn connect(
        addr: std::net::SocketAddr,
    ) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(conn);
        sender
    }

    /// Sends one request on `conn` and reads the JSON answer.
    async fn send(
        conn: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
        method: &str,
        path: &str,
    ) -> Value {
        conn.ready().await.expect("connection ready");
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, "127.0.0.1")
            .body(Full::new(Bytes::new()))
            .expect("request");
        let resp = conn.send_request(req).await.expect("answer");
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        serde_json::from_slice(&body).expect("JSON")
    }

    /// The connection counters see each connection of the Kubernetes API
    /// once, however many requests it carries, and never the admin
    /// requests' connections; a reset zeroes them.
    #[tokio::test]
    async fn connections_are_counted_per_connection() {
        let emu = crate::testing::start(EmulatorConfig::default())
            .await
            .expect("emulator");
        let mut admin = connect(emu.addr).await;
        let mut api = connect(emu.addr).await;
        for _ in 0..3 {
            send(&mut api, "GET", "/api/v1/namespaces").await;
        }
        let counts = send(&mut admin, "GET", "/__emulator/connections").await;
        assert_eq!(counts, serde_json::json!({"accepted": 2, "api": 1}));
        let mut other = connect(emu.addr).await;
        send(&mut other, "GET", "/version").await;
        let counts = send(&mut admin, "GET", "/__emulator/connections").await;
        assert_eq!(counts, serde_json::json!({"accepted": 3, "api": 2}));
        send(&mut admin, "DELETE", "/__emulator/connections").await;
        send(&mut api, "GET", "/api/v1/namespaces").await;
        let counts = send(&mut admin, "GET", "/__emulator/connections").await;
        assert_eq!(counts, serde_json::json!({"accepted": 0, "api": 1}));
    }
}
