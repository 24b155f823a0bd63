//! Tests of resolving connection settings into a kube Config. Settings are
//! written as a provider block would leave them.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::kube::settings::{ExecSettings, Scope, Secret};
use crate::tf::{AttributePath, Diagnostic};

fn attr(name: &str) -> Origin {
    Origin::Attribute(AttributePath::root(name))
}

/// A provider-level setting from its attribute.
fn set<T>(name: &str, value: T) -> Option<Setting<T>> {
    Some(Setting {
        value,
        origin: attr(name),
    })
}

/// Provider-level settings with nothing but what `f` sets.
fn settings(f: impl FnOnce(&mut ConnectionSettings)) -> ConnectionSettings {
    let mut s = ConnectionSettings::empty(Scope::Provider);
    f(&mut s);
    s
}

/// No attribute set: the kubeconfig files the environment points at.
fn files(kubeconfig: KubeconfigFiles) -> ConnectionSettings {
    settings(|s| s.kubeconfig = kubeconfig)
}

struct Pki {
    ca: String,
    cert: String,
    key: String,
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["client".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    Pki {
        ca: ca.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: one
  cluster:
    server: https://one.example:6443
- name: two
  cluster:
    server: https://two.example:6443
    insecure-skip-tls-verify: true
contexts:
- name: ctx-one
  context:
    cluster: one
    user: alice
- name: ctx-two
  context:
    cluster: two
    user: bob
current-context: ctx-one
users:
- name: alice
  user:
    token: alice-token
- name: bob
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: get-token
      args: [--cluster, two]
";

fn kubeconfig_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config");
    std::fs::write(&path, text).unwrap();
    path
}

/// `config_path` names `path`, and `f` sets the rest.
fn with_kubeconfig(path: &Path, f: impl FnOnce(&mut ConnectionSettings)) -> ConnectionSettings {
    settings(|s| {
        s.kubeconfig = KubeconfigFiles::Named {
            paths: vec![path.to_path_buf()],
            origin: attr("config_path"),
        };
        f(s);
    })
}

/// A kubeconfig with its current context, or the selected one; the
/// identity names the kubeconfig user, never a secret.
#[test]
fn resolves_kubeconfig_contexts() {
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig_file(dir.path(), KUBECONFIG);
    let r = resolve(&with_kubeconfig(&path, |_| {})).unwrap();
    assert_eq!(r.endpoint, "https://one.example:6443");
    assert_eq!(r.identity, "the kubeconfig user \"alice\" (bearer token)");
    assert!(r.warnings.is_empty());
    assert!(!r.identity.contains("alice-token"));

    let r = resolve(&with_kubeconfig(&path, |s| {
        s.context = set("config_context", "ctx-two".into())
    }))
    .unwrap();
    assert_eq!(r.endpoint, "https://two.example:6443");
    assert!(
        r.identity.contains("exec plugin `get-token`"),
        "{}",
        r.identity
    );
    let exec = r.config.auth_info.exec.as_ref().unwrap();
    assert_eq!(exec.interactive_mode, Some(ExecInteractiveMode::Never));
    // The kubeconfig turns verification off: a warning says so.
    assert_eq!(r.warnings.0[0].summary, "TLS Verification Disabled");
    assert!(r.warnings.0[0].detail.contains("insecure-skip-tls-verify"));

    // Cluster and user overrides pick other entries of the same file.
    let r = resolve(&with_kubeconfig(&path, |s| {
        s.context_cluster = set("config_context_cluster", "two".into());
        s.context_auth_info = set("config_context_auth_info", "alice".into());
        s.insecure = set("insecure", false);
    }))
    .unwrap();
    assert_eq!(r.endpoint, "https://two.example:6443");
    assert!(!r.config.accept_invalid_certs);
    assert!(r.identity.contains("\"alice\""));
}

/// Explicit settings override the kubeconfig's, as in hashicorp's provider.
#[test]
fn explicit_settings_override_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig_file(dir.path(), KUBECONFIG);
    let p = pki();
    let r = resolve(&with_kubeconfig(&path, |s| {
        s.host = set("host", "https://override.example:443".into());
        s.token = set("token", Secret::new("explicit-token"));
        s.cluster_ca_certificate = set("cluster_ca_certificate", p.ca.clone());
        s.tls_server_name = set("tls_server_name", "kubernetes".into());
    }))
    .unwrap();
    assert_eq!(r.endpoint, "https://override.example:443");
    assert_eq!(r.config.tls_server_name.as_deref(), Some("kubernetes"));
    assert_eq!(r.config.root_cert.as_ref().unwrap().len(), 1);
    assert!(r.config.auth_info.token.is_some());
    assert!(r.config.auth_info.exec.is_none());
    assert_eq!(r.identity, "the bearer token from `token`");

    // exec replaces the kubeconfig user's token.
    let exec = ExecSettings {
        api_version: "client.authentication.k8s.io/v1".into(),
        command: "/bin/plugin".into(),
        args: vec!["a".into()],
        env: BTreeMap::from([("K".to_string(), "V".to_string())]),
    };
    let r = resolve(&with_kubeconfig(&path, |s| s.exec = set("exec", exec))).unwrap();
    assert!(r.config.auth_info.token.is_none());
    let e = r.config.auth_info.exec.unwrap();
    assert_eq!(e.command.as_deref(), Some("/bin/plugin"));
    assert_eq!(e.env.unwrap()[0]["name"], "K");
    assert_eq!(e.interactive_mode, Some(ExecInteractiveMode::Never));
    assert_eq!(r.identity, "the exec plugin `/bin/plugin` from `exec`");
}

/// host, token, CA and client certificates alone, without any kubeconfig.
#[test]
fn resolves_explicit_settings_alone() {
    let p = pki();
    // `host` without a named kubeconfig: `KUBECONFIG` is not read.
    let explicit = settings(|s| {
        s.host = set("host", "127.0.0.1:6443".into());
        s.cluster_ca_certificate = set("cluster_ca_certificate", p.ca.clone());
        s.client_certificate = set("client_certificate", p.cert.clone());
        s.client_key = set("client_key", Secret::new(p.key.clone()));
    });
    let r = resolve(&explicit).unwrap();
    assert_eq!(r.endpoint, "https://127.0.0.1:6443");
    assert!(r.config.auth_info.client_certificate_data.is_some());
    assert_eq!(
        r.identity,
        "the client certificate from `client_certificate`"
    );
    assert!(!format!("{r:?}").contains("PRIVATE KEY"));
    assert!(!format!("{explicit:?}").contains("PRIVATE KEY"));

    let insecure = settings(|s| {
        s.host = set("host", "https://h:1".into());
        s.insecure = set("insecure", true);
    });
    let r = resolve(&insecure).unwrap();
    assert!(r.config.accept_invalid_certs);
    assert_eq!(r.warnings.0[0].summary, "TLS Verification Disabled");
    assert_eq!(
        r.warnings.0[0].path.as_ref().unwrap().to_string(),
        "insecure"
    );
    assert_eq!(r.identity, "no credentials (anonymous requests)");
}

fn resolve_err(s: &ConnectionSettings) -> Diagnostic {
    resolve(s).unwrap_err().diagnostic(&s.scope)
}

/// Each way resolution fails names the file, the setting and the cause.
#[test]
fn resolution_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig_file(dir.path(), KUBECONFIG);
    let p = pki();

