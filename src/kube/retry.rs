//! Retries at the HTTP layer, below kube's typed API and above its auth
//! layer (so each attempt carries fresh credentials).
//!
//! What is retried, and why it is safe:
//!
//! - 429 Too Many Requests, for any method: the API server refused the
//!   request before acting on it. The wait is the server's `Retry-After`
//!   (capped at [`MAX_RETRY_AFTER`]) or our backoff.
//! - 500, 502, 503 and 504, and connections that fail or break, only for
//!   requests that may run twice: GET, HEAD, PUT, DELETE, PATCH when it is a
//!   server-side apply (an apply states the whole intent, so applying it
//!   twice is applying it once), and POST: the provider POSTs only creates
//!   of named objects (never `generateName`), and a create repeated after
//!   the first one landed answers 409 AlreadyExists instead of creating
//!   twice; the caller tells its own object by its instance label.
//!
//! Backoff doubles from [`FIRST_DELAY`] up to [`MAX_DELAY`], with jitter, for
//! at most [`MAX_RETRIES`] retries (about ten seconds in all).

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use http::{HeaderMap, Method, Request, Response, StatusCode};
use kube::client::Body;
use tower::retry::{Policy, Retry};
use tower::{BoxError, Layer, Service, buffer::Buffer};

/// Retries after the first attempt.
pub const MAX_RETRIES: u32 = 8;
/// Delay before the first retry (before jitter).
pub const FIRST_DELAY: Duration = Duration::from_millis(100);
/// Longest delay our backoff uses.
pub const MAX_DELAY: Duration = Duration::from_secs(2);
/// Longest `Retry-After` we honour as given; longer ones are shortened.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// What an attempt came back with, as far as retrying is concerned.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// The server answered with this status and headers.
    Answered(StatusCode, &'a HeaderMap),
    /// The connection could not be made, or broke before an answer.
    ConnectionFailed,
    /// Anything else (TLS, credentials, a local error): not retried.
    OtherError,
}

/// How long to wait before retry number `attempt` (0-based), or `None` to
/// give up. Pure, so the rules are tested without a server or a clock.
pub fn retry_delay(
    method: &Method,
    headers: &HeaderMap,
    outcome: Outcome<'_>,
    attempt: u32,
) -> Option<Duration> {
    if attempt >= MAX_RETRIES {
        return None;
    }
    let repeatable = is_repeatable(method, headers);
    match outcome {
        Outcome::Answered(StatusCode::TOO_MANY_REQUESTS, response_headers) => {
            Some(retry_after(response_headers).unwrap_or_else(|| backoff(attempt)))
        }
        Outcome::Answered(
            StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT,
            response_headers,
        ) if repeatable => Some(retry_after(response_headers).unwrap_or_else(|| backoff(attempt))),
        Outcome::ConnectionFailed if repeatable => Some(backoff(attempt)),
        _ => None,
    }
}

/// Whether running the request twice has the effect of running it once.
fn is_repeatable(method: &Method, headers: &HeaderMap) -> bool {
    match *method {
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS => true,
        Method::POST => true,
        Method::PATCH => headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/apply-patch")),
        _ => false,
    }
}

/// The server's `Retry-After` in seconds (the only form the API server
/// sends), capped.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Exponential backoff without jitter.
pub fn backoff(attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
    FIRST_DELAY.saturating_mul(factor).min(MAX_DELAY)
}

/// Scales `delay` into [delay/2, delay] so that many clients that failed
/// together do not retry together. Server-given delays are kept as given.
fn jitter(delay: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let fraction = f64::from(nanos % 1000) / 1000.0;
    delay.mul_f64(0.5 + fraction / 2.0)
}

/// Whether an error from the HTTP stack is a connection that failed or
/// broke: an I/O error of that kind somewhere in its chain.
fn is_connection_error(err: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::NotConnected
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::TimedOut
            );
        }
        // hyper reports a connection closed mid-answer without an io::Error.
        let text = e.to_string();
        if text.contains("connection closed before message completed")
            || text.contains("connection reset")
            || text.contains("IncompleteMessage")
        {
            return true;
        }
        current = e.source();
    }
    false
}

