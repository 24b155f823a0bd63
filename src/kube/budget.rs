//! Bounds on every request a client sends, so that no operation waits on a
//! cluster longer than it may, and Ctrl-C ends it at once.
//!
//! Two layers in each client's HTTP stack (built in `client.rs`):
//!
//! - [`RequestTimeoutLayer`], inside the retry layer, bounds each attempt:
//!   the answer, body included, within [`REQUEST_TIMEOUT`] (kube-apiserver's
//!   own default request timeout). A stream (a watch, a followed log) only
//!   has to start within it; after that it may last as long as bytes keep
//!   coming, and fails once it has been silent for longer than the server
//!   would keep it open ([`stream_idle_timeout`]). Connecting has its own
//!   limit, [`CONNECT_TIMEOUT`].
//! - [`BudgetLayer`], outside the retry layer, bounds the whole request
//!   (retries and their back-off included) by the operation's [`Budget`]:
//!   its deadline (the resource's `timeouts.create` for a create, a default
//!   for a refresh) and its cancellation token (StopProvider). Each RPC runs
//!   its work inside [`Budget::run`], which puts the budget in a task-local;
//!   the layer reads it when the request is first polled, which is always in
//!   the RPC's task (kube's buffer only calls the stack in its worker; the
//!   futures it returns are polled by the caller).
//!
//! A request ended by either layer fails with [`RequestBounded`], which
//! names the request; the connection layer adds the cluster, and the
//! resource turns it into a diagnostic. Nothing else is interrupted: code
//! that records what it did as it goes (apply) still returns what it
//! recorded.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use kube::client::Body;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tower::{BoxError, Layer, Service};

use super::chain::chain;

/// Longest time to open a connection (TCP and TLS) to an API server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time one request may take, its whole answer included; as
/// kube-apiserver's default `--request-timeout`, after which a server ends
/// the request itself.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How much longer than its `timeoutSeconds` a watch may stay silent before
/// it is given up (the server should have ended it by then).
pub const WATCH_GRACE: Duration = Duration::from_secs(30);
/// How long a stream without `timeoutSeconds` may stay silent.
pub const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

tokio::task_local! {
    static BUDGET: Budget;
}

/// How long an operation may take and what ends it early: the requests it
/// sends while [`Budget::run`] runs it are bounded by both.
#[derive(Debug, Clone)]
pub struct Budget {
    what: Arc<str>,
    deadline: Instant,
    cancel: CancellationToken,
}

/// `start` plus `by`, or a moment a century away when the clock cannot
/// hold the sum: a timeout or Job deadline a user may write (up to what a
/// `Duration` holds, or `activeDeadlineSeconds` near the int64 limit) must
/// not overflow the clock.
pub fn later(start: Instant, by: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    start
        .checked_add(by)
        .or_else(|| start.checked_add(CENTURY))
        .unwrap_or(start)
}

impl Budget {
    /// A budget of `timeout` from now. `what` names it in errors, as a
    /// phrase that follows "within": "the create timeout (20s)".
    pub fn new(what: impl Into<String>, timeout: Duration, cancel: CancellationToken) -> Budget {
        Budget {
            what: Arc::from(what.into()),
            deadline: later(Instant::now(), timeout),
            cancel,
        }
    }

    /// The budget the current task runs under, if any.
    pub fn current() -> Option<Budget> {
        BUDGET.try_with(Budget::clone).ok()
    }

    /// Runs `work` under this budget.
    pub async fn run<F: Future>(self, work: F) -> F::Output {
        BUDGET.scope(self, work).await
    }

    /// When the time runs out.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The token that ends the operation early.
    pub fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }

    /// What the budget is, as named in errors.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// This budget, stretched so that at least `allowance` is left: for the
    /// few requests that explain a timeout (which pods are stuck), so that
    /// they get a moment after the deadline but no more. The cancellation
    /// token still ends them.
    pub fn at_least(&self, allowance: Duration) -> Budget {
        let floor = Instant::now() + allowance;
        Budget {
            what: self.what.clone(),
            deadline: self.deadline.max(floor),
            cancel: self.cancel.clone(),
        }
    }

    /// Runs `work`, which is not an HTTP request (an exec credential
    /// plugin), until the current budget's deadline or cancellation; without
    /// a budget, to completion.
    pub async fn bound<F: Future>(work: F) -> Result<F::Output, Bound> {
        let Some(budget) = Budget::current() else {
            return Ok(work.await);
        };
        tokio::select! {
            biased;
            () = budget.cancel.cancelled() => Err(Bound::Cancelled),
            () = tokio::time::sleep_until(budget.deadline) => Err(Bound::Deadline(budget.what.clone())),
            out = work => Ok(out),
        }
    }
}

