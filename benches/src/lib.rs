//! Support code for the wsup benchmarks: an in-memory transport, so the
//! criterion benches measure the codec, not the kernel (tungstenite's
//! habit), and helpers that build masked client frames.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use wsup_core::frame::{apply_mask, FrameHeader, OpCode, MAX_HEADER_LEN};

/// Serves `input` once in reads of at most `chunk` bytes, then EOF; counts
/// what is written and throws it away.
#[derive(Debug)]
pub struct Replay<'a> {
    input: &'a [u8],
    chunk: usize,
    /// Bytes written so far.
    pub written: usize,
}

impl<'a> Replay<'a> {
    /// A transport that reads `input` in pieces of `chunk` bytes.
    pub fn new(input: &'a [u8], chunk: usize) -> Self {
        Replay {
            input,
            chunk,
            written: 0,
        }
    }
}

impl AsyncRead for Replay<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(self.chunk).min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Replay<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written += buf.len();
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let n = bufs.iter().map(|b| b.len()).sum();
        self.written += n;
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// One masked client frame.
pub fn client_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mask = [0x12, 0x34, 0x56, 0x78];
    let h = FrameHeader {
        fin,
        rsv1: false,
        rsv23: 0,
        opcode,
        mask: Some(mask),
        payload_len: payload.len() as u64,
    };
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = h.encode(&mut head);
    let mut out = head[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], mask, 0);
    out
}

/// Text-like payload of `len` bytes (ASCII words with some two-byte letters).
pub fn text_payload(len: usize) -> String {
    let words = [
        "wsup ",
        "frame ",
        "größe ",
        "message ",
        "socket ",
        "données ",
    ];
    let mut s = String::with_capacity(len + 16);
    let mut i = 0;
    while s.len() < len {
        s.push_str(words[i % words.len()]);
        i += 1;
    }
    while s.len() > len {
        s.pop();
    }
    s
}