/// The tower retry policy; one clone per request carries its attempt count.
#[derive(Debug, Clone, Default)]
pub struct RetryPolicy {
    attempt: u32,
}

impl<B> Policy<Request<Body>, Response<B>, BoxError> for RetryPolicy {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut Request<Body>,
        result: &mut Result<Response<B>, BoxError>,
    ) -> Option<Self::Future> {
        let outcome = match result {
            Ok(response) if response.status().is_success() => return None,
            Ok(response) => Outcome::Answered(response.status(), response.headers()),
            Err(e) if is_connection_error(e.as_ref()) => Outcome::ConnectionFailed,
            Err(_) => Outcome::OtherError,
        };
        let delay = retry_delay(req.method(), req.headers(), outcome, self.attempt)?;
        let server_given =
            matches!(outcome, Outcome::Answered(_, h) if h.contains_key(http::header::RETRY_AFTER));
        tracing::debug!(
            method = %req.method(),
            uri = %req.uri().path(),
            attempt = self.attempt + 1,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "Retrying a Kubernetes API request"
        );
        self.attempt += 1;
        Some(tokio::time::sleep(if server_given {
            delay
        } else {
            jitter(delay)
        }))
    }

    fn clone_request(&mut self, req: &Request<Body>) -> Option<Request<Body>> {
        // Streaming bodies cannot be replayed; kube's request bodies can.
        let body = req.body().try_clone()?;
        let mut clone = Request::builder()
            .method(req.method().clone())
            .uri(req.uri().clone())
            .version(req.version())
            .body(body)
            .ok()?;
        *clone.headers_mut() = req.headers().clone();
        *clone.extensions_mut() = req.extensions().clone();
        Some(clone)
    }
}

/// Wraps kube's service stack in a buffer (which makes it cloneable, as
/// retrying needs) and our retry policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct RetryLayer;

/// The service [`RetryLayer`] produces.
pub type RetryService<S> =
    Retry<RetryPolicy, Buffer<Request<Body>, <S as Service<Request<Body>>>::Future>>;

