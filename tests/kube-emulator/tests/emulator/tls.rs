//! HTTPS with a generated CA, bearer tokens and client certificates.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use kube_emulator::EmulatorConfig;
use kube_emulator::tls::TlsBundle;

use crate::util::{client_for, status_of};

/// Over TLS with a token, the kubeconfig's client works and a wrong token gets 401 Unauthorized.
#[tokio::test]
async fn tls_with_bearer_token() {
    let config = EmulatorConfig {
        tls: Some(Arc::new(TlsBundle::generate().unwrap())),
        token: Some("s3cret".into()),
        ..EmulatorConfig::fast()
    };
    let emu = kube_emulator::start(config).await.unwrap();
    assert!(emu.url.starts_with("https://127.0.0.1:"));
    let client = client_for(&emu.kubeconfig).await;
    let ns: Api<Namespace> = Api::all(client);
    assert!(ns.get("default").await.is_ok());
    let wrong = emu.kubeconfig.replace("token: s3cret", "token: nope");
    let ns: Api<Namespace> = Api::all(client_for(&wrong).await);
    let s = status_of(ns.get("default").await.unwrap_err());
    assert_eq!(
        (s.code, s.reason.as_str(), s.message.as_str()),
        (401, "Unauthorized", "Unauthorized")
    );
}

/// With client-certificate auth, the generated client certificate authenticates; none is refused.
#[tokio::test]
async fn tls_with_client_certificate() {
    let config = EmulatorConfig {
        tls: Some(Arc::new(TlsBundle::generate().unwrap())),
        client_cert_auth: true,
        ..EmulatorConfig::fast()
    };
    let emu = kube_emulator::start(config).await.unwrap();
    assert!(emu.kubeconfig.contains("client-certificate-data"));
    let ns: Api<Namespace> = Api::all(client_for(&emu.kubeconfig).await);
    assert!(ns.get("default").await.is_ok());
    let anonymous: String = emu
        .kubeconfig
        .lines()
        .filter(|l| !l.contains("client-certificate-data") && !l.contains("client-key-data"))
        .map(|l| format!("{l}\n"))
        .collect();
    let anonymous = anonymous.replace("  user:\n", "  user: {}\n");
    let ns: Api<Namespace> = Api::all(client_for(&anonymous).await);
    assert_eq!(status_of(ns.get("default").await.unwrap_err()).code, 401);
}
