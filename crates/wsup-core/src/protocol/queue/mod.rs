//! The output queue: frames are queued, small ones coalesced into one
//! buffer, large payloads kept as `Bytes` and handed out as vectored slices
//! after their header, so they are never copied. Pure: the driver writes the
//! slices ([`OutQueue::slices`]) and reports what went out
//! ([`OutQueue::consume`]); when to write is the flush policy's
//! (`flush.rs`). A message relayed as one frame (`start_frame`,
//! `continue_frame`) keeps control frames aside until its payload is
//! complete.
//!
//! A client's frames are masked (`client.rs`): each with a fresh key, its
//! payload copied into the queue's own buffers first, so that nothing
//! shared with the application or a prepared message is written to. The
//! server's path takes one branch on the role per frame, which is
//! decided when the queue is made.

mod client;

use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};

use crate::config::WebSocketConfig;
use crate::frame::{copy_plain, encode_header, OpCode, MAX_HEADER_LEN};
use crate::pool::{BufferPool, ThreadSpares};
use crate::role::Role;

use self::client::Masker;

/// Payloads at least this long are queued by reference instead of copied.
pub(crate) const COPY_LIMIT: usize = 16 * 1024;
/// Prepared frames at least this long are queued by reference (shared by
/// every connection a hub queues them on); shorter ones cost less copied
/// than as a slice of their own in the vectored write.
pub(crate) const SHARE_LIMIT: usize = 256;
/// Most slices in one vectored write.
pub(crate) const MAX_IOVECS: usize = 64;

/// Output of a connection waiting to be written.
#[derive(Debug)]
pub(crate) struct OutQueue {
    /// Chunks ready to go, in order, before `tail`; each says whether it is
    /// small (a prepared frame shared by reference, or the coalesced bytes
    /// before one), which does not count as a large payload.
    chunks: VecDeque<(Bytes, bool)>,
    /// How many of `chunks` are small.
    small_chunks: usize,
    /// Where headers and small payloads are coalesced; goes out after `chunks`.
    tail: BytesMut,
    /// Bytes queued in all.
    queued: usize,
    /// Output was written since the last transport flush.
    needs_flush: bool,
    initial_capacity: usize,
    /// `tail`'s capacity after it last grew: what it is rewound to once
    /// written out (see `consume`).
    full_capacity: usize,
    /// A written-out `tail` larger than this is let go: a backlog the peer
    /// made (small frames past the flush threshold, up to the backlog
    /// limit) is not kept for the rest of the connection.
    keep_at_most: usize,
    pool: Option<Arc<dyn BufferPool>>,
    /// Payload bytes still owed to the frame being relayed: its header went
    /// out with the frame's whole length, and nothing else may be written
    /// until its payload is complete.
    owed: usize,
    /// Control frames queued meanwhile, the latest of each kind: they go
    /// out once the frame is complete (RFC 6455 5.4: control frames go
    /// between frames, and a pong may answer only the latest ping).
    held: Vec<(OpCode, Vec<u8>)>,
    /// The client's masking keys (`None` for a server, whose frames are
    /// not masked).
    masker: Option<Box<Masker>>,
}

impl OutQueue {
    pub(crate) fn new(cfg: &WebSocketConfig, role: Role) -> Self {
        OutQueue {
            chunks: VecDeque::new(),
            small_chunks: 0,
            // Allocated (or, with a pool, taken) when there is something to
            // write, so a connection that never writes holds no buffer.
            tail: BytesMut::new(),
            queued: 0,
            needs_flush: false,
            initial_capacity: cfg.write_buffer_size,
            full_capacity: 0,
            // What a batch up to the threshold may grow the tail to: one more
            // frame below `COPY_LIMIT` past it, then doubling.
            keep_at_most: 2
                * (cfg.write_flush_threshold.max(cfg.write_buffer_size) + COPY_LIMIT)
                    .next_power_of_two(),
            pool: cfg.write_buffer_pool.clone(),
            owed: 0,
            held: Vec::new(),
            masker: (role == Role::Client).then(|| Box::new(Masker::new())),
        }
    }

    /// Bytes waiting to be written.
    pub(crate) fn queued(&self) -> usize {
        self.queued
    }

    /// A payload of at least `COPY_LIMIT` bytes is queued (by reference,
    /// not coalesced): a large message, whose write need not wait for a
    /// batch to end.
    pub(crate) fn holds_large_payload(&self) -> bool {
        self.chunks.len() > self.small_chunks
    }

