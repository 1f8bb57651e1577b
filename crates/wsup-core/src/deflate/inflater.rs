//! [`Inflater`]: decompresses the messages the server receives (RFC 7692
//! section 7.2.2), holding each message under a size limit *while*
//! inflating, and [`InflateError`], why a message could not be inflated.
//!
//! The zlib state is held only while needed (see [`pool`](super::pool)):
//! [`Inflater::decompress`] takes it on the first piece of a message and,
//! without context takeover, gives it back on the piece with `fin`. A
//! message abandoned midway is released with [`Inflater::release`], or when
//! the inflater is dropped.

use std::sync::Arc;

use bytes::BytesMut;
use flate2::{Decompress, Status};

use super::config::{clamp_bits, Agreed};
use super::pool::{new_decompressor, CodecPool};
use super::step::step;
use super::TAIL;

/// The most output the inflater asks zlib for in one call, so the unit in
/// which the output buffer grows. A message is refused as soon as it passes
/// its limit, so at most one byte of it lies past the limit.
pub const INFLATE_STEP: usize = 32 * 1024;

/// Why a compressed message could not be inflated. Either way the message is
/// lost and the connection fails: the decoder reports it as
/// [`ProtocolError::MessageTooLarge`](crate::ProtocolError::MessageTooLarge)
/// (1009) or
/// [`ProtocolError::InvalidCompressedData`](crate::ProtocolError::InvalidCompressedData)
/// (1002), whose close codes are decided with every other error's.
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

/// Decompresses the messages the server receives (client → server).
///
/// Fed each frame's payload as it arrives; the total inflated size of a
/// message is held under a limit *while* inflating, so a small message that
/// would inflate to gigabytes is refused after at most one
/// [`INFLATE_STEP`] past the limit.
#[derive(Debug)]
pub struct Inflater {
    state: Option<Decompress>,
    pub(super) window_bits: u8,
    pub(super) no_context_takeover: bool,
    pool: Option<Arc<CodecPool>>,
    /// Bytes inflated for the current message.
    produced: usize,
    /// Whether the current message had any compressed input.
    fed: bool,
    /// The input so far ended exactly at the end of a final (BFINAL) block.
    just_ended: bool,
    /// The last call stopped at the most it could hand out, so zlib may have
    /// more output for the input it took (see [`Inflater::decompress_some`]).
    pending: bool,
}

