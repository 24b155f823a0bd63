//! Which cluster a client talks to, and errors that say so.
//!
//! [`ContextLayer`] sits outermost in a client's HTTP stack (outside the
//! retry layer, so it sees what is left after retrying). It turns a request
//! that got no answer into a [`ConnectionFailure`] naming the cluster, its
//! address and the cause (unreachable, TLS, credentials), and adds the
//! cluster and the identity the provider used to the message of a 401 or 403
//! `Status`, so the API error still reads as the server's answer.
//!
//! A request that [`super::budget`] ended (the operation's deadline, a
//! cancellation, the per-request timeout) becomes a failure that names the
//! request as well as the cluster, whether it ended before the answer or
//! while its body was still coming.
//!
//! Nothing here prints a secret: identities are descriptions ("the bearer
//! token from `token`"), and an exec plugin's failure is reported by its
//! command, exit status and standard error, never its arguments, standard
//! output or environment.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use kube::client::{AuthError, Body};
use tower::{BoxError, Layer, Service};

use super::budget::{Bound, RequestBounded, find_bounded};
use super::chain::chain;
use crate::tf::{Diagnostics, Severity};

/// The cluster a client talks to, in words for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterIdentity {
    /// `cluster "prod"` or `the provider-level cluster`.
    pub cluster: String,
    /// The API server's address.
    pub endpoint: String,
    /// Who the provider authenticates as ("the bearer token from `token`").
    pub identity: String,
}

/// Why a request got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// No connection: refused, timed out, unresolvable name.
    Unreachable,
    /// The TLS handshake failed (certificate not trusted, wrong name, the
    /// server refused our certificate).
    Tls,
    /// Credentials could not be obtained (exec plugin, token file).
    Credentials,
    /// The request got no answer in time: the operation's deadline, or the
    /// per-request timeout.
    TimedOut,
    /// Terraform asked the provider to stop while the request was waiting.
    Cancelled,
    /// Anything else on the way.
    Other,
}

impl Cause {
    /// Every cause.
    const ALL: [Cause; 6] = [
        Cause::Unreachable,
        Cause::Tls,
        Cause::Credentials,
        Cause::TimedOut,
        Cause::Cancelled,
        Cause::Other,
    ];

    /// The diagnostic title of a failure with this cause.
    pub fn summary(self) -> &'static str {
        match self {
            Cause::Unreachable => "Kubernetes Cluster Unreachable",
            Cause::Tls => "Kubernetes TLS Handshake Failed",
            Cause::Credentials => "Kubernetes Credentials Unavailable",
            Cause::TimedOut => "Kubernetes Request Timed Out",
            Cause::Cancelled => "Kubernetes Request Cancelled",
            Cause::Other => "Kubernetes Request Failed",
        }
    }
}

/// The title of a 401: the cluster did not accept the credentials (see
/// `errors.rs`).
pub const AUTHENTICATION_FAILED: &str = "Kubernetes Authentication Failed";

/// A request to a cluster that got no answer, and why.
#[derive(Debug, Clone)]
pub struct ConnectionFailure {
    /// The cluster.
    pub target: Arc<ClusterIdentity>,
    /// The kind of failure.
    pub cause: Cause,
    /// What happened, in words (no secrets).
    pub message: String,
    /// For a request ended by a bound: the request (`PATCH /apis/...`)
    /// and the bound.
    pub bounded: Option<RequestBounded>,
}

impl fmt::Display for ConnectionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}: {}",
            self.target.cluster, self.target.endpoint, self.message
        )
    }
}

impl StdError for ConnectionFailure {}

impl ConnectionFailure {
    /// Classifies an error from the HTTP stack.
    pub fn classify(target: Arc<ClusterIdentity>, err: &(dyn StdError + 'static)) -> Self {
        if let Some(b) = find_bounded(err) {
            let cause = match b.bound {
                Bound::Cancelled => Cause::Cancelled,
                _ => Cause::TimedOut,
            };
            return ConnectionFailure {
                target,
                cause,
                message: b.to_string(),
                bounded: Some(b.clone()),
            };
        }
        let (cause, message) = classify(err);
        ConnectionFailure {
            target,
            cause,
            message,
            bounded: None,
        }
    }

    /// The bound that ended the request, if one did.
    pub fn bound(&self) -> Option<&Bound> {
        self.bounded.as_ref().map(|b| &b.bound)
    }

    /// A diagnostic title.
    pub fn summary(&self) -> &'static str {
        self.cause.summary()
    }

