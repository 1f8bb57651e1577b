//! Messages framed once and sent to many connections (gorilla's
//! `PreparedMessage`, uWebSockets' `publishPrepared`).

use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};

use crate::deflate::Deflater;
use crate::frame::{OpCode, MAX_HEADER_LEN};
use crate::message::MessageKind;

/// A data message encoded once, so broadcasting it costs no per-connection
/// encoding. Cloning is cheap (shared).
///
/// The uncompressed frame is built up front. For connections that
/// negotiated permessage-deflate without server context takeover, the
/// compressed frame is built once per parameter set (window bits, level) on
/// first use and cached. A connection that keeps its compression context
/// between messages must compress the message with that context, so there
/// it is compressed per connection (its stream would break otherwise).
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    opcode: OpCode,
    payload: Bytes,
    plain: Bytes,
    /// Compressed frames by (window bits, level).
    compressed: Mutex<Vec<((u8, u32), Bytes)>>,
}

fn frame(opcode: OpCode, rsv1: bool, payload: &[u8]) -> Bytes {
    let mut header = [0u8; MAX_HEADER_LEN];
    let n = crate::frame::encode_header(&mut header, opcode, true, rsv1, payload.len());
    let mut framed = BytesMut::with_capacity(n + payload.len());
    framed.extend_from_slice(&header[..n]);
    framed.extend_from_slice(payload);
    framed.freeze()
}

impl PreparedMessage {
    /// Prepares `payload` as one unfragmented message of `kind`.
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
        let plain = frame(opcode, false, &payload);
        Some(PreparedMessage {
            inner: Arc::new(Inner {
                opcode,
                payload,
                plain,
                compressed: Mutex::new(Vec::new()),
            }),
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

    /// The payload.
    pub fn payload(&self) -> &Bytes {
        &self.inner.payload
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        match self.inner.opcode {
            OpCode::Text => MessageKind::Text,
            _ => MessageKind::Binary,
        }
    }

    /// How many compressed encodings have been built so far.
    pub fn compressed_encodings(&self) -> usize {
        self.inner.compressed.lock().map(|c| c.len()).unwrap_or(0)
    }

    pub(crate) fn opcode(&self) -> OpCode {
        self.inner.opcode
    }

    /// The uncompressed frame.
    pub(crate) fn plain_frame(&self) -> Bytes {
        self.inner.plain.clone()
    }

    /// The frame compressed with a fresh context (for no-context-takeover
    /// connections), built once per parameter set.
    pub(crate) fn compressed_frame(&self, window_bits: u8, level: u32) -> Bytes {
        let key = (window_bits, level);
        let mut cache = self
            .inner
            .compressed
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((_, f)) = cache.iter().find(|(k, _)| *k == key) {
            return f.clone();
        }
        let mut out = BytesMut::new();
        Deflater::new(level, window_bits, true).compress(&self.inner.payload, &mut out);
        let f = frame(self.inner.opcode, true, &out);
        cache.push((key, f.clone()));
        f
    }
}
