//! TLS under planrun's HTTP/1.1 client: the rustls configuration, built once per run from
//! the plan's `TlsOptions` (roots loaded once), each user's own copy of it (its own
//! session-resumption store, as a browser profile has), the handshake, and why one failed
//! in plain words.

use std::io;
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use url::Url;

use crate::compile::{TlsOptions, TlsVersion};
use crate::engine::{Failure, LocalLimit, TlsFailure};

/// Sessions a user keeps for resumption: it talks to one host.
const SESSIONS_PER_USER: usize = 4;

/// The TLS settings every user starts from, built once per run.
#[derive(Debug, Clone)]
pub(crate) struct TlsConfig {
    shared: Arc<ClientConfig>,
    server_name: Option<ServerName<'static>>,
}

impl TlsConfig {
    /// The configuration `options` ask for: the system's roots and `ca-file`'s, or no
    /// verification at all; a client certificate; the versions offered.
    pub(crate) fn new(options: &TlsOptions) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: &[&rustls::SupportedProtocolVersion] = match options.min_version {
            TlsVersion::V1_2 => &[&rustls::version::TLS13, &rustls::version::TLS12],
            TlsVersion::V1_3 => &[&rustls::version::TLS13],
        };
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(versions)
            .map_err(|_| "the TLS library offers none of the versions asked for".to_owned())?;
        let builder = if options.insecure {
            let algorithms = provider.signature_verification_algorithms;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(algorithms)))
        } else {
            builder.with_root_certificates(roots(options)?)
        };
        let config = match &options.client_auth {
            Some(auth) => builder
                .with_client_auth_cert(auth.chain.clone(), auth.key.clone_key())
                .map_err(|_| {
                    "`tls.client-key` is not the key of `tls.client-cert`, or is a kind of key planrun cannot sign with".to_owned()
                })?,
            None => builder.with_no_client_auth(),
        };
        Ok(Self {
            shared: Arc::new(config),
            server_name: options.server_name.clone(),
        })
    }

    /// A user's configuration: the run's roots, verifier and certificate, shared; a
    /// session-resumption store of its own, so no user resumes another's session.
    pub(crate) fn for_user(&self) -> Arc<ClientConfig> {
        let mut config = (*self.shared).clone();
        config.resumption = Resumption::in_memory_sessions(SESSIONS_PER_USER);
        Arc::new(config)
    }

    /// The name sent (SNI) and verified: `server-name`, else the URL's host.
    pub(crate) fn server_name(&self, url: &Url) -> Result<ServerName<'static>, Failure> {
        if let Some(name) = &self.server_name {
            return Ok(name.clone());
        }
        let host = url.host_str().ok_or(Failure::Dns)?;
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        ServerName::try_from(literal.to_owned()).map_err(|_| Failure::Tls(TlsFailure::Protocol))
    }
}

/// The system's roots and `ca-file`'s; at least one.
fn roots(options: &TlsOptions) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    let (_, unusable) = roots.add_parsable_certificates(options.extra_roots.iter().cloned());
    if unusable > 0 {
        return Err(format!(
            "{unusable} certificate(s) of `tls.ca-file` cannot be used as a root (malformed or not a CA)"
        ));
    }
    if roots.is_empty() {
        return Err(
            "no root certificates: the system has none; trust the target's CA with `tls.ca-file`"
                .to_owned(),
        );
    }
    Ok(roots)
}

/// Does the TLS handshake over `tcp` as `name`.
pub(super) async fn handshake(
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, Failure> {
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|error| {
            if let Some(failure) = tls_failure(&error) {
                return Failure::Tls(failure);
            }
            match LocalLimit::from_io(&error) {
                Some(limit) => Failure::LocalResources(limit),
                None => Failure::Tls(TlsFailure::Closed),
            }
        })
}

/// Why TLS failed, when `error` is rustls's (during the handshake or after it: a server
/// that wants a client certificate says so once TLS 1.3's handshake is over).
pub(super) fn tls_failure(error: &io::Error) -> Option<TlsFailure> {
    let error = error.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsFailure::Expired,
            CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailure::NameMismatch
            }
            _ => TlsFailure::BadCertificate,
        },
        rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateRevoked
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::AccessDenied,
        ) => TlsFailure::ClientCertificate,
        _ => TlsFailure::Protocol,
    })
}

/// `tls.insecure`: any certificate is accepted; the handshake's signatures are still
/// checked, so the connection is at least the one the certificate's key made.
#[derive(Debug)]
struct NoVerification(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_schemes()
    }
}
