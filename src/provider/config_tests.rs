//! Tests of reading the provider block and resolving it into a kube Config.

use super::*;
use crate::tf::PathStep;

fn env(vars: &[(&str, &str)]) -> Environment {
    Environment::fixed(vars, "/nonexistent/serviceaccount")
}

fn block(pairs: &[(&str, Value)]) -> Value {
    Value::object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
}

fn s(v: &str) -> Value {
    Value::string(v)
}

fn parse(config: &Value, env: &Environment) -> (ProviderConfig, Diagnostics) {
    ProviderConfig::parse(config, env)
}

fn provider(config: &Value, env: &Environment) -> ConnectionSettings {
    let (p, d) = parse(config, env);
    assert!(!d.has_error(), "{d:?}");
    match p.provider {
        Parsed::Known(s) => *s,
        other => panic!("not known: {other:?}"),
    }
}

fn errors(d: &Diagnostics) -> Vec<(String, String)> {
    d.iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            (
                d.summary.clone(),
                d.path.as_ref().map(ToString::to_string).unwrap_or_default(),
            )
        })
        .collect()
}

fn attr(name: &str) -> Origin {
    Origin::Attribute(AttributePath::root(name))
}

/// Each attribute wins over its environment variable, and each variable is
/// used when the attribute is unset.
#[test]
fn attributes_win_over_environment() {
    let e = env(&[
        ("HOME", "/home/u"),
        (KUBE_CONFIG_PATH, "/env/config"),
        (KUBE_CTX, "env-ctx"),
        (KUBE_CTX_CLUSTER, "env-cluster"),
        (KUBE_CTX_AUTH_INFO, "env-user"),
        (KUBE_HOST, "https://env:6443"),
        (KUBE_TOKEN, "env-token"),
        (KUBE_CLUSTER_CA_CERT_DATA, "env-ca"),
        (KUBE_CLIENT_CERT_DATA, "env-cert"),
        (KUBE_CLIENT_KEY_DATA, "env-key"),
        (KUBE_INSECURE, "0"),
        (KUBE_TLS_SERVER_NAME, "env-name"),
        (KUBE_PROXY_URL, "http://env-proxy:3128"),
    ]);
    let from_env = provider(&Value::Null, &e);
    assert_eq!(
        from_env.kubeconfig,
        KubeconfigFiles::Named {
            paths: vec![PathBuf::from("/env/config")],
            origin: Origin::Env(KUBE_CONFIG_PATH)
        }
    );
    assert_eq!(from_env.context.unwrap().origin, Origin::Env(KUBE_CTX));
    assert_eq!(from_env.context_cluster.unwrap().value, "env-cluster");
    assert_eq!(from_env.context_auth_info.unwrap().value, "env-user");
    assert_eq!(from_env.host.unwrap().value, "https://env:6443");
    assert_eq!(from_env.token.unwrap().value.expose(), "env-token");
    assert_eq!(from_env.cluster_ca_certificate.unwrap().value, "env-ca");
    assert_eq!(from_env.client_certificate.unwrap().value, "env-cert");
    assert_eq!(from_env.client_key.unwrap().value.expose(), "env-key");
    let insecure = from_env.insecure.unwrap();
    assert!(!insecure.value);
    assert_eq!(insecure.origin, Origin::Env(KUBE_INSECURE));
    assert_eq!(from_env.tls_server_name.unwrap().value, "env-name");
    assert_eq!(from_env.proxy_url.unwrap().value, "http://env-proxy:3128");

    let config = block(&[
        ("config_path", s("~/attr/config")),
        ("config_context", s("ctx")),
        ("config_context_cluster", s("cluster")),
        ("config_context_auth_info", s("user")),
        ("host", s("https://attr:6443")),
        ("token", s("attr-token")),
        ("client_certificate", s("attr-cert")),
        ("client_key", s("attr-key")),
        ("insecure", Value::Bool(false)),
        ("tls_server_name", s("attr-name")),
        ("proxy_url", s("http://attr-proxy:3128")),
    ]);
    let from_attr = provider(&config, &e);
    assert_eq!(
        from_attr.kubeconfig,
        KubeconfigFiles::Named {
            paths: vec![PathBuf::from("/home/u/attr/config")],
            origin: attr("config_path")
        }
    );
    assert_eq!(
        from_attr.context.as_ref().unwrap().origin,
        attr("config_context")
    );
    assert_eq!(from_attr.context.unwrap().value, "ctx");
    assert_eq!(from_attr.context_cluster.unwrap().value, "cluster");
    assert_eq!(from_attr.context_auth_info.unwrap().value, "user");
    assert_eq!(from_attr.host.unwrap().origin, attr("host"));
    assert_eq!(from_attr.token.unwrap().value.expose(), "attr-token");
    assert_eq!(from_attr.client_certificate.unwrap().value, "attr-cert");
    assert_eq!(from_attr.client_key.unwrap().value.expose(), "attr-key");
    assert_eq!(from_attr.insecure.unwrap().origin, attr("insecure"));
    assert_eq!(from_attr.tls_server_name.unwrap().value, "attr-name");
    assert_eq!(from_attr.proxy_url.unwrap().value, "http://attr-proxy:3128");
}

