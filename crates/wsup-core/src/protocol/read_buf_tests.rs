//! The read buffer's own tests: window sizes, room, the zero-once record.

use super::*;
use bytes::Buf;

/// A buffer of `capacity` whose first `window` bytes were offered to a
/// read (so zeroed once), and its record.
fn offered(capacity: usize, window: usize) -> (BytesMut, Initialised) {
    let mut buf = BytesMut::with_capacity(capacity);
    let mut init = Initialised::default();
    init.extend(&mut buf, window);
    (buf, init)
}

#[test]
fn zeroes_each_byte_once_and_keeps_what_was_read() {
    let (mut buf, mut init) = offered(64, 16);
    assert_eq!(&buf[..], &[0u8; 16]);
    buf[..4].copy_from_slice(b"abcd");
    buf.truncate(4);
    // The 12 bytes past the data are initialised: no zeroing needed.
    assert_eq!(init.spare(&buf), 12);
    buf[..].copy_from_slice(b"abcd");
    init.extend(&mut buf, 20);
    assert_eq!(buf.len(), 24);
    assert_eq!(&buf[..4], b"abcd");
    assert!(buf[4..].iter().all(|&b| b == 0));
    buf.truncate(10);
    buf.advance(10);
    assert_eq!(init.spare(&buf), 14);
}

#[test]
fn a_new_allocation_starts_over() {
    let (mut buf, mut init) = offered(32, 32);
    buf.truncate(8);
    let kept = buf.split_to(8); // shared: the next reserve allocates
    buf.reserve(1024);
    assert_eq!(init.spare(&buf), 0);
    init.extend(&mut buf, 100);
    assert!(buf.iter().all(|&b| b == 0));
    assert_eq!(kept.len(), 8);
}

#[test]
fn a_reset_record_starts_over_even_at_the_same_address() {
    let (mut buf, mut init) = offered(64, 64);
    buf.truncate(0);
    assert_eq!(init.spare(&buf), 64);
    // Same allocation, but declared replaced: nothing is vouched for.
    init = Initialised::default();
    assert_eq!(init.spare(&buf), 0);
    init.extend(&mut buf, 8);
    buf.truncate(0);
    assert_eq!(init.spare(&buf), 8);
}

#[test]
fn reclaiming_in_place_keeps_the_record() {
    let (mut buf, mut init) = offered(4096, 4096);
    buf.truncate(100);
    drop(buf.split_to(100).freeze());
    // Unique again: reserve reclaims the same allocation.
    buf.reserve(4000);
    assert_eq!(init.spare(&buf), 4096);
    init.extend(&mut buf, 4096);
    assert_eq!(buf.len(), 4096);
}

#[test]
fn a_released_buffer_is_never_vouched_for() {
    let cfg = WebSocketConfig::default();
    let mut rb = ReadBuf::new(b"x", &cfg);
    let need = FrameNeed::default();
    let n = rb.window(need, &cfg).len();
    rb.filled(0, n, &cfg);
    assert_ne!(rb.init.ends().0, 0);
    rb.release();
    assert_eq!(rb.capacity(), 0);
    assert_eq!(rb.init.ends(), (0, 0));
}

