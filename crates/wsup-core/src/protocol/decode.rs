//! The frame decoder: parse headers, check limits, unmask in place,
//! validate text as it arrives, assemble messages, over the bytes of a read
//! buffer it does not fill itself (`read_buf.rs` does). Pure: no I/O.
//!
//! A server's peer masks every frame and a client's masks none (RFC 6455
//! 5.1): which one is expected is decided when the decoder is made, and a
//! frame that is not as expected fails the connection (1002).
//!
//! A frame that arrived whole becomes a message with no copy: its payload is
//! split off the buffer as `Bytes`. Only fragmented (or compressed) messages
//! are copied, into an assembly buffer.

use bytes::{Bytes, BytesMut};

use crate::close::CloseFrame;
use crate::config::WebSocketConfig;
use crate::deflate::{InflateError, Inflated, Inflater};
use crate::error::ProtocolError;
use crate::frame::{apply_mask, FrameHeader, OpCode};
use crate::message::{Message, Utf8Bytes};
use crate::role::Role;
use crate::utf8::Utf8Validator;

use super::read_buf::{Buffered, FrameNeed, READ_WINDOW};
use super::ready::{whole_limit, Ready};

/// The frame being received.
#[derive(Debug)]
struct InFrame {
    header: FrameHeader,
    /// `None` from a server: nothing to unmask.
    mask: Option<[u8; 4]>,
    /// Payload bytes of this frame not yet handed out (those buffered included).
    remaining: usize,
    /// Buffered payload bytes at the front of the read buffer that are already
    /// unmasked and, for text, validated.
    processed: usize,
    /// Mask phase of `processed`.
    mask_offset: usize,
}

/// A fragmented data message in progress.
#[derive(Debug)]
struct Assembly {
    text: bool,
    /// RSV1 on the first frame: the payload is deflated (RFC 7692).
    compressed: bool,
    fragments: usize,
    /// Payload bytes so far, as they came (compressed, for a compressed
    /// message, whose limit counts inflated bytes instead).
    len: usize,
    /// `None` while streaming: chunks go to the application as they come.
    buf: Option<BytesMut>,
    /// Streamed, and the mode that has had pieces of it (see `decode`).
    handed_to: Option<Mode>,
    /// Streamed, and its reader is gone: the rest is discarded.
    abandoned: bool,
}

/// How the decoder hands out data messages, chosen by the call that reads
/// (and so possibly changing between calls: a receive future dropped
/// mid-message, a reader dropped). A message keeps the form it started in,
/// with two exceptions: one streamed with nothing handed out yet goes to
/// whichever mode reads next (`Messages` then gathers it whole); one of
/// which pieces went to one mode is discarded, as it arrives, once another
/// mode reads (nobody wants a message's tail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Whole messages only (`recv`).
    Messages,
    /// Every data message in pieces, as its bytes arrive (`next_message`).
    Chunks,
    /// A message in pieces, as they arrive, when its first frame carries
    /// more payload than [`PieceLimits`] allow; any other whole
    /// (`recv_chunk`).
    ChunksOver(PieceLimits),
    /// As `ChunksOver`, for `recv_each`: a run of whole messages at the
    /// front of the buffer is left there, for the caller to take in place
    /// (`Protocol::each_in_place`), and nothing is decoded ahead.
    InPlace(PieceLimits),
}

/// The most payload a message's first frame may carry for `ChunksOver` and
/// `InPlace` to hold the message whole: `binary` and `text` where that
/// frame is the whole message, uncompressed (held whole, it costs what it
/// says), `first` otherwise (the rest of a fragmented message, or what a
/// compressed one inflates to, is not known yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PieceLimits {
    pub(crate) first: usize,
    pub(crate) binary: usize,
    pub(crate) text: usize,
}

impl PieceLimits {
    /// Whether a message whose first frame has `header` comes in pieces.
    fn streams(&self, header: &FrameHeader, len: usize) -> bool {
        len > match (header.fin && !header.rsv1, header.opcode) {
            (true, OpCode::Text) => self.text,
            (true, _) => self.binary,
            (false, _) => self.first,
        }
    }
}

