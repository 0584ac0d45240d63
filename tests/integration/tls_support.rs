//! `Pki`: a CA, a server certificate for `localhost` and 127.0.0.1, and a client
//! certificate, generated per test (rcgen) and written as PEM files into a temporary
//! directory; and the rustls server configurations the test servers use.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use tempfile::TempDir;
use tokio_rustls::TlsAcceptor;

/// Certificates for one test, their PEM files under `dir`.
pub struct Pki {
    pub dir: TempDir,
    ca: Certificate,
    ca_key: KeyPair,
    server: Certificate,
    server_key: KeyPair,
}

impl Pki {
    /// A CA; a server certificate it signs for `localhost` and 127.0.0.1; and a client
    /// certificate it signs: `ca.pem`, `client.pem`, `client-key.pem` under `dir`.
    pub fn generate() -> Self {
        Self::with_server(|_| {})
    }

    /// `generate`, with the server certificate's parameters changed by `edit` (an expired
    /// one, one for another name).
    pub fn with_server(edit: impl FnOnce(&mut CertificateParams)) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "planrun test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();

        let mut server_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        server_params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        edit(&mut server_params);
        let server_key = KeyPair::generate().unwrap();
        let server = server_params.signed_by(&server_key, &ca, &ca_key).unwrap();

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        let pki = Self {
            dir,
            ca,
            ca_key,
            server,
            server_key,
        };
        pki.write_client();
        pki
    }

    fn write_client(&self) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "planrun test user");
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        std::fs::write(self.path("client.pem"), cert.pem()).unwrap();
        std::fs::write(self.path("client-key.pem"), key.serialize_pem()).unwrap();
    }

    /// A file under `dir`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The CA certificate, as `tls.ca-file` would give it.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    /// A TLS server with the server certificate; with `require_client_cert`, it
    /// refuses clients without a certificate from the CA.
    pub fn acceptor(&self, require_client_cert: bool) -> TlsAcceptor {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.ca_der()).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.serialize_der()));
        let config = builder
            .with_single_cert(vec![self.server.der().clone()], key)
            .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }
}

/// The `tls:` block trusting `pki`'s CA, for a plan.
pub fn ca_block(pki: &Pki) -> String {
    format!("tls:\n  ca-file: {}\n", pki.path("ca.pem").display())
}
