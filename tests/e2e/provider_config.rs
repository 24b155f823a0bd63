//! Every way the provider reaches a cluster, with the real
//! Terraform CLI against emulators that serve TLS and require a token or a
//! client certificate.
//!
//! Each test starts its own emulators in-process ([`Secure`]) and writes the
//! material a user would have: the CA, a client certificate and key, a
//! kubeconfig. The emulator's admin counters show which requests reached it.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use kube_emulator::EmulatorConfig;
use kube_emulator::authz::Authorization;
use kube_emulator::tls::TlsBundle;
use serde_json::{Value as Json, json};

use crate::harness::{Emulator, Output, Tf, apply, destroy};

/// An emulator that serves HTTPS and requires a bearer token (or, with
/// `client_cert_auth`, a client certificate signed by its CA). It derefs to
/// the [`Emulator`], whose client has the token.
pub struct Secure {
    emulator: Emulator,
    /// Its address, `https://127.0.0.1:PORT`.
    pub url: String,
    /// The token it accepts.
    pub token: String,
    /// Its CA, client certificate and key.
    pub tls: Arc<TlsBundle>,
}

impl Secure {
    /// Starts an emulator (fast timings) requiring `token`.
    pub fn start(token: &str, client_cert_auth: bool) -> Secure {
        Secure::start_with(
            token,
            EmulatorConfig {
                client_cert_auth,
                ..EmulatorConfig::fast()
            },
        )
    }

    /// Starts an emulator with `config`, serving HTTPS and requiring `token`
    /// (the admin's) or the credentials `config` adds.
    pub fn start_with(token: &str, config: EmulatorConfig) -> Secure {
        let tls = Arc::new(TlsBundle::generate().unwrap());
        let emulator = Emulator::start(EmulatorConfig {
            tls: Some(tls.clone()),
            token: Some(token.to_string()),
            ..config
        });
        Secure {
            url: emulator.running().url.clone(),
            emulator,
            token: token.to_string(),
            tls,
        }
    }

    /// The API requests that reached it since the counters were zeroed.
    pub fn requests(&self) -> Json {
        self.admin("GET", "requests", None)
    }

    /// Zeroes the request counters.
    pub fn zero_requests(&self) {
        self.admin("DELETE", "requests", None);
    }

    /// Names of the Jobs in `ns` (not being deleted).
    pub fn jobs(&self, ns: &str) -> Vec<String> {
        self.names("/apis/batch/v1", ns, "jobs")
    }

    /// A kubeconfig `cluster` entry for this emulator (JSON is YAML).
    fn kubeconfig_cluster(&self, name: &str) -> Json {
        json!({"name": name, "cluster": {
            "server": self.url,
            "certificate-authority-data": b64(&self.tls.ca_pem),
        }})
    }

    /// A kubeconfig `user` entry with this emulator's token.
    fn kubeconfig_user(&self, name: &str) -> Json {
        json!({"name": name, "user": {"token": self.token}})
    }
}

impl std::ops::Deref for Secure {
    type Target = Emulator;

