//! Messages handled where they lie (`WebSocket::recv_each`): a run of
//! whole messages at the front of the read buffer (see `ready.rs` for
//! which frames a run takes) is handed to the caller's handler one by one
//! as borrowed slices, with [`Replies`] to answer on the same connection.
//! Text is unmasked and checked as the run is taken. A binary payload is
//! left masked until the handler looks at it (then unmasked in place) or
//! relays it ([`Replies::relay`] unmasks it as it copies it to the output:
//! one pass over the bytes where unmasking and then copying make two).
//! No message is split off the buffer, so none costs a `Bytes` (a
//! reference count taken and dropped per message, the largest part of a
//! small message's cost on the `recv_chunk` path) nor a future polled per
//! message: uWebSockets' message handler, in Rust.
//!
//! Anything else comes through the general path as a [`Chunk`] (a piece
//! of a message too large to hold whole, a compressed or fragmented one,
//! one over 64 KiB, or a binary one over 32 KiB not all here yet), and is
//! handed to the handler the same way.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::NonNull;

use super::ready::{take_whole, whole_at_front, whole_limit, Front};
use super::{Phase, Protocol};
use crate::error::{Error, ProtocolError};
use crate::frame::{apply_mask, OpCode};
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
    /// A whole binary message in place, unmasked when first looked at.
    Deferred(Deferred<'a>),
    /// From the general path.
    Chunk(&'a Chunk),
}

/// A whole binary message's payload in the read buffer, still masked as it
/// came: unmasked in place the first time its bytes are looked at, or
/// unmasked as [`Replies::relay`] copies it, one pass over the bytes where
/// unmasking and then copying make two (an echo's or a relay's whole work
/// on a payload).
struct Deferred<'a> {
    /// The bytes, borrowed exclusively for `'a` (from a `&'a mut [u8]`).
    ptr: NonNull<u8>,
    len: usize,
    /// The key, while the bytes are still masked.
    key: Cell<Option<[u8; 4]>>,
    _bytes: PhantomData<&'a mut [u8]>,
}

impl<'a> Deferred<'a> {
    fn new(bytes: &'a mut [u8], key: [u8; 4]) -> Self {
        Deferred {
            len: bytes.len(),
            ptr: NonNull::from(bytes).cast(),
            key: Cell::new(Some(key)),
            _bytes: PhantomData,
        }
    }

    /// The bytes, unmasked (in place, the first time).
    #[inline]
    fn bytes(&self) -> &'a [u8] {
        if let Some(key) = self.key.take() {
            // SAFETY: `ptr` and `len` are the `&'a mut [u8]` this was made
            // from, borrowed exclusively for `'a`. While the key was here no
            // reference to the bytes existed: every shared one comes from
            // this function, after the key is gone, and the one
            // `queue_unmasking` makes ends with that call. So this mutable
            // one is the only reference while it lives.
            let bytes = unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) };
            apply_mask(bytes, key, 0);
        }
        // SAFETY: the bytes are borrowed for `'a` (above), initialised, and
        // from here on only read: with the key gone nothing writes them.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Queues the message on `proto` unmasked as it is copied, if its bytes
    /// are still masked and `proto` takes it so: whether it did.
    #[inline]
    fn queue_unmasking(&self, proto: &mut Protocol) -> bool {
        let Some(key) = self.key.get() else {
            return false;
        };
        // SAFETY: the bytes are borrowed for `'a` (see `bytes`). This
        // shared borrow lives for this call only, in which nothing writes
        // them: `bytes` is not called, and `proto` cannot reach them (its
        // read buffer is out of it while handlers run).
        let masked = unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) };
        proto.queue_whole_unmasking(masked, key)
    }
}

impl std::fmt::Debug for Deferred<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("len", &self.len)
            .field("masked", &self.key.get().is_some())
            .finish()
    }
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
            Repr::Deferred(_) => MessageKind::Binary,
            Repr::Chunk(c) => c.kind(),
        }
    }

    /// The bytes.
    pub fn data(&self) -> &'a [u8] {
        match self.0 {
            Repr::Whole { data, .. } => data,
            Repr::Deferred(ref d) => d.bytes(),
            Repr::Chunk(c) => c.data(),
        }
    }

    /// Whether this ends its message (always, but for the pieces of a
    /// message handed out as its bytes arrive: see
    /// [`recv_chunk`](crate::WebSocket::recv_chunk)).
    pub fn last(&self) -> bool {
        match self.0 {
            Repr::Whole { .. } | Repr::Deferred(_) => true,
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
        if let Repr::Chunk(c) = self.0 {
            return c.clone();
        }
        let data = bytes::Bytes::copy_from_slice(self.data());
        match self.kind() {
            MessageKind::Text => Chunk::whole_text(data),
            MessageKind::Binary => Chunk::binary(data, true),
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
    // Always inlined into the handler's loop (`each_in_place`): left a
    // call, it cost 38 of a 16-byte echo's 502 instructions a message
    // (callgrind, `docs/bench`).
    #[inline(always)]
    pub fn relay(&mut self, msg: &Received<'_>) -> Result<(), Error> {
        match msg.0 {
            Repr::Whole { text, data } => self.whole(text, data),
            Repr::Deferred(ref d) => {
                self.proto.check_whole()?;
                if !d.queue_unmasking(self.proto) {
                    self.proto.queue_whole(OpCode::Binary, d.bytes());
                }
                Ok(())
            }
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
        // Nothing buffered (the call after a batch, and the one before
        // the next read): no header to look at, and the buffer stays put.
        if self.phase != Phase::Open || !self.decoder.is_idle() || self.read.len() < 2 {
            return Ok(0);
        }
        let (masked, limit, backlog) = (
            self.decoder.expects_masked(),
            whole_limit(&self.cfg),
            self.cfg.backlog_limit(),
        );
        // Out of the protocol while the handler runs, so that the handler
        // may queue on it (the same allocation goes back: see `ReadBuf`).
        let (mut buf, init) = self.read.take();
        let (mut at, mut handed, mut outcome) = (0, 0, Ok(()));
        // A handler that closed (`Replies::feed` with a close) ends the run:
        // what follows is discarded while the peer's close is awaited, as
        // on the general path.
        while self.phase == Phase::Open && self.queue.queued() < backlog {
            match take_whole(&mut buf[at..], masked, limit, true) {
                Front::Whole {
                    text,
                    start,
                    end,
                    key,
                } => {
                    let data = &mut buf[at + start..at + end];
                    at += end;
                    handed += 1;
                    self.timers.active = true;
                    self.counts.received_piece(data.len(), true);
                    let msg = match key {
                        Some(key) => Received(Repr::Deferred(Deferred::new(data, key))),
                        None => Received(Repr::Whole { text, data }),
                    };
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
        super::consume_front(&mut buf, at);
        self.read.restore(buf, init);
        outcome.map(|()| handed)
    }
}
