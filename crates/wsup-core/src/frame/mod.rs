//! Frame codec: the header format of RFC 6455 section 5.2.
//!
//! Raw frames come first; message assembly is layered on top of this in the
//! connection. Nothing here allocates: headers are parsed from and encoded into
//! byte slices, the encoded form into a stack array.

mod mask;

pub use mask::{
    apply_mask, apply_mask_plain, apply_mask_portable, copy_masked, copy_plain, PLAIN_COPY_LOOP,
};
pub(crate) use mask::{extend_masked, extend_plain};

use crate::error::ProtocolError;

/// The largest header: 2 bytes, 8 bytes of extended length, 4 of mask.
pub const MAX_HEADER_LEN: usize = 14;

/// A frame opcode, RFC 6455 section 5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// Continuation of a fragmented message.
    Continuation,
    /// First frame of a text message.
    Text,
    /// First frame of a binary message.
    Binary,
    /// Close control frame.
    Close,
    /// Ping control frame.
    Ping,
    /// Pong control frame.
    Pong,
}

impl OpCode {
    /// Decodes the low nibble of the first header byte.
    pub fn from_u8(v: u8) -> Option<OpCode> {
        Some(match v {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN bit: last frame of a message.
    pub fin: bool,
    /// RSV1 (per-message compressed, with permessage-deflate).
    pub rsv1: bool,
    /// RSV2 and RSV3, which no supported extension defines.
    pub rsv23: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses a header from the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` does not yet hold the whole header, and
    /// otherwise the header with its encoded length. Checks only what the header
    /// itself can violate: unknown opcodes, a non-minimal or 64-bit-overflowing
    /// length, control frames that are fragmented or over 125 bytes.
    #[inline(always)]
    pub fn parse(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        if buf.len() < 2 {
            return Ok(None);
        }
        let b0 = buf[0];
        let b1 = buf[1];
        let opcode = OpCode::from_u8(b0 & 0x0F).ok_or(ProtocolError::UnknownOpcode(b0 & 0x0F))?;
        let fin = b0 & 0x80 != 0;
        let masked = b1 & 0x80 != 0;
        let len7 = b1 & 0x7F;
        let ext = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header_len = 2 + ext + if masked { 4 } else { 0 };
        if buf.len() < header_len {
            return Ok(None);
        }
        let payload_len = match len7 {
            126 => {
                let v = u16::from_be_bytes([buf[2], buf[3]]) as u64;
                if v < 126 {
                    return Err(ProtocolError::NonMinimalLength);
                }
                v
            }
            127 => {
                let v = u64::from_be_bytes(buf[2..10].try_into().expect("8 bytes"));
                if v >> 63 != 0 {
                    return Err(ProtocolError::InvalidLength);
                }
                if v <= u16::MAX as u64 {
                    return Err(ProtocolError::NonMinimalLength);
                }
                v
            }
            n => n as u64,
        };
        if opcode.is_control() {
            if !fin {
                return Err(ProtocolError::FragmentedControl);
            }
            if payload_len > 125 {
                return Err(ProtocolError::ControlTooLong);
            }
        }
        let mask = if masked {
            let m = 2 + ext;
            Some([buf[m], buf[m + 1], buf[m + 2], buf[m + 3]])
        } else {
            None
        };
        Ok(Some((
            FrameHeader {
                fin,
                rsv1: b0 & 0x40 != 0,
                rsv23: (b0 >> 4) & 0x3,
                opcode,
                mask,
                payload_len,
            },
            header_len,
        )))
    }

    /// Encodes the header into `out`, returning the number of bytes used.
    #[inline]
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = (self.fin as u8) << 7
            | (self.rsv1 as u8) << 6
            | (self.rsv23 & 0x3) << 4
            | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut n = if self.payload_len < 126 {
            out[1] = mask_bit | self.payload_len as u8;
            2
        } else if self.payload_len <= u16::MAX as u64 {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&(self.payload_len as u16).to_be_bytes());
            4
        } else {
            out[1] = mask_bit | 127;
            out[2..10].copy_from_slice(&self.payload_len.to_be_bytes());
            10
        };
        if let Some(m) = self.mask {
            out[n..n + 4].copy_from_slice(&m);
            n += 4;
        }
        n
    }
}

/// Encodes the header of an unmasked frame (as a server sends them) into
/// `out`, returning its length.
#[inline]
pub(crate) fn encode_header(
    out: &mut [u8; MAX_HEADER_LEN],
    opcode: OpCode,
    fin: bool,
    rsv1: bool,
    len: usize,
) -> usize {
    FrameHeader {
        fin,
        rsv1,
        rsv23: 0,
        opcode,
        mask: None,
        payload_len: len as u64,
    }
    .encode(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(opcode: OpCode, len: u64, mask: Option<[u8; 4]>) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv1: false,
            rsv23: 0,
            opcode,
            mask,
            payload_len: len,
        }
    }

    #[test]
    fn encode_then_parse_round_trips_every_length_class() {
        for len in [0u64, 1, 125, 126, 127, 65535, 65536, 1 << 20, (1 << 63) - 1] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let h = header(OpCode::Binary, len, mask);
                let mut out = [0u8; MAX_HEADER_LEN];
                let n = h.encode(&mut out);
                let (parsed, used) = FrameHeader::parse(&out[..n]).unwrap().unwrap();
                assert_eq!(parsed, h);
                assert_eq!(used, n);
                // Every strict prefix is "need more bytes".
                for cut in 0..n {
                    assert_eq!(FrameHeader::parse(&out[..cut]).unwrap(), None);
                }
            }
        }
    }

    #[test]
    fn header_lengths_match_rfc_examples() {
        // RFC 6455 5.7: a single-frame unmasked text message "Hello".
        let (h, n) = FrameHeader::parse(&[0x81, 0x05, b'H']).unwrap().unwrap();
        assert_eq!(
            (h.opcode, h.fin, h.payload_len, n),
            (OpCode::Text, true, 5, 2)
        );
        // A masked one.
        let (h, n) = FrameHeader::parse(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d])
            .unwrap()
            .unwrap();
        assert_eq!((h.mask, n), (Some([0x37, 0xfa, 0x21, 0x3d]), 6));
        // 256 bytes binary, 16-bit length.
        let (h, n) = FrameHeader::parse(&[0x82, 0x7E, 0x01, 0x00])
            .unwrap()
            .unwrap();
        assert_eq!((h.payload_len, n), (256, 4));
    }

    #[test]
    fn rejects_what_the_header_alone_can_violate() {
        assert!(matches!(
            FrameHeader::parse(&[0x83, 0x00]),
            Err(ProtocolError::UnknownOpcode(3))
        ));
        assert!(matches!(
            FrameHeader::parse(&[0x8B, 0x00]),
            Err(ProtocolError::UnknownOpcode(0xB))
        ));
        assert!(matches!(
            FrameHeader::parse(&[0x09, 0x00]),
            Err(ProtocolError::FragmentedControl)
        ));
        assert!(matches!(
            FrameHeader::parse(&[0x89, 0x7E, 0, 126]),
            Err(ProtocolError::ControlTooLong)
        ));
        assert!(matches!(
            FrameHeader::parse(&[0x82, 0x7E, 0, 5]),
            Err(ProtocolError::NonMinimalLength)
        ));
        let mut big = [0x82u8, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            FrameHeader::parse(&big),
            Err(ProtocolError::InvalidLength)
        ));
        big[2] = 0;
        big[9] = 5;
        assert!(matches!(
            FrameHeader::parse(&big),
            Err(ProtocolError::NonMinimalLength)
        ));
    }

    #[test]
    fn reserved_bits_are_reported_not_rejected_by_the_codec() {
        let (h, _) = FrameHeader::parse(&[0xC1, 0x00]).unwrap().unwrap();
        assert!(h.rsv1);
        let (h, _) = FrameHeader::parse(&[0xB1, 0x00]).unwrap().unwrap();
        assert_eq!(h.rsv23, 3);
    }
}
