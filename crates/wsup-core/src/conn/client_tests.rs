//! The connection in the client role, over the in-memory transport: every
//! frame it sends is masked with a fresh key, whatever path it takes; a
//! masked frame from the server fails the connection; compression uses
//! the client's half of what was agreed. The frames it writes are parsed
//! and unmasked by `wsup-testkit`, not by the engine's own decoder.

use std::collections::HashSet;

use bytes::Bytes;
use futures_executor::block_on;
use wsup_testkit::{parse_frames, server_frame, Frame, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING};
use wsup_testkit::{OP_PONG, OP_TEXT};

use super::{Chunk, MessageKind, WebSocket};
use crate::close::{CloseCode, CloseFrame};
use crate::config::WebSocketConfig;
use crate::error::{Error, ProtocolError};
use crate::message::Message;
use crate::prepared::PreparedMessage;
use crate::role::Role;

type Mem = wsup_testkit::Mem;

/// A client with the default configuration, reading `input` `chunk` bytes
/// at a time.
fn client(input: Vec<u8>, chunk: usize) -> WebSocket<Mem> {
    let mem = Mem::new(input, chunk);
    WebSocket::from_raw(mem, Role::Client, Bytes::new(), Default::default(), None)
}

/// The frames a client wrote, unmasked; each must carry a mask, and no two
/// the same key (a 32-bit key repeats by chance once in 2^32 pairs).
#[track_caller]
pub(super) fn client_frames(out: &[u8]) -> Vec<Frame> {
    let frames = parse_frames(out);
    let mut keys = HashSet::new();
    for f in &frames {
        let key = f
            .key
            .unwrap_or_else(|| panic!("client frame not masked: {f:?}"));
        assert!(keys.insert(key), "key {key:?} used twice in {frames:?}");
    }
    frames
}

/// (opcode, fin, payload) of each frame the client wrote, checked as by
/// [`client_frames`].
#[track_caller]
fn sent(ws: &WebSocket<Mem>) -> Vec<(u8, bool, Vec<u8>)> {
    client_frames(&ws.get_ref().output)
        .iter()
        .map(|f| (f.opcode, f.fin, f.payload.clone()))
        .collect()
}

#[test]
fn the_constructors_say_their_role() {
    assert_eq!(client(Vec::new(), 16).role(), Role::Client);
    let server = WebSocket::from_raw(
        Mem::new(Vec::new(), 16),
        Role::Server,
        Bytes::new(),
        WebSocketConfig::default(),
        None,
    );
    assert_eq!(server.role(), Role::Server);
}

#[test]
fn every_message_is_masked_with_a_fresh_key_and_the_payload_left_as_given() {
    let large = Bytes::from(wsup_testkit::noise(100_000));
    let mut ws = client(Vec::new(), 4096);
    block_on(async {
        ws.send(Message::text("hello")).await.unwrap();
        ws.send(Message::binary(&b"bin"[..])).await.unwrap();
        // Queued by reference on a server; a client must not mask it in place.
        ws.send(Message::Binary(large.clone())).await.unwrap();
        ws.send(Message::text("")).await.unwrap();
        ws.send(Message::Ping(Bytes::from_static(b"ping")))
            .await
            .unwrap();
        ws.send(Message::Pong(Bytes::from_static(b"pong")))
            .await
            .unwrap();
        // The same payload twice: the same bytes must not go out twice.
        ws.send(Message::text("again")).await.unwrap();
        ws.send(Message::text("again")).await.unwrap();
        let close = CloseFrame::new(CloseCode::NORMAL, "bye");
        ws.send(Message::Close(Some(close))).await.unwrap();
    });
    assert_eq!(&large[..], &wsup_testkit::noise(100_000)[..]);
    assert_eq!(
        sent(&ws),
        vec![
            (OP_TEXT, true, b"hello".to_vec()),
            (OP_BINARY, true, b"bin".to_vec()),
            (OP_BINARY, true, large.to_vec()),
            (OP_TEXT, true, Vec::new()),
            (OP_PING, true, b"ping".to_vec()),
            (OP_PONG, true, b"pong".to_vec()),
            (OP_TEXT, true, b"again".to_vec()),
            (OP_TEXT, true, b"again".to_vec()),
            (OP_CLOSE, true, b"\x03\xe8bye".to_vec()),
        ]
    );
    let out = &ws.get_ref().output;
    let wire = |needle: &[u8]| out.windows(needle.len()).any(|w| w == needle);
    assert!(
        !wire(b"hello") && !wire(b"again"),
        "a payload went out as is"
    );
}