impl<S> Layer<S> for RetryLayer
where
    S: Service<Request<Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError> + Send + Sync,
{
    type Service = RetryService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Retry::new(RetryPolicy::default(), Buffer::new(inner, 1024))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const APPLY: (&str, &str) = ("content-type", "application/apply-patch+yaml");
    const MERGE: (&str, &str) = ("content-type", "application/merge-patch+json");

    /// Each method and outcome is retried exactly when running it twice is
    /// safe.
    #[test]
    fn what_is_retried() {
        let none = HeaderMap::new();
        let answered = |code: u16| Outcome::Answered(StatusCode::from_u16(code).unwrap(), &none);
        let cases: &[(&str, Method, HeaderMap, Outcome<'_>, bool)] = &[
            ("429 GET", Method::GET, none.clone(), answered(429), true),
            (
                "429 POST is never acted on",
                Method::POST,
                none.clone(),
                answered(429),
                true,
            ),
            ("503 GET", Method::GET, none.clone(), answered(503), true),
            (
                "500 DELETE",
                Method::DELETE,
                none.clone(),
                answered(500),
                true,
            ),
            (
                "503 apply PATCH",
                Method::PATCH,
                headers(&[APPLY]),
                answered(503),
                true,
            ),
            (
                "503 merge PATCH",
                Method::PATCH,
                headers(&[MERGE]),
                answered(503),
                false,
            ),
            (
                "503 POST create: a repeat answers AlreadyExists",
                Method::POST,
                none.clone(),
                answered(503),
                true,
            ),
            ("504 PUT", Method::PUT, none.clone(), answered(504), true),
            (
                "501 is final",
                Method::GET,
                none.clone(),
                answered(501),
                false,
            ),
            (
                "404 is final",
                Method::GET,
                none.clone(),
                answered(404),
                false,
            ),
            (
                "409 is final",
                Method::PATCH,
                headers(&[APPLY]),
                answered(409),
                false,
            ),
            (
                "422 is final",
                Method::PATCH,
                headers(&[APPLY]),
                answered(422),
                false,
            ),
            (
                "refused GET",
                Method::GET,
                none.clone(),
                Outcome::ConnectionFailed,
                true,
            ),
            (
                "refused POST create: a repeat answers AlreadyExists",
                Method::POST,
                none.clone(),
                Outcome::ConnectionFailed,
                true,
            ),
            (
                "refused merge PATCH",
                Method::PATCH,
                headers(&[MERGE]),
                Outcome::ConnectionFailed,
                false,
            ),
            (
                "TLS error",
                Method::GET,
                none.clone(),
                Outcome::OtherError,
                false,
            ),
        ];
        for (name, method, req_headers, outcome, want) in cases {
            let got = retry_delay(method, req_headers, *outcome, 0).is_some();
            assert_eq!(got, *want, "{name}");
        }
    }

    /// Retry-After is honoured, capped, and falls back to backoff when
    /// missing or unreadable; retries stop after MAX_RETRIES.
    #[test]
    fn delays() {
        let get = Method::GET;
        let none = HeaderMap::new();
        let after = |v: &str| headers(&[("retry-after", v)]);
        let h = after("3");
        assert_eq!(
            retry_delay(
                &get,
                &none,
                Outcome::Answered(StatusCode::TOO_MANY_REQUESTS, &h),
                0
            ),
            Some(Duration::from_secs(3))
        );
        let h = after("3600");
        assert_eq!(
            retry_delay(
                &get,
                &none,
                Outcome::Answered(StatusCode::TOO_MANY_REQUESTS, &h),
                0
            ),
            Some(MAX_RETRY_AFTER)
        );
        let h = after("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(
            retry_delay(
                &get,
                &none,
                Outcome::Answered(StatusCode::TOO_MANY_REQUESTS, &h),
                2
            ),
            Some(backoff(2))
        );
        assert_eq!(backoff(0), FIRST_DELAY);
        assert_eq!(backoff(1), FIRST_DELAY * 2);
        assert_eq!(backoff(30), MAX_DELAY);
        assert_eq!(
            retry_delay(&get, &none, Outcome::ConnectionFailed, MAX_RETRIES),
            None
        );
        let total: Duration = (0..MAX_RETRIES).map(backoff).sum();
        assert!(total < Duration::from_secs(15), "{total:?}");
    }

    /// Connection errors are recognised through their source chain.
    #[test]
    fn connection_errors() {
        #[derive(Debug, thiserror::Error)]
        #[error("client error")]
        struct Wrapper(#[source] io::Error);
        let refused = Wrapper(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(is_connection_error(&refused));
        let denied = Wrapper(io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(!is_connection_error(&denied));
    }

    /// The layer retries a 503 answer until the service succeeds, sending
    /// the same request each time.
    #[tokio::test]
    async fn layer_retries_until_success() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let inner = tower::service_fn(move |req: Request<Body>| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                assert_eq!(req.uri().path(), "/api/v1/namespaces/x");
                let status = if n < 3 { 503 } else { 200 };
                Ok::<_, BoxError>(Response::builder().status(status).body(()).unwrap())
            }
        });
        let mut svc = RetryLayer.layer(inner);
        let req = Request::get("/api/v1/namespaces/x")
            .body(Body::empty())
            .unwrap();
        let resp = tower::ServiceExt::oneshot(&mut svc, req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    /// A POST answered 503 is returned as is, after one call.
    #[tokio::test]
    async fn layer_does_not_repeat_merge_patches() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let inner = tower::service_fn(move |_req: Request<Body>| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, BoxError>(Response::builder().status(503).body(()).unwrap()) }
        });
        let mut svc = RetryLayer.layer(inner);
        let req = Request::patch("/api/v1/namespaces/batch")
            .header(http::header::CONTENT_TYPE, "application/merge-patch+json")
            .body(Body::from(b"{}".to_vec()))
            .unwrap();
        let resp = tower::ServiceExt::oneshot(&mut svc, req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
