//! The protocol core, sans I/O: everything a WebSocket connection decides,
//! with no transport, no waker and no clock in it.
//!
//! [`Protocol`] owns the decode state, the output queue, the phases of the
//! connection, permessage-deflate and the closing handshake. A driver (the
//! connection in `conn/driver.rs`) feeds it events and carries out what it
//! asks:
//!
//! - bytes in: [`Protocol::read_window`] / [`Protocol::filled`] (or, before
//!   any buffer is held, [`Protocol::received_probe`]); the end of input:
//!   [`Protocol::end_of_input`]; a failed transport:
//!   [`Protocol::transport_failed`];
//! - time: [`Protocol::poll_timeout`] says when the next deadline falls (an
//!   instant), [`Protocol::handle_timeout`] that it passed;
//! - application calls: `start_send`, `queue_chunk`, `start_close`, ...
//!   (`send.rs`), which only queue;
//! - actions out: [`Protocol::next`] yields a message, or what the driver
//!   must do before there can be one ([`Next`]); [`Protocol::output`] the
//!   bytes to write, [`Protocol::wrote`] / [`Protocol::flushed`] what went
//!   out; when to write is decided in one place, `flush.rs`.
//!
//! ```text
//!   Open ──send close──▶ CloseSent ──peer's close──▶ Finishing ──▶ Closed
//!    │ ╲                   (data and pings     ▲  (write out, shut
//!    │  ╲                   discarded)         │   the write side; a client:
//!    │   │                                     │   Ending, until the server's
//!    │   │                                     │   end of stream, then shut)
//!    │   ├─peer's close────────────────────────┤
//!    │   └─close inside a relayed frame────────┘
//!    └─protocol error──▶ Draining (input discarded until the peer closes) ──▶ Closed
//!
//!   CloseSent, Finishing, Ending, Draining ──close timeout──▶ Expired ──▶ Closed
//!   Open ──keepalive or write timeout──▶ Expired ──▶ Closed
//!   Open ──idle timeout──▶ CloseSent (1001)
//! ```
//!
//! Deadlines (keepalive, idle, write, close) are kept lazily in
//! `timers.rs`: activity sets a flag, never a timer.
//!
//! The [`Role`] is fixed when the protocol is made: a server's peer masks
//! its frames and the server masks none; a client masks every frame
//! (`queue/client.rs`) and refuses masked ones (`decode.rs`); each side
//! compresses and decompresses with its own half of the agreed deflate
//! parameters (`send.rs`).

mod closing;
mod decode;
mod each;
mod flush;
mod initialised;
mod queue;
mod read_buf;
mod ready;
mod send;
mod timers;

use std::io::{self, IoSlice};
use std::time::Instant;

use bytes::Bytes;

pub(crate) use self::decode::{Event, Mode, PieceLimits};
pub use self::each::{Received, Replies};
pub(crate) use self::flush::Flush;
pub(crate) use self::queue::MAX_IOVECS;
#[cfg(test)]
pub(crate) use self::read_buf::{set_spare_reads_full, spare_read_capacities};
pub(crate) use self::read_buf::{PROBE, READ_WINDOW};
pub(crate) use self::send::DeflateState;

use self::decode::Decoder;
use self::queue::OutQueue;
use self::read_buf::ReadBuf;
use self::send::Sending;
use self::timers::{Expiry, Timers};
use crate::close::{CloseCode, CloseFrame};
use crate::config::WebSocketConfig;
use crate::error::{Error, ProtocolError};
use crate::frame::OpCode;
use crate::message::Message;
use crate::role::Role;
use crate::stats::{ClosedBy, Counts, FirstClose};
use crate::utf8::Utf8Validator;

