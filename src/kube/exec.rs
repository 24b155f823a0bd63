//! Exec credential plugins, run by the provider with a time limit.
//!
//! kube-rs runs an exec plugin itself, with `std::process` on a blocking
//! thread and no time limit: a plugin that hangs (waiting for a login, for a
//! network that is down) can be neither stopped nor killed, and every job on
//! that cluster waits for it. So the provider takes the plugin out of the
//! kube Config and runs it here, asynchronously, until it ends, until
//! [`EXEC_TIMEOUT`] passes, or until the operation's budget
//! ([`super::budget`]) runs out or is cancelled; the plugin is killed in the
//! last two cases. Its credential then goes where kube would put it: a
//! client certificate into the TLS settings, a token without an expiry into
//! the Config, and a token with one into [`ExecAuthLayer`], which runs the
//! plugin again shortly before the token expires ([`REFRESH_MARGIN`]).
//!
//! Errors name the plugin by its command only: its arguments and
//! environment are its settings and may hold secrets, and its standard
//! output holds the credential. The tail of its standard error is shown, as
//! kubectl shows it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, Request};
use k8s_openapi::jiff::Timestamp;
use kube::client::Body;
use kube::config::ExecConfig;
use serde::Deserialize;
use tower::{BoxError, Layer, Service};

use super::budget::{Bound, Budget, format_duration};

/// Longest time an exec plugin may run before it is killed.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(30);
/// A token is renewed when it expires within this margin.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// One exec plugin, as a kubeconfig user or the provider's `exec` block
/// describes it.
#[derive(Debug, Clone)]
pub struct ExecPlugin {
    config: ExecConfig,
    timeout: Duration,
}

/// What a plugin printed.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A bearer token, and when it expires.
    Token {
        /// The token.
        token: String,
        /// When it expires; never when absent.
        expires: Option<Timestamp>,
    },
    /// A client certificate and its key, PEM.
    Certificate {
        /// The certificate (chain).
        certificate: String,
        /// The private key.
        key: String,
    },
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Token { expires, .. } => f
                .debug_struct("Token")
                .field("expires", expires)
                .finish_non_exhaustive(),
            Credential::Certificate { .. } => f.debug_struct("Certificate").finish_non_exhaustive(),
        }
    }
}

/// A plugin that gave no credential, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ExecFailure {
    /// The plugin's command, without its arguments.
    pub command: String,
    /// What went wrong.
    pub problem: ExecProblem,
}

impl fmt::Display for ExecFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            ExecProblem::NoCommand => f.write_str("the exec credential plugin has no command"),
            problem => write!(f, "the exec credential plugin `{}` {problem}", self.command),
        }
    }
}

/// What went wrong with a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecProblem {
    /// No command is configured.
    NoCommand,
    /// It could not be started (or its output not read).
    NotStarted(String),
    /// It exited unsuccessfully: its exit status and the tail of its
    /// standard error.
    Failed {
        /// `exit status: 2`.
        status: String,
        /// Its standard error, trimmed to the last lines.
        stderr: String,
    },
    /// It ran longer than the plugin time limit and was killed.
    TimedOut(Duration),
    /// The operation ran out of time or was cancelled while it ran; it was
    /// killed.
    Interrupted(Bound),
    /// Its output is not an ExecCredential.
    Unreadable,
    /// Its ExecCredential has neither a token nor a client certificate.
    NoCredential,
    /// Its `expirationTimestamp` is not a time.
    BadExpiry,
    /// Its token cannot be sent in an HTTP header.
    BadToken,
}

impl fmt::Display for ExecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecProblem::NoCommand => f.write_str("has no command"),
            ExecProblem::NotStarted(e) => write!(f, "could not be started: {e}"),
            ExecProblem::Failed { status, stderr } if stderr.is_empty() => {
                write!(f, "failed ({status}) and wrote nothing to standard error")
            }
            ExecProblem::Failed { status, stderr } => {
                write!(f, "failed ({status}); its standard error:\n{stderr}")
            }
            ExecProblem::TimedOut(d) => write!(
                f,
                "did not finish within {}, the longest the provider waits for a plugin, and was stopped",
                format_duration(*d)
            ),
            ExecProblem::Interrupted(Bound::Cancelled) => {
                f.write_str("was stopped because Terraform asked the provider to stop")
            }
            ExecProblem::Interrupted(Bound::Deadline(what)) => {
                write!(f, "did not finish within {what} and was stopped")
            }
            ExecProblem::Interrupted(other) => write!(f, "was stopped: it {other}"),
            ExecProblem::Unreadable => f.write_str(
                "printed something that is not an ExecCredential (run it yourself to see its output)",
            ),
            ExecProblem::NoCredential => {
                f.write_str("printed an ExecCredential without a token or a client certificate")
            }
            ExecProblem::BadExpiry => f.write_str(
                "printed an ExecCredential whose status.expirationTimestamp is not an RFC 3339 time",
            ),
            ExecProblem::BadToken => {
                f.write_str("printed a token that cannot be sent in an HTTP header")
            }
        }
    }
}

