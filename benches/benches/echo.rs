//! The echo's work per batch, without the kernel: a connection relays
//! bursts of masked client frames through `recv_each`, as the `echo`
//! example does, over an in-memory transport that hands out one burst per
//! read and then makes the read wait, as a socket does once it is drained.
//! So each burst costs what it costs on a socket, less the syscalls: two
//! reads (one with the burst, one that would block), the handler per
//! message, one write of the replies.
//!
//! The baseline in the same run is the floor of a WebSocket echo: the same
//! bursts copied into a buffer (as the transport copies them into wsup's),
//! then a loop that does only what any server must (parse each header,
//! unmask the payload into the output behind the server's header), with no
//! limits, no checks, no buffering strategy, trusting the input to be whole
//! frames. The ratio is what wsup's connection adds per burst on top of the
//! protocol itself.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use wsup_core::frame::copy_masked;
use wsup_core::futures_io::{AsyncRead, AsyncWrite};
use wsup_core::{Bytes, Role, WebSocket, WebSocketConfig};
use wsup_testkit::{client_frame, OP_BINARY};

/// Messages in a burst: the load generator's window at small sizes.
const BURST: usize = 16;

/// Hands out `burst` once per read, then makes the next read wait (and
/// then has the burst again, as if the peer had sent it meanwhile); counts
/// what is written.
struct Bursts<'a> {
    burst: &'a [u8],
    /// How much of the burst was read.
    pos: usize,
    /// The next read waits (the burst was read to its end).
    drained: bool,
    written: usize,
}

impl AsyncRead for Bursts<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.drained {
            this.drained = false;
            return Poll::Pending;
        }
        let n = buf.len().min(this.burst.len() - this.pos);
        buf[..n].copy_from_slice(&this.burst[this.pos..this.pos + n]);
        this.pos += n;
        if this.pos == this.burst.len() {
            this.pos = 0;
            this.drained = true;
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Bursts<'_> {
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
        bufs: &[IoSlice<'_>],
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

/// `BURST` masked binary frames of `size` bytes each, back to back.
fn burst(size: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
    (0..BURST)
        .flat_map(|_| client_frame(OP_BINARY, true, &payload))
        .collect()
}

/// Relays `bursts` bursts through `recv_each`, polled by hand as a runtime
/// would: each `Pending` is the wait for the next burst.
fn relay_bursts(ws: &mut WebSocket<Bursts<'_>>, bursts: usize) -> usize {
    let mut cx = Context::from_waker(Waker::noop());
    let mut handed = 0;
    while handed < bursts * BURST {
        let mut fut = std::pin::pin!(ws.recv_each(|msg, out| out.relay(&msg)));
        if let Poll::Ready(res) = fut.as_mut().poll(&mut cx) {
            handed += res.expect("the echo runs");
        }
    }
    handed
}

/// The floor: the burst copied into `read` (a read's copy), then each of
/// its frames parsed (7-bit or 16-bit length, masked) and its payload
/// unmasked into `out` behind a server header; one "write" (the length)
/// per burst.
fn floor_burst(burst: &[u8], read: &mut Vec<u8>, out: &mut Vec<u8>) -> usize {
    read.clear();
    read.extend_from_slice(burst);
    let input = &read[..];
    out.clear();
    let mut at = 0;
    while at + 2 <= input.len() {
        let b1 = input[at + 1] & 0x7f;
        let (len, head) = match b1 {
            126 => (
                usize::from(u16::from_be_bytes([input[at + 2], input[at + 3]])),
                4,
            ),
            n => (usize::from(n), 2),
        };
        let key: [u8; 4] = input[at + head..at + head + 4].try_into().expect("key");
        let payload = &input[at + head + 4..at + head + 4 + len];
        out.push(input[at] & 0x8f);
        if len < 126 {
            out.push(len as u8);
        } else {
            out.push(126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        out.reserve(len);
        let start = out.len();
        copy_masked(payload, &mut out.spare_capacity_mut()[..len], key);
        // SAFETY: `copy_masked` wrote the `len` bytes after `start`.
        unsafe { out.set_len(start + len) };
        at += head + 4 + len;
    }
    out.len()
}

/// A server connection over a transport that hands out `burst`, warmed up:
/// 64 bursts relayed (its buffers grown and the thread's spares filled, as
/// on a busy server), and their echoes checked to have been written whole.
fn warm_server(burst: &[u8]) -> WebSocket<Bursts<'_>> {
    let io = Bursts {
        burst,
        pos: 0,
        drained: false,
        written: 0,
    };
    let mut ws = WebSocket::from_raw(
        io,
        Role::Server,
        Bytes::new(),
        WebSocketConfig::default(),
        None,
    );
    relay_bursts(&mut ws, 64);
    // Each frame goes back 4 bytes shorter (the server's is not masked);
    // the last burst's echoes go out when the connection next waits.
    let echoes = burst.len() - 4 * BURST;
    let written = ws.get_ref().written;
    assert!(written % echoes == 0 && written >= 63 * echoes, "{written}");
    ws
}

fn echo_bursts(c: &mut Criterion) {
    let mut g = c.benchmark_group("echo_burst");
    for size in [16usize, 1024] {
        let input = burst(size);
        g.throughput(Throughput::Elements(BURST as u64));
        g.bench_with_input(
            BenchmarkId::new("wsup_recv_each", size),
            &input,
            |b, input| {
                let mut ws = warm_server(input);
                b.iter(|| black_box(relay_bursts(&mut ws, 1)))
            },
        );
        // One burst on each of 100 connections in turn: their state colder.
        g.bench_with_input(
            BenchmarkId::new("wsup_100_conns", size),
            &input,
            |b, input| {
                let mut conns: Vec<_> = (0..100).map(|_| warm_server(input)).collect();
                let mut next = 0;
                b.iter(|| {
                    next = (next + 1) % conns.len();
                    black_box(relay_bursts(&mut conns[next], 1))
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("floor", size), &input, |b, input| {
            let mut read = Vec::with_capacity(input.len());
            let mut out = Vec::with_capacity(input.len());
            b.iter(|| black_box(floor_burst(black_box(input), &mut read, &mut out)))
        });
    }
    g.finish();
}

criterion_group!(benches, echo_bursts);
criterion_main!(benches);
