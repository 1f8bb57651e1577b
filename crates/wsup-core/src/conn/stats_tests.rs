//! What a connection counts (`stats`) and reports to its server's counters
//! when it ends, over the in-memory transport.

use bytes::Bytes;
use futures_executor::block_on;
use futures_util::AsyncWriteExt;

use super::tests::{frame, ws, Mem};
use super::{Chunk, MessageKind};
use crate::close::{CloseCode, CloseFrame};
use crate::config::WebSocketConfig;
use crate::error::Error;
use crate::frame::OpCode;
use crate::message::Message;
use crate::stats::ServerStats;
use crate::upgrader::Upgrader;

fn close_frame(code: u16) -> Vec<u8> {
    frame(OpCode::Close, true, &code.to_be_bytes())
}

#[test]
fn data_messages_and_their_bytes_are_counted_each_way_and_control_frames_not() {
    let mut input = frame(OpCode::Text, true, b"hello");
    input.extend(frame(OpCode::Ping, true, b"ping"));
    input.extend(frame(OpCode::Binary, true, &[7; 300]));
    input.extend(frame(OpCode::Text, false, b"ab"));
    input.extend(frame(OpCode::Pong, true, b""));
    input.extend(frame(OpCode::Continuation, true, b"cd"));
    let mut ws = ws(input, 7, WebSocketConfig::default());
    let opened = ws.stats().opened_at;
    block_on(async {
        for _ in 0..5 {
            ws.recv().await.unwrap();
        }
        ws.send(Message::text("hi")).await.unwrap();
        ws.send(Message::binary(vec![1; 10])).await.unwrap();
        ws.send(Message::Ping(Bytes::from_static(b"x")))
            .await
            .unwrap();
        ws.send(Message::Pong(Bytes::new())).await.unwrap();
    });
    let s = ws.stats();
    assert_eq!((s.messages_received, s.bytes_received), (3, 5 + 300 + 4));
    assert_eq!((s.messages_sent, s.bytes_sent), (2, 12));
    assert_eq!(s.opened_at, opened, "opened once");
}

#[test]
fn messages_in_pieces_count_once_with_all_their_bytes() {
    let big = vec![3u8; 300_000];
    let mut input = frame(OpCode::Binary, true, &big);
    input.extend(frame(OpCode::Text, false, b"abc"));
    input.extend(frame(OpCode::Continuation, true, b"def"));
    let mut ws = ws(input, 64 * 1024, WebSocketConfig::default());
    block_on(async {
        // Relayed as it arrives: more than one piece, then a second message.
        let mut pieces = 0;
        loop {
            let chunk = ws.recv_chunk().await.unwrap();
            pieces += 1;
            let last = chunk.last();
            ws.feed_chunk(chunk).await.unwrap();
            if last {
                break;
            }
        }
        assert!(pieces > 1, "the large message came in pieces");
        let mut msg = ws.next_message().await.unwrap();
        while msg.chunk().await.unwrap().is_some() {}
        drop(msg);
        ws.feed_chunk(Chunk::text("xy", false)).await.unwrap();
        ws.feed_chunk(Chunk::text("z", true)).await.unwrap();
        let mut w = ws.message_writer(MessageKind::Binary, 4);
        w.write_all(b"0123456789").await.unwrap();
        w.close().await.unwrap();
    });
    let s = ws.stats();
    assert_eq!((s.messages_received, s.bytes_received), (2, 300_000 + 6));
    assert_eq!((s.messages_sent, s.bytes_sent), (3, 300_000 + 3 + 10));
}

#[test]
fn the_split_halves_report_the_connection_s_counts() {
    let mut input = frame(OpCode::Text, true, b"one");
    input.extend(frame(OpCode::Text, true, b"two"));
    let ws = ws(input, 100, WebSocketConfig::default());
    let (mut reader, mut writer) = ws.split();
    block_on(async {
        reader.recv().await.unwrap();
        writer.send(Message::text("four")).await.unwrap();
    });
    let (r, w) = (reader.stats(), writer.stats());
    assert_eq!(r, w, "one connection");
    assert_eq!((r.messages_received, r.bytes_received), (1, 3));
    assert_eq!((r.messages_sent, r.bytes_sent), (1, 4));
}

/// A connection counted in `stats`, reading `input`.
fn counted(input: Vec<u8>, stats: &std::sync::Arc<ServerStats>) -> super::WebSocket<Mem> {
    let mut ws = ws(input, 100, WebSocketConfig::default());
    ws.count_in(stats.clone());
    ws
}

#[test]
fn a_counted_connection_is_closed_once_with_the_first_close_code_whoever_sent_it() {
    let stats = ServerStats::new();
    // The peer closes with 1000.
    let mut peer_closed = counted(close_frame(1000), &stats);
    // A protocol error: this side closes with 1002 (an unmasked frame).
    let mut failed = counted(wsup_testkit::encode_frame(true, 0, 0x1, None, b"x"), &stats);
    // This side closes with 4001, the peer answers.
    let mut server_closed = counted(close_frame(4001), &stats);
    // Dropped while open: no close frame either way.
    let dropped = counted(Vec::new(), &stats);
    assert_eq!(stats.snapshot().open, 4);
    block_on(async {
        assert!(matches!(peer_closed.recv().await, Ok(Message::Close(_))));
        assert!(matches!(
            peer_closed.recv().await,
            Err(Error::ConnectionClosed)
        ));
        assert!(failed.recv().await.unwrap_err().is_protocol());
        server_closed
            .close(Some(CloseFrame::new(CloseCode(4001), "bye")))
            .await
            .unwrap();
    });
    drop(dropped);
    drop((peer_closed, failed, server_closed));
    let now = stats.snapshot();
    assert_eq!((now.open, now.accepted), (0, 4));
    assert_eq!(now.closed_with(1000), 1);
    assert_eq!(now.closed_with(1002), 1);
    assert_eq!(now.closed_with(4001), 1, "other");
    assert_eq!(now.closed_with(1006), 1, "dropped without a close frame");
    assert_eq!(now.closed_total(), 4, "each once, ended and then dropped");
}

fn request(method: &str) -> Vec<u8> {
    format!(
        "{method} /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

#[test]
fn an_upgrader_with_server_stats_counts_what_it_accepts_and_refuses() {
    let stats = ServerStats::new();
    let upgrader = Upgrader::new().server_stats(stats.clone());
    block_on(async {
        let refused = upgrader.upgrade(Mem::new(request("POST"), 1024)).await;
        assert_eq!(refused.unwrap_err().status().map(|s| s.as_u16()), Some(405));
        let mut ws = upgrader
            .upgrade(Mem::new(request("GET"), 1024))
            .await
            .unwrap();
        assert_eq!(stats.snapshot().open, 1);
        ws.get_mut().input.extend(close_frame(1001));
        assert!(matches!(ws.recv().await, Ok(Message::Close(_))));
    });
    let now = stats.snapshot();
    assert_eq!((now.open, now.accepted, now.refused_with(405)), (0, 1, 1));
    assert_eq!(now.closed_with(1001), 1);
}
