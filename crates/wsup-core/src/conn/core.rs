//! The connection engine: one struct that owns the transport, the read and
//! write state and the closing handshake, driven by `poll_*` methods.
//!
//! [`super::WebSocket`] calls it directly; the split halves call it through a
//! mutex held for one poll at a time (see `split.rs`).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_io::{AsyncRead, AsyncWrite};

use super::read::{Event, Mode, Reader, READ_WINDOW};
use super::write::Writer;
use crate::close::{CloseFrame, MAX_PAYLOAD_LEN};
use crate::config::WebSocketConfig;
use crate::deflate::{Agreed, CodecPool, DeflateConfig, Deflater, Inflater};
use crate::error::{Error, ProtocolError};
use crate::frame::OpCode;
use crate::message::Message;
use crate::message::{Chunk, ChunkParts, MessageKind};
use crate::prepared::PreparedMessage;
use crate::runtime::{Runtime, Sleep};
use crate::utf8::Utf8Validator;

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    /// This side sent a close frame; waiting for the peer's.
    CloseSent,
    /// Writing out what is queued (a close frame last, unless closing came
    /// inside an unfinished relayed frame), then shutting the transport
    /// down.
    Finishing,
    /// Failed on a protocol error: close frame sent and write side shut;
    /// input is discarded until the peer closes, so that our close frame is
    /// not lost to a reset.
    Draining,
    /// Done.
    Closed,
}

/// What `recv` reports once closing is done.
#[derive(Debug)]
enum Outcome {
    Message(Message),
    Error(Error),
    Closed,
}

pub(crate) struct Core<T> {
    pub(crate) io: T,
    pub(crate) cfg: WebSocketConfig,
    runtime: Option<Arc<dyn Runtime>>,
    pub(crate) reader: Reader,
    pub(crate) writer: Writer,
    phase: Phase,
    /// Reported after `Finishing`/`Draining`/`CloseSent` ends.
    outcome: Option<Outcome>,
    close_timer: Option<Pin<Box<dyn Sleep>>>,
    /// The transport's write side has been shut down.
    shut: bool,
    /// permessage-deflate, when negotiated.
    deflate: Option<Box<DeflateState>>,
    /// A data message being sent in pieces and not finished: no other data
    /// message may start until it is, and only its sender may continue it.
    sending: Option<Sending>,
    /// Checks the text sent with `queue_chunk`, across its chunks.
    chunk_utf8: Utf8Validator,
}

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
    /// still to come (`Writer::owed`).
    Frame,
}

/// The sending side of permessage-deflate on one connection.
#[derive(Debug)]
pub(crate) struct DeflateState {
    pub(crate) agreed: Agreed,
    pub(crate) deflater: Deflater,
    /// gorilla's `EnableWriteCompression`: compress outgoing messages at all.
    pub(crate) enabled: bool,
    /// Messages shorter than this go out uncompressed.
    threshold: usize,
    /// Where compressed payloads are built; its space is reused once the
    /// frame built from it has been written.
    scratch: BytesMut,
    /// The message being streamed out is compressed (decided at its first frame).
    streaming: bool,
}

impl<T> std::fmt::Debug for Core<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("phase", &self.phase)
            .field("queued", &self.writer.queued())
            .finish()
    }
}

