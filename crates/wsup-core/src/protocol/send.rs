//! The sending side of the protocol: data messages whole or in pieces,
//! relayed frames, prepared messages, compression on the way out, and the
//! checks that keep the output well-formed (one message in pieces at a time,
//! text that is UTF-8, control frames that fit).

use bytes::{Bytes, BytesMut};

use super::queue::{OutQueue, COPY_LIMIT};
use super::read_buf::READ_WINDOW;
use super::{Phase, Protocol};
use crate::close::CloseFrame;
use crate::deflate::{
    Agreed, ContextPermit, DeflateConfig, Deflater, Inflater, ServerShare, MIN_WINDOW_BITS,
};
use crate::error::Error;
use crate::frame::OpCode;
use crate::message::{Chunk, ChunkParts, Message, MessageKind};
use crate::prepared::PreparedMessage;

/// Who is sending a data message in pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sending {
    /// A `MessageWriter`.
    Writer,
    /// `feed_chunk`; `failed` once a chunk of it was refused for its text,
    /// after which the message can never be finished.
    Chunks { kind: MessageKind, failed: bool },
    /// `feed_chunk`, a binary message relayed as the one frame it arrived
    /// in: its header is queued, and the writer counts the payload bytes
    /// still to come (`OutQueue::owed`).
    Frame,
}

/// The sending side of permessage-deflate on one connection.
#[derive(Debug)]
pub(crate) struct DeflateState {
    pub(crate) agreed: Agreed,
    pub(crate) deflater: Deflater,
    /// gorilla's `EnableWriteCompression`: compress outgoing messages at all.
    pub(crate) enabled: bool,
    /// The window this side was granted can be compressed with (not so for
    /// a client held to 8 bits): `enabled` can be set only then.
    compressible: bool,
    /// Messages shorter than this go out uncompressed.
    threshold: usize,
    /// Where compressed payloads are built; its space is reused once the
    /// frame built from it has been written.
    scratch: BytesMut,
    /// The message being streamed out is compressed (decided at its first frame).
    streaming: bool,
    /// This connection's place in its server's budget of contexts, held
    /// while it keeps one (until it ends).
    permit: Option<ContextPermit>,
}

impl DeflateState {
    /// Compress outgoing messages or not (see `enabled`).
    pub(crate) fn set_enabled(&mut self, yes: bool) {
        self.enabled = yes && self.compressible;
    }

    /// Idle: the compression scratch space goes.
    pub(crate) fn release_idle(&mut self) {
        if self.scratch.is_empty() {
            self.scratch = BytesMut::new();
        }
    }

    /// Compresses a whole message (`fin` on its only piece) or one piece of
    /// a streamed one, and queues it as one frame; RSV1 marks the first
    /// frame of the message only.
    fn queue_deflated(&mut self, writer: &mut OutQueue, opcode: OpCode, fin: bool, payload: &[u8]) {
        self.deflater.compress_part(payload, fin, &mut self.scratch);
        let compressed = self.scratch.split().freeze();
        if self.scratch.capacity() > READ_WINDOW {
            // A large message grew the scratch space: it goes with the
            // frame (freed once written) rather than stay for the next.
            self.scratch = BytesMut::new();
        }
        writer.queue_frame_bytes(opcode, fin, opcode != OpCode::Continuation, compressed);
    }
}

impl Protocol {
    /// Turns on permessage-deflate with the negotiated parameters, and
    /// what the server shares with its connections, if any. Each side
    /// compresses with its own window and context takeover and inflates
    /// with the peer's ([`Agreed::sending`], [`Agreed::receiving`]).
    pub(crate) fn enable_deflate(
        &mut self,
        agreed: Agreed,
        config: &DeflateConfig,
        share: Option<ServerShare>,
    ) {
        let (bits, no_takeover) = agreed.receiving(self.role);
        let mut inflater = Inflater::new(bits, no_takeover);
        let (bits, no_takeover) = agreed.sending(self.role);
        let mut deflater = Deflater::new(config.level, bits, no_takeover);
        // A window under 9 bits is one zlib cannot compress with: such a
        // client sends its messages uncompressed, which RFC 7692 allows.
        let compressible = bits >= MIN_WINDOW_BITS;
        let mut permit = None;
        if let Some(share) = share {
            inflater = inflater.with_pool(share.pool.clone());
            deflater = deflater.with_pool(share.pool);
            permit = share.permit;
        }
        self.decoder.inflater = Some(inflater);
        self.deflate = Some(Box::new(DeflateState {
            agreed,
            deflater,
            enabled: compressible,
            compressible,
            threshold: config.threshold,
            scratch: BytesMut::new(),
            streaming: false,
            permit,
        }));
    }