/// Why a request ended without its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// The operation's time ran out; the budget's name.
    Deadline(Arc<str>),
    /// Terraform asked the provider to stop.
    Cancelled,
    /// No whole answer within the per-request timeout.
    RequestTimeout(Duration),
    /// A stream sent nothing for this long.
    Idle(Duration),
}

impl Bound {
    /// Whether the operation as a whole is over (its deadline passed, or it
    /// was cancelled), rather than one request having been too slow.
    pub fn ends_operation(&self) -> bool {
        matches!(self, Bound::Deadline(_) | Bound::Cancelled)
    }
}

impl fmt::Display for Bound {
    /// What happened to the request, as a phrase after its name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Deadline(what) => write!(f, "got no answer within {what}"),
            Bound::Cancelled => {
                f.write_str("was cancelled because Terraform asked the provider to stop")
            }
            Bound::RequestTimeout(d) => write!(
                f,
                "got no answer within {}, the longest the provider waits for one request",
                format_duration(*d)
            ),
            Bound::Idle(d) => write!(
                f,
                "stopped sending anything for {} without ending",
                format_duration(*d)
            ),
        }
    }
}

/// A request ended by a [`Bound`]: `GET /api/v1/namespaces/batch got no
/// answer within the create timeout (20s)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestBounded {
    /// `GET /api/v1/namespaces/batch` (the path, without the query).
    pub request: String,
    /// What ended it.
    pub bound: Bound,
}

impl fmt::Display for RequestBounded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.request, self.bound)
    }
}

impl StdError for RequestBounded {}

/// The [`RequestBounded`] in an error's chain (looking inside `io::Error`s,
/// where kube puts stream errors).
pub fn find_bounded<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a RequestBounded> {
    chain(err).find_map(|e| e.downcast_ref::<RequestBounded>())
}

/// `1h30m`, `20s`, `1.5s`, `250ms`: durations as Terraform users write them.
pub fn format_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    let total = d.as_secs();
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    let millis = d.subsec_millis();
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || millis > 0 {
        if millis > 0 {
            let fraction = format!("{:03}", millis);
            out.push_str(&format!("{s}.{}s", fraction.trim_end_matches('0')));
        } else {
            out.push_str(&format!("{s}s"));
        }
    }
    out
}

/// How long a streaming request (a watch, a followed log) may stay silent;
/// `None` for a request whose whole answer is due within the per-request
/// timeout. A watch's server ends it after its `timeoutSeconds`, so silence
/// beyond that (and [`WATCH_GRACE`]) means the server stopped answering.
pub fn stream_idle_timeout(uri: &http::Uri) -> Option<Duration> {
    let query = uri.query().unwrap_or_default();
    let param = |name: &str| {
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
    };
    let truthy = |v: Option<&str>| matches!(v, Some("true" | "1"));
    if !truthy(param("watch")) && !truthy(param("follow")) {
        return None;
    }
    Some(
        param("timeoutSeconds")
            .and_then(|s| s.parse::<u64>().ok())
            .map(|s| Duration::from_secs(s) + WATCH_GRACE)
            .unwrap_or(STREAM_IDLE_TIMEOUT),
    )
}

fn describe(req: &Request<Body>) -> Arc<str> {
    Arc::from(format!("{} {}", req.method(), req.uri().path()))
}

fn bounded(request: &Arc<str>, bound: Bound) -> BoxError {
    Box::new(RequestBounded {
        request: request.to_string(),
        bound,
    })
}

/// A response body that fails (once) when its deadline passes, its token
/// is cancelled, or it stays silent too long.
pub struct BoundedBody<B> {
    inner: Pin<Box<B>>,
    request: Arc<str>,
    deadline: Option<(Pin<Box<Sleep>>, Bound)>,
    cancel: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
    failed: bool,
}

impl<B> fmt::Debug for BoundedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedBody")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl<B> BoundedBody<B> {
    fn new(inner: B, request: Arc<str>) -> Self {
        BoundedBody {
            inner: Box::pin(inner),
            request,
            deadline: None,
            cancel: None,
            idle: None,
            failed: false,
        }
    }

    fn until(mut self, deadline: Instant, bound: Bound) -> Self {
        self.deadline = Some((Box::pin(tokio::time::sleep_until(deadline)), bound));
        self
    }

    fn cancelled_by(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(Box::pin(token.cancelled_owned()));
        self
    }

    fn idle_after(mut self, idle: Duration) -> Self {
        self.idle = Some((idle, Box::pin(tokio::time::sleep(idle))));
        self
    }

    fn fail(&mut self, bound: Bound) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.failed = true;
        Poll::Ready(Some(Err(bounded(&self.request, bound))))
    }
}

