//! Property tests of the codec and the configuration builder: frame headers
//! round-trip and never panic; any sequence of messages, fragmented
//! anywhere and read in any split, arrives as sent; what a connection sends
//! parses back to what was sent, masked or not; the builder's values are
//! what was set, raised only where documented.

use bytes::Bytes;
use futures_executor::block_on;
use proptest::prelude::*;
use wsup_core::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use wsup_core::{CloseCode, CloseFrame, Message, Role, WebSocket, WebSocketConfig};
use wsup_testkit::Mem;

fn opcode() -> impl Strategy<Value = OpCode> {
    prop_oneof![
        Just(OpCode::Continuation),
        Just(OpCode::Text),
        Just(OpCode::Binary),
        Just(OpCode::Close),
        Just(OpCode::Ping),
        Just(OpCode::Pong),
    ]
}

/// A header the parser accepts: control frames final and short.
fn header() -> impl Strategy<Value = FrameHeader> {
    (
        opcode(),
        any::<bool>(),
        any::<bool>(),
        0u8..4,
        any::<Option<[u8; 4]>>(),
        prop_oneof![0u64..200, 0u64..70_000, 0u64..(1 << 63)],
    )
        .prop_map(|(opcode, fin, rsv1, rsv23, mask, len)| FrameHeader {
            fin: fin || opcode.is_control(),
            rsv1,
            rsv23,
            opcode,
            mask,
            payload_len: if opcode.is_control() { len % 126 } else { len },
        })
}

/// A data message to send, or a ping in between.
#[derive(Debug, Clone)]
enum Item {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        ".{0,300}".prop_map(Item::Text),
        proptest::collection::vec(any::<u8>(), 0..3000).prop_map(Item::Binary),
        proptest::collection::vec(any::<u8>(), 0..126).prop_map(Item::Ping),
    ]
}

impl Item {
    fn message(&self) -> Message {
        match self {
            Item::Text(t) => Message::text(t.clone()),
            Item::Binary(b) => Message::binary(b.clone()),
            Item::Ping(p) => Message::Ping(Bytes::from(p.clone())),
        }
    }

    /// Masked client frames: data split into `pieces` fragments (cut at
    /// byte offsets, so a text fragment may end inside a character).
    fn client_frames(&self, pieces: usize) -> Vec<u8> {
        let (opcode, payload): (u8, &[u8]) = match self {
            Item::Text(t) => (1, t.as_bytes()),
            Item::Binary(b) => (2, b),
            Item::Ping(p) => return wsup_testkit::client_frame(9, true, p),
        };
        let size = payload.len().div_ceil(pieces.max(1)).max(1);
        let chunks: Vec<&[u8]> = if payload.is_empty() {
            vec![&[]]
        } else {
            payload.chunks(size).collect()
        };
        let last = chunks.len() - 1;
        chunks
            .iter()
            .enumerate()
            .flat_map(|(i, c)| {
                let op = if i == 0 { opcode } else { 0 };
                wsup_testkit::client_frame(op, i == last, c)
            })
            .collect()
    }
}