    /// The connection is over: its zlib states go (back to the pool, for
    /// lent ones, even in the middle of a message), with its scratch space
    /// and its place in the server's budget of contexts. What was agreed
    /// stays readable.
    pub(crate) fn free_deflate(&mut self) {
        if let Some(inflater) = self.decoder.inflater.as_mut() {
            inflater.free();
        }
        if let Some(d) = self.deflate.as_deref_mut() {
            d.deflater.free();
            d.scratch = BytesMut::new();
            d.permit = None;
        }
    }

    /// Whether any decoding or compression state is held: zlib states, a
    /// message being assembled, compression scratch space.
    #[cfg(test)]
    pub(crate) fn holds_codec_state(&self) -> bool {
        self.decoder.in_message()
            || self
                .decoder
                .inflater
                .as_ref()
                .is_some_and(Inflater::holds_state)
            || self.deflate.as_deref().is_some_and(|d| {
                d.deflater.holds_state() || d.scratch.capacity() > 0 || d.permit.is_some()
            })
    }

    /// The decompressor, when permessage-deflate is on.
    #[cfg(test)]
    pub(crate) fn inflater(&self) -> Option<&Inflater> {
        self.decoder.inflater.as_ref()
    }

    /// The compression scratch space held between messages.
    #[cfg(test)]
    pub(crate) fn deflate_scratch(&self) -> usize {
        self.deflate.as_deref().map_or(0, |d| d.scratch.capacity())
    }

    pub(crate) fn deflate_mut(&mut self) -> Option<&mut DeflateState> {
        self.deflate.as_deref_mut()
    }

    pub(crate) fn agreed(&self) -> Option<&Agreed> {
        self.deflate.as_ref().map(|d| &d.agreed)
    }

    /// Queues a data message, compressed when negotiated and worth it.
    fn queue_data(&mut self, opcode: OpCode, payload: Bytes) {
        match self.deflate.as_deref_mut() {
            Some(d) if d.enabled && payload.len() >= d.threshold => {
                d.queue_deflated(&mut self.queue, opcode, true, &payload)
            }
            _ => self.queue.queue_frame_bytes(opcode, true, false, payload),
        }
    }

    /// A data message may start: none is being sent in pieces.
    /// Whether a whole message may be queued now: no message sent in
    /// pieces is in progress, and the backlog has room.
    pub(crate) fn takes_whole_messages(&self) -> bool {
        self.sending.is_none() && self.flush_before_queue() != super::Flush::Wait
    }

    fn check_no_fragments(&self) -> Result<(), Error> {
        if self.sending.is_some() {
            return Err(Error::InvalidMessage(
                "a message sent in pieces is not finished",
            ));
        }
        Ok(())
    }

    /// Queues one chunk of a data message (no I/O): a whole message as by
    /// `start_send`, a piece as one frame of it, or, for a binary message
    /// received as one frame, as part of one frame of the same length.
    #[inline]
    pub(crate) fn queue_chunk(&mut self, chunk: Chunk) -> Result<(), Error> {
        // The common case in one step: a whole small message (text already
        // checked) while no other is being sent in pieces. (A large one is
        // queued by reference, below.)
        if let Some(opcode) = chunk.whole_opcode() {
            let data = chunk.data();
            if data.len() < COPY_LIMIT && self.phase == Phase::Open && self.sending.is_none() {
                self.queue_whole(opcode, data);
                return Ok(());
            }
        }
        self.queue_chunk_slow(chunk)
    }

    /// Queues a whole data message from a slice, copied (compressed, if on
    /// and over the threshold). Text must be UTF-8 already. Open, and no
    /// message being sent in pieces: the caller checked.
    #[inline(always)]
    pub(crate) fn queue_whole(&mut self, opcode: OpCode, data: &[u8]) {
        self.timers.active = true;
        match self.deflate.as_deref_mut() {
            Some(d) if d.enabled && data.len() >= d.threshold => {
                d.queue_deflated(&mut self.queue, opcode, true, data)
            }
            _ => self.queue.queue_small_message(opcode, data),
        }
        self.counts.sent_piece(data.len(), true);
    }