/// Reads that fill what they were offered double the next offer: up
/// to [`SMALL_READ`] between frames, however long that goes on; inside
/// a frame of [`READ_WINDOW`] bytes or more, up to a read window.
#[test]
fn reads_grow_to_a_small_read_between_frames_and_a_window_in_a_large_frame() {
    let cfg = WebSocketConfig::default();
    let mut rb = ReadBuf::new(b"", &cfg);
    let mut offered = Vec::new();
    for _ in 0..16 {
        let n = rb.window(FrameNeed::default(), &cfg).len();
        rb.filled(n, n, &cfg);
        rb.clear();
        offered.push(n);
    }
    assert_eq!(offered[0], cfg.read_buffer_size);
    assert_eq!(offered.iter().max(), Some(&SMALL_READ), "{offered:?}");
    // Nor does the buffer grow past what those reads need, when a frame
    // under a window has filled it and runs a few bytes short (a 64 KiB
    // message read in pieces: with reads of up to a window, it grew to
    // 320 KiB here).
    let n = rb.window(FrameNeed::default(), &cfg).len();
    rb.filled(n, n, &cfg);
    let short = FrameNeed {
        needed: 100,
        in_frame: true,
        large: false,
    };
    assert!(!rb.window(short, &cfg).is_empty());
    assert!(rb.capacity() < 3 * SMALL_READ, "{}", rb.capacity());
    // The frame's bytes pile up in the buffer as they arrive.
    let mut offered = Vec::new();
    for _ in 0..8 {
        let large = FrameNeed {
            needed: (4 << 20) - rb.len(),
            in_frame: true,
            large: true,
        };
        let n = rb.window(large, &cfg).len();
        rb.filled(n, n, &cfg);
        offered.push(n);
    }
    assert_eq!(offered.iter().max(), Some(&READ_WINDOW), "{offered:?}");
}

/// The shortcut `window` takes between frames offers what the general
/// case offers: two buffers driven through the same reads (filled, short,
/// consumed in part or whole, a frame in progress now and then) offer the
/// same windows and grow alike, one by `window`, one by the general case
/// alone.
#[test]
fn the_shortcut_between_frames_offers_what_the_general_case_would() {
    // Two allocations lie at different offsets in their pages: placed,
    // their capacities would differ by that.
    super::PLACING.with(|p| p.set(false));
    let cfg = WebSocketConfig::default();
    let (mut fast, mut general) = (ReadBuf::new(b"", &cfg), ReadBuf::new(b"", &cfg));
    let mut seed = 0x2545_f491_u32;
    for step in 0..400 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let need = if seed % 7 == 0 {
            FrameNeed {
                needed: (seed % 5000) as usize + 1,
                in_frame: true,
                large: false,
            }
        } else {
            FrameNeed::default()
        };
        let a = fast.window(need, &cfg).len();
        let b = general.window_general(need, &cfg).len();
        assert_eq!(a, b, "step {step}");
        // Filled, or short (never nothing: a read that must wait gives the
        // buffer to the thread's spares, which both would share).
        let n = if seed % 3 == 0 {
            a
        } else {
            (seed as usize % a).max(1)
        };
        fast.filled(n, a, &cfg);
        general.filled(n, b, &cfg);
        let consumed = if seed % 4 == 0 { n / 2 } else { fast.len() };
        for rb in [&mut fast, &mut general] {
            let (mut buf, init) = rb.take();
            if consumed == buf.len() {
                buf.clear();
            } else {
                buf.advance(consumed);
            }
            rb.restore(buf, init);
        }
        assert_eq!(
            (fast.len(), fast.capacity()),
            (general.len(), general.capacity())
        );
    }
}

/// A buffer lent out and never restored (a `recv_each` handler panicked)
/// takes the record of what is initialised in it along: what stays
/// vouches for nothing, so a new allocation, wherever it ends, is zeroed
/// before a read goes into it.
#[test]
fn a_buffer_lent_and_lost_leaves_no_record_behind() {
    let cfg = WebSocketConfig::default();
    let mut rb = ReadBuf::new(b"", &cfg);
    let n = rb.window(FrameNeed::default(), &cfg).len();
    rb.filled(n, n, &cfg);
    rb.clear();
    assert!(
        rb.init.spare(&rb.buf) > 0,
        "a read was offered: its window is known"
    );
    let (buf, init) = rb.take();
    assert!(init.spare(&buf) > 0);
    drop((buf, init));
    assert_eq!(rb.init.ends(), (0, 0));
    let window = rb.window(FrameNeed::default(), &cfg);
    assert!(window.iter().all(|&b| b == 0));
}