/// What the decoder produced.
#[derive(Debug)]
pub(crate) enum Event {
    /// A whole message (data or control).
    Message(Message),
    /// Streaming mode: a piece of a data message's payload; `end` on the last.
    Chunk {
        /// The bytes.
        data: Bytes,
        /// Text (or binary).
        text: bool,
        /// Last piece of the message.
        end: bool,
        /// On the first piece of a message that is one uncompressed frame
        /// (and not all in this piece): the frame's payload length, so that a
        /// relay can send the message on as one frame too.
        frame_len: Option<usize>,
    },
    /// `InPlace`: whole messages wait at the front of the read buffer.
    Run,
}

/// Decoding state of a connection: the frame and the message in progress.
#[derive(Debug)]
pub(crate) struct Decoder {
    frame: Option<InFrame>,
    assembly: Option<Assembly>,
    utf8: Utf8Validator,
    /// Set when permessage-deflate was negotiated: RSV1 may then be set on
    /// the first frame of a data message.
    pub(crate) inflater: Option<Inflater>,
    /// Whether the peer's frames must be masked: it is a client.
    masked_input: bool,
    /// Whole messages decoded ahead, handed out before anything else.
    ready: Ready,
}

impl Decoder {
    /// The decoder of the side in `role`.
    pub(crate) fn new(role: Role) -> Self {
        Decoder {
            frame: None,
            assembly: None,
            utf8: Utf8Validator::new(),
            inflater: None,
            masked_input: role == Role::Server,
            ready: Ready::default(),
        }
    }

    /// Whether the peer's frames must be masked (it is a client).
    #[inline]
    pub(crate) fn expects_masked(&self) -> bool {
        self.masked_input
    }

    /// Between messages, with none decoded ahead: what a run in place
    /// needs.
    #[inline]
    pub(crate) fn is_idle(&self) -> bool {
        self.frame.is_none() && self.assembly.is_none() && self.ready.is_empty()
    }

    /// A frame or a message is in progress.
    #[cfg(test)]
    pub(crate) fn in_message(&self) -> bool {
        self.frame.is_some() || self.assembly.is_some() || !self.ready.is_empty()
    }

    /// Forgets the frame and the message in progress, and the assembly
    /// buffer that holds it (the connection is over).
    pub(crate) fn release(&mut self) {
        self.frame = None;
        self.assembly = None;
        self.ready.clear();
    }

    /// The application stopped reading the message being streamed: the rest
    /// of it is discarded as it arrives.
    pub(crate) fn abandon_message(&mut self) {
        if let Some(a) = self.assembly.as_mut() {
            a.abandoned = true;
        }
    }