/// Which kubeconfig: config_path(s), KUBE_CONFIG_PATH, KUBE_CONFIG_PATHS,
/// KUBECONFIG, ~/.kube/config, in that order.
#[test]
fn kubeconfig_file_precedence() {
    let all = [
        ("HOME", "/home/u"),
        (KUBE_CONFIG_PATH, "/one"),
        (KUBE_CONFIG_PATHS, "/two:/three"),
        ("KUBECONFIG", "/four:/five"),
    ];
    let files = |vars: &[(&str, &str)], config: &Value| provider(config, &env(vars)).kubeconfig;
    assert_eq!(
        files(
            &all,
            &block(&[("config_paths", Value::List(vec![s("/a"), s("/b")]))])
        ),
        KubeconfigFiles::Named {
            paths: vec![PathBuf::from("/a"), PathBuf::from("/b")],
            origin: attr("config_paths")
        }
    );
    assert!(matches!(
        files(&all, &Value::Null),
        KubeconfigFiles::Named {
            origin: Origin::Env(KUBE_CONFIG_PATH),
            ..
        }
    ));
    assert_eq!(
        files(
            &all[..1]
                .iter()
                .chain(&all[2..])
                .copied()
                .collect::<Vec<_>>(),
            &Value::Null
        ),
        KubeconfigFiles::Named {
            paths: vec![PathBuf::from("/two"), PathBuf::from("/three")],
            origin: Origin::Env(KUBE_CONFIG_PATHS)
        }
    );
    assert_eq!(
        files(&[all[0], all[3]], &Value::Null),
        KubeconfigFiles::KubeconfigEnv(vec![PathBuf::from("/four"), PathBuf::from("/five")])
    );
    assert_eq!(
        files(&[all[0]], &Value::Null),
        KubeconfigFiles::Home(PathBuf::from("/home/u/.kube/config"))
    );
    assert_eq!(files(&[], &Value::Null), KubeconfigFiles::Nowhere);
}

/// An explicit host without a named kubeconfig reads no kubeconfig at all,
/// so KUBECONFIG's credentials never reach that host; selecting a context
/// reads it again.
#[test]
fn host_alone_reads_no_kubeconfig() {
    let e = env(&[("HOME", "/home/u"), ("KUBECONFIG", "/default")]);
    let with_host = provider(&block(&[("host", s("https://h:6443"))]), &e);
    assert_eq!(with_host.kubeconfig, KubeconfigFiles::None);
    let via_env = provider(
        &Value::Null,
        &env(&[("KUBECONFIG", "/default"), (KUBE_HOST, "h")]),
    );
    assert_eq!(via_env.kubeconfig, KubeconfigFiles::None);
    let with_context = provider(
        &block(&[("host", s("https://h:6443")), ("config_context", s("c"))]),
        &e,
    );
    assert_eq!(
        with_context.kubeconfig,
        KubeconfigFiles::KubeconfigEnv(vec![PathBuf::from("/default")])
    );
}