/// A read buffer size configured over [`SMALL_READ`] is what reads
/// between frames offer, from the first read on.
#[test]
fn a_larger_read_buffer_size_is_offered_between_frames() {
    let cfg = WebSocketConfig::builder()
        .read_buffer_size(192 << 10)
        .build();
    let mut rb = ReadBuf::new(b"", &cfg);
    for _ in 0..4 {
        let n = rb.window(FrameNeed::default(), &cfg).len();
        assert_eq!(n, 192 << 10);
        rb.filled(n, n, &cfg);
        rb.clear();
    }
}

/// Frames of a 64 KiB message arriving back to back (the peer keeps
/// several in flight, so every read is filled) are never moved to make
/// room: a read inside one stops at its end where the buffer could not
/// take a whole read after it, so the buffer is empty when it wraps and
/// the next frame starts at the front. Read past that end, the next
/// frame's start ran into the buffer's end and was copied to the front,
/// up to 64 KiB each time (`memmove` took as much of the echo server's
/// time as unmasking). And the stop costs few reads: two 64 KiB messages
/// and their headers fit one read.
#[test]
fn frames_of_a_read_are_never_moved_to_make_room_for_the_next() {
    let cfg = WebSocketConfig::default();
    let mut rb = ReadBuf::new(b"", &cfg);
    let mut model = FrameModel::new(8, 64 << 10);
    let mut frames = 0;
    let (mut reads, mut moved) = (0, 0);
    while frames < 200 {
        let need = model.need(&rb);
        let (before, held) = (rb.bytes().as_ptr(), rb.len());
        let window = rb.window(need, &cfg);
        let n = window.len();
        if held > 0 && before != rb.bytes().as_ptr() && frames >= 4 {
            moved += held;
        }
        rb.filled(n, n, &cfg);
        if frames >= 4 {
            reads += 1;
        }
        frames += model.decode(&mut rb);
    }
    // Without the stop, 3.8 MB were moved for these 196 frames; before
    // a header fit a read too, 11.9 MB (60 KiB a frame).
    assert!(moved < 196 * 64, "{moved} bytes moved for 196 frames");
    // Stopping with reads of exactly 64 KiB took two a frame; with reads
    // of one frame and its header, one; with reads of two, 131 reads.
    assert!(reads < 196 * 3 / 4, "{reads} reads for 196 frames");
}

/// A buffer that takes 64 KiB frames starts its reads between frames at
/// `PLACE_AT` in its page, wherever its allocation lies (see
/// `ReadBuf::place`), and still never moves a frame to make room.
#[test]
fn a_buffer_of_large_frames_reads_from_mid_page() {
    let cfg = WebSocketConfig::default();
    let mut rb = ReadBuf::new(b"", &cfg);
    let mut model = FrameModel::new(14, 64 << 10);
    // The loopback's segments of 65,483 bytes, one a read: most reads
    // come back short of a frame.
    let mut segment = 65_483;
    let (mut frames, mut starts, mut moved) = (0, Vec::new(), 0);
    while frames < 100 {
        let need = model.need(&rb);
        let (empty, before, held) = (rb.len() == 0, rb.bytes().as_ptr(), rb.len());
        let window = rb.window(need, &cfg);
        let (w, at) = (window.len(), window.as_ptr() as usize);
        if frames >= 4 {
            if empty {
                starts.push(at % super::PAGE);
            } else if before != rb.bytes().as_ptr() {
                moved += held;
            }
        }
        let n = w.min(segment);
        segment = if n == segment { 65_483 } else { segment - n };
        rb.filled(n, w, &cfg);
        frames += model.decode(&mut rb);
    }
    assert!(
        starts.len() > 50,
        "{} reads from an empty buffer",
        starts.len()
    );
    assert!(
        starts.iter().all(|&at| at == super::PLACE_AT),
        "reads from an empty buffer at {starts:?} in their pages"
    );
    assert!(moved < 96 * 64, "{moved} bytes moved for 96 frames");
}