    fn deref(&self) -> &Emulator {
        &self.emulator
    }
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// An HCL string literal.
fn hcl(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A job that finishes at once, in the namespace `ns`, optionally on the
/// named cluster.
fn job(resource: &str, ns: &str, cluster: Option<&str>) -> String {
    let target = cluster
        .map(|c| format!("    target_cluster   = {{ cluster_name = {} }}\n", hcl(c)))
        .unwrap_or_default();
    format!(
        r#"
resource "planton_kubernetes_job" "{resource}" {{
  metadata = {{
    name = "hello"
  }}
  spec = {{
    namespace        = {{ value = "{ns}" }}
    create_namespace = true
    image            = {{ repo = "busybox", tag = "1.36" }}
    command          = ["sh", "-c", "echo hello"]
{target}  }}
}}
"#
    )
}

/// Writes a file next to the configuration and returns its path.
fn file(tf: &Tf, name: &str, contents: &str) -> PathBuf {
    tf.write(name, contents);
    tf.work().join(name)
}

/// An executable script in the working directory.
fn script(tf: &Tf, name: &str, body: &str) -> PathBuf {
    let path = file(tf, name, &format!("#!/bin/sh\n{body}"));
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

/// A world whose configuration is `provider` plus one job, initialised.
fn world(name: &str, provider: &str) -> Tf {
    let tf = Tf::new(name);
    tf.config(&format!("{provider}\n{}", job("hello", "greetings", None)));
    tf.init();
    tf
}

/// Makes `host`, `token` and `cluster_ca_certificate` (the cluster's CA,
/// written to `ca.pem`) the provider block, before one job.
fn token_and_ca(tf: &Tf, cluster: &Secure, token: &str) {
    let ca = file(tf, "ca.pem", &cluster.tls.ca_pem);
    tf.config(&format!(
        "provider \"planton\" {{\n  host                   = {}\n  token                  = {}\n  cluster_ca_certificate = file({})\n}}\n{}",
        hcl(&cluster.url),
        hcl(token),
        hcl(&ca.display().to_string()),
        job("hello", "greetings", None)
    ));
}

/// Applies, expecting success and the job in `cluster`.
#[track_caller]
fn applies_to(tf: &Tf, cluster: &Secure) {
    let out = apply(tf);
    assert_eq!(out.code, 0, "apply failed:\n{out}");
    assert_eq!(cluster.jobs("greetings"), ["hello"], "{out}");
}

/// The error diagnostics of a failed command (its stderr, split at each
/// `Error:`), for assertions on wording.
fn errors(out: &Output) -> Vec<String> {
    out.stderr
        .split("Error: ")
        .skip(1)
        .map(|e| {
            e.replace("│", " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[track_caller]
fn fails_with(out: &Output, summary: &str, contains: &[&str]) {
    assert_ne!(out.code, 0, "expected a failure:\n{out}");
    let errors = errors(out);
    let Some(error) = errors.iter().find(|e| e.starts_with(summary)) else {
        panic!("no {summary:?} error:\n{out}");
    };
    for text in contains {
        assert!(
            error.contains(text),
            "{summary:?} lacks {text:?}: {error}\n\n{out}"
        );
    }
}

/// After [`fails_with`]: the refusal is said once, never quotes `token`,
/// and no Job was made.
#[track_caller]
fn refused_once(out: &Output, cluster: &Secure, token: &str) {
    assert!(!out.stderr.contains(token), "the token leaked:\n{out}");
    assert_eq!(errors(out).len(), 1, "the refusal is said once:\n{out}");
    assert!(cluster.jobs("greetings").is_empty());
}

// ---------------------------------------------------------------------------
// Each way to authenticate, and each way it fails.

/// A kubeconfig with two contexts: `config_context` selects the emulator's,
/// though the file's current context is another cluster.
#[test]
fn config_context_selects_a_cluster_of_the_kubeconfig() {
    let cluster = Secure::start("kubeconfig-token", false);
    let tf = Tf::new("provider-kubeconfig");
    let kubeconfig = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            cluster.kubeconfig_cluster("emulator"),
            {"name": "elsewhere", "cluster": {"server": "https://127.0.0.1:9"}},
        ],
        "users": [cluster.kubeconfig_user("emulator-admin"), {"name": "nobody", "user": {}}],
        "contexts": [
            {"name": "emulator", "context": {"cluster": "emulator", "user": "emulator-admin"}},
            {"name": "elsewhere", "context": {"cluster": "elsewhere", "user": "nobody"}},
        ],
        "current-context": "elsewhere",
    });
    let path = file(&tf, "kubeconfig.yaml", &kubeconfig.to_string());
    tf.config(&format!(
        "provider \"planton\" {{\n  config_path    = {}\n  config_context = \"emulator\"\n}}\n{}",
        hcl(&path.display().to_string()),
        job("hello", "greetings", None)
    ));
    tf.init();
    applies_to(&tf, &cluster);
    destroy(&tf);
    assert!(!cluster.namespace_exists("greetings"));
}

/// `host`, `token` and `cluster_ca_certificate`, no kubeconfig.
#[test]
fn host_token_and_ca_reach_the_cluster() {
    let cluster = Secure::start("static-token", false);
    let tf = Tf::new("provider-token");
    token_and_ca(&tf, &cluster, &cluster.token);
    tf.init();
    applies_to(&tf, &cluster);
}

/// A client certificate and key signed by the cluster's CA, no token.
#[test]
fn client_certificate_authenticates() {
    let cluster = Secure::start("unused-token", true);
    let tf = Tf::new("provider-client-cert");
    let ca = file(&tf, "ca.pem", &cluster.tls.ca_pem);
    let cert = file(&tf, "client.pem", &cluster.tls.client_cert_pem);
    let key = file(&tf, "client-key.pem", &cluster.tls.client_key_pem);
    let path = |p: &Path| hcl(&p.display().to_string());
    tf.config(&format!(
        "provider \"planton\" {{\n  host                   = {}\n  cluster_ca_certificate = file({})\n  client_certificate     = file({})\n  client_key             = file({})\n}}\n{}",
        hcl(&cluster.url),
        path(&ca),
        path(&cert),
        path(&key),
        job("hello", "greetings", None)
    ));
    tf.init();
    applies_to(&tf, &cluster);
}

fn exec_provider(cluster: &Secure, ca: &Path, plugin: &Path) -> String {
    format!(
        r#"provider "planton" {{
  host                   = {}
  cluster_ca_certificate = file({})
  exec = {{
    api_version = "client.authentication.k8s.io/v1"
    command     = {}
    args        = ["--cluster", "emulator"]
    env = {{
      PLUGIN_TOKEN = {}
    }}
  }}
}}
"#,
        hcl(&cluster.url),
        hcl(&ca.display().to_string()),
        hcl(&plugin.display().to_string()),
        hcl(&cluster.token),
    )
}

/// An exec plugin (a script printing an ExecCredential with the token it
/// gets through `exec.env`) authenticates.
#[test]
fn exec_plugin_token_authenticates() {
    let cluster = Secure::start("exec-token", false);
    let tf = Tf::new("provider-exec");
    let ca = file(&tf, "ca.pem", &cluster.tls.ca_pem);
    let plugin = script(
        &tf,
        "get-token.sh",
        r#"[ "$1 $2" = "--cluster emulator" ] || { echo "unexpected arguments: $*" >&2; exit 2; }
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\n' "$PLUGIN_TOKEN"
"#,
    );
    tf.config(&format!(
        "{}\n{}",
        exec_provider(&cluster, &ca, &plugin),
        job("hello", "greetings", None)
    ));
    tf.init();
    applies_to(&tf, &cluster);
}

/// `insecure = true` skips verifying the server and says so: a warning on
/// every plan and apply, naming the cluster.
#[test]
fn insecure_skips_verification_and_warns() {
    let cluster = Secure::start("insecure-token", false);
    let tf = world(
        "provider-insecure",
        &format!(
            "provider \"planton\" {{\n  host     = {}\n  token    = {}\n  insecure = true\n}}\n",
            hcl(&cluster.url),
            hcl(&cluster.token)
        ),
    );
    let out = apply(&tf);
    assert_eq!(out.code, 0, "apply failed:\n{out}");
    assert_eq!(cluster.jobs("greetings"), ["hello"]);
    let text = format!("{}{}", out.stdout, out.stderr);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("Warning: TLS Verification Disabled")
            && text.contains(&format!("the provider-level cluster at {}", cluster.url)),
        "no warning:\n{out}"
    );
}

/// A CA that did not sign the server's certificate: a TLS error naming the
/// cluster, its address and the cause.
#[test]
fn wrong_ca_is_a_tls_error() {
    let cluster = Secure::start("tls-token", false);
    let other = TlsBundle::generate().unwrap();
    let tf = world(
        "provider-wrong-ca",
        &format!(
            "provider \"planton\" {{\n  host                   = {}\n  token                  = {}\n  cluster_ca_certificate = {}\n}}\n",
            hcl(&cluster.url),
            hcl(&cluster.token),
            hcl(&other.ca_pem)
        ),
    );
    let out = apply(&tf);
    fails_with(
        &out,
        "Kubernetes TLS Handshake Failed",
        &[
            "the provider-level cluster",
            &cluster.url,
            "not signed by a CA the provider trusts",
            "cluster_ca_certificate",
        ],
    );
    refused_once(&out, &cluster, &cluster.token);
}

/// A token the cluster does not accept: 401, naming the cluster, its
/// address and which credentials were used (never the token itself).
#[test]
fn wrong_token_is_an_authentication_error() {
    let cluster = Secure::start("right-token", false);
    let tf = Tf::new("provider-wrong-token");
    token_and_ca(&tf, &cluster, "wrong-token");
    tf.init();
    let out = apply(&tf);
    fails_with(
        &out,
        "Kubernetes Authentication Failed",
        &[
            "Unauthorized",
            "the provider-level cluster at",
            &cluster.url,
            "did not accept the bearer token from `token`",
        ],
    );
    refused_once(&out, &cluster, "wrong-token");
}

/// Credentials the cluster accepts but whose user may not write Jobs in
/// the namespace: 403, with the server's words (the user it took the
/// provider for, the verb, the resource and the namespace), the cluster,
/// its address and which credentials were used (never the token itself).
#[test]
fn forbidden_names_the_user() {
    let cluster = Secure::start_with(
        "admin-token",
        EmulatorConfig {
            token_users: [("ci-token".to_string(), "ci".to_string())].into(),
            authorization: Authorization::default().deny(
                "ci",
                &["create", "update", "patch"],
                &["jobs"],
                &["greetings"],
            ),
            ..EmulatorConfig::fast()
        },
    );
    let tf = Tf::new("provider-forbidden");
    token_and_ca(&tf, &cluster, "ci-token");
    tf.init();
    let out = apply(&tf);
    fails_with(
        &out,
        "Permission Denied By Kubernetes",
        &[
            "Job greetings/hello",
            r#"User "ci" cannot create resource "jobs" in API group "batch" in the namespace "greetings""#,
            "the provider-level cluster at",
            &cluster.url,
            "authenticated with the bearer token from `token`",
        ],
    );
    refused_once(&out, &cluster, "ci-token");
}

/// An exec plugin that fails: its standard error is shown, with the
/// cluster and its address; its standard output and arguments are not.
#[test]
fn failing_exec_plugin_shows_its_stderr() {
    let cluster = Secure::start("exec-token", false);
    let tf = Tf::new("provider-exec-fails");
    let ca = file(&tf, "ca.pem", &cluster.tls.ca_pem);
    let plugin = script(
        &tf,
        "get-token.sh",
        "echo '{\"status\":{\"token\":\"stdout-secret\"}}'\necho 'error: the SSO session has expired; run aws sso login' >&2\nexit 3\n",
    );
    tf.config(&format!(
        "{}\n{}",
        exec_provider(&cluster, &ca, &plugin),
        job("hello", "greetings", None)
    ));
    tf.init();
    let out = apply(&tf);
    fails_with(
        &out,
        "Exec Credential Plugin Failed",
        &[
            "the provider-level cluster at",
            &cluster.url,
            "exit status: 3",
            "the SSO session has expired; run aws sso login",
            "get-token.sh` from `exec`",
        ],
    );
    assert!(
        !out.stderr.contains("stdout-secret"),
        "stdout leaked:\n{out}"
    );
    // Arguments are the plugin's settings: never shown.
    assert!(
        !out.stderr.contains("--cluster emulator"),
        "arguments shown:\n{out}"
    );
    assert!(!out.stderr.contains(&cluster.token), "env leaked:\n{out}");
    assert_eq!(
        cluster.requests(),
        json!([]),
        "no request without credentials"
    );
}

// ---------------------------------------------------------------------------
// Two clusters, one module, for_each.

/// `examples/multi-cluster` as written, with `~/.kube/config` holding the
/// contexts `east` and `west` of two emulators: the same job lands in each
/// cluster, and destroy removes both.
#[test]
fn one_module_reaches_two_clusters_with_for_each() {
    let east = Secure::start("east-token", false);
    let west = Secure::start("west-token", false);
    let tf = Tf::new("provider-multi-cluster");
    let kubeconfig = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [east.kubeconfig_cluster("east"), west.kubeconfig_cluster("west")],
        "users": [east.kubeconfig_user("east"), west.kubeconfig_user("west")],
        "contexts": [
            {"name": "east", "context": {"cluster": "east", "user": "east"}},
            {"name": "west", "context": {"cluster": "west", "user": "west"}},
        ],
    });
    fs::create_dir_all(tf.home().join(".kube")).unwrap();
    fs::write(tf.home().join(".kube/config"), kubeconfig.to_string()).unwrap();
    let dir = crate::harness::repo_root().join("examples/multi-cluster");
    tf.write("main.tf", fs::read(dir.join("main.tf")).unwrap());
    crate::examples::copy_subdirectories(&dir, &dir, &tf);
    tf.init();

    let out = apply(&tf);
    assert_eq!(out.code, 0, "apply failed:\n{out}");
    assert_eq!(east.jobs("reports"), ["nightly-report"]);
    assert_eq!(west.jobs("reports"), ["nightly-report"]);
    let outputs = tf.run(&["output", "-json"]).success().json();
    assert_eq!(
        outputs["reports"]["value"],
        json!({
            "east": {"cluster": "east", "id": "reports/nightly-report"},
            "west": {"cluster": "west", "id": "reports/nightly-report"}
        })
    );
    let plan = crate::harness::plan_exit(&tf);
    assert_eq!(plan.code, 0, "a second plan shows changes:\n{plan}");

    destroy(&tf);
    assert!(east.jobs("reports").is_empty() && !east.namespace_exists("reports"));
    assert!(west.jobs("reports").is_empty() && !west.namespace_exists("reports"));
}

