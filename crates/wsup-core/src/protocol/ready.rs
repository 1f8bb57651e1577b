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

use crate::frame::apply_mask;

use super::read_buf::Buffered;

/// Whole messages decoded ahead of the application: the frames of a run,
/// headers and unmasked payloads as they came.
#[derive(Debug, Default)]
pub(crate) struct Ready {
    run: Bytes,
}

impl Ready {
    /// Nothing is decoded ahead.
    #[cfg(test)]
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
    /// text checked, split off. Whether it took any.
    #[inline]
    pub(crate) fn scan(&mut self, buf: &mut Buffered<'_>, masked: bool, limit: usize) -> bool {
        let bytes: &mut [u8] = buf;
        let total = bytes.len();
        let key_len = if masked { 4 } else { 0 };
        let mut at = 0;
        while let Some(&[b0, b1]) = bytes.get(at..at + 2) {
            let text = b0 == 0x81;
            if !(text || b0 == 0x82) || (b1 & 0x80 != 0) != masked {
                break;
            }
            let (len, short) = match b1 & 0x7f {
                127 => break,
                // A 16-bit length under 126 is not minimal: the general
                // path refuses it.
                126 => match bytes.get(at + 2..at + 4) {
                    Some(&[hi, lo]) if u16::from_be_bytes([hi, lo]) >= 126 => {
                        (usize::from(u16::from_be_bytes([hi, lo])), 4)
                    }
                    _ => break,
                },
                n => (usize::from(n), 2),
            };
            let header_len = short + key_len;
            let end = at + header_len + len;
            if len > limit || end > total {
                break;
            }
            let (head, payload) = bytes[at..end].split_at_mut(header_len);
            let key = match *head {
                [.., k0, k1, k2, k3] if masked => Some([k0, k1, k2, k3]),
                _ => None,
            };
            if let Some(key) = key {
                apply_mask(payload, key, 0);
            }
            if text && simdutf8::basic::from_utf8(payload).is_err() {
                if let Some(key) = key {
                    // Masked again, as it came: the general path reports it.
                    apply_mask(payload, key, 0);
                }
                break;
            }
            at = end;
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
