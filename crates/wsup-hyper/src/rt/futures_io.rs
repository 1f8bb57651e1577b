//! hyper's IO traits over a `futures_io` stream.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use hyper::rt::ReadBufCursor;

/// hyper's [`Read`](hyper::rt::Read) and [`Write`](hyper::rt::Write) over a
/// `futures_io` stream: smol's and async-std's sockets, or any binding's
/// (`wsup_tokio::TokioIo` included).
///
/// A read fills hyper's buffer in place, zeroing first only the part of it
/// not yet initialized (hyper's own bookkeeping): a WebSocket reading
/// through hyper's upgraded connection, whose buffer is the connection's
/// own and initialized, pays no copy and no clearing. (While hyper reads
/// HTTP, it offers a fresh uninitialized buffer each time, which is then
/// zeroed; heads are small.)
#[derive(Debug)]
pub struct FuturesIo<T> {
    inner: T,
}

impl<T> FuturesIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        FuturesIo { inner }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// Unwraps.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: futures_io::AsyncRead + Unpin> hyper::rt::Read for FuturesIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let unfilled = buf.initialize_unfilled();
        let n = ready!(Pin::new(&mut self.inner).poll_read(cx, unfilled))?;
        // A reader that claims more than it was given is broken; hyper's
        // buffer must not be advanced past what was written.
        let n = n.min(unfilled.len());
        // SAFETY: the first `n` bytes of the unfilled part were initialized
        // by `initialize_unfilled` and then written by the reader, which is
        // what `advance` requires. (A safe `put_slice` would need the bytes
        // in a buffer of their own first: a copy of every read; the
        // `--http` bench measures the difference.)
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: futures_io::AsyncWrite + Unpin> hyper::rt::Write for FuturesIo<T> {
    wsup_core::forward_write!(inner);

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