impl ExecProblem {
    /// Whether the failure is the operation's (it ran out of time or was
    /// cancelled) rather than the plugin's: such a failure says nothing
    /// about the next run.
    pub fn is_interruption(&self) -> bool {
        matches!(self, ExecProblem::Interrupted(_))
    }
}

impl ExecPlugin {
    /// The plugin `config` describes, with [`EXEC_TIMEOUT`].
    pub fn new(config: ExecConfig) -> Self {
        ExecPlugin {
            config,
            timeout: EXEC_TIMEOUT,
        }
    }

    /// The same plugin with another time limit.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The command, without its arguments.
    pub fn command(&self) -> &str {
        self.config.command.as_deref().unwrap_or_default()
    }

    fn failure(&self, problem: ExecProblem) -> ExecFailure {
        ExecFailure {
            command: self.command().to_string(),
            problem,
        }
    }

    /// Runs the plugin and reads its credential. Never interactive: the
    /// provider has no terminal.
    pub async fn run(&self) -> Result<Credential, ExecFailure> {
        let program = self.command();
        if program.is_empty() {
            return Err(self.failure(ExecProblem::NoCommand));
        }
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(self.config.args.iter().flatten());
        for var in self.config.env.iter().flatten() {
            if let (Some(name), Some(value)) = (var.get("name"), var.get("value")) {
                cmd.env(name, value);
            }
        }
        cmd.env("KUBERNETES_EXEC_INFO", exec_info(&self.config));
        for name in self.config.drop_env.iter().flatten() {
            cmd.env_remove(name);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| self.failure(ExecProblem::NotStarted(e.to_string())))?;
        // Dropping the child (a timeout, the budget) kills it.
        let output = tokio::time::timeout(self.timeout, child.wait_with_output());
        let output = match Budget::bound(output).await {
            Err(bound) => return Err(self.failure(ExecProblem::Interrupted(bound))),
            Ok(Err(_)) => return Err(self.failure(ExecProblem::TimedOut(self.timeout))),
            Ok(Ok(Err(e))) => return Err(self.failure(ExecProblem::NotStarted(e.to_string()))),
            Ok(Ok(Ok(output))) => output,
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(self.failure(ExecProblem::Failed {
                status: output.status.to_string(),
                stderr: tail(stderr.trim(), 40, 4000),
            }));
        }
        parse_credential(&output.stdout).map_err(|p| self.failure(p))
    }
}

/// `KUBERNETES_EXEC_INFO`: the ExecCredential a plugin is given, as kube
/// writes it.
fn exec_info(config: &ExecConfig) -> String {
    let mut spec = serde_json::json!({"interactive": false});
    if config.provide_cluster_info
        && let Some(cluster) = &config.cluster
        && let Ok(c) = serde_json::to_value(cluster)
    {
        spec["cluster"] = c;
    }
    serde_json::json!({
        "apiVersion": config.api_version,
        "kind": "ExecCredential",
        "spec": spec,
    })
    .to_string()
}

#[derive(Deserialize)]
struct PrintedCredential {
    status: Option<PrintedStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PrintedStatus {
    expiration_timestamp: Option<String>,
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
}

/// Reads what a plugin printed: JSON, or YAML (client-go accepts both).
fn parse_credential(stdout: &[u8]) -> Result<Credential, ExecProblem> {
    let printed: PrintedCredential = serde_json::from_slice(stdout)
        .or_else(|_| serde_yaml::from_slice(stdout))
        .map_err(|_| ExecProblem::Unreadable)?;
    let status = printed.status.ok_or(ExecProblem::NoCredential)?;
    if let (Some(certificate), Some(key)) = (status.client_certificate_data, status.client_key_data)
    {
        return Ok(Credential::Certificate { certificate, key });
    }
    let token = status
        .token
        .filter(|t| !t.is_empty())
        .ok_or(ExecProblem::NoCredential)?;
    let expires = match status.expiration_timestamp.filter(|t| !t.is_empty()) {
        Some(text) => Some(
            text.parse::<Timestamp>()
                .map_err(|_| ExecProblem::BadExpiry)?,
        ),
        None => None,
    };
    Ok(Credential::Token { token, expires })
}

/// Whether a token that expires at `expires` must be renewed at `now`.
pub fn needs_refresh(expires: Option<Timestamp>, now: Timestamp) -> bool {
    let margin = i64::try_from(REFRESH_MARGIN.as_secs()).unwrap_or(i64::MAX);
    expires.is_some_and(|e| e.as_second().saturating_sub(now.as_second()) <= margin)
}

/// The last `max_lines` lines of `text`, at most `max_chars` characters.
fn tail(text: &str, max_lines: usize, max_chars: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(max_lines);
    let joined = lines[start..].join("\n");
    let count = joined.chars().count();
    if count <= max_chars {
        return joined;
    }
    let kept: String = joined.chars().skip(count - max_chars).collect();
    format!("...{kept}")
}

fn bearer(token: &str) -> Result<HeaderValue, ExecProblem> {
    let mut value =
        HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| ExecProblem::BadToken)?;
    value.set_sensitive(true);
    Ok(value)
}

