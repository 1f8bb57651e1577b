//! The common case in one pass: a read that brings a run of whole data
//! frames, each a whole message (FIN, no RSV bit, text or binary, a 7- or
//! 16-bit length), masked as the role expects and within the limits. The
//! run is checked and unmasked in one loop, split off the read buffer as
//! one `Bytes`, and its messages handed out from it one by one: a slice
//! each, with none of the bookkeeping of a frame that arrives in parts,
//! and one split of the read buffer per run rather than two per message.
//!
//! Anything else (a control frame, a fragment, a compressed frame, a frame
//! not all here, one over a limit, text that is not UTF-8) ends the run,
//! left in the read buffer as it came for the general path (`decode.rs`),
//! which makes every check again and so reports whatever this one did not
//! take. Frames of the run keep their order before it.

use bytes::{Buf, Bytes};

use crate::config::WebSocketConfig;
use crate::frame::apply_mask;

use super::read_buf::Buffered;

/// The largest payload a run takes under `cfg`'s limits (a frame over
/// them is the general path's, which refuses it).
pub(super) fn whole_limit(cfg: &WebSocketConfig) -> usize {
    cfg.max_frame_size.min(cfg.max_message_size)
}

/// The whole frame at the front of a buffer, as the run takes it: `(text,
/// header length with the key, payload length)`, if it is one and all of
/// it is here. Its payload is still masked.
#[inline(always)]
pub(super) fn whole_at_front(
    bytes: &[u8],
    masked: bool,
    limit: usize,
) -> Option<(bool, usize, usize)> {
    let &[b0, b1, ..] = bytes else {
        return None;
    };
    let text = b0 == 0x81;
    if !(text || b0 == 0x82) || (b1 & 0x80 != 0) != masked {
        return None;
    }
    let (len, short) = match b1 & 0x7f {
        127 => return None,
        // A 16-bit length under 126 is not minimal: the general path
        // refuses it.
        126 => match bytes.get(2..4) {
            Some(&[hi, lo]) if u16::from_be_bytes([hi, lo]) >= 126 => {
                (usize::from(u16::from_be_bytes([hi, lo])), 4)
            }
            _ => return None,
        },
        n => (usize::from(n), 2),
    };
    let header_len = short + if masked { 4 } else { 0 };
    if len > limit || bytes.len() < header_len + len {
        return None;
    }
    Some((text, header_len, len))
}

/// What [`take_whole`] found at the front of a buffer.
pub(super) enum Front {
    /// A whole message, checked: text or binary, its payload `start` up
    /// to `end` of the buffer, the frame's end. Unmasked, but for a binary
    /// payload taken with `defer_binary`, whose `key` it is.
    Whole {
        text: bool,
        start: usize,
        end: usize,
        key: Option<[u8; 4]>,
    },
    /// A whole text frame that is not UTF-8, left masked as it came: the
    /// connection fails (1007).
    NotUtf8,
    /// Anything else: the general path's.
    Other,
}

/// Takes the whole frame at the front of `bytes` if the run takes it:
/// unmasks it in place and checks its text. With `defer_binary`, a binary
/// payload is left masked, its key returned, for the caller to unmask
/// where it copies it anyway (`each.rs`).
#[inline(always)]
pub(super) fn take_whole(
    bytes: &mut [u8],
    masked: bool,
    limit: usize,
    defer_binary: bool,
) -> Front {
    let Some((text, header_len, len)) = whole_at_front(bytes, masked, limit) else {
        return Front::Other;
    };
    let end = header_len + len;
    let (head, payload) = bytes[..end].split_at_mut(header_len);
    // The key: the header's last four bytes (a word load: taken apart
    // byte by byte it cost a sixth of this function).
    let key = match head.len().checked_sub(4) {
        Some(at) if masked => {
            let word: [u8; 4] = head[at..].try_into().unwrap_or_default();
            Some(word)
        }
        _ => None,
    };
    if defer_binary && !text && key.is_some() {
        return Front::Whole {
            text,
            start: header_len,
            end,
            key,
        };
    }
    if let Some(key) = key {
        apply_mask(payload, key, 0);
    }
    if text && simdutf8::basic::from_utf8(payload).is_err() {
        if let Some(key) = key {
            // Masked again, as it came.
            apply_mask(payload, key, 0);
        }
        return Front::NotUtf8;
    }
    Front::Whole {
        text,
        start: header_len,
        end,
        key: None,
    }
}

/// Whole messages decoded ahead of the application: the frames of a run,
/// headers and unmasked payloads as they came.
#[derive(Debug, Default)]
pub(crate) struct Ready {
    run: Bytes,
}

impl Ready {
    /// Nothing is decoded ahead.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.run.is_empty()
    }

    /// Forgets what was decoded ahead (the connection is over, or input
    /// is discarded).
    pub(crate) fn clear(&mut self) {
        self.run = Bytes::new();
    }

    /// Takes the run of whole frames at the front of `buf` whose payloads
    /// are at most `limit` bytes and masked as `masked` says: unmasked,
    /// text checked, split off. Whether it took any. (Text that is not
    /// UTF-8 ends the run, left as it came for the general path to
    /// report.)
    #[inline]
    pub(crate) fn scan(&mut self, buf: &mut Buffered<'_>, masked: bool, limit: usize) -> bool {
        let bytes: &mut [u8] = buf;
        let mut at = 0;
        while let Front::Whole { end, .. } = take_whole(&mut bytes[at..], masked, limit, false) {
            at += end;
        }
        if at == 0 {
            return false;
        }
        self.run = buf.split_to(at).freeze();
        true
    }

    /// The next message of the run: `(payload, text)`.
    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<(Bytes, bool)> {
        // The run holds only frames `header` took: no check but the length.
        let &[b0, b1, ref rest @ ..] = &self.run[..] else {
            return None;
        };
        let (len, header_len) = match (b1 & 0x7f, rest) {
            (126, &[hi, lo, ..]) => (usize::from(u16::from_be_bytes([hi, lo])), 4),
            (n, _) => (usize::from(n), 2),
        };
        let header_len = header_len + usize::from(b1 >> 7) * 4;
        let text = b0 == 0x81;
        let end = header_len + len;
        let data = if end >= self.run.len() {
            // The last: the run lets go of the read buffer with it.
            let mut last = std::mem::take(&mut self.run);
            last.advance(header_len);
            last
        } else {
            let data = self.run.slice(header_len..end);
            self.run.advance(end);
            data
        };
        Some((data, text))
    }
}
