//! The read buffer and its strategy: how much to offer each read, when to
//! make room, and the bookkeeping that lets a read go into spare capacity
//! without zeroing it every time. It knows nothing of frames: the decoder
//! says what the frame in progress still needs ([`FrameNeed`]).
//!
//! One read fills the buffer with as many frames as the kernel has; frames
//! are decoded from it until it runs dry. A frame that arrived whole becomes
//! a message with no copy: its payload is split off the buffer as `Bytes`.
//!
//! When a connection's read would wait with nothing buffered, it gives its
//! buffer to its thread's spares (`crate::pool::Spares`; kept, where they
//! refuse it), and the next connection to read on that thread takes it,
//! still in the cache.

use bytes::BytesMut;

use crate::config::WebSocketConfig;
use crate::pool::Spares;

pub(crate) use super::initialised::Initialised;

/// Largest slice handed to one read: for a frame of this size or more
/// (read up to its end), the most a read adds to it. The slice must be
/// initialised first (see [`Initialised`]), so this also bounds the zeroing
/// per call; it bounds the pieces of a message received in chunks, too,
/// and is what the flush policy counts as one read's worth of output.
pub(crate) const READ_WINDOW: usize = 256 * 1024;

/// Largest slice handed to any other read (between frames, or inside a
/// frame under [`READ_WINDOW`]), unless `read_buffer_size` is larger: two
/// 64 KiB frames and their headers, so that 64 KiB messages in flight back
/// to back are read two at a time (0.67 reads a message, against 1.04 with
/// reads of one), and their echoes written two at a time. A burst of small
/// frames fills it in one syscall.
///
/// Not more: the kernel's copy into the buffer must stay in the cache. With
/// reads of up to 256 KiB, 100 connections echoing 64 KiB messages held
/// 540 KiB each and made 0.94 of the messages per CPU second of reads of
/// one frame; with reads of two (a buffer and the bytes it is read from
/// fit the L2 cache), 1.03–1.07 (`docs/bench`). A busy connection's buffer
/// grows to about twice this (peak RSS 11.6 → 24.4 MB for those 100).
const SMALL_READ: usize = 2 * FRAME_OF_64_KIB;

/// A 64 KiB frame and the longest header it can have: the unit
/// [`SMALL_READ`] and [`MEDIUM_FRAME`] are sized in.
const FRAME_OF_64_KIB: usize = 64 * 1024 + crate::frame::MAX_HEADER_LEN;

/// Read buffers of this capacity or more start where [`ReadBuf::place`]
/// puts them: those grown by frames of tens of KiB, whose copies by the
/// kernel are long enough for it to matter (1 KiB messages grow a buffer
/// to 32 KiB, and are not moved).
const PLACE_FROM: usize = FRAME_OF_64_KIB;

/// Where in its 4 KiB page such a buffer starts when it is empty.
const PLACE_AT: usize = 2048;

/// The page [`PLACE_AT`] is an offset in (x86-64's, and aarch64's
/// smallest).
const PAGE: usize = 4096;

