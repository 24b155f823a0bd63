//! Tests of reading the provider block and the environment into settings.

use super::*;
use crate::tf::Severity;

fn env(vars: &[(&str, &str)]) -> Environment {
    Environment::fixed(vars, "/nonexistent/serviceaccount")
}

fn block(pairs: &[(&str, Value)]) -> Value {
    Value::object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
}

fn s(v: &str) -> Value {
    Value::string(v)
}

fn parse(config: &Value, env: &Environment) -> (ProviderSettings, Diagnostics) {
    super::parse(config, env)
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
