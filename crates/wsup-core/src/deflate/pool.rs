//! [`CodecPool`]: zlib states lent to the connections that keep no context
//! between messages.
//!
//! Without context takeover a zlib state is only needed during one message:
//! the [`Deflater`](super::Deflater) or [`Inflater`](super::Inflater) takes
//! one from the pool when a message starts and gives it back, reset, when it
//! ends, so an idle connection holds no zlib state at all. With context
//! takeover the state must survive between messages and the connection owns
//! it; the pool is not used.

use std::fmt;
use std::sync::Mutex;

use flate2::{Compress, Compression, Decompress};

use super::config::{MAX_WINDOW_BITS, MIN_WINDOW_BITS};

/// Index of a window size in the pool's per-size lists.
fn slot(bits: u8) -> usize {
    usize::from(bits - MIN_WINDOW_BITS)
}

const SLOTS: usize = (MAX_WINDOW_BITS - MIN_WINDOW_BITS + 1) as usize;

/// A bounded free list of zlib states, shared by the connections that do not
/// keep a context between messages.
///
/// A zlib state is allocated per message at most once per pool slot: states
/// are kept, reset, for the next message of any connection with the same
/// window size. At most `max_idle` compressors and `max_idle` decompressors
/// are kept per window size; extra ones are freed. The lock is held only to
/// push or pop, never while (de)compressing.
pub struct CodecPool {
    max_idle: usize,
    compressors: Mutex<[Vec<(Compress, u32)>; SLOTS]>,
    decompressors: Mutex<[Vec<Decompress>; SLOTS]>,
}

impl fmt::Debug for CodecPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodecPool")
            .field("max_idle", &self.max_idle)
            .field("idle_compressors", &self.idle_compressors())
            .field("idle_decompressors", &self.idle_decompressors())
            .finish()
    }
}

impl Default for CodecPool {
    /// A pool keeping up to 16 idle states of each kind per window size.
    fn default() -> Self {
        CodecPool::new(16)
    }
}

impl CodecPool {
    /// A pool keeping at most `max_idle` idle compressors and as many
    /// decompressors per window size (9..=15).
    pub fn new(max_idle: usize) -> Self {
        CodecPool {
            max_idle,
            compressors: Mutex::new(Default::default()),
            decompressors: Mutex::new(Default::default()),
        }
    }

    /// Idle compressors held, all window sizes together.
    pub fn idle_compressors(&self) -> usize {
        lock(&self.compressors).iter().map(Vec::len).sum()
    }

    /// Idle decompressors held, all window sizes together.
    pub fn idle_decompressors(&self) -> usize {
        lock(&self.decompressors).iter().map(Vec::len).sum()
    }

    /// A reset compressor with `bits` and `level`, from the free list or new.
    pub(crate) fn take_compressor(&self, bits: u8, level: u32) -> Compress {
        let idle = lock(&self.compressors)[slot(bits)].pop();
        match idle {
            Some((c, l)) if l == level => c,
            Some((mut c, _)) => {
                // A reset stream has no pending input, so changing the level
                // cannot need output space; a failure would leave the old
                // level, which still makes a valid stream.
                let _ = c.set_level(Compression::new(level));
                c
            }
            None => new_compressor(bits, level),
        }
    }

    /// Gives a compressor back; it must be at a message boundary.
    pub(crate) fn give_compressor(&self, bits: u8, level: u32, mut c: Compress) {
        c.reset();
        let mut lists = lock(&self.compressors);
        let list = &mut lists[slot(bits)];
        if list.len() < self.max_idle {
            list.push((c, level));
        }
    }

    /// A reset decompressor with `bits`, from the free list or new.
    pub(crate) fn take_decompressor(&self, bits: u8) -> Decompress {
        let idle = lock(&self.decompressors)[slot(bits)].pop();
        idle.unwrap_or_else(|| new_decompressor(bits))
    }

    /// Gives a decompressor back, in any state: it is reset here.
    pub(crate) fn give_decompressor(&self, bits: u8, mut d: Decompress) {
        d.reset(false);
        let mut lists = lock(&self.decompressors);
        let list = &mut lists[slot(bits)];
        if list.len() < self.max_idle {
            list.push(d);
        }
    }
}

/// Locks a pool list. The data is a plain free list, consistent after every
/// push or pop, so a panic while the lock was held cannot have broken it:
/// poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fresh raw-deflate compressor, for a pool miss or a connection that
/// keeps its own.
pub(super) fn new_compressor(bits: u8, level: u32) -> Compress {
    Compress::new_with_window_bits(Compression::new(level), false, bits)
}

/// A fresh raw-deflate decompressor, for a pool miss or a connection that
/// keeps its own.
pub(super) fn new_decompressor(bits: u8) -> Decompress {
    Decompress::new_with_window_bits(false, bits)
}