    /// The whole explanation: the cluster, the address, the cause and what
    /// to do.
    pub fn explanation(&self) -> String {
        let t = &self.target;
        if let Some(b) = &self.bounded {
            let advice = match &b.bound {
                Bound::Cancelled => {
                    "Nothing more was sent; what was done before is recorded. Run the command again to \
                     finish."
                }
                Bound::Deadline(_) => {
                    "The API server is not answering, or answers too slowly. Check the health of the \
                     cluster's control plane (`kubectl get --raw /readyz`), then run the command again; \
                     raise the resource's `timeouts` only if the server is merely slow."
                }
                Bound::RequestTimeout(_) | Bound::Idle(_) => {
                    "The API server is not answering, or answers too slowly. Check the health of the \
                     cluster's control plane (`kubectl get --raw /readyz`), then run the command again."
                }
            };
            return format!(
                "The request {} to {} at {} {}. {advice}",
                b.request, t.cluster, t.endpoint, b.bound
            );
        }
        let advice = match self.cause {
            Cause::Unreachable => {
                "Check that the cluster is running and that the address is right (`host`, or the server of \
                 the kubeconfig cluster the provider uses)."
            }
            Cause::Tls => {
                "Check the CA certificate the provider verifies the server with (`cluster_ca_certificate`, \
                 or the kubeconfig's certificate-authority), and `tls_server_name` when the certificate names \
                 another host."
            }
            Cause::Credentials => "Check the credentials the provider uses for this cluster.",
            Cause::TimedOut | Cause::Cancelled | Cause::Other => "",
        };
        format!(
            "The provider could not reach {} at {} (authenticating with {}): {}. {advice}",
            t.cluster, t.endpoint, t.identity, self.message
        )
        .trim_end()
        .to_string()
    }
}

/// Whether a title is about the cluster rather than one object: the
/// [`ConnectionFailure`] summaries and a 401.
fn is_cluster_wide(summary: &str) -> bool {
    summary == AUTHENTICATION_FAILED || Cause::ALL.iter().any(|c| c.summary() == summary)
}

/// Keeps one error per cluster-wide title: an operation that sends several
/// requests at once gets the same refusal for each, and one message says
/// it. Errors about objects, and warnings, are kept as they are.
pub fn collapse_cluster_errors(d: Diagnostics) -> Diagnostics {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Diagnostics::new();
    for diag in d.0 {
        if diag.severity == Severity::Error && is_cluster_wide(&diag.summary) {
            if seen.contains(&diag.summary) {
                continue;
            }
            seen.push(diag.summary.clone());
        }
        out.0.push(diag);
    }
    out
}

/// What ended a request early, if a bound did: the operation's deadline,
/// a cancellation, or the per-request timeout.
pub fn bound_of(err: &kube::Error) -> Option<Bound> {
    if let Some(f) = find_failure(err) {
        return f.bound().cloned();
    }
    find_bounded(err).map(|b| b.bound.clone())
}

/// The [`ConnectionFailure`] in an error's chain, if any.
pub fn find_failure<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a ConnectionFailure> {
    chain(err).find_map(|e| e.downcast_ref::<ConnectionFailure>())
}

fn classify(err: &(dyn StdError + 'static)) -> (Cause, String) {
    for e in chain(err) {
        if let Some(exec) = e.downcast_ref::<super::exec::ExecFailure>() {
            return (Cause::Credentials, exec.to_string());
        }
        if let Some(auth) = e.downcast_ref::<AuthError>() {
            return (Cause::Credentials, describe_auth_error(auth));
        }
        if let Some(kube::Error::Auth(auth)) = e.downcast_ref::<kube::Error>() {
            return (Cause::Credentials, describe_auth_error(auth));
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return (Cause::Tls, describe_tls(tls));
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            let what = match io.kind() {
                K::ConnectionRefused => Some("the connection was refused"),
                K::TimedOut => Some("the connection timed out"),
                K::HostUnreachable => Some("the host is unreachable"),
                K::NetworkUnreachable => Some("the network is unreachable"),
                K::AddrNotAvailable => Some("the address is not available"),
                _ => None,
            };
            if let Some(what) = what {
                return (Cause::Unreachable, what.to_string());
            }
        }
    }
    let text = full_text(err);
    let lower = text.to_lowercase();
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        return (
            Cause::Unreachable,
            format!("the host name does not resolve ({text})"),
        );
    }
    if lower.contains("invalid peer certificate") || lower.contains("received fatal alert") {
        return (Cause::Tls, text);
    }
    if lower.contains("connect") {
        return (Cause::Unreachable, text);
    }
    (Cause::Other, text)
}

