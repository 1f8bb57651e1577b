//! The per-message codec (RFC 7692 section 7.2): [`Deflater`] for messages
//! the server sends, [`Inflater`] for messages it receives.
//!
//! Both hold their zlib state only while they need it. With context takeover
//! the state must survive between messages, so the connection owns it (it
//! is created at the first compressed message, not before). Without context
//! takeover the state is only needed during one message: it is taken from a
//! [`CodecPool`] when a message starts and given back, reset, when it ends,
//! so an idle connection holds no zlib state at all.
//!
//! The take/give-back happens inside the codec: [`Deflater::compress`] (or
//! the first [`Deflater::compress_part`] of a message) takes, the call that
//! ends the message gives back; [`Inflater::decompress`] takes on the first
//! piece of a message and gives back on the piece with `fin`. A message
//! abandoned midway is released with [`Inflater::release`] /
//! [`Deflater::release`], or when the codec is dropped.

use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::params::{Agreed, DeflateConfig, MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use crate::CloseCode;

/// The empty stored block a sync flush ends with; RFC 7692 removes it from
/// each message and the receiver puts it back.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The most output the inflater asks zlib for in one call, so the unit in
/// which the output buffer grows. A message is refused as soon as it passes
/// its limit, so at most one byte of it lies past the limit.
pub const INFLATE_STEP: usize = 32 * 1024;

/// Why a compressed message could not be inflated. Either way the message is
/// lost and the connection should be failed with [`InflateError::close_code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InflateError {
    /// The message inflates to more than the limit.
    #[error("inflated message exceeds the size limit")]
    TooLarge,
    /// The compressed data is not a valid DEFLATE stream.
    #[error("invalid compressed data")]
    Corrupt,
}

impl InflateError {
    /// The close code to fail the connection with: 1009 for
    /// [`TooLarge`](Self::TooLarge), 1002 (protocol error, as the connection answers it) for
    /// [`Corrupt`](Self::Corrupt).
    pub fn close_code(&self) -> CloseCode {
        match self {
            InflateError::TooLarge => CloseCode::TOO_BIG,
            InflateError::Corrupt => CloseCode::PROTOCOL,
        }
    }
}

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
        idle.unwrap_or_else(|| Decompress::new_with_window_bits(false, bits))
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

fn new_compressor(bits: u8, level: u32) -> Compress {
    Compress::new_with_window_bits(Compression::new(level), false, bits)
}

/// Window bits a zlib raw stream accepts.
fn zlib_bits(bits: u8) -> u8 {
    bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS)
}

/// Compresses the messages the server sends (server → client).
///
/// Each message becomes raw DEFLATE data ending in a sync flush, with the
/// final `00 00 ff ff` removed (RFC 7692 section 7.2.1).
pub struct Deflater {
    state: Option<Compress>,
    /// The level `state` currently compresses with.
    state_level: u32,
    /// The level wanted from the next message on.
    level: u32,
    window_bits: u8,
    no_context_takeover: bool,
    pool: Option<Arc<CodecPool>>,
}

impl fmt::Debug for Deflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deflater")
            .field("level", &self.level)
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .field("holds_state", &self.state.is_some())
            .field("pooled", &self.pool.is_some())
            .finish()
    }
}

impl Deflater {
    /// A compressor with `level` (0..=9, clamped), an LZ77 window of
    /// `window_bits` (9..=15, clamped) and, if `no_context_takeover`, a
    /// reset after each message. No zlib state is allocated until the first
    /// message.
    pub fn new(level: u32, window_bits: u8, no_context_takeover: bool) -> Self {
        let level = level.min(9);
        Deflater {
            state: None,
            state_level: level,
            level,
            window_bits: zlib_bits(window_bits),
            no_context_takeover,
            pool: None,
        }
    }

    /// The server's compressor for a negotiated connection.
    pub fn for_agreed(agreed: &Agreed, config: &DeflateConfig) -> Self {
        Deflater::new(
            config.level,
            agreed.server_max_window_bits,
            agreed.server_no_context_takeover,
        )
    }