#[test]
fn unmasked_server_frames_are_read_and_answered_with_masked_frames() {
    let mut input = server_frame(OP_TEXT, false, "héllo ".as_bytes());
    input.extend(server_frame(OP_PING, true, b"p1"));
    input.extend(server_frame(OP_CONT, true, "wörld".as_bytes()));
    input.extend(server_frame(OP_BINARY, true, &[7u8; 70_000]));
    input.extend(server_frame(OP_PING, true, b"p2"));
    input.extend(server_frame(OP_CLOSE, true, &1000u16.to_be_bytes()));
    let mut ws = client(input, 1000);
    let got = block_on(async {
        let mut got = Vec::new();
        loop {
            match ws.recv().await {
                Ok(m) => got.push(m),
                Err(e) => break (got, e),
            }
        }
    });
    assert_eq!(
        got.0,
        vec![
            Message::Ping(Bytes::from_static(b"p1")),
            Message::text("héllo wörld"),
            Message::binary(vec![7u8; 70_000]),
            Message::Ping(Bytes::from_static(b"p2")),
            Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, ""))),
        ]
    );
    assert!(matches!(got.1, Error::ConnectionClosed), "{:?}", got.1);
    assert_eq!(
        sent(&ws),
        vec![
            (OP_PONG, true, b"p1".to_vec()),
            (OP_PONG, true, b"p2".to_vec()),
            (OP_CLOSE, true, 1000u16.to_be_bytes().to_vec()),
        ]
    );
}

#[test]
fn a_masked_server_frame_fails_the_connection_with_1002() {
    let input = wsup_testkit::client_frame(OP_TEXT, true, b"masked");
    let mut ws = client(input, 4096);
    let err = block_on(ws.recv()).unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::MaskedFrame)),
        "{err:?}"
    );
    assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL));
    let frames = client_frames(&ws.get_ref().output);
    assert_eq!(frames.len(), 1);
    assert_eq!(
        frames[0].close_code(),
        Some((1002, "protocol error".to_owned()))
    );
    assert!(ws.get_ref().closed);
}

#[test]
fn closing_sends_a_masked_close_and_ends_on_the_servers() {
    let input = server_frame(OP_CLOSE, true, &1000u16.to_be_bytes());
    let mut ws = client(input, 4096);
    block_on(ws.close(Some(CloseFrame::new(CloseCode::NORMAL, "done")))).unwrap();
    let frames = client_frames(&ws.get_ref().output);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].close_code(), Some((1000, "done".to_owned())));
    assert!(ws.get_ref().closed);
}

/// RFC 6455 7.1.1: after the closing handshake the server closes TCP
/// first. The client answers the server's close, then waits for the end
/// of the stream before it shuts its side down.
#[test]
fn after_the_servers_close_the_client_waits_for_the_server_to_end_tcp() {
    use std::task::{Context, Poll};

    let input = server_frame(OP_CLOSE, true, &1000u16.to_be_bytes());
    let mut ws = client(input, 4096);
    ws.get_mut().hang = true;
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(
        ws.poll_recv(&mut cx).is_pending(),
        "waits for the server's end"
    );
    let frames = client_frames(&ws.get_ref().output);
    assert_eq!(frames.len(), 1, "the close is answered at once");
    assert_eq!(frames[0].close_code(), Some((1000, String::new())));
    assert!(
        !ws.get_ref().closed,
        "nor shut down before the server's end"
    );

    // Input after the close is discarded while waiting.
    ws.get_mut().input.extend(b"late bytes");
    assert!(ws.poll_recv(&mut cx).is_pending());
    ws.get_mut().hang = false;
    match ws.poll_recv(&mut cx) {
        Poll::Ready(Ok(Message::Close(Some(f)))) => assert_eq!(f.code, CloseCode::NORMAL),
        other => panic!("{other:?}"),
    }
    assert!(ws.get_ref().closed);
    assert_eq!(client_frames(&ws.get_ref().output).len(), 1);
    assert!(matches!(block_on(ws.recv()), Err(Error::ConnectionClosed)));
}

/// The server side shuts down at once after answering: it closes first.
#[test]
fn after_the_clients_close_the_server_shuts_down_at_once() {
    let input = wsup_testkit::client_frame(OP_CLOSE, true, &1000u16.to_be_bytes());
    let mut mem = Mem::new(input, 4096);
    mem.hang = true;
    let mut ws = WebSocket::from_raw(
        mem,
        Role::Server,
        Bytes::new(),
        WebSocketConfig::default(),
        None,
    );
    assert!(matches!(block_on(ws.recv()), Ok(Message::Close(Some(_)))));
    assert!(ws.get_ref().closed);
}

