//! TLS for the client (feature `tls`): `wss://` through futures-rustls over
//! any `futures_io` stream.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use futures_io::{AsyncRead, AsyncWrite};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};

use super::ClientError;
use crate::tls::{parse_certs, provider, read, TlsConfigError, ALPN_HTTP_1_1};

pub use futures_rustls::client::TlsStream;

/// Opens TLS sessions to servers: a rustls [`ClientConfig`], shared.
///
/// The default roots are the platform's, read by `rustls-native-certs`
/// once per process (the system store: on Linux the CA bundle and
/// directory OpenSSL would use, `SSL_CERT_FILE` / `SSL_CERT_DIR` first;
/// the keychain on macOS; the system store on Windows). They follow what
/// the machine's administrator trusts, corporate CAs included, which a
/// root list compiled into the program (`webpki-roots`) would not. A
/// program that wants its own roots gives them ([`TlsConnector::with_roots`],
/// [`TlsConnector::from_pem_file`]: `--cacert` replaces the root store) or
/// a whole [`ClientConfig`].
///
/// The configs built here offer ALPN `http/1.1` (a WebSocket handshake is
/// an HTTP/1.1 request) and run on the process's default crypto provider,
/// ring's if none is installed.
///
/// ```no_run
/// use wsup_core::client::TlsConnector;
///
/// // The platform's roots (what `wss://` uses when given no connector):
/// let platform = TlsConnector::platform()?;
/// // Or only the CA of a PEM file:
/// let private = TlsConnector::from_pem_file("ca.pem")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
}

impl TlsConnector {
    /// Trusts the platform's root certificates, loaded on first use and
    /// kept for the process. An error if the platform has none (no CA
    /// bundle installed, say); certificates that fail to parse are skipped.
    pub fn platform() -> Result<TlsConnector, ClientError> {
        static PLATFORM: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
        let config = PLATFORM.get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                let why = found.errors.first().map(|e| format!(": {e}"));
                return Err(format!(
                    "no root certificates found on this platform{}",
                    why.unwrap_or_default()
                ));
            }
            client_config(roots).map_err(|e| e.to_string())
        });
        match config {
            Ok(config) => Ok(TlsConnector::from(Arc::clone(config))),
            Err(why) => Err(ClientError::Tls(io::Error::new(
                io::ErrorKind::NotFound,
                why.clone(),
            ))),
        }
    }

    /// Trusts `roots` alone. An error only if the process's default
    /// crypto provider supports neither TLS 1.2 nor 1.3.
    pub fn with_roots(roots: RootCertStore) -> Result<TlsConnector, TlsConfigError> {
        client_config(roots).map(TlsConnector::from)
    }

    /// Trusts the CA certificates of a PEM file alone (`--cacert`).
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<TlsConnector, TlsConfigError> {
        let path = path.as_ref();
        TlsConnector::with_roots(roots_from_pem(&read(path)?, &path.display().to_string())?)
    }

    /// Trusts the CA certificates of PEM already in memory alone.
    pub fn from_pem(pem: &[u8]) -> Result<TlsConnector, TlsConfigError> {
        TlsConnector::with_roots(roots_from_pem(pem, "CA certificates")?)
    }

    /// The config sessions are opened with.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// Runs the TLS handshake over `io` with the server `host` (a DNS name,
    /// or an IP address, an IPv6 one without brackets), whose certificate
    /// must name it.
    pub async fn connect<S>(&self, host: &str, io: S) -> Result<TlsStream<S>, ClientError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| ClientError::InvalidUrl("the host is not a valid TLS server name"))?;
        futures_rustls::TlsConnector::from(Arc::clone(&self.config))
            .connect(name, io)
            .await
            .map_err(ClientError::Tls)
    }
}

impl From<Arc<ClientConfig>> for TlsConnector {
    /// A connector with this config as is (its ALPN included: offer
    /// `http/1.1` or none, as a WebSocket server expects).
    fn from(config: Arc<ClientConfig>) -> Self {
        TlsConnector { config }
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("alpn_protocols", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

/// A client config that trusts `roots`, offers ALPN `http/1.1`, and
/// presents no client certificate.
pub fn client_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    Ok(Arc::new(config))
}

fn roots_from_pem(pem: &[u8], what: &str) -> Result<RootCertStore, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    for cert in parse_certs(pem, what)? {
        roots.add(cert)?;
    }
    Ok(roots)
}
