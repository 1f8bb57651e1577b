//! The client's side of the queue: every frame masked with a fresh key
//! (RFC 6455 section 5.3). The keys come from ChaCha12 (`StdRng`), seeded
//! once per connection from the operating system: unpredictable to the
//! application that chooses the payloads, as the RFC asks, at a few
//! nanoseconds a key.
//!
//! A payload is copied before it is masked, into the coalescing buffer or,
//! from `COPY_LIMIT` bytes on, into a buffer of its own: the `Bytes` a
//! server queues by reference are shared with the application or a
//! prepared message and are never written to.

use std::hash::{BuildHasher, Hasher};

use bytes::BytesMut;
use rand::rngs::{StdRng, SysRng};
use rand::{Rng, SeedableRng};

use super::{OutQueue, COPY_LIMIT};
use crate::frame::{extend_masked, FrameHeader, OpCode, MAX_HEADER_LEN};

/// Where a client's masking keys come from.
pub(crate) struct Masker {
    rng: StdRng,
    /// The key of the frame being relayed (`OutQueue::start_frame`) and
    /// how far into its payload the pieces queued so far reach.
    relay_key: [u8; 4],
    relay_offset: usize,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The generator's state stays out of logs.
        f.debug_struct("Masker").finish_non_exhaustive()
    }
}

impl Masker {
    /// A generator seeded from the operating system. Should the system's
    /// source fail, the seed comes from std's hasher keys, which std also
    /// draws from the system (with its own fallbacks) and which differ per
    /// process and per call: masking goes on rather than panic.
    pub(super) fn new() -> Self {
        let rng = StdRng::try_from_rng(&mut SysRng).unwrap_or_else(|_| {
            let mut seed = [0u8; 32];
            for (i, part) in seed.chunks_mut(8).enumerate() {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_usize(i);
                part.copy_from_slice(&h.finish().to_ne_bytes());
            }
            StdRng::from_seed(seed)
        });
        Masker {
            rng,
            relay_key: [0; 4],
            relay_offset: 0,
        }
    }

    fn key(&mut self) -> [u8; 4] {
        self.rng.next_u32().to_ne_bytes()
    }
}

impl OutQueue {
    fn masker(&mut self) -> &mut Masker {
        self.masker.as_deref_mut().expect("a client's queue")
    }

    /// Queues a masked header, with `room` reserved after it for payload
    /// to coalesce; returns its key.
    fn masked_header(
        &mut self,
        opcode: OpCode,
        fin: bool,
        rsv1: bool,
        len: usize,
        room: usize,
    ) -> [u8; 4] {
        let key = self.masker().key();
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = FrameHeader {
            fin,
            rsv1,
            rsv23: 0,
            opcode,
            mask: Some(key),
            payload_len: len as u64,
        }
        .encode(&mut header);
        self.ensure_buffer(n + room);
        self.tail.extend_from_slice(&header[..n]);
        self.queued += n;
        key
    }

    /// `OutQueue::queue_frame`, masked.
    // Kept out of the server's per-frame path (the branch to here).
    #[inline(never)]
    pub(super) fn queue_masked(&mut self, opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) {
        // A payload that is coalesced too is reserved for at once.
        let room = if payload.len() < COPY_LIMIT {
            payload.len()
        } else {
            0
        };
        let key = self.masked_header(opcode, fin, rsv1, payload.len(), room);
        self.push_masked(payload, key, 0);
    }

    /// Copies `payload` into the queue, masked with `key` from `offset` of
    /// its frame's payload; returns the offset after it.
    fn push_masked(&mut self, payload: &[u8], key: [u8; 4], offset: usize) -> usize {
        self.queued += payload.len();
        if payload.len() < COPY_LIMIT {
            self.ensure_buffer(payload.len());
            return extend_masked(&mut self.tail, payload, key, offset);
        }
        self.close_tail(false);
        let mut own = BytesMut::with_capacity(payload.len());
        let offset = extend_masked(&mut own, payload, key, offset);
        // `push_chunk` counts it again.
        self.queued -= own.len();
        self.push_chunk(own.freeze(), false);
        offset
    }

    /// `OutQueue::start_frame`'s header, masked: its key is kept for the
    /// pieces that follow.
    // Kept out of the server's per-frame path (the branch to here).
    #[inline(never)]
    pub(super) fn queue_masked_header(&mut self, opcode: OpCode, total: usize) {
        // The header alone: the payload comes in pieces.
        let key = self.masked_header(opcode, true, false, total, 0);
        let m = self.masker();
        m.relay_key = key;
        m.relay_offset = 0;
    }

    /// A piece of the frame begun by `queue_masked_header`, masked on from
    /// where the previous one ended.
    // Kept out of the server's per-frame path (the branch to here).
    #[inline(never)]
    pub(super) fn queue_masked_piece(&mut self, piece: &[u8]) {
        let (key, offset) = {
            let m = self.masker();
            (m.relay_key, m.relay_offset)
        };
        let offset = self.push_masked(piece, key, offset);
        self.masker().relay_offset = offset;
    }

    /// A frame framed as a server sends it (a prepared message's): its
    /// header parsed back, the frame queued again, masked.
    // Kept out of the server's per-frame path (the branch to here).
    #[inline(never)]
    pub(super) fn queue_masked_framed(&mut self, framed: &[u8]) {
        match FrameHeader::parse(framed) {
            Ok(Some((h, n))) if framed.len() - n == h.payload_len as usize => {
                self.queue_masked(h.opcode, h.fin, h.rsv1, &framed[n..]);
            }
            // Not reached: prepared messages frame what they hold whole.
            _ => debug_assert!(false, "a prepared frame that does not parse"),
        }
    }
}
