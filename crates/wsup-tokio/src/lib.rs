//! tokio binding for wsup: the [`Runtime`](wsup_core::Runtime) impl (timers
//! fired from the reactor, spawn), an IO adapter from tokio's IO traits to
//! `futures_io`, and the [`Server`] on a tokio listener.
//!
//! No protocol logic lives here: newtypes, trait impls, and the `timerfd`
//! that fires wsup's timers (`timer.rs`).
//! The impls and the functions every binding shares are written once, in
//! `wsup_core::runtime_binding!`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod timer;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "tls")]
pub use tls::{TlsAcceptor, TlsStream, TlsWebSocket};

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::ReadBuf;
use tokio::net::{TcpListener, TcpStream};

/// tokio as a wsup [`Runtime`](wsup_core::Runtime): tasks on the current
/// tokio runtime; wsup's timers not tokio's (an armed tokio timer costs
/// every wait of the reactor something) but, on Linux, a `timerfd` in the
/// runtime's reactor, from the first TCP connection this crate accepts or
/// dials on that runtime, and [`ThreadTimer`](wsup_core::runtime::ThreadTimer)
/// otherwise (a thread of wsup's; see its docs). wsup's timers therefore
/// do not follow tokio's paused clock (`tokio::time::pause`).
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioRuntime;

wsup_core::runtime_binding! {
    runtime: TokioRuntime,
    name: "tokio",
    sleep: timer::sleep,
    reactor_tick: None,
    spawn: |task| drop(tokio::spawn(task)),
    listener: TcpListener,
    tcp: TcpStream,
    io: TokioIo<TcpStream>,
    wrap: wrap_tcp,
}

/// An accepted or dialled TCP stream as `futures_io`; its runtime, which
/// has an IO driver then, fires wsup's timers from its reactor from now on
/// (`timer.rs`).
fn wrap_tcp(stream: TcpStream) -> TokioIo<TcpStream> {
    timer::enable();
    TokioIo::new(stream)
}

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
    wsup_core::forward_write!(inner);

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