#[cfg(test)]
std::thread_local! {
    /// Tests that compare two buffers' capacities turn placing off: it
    /// depends on where each allocation lies.
    pub(crate) static PLACING: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// The largest read buffer given to the thread's spares: what the traffic
/// of frames under [`SMALL_READ`] grows a buffer to (4 KiB for a burst of
/// 16-byte messages, 32 KiB for one of 1 KiB messages). A buffer larger
/// frames grew is kept by its connection, as without spares: shared, 100
/// connections echoing 1 MiB messages (relayed in pieces) made half as
/// many reads and writes again, each smaller, at 0.75 of the messages per
/// CPU second (`docs/bench`).
const SPARE_READ_CAPACITY: usize = SMALL_READ;

/// The largest read outside a large frame: [`SMALL_READ`], or the
/// configured read buffer size up to a window.
fn small_read(cfg: &WebSocketConfig) -> usize {
    SMALL_READ.max(cfg.read_buffer_size).min(READ_WINDOW)
}

/// The largest read for the frame in progress.
fn read_limit(need: FrameNeed, cfg: &WebSocketConfig) -> usize {
    if need.large {
        READ_WINDOW
    } else {
        small_read(cfg)
    }
}

/// A frame this large (header included) is read up to its end, and no
/// further, when the buffer is near its end (see
/// [`ReadBuf::stops_at_frame_end`]): half a 64 KiB frame and its header.
const MEDIUM_FRAME: usize = FRAME_OF_64_KIB / 2;

/// The first read of a connection that holds no read buffer yet goes to a
/// stack array of this size (see [`ReadBuf::wants_probe`]).
pub(crate) const PROBE: usize = 1024;

/// The most read buffer a connection keeps while it waits between frames:
/// its configured size and two read windows.
///
/// Two, because that is what ordinary traffic (frames under a window) grows
/// the buffer to: a window read after the partial frame left by the last
/// one (under a window too), in an allocation that at most doubles when it
/// grows. Such a buffer is reused from one burst to the next. Only a frame
/// of a window or more (read into one allocation, its payload split off as
/// the message with no copy) grows the buffer beyond; that is what is given
/// back once the connection waits.
pub(crate) fn kept(cfg: &WebSocketConfig) -> usize {
    cfg.read_buffer_size + 2 * READ_WINDOW
}

/// What the frame being decoded still needs, as the read strategy sees it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FrameNeed {
    /// Payload bytes the frame in progress still needs beyond the buffer.
    pub(crate) needed: usize,
    /// A frame is in progress.
    pub(crate) in_frame: bool,
    /// The frame in progress carries at least [`READ_WINDOW`] bytes.
    pub(crate) large: bool,
}

/// The read buffer of a connection.
#[derive(Debug)]
pub(crate) struct ReadBuf {
    buf: BytesMut,
    /// How much to offer each read (see `sizes`).
    hint: usize,
    /// How much of `buf`'s spare capacity is initialised already.
    init: Initialised,
    /// `buf`'s capacity (from its data on) after it last grew: what it is
    /// rewound to between frames. Zero: no buffer is held (none was ever
    /// allocated, or it was given back, see [`ReadBuf::filled`]).
    full_capacity: usize,
    /// The last window was offered inside a frame (so a read that must
    /// wait leaves part of a frame to come).
    in_frame: bool,
}

impl ReadBuf {
    pub(crate) fn new(leftover: &[u8], cfg: &WebSocketConfig) -> Self {
        // Allocated when the first bytes arrive, so a connection that has
        // received nothing (most, on a push server) holds no read buffer.
        let mut buf = BytesMut::new();
        if !leftover.is_empty() {
            buf.reserve(cfg.read_buffer_size.max(leftover.len()));
            buf.extend_from_slice(leftover);
        }
        ReadBuf {
            full_capacity: buf.capacity(),
            buf,
            hint: cfg.read_buffer_size,
            init: Initialised::default(),
            in_frame: false,
        }
    }

