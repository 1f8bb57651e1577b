//! [`Script`]: an in-memory transport that hands its input out in reads of
//! the sizes the fuzz input gives (a zero: the read waits once), takes
//! writes the same way, and keeps what was written up to a bound.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// Output kept for checks; past it, bytes are counted and dropped.
const KEEP: usize = 4 << 20;

/// The peer, as the fuzz input scripts it.
#[derive(Debug, Default)]
pub struct Script {
    input: Vec<u8>,
    pos: usize,
    reads: Vec<u16>,
    next_read: usize,
    writes: Vec<u16>,
    next_write: usize,
    /// The last read, or write, was pending: the next one is not.
    read_waited: bool,
    write_waited: bool,
    /// Once the input is used up, reads wait (instead of end of stream).
    pub hang: bool,
    /// What was written, up to `KEEP` bytes.
    pub output: Vec<u8>,
    /// Bytes written in all.
    pub written: usize,
    /// Set by `poll_close`.
    pub closed: bool,
    /// On the first read, replace [`ACCEPT_MARKER`] in the input with the
    /// accept value of the key in the request written so far.
    pub answer_key: bool,
}

/// Stands, in a client target's input, for the `Sec-WebSocket-Accept`
/// value of the (random) key the client sent.
pub const ACCEPT_MARKER: &[u8] = b"@ACCEPT@";

impl Script {
    /// Reads `input` in pieces of the sizes of `reads` in turn (0: the read
    /// is pending, once: the next one takes a byte); takes writes of at
    /// most the sizes of `writes` in turn (0 likewise). Empty lists: no
    /// bound. So a call polled twice in a row always makes progress.
    pub fn new(input: Vec<u8>, reads: Vec<u16>, writes: Vec<u16>) -> Self {
        Script {
            input,
            reads,
            writes,
            ..Script::default()
        }
    }

    /// Replaces every [`ACCEPT_MARKER`] in the unread input with the
    /// accept value of the `Sec-WebSocket-Key` written.
    fn put_accept(&mut self) {
        let request = String::from_utf8_lossy(&self.output);
        let Some(key) = request.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then_some(value)
        }) else {
            return;
        };
        let accept = wsup_core::handshake::accept_key(key.trim().as_bytes());
        let mut input = self.input[..self.pos].to_vec();
        let mut rest = &self.input[self.pos..];
        while let Some(p) = rest
            .windows(ACCEPT_MARKER.len())
            .position(|w| w == ACCEPT_MARKER)
        {
            input.extend_from_slice(&rest[..p]);
            input.extend_from_slice(accept.as_bytes());
            rest = &rest[p + ACCEPT_MARKER.len()..];
        }
        input.extend_from_slice(rest);
        self.input = input;
    }

    /// The next size from `sizes`, cycling; `usize::MAX` when there are
    /// none; 0 (wait) never twice in a row.
    fn next(sizes: &[u16], at: &mut usize, waited: &mut bool) -> usize {
        if sizes.is_empty() {
            return usize::MAX;
        }
        let n = usize::from(sizes[*at % sizes.len()]);
        *at += 1;
        let n = if std::mem::take(waited) { n.max(1) } else { n };
        *waited = n == 0;
        n
    }
}

impl AsyncRead for Script {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if std::mem::take(&mut this.answer_key) {
            this.put_accept();
        }
        let left = this.input.len() - this.pos;
        if left == 0 && this.hang {
            return Poll::Pending;
        }
        if buf.is_empty() || left == 0 {
            return Poll::Ready(Ok(0));
        }
        match Script::next(&this.reads, &mut this.next_read, &mut this.read_waited) {
            0 => Poll::Pending,
            size => {
                let n = buf.len().min(size).min(left);
                buf[..n].copy_from_slice(&this.input[this.pos..this.pos + n]);
                this.pos += n;
                Poll::Ready(Ok(n))
            }
        }
    }
}

impl AsyncWrite for Script {
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
        let this = &mut *self;
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        let mut room =
            match Script::next(&this.writes, &mut this.next_write, &mut this.write_waited) {
                0 => return Poll::Pending,
                n => n,
            };
        let mut n = 0;
        for b in bufs {
            let take = b.len().min(room);
            let keep = take.min(KEEP.saturating_sub(this.output.len()));
            this.output.extend_from_slice(&b[..keep]);
            n += take;
            room -= take;
            if room == 0 {
                break;
            }
        }
        this.written += n;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closed = true;
        Poll::Ready(Ok(()))
    }
}
