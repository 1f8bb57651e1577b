//! Peak memory of the streaming path, measured by an allocator that counts
//! the bytes this thread holds: a compression bomb read in pieces never has
//! more than a read window inflated at once.

use bytes::{Bytes, BytesMut};
use futures_executor::block_on;
use wsup_core::deflate::{DeflateConfig, Deflater};
use wsup_core::http::Request;
use wsup_core::{Upgrader, WebSocket};
use wsup_testkit::Mem;

#[global_allocator]
static GLOBAL: wsup_testkit::LiveAlloc = wsup_testkit::LiveAlloc;

/// The most one piece of a message holds: a read window (256 KiB).
const READ_WINDOW: usize = 256 << 10;

/// 16 MiB of zeros, deflated: about 16 KiB on the wire.
const BOMB: usize = 16 << 20;

/// A connection negotiated with permessage-deflate (context takeover both
/// ways) that reads `input`, then reaches its end.
fn compressed_conn(input: Vec<u8>) -> WebSocket<Mem> {
    let req = Request::get("/")
        .header("host", "a")
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-extensions", "permessage-deflate")
        .body(())
        .unwrap();
    let (parts, ()) = req.into_parts();
    // The bomb inflates to 16 MiB: over the default message limit (1 MiB),
    // which would end it before the window is tested.
    let upgrader = Upgrader::new()
        .compression(DeflateConfig::enabled())
        .max_message_size(BOMB);
    let accepted = upgrader.negotiate(&parts).expect("accepted");
    assert!(accepted.compression().is_some());
    accepted.into_websocket(Mem::new(input, 1 << 20), Bytes::new())
}

fn bomb_frame() -> Vec<u8> {
    let mut wire = BytesMut::new();
    Deflater::new(9, 15, false).compress(&vec![0u8; BOMB], &mut wire);
    assert!(wire.len() < 64 << 10, "{}", wire.len());
    let mut frame = wsup_testkit::client_frame(wsup_testkit::OP_BINARY, true, &wire);
    frame[0] |= 0x40; // RSV1: compressed
    frame
}

/// Reads every piece with `next` until it says the message ended (`None`),
/// checking each.
fn read_pieces(mut next: impl FnMut() -> Option<Bytes>) {
    let (mut total, mut pieces) = (0, 0);
    while let Some(data) = next() {
        assert!(data.len() <= READ_WINDOW, "a piece of {}", data.len());
        assert!(data.iter().all(|&b| b == 0));
        total += data.len();
        pieces += 1;
    }
    assert_eq!(total, BOMB);
    assert!(pieces >= BOMB / READ_WINDOW, "{pieces} pieces");
}

/// The most bytes this thread held at once while `f` ran, over what it
/// held before.
fn peak_of(f: impl FnOnce()) -> isize {
    let before = wsup_testkit::live_bytes();
    wsup_testkit::reset_peak();
    f();
    wsup_testkit::reset_peak() - before
}

/// A window of output (grown by doubling), the read buffer, zlib's state.
const MOST: isize = 1 << 20;

#[test]
fn a_compression_bomb_read_in_chunks_holds_at_most_a_window_inflated() {
    let mut ws = compressed_conn(bomb_frame());
    let mut ended = false;
    let peak = peak_of(|| {
        read_pieces(|| {
            if ended {
                return None;
            }
            let chunk = block_on(ws.recv_chunk()).unwrap();
            ended = chunk.last();
            Some(chunk.into_data())
        })
    });
    assert!(peak < MOST, "peak {peak}");
}

#[test]
fn a_compression_bomb_read_as_an_incoming_message_holds_at_most_a_window_inflated() {
    let mut ws = compressed_conn(bomb_frame());
    let peak = peak_of(|| {
        let mut msg = block_on(ws.next_message()).unwrap();
        read_pieces(|| block_on(msg.chunk()).unwrap());
    });
    assert!(peak < MOST, "peak {peak}");
}