/// Consumes the first `n` bytes of `buf`: all of them (the common case, a
/// batch read or written out whole) empties it in place rather than
/// advancing past them, so it keeps the room after its start and there is
/// nothing to rewind before the next batch (`ReadBuf::window`,
/// `OutQueue::consume`).
#[inline]
pub(crate) fn consume_front(buf: &mut bytes::BytesMut, n: usize) {
    if n == buf.len() {
        buf.clear();
    } else {
        bytes::Buf::advance(buf, n);
    }
}

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
    /// Client only: the server's close was received and answered. Writing
    /// out what is queued, then waiting for the server to end the TCP
    /// connection (RFC 6455 7.1.1: the server closes first, so that the
    /// TIME_WAIT state is its), bounded by the close timeout.
    Ending,
    /// The close timeout passed: over, without waiting on the transport.
    Expired,
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

/// What the driver must do next (see [`Protocol::next`]).
#[derive(Debug)]
pub(crate) enum Next {
    /// A message, or a piece of one, for the application.
    Event(Event),
    /// More input is needed; before reading, write out as this says.
    Read(Flush),
    /// Write out what is queued and shut the transport's write side down,
    /// then [`Protocol::finish`].
    Shutdown,
    /// Write out what is queued, then read and discard input until the
    /// peer ends the stream; then shut down, without waiting, and
    /// [`Protocol::finish`].
    AwaitEnd,
    /// Failed: write out and shut down as far as the transport takes it
    /// without waiting, and read and discard input
    /// ([`Protocol::discard_input`]) until the peer closes, then
    /// [`Protocol::finish`].
    Drain,
    /// Over: [`Protocol::finish`] reports how.
    Finish,
    /// Finished already.
    Closed,
}

/// The protocol state of one connection, server or client side.
pub(crate) struct Protocol {
    cfg: WebSocketConfig,
    role: Role,
    read: ReadBuf,
    decoder: Decoder,
    queue: OutQueue,
    phase: Phase,
    /// Reported after `Finishing`/`Draining`/`CloseSent` ends.
    outcome: Option<Outcome>,
    /// Keepalive, idle, write and close deadlines.
    timers: Timers,
    /// The deadline that ended the connection, if one did: sending after it
    /// reports the timeout rather than only that the connection is closed
    /// (on a split connection, the half that met it may not be the one
    /// that was blocked).
    ended_by: Option<Expiry>,
    /// permessage-deflate, when negotiated.
    deflate: Option<Box<DeflateState>>,
    /// A data message being sent in pieces and not finished: no other data
    /// message may start until it is, and only its sender may continue it.
    sending: Option<Sending>,
    /// Checks the text sent with `queue_chunk`, across its chunks.
    chunk_utf8: Utf8Validator,
    /// Data messages and bytes each way (see `ConnectionStats`).
    pub(crate) counts: Counts,
    /// The first close frame, sent or received.
    first_close: Option<FirstClose>,
}

impl std::fmt::Debug for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Protocol")
            .field("phase", &self.phase)
            .field("queued", &self.queue.queued())
            .finish()
    }
}

impl Protocol {
    /// A connection whose handshake is done, on the side of `role`;
    /// `leftover` is what was read past the request (or response) head.
    pub(crate) fn new(leftover: Bytes, cfg: WebSocketConfig, role: Role) -> Self {
        Protocol {
            role,
            timers: Timers::new(
                cfg.keepalive_interval,
                cfg.keepalive_timeout,
                cfg.idle_timeout,
                cfg.write_timeout,
                cfg.close_timeout,
            ),
            ended_by: None,
            read: ReadBuf::new(&leftover, &cfg),
            decoder: Decoder::new(role),
            queue: OutQueue::new(&cfg, role),
            cfg,
            phase: Phase::Open,
            outcome: None,
            deflate: None,
            sending: None,
            chunk_utf8: Utf8Validator::new(),
            counts: Counts::default(),
            first_close: None,
        }
    }

    /// The settings this connection runs with.
    pub(crate) fn config(&self) -> &WebSocketConfig {
        &self.cfg
    }

    /// Which end of the connection this side is.
    pub(crate) fn role(&self) -> Role {
        self.role
    }

    /// The connection is open: messages can be sent.
    pub(crate) fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// The connection is over.
    pub(crate) fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The connection is writing out its last output before shutting the
    /// transport down, with nothing from the peer to wait for.
    pub(crate) fn is_finishing(&self) -> bool {
        self.phase == Phase::Finishing
    }

