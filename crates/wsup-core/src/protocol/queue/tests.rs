//! The queue's own tests: prepared frames by reference, the tail rewound
//! and let go once written, order across vectored writes.

use super::*;
use crate::frame::FrameHeader;

/// Writes everything queued into `out`, as a transport taking every
/// vectored write whole would, then flushes.
fn write_out(queue: &mut OutQueue, out: &mut Vec<u8>) {
    while queue.queued() > 0 {
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
        let count = queue.slices(&mut slices);
        let n: usize = slices[..count].iter().map(|s| s.len()).sum();
        for s in &slices[..count] {
            out.extend_from_slice(s);
        }
        queue.consume(n);
    }
    queue.flushed();
}

#[test]
fn prepared_frames_are_queued_by_reference_from_the_share_limit() {
    let mut q = OutQueue::new(&WebSocketConfig::default(), Role::Server);
    q.queue_frame(OpCode::Pong, true, false, b"p");
    let mut frame = vec![0x82, 126, 1, 0];
    frame.extend_from_slice(&[7u8; 256]);
    let framed = Bytes::from(frame);
    q.queue_framed(framed.clone());
    q.queue_framed(framed.clone());
    q.queue_frame(OpCode::Pong, true, false, b"q");
    // Below the limit: copied.
    q.queue_framed(Bytes::from_static(b"\x81\x02hi"));
    assert!(
        !q.holds_large_payload(),
        "small: the flush policy is unchanged"
    );
    assert_eq!(q.queued(), 3 + 2 * 260 + 3 + 4);
    let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
    assert_eq!(q.slices(&mut slices), 4);
    // The shared frame itself, not a copy.
    assert_eq!(slices[1].as_ptr(), framed.as_ptr());
    assert_eq!(slices[2].as_ptr(), framed.as_ptr());
    let mut out = Vec::new();
    write_out(&mut q, &mut out);
    let mut expected = b"\x8a\x01p".to_vec();
    expected.extend_from_slice(&framed);
    expected.extend_from_slice(&framed);
    expected.extend_from_slice(b"\x8a\x01q\x81\x02hi");
    assert_eq!(out, expected);
    assert_eq!(q.small_chunks, 0);
    // A large payload still counts as one.
    q.queue_framed(Bytes::from(vec![0u8; COPY_LIMIT]));
    assert!(q.holds_large_payload());
}

#[test]
fn a_written_out_tail_is_rewound_to_its_whole_capacity() {
    let mut writer = OutQueue::new(&WebSocketConfig::default(), Role::Server);
    let mut out = Vec::new();
    for round in 1..=3 {
        for _ in 0..20 {
            writer.queue_frame(OpCode::Binary, true, false, &[7u8; 1000]);
        }
        let full = writer.tail.capacity();
        assert!(full >= 20 * 1004);
        write_out(&mut writer, &mut out);
        // All of it is room for the next batch: nothing to shift later.
        assert_eq!(writer.tail.capacity(), full, "round {round}");
        assert_eq!(out.len(), round * 20 * 1004);
    }
}

/// A backlog of small frames grows the tail far past the threshold;
/// once written out, the tail is let go, and the next frame gets a
/// buffer of the usual size. A batch up to the threshold keeps it.
#[test]
fn a_tail_grown_by_a_backlog_is_let_go_once_written() {
    let mut writer = OutQueue::new(&WebSocketConfig::default(), Role::Server);
    let mut out = Vec::new();
    for _ in 0..10 {
        writer.queue_frame(OpCode::Binary, true, false, &[1u8; 10_000]);
    }
    write_out(&mut writer, &mut out);
    let kept = writer.tail.capacity();
    assert!(
        (10 * 10_004..=writer.keep_at_most).contains(&kept),
        "{kept}"
    );
    for _ in 0..100 {
        writer.queue_frame(OpCode::Binary, true, false, &[2u8; 10_000]);
    }
    assert!(writer.tail.capacity() > writer.keep_at_most);
    write_out(&mut writer, &mut out);
    assert_eq!(writer.tail.capacity(), 0);
    writer.queue_frame(OpCode::Text, true, false, b"next");
    assert!(writer.tail.capacity() <= 8 * 1024);
    write_out(&mut writer, &mut out);
    assert_eq!(out.len(), 110 * 10_004 + 6);
}

/// More chunks than one vectored write takes, then small frames in the
/// tail: the wire carries them in the order queued.
#[test]
fn frames_go_out_in_order_past_one_vectored_write() {
    let mut writer = OutQueue::new(&WebSocketConfig::default(), Role::Server);
    let mut out = Vec::new();
    // Each large frame is two chunks (header, payload): 100 chunks.
    for i in 0..50u8 {
        writer.queue_frame_bytes(
            OpCode::Binary,
            true,
            false,
            Bytes::from(vec![i; COPY_LIMIT]),
        );
    }
    writer.queue_frame(OpCode::Text, true, false, b"tail");
    write_out(&mut writer, &mut out);
    assert_eq!(writer.queued(), 0);
    let wire = out;
    let mut at = 0;
    let mut frames = Vec::new();
    while at < wire.len() {
        let (header, n) = FrameHeader::parse(&wire[at..]).unwrap().unwrap();
        let end = at + n + header.payload_len as usize;
        frames.push((header.opcode, wire[at + n..end].to_vec()));
        at = end;
    }
    assert_eq!(frames.len(), 51);
    for (i, (opcode, payload)) in frames[..50].iter().enumerate() {
        assert_eq!(*opcode, OpCode::Binary, "frame {i}");
        assert!(
            payload.len() == COPY_LIMIT && payload.iter().all(|&b| b == i as u8),
            "frame {i}"
        );
    }
    assert_eq!(frames[50], (OpCode::Text, b"tail".to_vec()));
}
