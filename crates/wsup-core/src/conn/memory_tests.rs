//! What a connection keeps after a burst: the read buffer and the deflate
//! state return to their configured size once a large message is
//! delivered, over the in-memory transport.

use crate::role::Role;
use std::future::Future;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_executor::block_on;

use super::tests::big_limits;
use super::WebSocket;
use crate::config::WebSocketConfig;
use crate::deflate::{negotiate, parse_offers, DeflateConfig, Deflater};
use crate::frame::OpCode;
use crate::message::Message;
use crate::protocol::READ_WINDOW;
use crate::protocol::{set_spare_reads_full, spare_read_capacities};

type Mem = wsup_testkit::Mem;

const BIG: usize = 16 << 20;

fn frame(opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) -> Vec<u8> {
    let mut f = wsup_testkit::client_frame(opcode.as_u8(), fin, payload);
    if rsv1 {
        f[0] |= 0x40;
    }
    f
}

/// A connection reading `input` in reads of 1 MiB, then waiting (the peer
/// goes quiet), optionally with permessage-deflate (context takeover both
/// ways).
fn conn(input: Vec<u8>, deflate: bool) -> WebSocket<Mem> {
    conn_in_reads(input, 1 << 20, deflate)
}

/// As [`conn`], in reads of at most `chunk` bytes.
fn conn_in_reads(input: Vec<u8>, chunk: usize, deflate: bool) -> WebSocket<Mem> {
    let mut ws = WebSocket::from_raw(
        Mem::new(input, chunk),
        Role::Server,
        Bytes::new(),
        big_limits(),
        None,
    );
    ws.get_mut().hang = true;
    if deflate {
        let config = DeflateConfig::enabled();
        let offers = parse_offers(&["permessage-deflate; client_max_window_bits"]);
        let agreed = negotiate(&offers, &config).expect("offer accepted");
        ws.enable_deflate(agreed, &config, None);
    }
    ws
}

/// Polls `recv` once more: the connection reads until it would wait.
fn wait_for_more(ws: &mut WebSocket<Mem>) {
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    let mut recv = std::pin::pin!(ws.recv());
    assert!(matches!(recv.as_mut().poll(&mut cx), Poll::Pending));
}

/// The most a connection waiting between messages may hold for reading:
/// its read buffer size and two read windows (`read_buf::kept`).
fn kept(cfg: &WebSocketConfig) -> usize {
    cfg.read_buffer_size() + 2 * READ_WINDOW
}

fn payload() -> Vec<u8> {
    (0..BIG as u32).map(|i| (i % 251) as u8).collect()
}

/// 16 MiB that deflate cannot shrink: its frames stay large.
fn noise() -> Vec<u8> {
    wsup_testkit::noise(BIG)
}

#[test]
fn after_a_large_message_the_read_buffer_returns_to_its_size() {
    let data = payload();
    let mut ws = conn(frame(OpCode::Binary, true, false, &data), false);
    let msg = block_on(ws.recv()).unwrap();
    assert_eq!(msg, Message::Binary(data.into()));
    drop(msg);
    wait_for_more(&mut ws);
    let cap = ws.driver.proto.read_capacity();
    assert!(cap <= kept(ws.config()), "holds {cap}");
    // Still a connection: the next message comes through a new buffer.
    ws.get_mut()
        .input
        .extend(frame(OpCode::Text, true, false, b"next"));
    assert_eq!(block_on(ws.recv()).unwrap(), Message::text("next"));
}

#[test]
fn after_a_large_message_received_in_chunks_the_read_buffer_returns_to_its_size() {
    let data = payload();
    let mut ws = conn(frame(OpCode::Binary, true, false, &data), false);
    let mut got = 0;
    while got < data.len() {
        let chunk = block_on(ws.recv_chunk()).unwrap();
        got += chunk.data().len();
    }
    wait_for_more(&mut ws);
    let cap = ws.driver.proto.read_capacity();
    assert!(cap <= kept(ws.config()), "holds {cap}");
}

#[test]
fn after_a_large_compressed_message_the_read_buffer_returns_to_its_size() {
    let data = noise();
    let mut client = Deflater::new(1, 15, false);
    let mut wire = BytesMut::new();
    client.compress(&data, &mut wire);
    // Three fragments, so the message is assembled across frames.
    let third = wire.len() / 3;
    let mut input = frame(OpCode::Binary, false, true, &wire[..third]);
    input.extend(frame(
        OpCode::Continuation,
        false,
        false,
        &wire[third..2 * third],
    ));
    input.extend(frame(OpCode::Continuation, true, false, &wire[2 * third..]));
    let mut ws = conn(input, true);
    let msg = block_on(ws.recv()).unwrap();
    assert!(msg == Message::Binary(data.into()));
    drop(msg);
    wait_for_more(&mut ws);
    let cap = ws.driver.proto.read_capacity();
    assert!(cap <= kept(ws.config()), "holds {cap}");
}