    /// Queues a whole binary message from a payload still masked with
    /// `key`, unmasked as it is copied, where it goes out uncompressed in
    /// one step; `false`, and nothing queued, otherwise (the caller
    /// unmasks it and calls [`queue_whole`](Self::queue_whole)). Open, and
    /// no message being sent in pieces: the caller checked.
    #[inline(always)]
    pub(crate) fn queue_whole_unmasking(&mut self, masked: &[u8], key: [u8; 4]) -> bool {
        if matches!(self.deflate.as_deref(), Some(d) if d.enabled && masked.len() >= d.threshold)
            || !self.queue.queue_small_unmasking(masked, key)
        {
            return false;
        }
        self.timers.active = true;
        self.counts.sent_piece(masked.len(), true);
        true
    }

    /// A whole data message from a slice may be queued now: open, and no
    /// message being sent in pieces.
    #[inline]
    pub(crate) fn check_whole(&self) -> Result<(), Error> {
        if self.phase != Phase::Open {
            return Err(Error::AlreadyClosed);
        }
        self.check_no_fragments()
    }

    #[inline(never)]
    fn queue_chunk_slow(&mut self, chunk: Chunk) -> Result<(), Error> {
        let (len, last) = (chunk.data().len(), chunk.last());
        self.queue_chunk_parts(chunk)?;
        self.counts.sent_piece(len, last);
        Ok(())
    }

    fn queue_chunk_parts(&mut self, chunk: Chunk) -> Result<(), Error> {
        if self.phase != Phase::Open {
            return Err(Error::AlreadyClosed);
        }
        let ChunkParts {
            kind,
            data,
            last,
            validated,
            frame_len,
        } = chunk.into_parts();
        self.timers.active = true;
        let first = match self.sending {
            None => true,
            Some(Sending::Frame) => {
                let remaining = self.queue.owed();
                if kind != MessageKind::Binary {
                    return Err(Error::InvalidMessage(
                        "chunk of another kind than the message it continues",
                    ));
                }
                // The frame's length went out in its header: the pieces must
                // make it up exactly, the last one ending it.
                if data.len() > remaining || last != (data.len() == remaining) {
                    return Err(Error::InvalidMessage(
                        "chunks of a message relayed as one frame must add up to its length",
                    ));
                }
                self.sending = (!last).then_some(Sending::Frame);
                self.queue.continue_frame(data);
                return Ok(());
            }
            Some(Sending::Chunks { failed: true, .. }) => {
                return Err(Error::InvalidMessage(
                    "a chunk of this message was refused; it cannot be finished",
                ))
            }
            Some(Sending::Chunks { kind: k, .. }) if k == kind => false,
            Some(Sending::Chunks { .. }) => {
                return Err(Error::InvalidMessage(
                    "chunk of another kind than the message it continues",
                ))
            }
            Some(Sending::Writer) => {
                return Err(Error::InvalidMessage(
                    "a message sent in pieces is not finished",
                ))
            }
        };
        let text = kind == MessageKind::Text;
        if text && !(first && last && validated) {
            if first {
                self.chunk_utf8.reset();
            }
            if self.chunk_utf8.feed(&data).is_err() || (last && self.chunk_utf8.finish().is_err()) {
                // The validator has moved on: later chunks could not be
                // checked against what was sent, so none is taken.
                if !first {
                    self.sending = Some(Sending::Chunks { kind, failed: true });
                }
                return Err(Error::InvalidMessage("text chunk is not utf-8"));
            }
        }
        let opcode = if first {
            kind.opcode()
        } else {
            OpCode::Continuation
        };
        if first && last {
            self.queue_data(opcode, data);
            return Ok(());
        }
        if let Some(total) = frame_len.filter(|&total| first && total > data.len()) {
            // A binary message received as one frame goes on as one frame
            // of the same length, as a relay of bytes would send it: no
            // header per piece for the peer to parse. Not text, which can
            // still turn out invalid mid-frame, when only a close frame
            // (1007) can say why, and none can follow an unfinished frame;
            // not compressed, where the length is not known.
            let compressing = self.deflate.as_deref().is_some_and(|d| d.enabled);
            if kind == MessageKind::Binary && !compressing {
                self.sending = Some(Sending::Frame);
                self.queue.start_frame(opcode, total, data);
                return Ok(());
            }
        }
        self.push_fragment(opcode, last, data);
        self.sending = (!last).then_some(Sending::Chunks {
            kind,
            failed: false,
        });
        Ok(())
    }