/// The error and its sources as one line (callers have already made sure
/// no exec plugin output is in it).
fn full_text(err: &(dyn StdError + 'static)) -> String {
    let mut text = String::new();
    for e in chain(err) {
        let s = e.to_string();
        if !text.contains(&s) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&s);
        }
    }
    text
}

fn describe_tls(err: &rustls::Error) -> String {
    use rustls::{AlertDescription, CertificateError, Error as E};
    match err {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is not signed by a CA the provider trusts (unknown issuer)"
                .into()
        }
        // A CA with the issuer's name but another key: the usual result of a
        // CA from another cluster, or from before the cluster was rebuilt.
        E::InvalidCertificate(CertificateError::BadSignature) => {
            "the server's certificate is not signed by a CA the provider trusts (a CA of that name is \
             configured, but its key did not sign the certificate)"
                .into()
        }
        E::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "the server's certificate is not valid for the host name in the address".into(),
        E::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "the server's certificate has expired".into(),
        E::InvalidCertificate(other) => {
            format!("the server's certificate is not valid ({other:?})")
        }
        E::AlertReceived(
            alert @ (AlertDescription::BadCertificate
            | AlertDescription::CertificateRequired
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown),
        ) => format!("the server refused the provider's client certificate (TLS alert {alert:?})"),
        E::InvalidMessage(_) => {
            "the server did not answer with TLS (is the address `http://` rather than `https://`?)"
                .into()
        }
        other => format!("TLS error: {other}"),
    }
}

/// An authentication error in words, without the plugin's standard output
/// (which may hold a token) or its environment.
pub fn describe_auth_error(err: &AuthError) -> String {
    match err {
        AuthError::AuthExecRun { out, .. } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stderr = tail(stderr.trim(), 40, 4000);
            if stderr.is_empty() {
                format!(
                    "the exec credential plugin failed ({}) and wrote nothing to standard error",
                    out.status
                )
            } else {
                format!(
                    "the exec credential plugin failed ({}); its standard error:\n{stderr}",
                    out.status
                )
            }
        }
        AuthError::AuthExecStart(io) => {
            format!("the exec credential plugin could not be started: {io}")
        }
        AuthError::AuthExecParse(_) => "the exec credential plugin printed something that is not an \
             ExecCredential (run it yourself to see its output)"
            .into(),
        AuthError::ExecPluginFailed => {
            "the exec credential plugin printed an ExecCredential without a status (no token or certificate)"
                .into()
        }
        AuthError::MissingCommand => "the exec credential plugin has no command".into(),
        AuthError::ReadTokenFile(io, path) => {
            format!("the token file {} cannot be read: {io}", path.display())
        }
        other => format!("the credentials could not be obtained: {other}"),
    }
}

/// The last `max_lines` lines of `text`, at most `max_chars` characters.
fn tail(text: &str, max_lines: usize, max_chars: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(max_lines);
    let joined = lines[start..].join("\n");
    if joined.chars().count() <= max_chars {
        return joined;
    }
    let skip = joined.chars().count() - max_chars;
    format!("...{}", joined.chars().skip(skip).collect::<String>())
}

/// Adds the cluster and the identity to the message of a 401 or 403
/// `Status`; anything else is returned unchanged.
pub fn annotate_status(
    body: &[u8],
    status: StatusCode,
    target: &ClusterIdentity,
) -> Option<Vec<u8>> {
    let mut json: serde_json::Value = serde_json::from_slice(body).ok()?;
    if json.get("kind")?.as_str()? != "Status" {
        return None;
    }
    let message = json
        .get("message")
        .and_then(|m| m.as_str())
        .filter(|m| !m.is_empty())
        .unwrap_or(status.canonical_reason().unwrap_or("refused"))
        .to_string();
    let context = if status == StatusCode::UNAUTHORIZED {
        format!(
            "{} at {} did not accept {}",
            target.cluster, target.endpoint, target.identity
        )
    } else {
        format!(
            "{} at {}, authenticated with {}",
            target.cluster, target.endpoint, target.identity
        )
    };
    let obj = json.as_object_mut()?;
    obj.insert(
        "message".into(),
        serde_json::Value::String(format!("{message} ({context})")),
    );
    serde_json::to_vec(&json).ok()
}

