//! Messages handled where they lie (`WebSocket::recv_each`): a run of
//! whole messages at the front of the read buffer (see `ready.rs` for
//! which frames a run takes) is unmasked in place and each handed to the
//! caller's handler as a borrowed slice, with [`Replies`] to answer on
//! the same connection. No message is split off the buffer, so none costs
//! a `Bytes` (a reference count taken and dropped per message, the
//! largest part of a small message's cost on the `recv_chunk` path) nor a
//! future polled per message: uWebSockets' message handler, in Rust.
//!
//! Anything else comes through the general path as a [`Chunk`] (a piece
//! of a message too large to hold whole, a compressed or fragmented one,
//! one over 64 KiB), and is handed to the handler the same way.

use super::ready::{take_whole, whole_at_front, whole_limit, Front};
use super::{Phase, Protocol};
use crate::error::{Error, ProtocolError};
use crate::frame::OpCode;
use crate::message::{Chunk, Message, MessageKind};

/// A message, or a piece of one, handed to a
/// [`recv_each`](crate::WebSocket::recv_each) handler: borrowed from the
/// connection's read buffer where it arrived whole, else a [`Chunk`] as
/// [`recv_chunk`](crate::WebSocket::recv_chunk) returns it.
#[derive(Debug)]
pub struct Received<'a>(Repr<'a>);

#[derive(Debug)]
enum Repr<'a> {
    /// A whole message, in place (text checked as UTF-8).
    Whole { text: bool, data: &'a [u8] },
    /// From the general path.
    Chunk(&'a Chunk),
}

impl<'a> Received<'a> {
    /// A chunk from the general path.
    pub(crate) fn chunk(chunk: &'a Chunk) -> Self {
        Received(Repr::Chunk(chunk))
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        match self.0 {
            Repr::Whole { text, .. } => MessageKind::of(text),
            Repr::Chunk(c) => c.kind(),
        }
    }

    /// The bytes.
    pub fn data(&self) -> &'a [u8] {
        match self.0 {
            Repr::Whole { data, .. } => data,
            Repr::Chunk(c) => c.data(),
        }
    }

    /// Whether this ends its message (always, but for the pieces of a
    /// message too large to hold whole: see
    /// [`recv_chunk`](crate::WebSocket::recv_chunk)).
    pub fn last(&self) -> bool {
        match self.0 {
            Repr::Whole { .. } => true,
            Repr::Chunk(c) => c.last(),
        }
    }

    /// The text of a whole text message (checked as UTF-8 already);
    /// `None` for binary or a piece.
    pub fn as_text(&self) -> Option<&'a str> {
        match self.0 {
            Repr::Whole { text: true, data } => std::str::from_utf8(data).ok(),
            Repr::Chunk(c) if c.whole_opcode() == Some(OpCode::Text) => {
                std::str::from_utf8(c.data()).ok()
            }
            _ => None,
        }
    }

    /// An owned [`Chunk`] of the same bytes, to keep past the handler
    /// (copied, where the message is borrowed).
    pub fn to_chunk(&self) -> Chunk {
        match self.0 {
            Repr::Whole { text: true, data } => {
                Chunk::whole_text(bytes::Bytes::copy_from_slice(data))
            }
            Repr::Whole { text: false, data } => {
                Chunk::binary(bytes::Bytes::copy_from_slice(data), true)
            }
            Repr::Chunk(c) => c.clone(),
        }
    }
}

/// Answers from inside a [`recv_each`](crate::WebSocket::recv_each)
/// handler, queued on its connection as [`feed`](crate::WebSocket::feed)
/// queues: written when the connection would next wait for input (so the
/// answers to a batch share a write), or once they pass the flush
/// threshold. Past the backlog limit the connection stops handing out
/// messages until its output drained (backpressure).
#[derive(Debug)]
pub struct Replies<'a> {
    proto: &'a mut Protocol,
}