    /// Decodes what the buffer holds. `Ok(None)`: more bytes are needed.
    ///
    /// `mode` says which data messages are handed out in pieces as they
    /// arrive, and which whole.
    pub(crate) fn decode(
        &mut self,
        buf: &mut Buffered<'_>,
        cfg: &WebSocketConfig,
        mode: Mode,
    ) -> Result<Option<Event>, ProtocolError> {
        if let Some(event) = self.next_ready(mode) {
            return Ok(Some(event));
        }
        if self.frame.is_none() && self.assembly.is_none() {
            // Whole messages only where `mode` takes them whole: a
            // message is streamed in `Chunks`, and in `ChunksOver` one of
            // more than `binary` bytes is left to the general path (which
            // holds text whole up to its own limit).
            let single = match mode {
                Mode::Messages => usize::MAX,
                Mode::Chunks | Mode::InPlace(_) => 0,
                Mode::ChunksOver(limits) => limits.binary.min(limits.text),
            };
            let limit = single.min(whole_limit(cfg));
            if single > 0 && self.ready.scan(buf, self.masked_input, limit) {
                if let Some(event) = self.next_ready(mode) {
                    return Ok(Some(event));
                }
            }
        }
        loop {
            if self.frame.is_none() && !self.start_frame(buf, cfg, mode)? {
                return Ok(None);
            }
            let f = self.frame.as_mut().expect("frame started");
            let is_text = match f.header.opcode {
                OpCode::Text => true,
                OpCode::Continuation => self.assembly.as_ref().is_some_and(|a| a.text),
                _ => false,
            };
            let compressed = !f.header.opcode.is_control()
                && self.assembly.as_ref().is_some_and(|a| a.compressed);
            // Unmask (and validate) what arrived since last time.
            let avail = buf.len().min(f.remaining);
            if avail > f.processed {
                let fresh = &mut buf[f.processed..avail];
                if let Some(mask) = f.mask {
                    f.mask_offset = apply_mask(fresh, mask, f.mask_offset);
                }
                // Compressed text is validated after inflating.
                if is_text && !compressed && self.utf8.feed(fresh).is_err() {
                    return Err(ProtocolError::InvalidUtf8);
                }
                f.processed = avail;
            }
            let control = f.header.opcode.is_control();
            // A streamed data message: discarded, if nobody reads it any
            // more; else handed out in pieces.
            let streamed = match self.assembly.as_mut() {
                Some(a) if !control && a.buf.is_none() => {
                    if !a.abandoned {
                        match a.handed_to {
                            // Nothing of it handed out yet: `recv` takes it whole.
                            None if mode == Mode::Messages => a.buf = Some(BytesMut::new()),
                            Some(m) if m != mode => a.abandoned = true,
                            _ => {}
                        }
                    }
                    a.buf.is_none().then_some(a.abandoned)
                }
                _ => None,
            };
            if let Some(abandoned) = streamed {
                // Output zlib still has for input it took is handed out
                // before more input is awaited.
                let pending = compressed
                    && self
                        .inflater
                        .as_ref()
                        .is_some_and(Inflater::has_pending_output);
                if f.processed == 0 && f.remaining > 0 && !pending {
                    return Ok(None);
                }
                let fin = f.header.fin;
                // Fits in usize: it is under max_frame_size.
                let frame_total = f.header.payload_len as usize;
                let (data, frame_done) = if compressed {
                    // At most a read window inflated per piece, however far
                    // the input would inflate: what zlib was not asked for
                    // yet stays in the read buffer for the next piece.
                    let last = fin && f.processed == f.remaining;
                    let mut out = BytesMut::new();
                    let Inflated { consumed, done } = inflate_into(
                        &mut self.inflater,
                        &mut self.utf8,
                        &buf[..f.processed],
                        last,
                        Limits {
                            message: cfg.max_message_size,
                            piece: READ_WINDOW,
                        },
                        is_text,
                        &mut out,
                    )?;
                    buf.advance(consumed);
                    f.remaining -= consumed;
                    f.processed -= consumed;
                    (out.freeze(), f.remaining == 0 && done)
                } else {
                    let take = f.processed;
                    let data = buf.split_to(take).freeze();
                    f.remaining -= take;
                    f.processed = 0;
                    (data, f.remaining == 0)
                };
                if frame_done {
                    self.frame = None;
                }
                let end = frame_done && fin;
                if end {
                    if is_text && self.utf8.finish().is_err() {
                        return Err(ProtocolError::InvalidUtf8);
                    }
                    self.assembly = None;
                }
                // Nobody reads this message any more, or this piece is
                // empty: on to the next.
                if abandoned || (data.is_empty() && !end) {
                    continue;
                }
                let mut frame_len = None;
                if let Some(a) = self.assembly.as_mut() {
                    if a.handed_to.is_none() && a.fragments == 1 && fin && !compressed {
                        frame_len = Some(frame_total);
                    }
                    a.handed_to = Some(mode);
                }
                return Ok(Some(Event::Chunk {
                    data,
                    text: is_text,
                    end,
                    frame_len,
                }));
            }
            if buf.len() < f.remaining {
                return Ok(None);
            }
            let header = f.header;
            let payload = buf.split_to(f.remaining).freeze();
            self.frame = None;
            if let Some(msg) = self.finish_frame(header, payload, is_text, cfg.max_message_size)? {
                return Ok(Some(Event::Message(msg)));
            }
        }
    }

