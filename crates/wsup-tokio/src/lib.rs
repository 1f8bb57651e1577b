//! tokio binding for wsup: the [`Runtime`] impl (timers, spawn), an IO
//! adapter from tokio's IO traits to `futures_io`, and the [`Server`] on a
//! tokio listener.
//!
//! No protocol logic lives here: newtypes and trait impls only.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "tls")]
pub use tls::{TlsAcceptor, TlsStream, TlsWebSocket};

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::ReadBuf;
use tokio::net::{TcpListener, TcpStream};
use wsup_core::client::{ClientError, Connect, Dialer, MaybeTls};
use wsup_core::http::Response;
use wsup_core::runtime::{BoxTask, Sleep};
use wsup_core::server::Listen;
pub use wsup_core::server::{Shutdown, ShutdownSummary};
use wsup_core::{HandshakeError, Runtime, Upgrader};

/// tokio as a wsup [`Runtime`].
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioRuntime;

impl Runtime for TokioRuntime {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn spawn(&self, task: BoxTask) {
        tokio::spawn(task);
    }
}

/// An [`Upgrader`] with tokio's timers.
pub fn upgrader() -> Upgrader {
    Upgrader::new().runtime(Arc::new(TokioRuntime))
}

/// A WebSocket over a tokio TCP stream.
pub type WebSocket = wsup_core::WebSocket<TokioIo<TcpStream>>;

/// Adapts a tokio `AsyncRead + AsyncWrite` to `futures_io`'s traits
/// (the orphan rule wants a newtype; hyper-util's `TokioIo` is the model).
#[derive(Debug)]
pub struct TokioIo<T> {
    inner: T,
}

impl<T> TokioIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        TokioIo { inner }
    }
    /// The wrapped IO.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }
    /// The wrapped IO, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }
    /// Unwraps.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: tokio::io::AsyncRead + Unpin> futures_io::AsyncRead for TokioIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut rb = ReadBuf::new(buf);
        std::task::ready!(Pin::new(&mut self.inner).poll_read(cx, &mut rb))?;
        Poll::Ready(Ok(rb.filled().len()))
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> futures_io::AsyncWrite for TokioIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The server on a tokio TCP listener:
/// `Server::new(listener, upgrader).with_graceful_shutdown(signal).run(handler)`
/// (see [`wsup_core::server::Server`]); `A` is its
/// [`Acceptor`](wsup_core::server::Acceptor), none by default (with the
/// `tls` feature, `.acceptor(TlsAcceptor::from(config))` serves `wss://`).
pub type Server<A = wsup_core::server::Plain> = wsup_core::server::Server<TokioRuntime, A>;

impl Listen for TokioRuntime {
    type Listener = TcpListener;
    type Io = TokioIo<TcpStream>;

    async fn accept(listener: &TcpListener) -> io::Result<(TokioIo<TcpStream>, SocketAddr)> {
        let (stream, peer) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok((TokioIo::new(stream), peer))
    }
}

impl Connect for TokioRuntime {
    type Stream = TokioIo<TcpStream>;

    fn connect<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<Self::Stream>> + Send + 'a>> {
        Box::pin(async move {
            // tokio resolves the name and tries each address in turn.
            let stream = TcpStream::connect((host, port)).await?;
            let _ = stream.set_nodelay(true);
            Ok(TokioIo::new(stream))
        })
    }
}

/// Accepts connections on `listener` until a fatal accept error, upgrading
/// each in its own task and handing the connection to `handler`: the short
/// form of [`Server`], with no shutdown signal.
pub async fn serve<F, Fut>(listener: TcpListener, upgrader: Upgrader, handler: F) -> io::Result<()>
where
    F: Fn(WebSocket, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Server::new(listener, upgrader).run(handler).await.map(drop)
}

/// Upgrades one accepted TCP stream.
pub async fn upgrade(upgrader: &Upgrader, stream: TcpStream) -> Result<WebSocket, HandshakeError> {
    upgrader.upgrade(TokioIo::new(stream)).await
}

/// A client connection over this runtime's TCP (TLS over it for `wss://`).
pub type ClientWebSocket = wsup_core::WebSocket<MaybeTls<TokioIo<TcpStream>>>;

/// A [`Dialer`] with this runtime's timers (the handshake deadline,
/// keepalive, the close timeout).
pub fn dialer() -> Dialer {
    Dialer::new().runtime(Arc::new(TokioRuntime))
}

/// Opens a client connection to `url` (`ws://` or `wss://`) with the
/// default [`dialer`]: the connection and the server's `101`.
pub async fn connect(url: &str) -> Result<(ClientWebSocket, Response<()>), ClientError> {
    dialer().connect(&TokioRuntime, url).await
}

/// Opens a client connection to `url` with `dialer`'s settings, on this
/// runtime (its timers, unless the dialer has a runtime).
pub async fn connect_with(
    dialer: &Dialer,
    url: &str,
) -> Result<(ClientWebSocket, Response<()>), ClientError> {
    dialer.connect_on::<TokioRuntime>(url).await
}
