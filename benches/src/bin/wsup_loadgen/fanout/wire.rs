//! What a subscriber receives: unmasked WebSocket frames from a WebSocket
//! server, bare messages of the agreed size from the raw TCP one.

use wsup_benches::fanout::read_stamp;

/// One frame a subscriber read.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A published message: its sequence number and send time.
    Message { seq: u64, sent_ns: u64 },
    /// A ping, to answer with a pong of this payload.
    Ping(&'a [u8]),
    /// A pong: nothing to do.
    Pong,
}

/// The next frame at the start of `buf` and its length in bytes, or `None`
/// until it is all there. Messages must be `size` bytes, in one binary
/// frame; a close or anything else is an error.
pub fn next_frame(
    buf: &[u8],
    raw: bool,
    size: usize,
) -> Result<Option<(usize, Frame<'_>)>, String> {
    if raw {
        return Ok(buf
            .get(..size)
            .map(|message| (size, message_frame(message))));
    }
    let [first, second, ..] = *buf else {
        return Ok(None);
    };
    if second & 0x80 != 0 {
        return Err("a server frame is masked".to_owned());
    }
    let (ext, len) = match second & 0x7f {
        126 => (
            2,
            buf.get(2..4)
                .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize),
        ),
        127 => (
            8,
            buf.get(2..10)
                .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")) as usize),
        ),
        n => (0, Some(n as usize)),
    };
    let Some(len) = len else { return Ok(None) };
    let header: usize = 2 + ext;
    let Some(payload) = buf.get(header..header.saturating_add(len)) else {
        return Ok(None);
    };
    let frame = match first {
        0x82 if len == size => message_frame(payload),
        0x82 => return Err(format!("a message of {len} bytes, {size} were sent")),
        0x89 => Frame::Ping(payload),
        0x8a => Frame::Pong,
        0x88 => return Err("the server closed the connection".to_owned()),
        other => return Err(format!("unexpected first byte {other:#04x}")),
    };
    Ok(Some((header + len, frame)))
}

fn message_frame(payload: &[u8]) -> Frame<'_> {
    let (seq, sent_ns) = read_stamp(payload).unwrap_or((u64::MAX, 0));
    Frame::Message { seq, sent_ns }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsup_benches::fanout::stamp;

    fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![first];
        match payload.len() {
            n @ 0..=125 => frame.push(n as u8),
            n @ 126..=0xffff => {
                frame.push(126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(payload);
        frame
    }

    fn stamped(size: usize, seq: u64) -> Vec<u8> {
        let mut payload = vec![0u8; size];
        stamp(&mut payload, seq, 1000 + seq);
        payload
    }

    #[test]
    fn messages_and_pings_are_read_whole_or_not_at_all() {
        for size in [16, 1024, 70_000] {
            let mut stream = server_frame(0x82, &stamped(size, 3));
            let first_len = stream.len();
            stream.extend(server_frame(0x89, b"hi"));
            stream.extend(server_frame(0x82, &stamped(size, 4)));
            for cut in 0..first_len {
                assert_eq!(
                    next_frame(&stream[..cut], false, size),
                    Ok(None),
                    "{size} {cut}"
                );
            }
            let (used, frame) = next_frame(&stream, false, size).unwrap().unwrap();
            assert_eq!(
                frame,
                Frame::Message {
                    seq: 3,
                    sent_ns: 1003
                }
            );
            let (used2, frame) = next_frame(&stream[used..], false, size).unwrap().unwrap();
            assert_eq!(frame, Frame::Ping(b"hi"));
            let (_, frame) = next_frame(&stream[used + used2..], false, size)
                .unwrap()
                .unwrap();
            assert_eq!(
                frame,
                Frame::Message {
                    seq: 4,
                    sent_ns: 1004
                }
            );
        }
    }

    #[test]
    fn raw_messages_are_the_agreed_size() {
        let mut stream = stamped(16, 1);
        stream.extend(stamped(16, 2));
        assert_eq!(next_frame(&stream[..15], true, 16), Ok(None));
        let (used, frame) = next_frame(&stream, true, 16).unwrap().unwrap();
        assert_eq!(
            (used, frame),
            (
                16,
                Frame::Message {
                    seq: 1,
                    sent_ns: 1001
                }
            )
        );
    }

    #[test]
    fn a_close_a_wrong_size_a_mask_or_a_text_frame_is_an_error() {
        let bad = [
            server_frame(0x88, &[0x03, 0xe8]),
            server_frame(0x82, &stamped(17, 0)),
            server_frame(0x81, &stamped(16, 0)),
            server_frame(0x02, &stamped(16, 0)),
            vec![0x82, 0x80 | 16],
        ];
        for frame in bad {
            assert!(next_frame(&frame, false, 16).is_err(), "{frame:02x?}");
        }
    }
}
