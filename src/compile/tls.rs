//! `tls:` → `TlsOptions`: every file named there is read and its PEM parsed here, so a
//! missing file, a bad PEM or an unknown version is a plan error before anything is sent.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::context::Compiler;
use crate::plan::raw::{RawTls, Scalar};
use crate::plan::read::read_bounded;
use crate::plan::{KeyPath, PlanErrorKind};

/// PEM files larger than this are not a certificate bundle (Mozilla's is about 220 KB).
const MAX_PEM_BYTES: u64 = 16 * 1024 * 1024;

/// How requests to an `https://` host set up TLS. The default trusts the system's roots.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Certificates from `ca-file`, trusted beside the system's roots.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// `ca-file`, as written, for reports.
    pub ca_file: Option<PathBuf>,
    /// `insecure: true`: the server's certificate is not verified at all.
    pub insecure: bool,
    /// `client-cert` and `client-key`: the certificate presented to a server that asks.
    pub client_auth: Option<ClientAuth>,
    /// `server-name`: the name sent (SNI) and verified instead of the URL's host.
    pub server_name: Option<ServerName<'static>>,
    /// `min-version`: the oldest protocol version offered.
    pub min_version: TlsVersion,
}

/// A client certificate chain and its private key (mutual TLS).
pub struct ClientAuth {
    /// The certificate, then any intermediates, as `client-cert` lists them.
    pub(crate) chain: Vec<CertificateDer<'static>>,
    /// `client-key`.
    pub(crate) key: PrivateKeyDer<'static>,
}

impl Clone for ClientAuth {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for ClientAuth {
    // Never the key's bytes, not even in a debug print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientAuth({} certificates, a key)", self.chain.len())
    }
}

/// The oldest TLS version a run offers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 and 1.3 (the default).
    #[default]
    V1_2,
    /// TLS 1.3 only.
    V1_3,
}

/// Compiles the plan's `tls`, reading and parsing its files.
pub(super) fn compile(cx: &mut Compiler) -> TlsOptions {
    let Some(raw) = cx.plan.raw.tls.as_ref() else {
        return TlsOptions::default();
    };
    let path = KeyPath::root().key("tls");
    let mut options = TlsOptions {
        insecure: raw.insecure.unwrap_or(false),
        ..TlsOptions::default()
    };
    if let Some(file) = &raw.ca_file {
        let at = path.key("ca-file");
        let full = cx.plan.dir_of(&at).join(file);
        options.extra_roots = read_pem(cx, &at, &full, certificates).unwrap_or_default();
        options.ca_file = Some(PathBuf::from(file));
    }
    options.client_auth = client_auth(cx, raw, &path);
    if let Some(name) = &raw.server_name {
        options.server_name = server_name(cx, name, &path.key("server-name"));
    }
    if let Some(version) = &raw.min_version {
        options.min_version = min_version(cx, version, &path.key("min-version"));
    }
    options
}

/// `client-cert` and `client-key`, which come as a pair.
fn client_auth(cx: &mut Compiler, raw: &RawTls, path: &KeyPath) -> Option<ClientAuth> {
    let (cert, key) = match (&raw.client_cert, &raw.client_key) {
        (None, None) => return None,
        (Some(cert), Some(key)) => (cert, key),
        (Some(_), None) | (None, Some(_)) => {
            let (given, missing) = if raw.client_cert.is_some() {
                ("client-cert", "client-key")
            } else {
                ("client-key", "client-cert")
            };
            cx.error_with_hint(
                path.key(given),
                PlanErrorKind::BadTls {
                    message: format!("`{given}` without `{missing}`"),
                },
                Some(format!(
                    "mutual TLS needs both: add `{missing}` with the PEM file of the other half"
                )),
            );
            return None;
        }
    };
    let (cert_at, key_at) = (path.key("client-cert"), path.key("client-key"));
    let cert_file = cx.plan.dir_of(&cert_at).join(cert);
    let key_file = cx.plan.dir_of(&key_at).join(key);
    let chain = read_pem(cx, &cert_at, &cert_file, certificates);
    let key = read_pem(cx, &key_at, &key_file, private_key);
    Some(ClientAuth {
        chain: chain?,
        key: key?,
    })
}

/// Reads the PEM file `full` (written at `at`) and parses it with `parse`; a mistake is
/// a plan error at `at`.
fn read_pem<T>(
    cx: &mut Compiler,
    at: &KeyPath,
    full: &Path,
    parse: fn(&[u8]) -> Result<T, String>,
) -> Option<T> {
    let parsed = read_bounded(full, MAX_PEM_BYTES, "a PEM file")
        .map_err(|e| e.to_string())
        .and_then(|bytes| parse(&bytes));
    match parsed {
        Ok(value) => Some(value),
        Err(reason) => {
            let hint = match at.last_key() {
                Some("client-key") => "expected a PEM file with one `PRIVATE KEY` block",
                _ => "expected a PEM file with `BEGIN CERTIFICATE` blocks",
            };
            cx.error_with_hint(
                at.clone(),
                PlanErrorKind::TlsFile {
                    file: full.display().to_string(),
                    reason,
                },
                Some(format!("{hint}; paths are relative to the plan file")),
            );
            None
        }
    }
}

/// Every certificate of a PEM bundle; at least one.
fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| "not valid PEM".to_owned())?;
    if certs.is_empty() {
        return Err("no `BEGIN CERTIFICATE` block in it".into());
    }
    Ok(certs)
}

/// The private key of a PEM file (PKCS #8, PKCS #1 or SEC1).
fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|error| match error {
        rustls::pki_types::pem::Error::NoItemsFound => "no `PRIVATE KEY` block in it".to_owned(),
        _ => "not valid PEM".to_owned(),
    })
}

/// `server-name`: a DNS name or an IP address.
fn server_name(cx: &mut Compiler, name: &str, at: &KeyPath) -> Option<ServerName<'static>> {
    match ServerName::try_from(name.to_owned()) {
        Ok(name) => Some(name),
        Err(_) => {
            cx.error_with_hint(
                at.clone(),
                PlanErrorKind::BadTls {
                    message: format!("`server-name: {name}` is not a host name"),
                },
                Some(
                    "write the name the server's certificate is for, e.g. `api.staging.example`"
                        .into(),
                ),
            );
            None
        }
    }
}

/// `min-version`: `1.2` (the default) or `1.3`.
fn min_version(cx: &mut Compiler, version: &Scalar, at: &KeyPath) -> TlsVersion {
    match version.to_string().as_str() {
        "1.2" => TlsVersion::V1_2,
        "1.3" => TlsVersion::V1_3,
        other => {
            cx.error_with_hint(
                at.clone(),
                PlanErrorKind::BadTls {
                    message: format!("`min-version: {other}`: expected `1.2` or `1.3`"),
                },
                Some("planrun speaks TLS 1.2 and 1.3; older versions are broken".into()),
            );
            TlsVersion::V1_2
        }
    }
}