    /// This side's close frame is queued or sent; the peer's is awaited.
    pub(crate) fn close_sent(&self) -> bool {
        self.phase == Phase::CloseSent
    }

    // --- bytes in -------------------------------------------------------

    /// The application is receiving: input is looked for (what keepalive
    /// needs to take a silent peer for gone).
    #[inline]
    pub(crate) fn reading(&mut self) {
        self.timers.listened = true;
    }

    /// No read buffer is held yet: read into a stack array of [`PROBE`]
    /// bytes and hand it to [`received_probe`](Self::received_probe).
    pub(crate) fn wants_probe(&mut self) -> bool {
        self.read.wants_probe()
    }

    /// The first bytes, read into a probe.
    pub(crate) fn received_probe(&mut self, bytes: &[u8]) {
        self.timers.received = true;
        self.read.received(bytes, &self.cfg);
    }

    /// Where to read the next bytes to; [`filled`](Self::filled) says how
    /// many were read.
    pub(crate) fn read_window(&mut self) -> &mut [u8] {
        let need = self.decoder.need(self.read.len());
        self.read.window(need, &self.cfg)
    }

    /// `n` bytes were read into the window of `window_len` bytes.
    pub(crate) fn filled(&mut self, n: usize, window_len: usize) {
        self.timers.received |= n > 0;
        self.read.filled(n, window_len, &self.cfg);
    }

    /// Input read while draining is discarded.
    pub(crate) fn discard_input(&mut self) {
        self.read.clear();
        self.decoder.discard_ready();
    }

    /// The application stopped reading the message being streamed: the rest
    /// of it is discarded as it arrives.
    pub(crate) fn abandon_message(&mut self) {
        self.decoder.abandon_message();
    }

    /// Capacity of the read buffer (what the connection holds for input).
    #[cfg(test)]
    pub(crate) fn read_capacity(&self) -> usize {
        self.read.capacity()
    }