/// Adds cluster context to a client's errors; see the module doc.
#[derive(Debug, Clone)]
pub struct ContextLayer {
    target: Arc<ClusterIdentity>,
}

impl ContextLayer {
    /// The layer for a client of `target`.
    pub fn new(target: Arc<ClusterIdentity>) -> Self {
        ContextLayer { target }
    }
}

impl<S> Layer<S> for ContextLayer {
    type Service = ContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ContextService {
            inner,
            target: self.target.clone(),
        }
    }
}

/// The service [`ContextLayer`] produces.
#[derive(Debug, Clone)]
pub struct ContextService<S> {
    inner: S,
    target: Arc<ClusterIdentity>,
}

/// The response body after [`ContextService`].
pub type ContextBody = UnsyncBoxBody<Bytes, BoxError>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<Body>> for ContextService<S>
where
    S: Service<Request<Body>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ContextBody>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Response<ContextBody>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let target = self.target.clone();
        self.inner
            .poll_ready(cx)
            .map_err(|e| wrap_error(target, e.into()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let target = self.target.clone();
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response
                .await
                .map_err(|e| wrap_error(target.clone(), e.into()))?;
            let status = response.status();
            let (mut parts, body) = response.into_parts();
            if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
                // A body ended by a bound names the cluster too; other body
                // errors stay as they are (kube tells a watch's normal end
                // by them).
                let body_target = target.clone();
                return Ok(Response::from_parts(
                    parts,
                    body.map_err(move |e| {
                        let e: BoxError = e.into();
                        if find_bounded(e.as_ref()).is_some() {
                            wrap_error(body_target.clone(), e)
                        } else {
                            e
                        }
                    })
                    .boxed_unsync(),
                ));
            }
            let bytes = body
                .collect()
                .await
                .map_err(|e| wrap_error(target.clone(), e.into()))?
                .to_bytes();
            let bytes = match annotate_status(&bytes, status, &target) {
                Some(annotated) => {
                    parts.headers.remove(http::header::CONTENT_LENGTH);
                    Bytes::from(annotated)
                }
                None => bytes,
            };
            Ok(Response::from_parts(
                parts,
                Full::new(bytes)
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            ))
        })
    }
}

