//! Memory under hostile peers, over real sockets on every runtime, counted
//! by an allocator that sees every thread: deflate bombs through the
//! fragmented and the streaming paths, a ping flood from a peer that never
//! reads, a 16 MiB frame and then silence. Each bound is what the
//! configuration says, not what the peer sends.
//!
//! The measurements run one at a time (they share the process's count):
//! each test holds a lock for its whole body, across its awaits, which is
//! the point (each runs on its own runtime, on its own thread).
#![allow(clippy::await_holding_lock)]

mod harness;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::BytesMut;
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use harness::raw::{RawWs, OP_BINARY, OP_CONT, OP_PING};
use harness::*;
use wsup::deflate::{DeflateConfig, Deflater};
use wsup::Error;
use wsup_testkit::{encode_frame, process_live_bytes, process_reset_peak};

#[global_allocator]
static GLOBAL: wsup_testkit::ProcessLiveAlloc = wsup_testkit::ProcessLiveAlloc;

static SERIAL: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const MIB: isize = 1 << 20;

/// 16 MiB of zeros, deflated (about 16 KiB), cut into 16 masked frames of
/// one compressed binary message.
fn fragmented_bomb() -> Vec<u8> {
    let mut wire = BytesMut::new();
    Deflater::new(9, 15, false).compress(&vec![0u8; 16 << 20], &mut wire);
    let pieces: Vec<&[u8]> = wire.chunks(wire.len().div_ceil(16)).collect();
    let last = pieces.len() - 1;
    let mut out = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let (rsv, opcode) = if i == 0 { (4, OP_BINARY) } else { (0, OP_CONT) };
        out.extend(encode_frame(
            i == last,
            rsv,
            opcode,
            Some([1, 2, 3, 4]),
            piece,
        ));
    }
    out
}

/// [`fragmented_bomb`] from a deflate client to the server at `addr`, the
/// process holding less than `limit` bytes more at its peak, over the
/// sending and the wait: what the server's task returned (within 10 s,
/// `what`), and the client.
async fn send_the_bomb<R: Rt, T>(
    addr: std::net::SocketAddr,
    server: BoxFut<T>,
    what: &str,
    limit: isize,
) -> (T, RawWs<R::ClientIo>) {
    let mut client = deflate_client::<R>(addr).await;
    let bomb = fragmented_bomb();
    let before = process_live_bytes();
    process_reset_peak();
    client.write_raw(&bomb).await;
    let out = within::<R, _>(Duration::from_secs(10), what, server).await;
    let peak = process_reset_peak() - before;
    assert!(peak < limit, "[{}] held {peak} bytes at the peak", R::NAME);
    (out, client)
}

/// A raw client that offered permessage-deflate (and got it).
async fn deflate_client<R: Rt>(addr: std::net::SocketAddr) -> RawWs<R::ClientIo> {
    let io = R::connect(addr).await;
    let (ws, head) =
        RawWs::handshake(io, addr, "Sec-WebSocket-Extensions: permessage-deflate\r\n").await;
    assert!(
        head.to_ascii_lowercase().contains("permessage-deflate"),
        "{head}"
    );
    ws
}

/// With a 1 MiB message limit, a fragmented bomb that inflates to 16 MiB
/// ends in 1009 with about the limit held, not 16 MiB.
async fn a_fragmented_deflate_bomb_stops_at_the_message_limit<R: Rt>() {
    let _serial = one_at_a_time();
    let up = upgrader::<R>()
        .compression(DeflateConfig::enabled())
        .max_message_size(1 << 20);
    let (addr, server) = serve_ws::<R, _, _, _>(up, |mut ws| async move { ws.recv().await }).await;
    let (res, mut client) = send_the_bomb::<R, _>(addr, server, "the limit", 3 * MIB).await;
    assert_matches!(R, res, Err(Error::Protocol(_)));
    assert_eq!(client.expect_close_code().await, 1009, "[{}]", R::NAME);
}

