//! An in-memory `futures_io` transport, so tests need no sockets and no
//! runtime, and benches measure the codec rather than the kernel.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// A scripted peer: `input` is handed out in reads of at most `chunk` bytes,
/// then end of stream (or a wait, with `hang`); what is written goes to
/// `output`.
///
/// `I` is the script: a `Vec<u8>` a test can extend as it goes, or a
/// borrowed slice a bench replays without copying. `O` is what becomes of
/// the output (see [`Output`]).
#[derive(Debug, Default)]
pub struct Mem<I = Vec<u8>, O = Vec<u8>> {
    /// The bytes to read.
    pub input: I,
    /// How many of them were read.
    pub pos: usize,
    /// The most one read hands out.
    pub chunk: usize,
    /// What was written.
    pub output: O,
    /// Set by `poll_close`.
    pub closed: bool,
    /// Once the input is used up, reads wait (instead of end of stream).
    pub hang: bool,
    /// Writes wait: the peer is not reading.
    pub stalled: bool,
}

impl<I, O: Default> Mem<I, O> {
    /// A transport that reads `input` in pieces of at most `chunk` bytes.
    pub fn new(input: I, chunk: usize) -> Self {
        Mem {
            input,
            pos: 0,
            chunk,
            output: O::default(),
            closed: false,
            hang: false,
            stalled: false,
        }
    }
}

/// What a [`Mem`] does with the bytes written to it.
pub trait Output: Unpin {
    /// Takes bytes of `bufs`, in order; returns how many.
    fn put(&mut self, bufs: &[IoSlice<'_>]) -> usize;
}

/// Keeps every byte, for assertions. Takes only the first non-empty buffer
/// of a vectored write, as `AsyncWrite::poll_write_vectored` does by
/// default, so writers meet partial writes.
impl Output for Vec<u8> {
    fn put(&mut self, bufs: &[IoSlice<'_>]) -> usize {
        let buf = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
        self.extend_from_slice(buf);
        buf.len()
    }
}

/// Counts the bytes and throws them away, taking whole vectored writes as a
/// socket with room does: for benches, where keeping them would cost time.
impl Output for usize {
    fn put(&mut self, bufs: &[IoSlice<'_>]) -> usize {
        let n = bufs.iter().map(|b| b.len()).sum();
        *self += n;
        n
    }
}

impl<I: AsRef<[u8]> + Unpin, O: Unpin> AsyncRead for Mem<I, O> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let input = this.input.as_ref();
        if this.hang && this.pos == input.len() {
            return Poll::Pending;
        }
        let n = buf.len().min(this.chunk).min(input.len() - this.pos);
        buf[..n].copy_from_slice(&input[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(n))
    }
}

impl<I: Unpin, O: Output> AsyncWrite for Mem<I, O> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.stalled {
            return Poll::Pending;
        }
        Poll::Ready(Ok(self.output.put(bufs)))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closed = true;
        Poll::Ready(Ok(()))
    }
}
