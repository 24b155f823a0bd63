//! Generated certificates (a CA, a server certificate for 127.0.0.1/localhost, a
//! client certificate for client-certificate auth) and the kubeconfig that names them.

use std::sync::Arc;

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// PEM material for one emulator run.
#[derive(Clone, Debug)]
pub struct TlsBundle {
    /// The CA certificate (clients trust it; it signed the others).
    pub ca_pem: String,
    /// The server certificate.
    pub server_cert_pem: String,
    /// The server key.
    pub server_key_pem: String,
    /// A client certificate (CN `kube-emulator-admin`, O `system:masters`): the
    /// [`ADMIN_USER`](crate::authz::ADMIN_USER).
    pub client_cert_pem: String,
    /// Its key.
    pub client_key_pem: String,
    ca_key_pem: String,
    ca_der: Vec<u8>,
    server_cert_der: Vec<u8>,
    server_key_der: Vec<u8>,
}

/// Why certificates could not be made or loaded.
#[derive(Debug)]
pub struct TlsError(pub String);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

fn err(e: impl std::fmt::Display) -> TlsError {
    TlsError(e.to_string())
}

impl TlsBundle {
    /// Generate a fresh CA, server and client certificate.
    pub fn generate() -> Result<Self, TlsError> {
        let ca_key = KeyPair::generate().map_err(err)?;
        let ca_key_pem = ca_key.serialize_pem();
        let ca_params = ca_params()?;
        let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().map_err(err)?;
        let mut server_params =
            CertificateParams::new(vec!["localhost".to_string(), "kubernetes".to_string()])
                .map_err(err)?;
        server_params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "kube-apiserver");
        server_params.distinguished_name = dn;
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server_params.signed_by(&server_key, &issuer).map_err(err)?;

        let (client_cert_pem, client_key_pem) =
            client_certificate(&issuer, crate::authz::ADMIN_USER, &["system:masters"])?;

        Ok(Self {
            ca_pem: ca_cert.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_cert_pem,
            client_key_pem,
            ca_key_pem,
            ca_der: ca_cert.der().to_vec(),
            server_cert_der: server_cert.der().to_vec(),
            server_key_der: server_key.serialize_der(),
        })
    }

    /// A client certificate and key (PEM) for the user `name` (the subject's
    /// common name) in the `groups` (its organizations), signed by this CA:
    /// with client-certificate auth, its requests are `name`'s.
    pub fn client_certificate(
        &self,
        name: &str,
        groups: &[&str],
    ) -> Result<(String, String), TlsError> {
        let key = KeyPair::from_pem(&self.ca_key_pem).map_err(err)?;
        client_certificate(&Issuer::new(ca_params()?, key), name, groups)
    }

    /// A rustls server configuration; with `client_auth`, client certificates signed
    /// by the CA are verified when presented (requests without one fall back to tokens).
    pub fn server_config(&self, client_auth: bool) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(err)?;
        let certs = vec![CertificateDer::from(self.server_cert_der.clone())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone()));
        let mut config = if client_auth {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from(self.ca_der.clone()))
                .map_err(err)?;
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(err)?;
            builder
                .with_client_cert_verifier(verifier)
                .with_single_cert(certs, key)
                .map_err(err)?
        } else {
            builder
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .map_err(err)?
        };
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The CA's parameters; the same every time, so that the CA key alone can
/// sign more certificates later.
fn ca_params() -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "kube-emulator-ca");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

fn client_certificate(
    issuer: &Issuer<'_, KeyPair>,
    name: &str,
    groups: &[&str],
) -> Result<(String, String), TlsError> {
    let key = KeyPair::generate().map_err(err)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    for g in groups {
        dn.push(DnType::OrganizationName, *g);
    }
    params.distinguished_name = dn;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, issuer).map_err(err)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// The user a verified client certificate (DER) authenticates as: its
/// subject's common name, as kube-apiserver's x509 authenticator takes it;
/// `None` without one.
pub fn certificate_user(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?.as_str().ok()?;
    (!cn.is_empty()).then(|| cn.to_string())
}

/// Credentials a kubeconfig carries.
#[derive(Clone, Debug, Default)]
pub struct KubeconfigAuth<'a> {
    /// Bearer token.
    pub token: Option<&'a str>,
    /// Client certificate and key PEM.
    pub client_cert: Option<(&'a str, &'a str)>,
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// A kubeconfig (YAML) for `server`, context and cluster `kube-emulator`.
pub fn kubeconfig(server: &str, ca_pem: Option<&str>, auth: &KubeconfigAuth<'_>) -> String {
    let mut cluster = format!("    server: {server}\n");
    if let Some(ca) = ca_pem {
        cluster.push_str(&format!("    certificate-authority-data: {}\n", b64(ca)));
    }
    let mut user = String::new();
    if let Some(t) = auth.token {
        user.push_str(&format!("    token: {t}\n"));
    }
    if let Some((cert, key)) = auth.client_cert {
        user.push_str(&format!(
            "    client-certificate-data: {}\n    client-key-data: {}\n",
            b64(cert),
            b64(key)
        ));
    }
    if user.is_empty() {
        user.push_str("    {}\n");
        user = "  user: {}\n".to_string();
    } else {
        user = format!("  user:\n{user}");
    }
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-emulator\n  cluster:\n{cluster}contexts:\n- name: kube-emulator\n  context:\n    cluster: kube-emulator\n    user: kube-emulator\n    namespace: default\ncurrent-context: kube-emulator\nusers:\n- name: kube-emulator\n{user}preferences: {{}}\n"
    )
}