impl<B> HttpBody for BoundedBody<B>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        if let Some(cancel) = &mut this.cancel
            && cancel.as_mut().poll(cx).is_ready()
        {
            return this.fail(Bound::Cancelled);
        }
        if let Some((sleep, bound)) = &mut this.deadline
            && sleep.as_mut().poll(cx).is_ready()
        {
            let bound = bound.clone();
            return this.fail(bound);
        }
        match this.inner.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some((idle, sleep)) = &mut this.idle {
                    sleep.as_mut().reset(Instant::now() + *idle);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if let Some((idle, sleep)) = &mut this.idle
                    && sleep.as_mut().poll(cx).is_ready()
                {
                    let idle = *idle;
                    return this.fail(Bound::Idle(idle));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.failed && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Bounds each attempt of a request by a per-request timeout; see the
/// module doc.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeoutLayer {
    timeout: Duration,
}

impl RequestTimeoutLayer {
    /// Each attempt within `timeout`.
    pub fn new(timeout: Duration) -> Self {
        RequestTimeoutLayer { timeout }
    }
}

impl Default for RequestTimeoutLayer {
    fn default() -> Self {
        RequestTimeoutLayer::new(REQUEST_TIMEOUT)
    }
}

impl<S> Layer<S> for RequestTimeoutLayer {
    type Service = RequestTimeoutService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestTimeoutService {
            inner,
            timeout: self.timeout,
        }
    }
}

/// The service [`RequestTimeoutLayer`] produces.
#[derive(Debug, Clone)]
pub struct RequestTimeoutService<S> {
    inner: S,
    timeout: Duration,
}

impl<S, B> Service<Request<Body>> for RequestTimeoutService<S>
where
    S: Service<Request<Body>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<BoundedBody<B>>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let request = describe(&req);
        let idle = stream_idle_timeout(req.uri());
        let timeout = self.timeout;
        let response = self.inner.call(req);
        Box::pin(async move {
            let until = Instant::now() + timeout;
            let response = match tokio::time::timeout_at(until, response).await {
                Ok(answer) => answer.map_err(Into::into)?,
                Err(_) => return Err(bounded(&request, Bound::RequestTimeout(timeout))),
            };
            Ok(response.map(|body| {
                let body = BoundedBody::new(body, request);
                match idle {
                    Some(idle) => body.idle_after(idle),
                    None => body.until(until, Bound::RequestTimeout(timeout)),
                }
            }))
        })
    }
}

/// Bounds each request by the [`Budget`] of the task that sends it; see
/// the module doc.
#[derive(Debug, Clone, Copy, Default)]
pub struct BudgetLayer;

impl<S> Layer<S> for BudgetLayer {
    type Service = BudgetService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BudgetService { inner }
    }
}

/// The service [`BudgetLayer`] produces.
#[derive(Debug, Clone)]
pub struct BudgetService<S> {
    inner: S,
}