impl DeflateState {
    /// Compresses a whole message (`fin` on its only piece) or one piece of
    /// a streamed one, and queues it as one frame; RSV1 marks the first
    /// frame of the message only.
    fn queue_deflated(&mut self, writer: &mut Writer, opcode: OpCode, fin: bool, payload: &[u8]) {
        self.deflater.compress_part(payload, fin, &mut self.scratch);
        let compressed = self.scratch.split().freeze();
        writer.queue_frame_bytes(opcode, fin, opcode != OpCode::Continuation, compressed);
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Core<T> {
    pub(crate) fn new(
        io: T,
        leftover: Bytes,
        cfg: WebSocketConfig,
        runtime: Option<Arc<dyn Runtime>>,
    ) -> Self {
        Core {
            io,
            reader: Reader::new(leftover, &cfg),
            writer: Writer::new(&cfg),
            cfg,
            runtime,
            phase: Phase::Open,
            outcome: None,
            close_timer: None,
            shut: false,
            deflate: None,
            sending: None,
            chunk_utf8: Utf8Validator::new(),
        }
    }

    /// Turns on permessage-deflate with the negotiated parameters.
    pub(crate) fn enable_deflate(
        &mut self,
        agreed: Agreed,
        config: &DeflateConfig,
        pool: Option<Arc<CodecPool>>,
    ) {
        let mut inflater = Inflater::for_agreed(&agreed);
        let mut deflater = Deflater::for_agreed(&agreed, config);
        if let Some(pool) = pool {
            inflater = inflater.with_pool(pool.clone());
            deflater = deflater.with_pool(pool);
        }
        self.reader.inflater = Some(inflater);
        self.deflate = Some(Box::new(DeflateState {
            agreed,
            deflater,
            enabled: true,
            threshold: config.threshold,
            scratch: BytesMut::new(),
            streaming: false,
        }));
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
                d.queue_deflated(&mut self.writer, opcode, true, &payload)
            }
            _ => self.writer.queue_frame_bytes(opcode, true, false, payload),
        }
    }

    fn start_close_timer(&mut self) {
        if self.close_timer.is_none() {
            if let Some(rt) = &self.runtime {
                self.close_timer = Some(rt.sleep(self.cfg.close_timeout));
            }
        }
    }

    /// Closing inside an unfinished relayed frame: no close frame can follow
    /// it, so there is nothing for the peer to answer and nothing to protect
    /// by draining. What is queued goes out and the connection is shut down.
    /// `false` (nothing done) when no such frame is open.
    fn shut_down_inside_frame(&mut self) -> bool {
        if !self.writer.frame_open() {
            return false;
        }
        self.phase = Phase::Finishing;
        self.start_close_timer();
        true
    }

    /// Sends our close frame and waits for the peer's (or for `Draining`).
    fn begin_close(&mut self, frame: Option<&CloseFrame>, next: Phase) {
        if self.shut_down_inside_frame() {
            return;
        }
        queue_close(&mut self.writer, frame);
        self.phase = next;
        self.start_close_timer();
    }

    fn fail(&mut self, err: ProtocolError) {
        let frame = err.close_frame();
        self.outcome = Some(Outcome::Error(Error::Protocol(err)));
        if self.shut_down_inside_frame() {
            return;
        }
        if self.phase == Phase::Open {
            queue_close(&mut self.writer, Some(&frame));
        }
        self.phase = Phase::Draining;
        self.start_close_timer();
    }

    fn finish(&mut self) -> Poll<Result<Message, Error>> {
        self.phase = Phase::Closed;
        self.close_timer = None;
        self.writer.discard();
        self.sending = None;
        // Give the read buffer back: a closed connection holds no memory.
        self.reader.release_buffer();
        match self.outcome.take() {
            Some(Outcome::Message(m)) => Poll::Ready(Ok(m)),
            Some(Outcome::Error(e)) => Poll::Ready(Err(e)),
            Some(Outcome::Closed) | None => Poll::Ready(Err(Error::ConnectionClosed)),
        }
    }