// ---------------------------------------------------------------------------
// Settings known only after apply.

/// The provider's `host` comes from a resource created in the same apply:
/// the plan sends no request to any cluster (neither the one `host` will
/// name nor the one `~/.kube/config` names), and the apply uses the right
/// one.
#[test]
fn host_known_only_after_apply_plans_without_requests() {
    let target = Secure::start("target-token", false);
    let decoy = Secure::start("decoy-token", false);
    let tf = Tf::new("provider-unknown-host");
    // The user's default kubeconfig names another cluster: it must not be
    // used in place of the unknown host.
    let kubeconfig = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [decoy.kubeconfig_cluster("decoy")],
        "users": [decoy.kubeconfig_user("decoy")],
        "contexts": [{"name": "decoy", "context": {"cluster": "decoy", "user": "decoy"}}],
        "current-context": "decoy",
    });
    fs::create_dir_all(tf.home().join(".kube")).unwrap();
    fs::write(tf.home().join(".kube/config"), kubeconfig.to_string()).unwrap();
    let ca = file(&tf, "ca.pem", &target.tls.ca_pem);
    tf.config(&format!(
        r#"# Stands in for the resource that creates the cluster.
resource "terraform_data" "cluster" {{
  input = {}
}}

provider "planton" {{
  host                   = terraform_data.cluster.output
  token                  = {}
  cluster_ca_certificate = file({})
}}
{}"#,
        hcl(&target.url),
        hcl(&target.token),
        hcl(&ca.display().to_string()),
        job("hello", "greetings", None)
    ));
    tf.init();
    target.zero_requests();
    decoy.zero_requests();

    let plan = tf.plan();
    let actions: Vec<(String, Json)> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_string(),
                c["change"]["actions"].clone(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            (
                "planton_kubernetes_job.hello".to_string(),
                json!(["create"])
            ),
            ("terraform_data.cluster".to_string(), json!(["create"])),
        ]
    );
    assert_eq!(target.requests(), json!([]), "the plan reached the target");
    assert_eq!(
        decoy.requests(),
        json!([]),
        "the plan reached the default kubeconfig's cluster"
    );

    let out = tf.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "tfplan",
    ]);
    assert_eq!(out.code, 0, "apply failed:\n{out}");
    // (Counters first: looking at the decoy is a request too.)
    assert_eq!(
        decoy.requests(),
        json!([]),
        "the apply reached the default kubeconfig's cluster"
    );
    assert_eq!(target.jobs("greetings"), ["hello"]);
    assert!(decoy.jobs("greetings").is_empty());
}