    let d = resolve_err(&with_kubeconfig(&path, |s| {
        s.context = set("config_context", "nope".into())
    }));
    assert_eq!(d.summary, "Kubeconfig Context Not Found");
    assert!(
        d.detail.contains("\"nope\"") && d.detail.contains("\"ctx-one\", \"ctx-two\""),
        "{}",
        d.detail
    );

    let d = resolve_err(&with_kubeconfig(&path, |s| {
        s.context_auth_info = set("config_context_auth_info", "carol".into())
    }));
    assert_eq!(d.summary, "Kubeconfig User Not Found");
    assert!(d.detail.contains("\"alice\", \"bob\""), "{}", d.detail);

    let missing = dir.path().join("missing");
    let d = resolve_err(&with_kubeconfig(&missing, |_| {}));
    assert_eq!(d.summary, "Kubeconfig Not Found");
    assert!(
        d.detail.contains(&missing.display().to_string()) && d.detail.contains("`config_path`")
    );

    let broken = dir.path().join("broken");
    std::fs::write(
        &broken,
        "apiVersion: v1\nclusters:\n- name: a\n  cluster: [unclosed\n",
    )
    .unwrap();
    let d = resolve_err(&with_kubeconfig(&broken, |_| {}));
    assert_eq!(d.summary, "Invalid Kubeconfig");
    assert!(
        d.detail.contains(&broken.display().to_string()),
        "{}",
        d.detail
    );
    assert!(
        d.detail.contains("line 4 column"),
        "no line in: {}",
        d.detail
    );
    // The parser's excerpt of the file (which could show a token) is dropped.
    assert!(!d.detail.contains("unclosed"), "{}", d.detail);

