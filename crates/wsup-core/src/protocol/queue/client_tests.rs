//! The client's side of the queue, below the connection: the paths the
//! connection tests reach only through timers (keepalive's empty ping).

use std::io::IoSlice;

use super::{OutQueue, MAX_IOVECS};
use crate::config::WebSocketConfig;
use crate::frame::OpCode;
use crate::role::Role;

/// Everything queued, as one transport taking every write whole would
/// write it.
fn written(queue: &mut OutQueue) -> Vec<u8> {
    let mut out = Vec::new();
    while queue.queued() > 0 {
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
        let count = queue.slices(&mut slices);
        for s in &slices[..count] {
            out.extend_from_slice(s);
        }
        let n: usize = slices[..count].iter().map(|s| s.len()).sum();
        queue.consume(n);
    }
    out
}

#[test]
fn keepalive_pings_are_masked_for_a_client_only() {
    let mut client = OutQueue::new(&WebSocketConfig::default(), Role::Client);
    client.queue_empty_ping();
    client.queue_frame(OpCode::Text, true, false, b"between");
    client.queue_empty_ping();
    let frames = wsup_testkit::parse_frames(&written(&mut client));
    let keys: Vec<_> = frames.iter().map(|f| f.key.expect("masked")).collect();
    assert_eq!(frames.len(), 3);
    assert!(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
    assert_eq!(frames[0].opcode, wsup_testkit::OP_PING);
    assert_eq!(frames[1].payload, b"between");
    assert!(frames[0].payload.is_empty() && frames[2].payload.is_empty());

    let mut server = OutQueue::new(&WebSocketConfig::default(), Role::Server);
    server.queue_empty_ping();
    assert_eq!(written(&mut server), [0x89, 0x00]);
}

#[test]
fn a_ping_held_inside_a_relayed_frame_is_masked_after_it() {
    let mut client = OutQueue::new(&WebSocketConfig::default(), Role::Client);
    let payload = wsup_testkit::noise(40_000);
    let (a, b) = payload.split_at(17_001);
    client.start_frame(OpCode::Binary, payload.len(), a.to_vec().into());
    client.queue_empty_ping();
    client.queue_frame(OpCode::Pong, true, false, b"held");
    client.continue_frame(b.to_vec().into());
    let frames = wsup_testkit::parse_frames(&written(&mut client));
    assert_eq!(frames.len(), 3);
    assert!(frames.iter().all(|f| f.masked));
    assert_eq!(frames[0].payload, payload);
    assert_eq!(
        (frames[1].opcode, frames[2].opcode, &frames[2].payload[..]),
        (wsup_testkit::OP_PING, wsup_testkit::OP_PONG, &b"held"[..])
    );
}

/// A frame relayed in pieces of every size class (short, vector loop,
/// its own buffer), each starting at another phase of the key: masked
/// whole as one frame.
#[test]
fn a_frame_relayed_in_pieces_is_masked_across_them() {
    let mut client = OutQueue::new(&WebSocketConfig::default(), Role::Client);
    let payload = wsup_testkit::noise(50_000);
    let cuts = [0, 3, 70, 71, 2_150, 5_151, 5_153, 30_000, 50_000];
    let piece = |i: usize| payload[cuts[i]..cuts[i + 1]].to_vec().into();
    client.start_frame(OpCode::Binary, payload.len(), piece(0));
    for i in 1..cuts.len() - 1 {
        client.continue_frame(piece(i));
    }
    let frames = wsup_testkit::parse_frames(&written(&mut client));
    assert_eq!(frames.len(), 1);
    assert!(frames[0].masked);
    assert_eq!(frames[0].payload, payload);
}
