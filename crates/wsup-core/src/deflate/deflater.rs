//! [`Deflater`]: compresses the messages the server sends (RFC 7692
//! section 7.2.1).
//!
//! The zlib state is held only while needed (see [`pool`](super::pool)):
//! [`Deflater::compress`] (or the first [`Deflater::compress_part`] of a
//! message) takes it, the call that ends the message gives it back when
//! there is no context takeover. A message abandoned midway is released with
//! [`Deflater::release`], or when the deflater is dropped.

use std::sync::Arc;

use bytes::BytesMut;
use flate2::{Compress, Compression, Status};

use super::config::{clamp_bits, Agreed, DeflateConfig};
use super::pool::{new_compressor, CodecPool};
use super::step::step;
use super::TAIL;

/// Compresses the messages the server sends (server → client).
///
/// Each message becomes raw DEFLATE data ending in a sync flush, with the
/// final `00 00 ff ff` removed (RFC 7692 section 7.2.1).
#[derive(Debug)]
pub struct Deflater {
    state: Option<Compress>,
    /// The level `state` currently compresses with.
    state_level: u32,
    /// The level wanted from the next message on.
    pub(super) level: u32,
    pub(super) window_bits: u8,
    pub(super) no_context_takeover: bool,
    pool: Option<Arc<CodecPool>>,
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
            window_bits: clamp_bits(window_bits),
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

    /// The LZ77 window (base-2 logarithm) it compresses with.
    pub fn window_bits(&self) -> u8 {
        self.window_bits
    }

    /// Whether it resets after each message.
    pub fn no_context_takeover(&self) -> bool {
        self.no_context_takeover
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

    /// Lets go of the zlib state, context and all (the connection is over):
    /// a pooled one goes back to its pool, an own one is freed. A message
    /// after this starts a new stream.
    pub(crate) fn free(&mut self) {
        let state = self.state.take();
        if let (Some(c), Some(pool)) = (state, &self.pool) {
            pool.give_compressor(self.window_bits, self.state_level, c);
        }
    }
}

impl Drop for Deflater {
    fn drop(&mut self) {
        self.free();
    }
}

/// The most output space offered to zlib in one call.
const DEFLATE_STEP: usize = 256 * 1024;

/// Runs zlib with a sync flush over all of `input`, appending to `out`.
pub(super) fn deflate_sync(c: &mut Compress, mut input: &[u8], out: &mut BytesMut) {
    loop {
        // Room for incompressible input plus the block overhead, up to a
        // step; zlib is called again if it was not enough. The step keeps
        // `out` in proportion to the output: a large input that compresses
        // well must not leave a large buffer behind.
        let room = (input.len() + input.len() / 8 + 64).min(DEFLATE_STEP);
        let (consumed, produced, result) = step(c, input, out, room);
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