#[test]
fn after_a_large_compressed_send_no_large_scratch_is_kept() {
    for data in [noise(), vec![0u8; BIG]] {
        let mut ws = conn(Vec::new(), true);
        block_on(ws.send(Message::Binary(data.into()))).unwrap();
        let scratch = ws.driver.proto.deflate_scratch();
        assert!(scratch <= READ_WINDOW, "scratch {scratch}");
    }
}

/// Ordinary traffic, frames under a read window in large reads, whether the
/// application keeps its messages or not: the buffer stays within what is
/// kept, and is kept across a wait: by the connection, or by the thread's
/// spares (see the next test).
#[test]
fn a_buffer_grown_by_ordinary_traffic_is_kept_across_waits() {
    for (size, hold) in [
        (1000, false),
        (1000, true),
        (60_000, false),
        (200_000, false),
    ] {
        set_spare_reads_full(false);
        let n = (4 << 20) / size;
        let input = frame(OpCode::Binary, true, false, &vec![1u8; size]).repeat(n);
        let mut ws = conn(input, false);
        let mut most = 0;
        let mut held = Vec::new();
        for _ in 0..n {
            let msg = block_on(ws.recv()).unwrap();
            most = most.max(ws.driver.proto.read_capacity());
            if hold {
                held.push(msg);
            }
        }
        assert!(most <= kept(ws.config()), "{size}: {most}");
        wait_for_more(&mut ws);
        let held = ws.driver.proto.read_capacity();
        let spare = spare_read_capacities();
        let cap = held.max(spare.iter().copied().max().unwrap_or(0));
        assert!(
            cap > ws.config().read_buffer_size(),
            "{size}: {held} {spare:?}"
        );
    }
}

/// A burst of small messages in small reads (as over a socket: what the
/// peer sent since the last read), then a wait: the buffer goes to the
/// thread's spares, and the next read takes it back. Where the thread
/// keeps enough spares already (other connections'), the connection keeps
/// its own.
#[test]
fn a_small_buffer_goes_to_the_threads_spares_when_the_read_waits() {
    for spares_full in [false, true] {
        set_spare_reads_full(false);
        let input = frame(OpCode::Binary, true, false, &[1u8; 1000]).repeat(100);
        let mut ws = conn_in_reads(input, 16 * 1024, false);
        for i in 0..100 {
            assert_eq!(
                block_on(ws.recv()).unwrap(),
                Message::binary(vec![1u8; 1000])
            );
            if i == 0 {
                // Other connections give theirs meanwhile.
                set_spare_reads_full(spares_full);
            }
        }
        wait_for_more(&mut ws);
        let rbs = ws.config().read_buffer_size();
        let (held, spare) = (ws.driver.proto.read_capacity(), spare_read_capacities());
        if spares_full {
            assert!(held > rbs, "{held}");
            assert!(spare.iter().all(|&c| c < rbs), "{spare:?}");
            continue;
        }
        assert_eq!(held, 0);
        let &[cap] = &spare[..] else {
            panic!("{spare:?}")
        };
        assert!((rbs + 1..=64 * 1024).contains(&cap), "{cap}");
        ws.get_mut()
            .input
            .extend(frame(OpCode::Binary, true, false, b"next"));
        assert_eq!(block_on(ws.recv()).unwrap(), Message::binary(&b"next"[..]));
        // The same buffer, but for the frame just split off its front.
        let taken = ws.driver.proto.read_capacity();
        assert!((cap - 10..=cap).contains(&taken), "{taken} {cap}");
        assert!(spare_read_capacities().is_empty());
    }
}

mod deflate_contexts {
    use super::*;
    use crate::deflate::CodecPool;
    use crate::Upgrader;
    use std::sync::Arc;

    const OFFER: &str = "permessage-deflate; client_max_window_bits";

    fn request(offer: &str) -> http::request::Parts {
        let req = http::Request::get("/")
            .header("host", "a")
            .header("upgrade", "websocket")
            .header("connection", "Upgrade")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-extensions", offer)
            .body(())
            .unwrap();
        req.into_parts().0
    }