/// A token from a plugin, renewed by running it again.
struct RenewedToken {
    plugin: ExecPlugin,
    current: tokio::sync::Mutex<(String, Option<Timestamp>)>,
}

impl RenewedToken {
    async fn header(&self) -> Result<HeaderValue, ExecFailure> {
        // Requests wait for one renewal rather than each running the
        // plugin; each waits only as long as its own budget lets it.
        let mut current = self.current.lock().await;
        if needs_refresh(current.1, Timestamp::now()) {
            match self.plugin.run().await? {
                Credential::Token { token, expires } => *current = (token, expires),
                Credential::Certificate { .. } => {
                    return Err(self.plugin.failure(ExecProblem::NoCredential));
                }
            }
        }
        bearer(&current.0).map_err(|p| self.plugin.failure(p))
    }
}

/// Adds the `Authorization` header with a plugin's token that expires,
/// renewing it first when needed; a no-op without one. Sits outside the
/// retry layer (whose service can be cloned, as this layer needs).
#[derive(Clone, Default)]
pub struct ExecAuthLayer {
    token: Option<Arc<RenewedToken>>,
}

impl fmt::Debug for ExecAuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecAuthLayer")
            .field("plugin", &self.token.as_ref().map(|t| t.plugin.command()))
            .finish()
    }
}

impl ExecAuthLayer {
    /// No plugin: requests pass unchanged.
    pub fn none() -> Self {
        ExecAuthLayer::default()
    }

    /// `token`, which `plugin` printed and which expires at `expires`.
    pub fn renewing(plugin: ExecPlugin, token: String, expires: Timestamp) -> Self {
        ExecAuthLayer {
            token: Some(Arc::new(RenewedToken {
                plugin,
                current: tokio::sync::Mutex::new((token, Some(expires))),
            })),
        }
    }
}

impl<S> Layer<S> for ExecAuthLayer {
    type Service = ExecAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ExecAuthService {
            inner,
            token: self.token.clone(),
        }
    }
}

