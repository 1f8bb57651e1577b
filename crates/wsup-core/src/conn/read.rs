//! The read half of the engine: fill the buffer, parse headers, check limits,
//! unmask in place, validate text as it arrives, assemble messages.
//!
//! One read fills the buffer with as many frames as the kernel has; frames
//! are decoded from it until it runs dry. A frame that arrived whole becomes
//! a message with no copy: its payload is split off the read buffer as
//! `Bytes`. Only fragmented messages are copied, into an assembly buffer.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures_io::AsyncRead;

use crate::close::CloseFrame;
use crate::config::WebSocketConfig;
use crate::deflate::{InflateError, Inflater};
use crate::error::ProtocolError;
use crate::frame::{apply_mask, FrameHeader, OpCode};
use crate::message::{Message, Utf8Bytes};
use crate::utf8::Utf8Validator;

use super::window::Initialised;

/// Largest slice handed to one `poll_read`. The slice must be initialised
/// first (see `window.rs`), so this also bounds the zeroing per call; it
/// bounds the pieces of a message received in chunks, too.
pub(crate) const READ_WINDOW: usize = 256 * 1024;

/// The first read of a connection that holds no read buffer yet goes to a
/// stack array of this size (see `poll_fill`).
const PROBE: usize = 1024;

/// The frame being received.
#[derive(Debug)]
struct InFrame {
    header: FrameHeader,
    mask: [u8; 4],
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
    /// more than `single` payload bytes if it is the whole message,
    /// uncompressed, or more than `first` otherwise; any other whole
    /// (`recv_chunk`).
    ChunksOver { first: usize, single: usize },
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
}

/// Read-side state of a connection.
#[derive(Debug)]
pub(crate) struct Reader {
    pub(crate) buf: BytesMut,
    frame: Option<InFrame>,
    assembly: Option<Assembly>,
    utf8: Utf8Validator,
    /// Set when permessage-deflate was negotiated: RSV1 may then be set on
    /// the first frame of a data message.
    pub(crate) inflater: Option<Inflater>,
    /// How much to offer each read (see `poll_fill`).
    read_hint: usize,
    /// How much of `buf`'s spare capacity is initialised already.
    init: Initialised,
    /// `buf`'s capacity (from its data on) after it last grew: what it is
    /// rewound to between frames. Zero: no buffer was ever allocated.
    full_capacity: usize,
}

impl Reader {
    pub(crate) fn new(leftover: Bytes, cfg: &WebSocketConfig) -> Self {
        // Allocated when the first bytes arrive, so a connection that has
        // received nothing (most, on a push server) holds no read buffer.
        let mut buf = BytesMut::new();
        if !leftover.is_empty() {
            buf.reserve(cfg.read_buffer_size.max(leftover.len()));
            buf.extend_from_slice(&leftover);
        }
        Reader {
            full_capacity: buf.capacity(),
            buf,
            frame: None,
            assembly: None,
            utf8: Utf8Validator::new(),
            inflater: None,
            read_hint: cfg.read_buffer_size,
            init: Initialised::default(),
        }
    }

    /// The application stopped reading the message being streamed: the rest
    /// of it is discarded as it arrives.
    pub(crate) fn abandon_message(&mut self) {
        if let Some(a) = self.assembly.as_mut() {
            a.abandoned = true;
        }
    }

    /// Frees the read buffer (the connection is closed).
    pub(crate) fn release_buffer(&mut self) {
        self.buf = BytesMut::new();
        // The old allocation is gone; a new one could end where it did.
        self.init = Initialised::default();
    }