    /// Takes zlib states from `pool` for each message and gives them back at
    /// its end. Has an effect only without context takeover, where the
    /// state is not needed between messages.
    pub fn with_pool(mut self, pool: Arc<CodecPool>) -> Self {
        if self.no_context_takeover {
            self.pool = Some(pool);
        }
        self
    }

    /// Changes the compression level (0..=9, clamped) from the next message
    /// on.
    pub fn set_level(&mut self, level: u32) {
        self.level = level.min(9);
    }

    /// The compression level of the next message.
    pub fn level(&self) -> u32 {
        self.level
    }

    /// Whether the compressor holds zlib state now (it does not between
    /// messages when pooled).
    pub fn holds_state(&self) -> bool {
        self.state.is_some()
    }

    /// Compresses one whole message, appending its RFC 7692 payload to `out`.
    pub fn compress(&mut self, payload: &[u8], out: &mut BytesMut) {
        self.compress_part(payload, true, out);
    }

    /// Compresses a piece of a message, for messages sent in fragments:
    /// each piece is flushed, so its output can go out as one frame; the
    /// piece with `fin` ends the message. Every piece's output, even an
    /// empty one, is the payload of one frame.
    pub fn compress_part(&mut self, input: &[u8], fin: bool, out: &mut BytesMut) {
        let start = out.len();
        let c = self.begin();
        deflate_sync(c, input, out);
        if fin {
            let produced = &out[start..];
            if produced.ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            } else if produced.is_empty() {
                // zlib writes nothing for a sync flush with no new input right
                // after another one (an empty message, or an empty last piece).
                // An empty payload would leave the receiver reading the
                // appended 00 00 ff ff as the start of a stored block, so send
                // the header byte of an empty stored block: the stream is byte
                // aligned after a sync flush, and RFC 7692 7.2.3.6 shows the
                // same single 0x00 byte.
                out.extend_from_slice(&[0x00]);
            }
            self.end_message();
        }
    }

    /// Abandons the current message: the next message starts a new stream
    /// (the peer's decompressor copes, as back-references only point into
    /// data it was sent). Gives pooled state back.
    pub fn release(&mut self) {
        if let Some(mut c) = self.state.take() {
            match &self.pool {
                Some(pool) => pool.give_compressor(self.window_bits, self.state_level, c),
                None => {
                    c.reset();
                    self.state = Some(c);
                }
            }
        }
    }

    /// The zlib state for the current message, taken or created as needed,
    /// at the wanted level.
    fn begin(&mut self) -> &mut Compress {
        let (bits, level) = (self.window_bits, self.level);
        let c = match &mut self.state {
            Some(c) => c,
            state @ None => {
                self.state_level = level;
                state.insert(match &self.pool {
                    Some(pool) => pool.take_compressor(bits, level),
                    None => new_compressor(bits, level),
                })
            }
        };
        if self.state_level != level {
            // Between messages the stream was sync-flushed, so zlib has no
            // pending input and the change needs no output space. Should it
            // still fail, a reset makes it succeed; the receiver decodes a
            // restarted stream fine.
            if c.set_level(Compression::new(level)).is_err() {
                c.reset();
                let _ = c.set_level(Compression::new(level));
            }
            self.state_level = level;
        }
        c
    }

    fn end_message(&mut self) {
        if self.no_context_takeover {
            self.release();
        }
    }
}

impl Drop for Deflater {
    fn drop(&mut self) {
        if let (Some(c), Some(pool)) = (self.state.take(), &self.pool) {
            pool.give_compressor(self.window_bits, self.state_level, c);
        }
    }
}

/// Runs zlib with a sync flush over all of `input`, appending to `out`.
fn deflate_sync(c: &mut Compress, mut input: &[u8], out: &mut BytesMut) {
    loop {
        // Room for incompressible input plus the block overhead; zlib is
        // called again if it was not enough.
        let room = input.len() + input.len() / 8 + 64;
        let len = out.len();
        out.resize(len + room, 0);
        let (in0, out0) = (c.total_in(), c.total_out());
        let result = c.compress(input, &mut out[len..], FlushCompress::Sync);
        let consumed = (c.total_in() - in0) as usize;
        let produced = (c.total_out() - out0) as usize;
        out.truncate(len + produced);
        input = &input[consumed..];
        match result {
            // Done when zlib had output space left over: everything is flushed.
            Ok(Status::Ok) if input.is_empty() && produced < room => return,
            Ok(Status::Ok) => {}
            // No progress possible: nothing pending (e.g. a second flush in a
            // row with no input).
            Ok(Status::BufError) | Ok(Status::StreamEnd) => return,
            // zlib reports errors only for a stream in an invalid state, which
            // a `Compress` never is; stop rather than loop.
            Err(_) => return,
        }
    }
}