/// An unknown attribute makes its scope unknown; the environment is not
/// consulted in its place, and other scopes are unaffected.
#[test]
fn unknown_values_are_never_replaced() {
    let e = env(&[(KUBE_HOST, "https://env:6443"), ("KUBECONFIG", "/k")]);
    let config = block(&[
        ("host", Value::UNKNOWN),
        (
            "clusters",
            Value::Map(
                [
                    ("a".to_string(), block(&[("host", s("https://a:6443"))])),
                    (
                        "b".to_string(),
                        block(&[
                            ("host", s("https://b:6443")),
                            (
                                "exec",
                                block(&[
                                    ("api_version", s("v1")),
                                    ("command", s("aws")),
                                    ("args", Value::List(vec![s("eks"), Value::UNKNOWN])),
                                ]),
                            ),
                        ]),
                    ),
                    ("c".to_string(), Value::UNKNOWN),
                ]
                .into_iter()
                .collect(),
            ),
        ),
    ]);
    let (p, d) = parse(&config, &e);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        p.provider,
        Parsed::Unknown(vec![AttributePath::root("host")])
    );
    let ClustersConfig::Known(clusters) = &p.clusters else {
        panic!("clusters unknown")
    };
    assert!(
        matches!(&clusters["a"], Parsed::Known(s) if s.host.as_ref().unwrap().value == "https://a:6443")
    );
    assert_eq!(
        clusters["b"],
        Parsed::Unknown(vec![
            AttributePath::root("clusters")
                .key("b")
                .attr("exec")
                .attr("args")
                .index(1)
        ])
    );
    assert_eq!(
        clusters["c"],
        Parsed::Unknown(vec![AttributePath::root("clusters").key("c")])
    );
    assert_eq!(
        p.cluster_names(),
        Some(vec!["a".to_string(), "b".to_string(), "c".to_string()])
    );

    let (p, _) = parse(&block(&[("clusters", Value::UNKNOWN)]), &e);
    assert_eq!(p.clusters, ClustersConfig::Unknown);
    assert_eq!(p.cluster_names(), None);
}