fn server(input: Vec<u8>, chunk: usize) -> WebSocket<Mem> {
    WebSocket::from_raw(
        Mem::new(input, chunk),
        Role::Server,
        Bytes::new(),
        WebSocketConfig::default(),
        None,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn frame_headers_round_trip(h in header()) {
        let mut out = [0u8; MAX_HEADER_LEN];
        let n = h.encode(&mut out);
        prop_assert_eq!(FrameHeader::parse(&out[..n]), Ok(Some((h, n))));
        // Any prefix is "more, please".
        for cut in 0..n {
            prop_assert_eq!(FrameHeader::parse(&out[..cut]), Ok(None));
        }
    }

    #[test]
    fn frame_header_parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20)) {
        if let Ok(Some((h, n))) = FrameHeader::parse(&bytes) {
            prop_assert!(n <= bytes.len() && n <= MAX_HEADER_LEN);
            let mut out = [0u8; MAX_HEADER_LEN];
            prop_assert_eq!(h.encode(&mut out), n);
            prop_assert_eq!(&out[..n], &bytes[..n]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Messages, fragmented anywhere and read in any split, arrive whole
    /// and in order; every ping is answered with its payload.
    #[test]
    fn received_messages_arrive_as_sent(
        items in proptest::collection::vec((item(), 1usize..5), 0..12),
        chunk in 1usize..700,
    ) {
        let input: Vec<u8> = items.iter().flat_map(|(m, pieces)| m.client_frames(*pieces)).collect();
        let mut ws = server(input, chunk);
        block_on(async {
            for (m, _) in &items {
                let got = ws.recv().await.expect("a message");
                prop_assert_eq!(got, m.message());
            }
            // Then the input ends, without a close.
            prop_assert!(ws.recv().await.is_err());
            Ok(())
        })?;
        let pongs: Vec<Vec<u8>> = wsup_testkit::parse_frames(&ws.get_ref().output)
            .into_iter()
            .filter(|f| f.opcode == 0xA)
            .map(|f| f.payload)
            .collect();
        let pings: Vec<Vec<u8>> = items
            .iter()
            .filter_map(|(m, _)| match m { Item::Ping(p) => Some(p.clone()), _ => None })
            .collect();
        prop_assert_eq!(pongs, pings);
    }

    /// What a connection sends parses back as sent: unmasked from a
    /// server, masked from a client, and the close last.
    #[test]
    fn sent_messages_parse_back(
        items in proptest::collection::vec(item(), 0..12),
        client in any::<bool>(),
        code in prop_oneof![1000u16..1004, 1007u16..1015, 3000u16..5000],
        reason in ".{0,60}",
    ) {
        let mem: Mem = Mem::new(Vec::new(), 1);
        let cfg = WebSocketConfig::default();
        let role = if client { Role::Client } else { Role::Server };
        let mut ws = WebSocket::from_raw(mem, role, Bytes::new(), cfg, None);
        let close = CloseFrame::new(CloseCode(code), reason.clone());
        let fits = reason.len() <= 123;
        block_on(async {
            for m in &items {
                ws.feed(m.message()).await.expect("queued");
            }
            let res = ws.send(Message::Close(Some(close.clone()))).await;
            // A reason over 123 bytes is refused, and nothing queued is lost.
            assert_eq!(res.is_ok(), fits, "{res:?}");
            if !fits {
                ws.send(Message::Close(Some(CloseFrame::new(CloseCode(code), "")))).await.expect("sent");
            }
        });
        let frames = wsup_testkit::parse_frames(&ws.get_ref().output);
        prop_assert_eq!(frames.len(), items.len() + 1);
        for (f, m) in frames.iter().zip(&items) {
            prop_assert_eq!(f.masked, client);
            prop_assert!(f.fin);
            let (op, payload): (u8, &[u8]) = match m {
                Item::Text(t) => (1, t.as_bytes()),
                Item::Binary(b) => (2, b),
                Item::Ping(p) => (9, p),
            };
            prop_assert_eq!(f.opcode, op);
            prop_assert_eq!(&f.payload[..], payload);
        }
        let last = frames.last().expect("the close");
        prop_assert_eq!(last.opcode, 8);
        let (got_code, got_reason) = last.close_code().expect("a code");
        prop_assert_eq!(got_code, code);
        prop_assert_eq!(got_reason, if fits { reason } else { String::new() });
    }

    /// The builder keeps what it is given; only buffer sizes (to 128 bytes)
    /// and the fragment limit (to 1) are raised.
    #[test]
    fn config_builder_keeps_values(
        read in 0usize..1 << 20,
        write in 0usize..1 << 20,
        threshold in any::<usize>(),
        backlog in any::<usize>(),
        frame in any::<usize>(),
        message in any::<usize>(),
        fragments in 0usize..1 << 20,
        queue in any::<usize>(),
        queue_bytes in any::<usize>(),
    ) {
        let c = WebSocketConfig::builder()
            .read_buffer_size(read)
            .write_buffer_size(write)
            .write_flush_threshold(threshold)
            .write_backlog_limit(backlog)
            .max_frame_size(frame)
            .max_message_size(message)
            .max_fragments(fragments)
            .send_queue_messages(queue)
            .send_queue_bytes(queue_bytes)
            .build();
        prop_assert_eq!(c.read_buffer_size(), read.max(128));
        prop_assert_eq!(c.write_buffer_size(), write.max(128));
        prop_assert_eq!(c.write_flush_threshold(), threshold);
        prop_assert_eq!(c.write_backlog_limit(), backlog);
        prop_assert_eq!(c.max_frame_size(), frame);
        prop_assert_eq!(c.max_message_size(), message);
        prop_assert_eq!(c.max_fragments(), fragments.max(1));
        prop_assert_eq!(c.send_queue_messages(), queue);
        prop_assert_eq!(c.send_queue_bytes(), queue_bytes);
        // Building again changes nothing.
        let again = c.to_builder().build();
        prop_assert_eq!(again.read_buffer_size(), c.read_buffer_size());
        prop_assert_eq!(again.max_fragments(), c.max_fragments());
    }
}
