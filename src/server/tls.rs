//! AutoMTLS as go-plugin does it: the client puts its certificate in
//! PLUGIN_CLIENT_CERT, we answer with a certificate generated at start (sent
//! in the handshake line), and each side trusts exactly the other's
//! certificate.
//!
//! Two details matter with Terraform's Go client: its certificate is a
//! self-signed CA used as a leaf, which webpki-based verifiers reject, so we
//! compare bytes instead; and it is ECDSA P-521, which only the aws-lc-rs
//! provider verifies (with ring, Go silently sends no certificate at all).

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};

use super::clock::UtcDateTime;

/// What went wrong setting up TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// PLUGIN_CLIENT_CERT is not a PEM certificate.
    #[error("PLUGIN_CLIENT_CERT does not hold a PEM certificate: {0}")]
    ClientCert(String),
    /// Generating our certificate failed.
    #[error("could not generate the server certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("could not configure TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// A certificate and its key, generated at start. go-plugin makes both
/// ends' certificates the same way, so the protocol tests use this for
/// Terraform's side too.
#[derive(Debug)]
pub struct Identity {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    pem: String,
}

impl Identity {
    /// The server's certificate: [`Identity::generate_for`] with our name as
    /// the organization.
    pub fn generate() -> Result<Identity, TlsError> {
        Identity::generate_for("terraform-provider-planton")
    }

    /// Generates a certificate shaped like go-plugin's: self-signed ECDSA
    /// P-521, CA flag set, usable for server and client auth, with SAN
    /// `localhost` (the name Terraform's client verifies) and `organization`
    /// in the subject (go-plugin's is "HashiCorp").
    pub fn generate_for(organization: &str) -> Result<Identity, TlsError> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };

        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512)?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(DnType::OrganizationName, organization);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        // From yesterday (clock skew) for 30 years, like go-plugin.
        let today = UtcDateTime::from_system_time(std::time::SystemTime::now());
        let yesterday = UtcDateTime::from_system_time(
            std::time::SystemTime::now() - std::time::Duration::from_secs(86_400),
        );
        let (y, m, d) = ymd(yesterday.year, yesterday.month, yesterday.day);
        params.not_before = rcgen::date_time_ymd(y, m, d);
        let (y, m, d) = ymd(today.year + 30, today.month, today.day.min(28));
        params.not_after = rcgen::date_time_ymd(y, m, d);
        let cert = params.self_signed(&key)?;
        Ok(Identity {
            pem: cert.pem(),
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// The certificate's DER, as sent in the handshake line.
    pub fn cert_der(&self) -> &[u8] {
        self.cert.as_ref()
    }

    /// The certificate.
    pub fn cert(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The certificate as PEM, as PLUGIN_CLIENT_CERT carries it.
    pub fn cert_pem(&self) -> &str {
        &self.pem
    }

    /// The private key, for a TLS configuration.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// Narrows calendar fields for `rcgen::date_time_ymd`, which panics on an
/// invalid date; the fields come from our own calendar code, so they are
/// valid, and the fallbacks only guard against a clock beyond year 9999.
fn ymd(year: i64, month: u32, day: u32) -> (i32, u8, u8) {
    let year = i32::try_from(year).unwrap_or(9999).clamp(1970, 9999);
    let month = u8::try_from(month)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .unwrap_or(1);
    let day = u8::try_from(day)
        .ok()
        .filter(|d| (1..=28).contains(d))
        .unwrap_or(1);
    (year, month, day)
}

/// Parses the PEM in PLUGIN_CLIENT_CERT.
pub fn parse_client_cert(pem: &str) -> Result<CertificateDer<'static>, TlsError> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| TlsError::ClientCert(e.to_string()))
}

/// The rustls server configuration: our certificate, exactly one trusted
/// client certificate, ALPN `h2` (grpc-go refuses TLS without it).
pub fn server_config(
    identity: &Identity,
    client_cert: CertificateDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedClientCert::new(client_cert, &provider));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![identity.cert.clone()], identity.key())?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts exactly one client certificate, compared byte for byte, and
/// checks that the client holds its key.
#[derive(Debug)]
pub struct PinnedClientCert {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    /// Pins `cert`, verifying handshake signatures with `provider`'s
    /// algorithms.
    pub fn new(cert: CertificateDer<'static>, provider: &CryptoProvider) -> Self {
        PinnedClientCert {
            pinned: cert,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hints: Go then offers its certificate without matching issuers.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn generated_certificate_is_a_localhost_ca() {
        let id = Identity::generate().unwrap();
        let der = id.cert_der();
        // DER SEQUENCE; "localhost" appears as CN and as a SAN dNSName.
        assert_eq!(der[0], 0x30);
        let needle = b"localhost";
        let count = der.windows(needle.len()).filter(|w| w == needle).count();
        assert!(count >= 2, "expected CN and SAN localhost");
        // A config can be built from it.
        let client = Identity::generate().unwrap();
        server_config(&id, client.cert.clone()).unwrap();
    }

    #[test]
    fn client_cert_pem_parses_and_garbage_does_not() {
        let id = Identity::generate().unwrap();
        assert_eq!(
            parse_client_cert(id.cert_pem()).unwrap().as_ref(),
            id.cert_der()
        );
        assert!(parse_client_cert("not a certificate").is_err());
    }

    #[test]
    fn only_the_pinned_certificate_is_accepted() {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let pinned = Identity::generate().unwrap();
        let other = Identity::generate().unwrap();
        let v = PinnedClientCert::new(pinned.cert.clone(), &provider);
        let now = UnixTime::now();
        assert!(v.verify_client_cert(&pinned.cert, &[], now).is_ok());
        assert!(v.verify_client_cert(&other.cert, &[], now).is_err());
        assert!(v.client_auth_mandatory());
        assert!(
            v.supported_verify_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
        );
    }
}