    /// Flushes what is queued and shuts the write side down.
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.writer.poll_flush(&mut self.io, cx))?;
        if !self.shut {
            std::task::ready!(Pin::new(&mut self.io).poll_close(cx))?;
            self.shut = true;
        }
        Poll::Ready(Ok(()))
    }

    /// Receives the next message, or the next piece of one (see [`Mode`]).
    pub(crate) fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
        mode: Mode,
    ) -> Poll<Result<Event, Error>> {
        loop {
            if let Some(timer) = self.close_timer.as_mut() {
                if timer.as_mut().poll(cx).is_ready() {
                    if self.outcome.is_none() {
                        self.outcome = Some(Outcome::Error(Error::CloseTimeout));
                    }
                    return self.finish().map_ok(Event::Message);
                }
            }
            match self.phase {
                Phase::Closed => return Poll::Ready(Err(Error::ConnectionClosed)),
                Phase::Finishing => {
                    // Errors here mean the peer is gone: closing is done either way.
                    let _ = std::task::ready!(self.poll_shutdown(cx));
                    return self.finish().map_ok(Event::Message);
                }
                Phase::Draining => {
                    match self.poll_shutdown(cx) {
                        Poll::Ready(Err(_)) => return self.finish().map_ok(Event::Message),
                        Poll::Ready(Ok(())) | Poll::Pending => {}
                    }
                    self.reader.buf.clear();
                    match std::task::ready!(self.reader.poll_fill(&mut self.io, cx, &self.cfg)) {
                        Ok(0) | Err(_) => return self.finish().map_ok(Event::Message),
                        Ok(_) => continue,
                    }
                }
                Phase::Open | Phase::CloseSent => {}
            }
            match self.reader.decode(&self.cfg, mode) {
                Ok(Some(Event::Message(msg))) => match msg {
                    Message::Ping(ref payload) => {
                        if self.phase == Phase::Open {
                            self.writer.queue_frame(OpCode::Pong, true, false, payload);
                            return Poll::Ready(Ok(Event::Message(msg)));
                        }
                    }
                    Message::Close(ref frame) => {
                        if self.phase == Phase::Open {
                            // Echo the code (RFC 6455 5.5.1), then close the TCP
                            // connection: the server closes first (7.1.1).
                            let echo = frame.as_ref().map(|f| CloseFrame::new(f.code, ""));
                            queue_close(&mut self.writer, echo.as_ref());
                            self.start_close_timer();
                        }
                        self.outcome = Some(Outcome::Message(msg));
                        self.phase = Phase::Finishing;
                    }
                    _ if self.phase == Phase::CloseSent => {}
                    msg => return Poll::Ready(Ok(Event::Message(msg))),
                },
                Ok(Some(chunk @ Event::Chunk { .. })) => {
                    if self.phase == Phase::Open {
                        return Poll::Ready(Ok(chunk));
                    }
                }
                Ok(None) => {
                    let queued = self.writer.queued();
                    if queued > self.cfg.backlog_limit() {
                        // Past the backlog limit, our output must drain before
                        // we read more: a peer that floods pings and reads
                        // nothing gets backpressure, not unbounded pong buffers.
                        match std::task::ready!(self.writer.poll_flush(&mut self.io, cx)) {
                            Ok(()) => {}
                            Err(e) => return self.io_failed(e),
                        }
                    } else if queued > self.cfg.write_flush_threshold
                        || self.writer.holds_large_payload()
                        || (queued > 0 && self.reader.needs_room(&self.cfg))
                    {
                        // Past the threshold, output goes out now rather than
                        // when the batch ends. So does a large payload, as a
                        // relay would send it: batching saves it nothing worth
                        // having (one syscall per 16 KiB or more), and held
                        // back while the next message is read it would stall
                        // a peer that keeps a few large messages in flight.
                        // And when the read must make room first, queued
                        // echoes may share the read buffer: written out, they
                        // let it be reused instead of reallocated. Only an
                        // attempt: under the backlog limit, a peer that is not
                        // reading yet must not stop us reading (it may be
                        // waiting for us to read before it reads).
                        if let Poll::Ready(Err(e)) = self.writer.poll_flush(&mut self.io, cx) {
                            return self.io_failed(e);
                        }
                    }
                    match self.reader.poll_fill(&mut self.io, cx, &self.cfg) {
                        Poll::Ready(Ok(0)) => {
                            // Whatever this batch produced still goes out.
                            if !self.writer.is_idle() {
                                if let Poll::Ready(Err(e)) =
                                    self.writer.poll_flush(&mut self.io, cx)
                                {
                                    return self.io_failed(e);
                                }
                                if !self.writer.is_idle() {
                                    return Poll::Pending;
                                }
                            }
                            self.outcome = Some(if self.phase == Phase::CloseSent {
                                Outcome::Closed
                            } else {
                                Outcome::Error(Error::Io(io::ErrorKind::UnexpectedEof.into()))
                            });
                            return self.finish().map_ok(Event::Message);
                        }
                        // More input: keep decoding; replies accumulate.
                        Poll::Ready(Ok(_)) => {}
                        Poll::Ready(Err(e)) => return self.io_failed(e),
                        Poll::Pending => {
                            // Nothing more to read now, so the connection would
                            // wait: write out what this batch produced, so the
                            // replies to a burst of requests share one syscall.
                            if !self.writer.is_idle() {
                                if let Poll::Ready(Err(e)) =
                                    self.writer.poll_flush(&mut self.io, cx)
                                {
                                    return self.io_failed(e);
                                }
                            }
                            return Poll::Pending;
                        }
                    }
                }
                Err(e) => self.fail(e),
            }
        }
    }

    fn io_failed(&mut self, e: io::Error) -> Poll<Result<Event, Error>> {
        self.outcome = Some(Outcome::Error(Error::Io(e)));
        self.finish().map_ok(Event::Message)
    }

    /// Receives the next whole message.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, Error>> {
        match std::task::ready!(self.poll_event(cx, Mode::Messages)) {
            Ok(Event::Message(m)) => Poll::Ready(Ok(m)),
            Ok(Event::Chunk { .. }) => unreachable!("chunks only in streaming mode"),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    /// Receives the next data message whole, or the next piece of one whose
    /// first frame is larger than the read buffer; a message that is one
    /// uncompressed frame only if it is larger than a read window (or the
    /// read buffer, if larger): a piece can be as large, so such a message
    /// held whole costs no more memory, and its echo is written in one go.
    /// Control frames are handled and skipped; the peer's close ends it with
    /// `ConnectionClosed`.
    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Chunk, Error>> {
        loop {
            let mode = Mode::ChunksOver {
                first: self.cfg.read_buffer_size,
                single: self.cfg.read_buffer_size.max(READ_WINDOW),
            };
            match std::task::ready!(self.poll_event(cx, mode))? {
                Event::Chunk {
                    data,
                    text,
                    end,
                    frame_len,
                } => return Poll::Ready(Ok(Chunk::received(data, text, end, frame_len))),
                Event::Message(Message::Text(t)) => {
                    return Poll::Ready(Ok(Chunk::whole_text(t.into_bytes())))
                }
                Event::Message(Message::Binary(b)) => {
                    return Poll::Ready(Ok(Chunk::binary(b, true)))
                }
                Event::Message(Message::Close(_)) => {
                    return Poll::Ready(Err(Error::ConnectionClosed))
                }
                // Pings are answered already; pongs need nothing.
                Event::Message(Message::Ping(_) | Message::Pong(_)) => {}
            }
        }
    }

    /// A data message may start: none is being sent in pieces.
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
    pub(crate) fn queue_chunk(&mut self, chunk: Chunk) -> Result<(), Error> {
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
        let first = match self.sending {
            None => true,
            Some(Sending::Frame) => {
                let remaining = self.writer.owed();
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
                self.writer.continue_frame(data);
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
                self.writer.start_frame(opcode, total, data);
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

    /// Room to queue more: past the flush threshold, writes what the
    /// transport takes; past the backlog limit, waits until all is written.
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.phase != Phase::Open {
            return Poll::Ready(Err(Error::AlreadyClosed));
        }
        let queued = self.writer.queued();
        if queued >= self.cfg.backlog_limit() {
            std::task::ready!(self.writer.poll_flush(&mut self.io, cx))?;
        } else if self.writer.past_threshold(self.cfg.write_flush_threshold) {
            if let Poll::Ready(Err(e)) = self.writer.poll_flush(&mut self.io, cx) {
                return Poll::Ready(Err(e.into()));
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Queues a message (no I/O).
    pub(crate) fn start_send(&mut self, msg: Message) -> Result<(), Error> {
        if self.phase != Phase::Open {
            return Err(Error::AlreadyClosed);
        }
        if msg.is_data() {
            self.check_no_fragments()?;
        }
        match msg {
            Message::Text(t) => self.queue_data(OpCode::Text, t.into_bytes()),
            Message::Binary(b) => self.queue_data(OpCode::Binary, b),
            Message::Ping(p) | Message::Pong(p) if p.len() > 125 => {
                return Err(Error::InvalidMessage(
                    "control frame payload over 125 bytes",
                ))
            }
            Message::Ping(p) => self.writer.queue_frame(OpCode::Ping, true, false, &p),
            Message::Pong(p) => self.writer.queue_frame(OpCode::Pong, true, false, &p),
            Message::Close(frame) => {
                check_close(frame.as_ref())?;
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
                d.queue_deflated(&mut self.writer, opcode, fin, &payload);
            }
            _ => self.writer.queue_frame_bytes(opcode, fin, false, payload),
        }
    }

    /// Queues a prepared message: its shared frame, or, where the
    /// connection's compression context must see it, compressed here.
    pub(crate) fn queue_prepared(&mut self, msg: &PreparedMessage) -> Result<(), Error> {
        if self.phase != Phase::Open {
            return Err(Error::AlreadyClosed);
        }
        self.check_no_fragments()?;
        match self.deflate.as_deref() {
            Some(d) if d.enabled && msg.payload().len() >= d.threshold => {
                if d.agreed.server_no_context_takeover {
                    let framed =
                        msg.compressed_frame(d.agreed.server_max_window_bits, d.deflater.level());
                    self.writer.queue_raw(framed);
                } else {
                    self.queue_data(msg.opcode(), msg.payload().clone());
                }
            }
            _ => self.writer.queue_raw(msg.plain_frame()),
        }
        Ok(())
    }

    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        match self.phase {
            Phase::Closed => Poll::Ready(Ok(())),
            // All that is left is to write out what is queued and shut the
            // write side down; the next receive then reports the end. (It
            // is where closing inside a relayed frame leads, with nothing
            // from the peer to wait for.)
            Phase::Finishing => self.poll_shutdown(cx).map_err(Error::Io),
            _ => self.writer.poll_flush(&mut self.io, cx).map_err(Error::Io),
        }
    }

    /// Starts closing if open (no I/O).
    pub(crate) fn start_close(&mut self, frame: Option<CloseFrame>) -> Result<(), Error> {
        if self.phase == Phase::Open {
            check_close(frame.as_ref())?;
            self.begin_close(frame.as_ref(), Phase::CloseSent);
        }
        Ok(())
    }

    /// Drives the closing handshake to its end, discarding messages that were
    /// in flight.
    pub(crate) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            if self.phase == Phase::Closed {
                return Poll::Ready(Ok(()));
            }
            if self.phase == Phase::CloseSent {
                // Make sure our close frame goes out while we wait for theirs.
                if let Poll::Ready(Err(e)) = self.writer.poll_flush(&mut self.io, cx) {
                    self.outcome = Some(Outcome::Error(Error::Io(e)));
                    let _ = self.finish();
                    return Poll::Ready(Ok(()));
                }
            }
            match std::task::ready!(self.poll_event(cx, Mode::Messages)) {
                Ok(_) => continue,
                Err(Error::ConnectionClosed) => return Poll::Ready(Ok(())),
                Err(e @ Error::CloseTimeout) => return Poll::Ready(Err(e)),
                // A protocol or I/O error while closing: the connection is closed.
                Err(_) => return Poll::Ready(Ok(())),
            }
        }
    }
}

fn check_close(frame: Option<&CloseFrame>) -> Result<(), Error> {
    CloseFrame::check_sendable(frame).map_err(Error::InvalidMessage)
}

fn queue_close(writer: &mut Writer, frame: Option<&CloseFrame>) {
    let mut payload = [0u8; MAX_PAYLOAD_LEN];
    let n = CloseFrame::encode(frame, &mut payload);
    writer.queue_frame(OpCode::Close, true, false, &payload[..n]);
}