/// The service [`ExecAuthLayer`] produces.
#[derive(Clone)]
pub struct ExecAuthService<S> {
    inner: S,
    token: Option<Arc<RenewedToken>>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<Request<Body>> for ExecAuthService<S>
where
    S: Service<Request<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let Some(token) = self.token.clone() else {
            let response = self.inner.call(req);
            return Box::pin(async move { response.await.map_err(Into::into) });
        };
        // The service that was made ready goes with the request.
        let fresh = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, fresh);
        Box::pin(async move {
            let header = token.header().await?;
            req.headers_mut()
                .insert(http::header::AUTHORIZATION, header);
            ready.call(req).await.map_err(Into::into)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use tokio_util::sync::CancellationToken;

    fn script(dir: &std::path::Path, name: &str, body: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        path.display().to_string()
    }

    fn plugin(command: &str, args: &[&str], env: &[(&str, &str)]) -> ExecPlugin {
        ExecPlugin::new(ExecConfig {
            api_version: Some("client.authentication.k8s.io/v1".into()),
            command: Some(command.into()),
            args: Some(args.iter().map(|a| a.to_string()).collect()),
            env: Some(
                env.iter()
                    .map(|(k, v)| {
                        HashMap::from([
                            ("name".to_string(), k.to_string()),
                            ("value".to_string(), v.to_string()),
                        ])
                    })
                    .collect(),
            ),
            ..ExecConfig::default()
        })
    }

    /// Whether the process `pid` is still running (not a zombie).
    fn running(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
    }

    /// A plugin that hangs is killed at the time limit, and the error names
    /// its command but neither its arguments nor its environment.
    #[tokio::test]
    async fn a_hung_plugin_is_killed_and_named_without_its_settings() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let command = script(
            dir.path(),
            "get-token",
            &format!("echo $$ > {}\nexec sleep 600", pid_file.display()),
        );
        let p = plugin(
            &command,
            &["--role", "s3cr3t-role"],
            &[("API_KEY", "hunter2")],
        )
        .with_timeout(Duration::from_millis(500));
        let started = std::time::Instant::now();
        let err = p.run().await.unwrap_err();
        let took = started.elapsed();
        assert!(took < Duration::from_millis(1500), "{took:?}");
        assert_eq!(
            err.problem,
            ExecProblem::TimedOut(Duration::from_millis(500))
        );
        let text = err.to_string();
        assert!(text.contains(&format!("`{command}`")), "{text}");
        assert!(text.contains("did not finish within 500ms"), "{text}");
        assert!(!text.contains("s3cr3t") && !text.contains("hunter2") && !text.contains("--role"));
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let pid = pid.trim();
        let gone_by = std::time::Instant::now() + Duration::from_secs(5);
        while running(pid) && std::time::Instant::now() < gone_by {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!running(pid), "the plugin (pid {pid}) still runs");
    }

    /// The operation's budget stops a plugin before its own limit, and says
    /// so; a cancellation does the same at once.
    #[tokio::test]
    async fn the_budget_stops_a_plugin() {
        let dir = tempfile::tempdir().unwrap();
        let command = script(dir.path(), "slow", "exec sleep 600");
        let budget = Budget::new(
            "the read timeout (300ms)",
            Duration::from_millis(300),
            CancellationToken::new(),
        );
        let err = budget
            .run(plugin(&command, &[], &[]).run())
            .await
            .unwrap_err();
        assert!(err.problem.is_interruption());
        assert!(
            err.to_string()
                .ends_with("did not finish within the read timeout (300ms) and was stopped"),
            "{err}"
        );

        let cancel = CancellationToken::new();
        cancel.cancel();
        let budget = Budget::new("x", Duration::from_secs(60), cancel);
        let started = std::time::Instant::now();
        let err = budget
            .run(plugin(&command, &[], &[]).run())
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(err.problem, ExecProblem::Interrupted(Bound::Cancelled));
    }

    /// The plugin gets its environment and KUBERNETES_EXEC_INFO; tokens,
    /// expiries and certificates are read from JSON or YAML; failures show
    /// the exit status and standard error, never standard output.
    #[tokio::test]
    async fn credentials_and_failures() {
        let dir = tempfile::tempdir().unwrap();
        let command = script(
            dir.path(),
            "token",
            r#"case "$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) exit 9 ;; esac
echo "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"$TOKEN\",\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}""#,
        );
        let cred = plugin(&command, &[], &[("TOKEN", "abc")])
            .run()
            .await
            .unwrap();
        assert_eq!(
            cred,
            Credential::Token {
                token: "abc".into(),
                expires: Some("2030-01-02T03:04:05Z".parse().unwrap())
            }
        );
        assert!(!format!("{cred:?}").contains("abc"));

        let command = script(
            dir.path(),
            "yaml",
            "printf 'apiVersion: client.authentication.k8s.io/v1\\nkind: ExecCredential\\nstatus:\\n  clientCertificateData: CERT\\n  clientKeyData: KEY\\n'",
        );
        assert_eq!(
            plugin(&command, &[], &[]).run().await.unwrap(),
            Credential::Certificate {
                certificate: "CERT".into(),
                key: "KEY".into()
            }
        );

        let command = script(
            dir.path(),
            "fails",
            "echo '{\"status\":{\"token\":\"leaked\"}}'\necho 'no SSO session' >&2\nexit 3",
        );
        let err = plugin(&command, &[], &[]).run().await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("failed (exit status: 3)"), "{text}");
        assert!(
            text.contains("no SSO session") && !text.contains("leaked"),
            "{text}"
        );

        let command = script(dir.path(), "garbage", "echo 'hello'");
        let err = plugin(&command, &[], &[]).run().await.unwrap_err();
        assert_eq!(err.problem, ExecProblem::Unreadable);

        let err = plugin("/nonexistent/plugin", &[], &[])
            .run()
            .await
            .unwrap_err();
        assert!(
            err.to_string().starts_with(
                "the exec credential plugin `/nonexistent/plugin` could not be started"
            ),
            "{err}"
        );
    }

    /// Tokens are renewed within the margin before they expire, not before.
    #[test]
    fn renewal_margin() {
        let now: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let at = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        assert!(!needs_refresh(None, now));
        assert!(!needs_refresh(at("2030-01-01T00:05:00Z"), now));
        assert!(needs_refresh(at("2030-01-01T00:00:59Z"), now));
        assert!(needs_refresh(at("2029-12-31T00:00:00Z"), now));
    }
}