impl<S, B> Service<Request<Body>> for BudgetService<S>
where
    S: Service<Request<Body>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<BoundedBody<B>>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let request = describe(&req);
        let response = self.inner.call(req);
        Box::pin(async move {
            // Read here, not in `call`: this runs in the sender's task.
            let Some(budget) = Budget::current() else {
                let response = response.await.map_err(Into::into)?;
                return Ok(response.map(|body| BoundedBody::new(body, request)));
            };
            if budget.cancel.is_cancelled() {
                return Err(bounded(&request, Bound::Cancelled));
            }
            let deadline = Bound::Deadline(budget.what.clone());
            let response = tokio::select! {
                biased;
                () = budget.cancel.cancelled() => return Err(bounded(&request, Bound::Cancelled)),
                () = tokio::time::sleep_until(budget.deadline) => return Err(bounded(&request, deadline)),
                answer = response => answer.map_err(Into::into)?,
            };
            Ok(response.map(|body| {
                BoundedBody::new(body, request)
                    .until(budget.deadline, deadline)
                    .cancelled_by(budget.cancel.clone())
            }))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};
    use tower::ServiceExt;

    type TestBody = StreamBody<
        futures::stream::BoxStream<'static, Result<Frame<Bytes>, std::convert::Infallible>>,
    >;

    /// A server that answers after `delay` with a body of `chunks`, each
    /// after `gap`, then stays open (when `hang` is set) or ends.
    fn server(
        delay: Duration,
        chunks: usize,
        gap: Duration,
        hang: bool,
    ) -> impl Service<
        Request<Body>,
        Response = Response<TestBody>,
        Error = BoxError,
        Future = impl Future<Output = Result<Response<TestBody>, BoxError>> + Send + 'static,
    > + Clone {
        tower::service_fn(move |_req: Request<Body>| async move {
            tokio::time::sleep(delay).await;
            let frames = futures::stream::unfold(0usize, move |n| async move {
                if n == chunks {
                    if hang {
                        futures::future::pending::<()>().await;
                    }
                    return None;
                }
                tokio::time::sleep(gap).await;
                Some((Ok(Frame::data(Bytes::from_static(b"{}\n"))), n + 1))
            });
            let body: TestBody = StreamBody::new(Box::pin(frames) as _);
            Ok::<_, BoxError>(Response::new(body))
        })
    }

    fn get(uri: &str) -> Request<Body> {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    fn bound_of(err: &BoxError) -> Bound {
        find_bounded(err.as_ref())
            .unwrap_or_else(|| panic!("not a bounded request: {err}"))
            .bound
            .clone()
    }

    /// A request that outlives its operation's deadline fails at the
    /// deadline, naming the request and the budget.
    #[tokio::test(start_paused = true)]
    async fn deadline_ends_a_request_that_gets_no_answer() {
        let svc = BudgetLayer.layer(server(Duration::from_secs(600), 1, Duration::ZERO, false));
        let budget = Budget::new(
            "the create timeout (20s)",
            Duration::from_secs(20),
            CancellationToken::new(),
        );
        let started = Instant::now();
        let err = budget
            .run(svc.oneshot(get("/apis/batch/v1/namespaces/a/jobs/b")))
            .await
            .unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(20));
        assert_eq!(
            err.to_string(),
            "GET /apis/batch/v1/namespaces/a/jobs/b got no answer within the create timeout (20s)"
        );
        assert!(bound_of(&err).ends_operation());
    }

    /// The deadline also ends a body that is still coming (a stream), with
    /// the same error.
    #[tokio::test(start_paused = true)]
    async fn deadline_ends_a_body_in_progress() {
        let svc = BudgetLayer.layer(server(Duration::ZERO, 1, Duration::ZERO, true));
        let budget = Budget::new(
            "the read timeout (5s)",
            Duration::from_secs(5),
            CancellationToken::new(),
        );
        let started = Instant::now();
        let err = budget
            .run(async move {
                let response = svc.oneshot(get("/api/v1/pods?watch=true")).await.unwrap();
                response.into_body().collect().await.map(|_| ())
            })
            .await
            .unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(
            bound_of(&err),
            Bound::Deadline(Arc::from("the read timeout (5s)"))
        );
    }

    /// Cancelling the budget's token ends a waiting request and a body in
    /// progress at once; a request sent after cancellation never starts.
    #[tokio::test(start_paused = true)]
    async fn cancellation_ends_requests_at_once() {
        let cancel = CancellationToken::new();
        let budget = Budget::new(
            "the create timeout (10m)",
            Duration::from_secs(600),
            cancel.clone(),
        );
        let waiting = BudgetLayer.layer(server(Duration::from_secs(600), 1, Duration::ZERO, false));
        let streaming = BudgetLayer.layer(server(Duration::ZERO, 1, Duration::ZERO, true));
        let trigger = cancel.clone();
        let started = Instant::now();
        let (a, b) = budget
            .clone()
            .run(async move {
                let a = waiting.oneshot(get("/api/v1/namespaces/a"));
                let b = async move {
                    let response = streaming.oneshot(get("/api/v1/pods?watch=1")).await?;
                    // The stream has started: now Terraform says stop.
                    trigger.cancel();
                    response.into_body().collect().await.map(|_| ())
                };
                tokio::join!(a, b)
            })
            .await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(bound_of(&a.unwrap_err()), Bound::Cancelled);
        assert_eq!(bound_of(&b.unwrap_err()), Bound::Cancelled);

        let late = BudgetLayer.layer(server(Duration::ZERO, 1, Duration::ZERO, false));
        let err = budget
            .run(late.oneshot(get("/api/v1/namespaces/a")))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "GET /api/v1/namespaces/a was cancelled because Terraform asked the provider to stop"
        );
    }

    /// Without a budget, the budget layer lets a slow answer through; only
    /// the per-request timeout ends it.
    #[tokio::test(start_paused = true)]
    async fn without_a_budget_only_the_request_timeout_applies() {
        let slow = server(Duration::from_secs(45), 1, Duration::ZERO, false);
        let svc = BudgetLayer.layer(RequestTimeoutLayer::new(Duration::from_secs(60)).layer(slow));
        let response = svc.oneshot(get("/api/v1/namespaces")).await.unwrap();
        response.into_body().collect().await.unwrap();

        let hung = server(Duration::from_secs(600), 1, Duration::ZERO, false);
        let svc = BudgetLayer.layer(RequestTimeoutLayer::new(Duration::from_secs(60)).layer(hung));
        let started = Instant::now();
        let err = svc.oneshot(get("/api/v1/namespaces")).await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(60));
        assert_eq!(
            bound_of(&err),
            Bound::RequestTimeout(Duration::from_secs(60))
        );
        assert_eq!(
            err.to_string(),
            "GET /api/v1/namespaces got no answer within 1m, the longest the provider waits for one request"
        );
    }

    /// The per-request timeout covers the body of an ordinary request, but
    /// a watch lives as long as bytes keep coming, and fails only once it
    /// is silent for longer than its timeoutSeconds allows.
    #[tokio::test(start_paused = true)]
    async fn watches_live_while_bytes_flow_and_fail_when_silent() {
        let timeout = RequestTimeoutLayer::new(Duration::from_secs(60));

        // An ordinary GET whose body trickles past the timeout.
        let svc = timeout.layer(server(Duration::ZERO, 10, Duration::from_secs(10), false));
        let response = svc.oneshot(get("/api/v1/pods")).await.unwrap();
        let started = Instant::now();
        let err = response.into_body().collect().await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(60));
        assert_eq!(
            bound_of(&err),
            Bound::RequestTimeout(Duration::from_secs(60))
        );

        // A watch with an event every 50 s for 500 s: far past the
        // per-request timeout, never silent for long.
        let svc = timeout.layer(server(Duration::ZERO, 10, Duration::from_secs(50), false));
        let response = svc
            .oneshot(get("/api/v1/pods?watch=true&timeoutSeconds=60"))
            .await
            .unwrap();
        let started = Instant::now();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), 30);
        assert_eq!(started.elapsed(), Duration::from_secs(500));

        // A watch that goes silent without ending: its timeoutSeconds plus
        // the grace after its last event.
        let svc = timeout.layer(server(Duration::ZERO, 1, Duration::ZERO, true));
        let response = svc
            .oneshot(get("/api/v1/pods?watch=true&timeoutSeconds=60"))
            .await
            .unwrap();
        let started = Instant::now();
        let err = response.into_body().collect().await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(60) + WATCH_GRACE);
        assert_eq!(bound_of(&err), Bound::Idle(Duration::from_secs(90)));
    }

    /// Streams are told from ordinary requests by their query.
    #[test]
    fn stream_idle_timeouts() {
        let idle = |uri: &str| stream_idle_timeout(&uri.parse().unwrap());
        assert_eq!(idle("/api/v1/pods"), None);
        assert_eq!(idle("/api/v1/pods?watch=false"), None);
        assert_eq!(idle("/api/v1/pods?labelSelector=watch%3Dtrue"), None);
        assert_eq!(
            idle("/api/v1/pods?fieldSelector=metadata.name%3Dx&timeoutSeconds=290&watch=true"),
            Some(Duration::from_secs(290) + WATCH_GRACE)
        );
        assert_eq!(idle("/api/v1/pods?watch=1"), Some(STREAM_IDLE_TIMEOUT));
        assert_eq!(
            idle("/api/v1/namespaces/a/pods/b/log?follow=true"),
            Some(STREAM_IDLE_TIMEOUT)
        );
    }

    /// A budget stretched for reports keeps a later deadline as it is.
    #[tokio::test(start_paused = true)]
    async fn at_least_stretches_only_a_short_budget() {
        let b = Budget::new("x", Duration::from_secs(10), CancellationToken::new());
        assert_eq!(b.at_least(Duration::from_secs(1)).deadline(), b.deadline());
        tokio::time::sleep(Duration::from_secs(10)).await;
        let stretched = b.at_least(Duration::from_millis(500));
        assert_eq!(
            stretched.deadline(),
            Instant::now() + Duration::from_millis(500)
        );
    }

    /// Durations read as users write them.
    #[test]
    fn durations_read_as_written() {
        for (d, text) in [
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(20), "20s"),
            (Duration::from_secs(600), "10m"),
            (Duration::from_secs(5400), "1h30m"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_millis(1500), "1.5s"),
        ] {
            assert_eq!(format_duration(d), text);
        }
    }
}