    /// The buffered bytes, for the decoder to parse, unmask in place and
    /// split payloads off.
    pub(crate) fn data(&mut self) -> Buffered<'_> {
        Buffered(&mut self.buf)
    }

    /// The buffered bytes, to look at.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The buffer itself, lent out (`Protocol::each_in_place`) with the
    /// record of what is initialised in it: to be
    /// [`restore`](Self::restore)d, the same allocation with its front
    /// consumed or emptied, which keeps the record true. Not restored (a
    /// handler panicked), the buffer is freed, and so is the record: the
    /// one left behind vouches for nothing, so a later allocation that
    /// happens to end where the freed one did is zeroed before it is read
    /// into, as any new one is.
    pub(crate) fn take(&mut self) -> (bytes::BytesMut, Initialised) {
        (
            std::mem::take(&mut self.buf),
            std::mem::take(&mut self.init),
        )
    }

    /// Takes back the buffer and the record [`take`](Self::take) lent.
    pub(crate) fn restore(&mut self, buf: bytes::BytesMut, init: Initialised) {
        self.buf = buf;
        self.init = init;
    }

    /// Bytes buffered and not yet decoded.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// The buffer's capacity: what the connection holds for reading.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Forgets what is buffered (input discarded while draining).
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
    }

    /// Frees the buffer (the connection is closed).
    pub(crate) fn release(&mut self) {
        self.replace(BytesMut::new());
    }

    /// The one place the buffer is replaced rather than grown: the record
    /// of what is initialised starts over, so that it never vouches for a
    /// new allocation that happens to end where the old one did.
    fn replace(&mut self, buf: BytesMut) {
        self.buf = buf;
        self.init = Initialised::default();
    }

    /// No buffer is held yet: the next read should go to a stack array of
    /// [`PROBE`] bytes, then [`received`](Self::received). An idle
    /// connection then keeps no buffer (`read_buffer_size` bytes, 4 KiB by
    /// default) while it waits, which is most of what 10 000 idle
    /// connections cost.
    ///
    /// A buffer the thread has spare is taken first: then no probe.
    pub(crate) fn wants_probe(&mut self) -> bool {
        self.full_capacity == 0 && !self.take_spare()
    }

    /// Takes one of the thread's spare read buffers (see [`Spares`]), none
    /// being held; whether it had one.
    fn take_spare(&mut self) -> bool {
        match Spares::take(&SPARE_READ) {
            Some(spare) => {
                self.hold(spare);
                true
            }
            None => false,
        }
    }

    /// Gives the buffer to the thread's spares, if one is held, nothing is
    /// buffered and no frame is in progress; whether it went. Refused, it
    /// stays.
    fn give_spare(&mut self) -> bool {
        if self.full_capacity == 0
            || !self.buf.is_empty()
            || self.in_frame
            // Rewound to the start of its allocation where nothing split
            // off it is alive, as for this connection's next read; else
            // (its spare room too short) it stays: a piece of a large
            // message still queued to be relayed, say.
            || !self.rewind(0)
            || self.buf.capacity() > SPARE_READ_CAPACITY
        {
            return false;
        }
        let spare = Spare {
            buf: std::mem::take(&mut self.buf),
            init: std::mem::take(&mut self.init),
            full_capacity: std::mem::replace(&mut self.full_capacity, 0),
        };
        match Spares::give(&SPARE_READ, spare) {
            None => true,
            Some(refused) => {
                self.hold(refused);
                false
            }
        }
    }

    /// Holds `spare`'s buffer, with the record that goes with it.
    fn hold(&mut self, spare: Spare) {
        self.buf = spare.buf;
        self.init = spare.init;
        self.full_capacity = spare.full_capacity;
    }

    /// The first bytes, read into a probe: the buffer is allocated now. A
    /// probe that was filled means more is coming: the buffer gets its
    /// configured size. One that was not (a pong to a keepalive ping, a
    /// short message to an idle connection) is all there is for now: the
    /// buffer holds just those bytes, so an idle connection that answers
    /// pings keeps next to nothing.
    pub(crate) fn received(&mut self, bytes: &[u8], cfg: &WebSocketConfig) {
        let size = if bytes.len() < PROBE {
            bytes.len()
        } else {
            cfg.read_buffer_size.max(bytes.len())
        };
        self.buf.reserve(size);
        self.buf.extend_from_slice(bytes);
        self.full_capacity = self.buf.capacity();
    }

    /// `(want, room)`: what the next read would like to be offered, and the
    /// spare capacity below which the buffer must be made room in first.
    fn sizes(&self, need: FrameNeed, cfg: &WebSocketConfig) -> (usize, usize) {
        // Grow toward what the current frame needs, at most doubling per step,
        // so memory follows the bytes that actually arrived and never a length
        // the peer merely declared.
        let grow = need
            .needed
            .min(self.buf.capacity().max(cfg.read_buffer_size));
        // The read window adapts to the traffic: it doubles (up to
        // `small_read`) while reads fill it, so a burst of small frames is
        // taken in one syscall, and shrinks again when reads come back small.
        // Never below `read_buffer_size`: it starts there and decays to it.
        let want = grow.max(self.hint).max(1);
        // Room is made only when the read cannot proceed without it: for a
        // frame in progress, when what it still needs does not fit. (Asking
        // for a whole window regardless reallocated the buffer, copying a
        // 1 MiB frame to read its last 14 bytes.)
        let room = if need.needed > 0 {
            need.needed.min(want)
        } else {
            want
        };
        (want, room)
    }

    fn lacks_room(&self, room: usize, limit: usize) -> bool {
        self.buf.capacity() - self.buf.len() < room.min(limit)
    }

    /// The next read must first make room in the buffer. While output that
    /// shares the buffer is queued, that means a new allocation (zeroed for
    /// its first reads, the partial frame copied over); written out first,
    /// the buffer is ours again and is reused in place.
    pub(crate) fn needs_room(&self, need: FrameNeed, cfg: &WebSocketConfig) -> bool {
        self.full_capacity > 0 && self.lacks_room(self.sizes(need, cfg).1, read_limit(need, cfg))
    }

    /// Makes room as the frame in progress needs and returns the window to
    /// read into; [`filled`](Self::filled) then says how much was read.
    #[inline]
    pub(crate) fn window(&mut self, need: FrameNeed, cfg: &WebSocketConfig) -> &mut [u8] {
        // Between frames (a run of small messages), with room enough and
        // initialised, and nothing to rewind: what the general case below
        // would offer (all of that room, up to the limit), in fewer steps.
        if !need.in_frame {
            let known = self.init.spare(&self.buf);
            let len = self.buf.len();
            if known >= self.hint.max(1) && (len > 0 || self.buf.capacity() >= self.full_capacity) {
                self.in_frame = false;
                let window = known.min(small_read(cfg));
                debug_assert!(len + window <= self.buf.capacity());
                // SAFETY: the `window` bytes after the data are initialised
                // (`known` of them are: see `Initialised::spare`) and lie
                // within the capacity.
                unsafe { self.buf.set_len(len + window) };
                return &mut self.buf[len..];
            }
        }
        self.window_general(need, cfg)
    }

    #[inline(never)]
    fn window_general(&mut self, need: FrameNeed, cfg: &WebSocketConfig) -> &mut [u8] {
        let (mut want, mut room) = self.sizes(need, cfg);
        let limit = read_limit(need, cfg);
        self.in_frame = need.in_frame;
        // Nothing buffered, between frames or inside a large one (whose
        // pieces were handed out and written): rewind to the start of the
        // allocation, which moves no bytes, and size the read from there.
        // Between frames, the next frame gets all of it: left where it was,
        // a 1 MiB frame would start in the second half of a 2 MiB buffer,
        // run 14 bytes short, and be shifted whole to the front. Inside a
        // large frame, each read lands where [`place`](Self::place) put the
        // buffer rather than where the last piece ended, anywhere in its
        // page: the kernel's copy of a relayed 1 MiB message out of the
        // buffer took 8% less time (`docs/bench`). Not inside smaller
        // frames: rewound there, 64 KiB frames held whole made a third more
        // reads, and relayed in pieces (binary frames over 32 KiB) they
        // moved nothing clear (1.010 in turns, with single runs at 0.6). Fails harmlessly (never allocates) while a
        // message or piece handed out still shares the allocation.
        if (!need.in_frame || need.large)
            && self.buf.is_empty()
            && self.buf.capacity() < self.full_capacity
            && self.rewind(want)
        {
            (want, room) = self.sizes(need, cfg);
        }
        if self.lacks_room(room, limit) {
            // Reclaims the consumed front of the buffer when nothing else
            // holds it, so this allocates only when messages are still alive.
            self.buf.reserve(want);
            self.full_capacity = self.buf.capacity();
            self.place(want);
        }
        let len = self.buf.len();
        // Offer what we want, or more where the spare capacity is initialised
        // already and so costs nothing to offer; zeroing happens at most once
        // per byte of an allocation.
        let mut window = want.max(self.init.spare(&self.buf)).min(limit);
        if self.stops_at_frame_end(need, window, len, limit) {
            window = window.min(need.needed.max(1));
        }
        self.init.extend(&mut self.buf, window);
        &mut self.buf[len..]
    }

    /// Rewinds the empty buffer to its start, where nothing split off it is
    /// alive: the start of its allocation, then where [`place`](Self::place)
    /// puts it, leaving `keep` bytes of room. Whether it could.
    fn rewind(&mut self, keep: usize) -> bool {
        let rewound = self.buf.try_reclaim(self.full_capacity);
        if rewound {
            self.place(keep);
        }
        rewound
    }

    /// Moves the start of an empty buffer of [`PLACE_FROM`] bytes or more,
    /// just rewound to the start of its allocation or allocated, to
    /// [`PLACE_AT`] in its page, where that leaves `keep` bytes of room
    /// (what the next read wants); it is rewound to there from then on
    /// ([`full_capacity`](Self::full_capacity) is its capacity from there).
    ///
    /// The kernel copies a read's bytes in, and a payload relayed from the
    /// buffer out, with `rep movsb` on x86-64 CPUs with fast short `rep
    /// mov` (FSRM), which on this project's AMD machine is several times
    /// slower where the destination lies a few bytes to a few dozen past
    /// the source, modulo 4 KiB. The kernel's side of those copies (page
    /// fragments) tends to start near the start of a page, so a buffer that
    /// does too pays for it: a raw TCP echo of 64 KiB messages made 0.65 to
    /// 0.95 of the messages per CPU second with its buffer 8 bytes before
    /// to 128 bytes after the start of a page, 1.00 in mid-page
    /// (`docs/bench`). Otherwise where a buffer lands is malloc's chance,
    /// new in every process.
    fn place(&mut self, keep: usize) {
        #[cfg(test)]
        if !PLACING.with(std::cell::Cell::get) {
            return;
        }
        if !self.buf.is_empty() || self.buf.capacity() < PLACE_FROM {
            return;
        }
        let gap = PLACE_AT.wrapping_sub(self.buf.as_ptr() as usize) % PAGE;
        if gap > 0 && self.buf.capacity() - gap >= keep.max(PLACE_FROM) {
            // Zeroes what was never initialised of the gap (once per
            // allocation, as for any window), then starts after it.
            self.init.extend(&mut self.buf, gap);
            bytes::Buf::advance(&mut self.buf, gap);
            self.full_capacity = self.buf.capacity();
        }
    }

    /// The read stops at the end of the frame in progress. Bytes read past
    /// it would start the next frame further on in the buffer, and when
    /// that frame runs past the buffer's end it is copied to the front (or
    /// to a new buffer) whole. Stopped at the boundary, the buffer is empty
    /// once the frame is decoded, and the next read starts at the front
    /// with nothing to move (see [`window_general`](Self::window_general)'s
    /// rewind).
    ///
    /// A large frame (a read window or more) always stops there, for at
    /// most one more read per frame. A frame of at least [`MEDIUM_FRAME`]
    /// bytes stops there where the buffer could not take a whole read after
    /// it: the next frame would start in that short tail. That is at most
    /// one more read each time the buffer wraps. Smaller frames are cheaper
    /// to copy than a read is to make.
    fn stops_at_frame_end(&self, need: FrameNeed, window: usize, len: usize, limit: usize) -> bool {
        need.large
            || (0 < need.needed
                && need.needed < window
                && len + need.needed >= MEDIUM_FRAME
                && (self.buf.capacity() - len)
                    .checked_sub(need.needed)
                    .is_some_and(|after| after < limit))
    }

    /// The connection has been idle for a while (a keepalive interval with
    /// nothing received): the buffer is given back, unless part of a frame
    /// is held: to the thread's spares, or freed where they refuse it; the
    /// next bytes go to a spare or a probe.
    pub(crate) fn release_idle(&mut self, cfg: &WebSocketConfig) {
        if self.full_capacity > 0 && self.buf.is_empty() && !self.in_frame {
            if !self.give_spare() {
                self.release();
                self.full_capacity = 0;
            }
            self.hint = cfg.read_buffer_size;
        }
    }

    /// `n` bytes were read into the window of `window_len` bytes (`n` is 0
    /// when the read failed or must wait): keeps them and adapts the size of
    /// the next window.
    ///
    /// A read that must wait with nothing buffered and no frame in progress
    /// is where the buffer is given back: to the thread's spares (see
    /// [`Spares`]), for the next connection's read, or this one's, to take.
    /// Where they refuse it (too large, or the thread keeps enough), the
    /// connection keeps it, unless a large frame grew it past [`kept`]: the
    /// connection is going idle, and holds no more than that from then on.
    /// Between large messages that arrive back to back it is kept and
    /// reused (no wait in between), and so is any buffer the traffic of
    /// ordinary frames grows, which never passes [`kept`]. Given back, the
    /// next bytes go to a spare or a probe, as on a new connection.
    pub(crate) fn filled(&mut self, n: usize, window_len: usize, cfg: &WebSocketConfig) {
        self.buf.truncate(self.buf.len() - window_len + n);
        let hint = self.hint;
        if n == window_len && window_len >= hint {
            self.hint = (hint * 2).min(small_read(cfg));
        } else if n > 0 && n < hint / 8 {
            self.hint = (hint / 2).max(cfg.read_buffer_size);
        } else if n == 0
            && !self.give_spare()
            && self.full_capacity > kept(cfg)
            && self.buf.is_empty()
            && !self.in_frame
        {
            self.release();
            self.full_capacity = 0;
            self.hint = cfg.read_buffer_size;
        }
    }
}