    /// Decodes what the buffer holds. `Ok(None)`: more bytes are needed.
    ///
    /// `mode` says which data messages are handed out in pieces as they
    /// arrive, and which whole.
    pub(crate) fn decode(
        &mut self,
        cfg: &WebSocketConfig,
        mode: Mode,
    ) -> Result<Option<Event>, ProtocolError> {
        loop {
            if self.frame.is_none() && !self.start_frame(cfg, mode)? {
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
            let avail = self.buf.len().min(f.remaining);
            if avail > f.processed {
                let fresh = &mut self.buf[f.processed..avail];
                f.mask_offset = apply_mask(fresh, f.mask, f.mask_offset);
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
                if f.processed == 0 && f.remaining > 0 {
                    return Ok(None);
                }
                let take = f.processed;
                let mut data = self.buf.split_to(take).freeze();
                f.remaining -= take;
                f.processed = 0;
                let frame_done = f.remaining == 0;
                let fin = f.header.fin;
                // Fits in usize: it is under max_frame_size.
                let frame_total = f.header.payload_len as usize;
                if frame_done {
                    self.frame = None;
                }
                let end = frame_done && fin;
                if compressed {
                    let mut out = BytesMut::new();
                    inflate_into(
                        &mut self.inflater,
                        &mut self.utf8,
                        &data,
                        end,
                        cfg.max_message_size,
                        is_text,
                        &mut out,
                    )?;
                    data = out.freeze();
                }
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
            if self.buf.len() < f.remaining {
                return Ok(None);
            }
            let header = f.header;
            let payload = self.buf.split_to(f.remaining).freeze();
            self.frame = None;
            if let Some(msg) = self.finish_frame(header, payload, is_text, cfg.max_message_size)? {
                return Ok(Some(Event::Message(msg)));
            }
        }
    }

    /// Parses and checks the next header. `Ok(false)`: not all here yet.
    fn start_frame(&mut self, cfg: &WebSocketConfig, mode: Mode) -> Result<bool, ProtocolError> {
        let Some((header, header_len)) = FrameHeader::parse(&self.buf)? else {
            return Ok(false);
        };
        let Some(mask) = header.mask else {
            return Err(ProtocolError::UnmaskedFrame);
        };
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
                if len > cfg.max_message_size {
                    return Err(ProtocolError::MessageTooLarge {
                        limit: cfg.max_message_size,
                    });
                }
                let streaming = match mode {
                    Mode::Messages => false,
                    Mode::Chunks => true,
                    Mode::ChunksOver { first, single } => {
                        // Held whole, a single uncompressed frame costs what
                        // it says; the rest of a fragmented message, or what
                        // a compressed one inflates to, is not known yet.
                        len > if header.fin && !header.rsv1 {
                            single
                        } else {
                            first
                        }
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
                if a.len > cfg.max_message_size {
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
        self.buf.advance(header_len);
        self.frame = Some(InFrame {
            header,
            mask,
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
                let Reader {
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
                            inflate_into(inflater, utf8, &payload, header.fin, limit, a.text, buf)?;
                        } else {
                            buf.extend_from_slice(&payload);
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

    /// Payload bytes the frame in progress still needs beyond the buffer.
    fn needed(&self) -> usize {
        match &self.frame {
            Some(f) => f.remaining.saturating_sub(self.buf.len()),
            None => 0,
        }
    }

    /// `(want, room)`: what the next read would like to be offered, and the
    /// spare capacity below which the buffer must be made room in first,
    /// given what the frame in progress still `needed`.
    fn sizes(&self, needed: usize, cfg: &WebSocketConfig) -> (usize, usize) {
        // Grow toward what the current frame needs, at most doubling per step,
        // so memory follows the bytes that actually arrived and never a length
        // the peer merely declared.
        let grow = needed.min(self.buf.capacity().max(cfg.read_buffer_size));
        // The read window adapts to the traffic: it doubles (up to
        // READ_WINDOW) while reads fill it, so a burst of small frames is
        // taken in one syscall, and shrinks again when reads come back small.
        // Never below `read_buffer_size`: it starts there and decays to it.
        let hint = self.read_hint;
        let want = grow.max(hint).max(1);
        // Room is made only when the read cannot proceed without it: for a
        // frame in progress, when what it still needs does not fit. (Asking
        // for a whole window regardless reallocated the buffer, copying its
        // 1 MiB, to read the last 14 bytes of a 1 MiB frame: 17% of that
        // echo's profile.)
        let room = if needed > 0 { needed.min(want) } else { want };
        (want, room)
    }

    fn lacks_room(&self, room: usize) -> bool {
        self.buf.capacity() - self.buf.len() < room.min(READ_WINDOW)
    }

    /// The next read must first make room in the buffer. While output that
    /// shares the buffer is queued, that means a new allocation (zeroed for
    /// its first reads, the partial frame copied over); written out first,
    /// the buffer is ours again and is reused in place.
    pub(crate) fn needs_room(&self, cfg: &WebSocketConfig) -> bool {
        self.full_capacity > 0 && self.lacks_room(self.sizes(self.needed(), cfg).1)
    }

    /// Reads more bytes. `Ready(Ok(0))` is end of stream.
    pub(crate) fn poll_fill<T: AsyncRead + Unpin>(
        &mut self,
        io: &mut T,
        cx: &mut Context<'_>,
        cfg: &WebSocketConfig,
    ) -> Poll<io::Result<usize>> {
        if self.full_capacity == 0 {
            // Wait for the first bytes on the stack: an idle connection keeps
            // no buffer (`read_buffer_size` bytes, 4 KiB by default) while it
            // waits, which is most of what 10 000 idle connections cost.
            let mut probe = [0u8; PROBE];
            let res = Pin::new(io).poll_read(cx, &mut probe);
            if let Poll::Ready(Ok(n @ 1..)) = res {
                self.buf.reserve(cfg.read_buffer_size.max(n));
                self.buf.extend_from_slice(&probe[..n]);
                self.full_capacity = self.buf.capacity();
            }
            return res;
        }
        let needed = self.needed();
        let (want, room) = self.sizes(needed, cfg);
        if self.frame.is_none() && self.buf.is_empty() && self.buf.capacity() < self.full_capacity {
            // Between frames with nothing buffered: rewind to the start of
            // the allocation, which moves no bytes, so the next frame gets
            // all of it. Left where it was, a 1 MiB frame would start in the
            // second half of a 2 MiB buffer, run 14 bytes short, and be
            // shifted whole to the front. Fails harmlessly (never allocates)
            // while a message handed out still shares the allocation.
            let _ = self.buf.try_reclaim(self.full_capacity);
        }
        if self.lacks_room(room) {
            // Reclaims the consumed front of the buffer when nothing else
            // holds it, so this allocates only when messages are still alive.
            self.buf.reserve(want);
            self.full_capacity = self.buf.capacity();
        }
        let len = self.buf.len();
        // Offer what we want, or more where the spare capacity is initialised
        // already and so costs nothing to offer; zeroing happens at most once
        // per byte of an allocation (`window.rs`).
        let mut window = want.max(self.init.spare(&self.buf)).min(READ_WINDOW);
        if self
            .frame
            .as_ref()
            .is_some_and(|f| f.header.payload_len >= READ_WINDOW as u64)
        {
            // A large frame is read up to its end and no further. Bytes read
            // past it would start the next frame at the far end of the
            // buffer, to be shifted to the front (or copied to a new buffer)
            // once they no longer fit. Stopping at the boundary leaves the
            // buffer empty, so the next frame starts at the front (the rewind
            // above), for at most one more read per large frame.
            window = window.min(needed.max(1));
        }
        self.init.extend(&mut self.buf, window);
        let window = self.buf.len() - len;
        let res = Pin::new(io).poll_read(cx, &mut self.buf[len..]);
        let n = match &res {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        self.buf.truncate(len + n);
        let hint = self.read_hint;
        if n == window && window >= hint {
            self.read_hint = (hint * 2).min(READ_WINDOW);
        } else if n > 0 && n < hint / 8 {
            self.read_hint = (hint / 2).max(cfg.read_buffer_size);
        }
        res
    }
}

/// Inflates one piece of a compressed message into `out`, validating text
/// as it comes out. The limit counts inflated bytes and is checked while
/// inflating, so a small frame cannot expand past it (a deflate bomb).
#[allow(clippy::too_many_arguments)]
fn inflate_into(
    inflater: &mut Option<Inflater>,
    utf8: &mut Utf8Validator,
    input: &[u8],
    fin: bool,
    limit: usize,
    text: bool,
    out: &mut BytesMut,
) -> Result<(), ProtocolError> {
    let inflater = inflater.as_mut().ok_or(ProtocolError::ReservedBits)?;
    let before = out.len();
    inflater
        .decompress(input, fin, out, limit)
        .map_err(|e| match e {
            InflateError::TooLarge => ProtocolError::MessageTooLarge { limit },
            _ => ProtocolError::InvalidCompressedData,
        })?;
    if text && utf8.feed(&out[before..]).is_err() {
        return Err(ProtocolError::InvalidUtf8);
    }
    Ok(())
}