fn wrap_error(target: Arc<ClusterIdentity>, err: BoxError) -> BoxError {
    // Errors kube itself raised while decorating the request (credentials)
    // are classified too; an already wrapped error stays as it is.
    if err.downcast_ref::<ConnectionFailure>().is_some() {
        return err;
    }
    Box::new(ConnectionFailure::classify(target, err.as_ref()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn target() -> Arc<ClusterIdentity> {
        Arc::new(ClusterIdentity {
            cluster: "cluster \"prod\"".into(),
            endpoint: "https://10.0.0.1:6443".into(),
            identity: "the bearer token from `token`".into(),
        })
    }

    /// Refused connections, TLS failures and plugin failures each get their
    /// cause, and the message names the cluster and its address.
    #[test]
    fn classifies_causes() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let f = ConnectionFailure::classify(target(), &refused);
        assert_eq!(f.cause, Cause::Unreachable);
        assert_eq!(
            f.to_string(),
            "cluster \"prod\" at https://10.0.0.1:6443: the connection was refused"
        );
        assert!(f.explanation().contains("the bearer token from `token`"));

        let tls = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let f = ConnectionFailure::classify(target(), &tls);
        assert_eq!(f.cause, Cause::Tls);
        assert!(f.message.contains("unknown issuer"), "{}", f.message);
        assert_eq!(f.summary(), "Kubernetes TLS Handshake Failed");

        let exec = AuthError::AuthExecStart(std::io::Error::from(std::io::ErrorKind::NotFound));
        let f = ConnectionFailure::classify(target(), &kube::Error::Auth(exec));
        assert_eq!(f.cause, Cause::Credentials);
        assert!(f.message.contains("could not be started"));
    }

    /// A request a bound ended is a timeout or a cancellation that names
    /// the request and the cluster, wherever it sits in the error chain.
    #[test]
    fn bounded_requests_name_the_request_and_the_cluster() {
        let timed_out = RequestBounded {
            request: "PATCH /apis/batch/v1/namespaces/a/jobs/b".into(),
            bound: Bound::Deadline(Arc::from("`timeouts.create` (20s)")),
        };
        let wrapped = std::io::Error::other(timed_out);
        let f = ConnectionFailure::classify(target(), &wrapped);
        assert_eq!(f.cause, Cause::TimedOut);
        assert_eq!(f.summary(), "Kubernetes Request Timed Out");
        assert!(
            f.explanation().starts_with(
                "The request PATCH /apis/batch/v1/namespaces/a/jobs/b to cluster \"prod\" at \
                 https://10.0.0.1:6443 got no answer within `timeouts.create` (20s)."
            ),
            "{}",
            f.explanation()
        );

        let cancelled = RequestBounded {
            request: "GET /api/v1/namespaces/a".into(),
            bound: Bound::Cancelled,
        };
        let f = ConnectionFailure::classify(target(), &cancelled);
        assert_eq!(f.cause, Cause::Cancelled);
        assert_eq!(f.summary(), "Kubernetes Request Cancelled");
        assert!(
            f.explanation()
                .contains("was cancelled because Terraform asked the provider to stop"),
            "{}",
            f.explanation()
        );
    }

    /// A failed plugin is described by its status and stderr, never by its
    /// stdout.
    #[test]
    fn exec_failure_shows_stderr_only() {
        use std::os::unix::process::ExitStatusExt;
        let out = std::process::Output {
            status: std::process::ExitStatus::from_raw(3 << 8),
            stdout: b"{\"status\":{\"token\":\"s3cr3t\"}}".to_vec(),
            stderr: b"error: no SSO session\n".to_vec(),
        };
        let text = describe_auth_error(&AuthError::AuthExecRun {
            cmd: "KEY=\"hidden\" \"plugin\"".into(),
            out: Box::new(out),
        });
        assert!(text.contains("no SSO session"), "{text}");
        assert!(text.contains("exit status: 3"), "{text}");
        assert!(
            !text.contains("s3cr3t") && !text.contains("hidden"),
            "{text}"
        );
    }

    /// 401 and 403 Status messages gain the cluster and the identity; other
    /// bodies are left alone.
    #[test]
    fn annotates_status() {
        let body = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#;
        let out = annotate_status(body, StatusCode::UNAUTHORIZED, &target()).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            json["message"],
            "Unauthorized (cluster \"prod\" at https://10.0.0.1:6443 did not accept the bearer token from `token`)"
        );
        assert_eq!(json["code"], 401);
        assert!(annotate_status(b"not json", StatusCode::FORBIDDEN, &target()).is_none());

        // A 403 keeps the server's words (which name the user and the verb)
        // and adds the cluster and the credentials.
        let body = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"jobs.batch is forbidden: User \"ci\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"reports\"","reason":"Forbidden","code":403}"#;
        let out = annotate_status(body, StatusCode::FORBIDDEN, &target()).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let message = json["message"].as_str().unwrap();
        assert!(
            message.starts_with("jobs.batch is forbidden: User \"ci\" cannot create"),
            "{message}"
        );
        assert!(
            message.ends_with(
                "(cluster \"prod\" at https://10.0.0.1:6443, authenticated with the bearer token from `token`)"
            ),
            "{message}"
        );
        assert_eq!(json["reason"], "Forbidden");
    }

    /// The same cluster-wide error from several requests is said once;
    /// object errors and warnings stay.
    #[test]
    fn collapses_repeated_cluster_errors() {
        let mut d = Diagnostics::new();
        d.error(
            "Kubernetes TLS Handshake Failed",
            "While reading Namespace a: ...",
        );
        d.error(
            "Kubernetes TLS Handshake Failed",
            "While reading Job a/b: ...",
        );
        d.error("Permission Denied By Kubernetes", "Job a/b");
        d.error("Permission Denied By Kubernetes", "Secret a/c");
        d.warning("Kubernetes TLS Handshake Failed", "a warning");
        let d = collapse_cluster_errors(d);
        let summaries: Vec<&str> = d.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(summaries.len(), 4);
        assert!(d.0[0].detail.contains("Namespace a"));
    }

    /// The tail keeps the last lines of a long stderr.
    #[test]
    fn tail_keeps_the_end() {
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let t = tail(&text, 3, 1000);
        assert_eq!(t, "line 97\nline 98\nline 99");
        assert_eq!(tail("abcdef", 10, 3), "...def");
    }
}