    /// Queues a message (no I/O).
    pub(crate) fn start_send(&mut self, msg: Message) -> Result<(), Error> {
        if self.phase != Phase::Open {
            return Err(Error::AlreadyClosed);
        }
        if msg.is_data() {
            self.check_no_fragments()?;
            self.timers.active = true;
            self.counts.sent_piece(msg.len(), true);
        }
        match msg {
            Message::Text(t) => self.queue_data(OpCode::Text, t.into_bytes()),
            Message::Binary(b) => self.queue_data(OpCode::Binary, b),
            Message::Ping(p) | Message::Pong(p) if p.len() > 125 => {
                return Err(Error::InvalidMessage(
                    "control frame payload over 125 bytes",
                ))
            }
            Message::Ping(p) => self.queue.queue_frame(OpCode::Ping, true, false, &p),
            Message::Pong(p) => self.queue.queue_frame(OpCode::Pong, true, false, &p),
            Message::Close(frame) => {
                CloseFrame::check_sendable(frame.as_ref()).map_err(Error::InvalidMessage)?;
                self.begin_close(frame.as_ref(), Phase::CloseSent);
            }
        }
        Ok(())
    }

    /// Queues `payload`, all of it, as one frame of a `MessageWriter`'s
    /// message. Refused (the connection is not open; a continuation of no
    /// message of the writer's; a first frame while another message is being
    /// sent in pieces), `payload` is left as it was.
    pub(crate) fn queue_fragment(
        &mut self,
        opcode: OpCode,
        fin: bool,
        payload: &mut BytesMut,
    ) -> Result<(), Error> {
        if self.phase != Phase::Open {
            return Err(Error::AlreadyClosed);
        }
        match (opcode, self.sending) {
            (OpCode::Continuation, Some(Sending::Writer)) => {}
            (OpCode::Continuation, _) => {
                return Err(Error::InvalidMessage(
                    "no message of this writer's is being sent",
                ))
            }
            _ => self.check_no_fragments()?,
        }
        self.timers.active = true;
        self.counts.sent_piece(payload.len(), fin);
        self.push_fragment(opcode, fin, payload.split().freeze());
        self.sending = (!fin).then_some(Sending::Writer);
        Ok(())
    }

    /// Queues one frame of a message sent in pieces; with permessage-deflate
    /// on, each piece is compressed and flushed so it can go out as its frame.
    fn push_fragment(&mut self, opcode: OpCode, fin: bool, payload: Bytes) {
        let first = opcode != OpCode::Continuation;
        match self.deflate.as_deref_mut() {
            Some(d) if (first && d.enabled) || (!first && d.streaming) => {
                d.streaming = !fin;
                d.queue_deflated(&mut self.queue, opcode, fin, &payload);
            }
            _ => self.queue.queue_frame_bytes(opcode, fin, false, payload),
        }
    }

    /// Queues a prepared message: its shared frame, or, where the
    /// connection's compression context must see it, compressed here.
    pub(crate) fn queue_prepared(&mut self, msg: &PreparedMessage) -> Result<(), Error> {
        if self.phase != Phase::Open {
            return Err(Error::AlreadyClosed);
        }
        self.check_no_fragments()?;
        self.timers.active = true;
        self.counts.sent_piece(msg.payload().len(), true);
        match self.deflate.as_deref() {
            Some(d) if d.enabled && msg.payload().len() >= d.threshold => {
                if d.deflater.no_context_takeover() {
                    let framed = msg.compressed_frame(d.deflater.window_bits(), d.deflater.level());
                    self.queue.queue_framed(framed);
                } else {
                    self.queue_data(msg.opcode(), msg.payload().clone());
                }
            }
            _ => self.queue.queue_framed(msg.plain_frame()),
        }
        Ok(())
    }
}
