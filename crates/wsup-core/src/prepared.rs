//! Messages framed once and sent to many connections (gorilla's
//! `PreparedMessage`).

use bytes::{Bytes, BytesMut};

use crate::conn::MessageKind;
use crate::frame::{OpCode, MAX_HEADER_LEN};

/// A data message encoded as a frame once, so broadcasting it to many
/// connections costs no per-connection encoding. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    framed: Bytes,
}

impl PreparedMessage {
    /// Frames `payload` as one unfragmented message of `kind`.
    ///
    /// Text must be UTF-8: `None` if it is not.
    pub fn new(kind: MessageKind, payload: impl Into<Bytes>) -> Option<Self> {
        let payload = payload.into();
        let opcode = match kind {
            MessageKind::Text => {
                simdutf8::basic::from_utf8(&payload).ok()?;
                OpCode::Text
            }
            MessageKind::Binary => OpCode::Binary,
        };
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = crate::conn::encode_header(&mut header, opcode, true, false, payload.len());
        let mut framed = BytesMut::with_capacity(n + payload.len());
        framed.extend_from_slice(&header[..n]);
        framed.extend_from_slice(&payload);
        Some(PreparedMessage {
            framed: framed.freeze(),
        })
    }

    /// A prepared text message.
    pub fn text(s: impl Into<String>) -> Self {
        Self::new(MessageKind::Text, s.into()).expect("a String is utf-8")
    }

    /// A prepared binary message.
    pub fn binary(b: impl Into<Bytes>) -> Self {
        Self::new(MessageKind::Binary, b).expect("binary needs no check")
    }

    /// The encoded frame.
    pub(crate) fn framed(&self) -> Bytes {
        self.framed.clone()
    }
}
