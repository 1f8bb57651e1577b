//! Messages as the application sees them: whole ([`Message`]) or in
//! pieces ([`Chunk`]), and their kinds.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

use crate::close::CloseFrame;
use crate::frame::OpCode;

/// UTF-8 text held in [`Bytes`], so a received text message can be sent on
/// with no copy.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps bytes already known to be UTF-8.
    ///
    /// Returns `None` if they are not.
    pub fn from_bytes(bytes: Bytes) -> Option<Self> {
        simdutf8::basic::from_utf8(&bytes).ok()?;
        Some(Utf8Bytes(bytes))
    }

    /// Wraps bytes the caller has validated (the reader validates as it goes).
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Utf8Bytes(bytes)
    }

    /// A static string.
    pub const fn from_static(s: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(s.as_bytes()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Checked on construction and checked again here, without `unsafe`:
        // `from_utf8_unchecked` waits for a benchmark showing the scan matters.
        match std::str::from_utf8(&self.0) {
            Ok(s) => s,
            Err(_) => unreachable!("Utf8Bytes holds UTF-8 by construction"),
        }
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Unwraps the bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Utf8Bytes {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes(Bytes::from(s))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (valid UTF-8).
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping; the connection answers it with a pong by itself.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// A close frame. Received: the peer's close (already answered). Sent: starts the
    /// closing handshake.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(s: impl Into<Utf8Bytes>) -> Message {
        Message::Text(s.into())
    }

    /// A binary message.
    pub fn binary(b: impl Into<Bytes>) -> Message {
        Message::Binary(b.into())
    }

    /// Text or binary.
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }

    /// The payload length of a data message; `None` for a control frame.
    #[inline]
    pub(crate) fn data_len(&self) -> Option<usize> {
        match self {
            Message::Text(t) => Some(t.as_bytes().len()),
            Message::Binary(b) => Some(b.len()),
            _ => None,
        }
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Message::Text(t) => t.as_bytes().len(),
            Message::Binary(b) | Message::Ping(b) | Message::Pong(b) => b.len(),
            Message::Close(Some(c)) => 2 + c.reason.len(),
            Message::Close(None) => 0,
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload as bytes (a close frame gives its reason).
    pub fn into_payload(self) -> Bytes {
        match self {
            Message::Text(t) => t.into_bytes(),
            Message::Binary(b) | Message::Ping(b) | Message::Pong(b) => b,
            Message::Close(Some(c)) => Bytes::from(c.reason),
            Message::Close(None) => Bytes::new(),
        }
    }
}

/// The kind of a data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Binary.
    Binary,
}

impl MessageKind {
    pub(crate) fn of(text: bool) -> Self {
        if text {
            MessageKind::Text
        } else {
            MessageKind::Binary
        }
    }

    /// The opcode of a message's first frame.
    pub(crate) fn opcode(self) -> OpCode {
        match self {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}

/// A piece of a data message: what [`WebSocket::recv_chunk`] receives and
/// [`WebSocket::feed_chunk`] sends. A chunk that is [`last`](Self::last)
/// ends its message; one that is also the first is a whole message.
///
/// [`WebSocket::recv_chunk`]: crate::WebSocket::recv_chunk
/// [`WebSocket::feed_chunk`]: crate::WebSocket::feed_chunk
#[derive(Debug, Clone)]
pub struct Chunk {
    kind: MessageKind,
    data: Bytes,
    last: bool,
    /// A whole text message already checked as UTF-8.
    validated: bool,
    /// Received as the first piece of a message that is one uncompressed
    /// frame of this many payload bytes (see `WebSocket::feed_chunk`).
    frame_len: Option<usize>,
}

/// A [`Chunk`] taken apart, for the engine.
pub(crate) struct ChunkParts {
    pub(crate) kind: MessageKind,
    pub(crate) data: Bytes,
    pub(crate) last: bool,
    pub(crate) validated: bool,
    pub(crate) frame_len: Option<usize>,
}

/// Equal when kind, bytes and `last` are: where a chunk came from does not count.
impl PartialEq for Chunk {
    fn eq(&self, other: &Self) -> bool {
        (self.kind, &self.data, self.last) == (other.kind, &other.data, other.last)
    }
}

impl Eq for Chunk {}

impl Chunk {
    /// A piece of binary data; `last` ends the message.
    pub fn binary(data: impl Into<Bytes>, last: bool) -> Self {
        Chunk {
            kind: MessageKind::Binary,
            data: data.into(),
            last,
            validated: false,
            frame_len: None,
        }
    }

    /// A piece of text; `last` ends the message. A piece may end inside a
    /// code point, but the message as a whole must be UTF-8: `feed_chunk`
    /// checks it as it goes.
    pub fn text(data: impl Into<Bytes>, last: bool) -> Self {
        Chunk {
            kind: MessageKind::Text,
            data: data.into(),
            last,
            validated: false,
            frame_len: None,
        }
    }

    pub(crate) fn whole_text(data: Bytes) -> Self {
        Chunk {
            kind: MessageKind::Text,
            data,
            last: true,
            validated: true,
            frame_len: None,
        }
    }

    pub(crate) fn received(data: Bytes, text: bool, last: bool, frame_len: Option<usize>) -> Self {
        Chunk {
            kind: MessageKind::of(text),
            data,
            last,
            validated: false,
            frame_len,
        }
    }

    /// The opcode of the one frame this chunk is sent as, if it is a whole
    /// message that needs no check: binary, or text already checked.
    #[inline(always)]
    pub(crate) fn whole_opcode(&self) -> Option<OpCode> {
        match self.kind {
            _ if !self.last => None,
            MessageKind::Binary => Some(OpCode::Binary),
            MessageKind::Text if self.validated => Some(OpCode::Text),
            MessageKind::Text => None,
        }
    }

    pub(crate) fn into_parts(self) -> ChunkParts {
        ChunkParts {
            kind: self.kind,
            data: self.data,
            last: self.last,
            validated: self.validated,
            frame_len: self.frame_len,
        }
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The bytes of this piece.
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    /// Takes the bytes.
    pub fn into_data(self) -> Bytes {
        self.data
    }

    /// This piece ends its message.
    pub fn last(&self) -> bool {
        self.last
    }
}
