//! Codec micro-benchmarks over in-memory data. Each group carries its
//! baseline in the same run: the plain byte loop for masking, `std`'s UTF-8
//! check, and a `memcpy` of the same bytes as the ceiling for frame decoding.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_executor::block_on;
use std::hint::black_box;
use wsup_benches::{text_payload, Replay};
use wsup_core::frame::{
    apply_mask, apply_mask_plain, apply_mask_portable, copy_masked, copy_plain, FrameHeader,
    OpCode, MAX_HEADER_LEN,
};
use wsup_core::handshake::{parse_head, validate_request, HeadLimits};
use wsup_core::utf8::Utf8Validator;
use wsup_core::{Bytes, Message, Role, WebSocket, WebSocketConfig};
use wsup_testkit::{client_frame, OP_TEXT};

fn mask(c: &mut Criterion) {
    let mut g = c.benchmark_group("unmask");
    for size in [16usize, 1024, 64 * 1024, 256 * 1024] {
        let mut buf = vec![7u8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("wsup", size), &size, |b, _| {
            b.iter(|| apply_mask(black_box(&mut buf), [1, 2, 3, 4], 0))
        });
        // As in a frame: the payload starts after a 6-byte header.
        let mut framed = vec![7u8; size + 6];
        g.bench_with_input(
            BenchmarkId::new("wsup_after_header", size),
            &size,
            |b, _| b.iter(|| apply_mask(black_box(&mut framed[6..]), [1, 2, 3, 4], 0)),
        );
        // The SSE2 path any x86-64 runs, where AVX2 is missing.
        g.bench_with_input(
            BenchmarkId::new("portable_after_header", size),
            &size,
            |b, _| b.iter(|| apply_mask_portable(black_box(&mut framed[6..]), [1, 2, 3, 4])),
        );
        g.bench_with_input(
            BenchmarkId::new("plain_loop_baseline", size),
            &size,
            |b, _| b.iter(|| apply_mask_plain(black_box(&mut buf), [1, 2, 3, 4])),
        );
    }
    g.finish();
}

/// A relayed payload: copied unmasked in one pass (`copy_masked`, what an
/// echo's `recv_each` relay does) against its baseline, unmasking in place
/// and then copying. The copy is `copy_plain`'s, not `memcpy`, whose time
/// at 16 KiB depends on where the two buffers happen to lie (0.55 or 6.1
/// µs in two runs: see `plain_copy`).
fn relay_copy(c: &mut Criterion) {
    let mut g = c.benchmark_group("relay_copy");
    for size in [16usize, 1024, 16 * 1024 - 1] {
        let mut framed = vec![7u8; size + 6];
        let mut out: Vec<std::mem::MaybeUninit<u8>> = vec![std::mem::MaybeUninit::new(0); size];
        let mut plain_out: Vec<std::mem::MaybeUninit<u8>> =
            vec![std::mem::MaybeUninit::new(0); size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("copy_masked", size), &size, |b, _| {
            b.iter(|| copy_masked(black_box(&framed[6..]), black_box(&mut out), [1, 2, 3, 4]))
        });
        g.bench_with_input(
            BenchmarkId::new("unmask_then_copy_baseline", size),
            &size,
            |b, _| {
                b.iter(|| {
                    let payload = &mut framed[6..];
                    apply_mask(black_box(&mut *payload), [1, 2, 3, 4], 0);
                    copy_plain(payload, black_box(&mut plain_out));
                })
            },
        );
    }
    g.finish();
}

fn header(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame_header");
    let h = FrameHeader {
        fin: true,
        rsv1: false,
        rsv23: 0,
        opcode: OpCode::Binary,
        mask: Some([1, 2, 3, 4]),
        payload_len: 70_000,
    };
    let mut out = [0u8; MAX_HEADER_LEN];
    let n = h.encode(&mut out);
    g.bench_function("encode", |b| {
        b.iter(|| black_box(&h).encode(black_box(&mut out)))
    });
    g.bench_function("parse", |b| {
        b.iter(|| FrameHeader::parse(black_box(&out[..n])))
    });
    g.finish();
}

fn utf8(c: &mut Criterion) {
    let mut g = c.benchmark_group("utf8");
    for size in [1024usize, 64 * 1024] {
        let text = text_payload(size);
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("wsup_incremental", size), &text, |b, t| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                v.feed(black_box(t.as_bytes())).unwrap();
                v.finish().unwrap();
            })
        });
        g.bench_with_input(BenchmarkId::new("std_baseline", size), &text, |b, t| {
            b.iter(|| std::str::from_utf8(black_box(t.as_bytes())).unwrap().len())
        });
    }
    g.finish();
}