    /// Queues `chunk` by reference after what is queued; `small` as in
    /// `chunks`.
    fn push_chunk(&mut self, chunk: Bytes, small: bool) {
        self.queued += chunk.len();
        self.small_chunks += small as usize;
        self.chunks.push_back((chunk, small));
    }

    /// Moves the coalesced bytes, if any, into `chunks` (before a chunk
    /// queued by reference).
    fn close_tail(&mut self, small: bool) {
        if !self.tail.is_empty() {
            let tail = self.tail.split().freeze();
            self.queued -= tail.len();
            self.push_chunk(tail, small);
        }
    }

    /// Bytes coalesced into the tail (copied, not queued by reference).
    pub(crate) fn coalesced(&self) -> usize {
        self.tail.len()
    }

    /// Written out, but the transport is not flushed yet.
    pub(crate) fn needs_flush(&self) -> bool {
        self.needs_flush
    }

    /// Whether anything waits to be written or flushed.
    pub(crate) fn is_idle(&self) -> bool {
        self.queued == 0 && !self.needs_flush
    }

    /// Room for `additional` more bytes in the tail (a check, inlined
    /// where a frame is queued; the rest is not).
    #[inline(always)]
    fn ensure_buffer(&mut self, additional: usize) {
        if self.tail.capacity() - self.tail.len() < additional {
            self.grow_buffer(additional);
        }
    }

    #[inline(never)]
    fn grow_buffer(&mut self, additional: usize) {
        if self.tail.capacity() == 0 {
            let spare = match &self.pool {
                Some(pool) => pool.get(),
                None => ThreadSpares::get(),
            };
            if let Some(buf) = spare {
                self.tail = buf;
                self.full_capacity = self.tail.capacity();
            }
        }
        if self.tail.capacity() - self.tail.len() < additional {
            self.tail.reserve(additional.max(self.initial_capacity));
            self.full_capacity = self.tail.capacity();
        }
    }

    /// Queues one frame (masked for a client, as are all of its frames). A
    /// control frame queued while a relayed frame is incomplete waits for
    /// its end.
    pub(crate) fn queue_frame(&mut self, opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) {
        if self.owed > 0 {
            // Data frames cannot get here: a message being sent in pieces
            // keeps any other data message out (`Core::check_no_fragments`).
            // Held, one would be lost to the next of its kind.
            assert!(opcode.is_control(), "{opcode:?} inside a relayed frame");
            match self.held.iter_mut().find(|(op, _)| *op == opcode) {
                Some(held) => held.1 = payload.to_vec(),
                None => self.held.push((opcode, payload.to_vec())),
            }
            return;
        }
        if self.masker.is_some() {
            return self.queue_masked(opcode, fin, rsv1, payload);
        }
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = encode_header(&mut header, opcode, fin, rsv1, payload.len());
        self.ensure_buffer(n + payload.len());
        self.tail.extend_from_slice(&header[..n]);
        crate::frame::extend_plain(&mut self.tail, payload);
        self.queued += n + payload.len();
    }

    /// Queues a whole message of fewer than [`COPY_LIMIT`] bytes, copied:
    /// the common case of a server's send in one step, its header written
    /// byte by byte beside the payload (as [`queue_frame`](Self::queue_frame)
    /// would, which takes every other case).
    #[inline(always)]
    pub(crate) fn queue_small_message(&mut self, opcode: OpCode, payload: &[u8]) {
        if !self.takes_small(payload.len()) {
            return self.queue_frame(opcode, true, false, payload);
        }
        self.queue_small(opcode, payload, None);
    }

    /// Queues a whole binary message of a payload still masked with `key`,
    /// unmasked as it is copied: a relayed message, one pass over its
    /// bytes. `false`, and nothing queued, where
    /// [`queue_small_message`](Self::queue_small_message) would not take
    /// it in one step: the caller unmasks it and queues it the usual way.
    #[inline(always)]
    pub(crate) fn queue_small_unmasking(&mut self, masked: &[u8], key: [u8; 4]) -> bool {
        if !self.takes_small(masked.len()) {
            return false;
        }
        self.queue_small(OpCode::Binary, masked, Some(key));
        true
    }

    /// Whether a whole message of `len` bytes is queued in one step: no
    /// frame of a large payload owed (its bytes go first), unmasked (a
    /// server's), under [`COPY_LIMIT`].
    #[inline(always)]
    fn takes_small(&self, len: usize) -> bool {
        self.owed == 0 && self.masker.is_none() && len < COPY_LIMIT
    }

