//! Frames as a client writes them, and as a test reads the server's; and
//! the other way round, for wsup as the client: frames as a server writes
//! them, and the client's read back with their masking keys.

/// Opcodes (RFC 6455, section 5.2).
pub const OP_CONT: u8 = 0x0;
/// Text.
pub const OP_TEXT: u8 = 0x1;
/// Binary.
pub const OP_BINARY: u8 = 0x2;
/// Close.
pub const OP_CLOSE: u8 = 0x8;
/// Ping.
pub const OP_PING: u8 = 0x9;
/// Pong.
pub const OP_PONG: u8 = 0xA;

/// The RSV1 bit in a frame's `rsv` (the three reserved bits, RSV1 highest):
/// set on compressed messages by permessage-deflate.
pub const RSV1: u8 = 0x4;

/// The mask of [`client_frame`].
pub const MASK: [u8; 4] = [0xa1, 0xb2, 0xc3, 0xd4];

/// Encodes one frame: `rsv` is the three reserved bits (RSV1 = 4), `mask`
/// as a client must (`None`: unmasked, which a server must refuse).
pub fn encode_frame(
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(if fin { 0x80 } else { 0 } | (rsv & 0x7) << 4 | (opcode & 0x0F));
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(m | n as u8),
        n if n <= 0xFFFF => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            out.extend_from_slice(&k);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// One client frame, masked with [`MASK`], no reserved bits.
pub fn client_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    encode_frame(fin, 0, opcode, Some(MASK), payload)
}

/// One server frame: unmasked, no reserved bits.
pub fn server_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    encode_frame(fin, 0, opcode, None, payload)
}

/// A frame as it was on the wire, its payload unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The FIN bit.
    pub fin: bool,
    /// The three reserved bits, RSV1 highest ([`RSV1`]).
    pub rsv: u8,
    /// The opcode (low nibble of the first byte).
    pub opcode: u8,
    /// Whether the frame carried a mask (a server's must not).
    pub masked: bool,
    /// The masking key, if it carried one (a client's must, a fresh one
    /// per frame).
    pub key: Option<[u8; 4]>,
    /// The payload, unmasked.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A close frame's (code, reason); `None` for an empty close payload.
    /// Panics if this is not a close frame or the reason is not UTF-8.
    pub fn close_code(&self) -> Option<(u16, String)> {
        assert_eq!(self.opcode, OP_CLOSE, "not a close frame: {self:?}");
        if self.payload.is_empty() {
            return None;
        }
        let code = u16::from_be_bytes([self.payload[0], self.payload[1]]);
        let reason = String::from_utf8(self.payload[2..].to_vec()).expect("close reason is utf-8");
        Some((code, reason))
    }
}

/// The frame at the start of `buf` and its length on the wire; `None` until
/// `buf` holds all of it.
pub fn parse_frame(buf: &[u8]) -> Option<(Frame, usize)> {
    let (&b0, &b1) = (buf.first()?, buf.get(1)?);
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7F {
        126 => (
            u64::from(u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let mask: Option<[u8; 4]> = if masked {
        let m = buf.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(m)
    } else {
        None
    };
    let len = usize::try_from(len).expect("frame length");
    let mut payload = buf.get(at..at + len)?.to_vec();
    if let Some(k) = mask {
        payload
            .iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b ^= k[i % 4]);
    }
    let frame = Frame {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x7,
        opcode: b0 & 0x0F,
        masked,
        key: mask,
        payload,
    };
    Some((frame, at + len))
}

/// Every frame in `out`, which must end at the end of a frame.
pub fn parse_frames(out: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut rest = out;
    while !rest.is_empty() {
        let (frame, n) = parse_frame(rest).unwrap_or_else(|| {
            panic!(
                "{} bytes left that are not a whole frame after {} frames",
                rest.len(),
                frames.len()
            )
        });
        frames.push(frame);
        rest = &rest[n..];
    }
    frames
}

/// `len` bytes that deflate cannot shrink (xorshift), the same on every
/// call: payloads whose compressed frames stay as large as they are.
pub fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_back_as_encoded_at_every_length_form() {
        for len in [0, 1, 125, 126, 0xFFFF, 0x1_0000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            for mask in [None, Some(MASK)] {
                let mut wire = encode_frame(false, RSV1, OP_BINARY, mask, &payload);
                wire.extend(client_frame(OP_PING, true, b"p"));
                let frames = parse_frames(&wire);
                assert_eq!(
                    frames[0],
                    Frame {
                        fin: false,
                        rsv: RSV1,
                        opcode: OP_BINARY,
                        masked: mask.is_some(),
                        key: mask,
                        payload: payload.clone(),
                    }
                );
                assert_eq!(frames[1].payload, b"p");
                let first = wire.len() - 7;
                assert!(parse_frame(&wire[..first - 1]).is_none());
                assert_eq!(parse_frame(&wire).unwrap().1, first);
            }
        }
    }

    #[test]
    fn a_close_frame_gives_its_code_and_reason() {
        let f = parse_frame(&encode_frame(true, 0, OP_CLOSE, None, b"\x03\xe8bye")).unwrap();
        assert_eq!(f.0.close_code(), Some((1000, "bye".to_owned())));
    }
}
