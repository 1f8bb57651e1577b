//! A hub message on the Redis channel: the node that published it (so that
//! node skips its own), text or binary, and the payload as it is.
//!
//! ```text
//! "wsup" 1 | node id (16 bytes) | kind: 0 text, 1 binary | payload
//! ```

use bytes::{BufMut, Bytes, BytesMut};
use wsup_core::{MessageKind, PreparedMessage};

const MAGIC: &[u8; 5] = b"wsup\x01";
const HEADER: usize = MAGIC.len() + 16 + 1;

/// A node's id: random, one per bridge.
pub(crate) type NodeId = [u8; 16];

/// Encodes `msg`, published on node `node`.
pub(crate) fn encode(node: &NodeId, msg: &PreparedMessage) -> Bytes {
    let payload = msg.payload();
    let mut out = BytesMut::with_capacity(HEADER + payload.len());
    out.put_slice(MAGIC);
    out.put_slice(node);
    out.put_u8(match msg.kind() {
        MessageKind::Text => 0,
        MessageKind::Binary => 1,
    });
    out.put_slice(payload);
    out.freeze()
}

/// Why a message on the channel was not one of ours.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// Not in this format (another publisher on the channel).
    Format,
    /// Text that is not UTF-8.
    Utf8,
}

/// Decodes a message from the channel: the node that published it and the
/// message, prepared for the local subscribers.
pub(crate) fn decode(bytes: &[u8]) -> Result<(NodeId, PreparedMessage), Invalid> {
    if bytes.len() < HEADER || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Invalid::Format);
    }
    let mut node = [0u8; 16];
    node.copy_from_slice(&bytes[MAGIC.len()..MAGIC.len() + 16]);
    let kind = match bytes[HEADER - 1] {
        0 => MessageKind::Text,
        1 => MessageKind::Binary,
        _ => return Err(Invalid::Format),
    };
    let payload = Bytes::copy_from_slice(&bytes[HEADER..]);
    let msg = PreparedMessage::new(kind, payload).ok_or(Invalid::Utf8)?;
    Ok((node, msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_with_their_node_and_kind() {
        let node = [7u8; 16];
        for msg in [
            PreparedMessage::text("héllo"),
            PreparedMessage::binary(vec![0u8, 255, 1]),
            PreparedMessage::text(""),
        ] {
            let (from, back) = decode(&encode(&node, &msg)).expect("decodes");
            assert_eq!(from, node);
            assert_eq!(back.kind(), msg.kind());
            assert_eq!(back.payload(), msg.payload());
        }
    }

    #[test]
    fn anything_else_on_the_channel_is_refused() {
        assert_eq!(decode(b"").unwrap_err(), Invalid::Format);
        assert_eq!(
            decode(b"hello from redis-cli").unwrap_err(),
            Invalid::Format
        );
        let mut bad_kind = encode(&[1; 16], &PreparedMessage::text("x")).to_vec();
        bad_kind[HEADER - 1] = 9;
        assert_eq!(decode(&bad_kind).unwrap_err(), Invalid::Format);
        let mut bad_text = encode(&[1; 16], &PreparedMessage::text("x")).to_vec();
        bad_text.push(0xff);
        assert_eq!(decode(&bad_text).unwrap_err(), Invalid::Utf8);
        // Cut anywhere in the header.
        let good = encode(&[1; 16], &PreparedMessage::binary(vec![1, 2]));
        for cut in 0..HEADER {
            assert_eq!(decode(&good[..cut]).unwrap_err(), Invalid::Format);
        }
    }
}