/// Decompresses the messages the server receives (client → server).
///
/// Fed each frame's payload as it arrives; the total inflated size of a
/// message is held under a limit *while* inflating, so a small message that
/// would inflate to gigabytes is refused after at most one
/// [`INFLATE_STEP`] past the limit.
pub struct Inflater {
    state: Option<Decompress>,
    window_bits: u8,
    no_context_takeover: bool,
    pool: Option<Arc<CodecPool>>,
    /// Bytes inflated for the current message.
    produced: usize,
    /// Whether the current message had any compressed input.
    fed: bool,
    /// The input so far ended exactly at the end of a final (BFINAL) block.
    just_ended: bool,
}

impl fmt::Debug for Inflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inflater")
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .field("holds_state", &self.state.is_some())
            .field("pooled", &self.pool.is_some())
            .field("produced", &self.produced)
            .finish()
    }
}

impl Inflater {
    /// A decompressor for a stream made with at most `window_bits` (a value
    /// below 9 is read with 9, which decodes it; above 15 is clamped) that
    /// resets after each message if `no_context_takeover`. No zlib state is
    /// allocated until the first compressed message.
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Self {
        Inflater {
            state: None,
            window_bits: zlib_bits(window_bits),
            no_context_takeover,
            pool: None,
            produced: 0,
            fed: false,
            just_ended: false,
        }
    }

    /// The server's decompressor for a negotiated connection.
    pub fn for_agreed(agreed: &Agreed) -> Self {
        Inflater::new(
            agreed.client_inflate_window_bits(),
            agreed.client_no_context_takeover,
        )
    }

    /// Takes zlib states from `pool` for each message and gives them back at
    /// its end. Has an effect only without context takeover.
    pub fn with_pool(mut self, pool: Arc<CodecPool>) -> Self {
        if self.no_context_takeover {
            self.pool = Some(pool);
        }
        self
    }

    /// Whether the decompressor holds zlib state now.
    pub fn holds_state(&self) -> bool {
        self.state.is_some()
    }

    /// Inflates the next piece (a frame's payload) of a compressed message
    /// into `out`; `fin` marks the last piece. `limit` bounds the inflated
    /// size of the whole message; it is checked while inflating, in steps of
    /// at most [`INFLATE_STEP`], so `out` never holds more than `limit + 1`
    /// bytes of the message, however much the input would inflate to.
    ///
    /// After an error the message is lost and the decompressor is reset (a
    /// context-takeover stream cannot continue after a lost message: fail the
    /// connection).
    pub fn decompress(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut BytesMut,
        limit: usize,
    ) -> Result<(), InflateError> {
        let result = self.feed(input, out, limit).and_then(|()| {
            // Only a message with compressed data gets the tail: for an empty
            // payload it would be read as the start of a stored block.
            if fin && self.fed {
                self.feed_tail(out, limit)
            } else {
                Ok(())
            }
        });
        match result {
            Ok(()) if fin => self.end_message(),
            Ok(()) => {}
            Err(_) => self.release(),
        }
        result
    }

    /// Abandons the current message, if one is under way (after an error,
    /// or when the connection gives up on it): the zlib state is reset, and
    /// given back to the pool if it came from there. With context takeover
    /// the client's stream cannot be followed after this.
    pub fn release(&mut self) {
        self.clear_message();
        match (self.state.take(), &self.pool) {
            (Some(d), Some(pool)) => pool.give_decompressor(self.window_bits, d),
            (Some(mut d), None) => {
                d.reset(false);
                self.state = Some(d);
            }
            (None, _) => {}
        }
    }

    fn clear_message(&mut self) {
        self.produced = 0;
        self.fed = false;
        self.just_ended = false;
    }