/// Empty strings and contradicting settings are errors on their paths.
#[test]
fn invalid_settings_are_errors() {
    let exec = block(&[("api_version", s("v1")), ("command", s("x"))]);
    type Case<'a> = (
        &'a str,
        Value,
        Vec<(&'a str, &'a str)>,
        Vec<(&'a str, &'a str)>,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "empty host",
            block(&[("host", s(""))]),
            vec![],
            vec![("Empty Provider Setting", "host")],
        ),
        (
            "empty path in a list",
            block(&[("config_paths", Value::List(vec![s("/a"), s("")]))]),
            vec![],
            vec![("Empty Provider Setting", "config_paths[1]")],
        ),
        (
            "config_path and config_paths",
            block(&[
                ("config_path", s("/a")),
                ("config_paths", Value::List(vec![s("/b")])),
            ]),
            vec![],
            vec![("Conflicting Provider Settings", "config_paths")],
        ),
        (
            "token and exec",
            block(&[("host", s("h")), ("token", s("t")), ("exec", exec.clone())]),
            vec![],
            vec![("Conflicting Provider Settings", "exec")],
        ),
        (
            "token from the environment and exec",
            block(&[("host", s("h")), ("exec", exec.clone())]),
            vec![(KUBE_TOKEN, "t")],
            vec![("Conflicting Provider Settings", "exec")],
        ),
        (
            "insecure with a CA",
            block(&[
                ("host", s("h")),
                ("insecure", Value::Bool(true)),
                ("cluster_ca_certificate", s("pem")),
            ]),
            vec![],
            vec![("Conflicting Provider Settings", "insecure")],
        ),
        (
            "a token over plain HTTP",
            block(&[
                ("host", s("http://api.example.com:8080")),
                ("token", s("t")),
            ]),
            vec![],
            vec![("Credentials Over Plain HTTP", "host")],
        ),
        (
            "a client key over plain HTTP",
            block(&[
                ("host", s("http://10.0.0.5")),
                ("client_certificate", s("cert")),
                ("client_key", s("key")),
            ]),
            vec![],
            vec![("Credentials Over Plain HTTP", "host")],
        ),
        (
            "a token over plain HTTP to this machine is only a warning",
            block(&[("host", s("http://127.0.0.1:8080")), ("token", s("t"))]),
            vec![],
            vec![],
        ),
        (
            "plain HTTP without credentials",
            block(&[("host", s("http://api.example.com"))]),
            vec![],
            vec![],
        ),
        (
            "KUBE_INSECURE not a bool",
            Value::Null,
            vec![(KUBE_INSECURE, "yes")],
            vec![("Invalid Environment Variable", "")],
        ),
        (
            "empty exec command",
            block(&[
                ("host", s("h")),
                (
                    "exec",
                    block(&[("api_version", s("v1")), ("command", s(""))]),
                ),
            ]),
            vec![],
            vec![("Empty Provider Setting", "exec.command")],
        ),
        (
            "cluster entry with nothing",
            block(&[(
                "clusters",
                Value::Map(
                    [("x".to_string(), block(&[("token", s("t"))]))]
                        .into_iter()
                        .collect(),
                ),
            )]),
            vec![],
            vec![("Cluster Without Connection Settings", "clusters[\"x\"]")],
        ),
        (
            "empty setting in a cluster entry",
            block(&[(
                "clusters",
                Value::Map(
                    [(
                        "x".to_string(),
                        block(&[("host", s("h")), ("tls_server_name", s(""))]),
                    )]
                    .into_iter()
                    .collect(),
                ),
            )]),
            vec![],
            vec![("Empty Provider Setting", "clusters[\"x\"].tls_server_name")],
        ),
    ];
    for (name, config, vars, want) in cases {
        let (_, d) = parse(&config, &env(&vars));
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(errors(&d), want, "{name}");
    }
}

/// Credentials to a loopback address over plain HTTP are a warning that
/// names the address and where the token came from.
#[test]
fn credentials_over_http_to_loopback_warn() {
    let (_, d) = parse(
        &block(&[("host", s("http://localhost:8001")), ("token", s("t"))]),
        &env(&[]),
    );
    let warnings: Vec<_> = d
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect();
    assert_eq!(warnings.len(), 1, "{d:?}");
    assert_eq!(warnings[0].summary, "Credentials Over Plain HTTP");
    assert!(warnings[0].detail.contains("http://localhost:8001"));
    assert!(!warnings[0].detail.contains("\"t\""));
}

/// A `clusters` entry reads no environment variable; one that selects a
/// context without a file reads the provider-level kubeconfig files.
#[test]
fn cluster_entries() {
    let e = env(&[
        (KUBE_TOKEN, "env-token"),
        (KUBE_CONFIG_PATH, "/shared"),
        ("HOME", "/home/u"),
    ]);
    let config = block(&[(
        "clusters",
        Value::Map(
            [
                (
                    "by-host".to_string(),
                    block(&[("host", s("https://a:6443"))]),
                ),
                (
                    "by-context".to_string(),
                    block(&[("config_context", s("b"))]),
                ),
                ("by-file".to_string(), block(&[("config_path", s("~/own"))])),
            ]
            .into_iter()
            .collect(),
        ),
    )]);
    let (p, d) = parse(&config, &e);
    assert!(d.is_empty(), "{d:?}");
    let ClustersConfig::Known(c) = p.clusters else {
        panic!()
    };
    let get = |n: &str| match &c[n] {
        Parsed::Known(s) => s.clone(),
        other => panic!("{n}: {other:?}"),
    };
    let by_host = get("by-host");
    assert!(by_host.token.is_none());
    assert_eq!(by_host.kubeconfig, KubeconfigFiles::None);
    assert_eq!(by_host.scope, Scope::Cluster("by-host".into()));
    assert_eq!(
        get("by-context").kubeconfig,
        KubeconfigFiles::Named {
            paths: vec![PathBuf::from("/shared")],
            origin: Origin::Env(KUBE_CONFIG_PATH)
        }
    );
    assert_eq!(
        get("by-file").kubeconfig,
        KubeconfigFiles::Named {
            paths: vec![PathBuf::from("/home/u/own")],
            origin: Origin::Attribute(
                AttributePath::root("clusters")
                    .key("by-file")
                    .attr("config_path")
            )
        }
    );
}