#[test]
fn chunks_and_the_streaming_writer_mask_each_frame() {
    use futures_util::AsyncWriteExt;
    let big = wsup_testkit::noise(40_000);
    let mut ws = client(Vec::new(), 4096);
    block_on(async {
        ws.feed_chunk(Chunk::text("ab", false)).await.unwrap();
        ws.feed_chunk(Chunk::text("cd", true)).await.unwrap();
        ws.feed_chunk(Chunk::binary(big.clone(), false))
            .await
            .unwrap();
        ws.feed_chunk(Chunk::binary(&b"end"[..], true))
            .await
            .unwrap();
        ws.flush().await.unwrap();
        let mut w = ws.message_writer(MessageKind::Binary, 4);
        w.write_all(b"0123456789").await.unwrap();
        w.close().await.unwrap();
    });
    assert_eq!(
        sent(&ws),
        vec![
            (OP_TEXT, false, b"ab".to_vec()),
            (OP_CONT, true, b"cd".to_vec()),
            (OP_BINARY, false, big),
            (OP_CONT, true, b"end".to_vec()),
            (OP_BINARY, false, b"0123".to_vec()),
            (OP_CONT, false, b"4567".to_vec()),
            (OP_CONT, true, b"89".to_vec()),
        ]
    );
}

/// A message received as one frame and relayed as it arrives goes on as
/// one frame: its pieces are masked on from where the last one ended, and
/// the pong held until the frame is complete is masked too.
#[test]
fn a_relayed_frame_is_masked_across_its_pieces() {
    let large = wsup_testkit::noise(300_000);
    let mut input = server_frame(OP_BINARY, true, &large);
    input.extend(server_frame(OP_PING, true, b"p"));
    input.extend(server_frame(OP_CLOSE, true, &1000u16.to_be_bytes()));
    let mut ws = client(input, 7_001);
    let pieces = super::tests::relay_until_closed(&mut ws);
    assert!(pieces > 3, "{pieces} pieces");
    assert_eq!(
        sent(&ws),
        vec![
            (OP_BINARY, true, large),
            (OP_PONG, true, b"p".to_vec()),
            (OP_CLOSE, true, 1000u16.to_be_bytes().to_vec()),
        ]
    );
}

#[test]
fn prepared_messages_are_copied_and_masked_and_stay_as_prepared() {
    let small = PreparedMessage::text("prepared");
    let large = PreparedMessage::binary(wsup_testkit::noise(50_000));
    let mut ws = client(Vec::new(), 4096);
    block_on(async {
        for msg in [&small, &large, &small] {
            ws.send_prepared(msg).await.unwrap();
        }
    });
    assert_eq!(
        sent(&ws),
        vec![
            (OP_TEXT, true, b"prepared".to_vec()),
            (OP_BINARY, true, wsup_testkit::noise(50_000)),
            (OP_TEXT, true, b"prepared".to_vec()),
        ]
    );
    // What the prepared messages hold is untouched: a server sends it as is.
    assert_eq!(&large.payload()[..], &wsup_testkit::noise(50_000)[..]);
    let mut server = WebSocket::from_raw(
        Mem::new(Vec::new(), 4096),
        Role::Server,
        Bytes::new(),
        WebSocketConfig::default(),
        None,
    );
    block_on(async {
        server.send_prepared(&small).await.unwrap();
        server.send_prepared(&large).await.unwrap();
    });
    let mut plain = server_frame(OP_TEXT, true, b"prepared");
    plain.extend(server_frame(OP_BINARY, true, &wsup_testkit::noise(50_000)));
    assert!(server.get_ref().output == plain);
}

#[test]
fn split_halves_mask_what_they_send() {
    let input = server_frame(OP_PING, true, b"hi");
    let ws = client(input, 4096);
    let (mut reader, mut writer) = ws.split();
    block_on(async {
        writer.send(Message::text("from the writer")).await.unwrap();
        assert_eq!(
            reader.recv().await.unwrap(),
            Message::Ping(Bytes::from_static(b"hi"))
        );
        writer.flush().await.unwrap();
    });
    let ws = reader.reunite(writer).expect("the same connection");
    assert_eq!(
        sent(&ws),
        vec![
            (OP_TEXT, true, b"from the writer".to_vec()),
            (OP_PONG, true, b"hi".to_vec()),
        ]
    );
}