    /// The next whole message decoded ahead (see `ready.rs`), as `mode`
    /// hands it out: a message, or in `Chunks` a piece that is the whole of
    /// one (as the general path hands out a frame that arrived whole).
    #[inline(always)]
    fn next_ready(&mut self, mode: Mode) -> Option<Event> {
        let (data, text) = self.ready.pop()?;
        Some(match mode {
            Mode::Chunks => Event::Chunk {
                frame_len: Some(data.len()),
                data,
                text,
                end: true,
            },
            _ if text => Event::Message(Message::Text(Utf8Bytes::from_validated(data))),
            _ => Event::Message(Message::Binary(data)),
        })
    }

    /// The next whole message decoded ahead, `(payload, text)`: the fast
    /// path of a receive, for the modes that hand whole messages out.
    #[inline(always)]
    pub(crate) fn pop_ready(&mut self) -> Option<(Bytes, bool)> {
        self.ready.pop()
    }

    /// Forgets what was decoded ahead (input discarded).
    pub(crate) fn discard_ready(&mut self) {
        self.ready.clear();
    }

    /// Parses and checks the next header. `Ok(false)`: not all here yet.
    fn start_frame(
        &mut self,
        buf: &mut Buffered<'_>,
        cfg: &WebSocketConfig,
        mode: Mode,
    ) -> Result<bool, ProtocolError> {
        let Some((header, header_len)) = FrameHeader::parse(buf)? else {
            return Ok(false);
        };
        if header.mask.is_some() != self.masked_input {
            return Err(if self.masked_input {
                ProtocolError::UnmaskedFrame
            } else {
                ProtocolError::MaskedFrame
            });
        }
        if header.rsv23 != 0 || (header.rsv1 && self.inflater.is_none()) {
            return Err(ProtocolError::ReservedBits);
        }
        if header.payload_len > cfg.max_frame_size as u64 {
            return Err(ProtocolError::FrameTooLarge {
                len: header.payload_len,
                limit: cfg.max_frame_size,
            });
        }
        // Fits in usize: it is under max_frame_size.
        let len = header.payload_len as usize;
        match header.opcode {
            OpCode::Text | OpCode::Binary => {
                if self.assembly.is_some() {
                    return Err(ProtocolError::ExpectedContinuation);
                }
                // Compressed, the limit counts inflated bytes (checked while
                // inflating): an incompressible message of the limit is a
                // frame a little over it.
                if !header.rsv1 && len > cfg.max_message_size {
                    return Err(ProtocolError::MessageTooLarge {
                        limit: cfg.max_message_size,
                    });
                }
                let streaming = match mode {
                    Mode::Messages => false,
                    Mode::Chunks => true,
                    Mode::ChunksOver(limits) | Mode::InPlace(limits) => {
                        limits.streams(&header, len)
                    }
                };
                // Compressed messages are always inflated into an assembly
                // buffer; uncompressed single frames need none (no copy).
                if !header.fin || streaming || header.rsv1 {
                    self.assembly = Some(Assembly {
                        text: header.opcode == OpCode::Text,
                        compressed: header.rsv1,
                        fragments: 1,
                        len,
                        buf: if streaming {
                            None
                        } else {
                            Some(BytesMut::new())
                        },
                        handed_to: None,
                        abandoned: false,
                    });
                }
                self.utf8.reset();
            }
            OpCode::Continuation => {
                let Some(a) = self.assembly.as_mut() else {
                    return Err(ProtocolError::UnexpectedContinuation);
                };
                // RSV1 belongs on the first frame of a message only.
                if header.rsv1 {
                    return Err(ProtocolError::ReservedBits);
                }
                a.fragments += 1;
                if a.fragments > cfg.max_fragments {
                    return Err(ProtocolError::TooManyFragments {
                        limit: cfg.max_fragments,
                    });
                }
                a.len += len;
                if !a.compressed && a.len > cfg.max_message_size {
                    return Err(ProtocolError::MessageTooLarge {
                        limit: cfg.max_message_size,
                    });
                }
            }
            OpCode::Close | OpCode::Ping | OpCode::Pong => {
                if header.rsv1 {
                    return Err(ProtocolError::ReservedBits);
                }
            }
        }
        buf.advance(header_len);
        self.frame = Some(InFrame {
            header,
            mask: header.mask,
            remaining: len,
            processed: 0,
            mask_offset: 0,
        });
        Ok(true)
    }

