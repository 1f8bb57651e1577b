//! async-std binding for wsup.
//!
//! async-std is discontinued upstream (its authors point to smol), and it runs
//! on the same async-io reactor as smol, so this binding is deliberately thin:
//! a [`Runtime`] impl over async-std's task spawner and wsup's timer thread
//! ([`ThreadTimer`], as for smol: async-io's reactor allocates on every turn
//! while a timer of its own is registered), and an accept loop. async-std's sockets implement `futures_io` already; [`AsyncStdTcp`]
//! only adds the write shutdown async-std leaves out. The accept loop
//! itself is the one all bindings share, `wsup_core::server::Server`. New
//! code should prefer `wsup-smol`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_std::net::{TcpListener, TcpStream};
use wsup_core::client::{ClientError, Connect, Dialer, MaybeTls};
use wsup_core::http::Response;
use wsup_core::runtime::{BoxTask, Sleep, ThreadTimer};
use wsup_core::server::Listen;
pub use wsup_core::server::{Shutdown, ShutdownSummary};
use wsup_core::{HandshakeError, Runtime, Upgrader};

/// async-std as a wsup [`Runtime`].
#[derive(Debug, Default, Clone, Copy)]
pub struct AsyncStdRuntime;

impl Runtime for AsyncStdRuntime {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(ThreadTimer::after(duration))
    }

    fn spawn(&self, task: BoxTask) {
        async_std::task::spawn(task);
    }
}

/// An [`Upgrader`] with this runtime's timers.
pub fn upgrader() -> Upgrader {
    Upgrader::new().runtime(Arc::new(AsyncStdRuntime))
}

/// A WebSocket over an async-std TCP stream.
pub type WebSocket = wsup_core::WebSocket<AsyncStdTcp>;

/// async-std's `TcpStream` with a `poll_close` that shuts the write side
/// down. async-std's own `poll_close` only flushes, so without this the
/// server would never send its FIN after the closing handshake (RFC 6455
/// 7.1.1 has the server close the TCP connection first).
#[derive(Debug)]
pub struct AsyncStdTcp {
    inner: TcpStream,
}

impl AsyncStdTcp {
    /// Wraps `inner`.
    pub fn new(inner: TcpStream) -> Self {
        AsyncStdTcp { inner }
    }
    /// The wrapped stream.
    pub fn get_ref(&self) -> &TcpStream {
        &self.inner
    }
    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut TcpStream {
        &mut self.inner
    }
    /// Unwraps.
    pub fn into_inner(self) -> TcpStream {
        self.inner
    }
}

impl futures_io::AsyncRead for AsyncStdTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for AsyncStdTcp {
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
        std::task::ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        match self.inner.shutdown(std::net::Shutdown::Write) {
            // Already shut or the peer is gone: closed either way.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            other => Poll::Ready(other),
        }
    }
}

/// The server on a async-std TCP listener:
/// `Server::new(listener, upgrader).with_graceful_shutdown(signal).run(handler)`
/// (see [`wsup_core::server::Server`]); `A` is its
/// [`Acceptor`](wsup_core::server::Acceptor), none by default.
pub type Server<A = wsup_core::server::Plain> = wsup_core::server::Server<AsyncStdRuntime, A>;

/// The TLS acceptor (feature `tls`, futures-rustls's): `Server::new(listener,
/// upgrader).acceptor(TlsAcceptor::from(config))` serves `wss://`, with a
/// config from [`wsup_core::tls::server_config`] (PEM files).
#[cfg(feature = "tls")]
pub use wsup_core::tls::TlsAcceptor;

/// A WebSocket over TLS over a async-std TCP stream (`wss://`; feature `tls`).
#[cfg(feature = "tls")]
pub type TlsWebSocket =
    wsup_core::WebSocket<wsup_core::tls::futures_rustls::server::TlsStream<AsyncStdTcp>>;

impl Listen for AsyncStdRuntime {
    type Listener = TcpListener;
    type Io = AsyncStdTcp;

    async fn accept(listener: &TcpListener) -> io::Result<(AsyncStdTcp, SocketAddr)> {
        let (stream, peer) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok((AsyncStdTcp::new(stream), peer))
    }
}

impl Connect for AsyncStdRuntime {
    type Stream = AsyncStdTcp;

    fn connect<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<AsyncStdTcp>> + Send + 'a>> {
        Box::pin(async move {
            // async-std resolves the name and tries each address in turn.
            let stream = TcpStream::connect((host, port)).await?;
            let _ = stream.set_nodelay(true);
            Ok(AsyncStdTcp::new(stream))
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
    upgrader.upgrade(AsyncStdTcp::new(stream)).await
}

/// A client connection over this runtime's TCP (TLS over it for `wss://`).
pub type ClientWebSocket = wsup_core::WebSocket<MaybeTls<AsyncStdTcp>>;

/// A [`Dialer`] with this runtime's timers (the handshake deadline,
/// keepalive, the close timeout).
pub fn dialer() -> Dialer {
    Dialer::new().runtime(Arc::new(AsyncStdRuntime))
}

/// Opens a client connection to `url` (`ws://` or `wss://`) with the
/// default [`dialer`]: the connection and the server's `101`.
pub async fn connect(url: &str) -> Result<(ClientWebSocket, Response<()>), ClientError> {
    dialer().connect(&AsyncStdRuntime, url).await
}

/// Opens a client connection to `url` with `dialer`'s settings, on this
/// runtime (its timers, unless the dialer has a runtime).
pub async fn connect_with(
    dialer: &Dialer,
    url: &str,
) -> Result<(ClientWebSocket, Response<()>), ClientError> {
    dialer.connect_on::<AsyncStdRuntime>(url).await
}