/// A server connection with the default configuration over `io`.
fn server(io: Replay<'_>) -> WebSocket<Replay<'_>> {
    WebSocket::from_raw(
        io,
        Role::Server,
        Bytes::new(),
        WebSocketConfig::default(),
        None,
    )
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode_messages");
    for (size, count) in [(16usize, 1000usize), (1024, 500), (64 * 1024, 16)] {
        let payload = text_payload(size);
        let input: Vec<u8> = (0..count)
            .flat_map(|_| client_frame(OP_TEXT, true, payload.as_bytes()))
            .collect();
        g.throughput(Throughput::Bytes((size * count) as u64));
        g.bench_with_input(BenchmarkId::new("wsup_recv", size), &input, |b, input| {
            b.iter(|| {
                let mut ws = server(Replay::new(input, 64 * 1024));
                block_on(async {
                    for _ in 0..count {
                        let m = ws.recv().await.unwrap();
                        black_box(m);
                    }
                })
            })
        });
        g.bench_with_input(
            BenchmarkId::new("memcpy_ceiling", size),
            &input,
            |b, input| {
                let mut dst = vec![0u8; input.len()];
                b.iter(|| dst.copy_from_slice(black_box(input)))
            },
        );
    }
    g.finish();
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode_messages");
    for (size, count) in [(16usize, 1000usize), (1024, 500), (64 * 1024, 16)] {
        let payload = Bytes::from(text_payload(size));
        g.throughput(Throughput::Bytes((size * count) as u64));
        g.bench_with_input(
            BenchmarkId::new("wsup_feed_flush", size),
            &payload,
            |b, p| {
                b.iter(|| {
                    let mut ws = server(Replay::new(&[], 1));
                    block_on(async {
                        for _ in 0..count {
                            ws.feed(Message::Binary(p.clone())).await.unwrap();
                        }
                        ws.flush().await.unwrap();
                    });
                    ws.get_ref().output
                })
            },
        );
    }
    g.finish();
}

fn handshake(c: &mut Criterion) {
    let req = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\nUser-Agent: bench\r\n\r\n";
    let limits = HeadLimits::default();
    c.bench_function("handshake_parse_and_validate", |b| {
        b.iter(|| {
            let parts = parse_head(black_box(req), &limits).unwrap();
            validate_request(&parts).unwrap()
        })
    });
}

/// A payload copied into the output (a text message, or one sent from a
/// slice): `copy_plain` against its baseline, `memcpy`
/// (`copy_from_slice`). Where a payload lands in the output, against where
/// it lies in the input, is wherever the frames before it ended: each
/// iteration copies it to every place 0 to 4,092 bytes (in steps of 4)
/// past the source, modulo 4 KiB, and the time is their average. (On AMD's
/// Zen, glibc's `memcpy` of 2 KiB or more is 15 to 30 times slower at 1 to
/// 31 bytes past it: 7 of the 1,024 places.)
fn plain_copy(c: &mut Criterion) {
    let mut g = c.benchmark_group("plain_copy");
    for size in [1024usize, 4096, 16 * 1024 - 1] {
        // The source 6 bytes into a page (after a client's header); the
        // destinations from a page boundary far enough past it not to
        // overlap, then `to` bytes on.
        let page = 4096;
        let gap = (size + 6).div_ceil(page) * page;
        let buf = page_aligned(gap + 2 * page + size);
        let (src, dst) = buf.split_at_mut(gap);
        let src = &src[6..6 + size];
        g.throughput(Throughput::Bytes((page / 4 * size) as u64));
        g.bench_with_input(BenchmarkId::new("copy_plain", size), &size, |b, _| {
            b.iter(|| {
                for to in (0..page).step_by(4) {
                    let out = as_uninit(&mut dst[6 + to..6 + to + size]);
                    copy_plain(black_box(src), black_box(out));
                }
            })
        });
        g.bench_with_input(BenchmarkId::new("memcpy_baseline", size), &size, |b, _| {
            b.iter(|| {
                for to in (0..page).step_by(4) {
                    black_box(&mut dst[6 + to..6 + to + size]).copy_from_slice(black_box(src));
                }
            })
        });
    }
    g.finish();
}

/// A zeroed buffer of `len` bytes that starts at a page boundary.
fn page_aligned(len: usize) -> &'static mut [u8] {
    let v = vec![0u8; len + 4096].leak();
    let skip = v.as_ptr().align_offset(4096);
    &mut v[skip..skip + len]
}

fn as_uninit(bytes: &mut [u8]) -> &mut [std::mem::MaybeUninit<u8>] {
    // SAFETY: initialised bytes are valid `MaybeUninit<u8>`s, and only
    // initialised bytes are written through the result.
    unsafe { &mut *(bytes as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) }
}

criterion_group!(benches, mask, relay_copy, plain_copy, header, utf8, decode, encode, handshake);
criterion_main!(benches);
