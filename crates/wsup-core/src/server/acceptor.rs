//! The transport's own handshake (TLS), run on each accepted connection
//! inside its task, before the request head is read: never in the accept
//! loop, where one slow client would hold up every other.

use std::future::Future;
use std::io;

use futures_io::{AsyncRead, AsyncWrite};

/// What a [`Server`](super::Server) does with each accepted connection
/// before reading its request head: a TLS handshake, say. Set with
/// [`Server::acceptor`](super::Server::acceptor); the default,
/// [`Plain`], does nothing.
///
/// The server runs it in the connection's own task, under the upgrader's
/// [handshake timeout](crate::Upgrader::handshake_timeout) (one deadline
/// over this handshake and the reading of the request head), holding the
/// connection's handshake place (see
/// [`max_handshakes`](super::Server::max_handshakes)). A failure is the
/// connection's alone: it ends the connection as
/// [`HandshakeError::Transport`](crate::HandshakeError::Transport), logged
/// at DEBUG like any failed handshake, and the server goes on.
///
/// For TLS, with the `tls` feature: `wsup_core::tls::TlsAcceptor`
/// (futures-rustls) for any `futures_io` stream (smol's, async-std's),
/// and `wsup_tokio::TlsAcceptor` (tokio-rustls) on tokio.
///
/// ```
/// use std::io;
/// use wsup_core::futures_io::{AsyncRead, AsyncWrite};
/// use wsup_core::server::Acceptor;
///
/// /// Refuses every connection before its request is read.
/// #[derive(Debug)]
/// struct Closed;
///
/// impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Acceptor<T> for Closed {
///     type Io = T;
///     async fn handshake(&self, _io: T) -> io::Result<T> {
///         Err(io::ErrorKind::PermissionDenied.into())
///     }
/// }
/// ```
pub trait Acceptor<T>: Send + Sync + 'static {
    /// The transport the WebSocket runs over once the handshake is done
    /// (a TLS stream over `T`).
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Runs the handshake on `io`, an accepted connection.
    fn handshake(&self, io: T) -> impl Future<Output = io::Result<Self::Io>> + Send;

    /// Whether the transport it makes is TLS: the server then knows its
    /// scheme is `https` (a [`ServerScheme`](crate::ServerScheme) in each
    /// request's extensions, which the
    /// [same-origin check](crate::OriginPolicy::SameOrigin) compares with
    /// the `Origin`'s). `false` by default: the scheme stays unknown.
    fn is_tls(&self) -> bool {
        false
    }
}

/// The default [`Acceptor`]: the accepted connection as it is (plain
/// TCP).
#[derive(Debug, Default, Clone, Copy)]
pub struct Plain;

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Acceptor<T> for Plain {
    type Io = T;

    async fn handshake(&self, io: T) -> io::Result<T> {
        Ok(io)
    }
}