// ---------------------------------------------------------------------------
// Nothing configured.

/// Listeners on the addresses a provider that falls back would dial
/// (localhost:80, :443, :8080); the ones that could be bound.
fn tripwires() -> Vec<(u16, TcpListener)> {
    [80, 443, 8080]
        .into_iter()
        .filter_map(|port| {
            let l = TcpListener::bind(("127.0.0.1", port)).ok()?;
            l.set_nonblocking(true).ok()?;
            Some((port, l))
        })
        .collect()
}

/// No provider settings, no `KUBE_*` variables, no kubeconfig: the plan
/// fails with one clear error, and no request reaches any address: not the
/// usual fallbacks on localhost, and not the API server a pod's
/// `KUBERNETES_SERVICE_*` variables name (without a service account token,
/// this is not a pod).
#[test]
fn nothing_configured_fails_the_plan_without_requests() {
    let pod_api = Secure::start("pod-token", false);
    let wires = tripwires();
    let tf = world("provider-nothing", "provider \"planton\" {}\n");
    pod_api.zero_requests();
    let port = pod_api.url.rsplit(':').next().unwrap().to_string();
    let mut cmd = tf.command(["plan", "-input=false", "-no-color"]);
    cmd.env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", &port);
    let result = cmd.output().unwrap();
    let out = Output {
        command: "terraform plan (nothing configured)".into(),
        code: result.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&result.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&result.stderr).into_owned(),
    };
    assert_eq!(errors(&out).len(), 1, "expected one error:\n{out}");
    fails_with(
        &out,
        "No Kubernetes Cluster Configured",
        &[
            "KUBECONFIG is not set and",
            ".kube/config does not exist",
            "never falls back to localhost",
        ],
    );
    assert_eq!(
        pod_api.requests(),
        json!([]),
        "a request reached the pod API address"
    );
    for (port, listener) in &wires {
        assert!(
            listener.accept().is_err(),
            "something connected to 127.0.0.1:{port}"
        );
    }
}

// ---------------------------------------------------------------------------
// Named clusters at plan time.

/// A job naming a cluster the provider does not configure fails the plan
/// on `spec.target_cluster.cluster_name`, listing the configured names; no
/// cluster is contacted.
#[test]
fn unknown_cluster_name_fails_the_plan() {
    let east = Secure::start("east-token", false);
    let provider = format!(
        "provider \"planton\" {{\n  clusters = {{\n    east = {{ host = {}, token = {} }}\n    west = {{ host = \"https://127.0.0.1:9\" }}\n  }}\n}}\n",
        hcl(&east.url),
        hcl(&east.token)
    );
    let tf = Tf::new("provider-unknown-cluster");
    tf.config(&format!(
        "{provider}\n{}",
        job("hello", "greetings", Some("north"))
    ));
    tf.init();
    east.zero_requests();
    let out = tf.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(errors(&out).len(), 1, "expected one error:\n{out}");
    fails_with(
        &out,
        "Unknown Target Cluster",
        &["\"north\"", "\"east\", \"west\"", "target_cluster"],
    );
    assert_eq!(east.requests(), json!([]));
}