/// A read buffer given to the thread's spares: the allocation with the
/// record of what is initialised in it and the capacity it is rewound to,
/// which go wherever it goes.
struct Spare {
    buf: BytesMut,
    init: Initialised,
    full_capacity: usize,
}

std::thread_local! {
    static SPARE_READ: Spares<Spare> = const { Spares::new() };
}

/// The capacities of this thread's spare read buffers.
#[cfg(test)]
pub(crate) fn spare_read_capacities() -> Vec<usize> {
    SPARE_READ.with(|s| Spares::peek(s, |v| v.iter().map(|s| s.full_capacity).collect()))
}

/// Fills this thread's spare read buffers (with small ones), or empties
/// them.
#[cfg(test)]
pub(crate) fn set_spare_reads_full(full: bool) {
    while Spares::take(&SPARE_READ).is_some() {}
    if !full {
        return;
    }
    loop {
        let buf = BytesMut::with_capacity(64);
        let spare = Spare {
            full_capacity: buf.capacity(),
            buf,
            init: Initialised::default(),
        };
        if Spares::give(&SPARE_READ, spare).is_some() {
            return;
        }
    }
}

/// The buffered bytes as the decoder may use them: read and written in
/// place, consumed from the front, split off as payloads. None of that can
/// replace the allocation or shrink it from its end, so the record of what
/// is initialised ([`Initialised`]) stays true; the type makes sure nothing
/// else is done to the buffer.
#[derive(Debug)]
pub(crate) struct Buffered<'a>(&'a mut BytesMut);

impl Buffered<'_> {
    /// Splits off the first `n` bytes (a payload) without copying.
    pub(crate) fn split_to(&mut self, n: usize) -> BytesMut {
        self.0.split_to(n)
    }

    /// Drops the first `n` bytes (a parsed header).
    pub(crate) fn advance(&mut self, n: usize) {
        bytes::Buf::advance(self.0, n);
    }
}

impl std::ops::Deref for Buffered<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0
    }
}

impl std::ops::DerefMut for Buffered<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.0
    }
}

#[cfg(test)]
#[path = "read_buf_tests.rs"]
mod tests;