/// In a pod, the service account is used only when nothing at all is
/// configured: any attribute, named clusters, any KUBE_* variable,
/// KUBECONFIG or an existing ~/.kube/config turns it off.
#[test]
fn in_cluster_only_when_nothing_else() {
    let sa = tempfile::tempdir().unwrap();
    std::fs::write(sa.path().join("token"), "t").unwrap();
    let home = tempfile::tempdir().unwrap();
    let home_str = home.path().display().to_string();
    let pod = |extra: &[(&str, &str)]| {
        let mut vars = vec![
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
            ("HOME", home_str.as_str()),
        ];
        vars.extend_from_slice(extra);
        Environment::fixed(&vars, sa.path())
    };
    let s = provider(&Value::Null, &pod(&[]));
    assert_eq!(s.in_cluster.as_ref().unwrap().host, "10.0.0.1");

    assert!(
        provider(&Value::Null, &pod(&[(KUBE_CTX, "x")]))
            .in_cluster
            .is_none()
    );
    assert!(
        provider(&Value::Null, &pod(&[("KUBECONFIG", "/k")]))
            .in_cluster
            .is_none()
    );
    assert!(
        provider(&block(&[("insecure", Value::Bool(false))]), &pod(&[]))
            .in_cluster
            .is_none()
    );
    // Not in a pod: no service host.
    let outside = Environment::fixed(&[("HOME", home_str.as_str())], sa.path());
    assert!(provider(&Value::Null, &outside).in_cluster.is_none());
    // An existing ~/.kube/config wins.
    std::fs::create_dir_all(home.path().join(".kube")).unwrap();
    std::fs::write(home.path().join(".kube/config"), "").unwrap();
    assert!(provider(&Value::Null, &pod(&[])).in_cluster.is_none());
}

/// The schema: every connection attribute at the provider level and in a
/// `clusters` entry, secrets sensitive, descriptions naming their variable.
#[test]
fn schema_attributes() {
    let schema = provider_schema();
    let names: Vec<&str> = schema
        .block
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "config_path",
            "config_paths",
            "config_context",
            "config_context_cluster",
            "config_context_auth_info",
            "host",
            "token",
            "cluster_ca_certificate",
            "client_certificate",
            "client_key",
            "insecure",
            "tls_server_name",
            "proxy_url",
            "exec",
            "clusters",
        ]
    );
    for a in &schema.block.attributes {
        assert!(a.optional && !a.required && !a.computed, "{}", a.name);
        assert_eq!(
            a.sensitive,
            a.name == "token" || a.name == "client_key",
            "{}",
            a.name
        );
        assert!(!a.description.is_empty());
    }
    assert!(
        schema
            .block
            .attribute("host")
            .unwrap()
            .description
            .contains(KUBE_HOST)
    );
    let crate::tf::AttributeKind::Nested(clusters) =
        &schema.block.attribute("clusters").unwrap().kind
    else {
        panic!()
    };
    assert_eq!(clusters.nesting, Nesting::Map);
    assert_eq!(clusters.attributes.len(), 14);
    assert!(
        clusters
            .attributes
            .iter()
            .all(|a| !a.description.contains("KUBE_"))
    );
    assert!(
        schema
            .block
            .description
            .contains("never falls back to localhost")
    );
}

// ---------------------------------------------------------------------------
// Resolution

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