/// Frames of 1 MiB relayed in pieces (`recv_each`, `recv_chunk`): the
/// payload each read brings is split off and written out before the next
/// read. Once the first frame has grown the buffer, every read inside a
/// frame starts at `PLACE_AT` in its page, where the buffer was placed,
/// and is offered all of it up to a read window (or what the frame still
/// needs): not where the last piece ended, anywhere in its page (the
/// kernel's copy of the relay out of such a buffer took 8% more time),
/// nor sized by the room that was left after it.
#[test]
fn a_large_frame_relayed_in_pieces_reads_each_piece_from_mid_page() {
    let cfg = WebSocketConfig::default();
    let mut rb = ReadBuf::new(b"", &cfg);
    let mut model = FrameModel::relayed(14, 1 << 20);
    let (mut frames, mut starts, mut short) = (0, Vec::new(), Vec::new());
    while frames < 4 {
        let need = model.need(&rb);
        let window = rb.window(need, &cfg);
        let (w, at) = (window.len(), window.as_ptr() as usize);
        if frames > 0 && need.in_frame {
            starts.push(at % super::PAGE);
            let room = need.needed.min(rb.capacity()).min(READ_WINDOW);
            if w < room {
                short.push((w, room));
            }
        }
        // Four of the loopback's segments a read in the first frame
        // (which grows the buffer to a window), then two.
        let n = w.min(if frames == 0 { 4 } else { 2 } * 65_483);
        rb.filled(n, w, &cfg);
        frames += model.decode(&mut rb);
    }
    assert!(
        starts.len() >= 3 * 4,
        "{} reads inside frames",
        starts.len()
    );
    assert!(
        starts.iter().all(|&at| at == super::PLACE_AT),
        "reads inside a frame at {starts:?} in their pages"
    );
    assert!(short.is_empty(), "windows (offered, room) {short:?}");
}

/// A stream of binary frames of `header_len` + `payload_len` bytes as a
/// decoder reads them: header bytes still to skip, then the payload of the
/// frame in progress, held until it is whole or, relayed, split off in
/// pieces as it arrives.
struct FrameModel {
    header_len: usize,
    payload_len: usize,
    /// Header bytes of the frame in progress still to skip.
    header: usize,
    /// Payload bytes of the frame in progress not split off yet.
    remaining: usize,
    /// Payloads are handed out in pieces as they arrive (`recv_each`,
    /// `recv_chunk` with large frames), not whole.
    pieces: bool,
}

impl FrameModel {
    fn new(header_len: usize, payload_len: usize) -> Self {
        FrameModel {
            header_len,
            payload_len,
            header: header_len,
            remaining: payload_len,
            pieces: false,
        }
    }

    /// Frames relayed in pieces.
    fn relayed(header_len: usize, payload_len: usize) -> Self {
        FrameModel {
            pieces: true,
            ..Self::new(header_len, payload_len)
        }
    }

    /// What the frame in progress still needs, as the decoder tells the
    /// buffer.
    fn need(&self, rb: &ReadBuf) -> FrameNeed {
        if self.header == 0 {
            FrameNeed {
                needed: self.remaining - rb.len(),
                in_frame: true,
                large: self.payload_len >= READ_WINDOW,
            }
        } else {
            FrameNeed::default()
        }
    }

    /// Decodes what arrived: skips headers, splits payloads off (whole, or
    /// relayed whatever arrived of them) and drops them, as written out,
    /// keeps a partial one held whole. The frames it finished.
    fn decode(&mut self, rb: &mut ReadBuf) -> usize {
        let (mut buf, init) = rb.take();
        let mut frames = 0;
        loop {
            let skip = self.header.min(buf.len());
            buf.advance(skip);
            self.header -= skip;
            let take = if self.pieces {
                buf.len().min(self.remaining)
            } else if buf.len() >= self.remaining {
                self.remaining
            } else {
                0
            };
            if self.header > 0 || take == 0 {
                break;
            }
            drop(buf.split_to(take));
            self.remaining -= take;
            if self.remaining > 0 {
                break;
            }
            self.header = self.header_len;
            self.remaining = self.payload_len;
            frames += 1;
        }
        rb.restore(buf, init);
        frames
    }
}