impl Inflater {
    /// A decompressor for a stream made with at most `window_bits` (a value
    /// below 9 is read with 9, which decodes it; above 15 is clamped) that
    /// resets after each message if `no_context_takeover`. No zlib state is
    /// allocated until the first compressed message.
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Self {
        Inflater {
            state: None,
            window_bits: clamp_bits(window_bits),
            no_context_takeover,
            pool: None,
            produced: 0,
            fed: false,
            just_ended: false,
            pending: false,
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

    /// The LZ77 window (base-2 logarithm) it decompresses with.
    pub fn window_bits(&self) -> u8 {
        self.window_bits
    }

    /// Whether it resets after each message.
    pub fn no_context_takeover(&self) -> bool {
        self.no_context_takeover
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
        self.decompress_some(input, fin, out, limit, usize::MAX)
            .map(drop)
    }

    /// [`decompress`](Self::decompress), appending at most `most` bytes to
    /// `out`: what a piece of a message received in chunks may hold, however
    /// far its input would inflate. Stopped there, it takes only part of
    /// `input` (or all of it, with output still to come); call it again with
    /// the rest of the input (empty if none) and the same `fin` rule: `fin`
    /// when that input is all that is left of the message.
    pub(crate) fn decompress_some(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut BytesMut,
        limit: usize,
        most: usize,
    ) -> Result<Inflated, InflateError> {
        // With no input and no output pending, zlib has nothing to do.
        let inflated = if input.is_empty() && !self.pending {
            Ok(Inflated {
                consumed: 0,
                done: true,
            })
        } else {
            self.fed |= !input.is_empty();
            self.inflate(input, out, limit, most)
        };
        let result = inflated.and_then(|inflated| {
            // Only a message with compressed data gets the tail: for an empty
            // payload it would be read as the start of a stored block. It
            // goes in once all the input is out, and inflates to nothing.
            if fin && inflated.done && self.fed {
                self.feed_tail(out, limit)?;
            }
            Ok(inflated)
        });
        match result {
            Ok(Inflated { done: true, .. }) if fin => self.end_message(),
            Ok(_) => {}
            Err(_) => self.release(),
        }
        result
    }

    /// The last call handed out the most it could: there may be output
    /// left for input already taken, so the next call must be made even
    /// without new input.
    pub(crate) fn has_pending_output(&self) -> bool {
        self.pending
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

    /// Lets go of the zlib state, context and all (the connection is over):
    /// a pooled one, even in the middle of a message, goes back to its pool,
    /// an own one is freed.
    pub(crate) fn free(&mut self) {
        self.clear_message();
        let state = self.state.take();
        if let (Some(d), Some(pool)) = (state, &self.pool) {
            pool.give_decompressor(self.window_bits, d);
        }
    }

    fn clear_message(&mut self) {
        self.produced = 0;
        self.fed = false;
        self.just_ended = false;
        self.pending = false;
    }

    fn end_message(&mut self) {
        if self.no_context_takeover {
            self.release();
        } else {
            self.clear_message();
        }
    }

    fn feed_tail(&mut self, out: &mut BytesMut, limit: usize) -> Result<(), InflateError> {
        if self.just_ended {
            // The client's data ended with a final block and nothing after:
            // the tail would begin a new stream and leave it mid-block.
            return Ok(());
        }
        // No output is pending (all input is out), so the tail, an empty
        // stored block, inflates to nothing and needs no `most`.
        self.inflate(&TAIL, out, limit, usize::MAX).map(drop)
    }

    fn inflate(
        &mut self,
        input: &[u8],
        out: &mut BytesMut,
        limit: usize,
        most: usize,
    ) -> Result<Inflated, InflateError> {
        let window_bits = self.window_bits;
        let d = match &mut self.state {
            Some(d) => d,
            state @ None => state.insert(match &self.pool {
                Some(pool) => pool.take_decompressor(window_bits),
                None => new_decompressor(window_bits),
            }),
        };
        let (mut rest, start) = (input, out.len());
        let done = |rest: &[u8], pending: &mut bool, done: bool| {
            *pending = !done;
            Ok(Inflated {
                consumed: input.len() - rest.len(),
                done,
            })
        };
        loop {
            let budget = most - (out.len() - start);
            if budget == 0 {
                return done(rest, &mut self.pending, false);
            }
            // Allow one byte past the limit, to tell "exactly at the limit"
            // from "over it".
            let allowed = limit.saturating_sub(self.produced).saturating_add(1);
            // Small first steps for small inputs, so a short message does not
            // zero a whole step of buffer.
            let room = INFLATE_STEP
                .min(allowed)
                .min(budget)
                .min(rest.len().saturating_mul(8).max(1024));
            let (consumed, produced, result) = step(d, rest, out, room);
            rest = &rest[consumed..];
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
                    self.just_ended = rest.is_empty();
                    if rest.is_empty() {
                        return done(rest, &mut self.pending, true);
                    }
                }
                // Output space left over: all input consumed and flushed.
                Ok(_) if rest.is_empty() && produced < room => {
                    return done(rest, &mut self.pending, true)
                }
                Ok(_) if consumed == 0 && produced == 0 => {
                    // No progress with both input and output space: nothing
                    // was pending; with input left, cannot happen with zlib,
                    // but never spin.
                    return if rest.is_empty() {
                        done(rest, &mut self.pending, true)
                    } else {
                        Err(InflateError::Corrupt)
                    };
                }
                Ok(_) => {}
            }
        }
    }
}

/// How far [`Inflater::decompress_some`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inflated {
    /// Bytes of the input taken; the rest must be given again.
    pub(crate) consumed: usize,
    /// All the input taken and all its output handed out (and, with `fin`,
    /// the message ended).
    pub(crate) done: bool,
}

impl Drop for Inflater {
    fn drop(&mut self) {
        self.free();
    }
}