fn with_kubeconfig(path: &Path, pairs: &[(&str, Value)]) -> ConnectionSettings {
    let mut all = vec![("config_path", s(&path.display().to_string()))];
    all.extend(pairs.iter().cloned());
    provider(&block(&all), &env(&[]))
}

/// A kubeconfig with its current context, or the selected one; the
/// identity names the kubeconfig user, never a secret.
#[test]
fn resolves_kubeconfig_contexts() {
    let dir = tempfile::tempdir().unwrap();
    let path = kubeconfig_file(dir.path(), KUBECONFIG);
    let r = resolve(&with_kubeconfig(&path, &[])).unwrap();
    assert_eq!(r.endpoint, "https://one.example:6443");
    assert_eq!(r.identity, "the kubeconfig user \"alice\" (bearer token)");
    assert!(r.warnings.is_empty());
    assert!(!r.identity.contains("alice-token"));

    let r = resolve(&with_kubeconfig(&path, &[("config_context", s("ctx-two"))])).unwrap();
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
    let r = resolve(&with_kubeconfig(
        &path,
        &[
            ("config_context_cluster", s("two")),
            ("config_context_auth_info", s("alice")),
            ("insecure", Value::Bool(false)),
        ],
    ))
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
    let r = resolve(&with_kubeconfig(
        &path,
        &[
            ("host", s("https://override.example:443")),
            ("token", s("explicit-token")),
            ("cluster_ca_certificate", s(&p.ca)),
            ("tls_server_name", s("kubernetes")),
        ],
    ))
    .unwrap();
    assert_eq!(r.endpoint, "https://override.example:443");
    assert_eq!(r.config.tls_server_name.as_deref(), Some("kubernetes"));
    assert_eq!(r.config.root_cert.as_ref().unwrap().len(), 1);
    assert!(r.config.auth_info.token.is_some());
    assert!(r.config.auth_info.exec.is_none());
    assert_eq!(r.identity, "the bearer token from `token`");

    // exec replaces the kubeconfig user's token.
    let exec = block(&[
        ("api_version", s("client.authentication.k8s.io/v1")),
        ("command", s("/bin/plugin")),
        ("args", Value::List(vec![s("a")])),
        (
            "env",
            Value::Map([("K".to_string(), s("V"))].into_iter().collect()),
        ),
    ]);
    let r = resolve(&with_kubeconfig(&path, &[("exec", exec)])).unwrap();
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
    let settings = provider(
        &block(&[
            ("host", s("127.0.0.1:6443")),
            ("cluster_ca_certificate", s(&p.ca)),
            ("client_certificate", s(&p.cert)),
            ("client_key", s(&p.key)),
        ]),
        &env(&[("KUBECONFIG", "/does/not/matter")]),
    );
    let r = resolve(&settings).unwrap();
    assert_eq!(r.endpoint, "https://127.0.0.1:6443");
    assert!(r.config.auth_info.client_certificate_data.is_some());
    assert_eq!(
        r.identity,
        "the client certificate from `client_certificate`"
    );
    assert!(!format!("{r:?}").contains("PRIVATE KEY"));
    assert!(!format!("{settings:?}").contains("PRIVATE KEY"));

    let insecure = provider(
        &block(&[("host", s("https://h:1")), ("insecure", Value::Bool(true))]),
        &env(&[]),
    );
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

    let d = resolve_err(&with_kubeconfig(&path, &[("config_context", s("nope"))]));
    assert_eq!(d.summary, "Kubeconfig Context Not Found");
    assert!(
        d.detail.contains("\"nope\"") && d.detail.contains("\"ctx-one\", \"ctx-two\""),
        "{}",
        d.detail
    );

    let d = resolve_err(&with_kubeconfig(
        &path,
        &[("config_context_auth_info", s("carol"))],
    ));
    assert_eq!(d.summary, "Kubeconfig User Not Found");
    assert!(d.detail.contains("\"alice\", \"bob\""), "{}", d.detail);

    let missing = dir.path().join("missing");
    let d = resolve_err(&with_kubeconfig(&missing, &[]));
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
    let d = resolve_err(&with_kubeconfig(&broken, &[]));
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

    let d = resolve_err(&provider(
        &block(&[("host", s("ftp://h")), ("token", s("t"))]),
        &env(&[]),
    ));
    assert_eq!(d.summary, "Invalid Provider Setting");
    assert_eq!(d.path.unwrap().to_string(), "host");

    let b64 = base64::engine::general_purpose::STANDARD.encode(&p.ca);
    let d = resolve_err(&provider(
        &block(&[("host", s("h")), ("cluster_ca_certificate", s(&b64))]),
        &env(&[]),
    ));
    assert!(d.detail.contains("base64decode"), "{}", d.detail);
    assert_eq!(d.path.unwrap().to_string(), "cluster_ca_certificate");

    let d = resolve_err(&provider(
        &block(&[("host", s("h")), ("client_certificate", s(&p.cert))]),
        &env(&[]),
    ));
    assert_eq!(d.path.unwrap().to_string(), "client_key");

    let d = resolve_err(&provider(
        &block(&[
            ("host", s("h")),
            ("client_certificate", s(&p.cert)),
            ("client_key", s("nope")),
        ]),
        &env(&[]),
    ));
    assert!(d.detail.contains("not a PEM-encoded private key"));
    assert!(!d.detail.contains("nope"));

    let d = resolve_err(&provider(
        &block(&[("host", s("h")), ("proxy_url", s("socks5://p:1080"))]),
        &env(&[]),
    ));
    assert_eq!(d.path.unwrap().to_string(), "proxy_url");

    let home = tempfile::tempdir().unwrap();
    let home = home.path().display().to_string();
    let d = resolve_err(&provider(&Value::Null, &env(&[("HOME", &home)])));
    assert_eq!(d.summary, "No Kubernetes Cluster Configured");
    assert!(d.detail.contains("never falls back to localhost"));
    assert!(
        d.detail.contains(".kube/config does not exist"),
        "{}",
        d.detail
    );

    // Files KUBECONFIG lists that do not exist are skipped, as kubectl does.
    let real = kubeconfig_file(dir.path(), KUBECONFIG);
    let listed = format!("{}:{}", dir.path().join("gone").display(), real.display());
    let r = resolve(&provider(&Value::Null, &env(&[("KUBECONFIG", &listed)]))).unwrap();
    assert_eq!(r.endpoint, "https://one.example:6443");
    let gone = dir.path().join("gone").display().to_string();
    let d = resolve_err(&provider(
        &Value::Null,
        &env(&[("KUBECONFIG", &gone), ("HOME", &home)]),
    ));
    assert_eq!(d.summary, "No Kubernetes Cluster Configured");
    assert!(
        d.detail
            .contains("none of the files KUBECONFIG lists exists"),
        "{}",
        d.detail
    );

    let d = resolve_err(&provider(
        &block(&[("config_context", s("x"))]),
        &env(&[("HOME", &home)]),
    ));
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
    let e = Environment::fixed(&[("KUBERNETES_SERVICE_HOST", "10.0.0.1")], sa.path());
    let r = resolve(&provider(&Value::Null, &e)).unwrap();
    assert_eq!(r.endpoint, "https://10.0.0.1:443");
    assert_eq!(r.config.default_namespace, "jobs");
    assert_eq!(r.identity, "the pod's service account");
    assert!(r.config.auth_info.token_file.unwrap().ends_with("/token"));
}

/// Scopes render as users read them and build their attribute paths.
#[test]
fn scopes() {
    let c = Scope::Cluster("prod".into());
    assert_eq!(c.to_string(), "cluster \"prod\"");
    assert_eq!(c.attr("host").to_string(), "clusters[\"prod\"].host");
    assert_eq!(
        Scope::Provider.attr("host").0,
        vec![PathStep::Attribute("host".into())]
    );
    assert_eq!(format!("{:?}", Secret::new("s3cr3t")), "Secret(<redacted>)");
}
