//! The frames the load generator sends, and the parser of the echoes.

use super::MASK;

/// The payload of `size` bytes that every message carries.
pub fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

/// A masked binary frame of `size` payload bytes, as a client sends it.
pub fn client_frame(size: usize) -> Vec<u8> {
    masked_frame(0x82, &pattern(size))
}

/// A masked frame of `payload` whose first byte (FIN, RSV, opcode) is
/// `first`.
pub fn masked_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let size = payload.len();
    let mut frame = Vec::with_capacity(size + 14);
    frame.push(first);
    if size < 126 {
        frame.push(0x80 | size as u8);
    } else if size <= 0xffff {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(size as u16).to_be_bytes());
    } else {
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(size as u64).to_be_bytes());
    }
    frame.extend_from_slice(&MASK);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    frame
}

/// Parses echoed frames and counts whole messages; checks each header.
/// An echo may come in fragments: a binary frame, then continuations, the
/// last with FIN, their payloads adding up to the size sent.
pub struct Parser {
    pub expected: usize,
    /// Echoes from the raw TCP server are still masked; from a WebSocket
    /// server they must not be.
    masked: bool,
    /// Payload bytes of the current frame not yet seen.
    pub remaining: usize,
    /// Payload bytes of the current message in the frames before this one.
    seen: usize,
    /// The current frame ends its message.
    fin: bool,
}

impl Parser {
    pub fn new(expected: usize, masked: bool) -> Self {
        Parser {
            expected,
            masked,
            remaining: 0,
            seen: 0,
            fin: true,
        }
    }

    /// The current frame's payload is all seen: 1 if that ended a message.
    fn frame_done(&mut self) -> u64 {
        if self.fin {
            self.seen = 0;
            1
        } else {
            0
        }
    }

    /// `n` payload bytes of the current frame went by unseen: messages completed.
    pub fn skip(&mut self, n: usize) -> u64 {
        debug_assert!(n <= self.remaining);
        self.remaining -= n;
        if self.remaining == 0 {
            self.frame_done()
        } else {
            0
        }
    }

    /// Consumes what it can of `buf`: `(bytes consumed, messages completed)`.
    /// What is left is a partial header, shorter than 14 bytes.
    pub fn feed(&mut self, buf: &[u8]) -> Result<(usize, u64), String> {
        let mut pos = 0;
        let mut done = 0;
        while pos < buf.len() {
            if self.remaining > 0 {
                let n = self.remaining.min(buf.len() - pos);
                pos += n;
                done += self.skip(n);
                continue;
            }
            let Some((header, len)) = self.header(&buf[pos..])? else {
                break;
            };
            pos += header;
            self.remaining = len;
            if len == 0 {
                done += self.frame_done();
            }
        }
        Ok((pos, done))
    }