    #[inline(always)]
    fn queue_small(&mut self, opcode: OpCode, payload: &[u8], key: Option<[u8; 4]>) {
        let len = payload.len();
        let header_len = if len < 126 { 2 } else { 4 };
        let total = header_len + len;
        self.ensure_buffer(total);
        let start = self.tail.len();
        let frame = &mut self.tail.spare_capacity_mut()[..total];
        frame[0].write(0x80 | opcode as u8);
        if len < 126 {
            frame[1].write(len as u8);
        } else {
            let [hi, lo] = (len as u16).to_be_bytes();
            frame[1].write(126);
            frame[2].write(hi);
            frame[3].write(lo);
        }
        let body = &mut frame[header_len..];
        match key {
            // Writes every byte of `body` (it checks the lengths match).
            Some(key) => crate::frame::copy_masked(payload, body, key),
            // Writes every byte of `body` too. Two calls of
            // `extend_from_slice` (one a copy of the two header bytes) were
            // a sixth of a 16-byte echo's sending (callgrind, `docs/bench`).
            None => copy_plain(payload, body),
        }
        // SAFETY: the header and the body were written above, so the
        // `total` bytes after `start` are initialised and the length may
        // cover them.
        unsafe { self.tail.set_len(start + total) };
        self.queued += total;
    }

    /// Queues one frame whose payload is shared: large payloads are not copied.
    pub(crate) fn queue_frame_bytes(
        &mut self,
        opcode: OpCode,
        fin: bool,
        rsv1: bool,
        payload: Bytes,
    ) {
        if payload.len() < COPY_LIMIT || self.masker.is_some() {
            return self.queue_frame(opcode, fin, rsv1, &payload);
        }
        self.queue_header(opcode, fin, rsv1, payload.len());
        self.queue_raw(payload);
    }

    /// Queues a frame header alone, its payload to follow.
    fn queue_header(&mut self, opcode: OpCode, fin: bool, rsv1: bool, len: usize) {
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = encode_header(&mut header, opcode, fin, rsv1, len);
        self.ensure_buffer(n);
        self.tail.extend_from_slice(&header[..n]);
        self.queued += n;
    }

    /// Starts a frame of `total` payload bytes, one frame for a whole
    /// message, with its first `piece`; the rest follows with
    /// [`continue_frame`](Self::continue_frame).
    pub(crate) fn start_frame(&mut self, opcode: OpCode, total: usize, piece: Bytes) {
        debug_assert!(self.owed == 0 && piece.len() <= total);
        if self.masker.is_some() {
            self.queue_masked_header(opcode, total);
        } else {
            self.queue_header(opcode, true, false, total);
        }
        self.owed = total;
        self.continue_frame(piece);
    }

    /// Queues more payload of the frame begun by `start_frame` (at most what
    /// it is still owed); the control frames held meanwhile follow its end.
    pub(crate) fn continue_frame(&mut self, piece: Bytes) {
        debug_assert!(piece.len() <= self.owed);
        self.owed -= piece.len();
        if self.masker.is_some() {
            self.queue_masked_piece(&piece);
        } else {
            self.queue_raw(piece);
        }
        if self.owed == 0 {
            for (opcode, payload) in std::mem::take(&mut self.held) {
                self.queue_frame(opcode, true, false, &payload);
            }
        }
    }

    /// Payload bytes the frame begun by `start_frame` is still owed.
    pub(crate) fn owed(&self) -> usize {
        self.owed
    }

    /// A frame begun by `start_frame` is still owed payload: nothing but its
    /// payload can be written now.
    pub(crate) fn frame_open(&self) -> bool {
        self.owed > 0
    }

    /// Queues an empty ping (keepalive's), by reference: an idle connection
    /// allocates no buffer to send it. Inside a frame being relayed it is
    /// held for the frame's end, as any control frame is.
    pub(crate) fn queue_empty_ping(&mut self) {
        /// An unmasked ping frame with no payload.
        const EMPTY_PING: [u8; 2] = [0x89, 0x00];
        if self.owed > 0 || self.masker.is_some() {
            self.queue_frame(OpCode::Ping, true, false, &[]);
            return;
        }
        self.close_tail(false);
        self.push_chunk(Bytes::from_static(&EMPTY_PING), false);
    }

    /// Queues a frame a prepared message holds, framed as a server sends
    /// it: by reference from [`SHARE_LIMIT`] bytes (a hub queues one frame
    /// on thousands of connections: copied, each would hold its own), or,
    /// for a client, copied and masked.
    pub(crate) fn queue_framed(&mut self, framed: Bytes) {
        if self.masker.is_some() {
            return self.queue_masked_framed(&framed);
        }
        if framed.len() < SHARE_LIMIT || framed.len() >= COPY_LIMIT {
            return self.queue_raw(framed);
        }
        self.close_tail(true);
        self.push_chunk(framed, true);
    }