    /// Upgrades over a transport that reads `input` then ends; returns the
    /// connection and the extensions its 101 stated.
    fn accept(upgrader: &Upgrader, input: Vec<u8>) -> (WebSocket<Mem>, String) {
        let accepted = upgrader.negotiate(&request(OFFER)).expect("accepted");
        let stated = accepted.response().headers()["sec-websocket-extensions"]
            .to_str()
            .unwrap()
            .to_owned();
        let ws = accepted.into_websocket(Mem::new(input, 4096), Bytes::new());
        (ws, stated)
    }

    fn compressed_first_fragment() -> Vec<u8> {
        let mut wire = BytesMut::new();
        Deflater::new(1, 15, false).compress_part(&[7u8; 5000], false, &mut wire);
        frame(OpCode::Binary, false, true, &wire)
    }

    #[test]
    fn past_the_budget_connections_negotiate_no_context_takeover() {
        let upgrader = Upgrader::new()
            .compression(DeflateConfig::enabled())
            .max_deflate_contexts(1);
        let (mut first, stated) = accept(&upgrader, Vec::new());
        assert_eq!(stated, "permessage-deflate");
        assert_eq!(upgrader.live_deflate_contexts(), 1);
        // A clone shares the count.
        let (second, stated) = accept(&upgrader.clone(), Vec::new());
        assert_eq!(
            stated,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        let agreed = second.compression().unwrap();
        assert!(agreed.server_no_context_takeover && agreed.client_no_context_takeover);
        assert_eq!(upgrader.live_deflate_contexts(), 1);
        // The first ends (its input does); its handle is still held, its
        // place is free.
        assert!(block_on(first.recv()).is_err());
        assert_eq!(upgrader.live_deflate_contexts(), 0);
        let (_third, stated) = accept(&upgrader, Vec::new());
        assert_eq!(stated, "permessage-deflate");
        assert_eq!(upgrader.live_deflate_contexts(), 1);
        drop(second);
        drop(first);
        assert_eq!(upgrader.live_deflate_contexts(), 1);
    }

    #[test]
    fn a_dropped_connection_frees_its_place() {
        let upgrader = Upgrader::new()
            .compression(DeflateConfig::enabled())
            .max_deflate_contexts(1);
        let (first, _) = accept(&upgrader, Vec::new());
        drop(first);
        assert_eq!(upgrader.live_deflate_contexts(), 0);
        let (_again, stated) = accept(&upgrader, Vec::new());
        assert_eq!(stated, "permessage-deflate");
    }

    #[test]
    fn an_unfinished_compressed_message_lets_go_of_everything_when_the_connection_ends() {
        // Without context takeover the decompressor is lent by the pool for
        // the message; the message never ends, the connection does.
        let config = DeflateConfig::enabled().client_no_context_takeover(true);
        let offers = parse_offers(&[OFFER]);
        let agreed = negotiate(&offers, &config).unwrap();
        let pool = Arc::new(CodecPool::new(4));
        let mut ws = conn(compressed_first_fragment(), false);
        ws.get_mut().hang = false;
        let share = crate::deflate::ServerShare {
            pool: pool.clone(),
            permit: None,
        };
        ws.enable_deflate(agreed, &config, Some(share));
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        {
            ws.get_mut().hang = true;
            let mut recv = std::pin::pin!(ws.recv());
            assert!(recv.as_mut().poll(&mut cx).is_pending());
        }
        // Mid-message: the decompressor is out of the pool.
        assert_eq!(pool.idle_decompressors(), 0);
        assert!(ws.driver.proto.holds_codec_state());
        ws.get_mut().hang = false;
        assert!(block_on(ws.recv()).is_err());
        // Over: back in the pool while the handle is still held, and the
        // assembled part of the message is gone.
        assert_eq!(pool.idle_decompressors(), 1);
        assert!(!ws.driver.proto.holds_codec_state());
        assert_eq!(ws.driver.proto.read_capacity(), 0);
    }

    #[test]
    fn an_ended_connection_holds_no_compression_context() {
        let upgrader = Upgrader::new().compression(DeflateConfig::enabled());
        let (mut ws, _) = accept(&upgrader, compressed_first_fragment());
        block_on(ws.send(Message::binary(vec![1u8; 10_000]))).unwrap();
        ws.get_mut().hang = true;
        wait_for_more(&mut ws);
        assert!(ws.driver.proto.holds_codec_state());
        assert_eq!(upgrader.live_deflate_contexts(), 1);
        ws.get_mut().hang = false;
        assert!(block_on(ws.recv()).is_err());
        assert!(!ws.driver.proto.holds_codec_state());
        assert_eq!(upgrader.live_deflate_contexts(), 0);
    }
}
