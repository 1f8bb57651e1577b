//! Opening the client's transport, up to the WebSocket handshake: TCP
//! through the runtime's [`Connect`], `CONNECT` through a [`Proxy`] if one
//! is set, then TLS for `wss://`.

use std::future::Future;
use std::io;
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};

use super::{tunnel, ClientError, MaybeTls, Proxy, Target, TlsConnector};

/// The runtime seam for opening TCP connections: each binding implements it
/// for its runtime (`wsup_tokio::TokioRuntime`, …), as it implements
/// [`server::Listen`](crate::server::Listen) for accepting them.
///
/// Called once per connection (a cold boundary), so the future is boxed
/// and the trait object-safe.
pub trait Connect: Send + Sync + 'static {
    /// A connected stream.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Connects to `host` (a DNS name, or an IP address, an IPv6 one
    /// without brackets) on `port`: resolves the name and tries each
    /// address in turn until one accepts, returning the last error if none
    /// does. The stream has `TCP_NODELAY` set (WebSocket frames are
    /// written whole; Nagle's algorithm would only delay them).
    fn connect<'a>(&'a self, host: &'a str, port: u16) -> ConnectFuture<'a, Self::Stream>;
}

/// The boxed future [`Connect::connect`] returns: the connected stream, or
/// the IO error of the last address tried.
pub type ConnectFuture<'a, S> = Pin<Box<dyn Future<Output = io::Result<S>> + Send + 'a>>;

/// Opens the transport to `target`, ready for the WebSocket handshake:
///
/// 1. a TCP connection through `connector`, to the proxy if there is one,
///    else to the target;
/// 2. through a proxy, `CONNECT` to the target's host and port;
/// 3. for `wss://`, the TLS handshake with the target's host (a name or an
///    IP address), through `tls`, or with the platform's roots when `tls`
///    is `None` (`TlsConnector::platform`). Without the `tls` feature,
///    `wss://` is [`ClientError::TlsUnavailable`], before connecting.
///
/// No deadline: the caller bounds the whole (the handshake timeout).
pub async fn open<C: Connect + ?Sized>(
    connector: &C,
    target: &Target,
    proxy: Option<&Proxy>,
    tls: Option<&TlsConnector>,
) -> Result<MaybeTls<C::Stream>, ClientError> {
    // Known before any connection is made: whether TLS can be had.
    let tls = match target.is_secure() {
        true => Some(tls_connector(tls)?),
        false => None,
    };
    let (host, port) = match proxy {
        Some(proxy) => (proxy.host(), proxy.port()),
        None => (target.host(), target.port()),
    };
    let mut io = connector.connect(host, port).await?;
    if let Some(proxy) = proxy {
        tunnel(&mut io, proxy, target).await?;
    }
    match tls {
        None => Ok(MaybeTls::plain(io)),
        Some(tls) => secure(io, target, &tls).await,
    }
}

#[cfg(feature = "tls")]
fn tls_connector(tls: Option<&TlsConnector>) -> Result<TlsConnector, ClientError> {
    match tls {
        Some(tls) => Ok(tls.clone()),
        None => TlsConnector::platform(),
    }
}

#[cfg(feature = "tls")]
async fn secure<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    target: &Target,
    tls: &TlsConnector,
) -> Result<MaybeTls<S>, ClientError> {
    Ok(MaybeTls::tls(tls.connect(target.host(), io).await?))
}

#[cfg(not(feature = "tls"))]
fn tls_connector(tls: Option<&TlsConnector>) -> Result<TlsConnector, ClientError> {
    match tls {
        Some(never) => match *never {},
        None => Err(ClientError::TlsUnavailable),
    }
}

#[cfg(not(feature = "tls"))]
async fn secure<S>(
    _io: S,
    _target: &Target,
    tls: &TlsConnector,
) -> Result<MaybeTls<S>, ClientError> {
    match *tls {}
}

#[cfg(test)]
mod tests;