    /// Queues bytes already framed (a prepared message), or payload of a
    /// frame whose header is queued.
    fn queue_raw(&mut self, framed: Bytes) {
        if framed.len() < COPY_LIMIT {
            self.ensure_buffer(framed.len());
            self.queued += framed.len();
            crate::frame::extend_plain(&mut self.tail, &framed);
            return;
        }
        self.close_tail(false);
        self.push_chunk(framed, false);
    }

    /// All the queued output, when it is one buffer (the coalesced bytes,
    /// nothing queued by reference): for a plain write, with no slices to
    /// set up.
    #[inline]
    pub(crate) fn single(&self) -> Option<&[u8]> {
        self.chunks.is_empty().then_some(&self.tail[..])
    }

    /// The queued output as slices for one vectored write, in order;
    /// returns how many of `out` were filled. The tail goes out after every
    /// chunk, so only in a write that takes all of them.
    pub(crate) fn slices<'a>(&'a self, out: &mut [IoSlice<'a>; MAX_IOVECS]) -> usize {
        let mut count = 0;
        for (c, _) in self.chunks.iter().take(MAX_IOVECS) {
            out[count] = IoSlice::new(c);
            count += 1;
        }
        if count == self.chunks.len() && count < MAX_IOVECS && !self.tail.is_empty() {
            out[count] = IoSlice::new(&self.tail);
            count += 1;
        }
        count
    }

    /// The transport took `n` bytes of [`slices`](Self::slices); it needs
    /// a flush before the output counts as sent.
    pub(crate) fn consume(&mut self, mut n: usize) {
        self.needs_flush = true;
        self.queued -= n;
        while n > 0 {
            if let Some((front, _)) = self.chunks.front_mut() {
                if n >= front.len() {
                    n -= front.len();
                    if let Some((_, true)) = self.chunks.pop_front() {
                        self.small_chunks -= 1;
                    }
                } else {
                    front.advance(n);
                    n = 0;
                }
            } else {
                super::consume_front(&mut self.tail, n);
                n = 0;
            }
        }
        // Written out: rewind the tail to the start of its allocation. Left
        // as it was, its spare room would be what the last batch did not
        // use, and the next batch to outgrow that would shift everything it
        // had queued back to the front (a memmove of the whole batch).
        // Rewinding now moves nothing, and never
        // allocates; it fails harmlessly while a split-off header is alive.
        if self.tail.is_empty() && self.tail.capacity() < self.full_capacity {
            let _ = self.tail.try_reclaim(self.full_capacity);
        }
    }

    /// The transport was flushed after everything queued was written: the
    /// queue is idle, and gives its buffer back for the next batch (of this
    /// connection or another) to take: to the pool, which keeps it or frees
    /// it, or, without one, to the thread's spares; where they refuse it,
    /// the connection keeps it. A buffer a backlog grew past `keep_at_most`
    /// is freed.
    pub(crate) fn flushed(&mut self) {
        debug_assert_eq!(self.queued, 0);
        self.needs_flush = false;
        self.give_back(true);
    }

    /// The connection has been idle for a while: with nothing queued, its
    /// buffer is given back as after a flush, and freed where the thread's
    /// spares refuse it.
    pub(crate) fn release_idle(&mut self) {
        if self.queued == 0 {
            self.give_back(false);
        }
    }

    /// Gives the empty tail back; `keep`: kept where the thread's spares
    /// refuse it (else freed).
    fn give_back(&mut self, keep: bool) {
        if !self.tail.is_empty() || self.tail.capacity() == 0 {
            return;
        }
        let tail = std::mem::take(&mut self.tail);
        if let Some(pool) = &self.pool {
            // The pool decides what it keeps.
            pool.put(tail);
        } else if tail.capacity() <= self.keep_at_most {
            if let Some(refused) = ThreadSpares::put(tail).filter(|_| keep) {
                self.tail = refused;
                return;
            }
        }
        self.full_capacity = 0;
    }

    /// Drops everything queued (the transport failed).
    pub(crate) fn discard(&mut self) {
        self.chunks.clear();
        self.small_chunks = 0;
        self.tail.clear();
        self.queued = 0;
        self.needs_flush = false;
        self.owed = 0;
        self.held.clear();
    }
}

#[cfg(test)]
mod client_tests;

#[cfg(test)]
mod tests;