    fn end_message(&mut self) {
        if self.no_context_takeover {
            self.release();
        } else {
            self.clear_message();
        }
    }

    fn feed(&mut self, input: &[u8], out: &mut BytesMut, limit: usize) -> Result<(), InflateError> {
        if input.is_empty() {
            return Ok(());
        }
        self.fed = true;
        self.inflate(input, out, limit)
    }

    fn feed_tail(&mut self, out: &mut BytesMut, limit: usize) -> Result<(), InflateError> {
        if self.just_ended {
            // The client's data ended with a final block and nothing after:
            // the tail would begin a new stream and leave it mid-block.
            return Ok(());
        }
        self.inflate(&TAIL, out, limit)
    }

    fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut BytesMut,
        limit: usize,
    ) -> Result<(), InflateError> {
        let window_bits = self.window_bits;
        let d = match &mut self.state {
            Some(d) => d,
            state @ None => state.insert(match &self.pool {
                Some(pool) => pool.take_decompressor(window_bits),
                None => Decompress::new_with_window_bits(false, window_bits),
            }),
        };
        loop {
            // Allow one byte past the limit, to tell "exactly at the limit"
            // from "over it".
            let allowed = limit.saturating_sub(self.produced).saturating_add(1);
            // Small first steps for small inputs, so a short message does not
            // zero a whole step of buffer.
            let room = INFLATE_STEP
                .min(allowed)
                .min(input.len().saturating_mul(8).max(1024));
            let len = out.len();
            out.resize(len + room, 0);
            let (in0, out0) = (d.total_in(), d.total_out());
            let result = d.decompress(input, &mut out[len..], FlushDecompress::Sync);
            let consumed = (d.total_in() - in0) as usize;
            let produced = (d.total_out() - out0) as usize;
            out.truncate(len + produced);
            input = &input[consumed..];
            self.produced += produced;
            self.just_ended = false;
            if self.produced > limit {
                return Err(InflateError::TooLarge);
            }
            match result {
                Err(_) => return Err(InflateError::Corrupt),
                Ok(Status::StreamEnd) => {
                    // A block with BFINAL set (RFC 7692 7.2.3.4): the client
                    // starts a new stream after it, here or in a later
                    // message; what follows in this message (RFC 7692 shows a
                    // 0x00 byte, completed by the tail into an empty stored
                    // block) is inflated as that new stream.
                    d.reset(false);
                    self.just_ended = input.is_empty();
                    if input.is_empty() {
                        return Ok(());
                    }
                }
                // Output space left over: all input consumed and flushed.
                Ok(_) if input.is_empty() && produced < room => return Ok(()),
                Ok(_) if consumed == 0 && produced == 0 => {
                    // No progress with both input and output space: cannot
                    // happen with zlib, but never spin.
                    return if input.is_empty() {
                        Ok(())
                    } else {
                        Err(InflateError::Corrupt)
                    };
                }
                Ok(_) => {}
            }
        }
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        if let (Some(d), Some(pool)) = (self.state.take(), &self.pool) {
            pool.give_decompressor(self.window_bits, d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: deterministic data without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut rng = Rng(seed | 1);
        (0..len).map(|_| rng.next() as u8).collect()
    }

    fn text_like(len: usize, seed: u64) -> Vec<u8> {
        const WORDS: &[&str] = &[
            "the",
            "websocket",
            "frame",
            "message",
            "deflate",
            "window",
            "context",
            "server",
            "client",
            "{\"id\":",
            "\"value\":",
            "takeover",
            "compression",
            "of",
            "and",
            "a",
            "\n",
        ];
        let mut rng = Rng(seed | 1);
        let mut out = Vec::with_capacity(len + 16);
        while out.len() < len {
            out.extend_from_slice(WORDS[rng.below(WORDS.len())].as_bytes());
            out.push(b' ');
        }
        out.truncate(len);
        out
    }

    /// Feeds `payload` to `inflater` in odd-sized pieces, as frames would.
    fn inflate_in_pieces(
        inflater: &mut Inflater,
        payload: &[u8],
        seed: u64,
        limit: usize,
    ) -> Result<Vec<u8>, InflateError> {
        const SIZES: &[usize] = &[1, 7, 333, 4099, 65_537, 2, 0, 12_345];
        let mut out = BytesMut::new();
        let mut rest = payload;
        let mut i = seed as usize;
        loop {
            let n = SIZES[i % SIZES.len()].min(rest.len());
            i += 1;
            let (piece, tail) = rest.split_at(n);
            rest = tail;
            let fin = rest.is_empty();
            inflater.decompress(piece, fin, &mut out, limit)?;
            if fin {
                return Ok(out.to_vec());
            }
        }
    }

    fn compress(deflater: &mut Deflater, payload: &[u8]) -> BytesMut {
        let mut out = BytesMut::new();
        deflater.compress(payload, &mut out);
        out
    }

    #[test]
    fn round_trips_all_windows_sizes_and_takeover_modes() {
        let pool = Arc::new(CodecPool::new(4));
        for (size, seed) in [(1024, 1), (64 * 1024, 2), (1024 * 1024, 3)] {
            let text = text_like(size, seed);
            let random = random_bytes(size, seed);
            for bits in 9..=15 {
                for no_takeover in [false, true] {
                    let mut deflater = Deflater::new(6, bits, no_takeover).with_pool(pool.clone());
                    let mut inflater = Inflater::new(bits, no_takeover).with_pool(pool.clone());
                    // Three messages (two for 1 MiB, to keep debug builds quick), so
                    // that context takeover is exercised.
                    let messages: &[&Vec<u8>] = if size > 64 * 1024 {
                        &[&text, &random]
                    } else {
                        &[&text, &random, &text]
                    };
                    for (n, data) in messages.iter().enumerate() {
                        let compressed = compress(&mut deflater, data);
                        assert!(!compressed.ends_with(&TAIL));
                        let back = inflate_in_pieces(
                            &mut inflater,
                            &compressed,
                            n as u64 + bits as u64,
                            usize::MAX,
                        )
                        .unwrap_or_else(|e| {
                            panic!("size {size} bits {bits} no_takeover {no_takeover}: {e}")
                        });
                        assert!(
                            back == **data,
                            "size {size} bits {bits} no_takeover {no_takeover} message {n}"
                        );
                    }
                    assert_eq!(deflater.holds_state(), !no_takeover);
                    assert_eq!(inflater.holds_state(), !no_takeover);
                }
            }
            // Text compresses; random data grows only by the block overhead.
            let mut d = Deflater::new(6, 15, true);
            assert!(compress(&mut d, &text).len() < size / 2);
            assert!(compress(&mut d, &random).len() < size + size / 100 + 64);
        }
    }

    #[test]
    fn rfc7692_hello_examples() {
        // 7.2.3.1: a message compressed with a sync flush, tail removed.
        let mut d = Deflater::new(6, 15, false);
        assert_eq!(
            &compress(&mut d, b"Hello")[..],
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );

        let mut out = BytesMut::new();
        let mut i = Inflater::new(15, false);
        i.decompress(
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            true,
            &mut out,
            100,
        )
        .unwrap();
        assert_eq!(&out[..], b"Hello");
        // 7.2.3.2: the same message again, with the context taken over.
        out.clear();
        i.decompress(&[0xf2, 0x00, 0x11, 0x00, 0x00], true, &mut out, 100)
            .unwrap();
        assert_eq!(&out[..], b"Hello");

        // 7.2.3.1, fragmented: the two frames of one message.
        let mut i = Inflater::new(15, true);
        out.clear();
        i.decompress(&[0xf2, 0x48, 0xcd], false, &mut out, 100)
            .unwrap();
        i.decompress(&[0xc9, 0xc9, 0x07, 0x00], true, &mut out, 100)
            .unwrap();
        assert_eq!(&out[..], b"Hello");

        // 7.2.3.3: a stored block.
        out.clear();
        i.decompress(
            &[
                0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
            ],
            true,
            &mut out,
            100,
        )
        .unwrap();
        assert_eq!(&out[..], b"Hello");

        // 7.2.3.4: a block with BFINAL set, then the 0x00 byte that the tail
        // completes; the next message starts a new stream.
        let mut i = Inflater::new(15, false);
        out.clear();
        i.decompress(
            &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
            true,
            &mut out,
            100,
        )
        .unwrap();
        assert_eq!(&out[..], b"Hello");
        out.clear();
        i.decompress(
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            true,
            &mut out,
            100,
        )
        .unwrap();
        assert_eq!(&out[..], b"Hello");
        // The same without the 0x00 byte: the tail must not start a stream.
        for _ in 0..2 {
            out.clear();
            i.decompress(&[0xf3, 0x48, 0xcd], false, &mut out, 100)
                .unwrap();
            i.decompress(&[0xc9, 0xc9, 0x07, 0x00], false, &mut out, 100)
                .unwrap();
            i.decompress(&[], true, &mut out, 100).unwrap();
            assert_eq!(&out[..], b"Hello");
        }
        out.clear();
        i.decompress(
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            true,
            &mut out,
            100,
        )
        .unwrap();
        assert_eq!(&out[..], b"Hello");
    }

    #[test]
    fn context_takeover_shrinks_the_second_identical_message() {
        let msg = text_like(2000, 9);
        let mut keep = Deflater::new(6, 15, false);
        let first = compress(&mut keep, &msg).len();
        let second = compress(&mut keep, &msg).len();
        assert!(second * 4 < first, "first {first}, second {second}");

        let mut reset = Deflater::new(6, 15, true);
        let a = compress(&mut reset, &msg);
        let b = compress(&mut reset, &msg);
        assert_eq!(a, b);
        assert_eq!(a.len(), first);

        // "Hello" twice: the second one is a back-reference.
        let mut d = Deflater::new(6, 15, false);
        let one = compress(&mut d, b"Hello");
        let two = compress(&mut d, b"Hello");
        assert!(two.len() < one.len());
        let mut i = Inflater::new(15, false);
        assert_eq!(inflate_in_pieces(&mut i, &one, 0, 5).unwrap(), b"Hello");
        assert_eq!(inflate_in_pieces(&mut i, &two, 0, 5).unwrap(), b"Hello");
    }

    /// About 1 GiB of zeros in about 1 MB: one sync-flushed block of 1 MiB of
    /// zeros that only refers back to zeros, repeated.
    fn zero_bomb() -> (Vec<u8>, usize) {
        let zeros = vec![0u8; 1 << 20];
        let mut c = Compress::new_with_window_bits(Compression::new(9), false, 15);
        let mut first = BytesMut::new();
        deflate_sync(&mut c, &zeros, &mut first);
        let mut block = BytesMut::new();
        deflate_sync(&mut c, &zeros, &mut block);
        let mut bomb = first.to_vec();
        for _ in 1..1024 {
            bomb.extend_from_slice(&block);
        }
        bomb.truncate(bomb.len() - TAIL.len());
        (bomb, 1 << 30)
    }

    #[test]
    fn bomb_is_refused_while_inflating() {
        let (bomb, inflated) = zero_bomb();
        assert!(bomb.len() < 2 << 20, "bomb is {} bytes", bomb.len());

        // The construction is right: a prefix inflates to its share of zeros.
        let mut i = Inflater::new(15, true);
        let mut out = BytesMut::new();
        let prefix = bomb.len() / 64;
        i.decompress(&bomb[..prefix], false, &mut out, usize::MAX)
            .unwrap();
        assert!(
            out.len() > inflated / 128 && out.iter().all(|&b| b == 0),
            "{}",
            out.len()
        );
        i.release();

        let limit = 16 << 20;
        let mut out = BytesMut::new();
        let mut result = Ok(());
        for (n, frame) in bomb.chunks(64 * 1024).enumerate() {
            let fin = (n + 1) * 64 * 1024 >= bomb.len();
            result = i.decompress(frame, fin, &mut out, limit);
            assert!(
                out.len() <= limit + INFLATE_STEP,
                "output grew to {}",
                out.len()
            );
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(InflateError::TooLarge));
        assert_eq!(InflateError::TooLarge.close_code(), CloseCode::TOO_BIG);
        assert!(out.len() <= limit + 1);
        // Growth is amortised doubling at worst.
        assert!(
            out.capacity() <= 2 * (limit + INFLATE_STEP),
            "capacity {}",
            out.capacity()
        );

        // The inflater is usable again (for a fresh stream).
        let mut d = Deflater::new(6, 15, true);
        let c = compress(&mut d, b"after");
        assert_eq!(inflate_in_pieces(&mut i, &c, 0, 100).unwrap(), b"after");
    }

    #[test]
    fn limit_counts_the_whole_message_exactly() {
        let data = text_like(100_000, 5);
        let mut d = Deflater::new(6, 15, true);
        let c = compress(&mut d, &data);
        let mut i = Inflater::new(15, true);
        assert_eq!(inflate_in_pieces(&mut i, &c, 1, data.len()).unwrap(), data);
        assert_eq!(
            inflate_in_pieces(&mut i, &c, 2, data.len() - 1),
            Err(InflateError::TooLarge)
        );
        assert_eq!(inflate_in_pieces(&mut i, &c, 3, data.len()).unwrap(), data);
    }

    #[test]
    fn corrupt_input_is_an_error_not_a_panic() {
        let mut i = Inflater::new(15, false);
        let mut out = BytesMut::new();
        // BTYPE 11 is reserved.
        assert_eq!(
            i.decompress(&[0xff; 16], true, &mut out, 1000),
            Err(InflateError::Corrupt)
        );
        assert_eq!(InflateError::Corrupt.close_code(), CloseCode::PROTOCOL);
        // A stored block whose NLEN is not the complement of LEN.
        out.clear();
        assert_eq!(
            i.decompress(
                &[0x00, 0x05, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5],
                true,
                &mut out,
                1000
            ),
            Err(InflateError::Corrupt)
        );
        // Data after a final block.
        out.clear();
        assert_eq!(
            i.decompress(
                &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0xf2, 0x48],
                true,
                &mut out,
                1000
            ),
            Err(InflateError::Corrupt)
        );
        // Random garbage in random pieces: any outcome but a panic or a hang.
        let mut rng = Rng(12345);
        for n in 0..2000 {
            let len = rng.below(200);
            let junk = random_bytes(len, n + 1);
            let _ = inflate_in_pieces(&mut i, &junk, n, 1 << 16);
        }
        // And the inflater still works afterwards.
        let mut d = Deflater::new(6, 15, true);
        let c = compress(&mut d, b"still fine");
        let mut fresh_out = BytesMut::new();
        let mut i = Inflater::new(15, true);
        i.decompress(&c, true, &mut fresh_out, 100).unwrap();
        assert_eq!(&fresh_out[..], b"still fine");
    }

    #[test]
    fn empty_messages() {
        for takeover in [true, false] {
            let mut d = Deflater::new(6, 15, !takeover);
            let mut i = Inflater::new(15, !takeover);
            for data in [&b""[..], b"", b"abc", b"", b"abcabc", b""] {
                let c = compress(&mut d, data);
                if data.is_empty() {
                    assert_eq!(&c[..], [0x00]);
                }
                assert_eq!(inflate_in_pieces(&mut i, &c, 0, 100).unwrap(), data);
            }
            // An empty payload (some clients send it for an empty message)
            // is an empty message and leaves the stream as it was.
            let mut out = BytesMut::new();
            i.decompress(&[], true, &mut out, 100).unwrap();
            assert!(out.is_empty());
            let c = compress(&mut d, b"abc");
            assert_eq!(inflate_in_pieces(&mut i, &c, 0, 100).unwrap(), b"abc");
        }
    }

    #[test]
    fn fragments_round_trip() {
        let data = text_like(50_000, 11);
        for takeover in [true, false] {
            let mut d = Deflater::new(6, 12, !takeover);
            let mut i = Inflater::new(12, !takeover);
            for _ in 0..3 {
                let mut out = BytesMut::new();
                let pieces: Vec<&[u8]> = vec![
                    &data[..10],
                    &data[10..10],
                    &data[10..30_000],
                    &data[30_000..],
                    &[],
                ];
                for (n, piece) in pieces.iter().enumerate() {
                    let mut frame = BytesMut::new();
                    let fin = n + 1 == pieces.len();
                    d.compress_part(piece, fin, &mut frame);
                    i.decompress(&frame, fin, &mut out, usize::MAX).unwrap();
                }
                assert!(out[..] == data[..]);
            }
        }
    }

    #[test]
    fn level_changes_at_run_time() {
        let data = text_like(20_000, 4);
        let mut d = Deflater::new(0, 15, false);
        let mut i = Inflater::new(15, false);
        let stored = compress(&mut d, &data);
        assert!(stored.len() > data.len());
        assert_eq!(
            inflate_in_pieces(&mut i, &stored, 0, usize::MAX).unwrap(),
            data
        );
        d.set_level(9);
        assert_eq!(d.level(), 9);
        let other = text_like(20_000, 5);
        let best = compress(&mut d, &other);
        assert!(best.len() < other.len() / 2);
        assert_eq!(
            inflate_in_pieces(&mut i, &best, 1, usize::MAX).unwrap(),
            other
        );
        d.set_level(42);
        assert_eq!(d.level(), 9);
        d.set_level(1);
        let fast = compress(&mut d, &data);
        assert_eq!(
            inflate_in_pieces(&mut i, &fast, 2, usize::MAX).unwrap(),
            data
        );
    }

    #[test]
    fn pool_lends_state_only_during_a_message() {
        let pool = Arc::new(CodecPool::new(2));
        let mut d = Deflater::new(6, 10, true).with_pool(pool.clone());
        let mut i = Inflater::new(10, true).with_pool(pool.clone());
        assert!(!d.holds_state() && !i.holds_state());

        let c = compress(&mut d, b"pooled message");
        assert!(!d.holds_state());
        assert_eq!(pool.idle_compressors(), 1);

        // Mid-message the inflater holds a state; at the end it gives it back.
        let mut out = BytesMut::new();
        i.decompress(&c[..3], false, &mut out, 100).unwrap();
        assert!(i.holds_state());
        assert_eq!(pool.idle_decompressors(), 0);
        i.decompress(&c[3..], true, &mut out, 100).unwrap();
        assert_eq!(&out[..], b"pooled message");
        assert!(!i.holds_state());
        assert_eq!(pool.idle_decompressors(), 1);

        // A message abandoned midway, then released.
        i.decompress(&c[..3], false, &mut out, 100).unwrap();
        i.release();
        assert!(!i.holds_state());
        assert_eq!(pool.idle_decompressors(), 1);

        // The free list is bounded.
        let many: Vec<Deflater> = (0..5)
            .map(|_| {
                let mut d = Deflater::new(6, 10, true).with_pool(pool.clone());
                d.begin();
                d
            })
            .collect();
        assert_eq!(pool.idle_compressors(), 0);
        drop(many);
        assert_eq!(pool.idle_compressors(), 2);

        // A pooled compressor taken at another level still round-trips.
        let mut d9 = Deflater::new(9, 10, true).with_pool(pool.clone());
        let c = compress(&mut d9, b"other level");
        let mut out = BytesMut::new();
        i.decompress(&c, true, &mut out, 100).unwrap();
        assert_eq!(&out[..], b"other level");

        // Context takeover ignores the pool: the state is the connection's.
        let d = Deflater::new(6, 10, false).with_pool(pool.clone());
        assert!(format!("{d:?}").contains("pooled: false"));
        assert!(format!("{pool:?}").contains("max_idle: 2"));
    }

    #[test]
    fn codecs_move_between_threads_and_the_pool_is_shared() {
        fn send<T: Send>() {}
        fn send_sync<T: Send + Sync>() {}
        send::<Deflater>();
        send::<Inflater>();
        send_sync::<CodecPool>();
        send_sync::<InflateError>();
    }

    #[test]
    fn for_agreed_uses_the_negotiated_parameters() {
        use crate::deflate::{negotiate, parse_offers};
        let config = DeflateConfig::enabled()
            .server_no_context_takeover(true)
            .server_max_window_bits(9);
        let offers = parse_offers(&["permessage-deflate; client_max_window_bits=8"]);
        let agreed = negotiate(&offers, &config).unwrap();
        let d = Deflater::for_agreed(&agreed, &config);
        assert_eq!(
            (d.window_bits, d.no_context_takeover, d.level),
            (9, true, 1)
        );
        let i = Inflater::for_agreed(&agreed);
        assert_eq!((i.window_bits, i.no_context_takeover), (9, false));
    }
}
