//! TLS for the [server](crate::server) (feature `tls`; the client's is
//! [`client::TlsConnector`](crate::client::TlsConnector)): a rustls
//! [`ServerConfig`] from PEM files, and the [`Acceptor`] for any
//! `futures_io` stream (smol's, async-std's): futures-rustls's
//! [`TlsAcceptor`]. On tokio, `wsup_tokio::TlsAcceptor` is tokio-rustls's.
//!
//! rustls runs on the ring provider unless the program installed another
//! as the process default. The config offers ALPN `http/1.1` (WebSocket
//! upgrades are HTTP/1.1 requests): a client that offers only other
//! protocols is refused in the handshake.
//!
//! ```no_run
//! # async fn doc<L: wsup_core::server::Listen>(listener: L::Listener) -> std::io::Result<()> {
//! use wsup_core::server::Server;
//! use wsup_core::tls::{server_config, TlsAcceptor};
//! use wsup_core::Upgrader;
//!
//! let config = server_config("cert.pem", "key.pem")?;
//! Server::<L>::new(listener, Upgrader::new())
//!     .acceptor(TlsAcceptor::from(config))
//!     .run(|ws, _peer| async move { drop(ws) })
//!     .await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_io::{AsyncRead, AsyncWrite};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

use crate::server::Acceptor;

pub use futures_rustls::{self, TlsAcceptor};
pub use rustls;

/// The ALPN protocol the configs built here offer.
pub const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

/// Why a TLS config could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file (or slice) is not valid PEM.
    #[error("{what}: invalid PEM: {source}")]
    Pem {
        /// The file, or what the slice was meant to hold.
        what: String,
        /// The parser's error.
        #[source]
        source: pem::Error,
    },
    /// No `CERTIFICATE` section in the certificate chain.
    #[error("{0}: no certificate found")]
    NoCertificate(String),
    /// No private key section (PKCS#8, PKCS#1 or SEC1) in the key.
    #[error("{0}: no private key found")]
    NoPrivateKey(String),
    /// rustls refused the certificate chain or the key (a key of an
    /// unsupported kind, or that does not match the certificate).
    #[error("invalid certificate or key: {0}")]
    Rustls(#[from] rustls::Error),
}

impl From<TlsConfigError> for io::Error {
    fn from(e: TlsConfigError) -> Self {
        match e {
            TlsConfigError::Read { ref source, .. } => io::Error::new(source.kind(), e),
            e => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}

/// A server config from PEM files: `cert_chain` holds the server's
/// certificate first, then its intermediates; `key` its private key
/// (PKCS#8, PKCS#1 or SEC1). No client authentication; ALPN `http/1.1`.
pub fn server_config(
    cert_chain: impl AsRef<Path>,
    key: impl AsRef<Path>,
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let (certs_path, key_path) = (cert_chain.as_ref(), key.as_ref());
    let certs = parse_certs(&read(certs_path)?, &certs_path.display().to_string())?;
    let key = parse_key(&read(key_path)?, &key_path.display().to_string())?;
    server_config_from_der(certs, key)
}

/// As [`server_config`], from PEM already in memory.
pub fn server_config_from_pem(
    cert_chain: &[u8],
    key: &[u8],
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let certs = parse_certs(cert_chain, "certificate chain")?;
    server_config_from_der(certs, parse_key(key, "private key")?)
}

/// As [`server_config`], from the certificates and key decoded.
pub fn server_config_from_der(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(cert_chain, key)?;
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    Ok(Arc::new(config))
}

/// The process's default crypto provider, or ring's.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// The certificates of a PEM file (`what` names it in errors); at least one.
pub(crate) fn parse_certs(
    pem: &[u8],
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| invalid(what, source))?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate(what.to_owned()));
    }
    Ok(certs)
}

/// The contents of `path`.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, TlsConfigError> {
    std::fs::read(path).map_err(|source| TlsConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

fn parse_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|source| match source {
        pem::Error::NoItemsFound => TlsConfigError::NoPrivateKey(what.to_owned()),
        source => invalid(what, source),
    })
}

fn invalid(what: &str, source: pem::Error) -> TlsConfigError {
    TlsConfigError::Pem {
        what: what.to_owned(),
        source,
    }
}

/// The TLS [`Acceptor`] for `futures_io` streams (smol's, async-std's):
/// futures-rustls's, made with `TlsAcceptor::from(config)` and given to
/// [`Server::acceptor`](crate::server::Server::acceptor).
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Acceptor<T> for TlsAcceptor {
    type Io = futures_rustls::server::TlsStream<T>;

    fn handshake(&self, io: T) -> impl Future<Output = io::Result<Self::Io>> + Send {
        self.accept(io)
    }

    fn is_tls(&self) -> bool {
        true
    }
}