    let d = resolve_err(&settings(|s| {
        s.host = set("host", "ftp://h".into());
        s.token = set("token", Secret::new("t"));
    }));
    assert_eq!(d.summary, "Invalid Provider Setting");
    assert_eq!(d.path.unwrap().to_string(), "host");

    let b64 = base64::engine::general_purpose::STANDARD.encode(&p.ca);
    let d = resolve_err(&settings(|s| {
        s.host = set("host", "h".into());
        s.cluster_ca_certificate = set("cluster_ca_certificate", b64.clone());
    }));
    assert!(d.detail.contains("base64decode"), "{}", d.detail);
    assert_eq!(d.path.unwrap().to_string(), "cluster_ca_certificate");

    let d = resolve_err(&settings(|s| {
        s.host = set("host", "h".into());
        s.client_certificate = set("client_certificate", p.cert.clone());
    }));
    assert_eq!(d.path.unwrap().to_string(), "client_key");

    let d = resolve_err(&settings(|s| {
        s.host = set("host", "h".into());
        s.client_certificate = set("client_certificate", p.cert.clone());
        s.client_key = set("client_key", Secret::new("nope"));
    }));
    assert!(d.detail.contains("not a PEM-encoded private key"));
    assert!(!d.detail.contains("nope"));

    let d = resolve_err(&settings(|s| {
        s.host = set("host", "h".into());
        s.proxy_url = set("proxy_url", "socks5://p:1080".into());
    }));
    assert_eq!(d.path.unwrap().to_string(), "proxy_url");

    let home = tempfile::tempdir().unwrap();
    let home_config = home.path().join(".kube").join("config");
    let d = resolve_err(&files(KubeconfigFiles::Home(home_config.clone())));
    assert_eq!(d.summary, "No Kubernetes Cluster Configured");
    assert!(d.detail.contains("never falls back to localhost"));
    assert!(
        d.detail.contains(".kube/config does not exist"),
        "{}",
        d.detail
    );

    // Files KUBECONFIG lists that do not exist are skipped, as kubectl does.
    let real = kubeconfig_file(dir.path(), KUBECONFIG);
    let listed = vec![dir.path().join("gone"), real];
    let r = resolve(&files(KubeconfigFiles::KubeconfigEnv(listed))).unwrap();
    assert_eq!(r.endpoint, "https://one.example:6443");
    let gone = dir.path().join("gone");
    let d = resolve_err(&files(KubeconfigFiles::KubeconfigEnv(vec![gone])));
    assert_eq!(d.summary, "No Kubernetes Cluster Configured");
    assert!(
        d.detail
            .contains("none of the files KUBECONFIG lists exists"),
        "{}",
        d.detail
    );

    let d = resolve_err(&settings(|s| {
        s.kubeconfig = KubeconfigFiles::Home(home_config);
        s.context = set("config_context", "x".into());
    }));
    assert_eq!(d.summary, "No Kubeconfig To Select From");
    assert_eq!(d.path.unwrap().to_string(), "config_context");
}

/// The in-cluster configuration reads the service account directory.
#[test]
fn resolves_in_cluster() {
    let sa = tempfile::tempdir().unwrap();
    std::fs::write(sa.path().join("token"), "t").unwrap();
    std::fs::write(sa.path().join("ca.crt"), pki().ca).unwrap();
    std::fs::write(sa.path().join("namespace"), "jobs\n").unwrap();
    let in_pod = settings(|s| {
        s.in_cluster = Some(InCluster {
            host: "10.0.0.1".into(),
            port: "443".into(),
            dir: sa.path().to_path_buf(),
        })
    });
    let r = resolve(&in_pod).unwrap();
    assert_eq!(r.endpoint, "https://10.0.0.1:443");
    assert_eq!(r.config.default_namespace, "jobs");
    assert_eq!(r.identity, "the pod's service account");
    assert!(r.config.auth_info.token_file.unwrap().ends_with("/token"));
}