    /// Input buffered and not yet decoded.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.read.len()
    }

    // --- bytes out ------------------------------------------------------

    /// The queued output as slices for one vectored write; returns how many
    /// of `out` were filled.
    pub(crate) fn output<'a>(&'a self, out: &mut [IoSlice<'a>; MAX_IOVECS]) -> usize {
        self.queue.slices(out)
    }

    /// The queued output, when it is one buffer: for a plain write.
    #[inline]
    pub(crate) fn output_single(&self) -> Option<&[u8]> {
        self.queue.single()
    }

    /// Bytes waiting to be written.
    pub(crate) fn queued(&self) -> usize {
        self.queue.queued()
    }

    /// The transport took `n` bytes of [`output`](Self::output).
    pub(crate) fn wrote(&mut self, n: usize) {
        self.timers.wrote = true;
        self.queue.consume(n);
    }

    /// Written out, and the transport not flushed since.
    pub(crate) fn needs_flush(&self) -> bool {
        self.queue.needs_flush()
    }

    /// The transport was flushed with nothing queued.
    pub(crate) fn flushed(&mut self) {
        self.queue.flushed();
    }

    // --- time -----------------------------------------------------------

    /// Whether a deadline is set (or asked for): only then is there a timer
    /// to arm or poll.
    #[inline]
    pub(crate) fn has_deadline(&self) -> bool {
        self.timers.any()
    }

    /// Whether a deadline was asked for and waits for
    /// [`poll_timeout`](Self::poll_timeout) to fix it from the clock.
    #[inline]
    pub(crate) fn deadline_asked(&self) -> bool {
        self.timers.asked()
    }

    /// The next deadline, if any; `now` is asked for only when a deadline
    /// is set from it. A driver arms one timer for it, re-armed when the
    /// instant changes.
    #[inline]
    pub(crate) fn poll_timeout(&mut self, now: impl FnOnce() -> Instant) -> Option<Instant> {
        self.timers.next(now)
    }

    /// The output could not be written now (the transport would block):
    /// the write timeout, if set, starts unless it runs already.
    pub(crate) fn write_blocked(&mut self) {
        if self.unwritten() > 0 {
            self.timers.write_blocked();
        }
    }

    /// Output not out yet: bytes queued, or one for a flush the transport
    /// has not done.
    fn unwritten(&self) -> usize {
        self.queue.queued() + usize::from(self.queue.needs_flush())
    }

    /// Over on a deadline, without waiting on the transport.
    pub(crate) fn is_expired(&self) -> bool {
        self.phase == Phase::Expired
    }

    /// The timer armed for [`poll_timeout`](Self::poll_timeout) fired at
    /// `now`: each deadline that passed is pushed on (there was activity),
    /// or acted on: a keepalive ping queued, closing started (idle), or the
    /// connection ended (keepalive or write timeout, close timeout).
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        while let Some(expiry) = self.timers.expire(now, self.unwritten()) {
            if self.phase == Phase::Closed {
                return;
            }
            match expiry {
                Expiry::Ping => {
                    if self.phase == Phase::Open {
                        // Idle for an interval: its buffers go back, and
                        // the ping goes by reference, so that an idle
                        // connection holds none.
                        self.read.release_idle(&self.cfg);
                        self.queue.release_idle();
                        if let Some(d) = self.deflate.as_deref_mut() {
                            d.release_idle();
                        }
                        self.queue.queue_empty_ping();
                    }
                }
                Expiry::Idle => {
                    if self.phase == Phase::Open {
                        self.outcome = Some(Outcome::Error(Error::IdleTimeout));
                        let frame = CloseFrame::new(CloseCode::GOING_AWAY, "idle timeout");
                        self.begin_close(Some(&frame), Phase::CloseSent);
                    }
                }
                Expiry::PeerGone => {
                    // Attempted: the driver tries to write it out once,
                    // without waiting, before it drops the transport.
                    if self.phase == Phase::Open && !self.queue.frame_open() {
                        let frame = CloseFrame::new(CloseCode::INTERNAL, "keepalive timeout");
                        self.queue_close(Some(&frame));
                    }
                    self.expire(expiry);
                }
                Expiry::WriteStalled => self.expire(expiry),
                Expiry::Close => {
                    if self.outcome.is_none() {
                        self.outcome = Some(Outcome::Error(Error::CloseTimeout));
                    }
                    self.phase = Phase::Expired;
                }
            }
        }
    }

    /// Ends the connection on a deadline that leaves nothing to wait for,
    /// whatever else was to be reported.
    fn expire(&mut self, expiry: Expiry) {
        let err = match expiry {
            Expiry::PeerGone => Error::KeepaliveTimeout,
            _ => Error::WriteTimeout,
        };
        self.outcome = Some(Outcome::Error(err));
        self.ended_by = Some(expiry);
        self.phase = Phase::Expired;
    }

    /// What sending on a connection that is no longer open reports.
    #[cold]
    pub(crate) fn not_open_error(&self) -> Error {
        match self.ended_by {
            Some(Expiry::PeerGone) => Error::KeepaliveTimeout,
            Some(_) => Error::WriteTimeout,
            None => Error::AlreadyClosed,
        }
    }

    // --- the phases -----------------------------------------------------

    /// Decodes what is buffered: the next message or piece of one for the
    /// application, or what the driver must do first.
    #[inline(always)]
    pub(crate) fn next(&mut self, mode: Mode) -> Next {
        loop {
            match self.phase {
                Phase::Closed => return Next::Closed,
                Phase::Expired => return Next::Finish,
                Phase::Finishing => return Next::Shutdown,
                Phase::Ending => return Next::AwaitEnd,
                Phase::Draining => return Next::Drain,
                Phase::Open | Phase::CloseSent => {}
            }
            // Nothing buffered between messages (each wait for input
            // starts so): nothing to decode.
            if self.read.len() == 0 && self.decoder.is_idle() {
                return Next::Read(self.flush_before_read());
            }
            if let Mode::InPlace(_) = mode {
                if self.run_waits() {
                    return Next::Event(Event::Run);
                }
            }
            match self.decoder.decode(&mut self.read.data(), &self.cfg, mode) {
                Ok(Some(Event::Message(msg))) => match msg {
                    Message::Ping(ref payload) => {
                        if self.phase == Phase::Open {
                            self.queue.queue_frame(OpCode::Pong, true, false, payload);
                            return Next::Event(Event::Message(msg));
                        }
                    }
                    Message::Close(ref frame) => {
                        self.closed_by(ClosedBy::Peer, frame.as_ref());
                        if self.phase == Phase::Open {
                            // Echo the code (RFC 6455 5.5.1), then close the TCP
                            // connection: the server closes first (7.1.1).
                            let echo = frame.as_ref().map(|f| CloseFrame::new(f.code, ""));
                            self.queue_close(echo.as_ref());
                            self.start_close_timer();
                        }
                        // An idle timeout that closed first stays what
                        // is reported.
                        if self.outcome.is_none() {
                            self.outcome = Some(Outcome::Message(msg));
                        }
                        // A client leaves closing TCP to the server (7.1.1).
                        self.phase = match self.role {
                            Role::Server => Phase::Finishing,
                            Role::Client => Phase::Ending,
                        };
                    }
                    _ if self.phase == Phase::CloseSent => {}
                    msg => {
                        if let Some(len) = msg.data_len() {
                            self.timers.active = true;
                            self.counts.received_piece(len, true);
                        }
                        return Next::Event(Event::Message(msg));
                    }
                },
                // Only `next` says so, never the decoder.
                Ok(Some(Event::Run)) => return Next::Event(Event::Run),
                Ok(Some(chunk @ Event::Chunk { .. })) => {
                    if self.phase == Phase::Open {
                        self.timers.active = true;
                        if let Event::Chunk { data, end, .. } = &chunk {
                            self.counts.received_piece(data.len(), *end);
                        }
                        return Next::Event(chunk);
                    }
                }
                Ok(None) => return Next::Read(self.flush_before_read()),
                Err(e) => self.fail(e),
            }
        }
    }

    /// The fast path of a receive that takes whole messages (`recv`,
    /// `recv_chunk`): the next one decoded ahead, while open, as
    /// `(payload, text)`; `None` leaves everything to [`next`](Self::next).
    #[inline(always)]
    pub(crate) fn next_whole(&mut self) -> Option<(Bytes, bool)> {
        if self.phase != Phase::Open {
            return None;
        }
        let (data, text) = self.decoder.pop_ready()?;
        self.timers.active = true;
        self.counts.received_piece(data.len(), true);
        Some((data, text))
    }

    /// The input ended (with everything queued written out): the peer's
    /// close was the last thing expected, or the connection was cut.
    pub(crate) fn end_of_input(&mut self) -> Result<Message, Error> {
        self.outcome = Some(if self.phase == Phase::CloseSent {
            Outcome::Closed
        } else {
            Outcome::Error(Error::Io(io::ErrorKind::UnexpectedEof.into()))
        });
        self.finish()
    }

    /// The transport failed: the connection is over.
    /// (A deadline that ended it first stays what is reported.)
    pub(crate) fn transport_failed(&mut self, e: io::Error) -> Result<Message, Error> {
        if self.phase != Phase::Expired {
            self.outcome = Some(Outcome::Error(Error::Io(e)));
        }
        self.finish()
    }

    /// Ends the connection: frees its buffers and reports how it ended (the
    /// peer's close frame, an error, or [`Error::ConnectionClosed`]).
    pub(crate) fn finish(&mut self) -> Result<Message, Error> {
        self.phase = Phase::Closed;
        self.timers.clear();
        self.queue.discard();
        self.sending = None;
        // Give the read buffer back: a closed connection holds no memory.
        self.read.release();
        // And the decoding and compression state: a message left unfinished,
        // zlib states (a lent one back to its pool), the budget's place.
        self.decoder.release();
        self.free_deflate();
        match self.outcome.take() {
            Some(Outcome::Message(m)) => Ok(m),
            Some(Outcome::Error(e)) => Err(e),
            Some(Outcome::Closed) | None => Err(Error::ConnectionClosed),
        }
    }
}
