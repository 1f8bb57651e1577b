//! The client's transport: the runtime's stream as is (`ws://`), or inside
//! TLS (`wss://`), behind one type so that a connection's type does not
//! depend on its URL.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

#[cfg(feature = "tls")]
use super::tls::TlsStream;

/// A client connection's stream: `S` itself, or `S` inside TLS (feature
/// `tls`). Reads and writes go through the TLS session when there is one.
pub struct MaybeTls<S> {
    inner: Inner<S>,
}

enum Inner<S> {
    Plain(S),
    // Boxed: a TLS session is some hundreds of bytes, which a plain
    // stream should not carry around; one indirection is nothing beside
    // the cipher.
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream<S>>),
}

impl<S> MaybeTls<S> {
    /// A stream with no TLS.
    pub fn plain(io: S) -> Self {
        MaybeTls {
            inner: Inner::Plain(io),
        }
    }

    /// A stream over TLS, its handshake done.
    #[cfg(feature = "tls")]
    pub fn tls(io: TlsStream<S>) -> Self {
        MaybeTls {
            inner: Inner::Tls(Box::new(io)),
        }
    }

    /// Whether the stream runs over TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self.inner, Inner::Plain(_))
    }

    /// The underlying stream (the TCP connection, say), under TLS if any:
    /// for its addresses and socket options, not for reading or writing.
    pub fn get_ref(&self) -> &S {
        match &self.inner {
            Inner::Plain(io) => io,
            #[cfg(feature = "tls")]
            Inner::Tls(tls) => tls.get_ref().0,
        }
    }

    /// As [`get_ref`](Self::get_ref), mutably; reading or writing it past
    /// TLS breaks the session.
    pub fn get_mut(&mut self) -> &mut S {
        match &mut self.inner {
            Inner::Plain(io) => io,
            #[cfg(feature = "tls")]
            Inner::Tls(tls) => tls.get_mut().0,
        }
    }

    /// The TLS stream (its session: the protocol version, ALPN, the peer's
    /// certificates), if any.
    #[cfg(feature = "tls")]
    pub fn tls_stream(&self) -> Option<&TlsStream<S>> {
        match &self.inner {
            Inner::Plain(_) => None,
            Inner::Tls(tls) => Some(tls),
        }
    }

    /// The stream itself when there is no TLS; `self` back otherwise.
    pub fn into_plain(self) -> Result<S, Self> {
        match self.inner {
            Inner::Plain(io) => Ok(io),
            #[cfg(feature = "tls")]
            inner => Err(MaybeTls { inner }),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for MaybeTls<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaybeTls")
            .field("tls", &self.is_tls())
            .field("io", self.get_ref())
            .finish()
    }
}

/// Calls `$method` on whichever stream `$self` (a pinned `MaybeTls`) holds.
macro_rules! delegate {
    ($self:ident.$method:ident($($arg:expr),*)) => {
        match &mut $self.get_mut().inner {
            Inner::Plain(io) => Pin::new(io).$method($($arg),*),
            #[cfg(feature = "tls")]
            Inner::Tls(tls) => Pin::new(&mut **tls).$method($($arg),*),
        }
    };
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTls<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self.poll_read(cx, buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self.poll_read_vectored(cx, bufs))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTls<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self.poll_write_vectored(cx, bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self.poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self.poll_close(cx))
    }
}

/// Without the `tls` feature, the TLS connector [`open`](super::open) takes
/// has no value: only `None` can be passed, and `wss://` fails with
/// [`ClientError::TlsUnavailable`](super::ClientError::TlsUnavailable).
#[cfg(not(feature = "tls"))]
#[derive(Debug, Clone)]
pub enum TlsConnector {}