impl<'a> Replies<'a> {
    pub(crate) fn new(proto: &'a mut Protocol) -> Self {
        Replies { proto }
    }

    /// Sends on what was received, as an echo or a relay does: a whole
    /// message copied (its text checked already), a piece as
    /// [`feed_chunk`](crate::WebSocket::feed_chunk) sends it.
    #[inline]
    pub fn relay(&mut self, msg: &Received<'_>) -> Result<(), Error> {
        match msg.0 {
            Repr::Whole { text, data } => self.whole(text, data),
            Repr::Chunk(c) => self.proto.queue_chunk(c.clone()),
        }
    }

    /// Queues a binary message, copied.
    #[inline]
    pub fn binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.whole(false, data)
    }

    /// Queues a text message, copied.
    #[inline]
    pub fn text(&mut self, text: &str) -> Result<(), Error> {
        self.whole(true, text.as_bytes())
    }

    /// Queues a message, as [`feed`](crate::WebSocket::feed) does.
    pub fn feed(&mut self, msg: Message) -> Result<(), Error> {
        self.proto.start_send(msg)
    }

    #[inline]
    fn whole(&mut self, text: bool, data: &[u8]) -> Result<(), Error> {
        self.proto.check_whole()?;
        let opcode = if text { OpCode::Text } else { OpCode::Binary };
        self.proto.queue_whole(opcode, data);
        Ok(())
    }
}

impl Protocol {
    /// Whether a whole message waits at the front of the read buffer for
    /// [`each_in_place`](Self::each_in_place), which then takes at least
    /// that one (or fails the connection on its text).
    pub(super) fn run_waits(&self) -> bool {
        self.phase == Phase::Open
            && self.decoder.is_idle()
            && self.queue.queued() < self.cfg.backlog_limit()
            && whole_at_front(
                self.read.bytes(),
                self.decoder.expects_masked(),
                whole_limit(&self.cfg),
            )
            .is_some()
    }

    /// Hands each whole message of the run at the front of the read buffer
    /// to `f`, in place, until the run ends or the output reaches the
    /// backlog limit; how many it handed. A handler's error stops it there
    /// (that message consumed) and is returned. Text that is not UTF-8
    /// fails the connection (1007), once the messages before it are handed.
    pub(crate) fn each_in_place<F>(&mut self, f: &mut F) -> Result<usize, Error>
    where
        F: FnMut(Received<'_>, &mut Replies<'_>) -> Result<(), Error>,
    {
        if self.phase != Phase::Open || !self.decoder.is_idle() {
            return Ok(0);
        }
        let (masked, limit, backlog) = (
            self.decoder.expects_masked(),
            whole_limit(&self.cfg),
            self.cfg.backlog_limit(),
        );
        // Out of the protocol while the handler runs, so that the handler
        // may queue on it (the same allocation goes back: see `ReadBuf`).
        let mut buf = self.read.take();
        let (mut at, mut handed, mut outcome) = (0, 0, Ok(()));
        // A handler that closed (`Replies::feed` with a close) ends the run:
        // what follows is discarded while the peer's close is awaited, as
        // on the general path.
        while self.phase == Phase::Open && self.queue.queued() < backlog {
            match take_whole(&mut buf[at..], masked, limit) {
                Front::Whole { text, start, end } => {
                    let data = &buf[at + start..at + end];
                    at += end;
                    handed += 1;
                    self.timers.active = true;
                    self.counts.received_piece(data.len(), true);
                    let msg = Received(Repr::Whole { text, data });
                    if let Err(e) = f(msg, &mut Replies::new(self)) {
                        outcome = Err(e);
                        break;
                    }
                }
                Front::NotUtf8 => {
                    self.fail(ProtocolError::InvalidUtf8);
                    break;
                }
                Front::Other => break,
            }
        }
        bytes::Buf::advance(&mut buf, at);
        self.read.restore(buf);
        outcome.map(|()| handed)
    }
}
