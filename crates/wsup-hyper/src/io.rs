//! The upgraded connection as a `futures_io` stream.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use hyper::rt::{Read, ReadBuf, Write};
use hyper::upgrade::Upgraded;

/// hyper's upgraded connection with `futures_io`'s traits, the transport of
/// a [`WebSocket`](crate::WebSocket).
///
/// Reads go straight into the connection's read buffer (hyper's
/// `ReadBuf` over it) and writes straight from its queue: no copy. Bytes
/// hyper read past the request head (a client that sent its first frame
/// with the request) come first.
#[derive(Debug)]
pub struct UpgradedIo {
    inner: Upgraded,
}

impl UpgradedIo {
    /// Wraps hyper's upgraded connection.
    pub fn new(inner: Upgraded) -> Self {
        UpgradedIo { inner }
    }

    /// hyper's upgraded connection (to
    /// [`downcast`](Upgraded::downcast) it, say).
    pub fn into_inner(self) -> Upgraded {
        self.inner
    }
}

impl futures_io::AsyncRead for UpgradedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read = ReadBuf::new(buf);
        ready!(Pin::new(&mut self.inner).poll_read(cx, read.unfilled()))?;
        Poll::Ready(Ok(read.filled().len()))
    }
}

impl futures_io::AsyncWrite for UpgradedIo {
    wsup_core::forward_write!(inner);

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
