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

/// Written out, the tail is rewound to its whole capacity; flushed, it goes
/// to the thread's spares, and the next batch, of this queue or of another
/// on the same thread, takes it back whole: one buffer for all of them.
#[test]
fn a_written_out_tail_is_rewound_and_shared_through_the_threads_spares() {
    ThreadSpares::clear();
    let cfg = WebSocketConfig::default();
    let (mut a, mut b) = (
        OutQueue::new(&cfg, Role::Server),
        OutQueue::new(&cfg, Role::Server),
    );
    let mut out = Vec::new();
    let mut first = None;
    for round in 1..=4 {
        let q = if round % 2 == 0 { &mut b } else { &mut a };
        for _ in 0..20 {
            q.queue_frame(OpCode::Binary, true, false, &[7u8; 1000]);
        }
        let (full, base) = (q.tail.capacity(), q.tail.as_ptr());
        assert!(full >= 20 * 1004);
        assert_eq!(*first.get_or_insert(base), base, "round {round}");
        while q.queued() > 0 {
            let n = q.single().map(|s| s.len()).unwrap();
            out.extend_from_slice(q.single().unwrap());
            q.consume(n);
        }
        // All of it is room for the next batch: nothing to shift later.
        assert_eq!(q.tail.capacity(), full, "round {round}");
        q.flushed();
        assert_eq!((q.tail.capacity(), ThreadSpares::count()), (0, 1));
        assert_eq!(out.len(), round * 20 * 1004);
    }
}

/// Where the thread keeps enough spares (other connections' buffers), a
/// flushed queue keeps its own buffer, as it would without spares.
#[test]
fn a_tail_the_spares_refuse_is_kept() {
    ThreadSpares::clear();
    let mut q = OutQueue::new(&WebSocketConfig::default(), Role::Server);
    q.queue_frame(OpCode::Binary, true, false, &[7u8; 1000]);
    let cap = q.tail.capacity();
    while ThreadSpares::put(BytesMut::with_capacity(64)).is_none() {}
    write_out(&mut q, &mut Vec::new());
    assert_eq!(q.tail.capacity(), cap);
    assert_eq!(ThreadSpares::count(), crate::pool::SPARES);
}

/// A backlog of small frames grows the tail far past the threshold;
/// once written out, the tail is let go (not kept spare), and the next
/// frame gets a buffer of the usual size. A batch up to the threshold
/// gives its buffer to the spares.
#[test]
fn a_tail_grown_by_a_backlog_is_let_go_once_written() {
    ThreadSpares::clear();
    let mut writer = OutQueue::new(&WebSocketConfig::default(), Role::Server);
    let mut out = Vec::new();
    for _ in 0..10 {
        writer.queue_frame(OpCode::Binary, true, false, &[1u8; 10_000]);
    }
    let kept = writer.tail.capacity();
    write_out(&mut writer, &mut out);
    assert!(
        (10 * 10_004..=writer.keep_at_most).contains(&kept),
        "{kept}"
    );
    assert_eq!((writer.tail.capacity(), ThreadSpares::count()), (0, 1));
    for _ in 0..100 {
        writer.queue_frame(OpCode::Binary, true, false, &[2u8; 10_000]);
    }
    assert!(writer.tail.capacity() > writer.keep_at_most);
    write_out(&mut writer, &mut out);
    assert_eq!((writer.tail.capacity(), ThreadSpares::count()), (0, 0));
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