    /// `(header length, payload length)`, or `None` if incomplete; takes
    /// the header in.
    fn header(&mut self, buf: &[u8]) -> Result<Option<(usize, usize)>, String> {
        if buf.len() < 2 {
            return Ok(None);
        }
        let fin = buf[0] & 0x80 != 0;
        // Binary to start a message, continuation inside one; no RSV bits.
        let opcode = if self.fin { 0x2 } else { 0x0 };
        if buf[0] & 0x7f != opcode {
            return Err(format!("unexpected first byte {:#04x}", buf[0]));
        }
        if (buf[1] & 0x80 != 0) != self.masked {
            return Err("echoed frame has the wrong mask bit".to_owned());
        }
        let (ext, short) = match buf[1] & 0x7f {
            126 => (2, None),
            127 => (8, None),
            n => (0, Some(n as usize)),
        };
        let header = 2 + ext + if self.masked { 4 } else { 0 };
        if buf.len() < header {
            return Ok(None);
        }
        let len = match (short, ext) {
            (Some(n), _) => n,
            (None, 2) => u16::from_be_bytes([buf[2], buf[3]]) as usize,
            _ => u64::from_be_bytes(buf[2..10].try_into().expect("8 bytes")) as usize,
        };
        let total = self.seen.saturating_add(len);
        if total > self.expected || (fin && total != self.expected) {
            return Err(format!(
                "echoed message has {total} bytes, sent {}",
                self.expected
            ));
        }
        self.seen = total;
        self.fin = fin;
        Ok(Some((header, len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MASK;

    fn server_frame(size: usize) -> Vec<u8> {
        let mut frame = client_frame(size);
        // Unmask: clear the mask bit, drop the key, restore the payload.
        let header = frame.len() - size - 4;
        frame[1] &= 0x7f;
        let payload: Vec<u8> = frame[header + 4..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ MASK[i % 4])
            .collect();
        frame.truncate(header);
        frame.extend(payload);
        frame
    }

    /// Feeds `stream` to `parser` in reads of `split` bytes, keeping what it
    /// leaves for the next read: `(messages completed, bytes left over)`.
    fn feed_in_reads(mut parser: Parser, stream: &[u8], split: usize) -> (u64, usize) {
        let (mut pending, mut done) = (Vec::new(), 0);
        for chunk in stream.chunks(split) {
            pending.extend_from_slice(chunk);
            let (used, n) = parser.feed(&pending).unwrap();
            pending.drain(..used);
            done += n;
        }
        (done, pending.len())
    }

    #[test]
    fn every_header_length_is_parsed_across_any_split() {
        for size in [0, 16, 125, 126, 1024, 65535, 65536, 1 << 20] {
            for masked in [false, true] {
                let one = if masked {
                    client_frame(size)
                } else {
                    server_frame(size)
                };
                let stream = one.repeat(3);
                for split in [1, 2, 3, 7, 13, 4096] {
                    let got = feed_in_reads(Parser::new(size, masked), &stream, split);
                    assert_eq!(got, (3, 0), "size {size} split {split}");
                }
            }
        }
    }

    /// A server frame of `payload`: `first` a binary frame, else a continuation.
    fn fragment(payload: &[u8], first: bool, fin: bool) -> Vec<u8> {
        let mut frame = server_frame(payload.len());
        frame[0] = u8::from(fin) << 7 | u8::from(first) << 1;
        let header = frame.len() - payload.len();
        frame[header..].copy_from_slice(payload);
        frame
    }

    #[test]
    fn a_fragmented_echo_is_one_message_across_any_split() {
        let size = 70_000;
        let payload = vec![7u8; size];
        let mut one = fragment(&payload[..100], true, false);
        one.extend(fragment(&payload[100..100], false, false));
        one.extend(fragment(&payload[100..66_000], false, false));
        one.extend(fragment(&payload[66_000..], false, true));
        // A whole one between fragmented ones.
        let mut stream = one.clone();
        stream.extend(server_frame(size));
        stream.extend(&one);
        for split in [1, 5, 13, 4096, 1 << 20] {
            let got = feed_in_reads(Parser::new(size, false), &stream, split);
            assert_eq!(got, (3, 0), "split {split}");
        }
    }

    #[test]
    fn fragments_that_do_not_add_up_or_interleave_are_errors() {
        let payload = [1u8; 32];
        let mut short = fragment(&payload[..10], true, false);
        short.extend(fragment(&payload[10..20], false, true));
        assert!(Parser::new(32, false).feed(&short).is_err());
        let mut long = fragment(&payload[..20], true, false);
        long.extend(fragment(&payload[..20], false, false));
        assert!(Parser::new(32, false).feed(&long).is_err());
        // A new binary frame where a continuation belongs.
        let mut restart = fragment(&payload[..10], true, false);
        restart.extend(fragment(&payload[10..], true, true));
        assert!(Parser::new(32, false).feed(&restart).is_err());
        // A continuation with no message begun.
        assert!(Parser::new(32, false)
            .feed(&fragment(&payload, false, true))
            .is_err());
    }

    #[test]
    fn a_wrong_length_is_an_error() {
        let mut parser = Parser::new(17, false);
        assert!(parser.feed(&server_frame(16)).is_err());
    }
}
