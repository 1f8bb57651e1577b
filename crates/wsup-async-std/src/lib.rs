//! async-std binding for wsup.
//!
//! async-std is discontinued upstream (its authors point to smol), and it runs
//! on the same async-io reactor as smol, so this binding is deliberately thin:
//! a [`Runtime`](wsup_core::Runtime) impl over async-std's task spawner and
//! wsup's timer thread ([`ThreadTimer`], as for smol: async-io's reactor
//! allocates on every turn while a timer of its own is registered), and an
//! accept loop. async-std's sockets implement `futures_io` already;
//! [`AsyncStdTcp`] only adds the write shutdown async-std leaves out. The
//! accept loop itself is the one all bindings share,
//! `wsup_core::server::Server`, and the impls and functions every binding
//! shares are written once, in `wsup_core::runtime_binding!`. New code should prefer `wsup-smol`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_std::net::{TcpListener, TcpStream};
use wsup_core::runtime::ThreadTimer;

/// async-std as a wsup [`Runtime`](wsup_core::Runtime). A [`Server`] on it
/// keeps a timer of async-io's firing every
/// [`ASYNC_IO_TICK`](wsup_core::runtime::ASYNC_IO_TICK) while it runs, as
/// on smol ([`ReactorTicks`](wsup_core::runtime::ReactorTicks) says why).
#[derive(Debug, Default, Clone, Copy)]
pub struct AsyncStdRuntime;

wsup_core::runtime_binding! {
    runtime: AsyncStdRuntime,
    name: "async-std",
    sleep: ThreadTimer::after,
    reactor_tick: Some(wsup_core::runtime::ReactorTick::new(
        wsup_core::runtime::ASYNC_IO_TICK,
        |d| Box::pin(async move { async_io::Timer::after(d).await; }),
    )),
    spawn: |task| drop(async_std::task::spawn(task)),
    listener: TcpListener,
    tcp: TcpStream,
    io: AsyncStdTcp,
    wrap: AsyncStdTcp::new,
}

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
    wsup_core::forward_write!(inner);

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        match self.inner.shutdown(std::net::Shutdown::Write) {
            // Already shut or the peer is gone: closed either way.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            other => Poll::Ready(other),
        }
    }
}

/// The TLS acceptor (feature `tls`, futures-rustls's): `Server::new(listener,
/// upgrader).acceptor(TlsAcceptor::from(config))` serves `wss://`, with a
/// config from [`wsup_core::tls::server_config`] (PEM files).
#[cfg(feature = "tls")]
pub use wsup_core::tls::TlsAcceptor;

/// A WebSocket over TLS over a async-std TCP stream (`wss://`; feature `tls`).
#[cfg(feature = "tls")]
pub type TlsWebSocket =
    wsup_core::WebSocket<wsup_core::tls::futures_rustls::server::TlsStream<AsyncStdTcp>>;