    /// A frame is complete (message mode): produce a message, or keep assembling.
    fn finish_frame(
        &mut self,
        header: FrameHeader,
        payload: Bytes,
        is_text: bool,
        limit: usize,
    ) -> Result<Option<Message>, ProtocolError> {
        match header.opcode {
            OpCode::Ping => Ok(Some(Message::Ping(payload))),
            OpCode::Pong => Ok(Some(Message::Pong(payload))),
            OpCode::Close => Ok(Some(Message::Close(CloseFrame::decode(&payload)?))),
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                let Decoder {
                    assembly,
                    inflater,
                    utf8,
                    ..
                } = self;
                let Some(a) = assembly.as_mut() else {
                    // A whole message in one frame: no copy.
                    return Ok(Some(if is_text {
                        self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                        Message::Text(Utf8Bytes::from_validated(payload))
                    } else {
                        Message::Binary(payload)
                    }));
                };
                match a.buf.as_mut() {
                    // Not reached: `decode` hands a streamed message's frames
                    // out (or discards them) piece by piece as they arrive.
                    None => Ok(None),
                    Some(buf) => {
                        if a.compressed {
                            let limits = Limits {
                                message: limit,
                                piece: usize::MAX,
                            };
                            inflate_into(
                                inflater, utf8, &payload, header.fin, limits, a.text, buf,
                            )?;
                        } else {
                            crate::frame::extend_plain(buf, &payload);
                        }
                        if !header.fin {
                            return Ok(None);
                        }
                        let a = self.assembly.take().expect("checked above");
                        let data = a.buf.unwrap_or_default().freeze();
                        if a.text {
                            self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                            Ok(Some(Message::Text(Utf8Bytes::from_validated(data))))
                        } else {
                            Ok(Some(Message::Binary(data)))
                        }
                    }
                }
            }
        }
    }

    /// What the frame in progress still needs, with `buffered` bytes in
    /// the read buffer: what the read strategy sizes the next read by.
    pub(crate) fn need(&self, buffered: usize) -> FrameNeed {
        match &self.frame {
            Some(f) => FrameNeed {
                needed: f.remaining.saturating_sub(buffered),
                in_frame: true,
                large: f.header.payload_len >= READ_WINDOW as u64,
            },
            None => FrameNeed::default(),
        }
    }
}

/// How much inflating may produce: the whole message, and one call.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// The message size limit, counted in inflated bytes.
    message: usize,
    /// The most this call appends to `out` (see [`Inflater::decompress_some`]).
    piece: usize,
}

/// Inflates one piece of a compressed message into `out`, validating text
/// as it comes out. The limit counts inflated bytes and is checked while
/// inflating, so a small frame cannot expand past it (a deflate bomb).
fn inflate_into(
    inflater: &mut Option<Inflater>,
    utf8: &mut Utf8Validator,
    input: &[u8],
    fin: bool,
    limits: Limits,
    text: bool,
    out: &mut BytesMut,
) -> Result<Inflated, ProtocolError> {
    let inflater = inflater.as_mut().ok_or(ProtocolError::ReservedBits)?;
    let before = out.len();
    let limit = limits.message;
    let inflated = inflater
        .decompress_some(input, fin, out, limit, limits.piece)
        .map_err(|e| match e {
            InflateError::TooLarge => ProtocolError::MessageTooLarge { limit },
            _ => ProtocolError::InvalidCompressedData,
        })?;
    if text && utf8.feed(&out[before..]).is_err() {
        return Err(ProtocolError::InvalidUtf8);
    }
    Ok(inflated)
}