/// Read as a stream, the same bomb (no limit in the way: 16 MiB is under
/// the default) holds a read window or so at a time.
async fn a_fragmented_deflate_bomb_read_as_a_stream_holds_a_window<R: Rt>() {
    let _serial = one_at_a_time();
    let up = upgrader::<R>().compression(DeflateConfig::enabled());
    let (addr, server) = serve_ws::<R, _, _, _>(up, |mut ws| async move {
        let mut msg = ws.next_message().await.expect("a message");
        let mut buf = vec![0u8; 64 << 10];
        let mut total = 0usize;
        loop {
            let n = msg.read(&mut buf).await.expect("read");
            if n == 0 {
                break total;
            }
            assert!(buf[..n].iter().all(|&b| b == 0));
            total += n;
        }
    })
    .await;
    let (total, _client) = send_the_bomb::<R, _>(addr, server, "the stream", 2 * MIB).await;
    assert_eq!(total, 16 << 20, "[{}]", R::NAME);
}

/// A peer that floods pings and reads nothing: the pongs back up to the
/// backlog limit, the connection stops reading, and the write timeout ends
/// it. Memory stays at the backlog and the read buffer.
async fn a_ping_flood_from_a_peer_that_never_reads<R: Rt>() {
    let _serial = one_at_a_time();
    let up = upgrader::<R>().write_timeout(Some(Duration::from_millis(500)));
    let (addr, server) = serve_ws::<R, _, _, _>(up, |mut ws| async move {
        loop {
            if let Err(e) = ws.recv().await {
                break e;
            }
        }
    })
    .await;
    let client = raw_connect_io::<R>(addr).await;
    let ping = encode_frame(true, 0, OP_PING, Some([9, 8, 7, 6]), &[b'p'; 125]);
    let flood: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 128_000)
        .collect();
    let before = process_live_bytes();
    process_reset_peak();
    let flooding = spawn::<R, _>(async move {
        let mut client = client;
        // Blocks once the server stops reading; fails once it has gone.
        let _ = client.io.write_all(&flood).await;
        client
    });
    let err = within::<R, _>(Duration::from_secs(15), "the write timeout", server).await;
    let peak = process_reset_peak() - before;
    assert_matches!(R, err, Error::WriteTimeout);
    assert!(
        peak < 2 * MIB,
        "[{}] held {peak} bytes at the peak",
        R::NAME
    );
    drop(within::<R, _>(Duration::from_secs(10), "the flood stops", flooding).await);
}

/// A 16 MiB frame, then silence: once the application drops the message
/// and a keepalive interval passes with nothing received, the connection
/// holds what a new one does.
async fn a_16_mib_frame_then_silence_gives_the_buffer_back<R: Rt>() {
    let _serial = one_at_a_time();
    let up = upgrader::<R>()
        .keepalive_interval(Some(Duration::from_millis(200)))
        .keepalive_timeout(Duration::from_secs(10));
    let got = Arc::new(AtomicBool::new(false));
    let flag = got.clone();
    let (addr, server) = serve_ws::<R, _, _, _>(up, move |mut ws| async move {
        let m = ws.recv().await.expect("the large message");
        assert_eq!(m.len(), 16 << 20);
        drop(m);
        flag.store(true, Ordering::SeqCst);
        // Silence (the keepalive pings go unanswered) until the peer goes.
        ws.recv().await
    })
    .await;
    let mut client = raw_connect_io::<R>(addr).await;
    // Settled: the connection is open and waiting.
    R::sleep(Duration::from_millis(100)).await;
    let before = process_live_bytes();
    let frame = encode_frame(true, 0, OP_BINARY, Some([5, 6, 7, 8]), &vec![1u8; 16 << 20]);
    client.write_raw(&frame).await;
    drop(frame);
    within::<R, _>(Duration::from_secs(10), "the message", async {
        while !got.load(Ordering::SeqCst) {
            R::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    // Three keepalive intervals with nothing received.
    R::sleep(Duration::from_millis(700)).await;
    let held = process_live_bytes() - before;
    assert!(held < MIB / 4, "[{}] still holds {held} bytes", R::NAME);
    drop(client);
    let _ = within::<R, _>(Duration::from_secs(10), "the end", server).await;
}

/// A raw client after a plain handshake (no extensions).
async fn raw_connect_io<R: Rt>(addr: std::net::SocketAddr) -> RawWs<R::ClientIo> {
    harness::raw::raw_connect::<R>(addr).await
}

runtime_tests!(
    a_fragmented_deflate_bomb_stops_at_the_message_limit,
    a_fragmented_deflate_bomb_read_as_a_stream_holds_a_window,
    a_ping_flood_from_a_peer_that_never_reads,
    a_16_mib_frame_then_silence_gives_the_buffer_back,
);
