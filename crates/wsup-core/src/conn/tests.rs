//! Engine tests over an in-memory transport: no sockets, no runtime.

use crate::role::Role;
use std::io;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_executor::block_on;

use super::{Chunk, WebSocket};
use crate::close::CloseCode;
use crate::config::WebSocketConfig;
use crate::error::{Error, ProtocolError};
use crate::frame::{FrameHeader, OpCode};
use crate::message::Message;

/// The in-memory transport: input handed out in reads of a given size,
/// output collected.
pub(super) type Mem = wsup_testkit::Mem;

/// A masked client frame.
pub(super) fn frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    wsup_testkit::client_frame(opcode.as_u8(), fin, payload)
}

/// The defaults with the message and frame limits tungstenite has (64 MiB,
/// 16 MiB), for tests of messages larger than the defaults' 1 MiB.
pub(super) fn big_limits() -> WebSocketConfig {
    WebSocketConfig::builder()
        .max_message_size(64 << 20)
        .max_frame_size(16 << 20)
        .build()
}

pub(super) fn ws(input: Vec<u8>, chunk: usize, cfg: WebSocketConfig) -> WebSocket<Mem> {
    WebSocket::from_raw(
        Mem::new(input, chunk),
        Role::Server,
        Bytes::new(),
        cfg,
        None,
    )
}

/// Server frames written: header and payload, parsed independently of the
/// engine's decoder. Server frames are never masked.
fn written_frames(out: &[u8]) -> Vec<(FrameHeader, Vec<u8>)> {
    wsup_testkit::parse_frames(out)
        .into_iter()
        .map(|f| {
            assert!(!f.masked, "server frame masked: {f:?}");
            let h = FrameHeader {
                fin: f.fin,
                rsv1: f.rsv & wsup_testkit::RSV1 != 0,
                rsv23: f.rsv & 0x3,
                opcode: OpCode::from_u8(f.opcode).expect("a known opcode"),
                mask: None,
                payload_len: f.payload.len() as u64,
            };
            (h, f.payload)
        })
        .collect()
}

/// Server frames written: (opcode, payload).
fn written(out: &[u8]) -> Vec<(OpCode, Vec<u8>)> {
    written_frames(out)
        .into_iter()
        .map(|(h, p)| (h.opcode, p))
        .collect()
}

fn close_code_sent(out: &[u8]) -> Option<u16> {
    written(out)
        .into_iter()
        .find(|(op, _)| *op == OpCode::Close)
        .map(|(_, p)| u16::from_be_bytes([p[0], p[1]]))
}

/// Sends on each piece `recv_chunk` hands out, as a relay does, until
/// the input ends; returns how many pieces there were.
pub(super) fn relay_until_closed(ws: &mut WebSocket<Mem>) -> usize {
    block_on(async {
        let mut pieces = 0;
        while let Ok(chunk) = ws.recv_chunk().await {
            pieces += 1;
            ws.feed_chunk(chunk).await.unwrap();
        }
        pieces
    })
}

/// Checks that the connection failed with the protocol error `expected`
/// and sent the peer a close frame with `code`.
#[track_caller]
fn assert_failed(ws: &WebSocket<Mem>, err: &Error, expected: ProtocolError, code: u16) {
    assert!(
        matches!(err, Error::Protocol(p) if *p == expected),
        "{err:?}, expected {expected:?}"
    );
    assert_eq!(close_code_sent(&ws.get_ref().output), Some(code));
}

#[test]
fn frames_split_at_every_read_size_decode_the_same() {
    let mut input = frame(OpCode::Text, false, "héllo ".as_bytes());
    input.extend(frame(OpCode::Ping, true, b"p"));
    input.extend(frame(OpCode::Continuation, true, "wörld".as_bytes()));
    input.extend(frame(OpCode::Binary, true, &[7u8; 300]));
    for chunk in 1..=input.len() {
        let mut ws = ws(input.clone(), chunk, WebSocketConfig::default());
        block_on(async {
            assert_eq!(
                ws.recv().await.unwrap(),
                Message::Ping(Bytes::from_static(b"p"))
            );
            assert_eq!(ws.recv().await.unwrap(), Message::text("héllo wörld"));
            assert_eq!(
                ws.recv().await.unwrap(),
                Message::Binary(Bytes::from(vec![7u8; 300]))
            );
            assert!(
                matches!(ws.recv().await, Err(Error::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof)
            );
        });
        assert_eq!(
            written(&ws.get_ref().output),
            vec![(OpCode::Pong, b"p".to_vec())],
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_declared_length_allocates_nothing_until_bytes_arrive() {
    use std::future::Future;
    // A header declaring a 16 MiB frame, then only some bytes of it; the
    // peer then goes quiet, so the connection waits with what it holds.
    let mut input = frame(OpCode::Binary, true, &[0u8; 10]);
    input[1] = 0x80 | 127;
    input.splice(2..2, [0u8; 8]);
    input[2..10].copy_from_slice(&(16u64 << 20).to_be_bytes());
    for extra in [0usize, 5000, 100_000] {
        let mut input = input.clone();
        input.extend(std::iter::repeat_n(0u8, extra));
        let mut ws = ws(input, 1 << 20, WebSocketConfig::default());
        ws.get_mut().hang = true;
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        {
            let mut recv = std::pin::pin!(ws.recv());
            assert!(recv.as_mut().poll(&mut cx).is_pending());
        }
        // The buffer follows the bytes that arrived (its capacity at most
        // doubling per step), never the 16 MiB the header declared.
        let cap = ws.driver.proto.read_capacity();
        assert!(
            cap <= 3 * (extra + 10) + 8192,
            "{extra} bytes held in {cap}"
        );
    }
}

#[test]
fn no_read_buffer_is_held_until_bytes_arrive() {
    // Larger than the stack probe, so the first message spans it and the buffer.
    let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let mut input = frame(OpCode::Binary, true, &payload);
    input.extend(frame(OpCode::Text, true, b"next"));
    for chunk in [1, 7, 1024, 1025, 4096, 1 << 16] {
        let mut ws = ws(input.clone(), chunk, WebSocketConfig::default());
        assert_eq!(ws.driver.proto.read_capacity(), 0);
        block_on(async {
            assert_eq!(
                ws.recv().await.unwrap(),
                Message::Binary(payload.clone().into())
            );
            assert!(ws.driver.proto.read_capacity() > 0);
            assert_eq!(ws.recv().await.unwrap(), Message::text("next"));
        });
    }
}

#[test]
fn large_frames_are_read_to_their_end_and_reuse_one_buffer() {
    let first: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let second: Vec<u8> = (0..300_000u32).map(|i| (i % 13) as u8).collect();
    let mut input = frame(OpCode::Binary, true, &first);
    input.extend(frame(OpCode::Binary, true, &second));
    input.extend(frame(OpCode::Text, true, b"after"));
    let mut ws = ws(input, 1 << 20, WebSocketConfig::default());
    block_on(async {
        let Message::Binary(a) = ws.recv().await.unwrap() else {
            panic!("binary expected")
        };
        assert_eq!(a, first);
        // Nothing past the frame was read, so nothing has to be moved.
        assert_eq!(ws.driver.proto.buffered(), 0);
        let at = a.as_ptr();
        drop(a);
        let Message::Binary(b) = ws.recv().await.unwrap() else {
            panic!("binary expected")
        };
        assert_eq!(b, second);
        // The second frame landed at the start of the same allocation, or
        // up to a page into it where the buffer was placed (see
        // `ReadBuf::place`): the buffer was reused, not reallocated.
        let offset = (b.as_ptr() as usize).wrapping_sub(at as usize);
        assert!(
            offset < 4096,
            "second payload {offset} bytes past the first"
        );
        assert_eq!(ws.recv().await.unwrap(), Message::text("after"));
    });
}

/// `n` binary frames of `payload`.
fn binary_frames(payload: &[u8], n: usize) -> Vec<u8> {
    frame(OpCode::Binary, true, payload).repeat(n)
}

/// Feeds message `i`: panics if `feed` would wait.
fn feed_now(ws: &mut WebSocket<Mem>, cx: &mut Context<'_>, msg: Message, i: usize) {
    use std::future::Future;
    let ready = std::pin::pin!(ws.feed(msg)).as_mut().poll(cx).is_ready();
    assert!(ready, "message {i}");
}

/// Message `i`, received in one poll: panics if `recv` would wait.
fn recv_now(ws: &mut WebSocket<Mem>, cx: &mut Context<'_>, i: usize) -> Message {
    use std::future::Future;
    match std::pin::pin!(ws.recv()).as_mut().poll(cx) {
        Poll::Ready(Ok(msg)) => msg,
        other => panic!("message {i}: {other:?}"),
    }
}

/// A flush threshold of 16 KiB and a backlog limit of 64 KiB.
fn small_write_limits() -> WebSocketConfig {
    WebSocketConfig {
        write_flush_threshold: 16 * 1024,
        write_backlog_limit: 64 * 1024,
        ..Default::default()
    }
}

/// Past the flush threshold, queued output is written without waiting for
/// the batch to end, though the backlog limit is not reached: `feed` alone,
/// with no receive to write it, sends it.
#[test]
fn past_the_flush_threshold_output_goes_out_before_the_batch_ends() {
    let cfg = small_write_limits();
    let mut sender = ws(Vec::new(), 4096, cfg);
    block_on(async {
        for _ in 0..3 {
            let msg = Message::Binary(vec![7u8; 12_000].into());
            sender.feed(msg).await.unwrap();
        }
    });
    // The third found 24 000 bytes queued, past 16 KiB, and wrote them.
    assert_eq!(written_frames(&sender.get_ref().output).len(), 2);
}

/// The echo of a large message (queued by reference) goes out before the
/// next read, as from a relay, though the flush threshold is far and more
/// input is there to read.
#[test]
fn a_large_echo_is_written_before_the_next_read() {
    let cfg = WebSocketConfig {
        // Room for every read: none has to make room first (which writes out
        // what is queued for reasons of its own).
        read_buffer_size: 256 * 1024,
        ..Default::default()
    };
    let payload = vec![3u8; 20_000];
    let input = binary_frames(&payload, 3);
    // One frame per read: the second message needs a read of its own.
    let per_frame = input.len() / 3;
    let mut ws = ws(input, per_frame, cfg);
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    let first = recv_now(&mut ws, &mut cx, 0);
    block_on(ws.feed(first)).unwrap();
    assert!(ws.get_ref().output.is_empty(), "feed does not write");
    let second = recv_now(&mut ws, &mut cx, 1);
    assert_eq!(written_frames(&ws.get_ref().output).len(), 1);
    assert_eq!(second, Message::Binary(payload.into()));
}

/// Echoes of large messages (queued by reference) that one read brought in
/// go out together, though they pass the flush threshold: up to a read
/// window, 256 KiB. Past it, `feed` writes them out.
#[test]
fn large_echoes_of_one_read_share_a_write_up_to_a_read_window() {
    use std::future::Future;
    let cfg = WebSocketConfig {
        read_buffer_size: 256 * 1024,
        // An echo's setting: reads go on while output backs up.
        write_backlog_limit: 1 << 20,
        ..Default::default()
    };
    let payload = vec![4u8; 64 * 1024];
    let input = binary_frames(&payload, 5);
    // All in the buffer at the start, as if one read had brought them.
    let mem = Mem {
        input: Vec::new(),
        pos: 0,
        chunk: 0,
        output: Vec::new(),
        closed: false,
        hang: true,
        stalled: false,
    };
    let mut ws = WebSocket::from_raw(mem, Role::Server, input.into(), cfg, None);
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    for i in 0..4 {
        let msg = recv_now(&mut ws, &mut cx, i);
        feed_now(&mut ws, &mut cx, msg, i);
    }
    // 3 x 64 KiB queued when the fourth was fed, past the 128 KiB threshold.
    assert!(ws.get_ref().output.is_empty());
    // The fifth finds 256 KiB queued: written out before it is queued.
    let fifth = recv_now(&mut ws, &mut cx, 4);
    block_on(ws.feed(fifth)).unwrap();
    assert_eq!(written_frames(&ws.get_ref().output).len(), 4);
    // Nothing more to read: the fifth goes out before the wait.
    assert!(std::pin::pin!(ws.recv())
        .as_mut()
        .poll(&mut cx)
        .is_pending());
    let frames = written_frames(&ws.get_ref().output);
    assert_eq!(frames.len(), 5);
    assert!(frames.iter().all(|(_, p)| *p == payload));
}

#[test]
fn reads_go_on_past_the_flush_threshold_until_the_backlog_limit() {
    use std::future::Future;
    let cfg = small_write_limits();
    let payload = vec![6u8; 20_000];
    let input = binary_frames(&payload, 6);
    // One frame per read, so every message but the first needs a read.
    let mut ws = ws(input, 20_008, cfg);
    ws.get_mut().hang = true;
    ws.get_mut().stalled = true;
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    // Past the threshold from the second echo on, but under the limit: each
    // write is tried and waits, and reading goes on.
    for i in 0..4 {
        let msg = recv_now(&mut ws, &mut cx, i);
        feed_now(&mut ws, &mut cx, msg, i);
    }
    // 80 000 bytes queued, past the 64 KiB limit: no more reads until the
    // output drains, though two more messages are in.
    assert!(std::pin::pin!(ws.recv())
        .as_mut()
        .poll(&mut cx)
        .is_pending());
    assert!(ws.get_ref().output.is_empty());
    ws.get_mut().stalled = false;
    let next = block_on(ws.recv()).unwrap();
    assert_eq!(next, Message::Binary(payload.clone().into()));
    assert_eq!(written_frames(&ws.get_ref().output).len(), 4);
}

#[test]
fn a_peer_not_reading_yet_does_not_stop_reads_under_the_flush_threshold() {
    // Echoes large enough to be queued by reference, so they share the read
    // buffer, which then has to make room: the engine tries to write them
    // out first, but the peer reads nothing until it has sent everything.
    let payload = vec![5u8; 40_000];
    let input = binary_frames(&payload, 3);
    let mut ws = ws(input, 16 * 1024, WebSocketConfig::default());
    ws.get_mut().hang = true;
    ws.get_mut().stalled = true;
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    for i in 0..3 {
        let msg = recv_now(&mut ws, &mut cx, i);
        assert_eq!(msg, Message::Binary(payload.clone().into()));
        // 3 x 40 000 bytes stay under the 128 KiB threshold: queued, no wait.
        feed_now(&mut ws, &mut cx, msg, i);
    }
    assert!(ws.get_ref().output.is_empty());
}

#[test]
fn limits_close_with_1009() {
    let cfg = WebSocketConfig {
        max_message_size: 100,
        max_frame_size: 80,
        max_fragments: 3,
        ..Default::default()
    };
    let cases: Vec<Vec<u8>> = vec![
        frame(OpCode::Binary, true, &[1; 81]),
        [
            frame(OpCode::Binary, false, &[1; 60]),
            frame(OpCode::Continuation, true, &[1; 60]),
        ]
        .concat(),
        [
            frame(OpCode::Binary, false, b"a"),
            frame(OpCode::Continuation, false, b"b"),
            frame(OpCode::Continuation, false, b"c"),
            frame(OpCode::Continuation, true, b"d"),
        ]
        .concat(),
    ];
    for input in cases {
        let mut ws = ws(input, 4096, cfg.clone());
        let err = block_on(ws.recv()).unwrap_err();
        assert_eq!(err.close_code(), Some(CloseCode::TOO_BIG), "{err}");
        assert_eq!(close_code_sent(&ws.get_ref().output), Some(1009));
        assert!(ws.get_ref().closed, "transport shut after the close frame");
    }
}

#[test]
fn protocol_violations_close_with_their_codes() {
    let unmasked = vec![0x81, 0x02, b'h', b'i'];
    let mut rsv = frame(OpCode::Text, true, b"x");
    rsv[0] |= 0x40;
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (unmasked, 1002),
        (rsv, 1002),
        (frame(OpCode::Continuation, true, b"x"), 1002),
        (
            [
                frame(OpCode::Text, false, b"a"),
                frame(OpCode::Text, true, b"b"),
            ]
            .concat(),
            1002,
        ),
        (frame(OpCode::Text, true, b"\xff"), 1007),
        (
            [
                frame(OpCode::Text, false, b"\xce"),
                frame(OpCode::Continuation, true, b""),
            ]
            .concat(),
            1007,
        ),
        (frame(OpCode::Close, true, &[3, 0xe8, 0xff]), 1007),
        (frame(OpCode::Close, true, &[0x03]), 1002),
        (frame(OpCode::Close, true, &[0x03, 0xed]), 1002), // 1005 may not be sent
        (vec![0x83, 0x80, 0, 0, 0, 0], 1002),
    ];
    // Read whole, a frame takes the decoder's one-step path where it can;
    // read a byte at a time, the general one: both must fail alike.
    for (input, code) in cases {
        for read in [4096, 1] {
            let mut ws = ws(input.clone(), read, WebSocketConfig::default());
            let err = block_on(ws.recv()).unwrap_err();
            assert!(matches!(err, Error::Protocol(_)), "{input:x?}: {err}");
            assert_eq!(
                close_code_sent(&ws.get_ref().output),
                Some(code),
                "{input:x?}, reads of {read}"
            );
        }
    }
}

/// A read that brings a run of whole messages hands them out in order,
/// whatever sits between them (a ping is answered in its place) and
/// however the reads split them; text that is not UTF-8 after good
/// messages fails the connection (1007) once those were handed out, as
/// the general path does. `recv` and `recv_chunk` alike.
#[test]
fn a_run_of_whole_messages_keeps_its_order_and_fails_where_text_turns_invalid() {
    let mut input = frame(OpCode::Binary, true, b"one");
    input.extend(frame(OpCode::Text, true, "twö".as_bytes()));
    input.extend(frame(OpCode::Ping, true, b"p"));
    input.extend(frame(OpCode::Binary, true, &[9u8; 200]));
    input.extend(frame(OpCode::Text, true, b"ok"));
    // Not UTF-8 (0xc0 never is), but "abcd" if unmasked twice with the
    // test key: a decoder that left it unmasked for the general path would
    // hand it out.
    let key = wsup_testkit::MASK;
    let bad: Vec<u8> = b"abcd".iter().zip(key).map(|(b, k)| b ^ k).collect();
    assert!(std::str::from_utf8(&bad).is_err());
    input.extend(frame(OpCode::Text, true, &bad));
    input.extend(frame(OpCode::Binary, true, b"never"));
    let expected = [
        Message::Binary(Bytes::from_static(b"one")),
        Message::text("twö"),
        Message::Ping(Bytes::from_static(b"p")),
        Message::Binary(Bytes::from(vec![9u8; 200])),
        Message::text("ok"),
    ];
    for read in [4096, 7, 1] {
        let mut ws = ws(input.clone(), read, WebSocketConfig::default());
        for want in &expected {
            assert_eq!(&block_on(ws.recv()).unwrap(), want, "reads of {read}");
        }
        let err = block_on(ws.recv()).unwrap_err();
        assert_failed(&ws, &err, ProtocolError::InvalidUtf8, 1007);
        let out = written(&ws.get_ref().output);
        assert_eq!(out[0], (OpCode::Pong, b"p".to_vec()), "reads of {read}");

        let mut ws = super::tests::ws(input.clone(), read, WebSocketConfig::default());
        for want in expected.iter().filter(|m| !matches!(m, Message::Ping(_))) {
            let chunk = block_on(ws.recv_chunk()).unwrap();
            assert!(chunk.last());
            let got = match want {
                Message::Text(_) => {
                    assert_eq!(chunk.kind(), crate::message::MessageKind::Text);
                    Message::text(String::from_utf8(chunk.into_data().to_vec()).unwrap())
                }
                _ => Message::Binary(chunk.into_data()),
            };
            assert_eq!(&got, want, "reads of {read}");
        }
        let err = block_on(ws.recv_chunk()).unwrap_err();
        assert_failed(&ws, &err, ProtocolError::InvalidUtf8, 1007);
    }
}

#[test]
fn peer_close_is_echoed_then_connection_closed() {
    let input = frame(OpCode::Close, true, &[0x0f, 0xa0, b'o', b'k']);
    let mut ws = ws(input, 4096, WebSocketConfig::default());
    block_on(async {
        match ws.recv().await.unwrap() {
            Message::Close(Some(f)) => assert_eq!((f.code.0, f.reason.as_str()), (4000, "ok")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(ws.recv().await, Err(Error::ConnectionClosed)));
        assert!(matches!(
            ws.send(Message::text("late")).await,
            Err(Error::AlreadyClosed)
        ));
    });
    assert_eq!(close_code_sent(&ws.get_ref().output), Some(4000));
    assert!(ws.get_ref().closed);
}

#[test]
fn server_close_waits_for_the_reply_and_discards_data_meanwhile() {
    let mut input = frame(OpCode::Text, true, b"in flight");
    input.extend(frame(OpCode::Close, true, &[0x03, 0xe8]));
    let mut ws = ws(input, 4096, WebSocketConfig::default());
    block_on(ws.close(Some(crate::CloseFrame::new(1001, "bye")))).unwrap();
    let out = written(&ws.get_ref().output);
    assert_eq!(
        out,
        vec![(OpCode::Close, [&[0x03, 0xe9][..], b"bye"].concat())]
    );
    assert!(ws.get_ref().closed);
}

#[test]
fn fed_messages_go_out_together_when_recv_would_wait() {
    let mut ws = ws(Vec::new(), 4096, WebSocketConfig::default());
    block_on(async {
        for i in 0..3u8 {
            ws.feed(Message::binary(vec![i; 3])).await.unwrap();
        }
        assert!(ws.get_ref().output.is_empty(), "feed does not write");
        let _ = ws.recv().await;
    });
    let out = written(&ws.get_ref().output);
    assert_eq!(out.len(), 3);
    assert_eq!(out[2], (OpCode::Binary, vec![2; 3]));
}

#[test]
fn large_payloads_are_sent_whole_and_unmasked() {
    let big = Bytes::from(vec![9u8; 100_000]);
    let mut ws = ws(Vec::new(), 4096, WebSocketConfig::default());
    block_on(ws.send(Message::Binary(big.clone()))).unwrap();
    block_on(ws.send(Message::text("after"))).unwrap();
    let out = written(&ws.get_ref().output);
    assert_eq!(out[0], (OpCode::Binary, big.to_vec()));
    assert_eq!(out[1], (OpCode::Text, b"after".to_vec()));
}

#[test]
fn invalid_messages_to_send_are_refused() {
    let mut ws = ws(Vec::new(), 4096, WebSocketConfig::default());
    let r = block_on(ws.send(Message::Ping(Bytes::from(vec![0; 126]))));
    assert!(matches!(r, Err(Error::InvalidMessage(_))));
    let r = block_on(ws.close(Some(crate::CloseFrame::new(1005, ""))));
    assert!(matches!(r, Err(Error::InvalidMessage(_))));
}

#[test]
fn streaming_reader_hands_out_pieces_and_validates_text() {
    let text = "ä".repeat(5000);
    let bytes = text.as_bytes();
    let mut input = frame(OpCode::Text, false, &bytes[..3001]);
    input.extend(frame(OpCode::Ping, true, b""));
    input.extend(frame(OpCode::Continuation, true, &bytes[3001..]));
    let mut ws = ws(input, 1000, WebSocketConfig::default());
    let got = block_on(async {
        let mut msg = ws.next_message().await.unwrap();
        assert_eq!(msg.kind(), super::MessageKind::Text);
        let mut all = Vec::new();
        let mut pieces = 0;
        while let Some(c) = msg.chunk().await.unwrap() {
            all.extend_from_slice(&c);
            pieces += 1;
        }
        assert!(pieces > 2, "pieces as they arrive, got {pieces}");
        all
    });
    assert_eq!(got, bytes);
    // The pong is queued; it goes out when the connection would wait for
    // input (this transport never makes it wait) or on flush.
    block_on(ws.flush()).unwrap();
    assert_eq!(written(&ws.get_ref().output), vec![(OpCode::Pong, vec![])]);
}

#[test]
fn streaming_writer_fragments_and_ends_the_message() {
    use futures_util::AsyncWriteExt;
    let mut ws = ws(Vec::new(), 4096, WebSocketConfig::default());
    block_on(async {
        let mut w = ws.message_writer(super::MessageKind::Binary, 4);
        w.write_all(b"0123456789").await.unwrap();
        w.close().await.unwrap();
    });
    let out = written(&ws.get_ref().output);
    let ops: Vec<_> = out.iter().map(|(o, _)| *o).collect();
    assert_eq!(
        ops,
        vec![OpCode::Binary, OpCode::Continuation, OpCode::Continuation]
    );
    let joined: Vec<u8> = out.into_iter().flat_map(|(_, p)| p).collect();
    assert_eq!(joined, b"0123456789");
}

/// Checks that a call was refused as an invalid message to send.
#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, Error>) {
    assert!(matches!(r, Err(Error::InvalidMessage(_))), "{r:?}");
}

/// Server frames written: (opcode, fin, payload).
pub(super) fn written_fin(out: &[u8]) -> Vec<(OpCode, bool, Vec<u8>)> {
    written_frames(out)
        .into_iter()
        .map(|(h, p)| (h.opcode, h.fin, p))
        .collect()
}

/// Feeds a chunk that must be taken.
async fn feed(ws: &mut WebSocket<Mem>, chunk: Chunk) {
    ws.feed_chunk(chunk).await.unwrap();
}

/// Checks the server frames written: (opcode, fin, payload) each.
#[track_caller]
fn assert_sent(ws: &WebSocket<Mem>, expected: &[(OpCode, bool, &[u8])]) {
    let expected: Vec<_> = expected
        .iter()
        .map(|&(op, fin, p)| (op, fin, p.to_vec()))
        .collect();
    assert_eq!(written_fin(&ws.get_ref().output), expected);
}

#[test]
fn chunks_pass_a_large_message_through_in_pieces_as_one_frame_and_small_ones_whole() {
    let large: Vec<u8> = (0..4_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut input = frame(OpCode::Binary, true, b"small");
    input.extend(frame(OpCode::Binary, true, &large));
    input.extend(frame(OpCode::Ping, true, b"p"));
    input.extend(frame(OpCode::Text, true, "whole text".as_bytes()));
    input.extend(frame(OpCode::Close, true, &1000u16.to_be_bytes()));
    let mut ws = ws(input, 1 << 20, big_limits());
    let mut most_held = 0;
    let mut kinds = Vec::new();
    block_on(async {
        loop {
            match ws.recv_chunk().await {
                Ok(chunk) => {
                    kinds.push((chunk.kind(), chunk.last()));
                    ws.feed_chunk(chunk).await.unwrap();
                    most_held = most_held.max(ws.driver.proto.read_capacity());
                }
                Err(Error::ConnectionClosed) => break,
                Err(e) => panic!("{e}"),
            }
        }
    });
    // The large frame came in pieces, and the read buffer never grew to
    // hold it whole.
    assert!(kinds.len() > 4, "{kinds:?}");
    assert!(most_held < 1 << 20, "read buffer reached {most_held}");
    let out = written_fin(&ws.get_ref().output);
    assert_eq!(out[0], (OpCode::Binary, true, b"small".to_vec()));
    // It arrived as one frame and went on as one, its pieces written as
    // they came; the pong comes after it.
    assert_eq!(out[1], (OpCode::Binary, true, large));
    let rest: Vec<_> = out[2..].to_vec();
    assert_eq!(
        rest,
        vec![
            (OpCode::Pong, true, b"p".to_vec()),
            (OpCode::Text, true, b"whole text".to_vec()),
            (OpCode::Close, true, 1000u16.to_be_bytes().to_vec()),
        ]
    );
}

/// Up to 32 KiB, `recv_chunk` hands a message of one frame out whole,
/// however many reads it came in, and it is echoed as one frame; one byte
/// more and it comes in pieces, each what a read brought.
#[test]
fn chunks_take_a_message_of_up_to_32_kib_whole() {
    let window = super::driver::PIECES_OVER;
    assert_eq!(window, 32 * 1024, "the figure the docs give");
    let mut input = frame(OpCode::Binary, true, &vec![1u8; window]);
    input.extend(frame(OpCode::Binary, true, &vec![2u8; window + 1]));
    // Reads of 8 KiB: both frames arrive in several.
    let mut ws = ws(input, 8 << 10, WebSocketConfig::default());
    let chunks = block_on(async {
        let mut chunks = Vec::new();
        for _ in 0..2 {
            loop {
                let chunk = ws.recv_chunk().await.unwrap();
                let last = chunk.last();
                chunks.push((chunk.data().len(), last));
                ws.feed_chunk(chunk).await.unwrap();
                if last {
                    break;
                }
            }
        }
        ws.flush().await.unwrap();
        chunks
    });
    assert_eq!(chunks[0], (window, true));
    assert!(chunks.len() > 2, "{chunks:?}");
    assert_eq!(chunks[1..].iter().map(|c| c.0).sum::<usize>(), window + 1);
    let out = written_fin(&ws.get_ref().output);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], (OpCode::Binary, true, vec![1u8; window]));
    // In pieces, but one frame out, as it came in.
    assert_eq!(out[1], (OpCode::Binary, true, vec![2u8; window + 1]));
}

/// Received in pieces and fed on: a large text message, or one that came
/// fragmented, goes out a frame per piece (text could still turn invalid
/// mid-frame, and only a close frame after a complete one can say so).
#[test]
fn chunks_of_text_or_of_a_fragmented_message_go_out_a_frame_each() {
    let half = vec![b'a'; 200_000];
    let mut input = frame(OpCode::Text, true, &[&half[..], &half[..]].concat());
    input.extend(frame(OpCode::Binary, false, &half));
    input.extend(frame(OpCode::Continuation, true, &half));
    let mut ws = ws(input, 64 << 10, WebSocketConfig::default());
    let fed = block_on(async {
        let mut fed = 0;
        let mut ends = 0;
        while ends < 2 {
            let chunk = ws.recv_chunk().await.unwrap();
            ends += usize::from(chunk.last());
            ws.feed_chunk(chunk).await.unwrap();
            fed += 1;
        }
        ws.flush().await.unwrap();
        fed
    });
    let out = written_fin(&ws.get_ref().output);
    assert_eq!(out.len(), fed);
    assert!(out.len() > 4, "{}", out.len());
    assert_eq!(out[0].0, OpCode::Text);
    let text_frames = out
        .iter()
        .take_while(|(op, _, _)| *op != OpCode::Binary)
        .count();
    assert!(text_frames > 1 && out[text_frames - 1].1);
    assert_eq!(out[text_frames].0, OpCode::Binary);
    let joined: usize = out.iter().map(|(_, _, p)| p.len()).sum();
    assert_eq!(joined, 800_000);
}

/// Receives a message in chunks, feeding each on but the last, which it
/// returns: the relayed frame is left open.
fn relay_all_but_the_last_piece(ws: &mut WebSocket<Mem>) -> Chunk {
    block_on(async {
        loop {
            let chunk = ws.recv_chunk().await.unwrap();
            if chunk.last() {
                return chunk;
            }
            ws.feed_chunk(chunk).await.unwrap();
        }
    })
}

/// A large binary message that arrived as one frame, relayed piece by piece
/// as one frame: the pong for a ping that arrives while its last piece is
/// not fed yet goes out after the frame, never inside it.
#[test]
fn a_pong_waits_for_the_end_of_a_frame_being_relayed() {
    use std::future::Future;
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let mut input = frame(OpCode::Binary, true, &payload);
    input.extend(frame(OpCode::Ping, true, b"are you there"));
    let mut ws = ws(input, 64 << 10, WebSocketConfig::default());
    ws.get_mut().hang = true;
    let last = relay_all_but_the_last_piece(&mut ws);
    // The ping is read and answered; the receive then waits for input,
    // writing what is queued first: the frame so far, and no pong.
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(std::pin::pin!(ws.recv_chunk())
        .as_mut()
        .poll(&mut cx)
        .is_pending());
    let header = 10; // 127 and an 8-byte length
    assert_eq!(
        ws.get_ref().output.len(),
        header + payload.len() - last.data().len()
    );
    block_on(async {
        ws.feed_chunk(last).await.unwrap();
        ws.flush().await.unwrap();
    });
    let pong = (OpCode::Pong, true, &b"are you there"[..]);
    assert_sent(&ws, &[(OpCode::Binary, true, &payload), pong]);
}

/// Its header gave the frame's length: the pieces that follow must make it
/// up exactly, and nothing else is taken until they do.
#[test]
fn pieces_relayed_as_one_frame_must_add_up_to_it() {
    let payload = vec![8u8; 300_000];
    let mut ws = ws(
        frame(OpCode::Binary, true, &payload),
        100_000,
        WebSocketConfig::default(),
    );
    block_on(async {
        let mut pieces = Vec::new();
        loop {
            let chunk = ws.recv_chunk().await.unwrap();
            let last = chunk.last();
            pieces.push(chunk);
            if last {
                break;
            }
        }
        assert!(pieces.len() > 1);
        let rest: usize = pieces[1..].iter().map(|c| c.data().len()).sum();
        let mut pieces = pieces.into_iter();
        ws.feed_chunk(pieces.next().unwrap()).await.unwrap();
        for wrong in [
            Chunk::binary(vec![0u8; rest - 1], true),
            Chunk::binary(vec![0u8; rest + 1], false),
            Chunk::binary(vec![0u8; rest], false),
            Chunk::text("x", false),
        ] {
            refused(ws.feed_chunk(wrong).await);
        }
        refused(ws.send(Message::binary(&b"other"[..])).await);
        for piece in pieces {
            ws.feed_chunk(piece).await.unwrap();
        }
        ws.send(Message::binary(&b"next"[..])).await.unwrap();
    });
    let next = (OpCode::Binary, true, &b"next"[..]);
    assert_sent(&ws, &[(OpCode::Binary, true, &payload), next]);
}

/// Closing while a frame being relayed is unfinished: no close frame can
/// follow it, so what is queued goes out and the connection is shut down,
/// without waiting for a close the peer could not send.
#[test]
fn closing_inside_a_relayed_frame_shuts_down_without_a_close_frame() {
    let payload = vec![9u8; 300_000];
    let mut input = frame(OpCode::Binary, true, &payload);
    input.extend(frame(OpCode::Ping, true, b"p"));
    let mut ws = ws(input, 100_000, WebSocketConfig::default());
    ws.get_mut().hang = true;
    let sent = block_on(async {
        let first = ws.recv_chunk().await.unwrap();
        assert!(!first.last());
        let sent = first.data().len();
        ws.feed_chunk(first).await.unwrap();
        sent
    });
    // Done at once: it waits for nothing from the peer.
    assert!(matches!(poll_once(ws.close(None)), Poll::Ready(Ok(()))));
    assert!(ws.get_ref().closed);
    assert_eq!(ws.get_ref().output.len(), 10 + sent);
    let r = block_on(ws.feed_chunk(Chunk::binary(vec![0u8; 1], false)));
    assert!(r.is_err());
}

/// Split, the writer half closing inside a relayed frame: the connection is
/// shut down at once, and the reader half, waiting for input that will not
/// come, is woken and ends.
#[test]
fn a_writer_half_closing_inside_a_relayed_frame_ends_the_reader_half_too() {
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    struct Count(AtomicUsize);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    // A third of a 300 000-byte frame arrives; the rest never does.
    let mut input = frame(OpCode::Binary, true, &vec![5u8; 300_000]);
    input.truncate(14 + 100_000);
    let mut ws = ws(input, 1 << 20, WebSocketConfig::default());
    ws.get_mut().hang = true;
    let (mut reader, mut writer) = ws.split();
    // Relay what there is; the frame stays open.
    let mut relayed = 0;
    while let Poll::Ready(chunk) = poll_once(reader.recv_chunk()) {
        let chunk = chunk.unwrap();
        assert!(!chunk.last());
        relayed += chunk.data().len();
        block_on(writer.feed_chunk(chunk)).unwrap();
    }
    assert_eq!(relayed, 100_000);
    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = std::task::Waker::from(count.clone());
    let mut cx = Context::from_waker(&waker);
    {
        let mut recv = std::pin::pin!(reader.recv_chunk());
        assert!(recv.as_mut().poll(&mut cx).is_pending());
    }
    assert!(matches!(poll_once(writer.close(None)), Poll::Ready(Ok(()))));
    assert!(count.0.load(Ordering::SeqCst) > 0, "reader half not woken");
    let end = std::pin::pin!(reader.recv_chunk()).as_mut().poll(&mut cx);
    assert!(
        matches!(end, Poll::Ready(Err(Error::ConnectionClosed))),
        "{end:?}"
    );
}

/// A protocol error while a relayed frame is unfinished: no close frame can
/// follow it, so the connection is shut down and the error reported at once,
/// without draining input for a close frame that was never sent.
#[test]
fn a_protocol_error_inside_a_relayed_frame_ends_the_connection_at_once() {
    let payload = vec![6u8; 300_000];
    let mut input = frame(OpCode::Binary, true, &payload);
    // Unmasked: a protocol error (1002).
    input.extend([0x82, 0x01, 0x00]);
    let mut ws = ws(input, 100_000, WebSocketConfig::default());
    ws.get_mut().hang = true;
    let last = relay_all_but_the_last_piece(&mut ws);
    let end = poll_once(ws.recv_chunk());
    assert!(
        matches!(
            end,
            Poll::Ready(Err(Error::Protocol(ProtocolError::UnmaskedFrame)))
        ),
        "{end:?}"
    );
    assert!(ws.get_ref().closed);
    let header = 10;
    assert_eq!(
        ws.get_ref().output.len(),
        header + payload.len() - last.data().len()
    );
}

/// A fragmented message is not known to fit a read window from its first
/// frame: one whose first frame is over the read buffer comes in pieces.
#[test]
fn chunks_take_a_fragmented_message_over_the_read_buffer_in_pieces() {
    let mut input = frame(OpCode::Binary, false, &[4u8; 10_000]);
    input.extend(frame(OpCode::Continuation, true, &[5u8; 10_000]));
    let mut ws = ws(input, 64 << 10, WebSocketConfig::default());
    let chunks = block_on(async {
        let mut chunks = Vec::new();
        loop {
            let chunk = ws.recv_chunk().await.unwrap();
            let last = chunk.last();
            chunks.push((chunk.data().len(), last));
            if last {
                return chunks;
            }
        }
    });
    assert!(chunks.len() > 2 && !chunks[0].1, "{chunks:?}");
    assert_eq!(chunks.iter().map(|c| c.0).sum::<usize>(), 20_000);
}

#[test]
fn a_large_text_message_in_chunks_fails_with_1007_where_it_turns_invalid() {
    // Over a read window (256 KiB), so it comes in pieces.
    let mut text = "abc".repeat(100_000).into_bytes();
    let at = text.len() - 10;
    text[at] = 0xff;
    let mut ws = ws(
        frame(OpCode::Text, true, &text),
        2000,
        WebSocketConfig::default(),
    );
    let (handed_out, err) = block_on(async {
        let mut n = 0;
        loop {
            match ws.recv_chunk().await {
                Ok(c) => {
                    assert_eq!(c.kind(), super::MessageKind::Text);
                    assert!(!c.last());
                    n += c.data().len();
                }
                Err(e) => return (n, e),
            }
        }
    });
    assert!(handed_out > 0 && handed_out <= at, "{handed_out}");
    assert_failed(&ws, &err, ProtocolError::InvalidUtf8, 1007);
}

#[test]
fn feed_chunk_refuses_what_would_break_the_framing() {
    use futures_util::AsyncWriteExt;
    let mut ws = ws(Vec::new(), 4096, WebSocketConfig::default());
    block_on(async {
        feed(&mut ws, Chunk::binary(&b"ab"[..], false)).await;
        // No other message, no other kind, until this one ends.
        refused(ws.feed(Message::Binary(Bytes::from_static(b"x"))).await);
        refused(ws.feed_chunk(Chunk::text("x", true)).await);
        let mut w = ws.message_writer(super::MessageKind::Binary, 16);
        w.write_all(b"y").await.unwrap();
        assert!(w.close().await.is_err());
        drop(w);
        feed(&mut ws, Chunk::binary(&b"cd"[..], true)).await;
        // Text may split a code point between chunks, but must be UTF-8.
        let e_acute = "é".as_bytes();
        feed(&mut ws, Chunk::text(&e_acute[..1], false)).await;
        feed(&mut ws, Chunk::text(&e_acute[1..], true)).await;
        refused(ws.feed_chunk(Chunk::text(&b"\xff"[..], true)).await);
        refused(ws.feed_chunk(Chunk::text(&e_acute[..1], true)).await);
        ws.flush().await.unwrap();
    });
    assert_sent(
        &ws,
        &[
            (OpCode::Binary, false, b"ab"),
            (OpCode::Continuation, true, b"cd"),
            (OpCode::Text, false, &e_acute_bytes()[..1]),
            (OpCode::Continuation, true, &e_acute_bytes()[1..]),
        ],
    );
}

fn e_acute_bytes() -> &'static [u8] {
    "é".as_bytes()
}

#[test]
fn a_dropped_incoming_message_is_discarded_not_taken_for_the_next() {
    let big = vec![7u8; 1 << 20];
    let mut input = frame(OpCode::Binary, false, &big[..3000]);
    input.extend(frame(OpCode::Continuation, true, &big[3000..6000]));
    input.extend(frame(OpCode::Binary, true, b"next"));
    input.extend(frame(OpCode::Binary, true, &big));
    input.extend(frame(OpCode::Binary, true, b"after"));
    let mut ws = ws(input, 4096, WebSocketConfig::default());
    block_on(async {
        let mut first = ws.next_message().await.unwrap();
        assert!(first.chunk().await.unwrap().is_some());
        drop(first);
        let mut next = ws.next_message().await.unwrap();
        assert_eq!(next.chunk().await.unwrap().as_deref(), Some(&b"next"[..]));
        assert_eq!(next.chunk().await.unwrap(), None);
        drop(next);
        // A 1 MiB frame dropped after its first piece: `recv` discards the
        // rest as it arrives, without buffering it whole.
        let mut large = ws.next_message().await.unwrap();
        assert!(large.chunk().await.unwrap().is_some());
        drop(large);
        let after = ws.recv().await.unwrap();
        assert_eq!(after, Message::Binary(Bytes::from_static(b"after")));
    });
    assert!(ws.driver.proto.read_capacity() < big.len() / 2);
}

#[test]
fn a_writer_refused_mid_chunks_leaves_the_chunked_message_intact() {
    use futures_util::AsyncWriteExt;
    let mut ws = ws(Vec::new(), 4096, WebSocketConfig::default());
    block_on(async {
        feed(&mut ws, Chunk::binary(&b"ab"[..], false)).await;
        let mut w = ws.message_writer(super::MessageKind::Text, 1024);
        w.write_all(b"hi").await.unwrap();
        assert!(w.flush().await.is_err());
        drop(w);
        feed(&mut ws, Chunk::binary(&b"cd"[..], true)).await;
        ws.flush().await.unwrap();
    });
    // No frame of the refused writer, no orphan continuation.
    assert_sent(
        &ws,
        &[
            (OpCode::Binary, false, b"ab"),
            (OpCode::Continuation, true, b"cd"),
        ],
    );
}

#[test]
fn after_a_refused_text_chunk_the_message_takes_no_more() {
    let mut ws = ws(Vec::new(), 4096, WebSocketConfig::default());
    block_on(async {
        feed(&mut ws, Chunk::text(&b"\xe2\x82"[..], false)).await;
        // Completes the euro sign, then goes wrong.
        refused(ws.feed_chunk(Chunk::text(&b"\xac\xff"[..], false)).await);
        // Would put E2 82 78 on the wire.
        refused(ws.feed_chunk(Chunk::text("x", true)).await);
        refused(ws.feed(Message::text("other")).await);
        ws.flush().await.unwrap();
    });
    assert_sent(&ws, &[(OpCode::Text, false, b"\xe2\x82")]);
}

/// Polls `fut` once: a receive dropped before it finished.
fn poll_once<F: std::future::Future>(fut: F) -> Poll<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    fut.as_mut().poll(&mut cx)
}

#[test]
fn a_message_survives_a_dropped_receive_and_a_change_of_call() {
    // `recv` dropped after the first fragment: `next_message` gets the
    // message whole, prefix included.
    let mut c = ws(
        frame(OpCode::Text, false, b"hello "),
        4096,
        WebSocketConfig::default(),
    );
    c.get_mut().hang = true;
    assert!(poll_once(c.recv()).is_pending());
    c.get_mut()
        .input
        .extend(frame(OpCode::Continuation, true, b"world"));
    block_on(async {
        let mut msg = c.next_message().await.unwrap();
        assert_eq!(msg.kind(), super::MessageKind::Text);
        assert_eq!(
            msg.chunk().await.unwrap().as_deref(),
            Some(&b"hello world"[..])
        );
        assert_eq!(msg.chunk().await.unwrap(), None);
    });

    // `recv_chunk` dropped with only the header of a large frame (over a
    // read window) in: nothing was handed out, so `recv` gets it whole.
    let big = vec![3u8; 400_000];
    let whole = frame(OpCode::Binary, true, &big);
    let header = whole.len() - big.len();
    let mut c = ws(whole[..header].to_vec(), 4096, WebSocketConfig::default());
    c.get_mut().hang = true;
    assert!(poll_once(c.recv_chunk()).is_pending());
    c.get_mut().input.extend_from_slice(&whole[header..]);
    let msg = block_on(c.recv()).unwrap();
    assert!(msg == Message::Binary(Bytes::from(big.clone())));

    // A piece handed to `recv_chunk`, then `next_message`: the tail is
    // discarded, not taken for a message; the next one comes whole.
    let mut input = frame(OpCode::Binary, true, &big);
    input.extend(frame(OpCode::Binary, true, b"next"));
    let mut c = ws(input, 4096, WebSocketConfig::default());
    block_on(async {
        let first = c.recv_chunk().await.unwrap();
        assert!(!first.last());
        let mut msg = c.next_message().await.unwrap();
        assert_eq!(msg.chunk().await.unwrap().as_deref(), Some(&b"next"[..]));
        assert_eq!(msg.chunk().await.unwrap(), None);
    });
}

#[test]
fn the_peer_cannot_make_the_server_panic() {
    // Deterministic pseudo-random bytes, fed in odd-sized reads.
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for round in 0..300 {
        let mut input = Vec::new();
        for _ in 0..(round % 50 + 1) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            input.extend_from_slice(&x.to_le_bytes());
        }
        if round % 2 == 0 {
            input[0] = 0x81;
            input[1] |= 0x80;
        }
        let mut ws = ws(
            input,
            round % 7 + 1,
            WebSocketConfig {
                max_frame_size: 1 << 16,
                ..Default::default()
            },
        );
        block_on(async { while ws.recv().await.is_ok() {} });
    }
    let _ = ProtocolError::UnmaskedFrame;
}

mod deflate {
    use super::*;
    use crate::deflate::{negotiate, parse_offers, DeflateConfig, Deflater, Inflater};
    use crate::prepared::PreparedMessage;

    fn compressed_ws(input: Vec<u8>, offer: &str, cfg: WebSocketConfig) -> WebSocket<Mem> {
        let config = DeflateConfig::enabled().threshold(0);
        let agreed = negotiate(&parse_offers(&[offer]), &config).expect("offer accepted");
        let mut ws = ws(input, 4096, cfg);
        ws.enable_deflate(agreed, &config, None);
        ws
    }

    /// A masked client frame with RSV1 as given.
    fn rsv1_frame(opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) -> Vec<u8> {
        let mut f = frame(opcode, fin, payload);
        if rsv1 {
            f[0] |= 0x40;
        }
        f
    }

    /// Server frames with their RSV1 bit.
    fn written_rsv1(out: &[u8]) -> Vec<(OpCode, bool, Vec<u8>)> {
        written_frames(out)
            .into_iter()
            .map(|(h, p)| (h.opcode, h.rsv1, p))
            .collect()
    }

    /// Uncompressed binary frames (a client may send any message so) in a
    /// run, relayed by `recv_each` with compression on: compressed over the
    /// threshold as the `recv_chunk` relay compresses them, not copied
    /// out as they came.
    #[test]
    fn recv_each_relays_uncompressed_input_compressed_as_the_chunk_relay_does() {
        let mut input = Vec::new();
        for len in [3, 200, 1000, 5000] {
            input.extend(frame(OpCode::Binary, true, &wsup_testkit::noise(len)));
            input.extend(frame(OpCode::Binary, true, &vec![b'z'; len]));
        }
        input.extend(frame(OpCode::Close, true, &[0x03, 0xe8]));
        let config = DeflateConfig::enabled().threshold(100);
        let agreed = negotiate(&parse_offers(&["permessage-deflate"]), &config).unwrap();
        let start = || {
            let mut ws = ws(input.clone(), 4096, WebSocketConfig::default());
            ws.enable_deflate(agreed, &config, None);
            ws
        };
        let mut relay = start();
        relay_until_closed(&mut relay);
        let mut each = start();
        let end = block_on(async {
            loop {
                if let Err(e) = each.recv_each(|msg, out| out.relay(&msg)).await {
                    return e;
                }
            }
        });
        assert!(matches!(end, Error::ConnectionClosed), "{end}");
        let written = written_rsv1(&each.get_ref().output);
        assert_eq!(written, written_rsv1(&relay.get_ref().output));
        // The 3-byte ones went out as they came; every other compressed.
        let rsv1: Vec<bool> = written.iter().map(|(_, rsv1, _)| *rsv1).collect();
        assert_eq!(
            rsv1[..8],
            [false, false, true, true, true, true, true, true]
        );
    }

    /// Compressed, an incompressible message of exactly the message limit
    /// is a frame a little over it: the default frame limit, which follows
    /// the message limit, takes it; the message limit still holds.
    #[test]
    fn the_default_limits_take_a_compressed_message_of_the_limit() {
        let cfg = WebSocketConfig::default();
        let limit = cfg.max_message_size();
        for (len, fits) in [(limit, true), (limit + 1, false)] {
            let data = wsup_testkit::noise(len);
            let mut wire = bytes::BytesMut::new();
            Deflater::new(6, 15, false).compress_part(&data, true, &mut wire);
            assert!(wire.len() > limit, "{} compressed", wire.len());
            let input = rsv1_frame(OpCode::Binary, true, true, &wire);
            let mut ws = compressed_ws(input, "permessage-deflate", cfg.clone());
            match block_on(ws.recv()) {
                Ok(Message::Binary(b)) => assert!(fits && b[..] == data[..], "{len}"),
                Err(Error::Protocol(ProtocolError::MessageTooLarge { .. })) => assert!(!fits),
                other => panic!("{len}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_large_compressed_message_is_relayed_in_compressed_pieces() {
        // Barely compressible, so the frame stays larger than a read window.
        let data = wsup_testkit::noise(400_000);
        let mut client = Deflater::new(6, 15, false);
        let mut wire = bytes::BytesMut::new();
        client.compress_part(&data, true, &mut wire);
        let input = rsv1_frame(OpCode::Binary, true, true, &wire);
        let mut ws = compressed_ws(
            input,
            "permessage-deflate; client_max_window_bits",
            WebSocketConfig::default(),
        );
        let pieces = relay_until_closed(&mut ws);
        assert!(pieces > 2, "{pieces} pieces");
        let out = written_rsv1(&ws.get_ref().output);
        let data_frames: Vec<_> = out.iter().filter(|(op, _, _)| !op.is_control()).collect();
        assert!(data_frames.len() > 2);
        // RSV1 on the first frame only; the pieces inflate as one message.
        assert_eq!((data_frames[0].0, data_frames[0].1), (OpCode::Binary, true));
        assert!(data_frames[1..]
            .iter()
            .all(|(op, rsv1, _)| *op == OpCode::Continuation && !rsv1));
        let mut inflater = Inflater::new(15, false);
        let mut plain = bytes::BytesMut::new();
        for (i, (_, _, p)) in data_frames.iter().enumerate() {
            let fin = i == data_frames.len() - 1;
            inflater.decompress(p, fin, &mut plain, 1 << 20).unwrap();
        }
        assert!(plain[..] == data[..]);
    }

    #[test]
    fn compressed_fragments_inflate_and_the_echo_is_compressed() {
        let text = "compress me, compress me again; ".repeat(200);
        let mut client = Deflater::new(6, 15, false);
        let (a, b) = text.as_bytes().split_at(1000);
        let mut p1 = bytes::BytesMut::new();
        client.compress_part(a, false, &mut p1);
        let mut p2 = bytes::BytesMut::new();
        client.compress_part(b, true, &mut p2);
        let mut input = rsv1_frame(OpCode::Text, false, true, &p1);
        input.extend(frame(OpCode::Ping, true, b"mid"));
        input.extend(rsv1_frame(OpCode::Continuation, true, false, &p2));
        let mut ws = compressed_ws(
            input,
            "permessage-deflate; client_max_window_bits",
            WebSocketConfig::default(),
        );
        block_on(async {
            assert!(matches!(ws.recv().await.unwrap(), Message::Ping(_)));
            let msg = ws.recv().await.unwrap();
            assert_eq!(msg, Message::text(text.clone()));
            ws.send(msg).await.unwrap();
        });
        let out = written_rsv1(&ws.get_ref().output);
        let (op, rsv1, payload) = out.last().unwrap().clone();
        assert_eq!((op, rsv1), (OpCode::Text, true));
        assert!(
            payload.len() < text.len() / 4,
            "compressed: {} bytes",
            payload.len()
        );
        let mut plain = bytes::BytesMut::new();
        Inflater::new(15, false)
            .decompress(&payload, true, &mut plain, 1 << 20)
            .unwrap();
        assert_eq!(&plain[..], text.as_bytes());
    }

    #[test]
    fn rsv1_on_a_continuation_or_control_frame_is_a_protocol_error() {
        let mut c = Deflater::new(1, 15, false);
        let mut p = bytes::BytesMut::new();
        c.compress(b"abc", &mut p);
        for input in [
            [
                rsv1_frame(OpCode::Binary, false, false, b"x"),
                rsv1_frame(OpCode::Continuation, true, true, &p),
            ]
            .concat(),
            rsv1_frame(OpCode::Ping, true, true, b""),
        ] {
            let mut ws = compressed_ws(input, "permessage-deflate", WebSocketConfig::default());
            let err = block_on(ws.recv()).unwrap_err();
            assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL), "{err}");
        }
    }

    #[test]
    fn a_deflate_bomb_is_refused_with_1009_while_inflating() {
        // 64 MiB of zeros compress to about 64 KiB.
        let mut c = Deflater::new(9, 15, false);
        let mut bomb = bytes::BytesMut::new();
        c.compress(&vec![0u8; 64 << 20], &mut bomb);
        assert!(bomb.len() < 200_000);
        let cfg = WebSocketConfig {
            max_message_size: 1 << 20,
            ..Default::default()
        };
        let mut ws = compressed_ws(
            rsv1_frame(OpCode::Binary, true, true, &bomb),
            "permessage-deflate",
            cfg,
        );
        let err = block_on(ws.recv()).unwrap_err();
        assert_eq!(err.close_code(), Some(CloseCode::TOO_BIG), "{err}");
        assert_eq!(close_code_sent(&ws.get_ref().output), Some(1009));
    }

    #[test]
    fn corrupt_compressed_data_is_a_protocol_error() {
        let input = rsv1_frame(OpCode::Binary, true, true, &[0xff; 40]);
        let mut ws = compressed_ws(input, "permessage-deflate", WebSocketConfig::default());
        let err = block_on(ws.recv()).unwrap_err();
        assert_failed(&ws, &err, ProtocolError::InvalidCompressedData, 1002);
    }

    #[test]
    fn write_compression_can_be_switched_per_message() {
        let mut ws = compressed_ws(Vec::new(), "permessage-deflate", WebSocketConfig::default());
        block_on(async {
            ws.send(Message::text("a".repeat(500))).await.unwrap();
            ws.set_write_compression(false);
            ws.send(Message::text("b".repeat(500))).await.unwrap();
        });
        let rsv1: Vec<bool> = written_rsv1(&ws.get_ref().output)
            .iter()
            .map(|f| f.1)
            .collect();
        assert_eq!(rsv1, vec![true, false]);
    }

    #[test]
    fn prepared_messages_compress_once_per_parameter_set() {
        let msg = PreparedMessage::text("broadcast ".repeat(300));
        let offer = "permessage-deflate; server_no_context_takeover";
        let mut outs = Vec::new();
        for _ in 0..3 {
            let mut ws = compressed_ws(Vec::new(), offer, WebSocketConfig::default());
            block_on(ws.send_prepared(&msg)).unwrap();
            outs.push(written_rsv1(&ws.get_ref().output));
        }
        assert_eq!(msg.compressed_encodings(), 1);
        assert!(outs.iter().all(|o| o == &outs[0] && o[0].1));
        // A connection that keeps its context compresses with it instead,
        // and the client can follow the stream across messages.
        let mut ws = compressed_ws(Vec::new(), "permessage-deflate", WebSocketConfig::default());
        block_on(async {
            ws.send_prepared(&msg).await.unwrap();
            ws.send_prepared(&msg).await.unwrap();
        });
        assert_eq!(msg.compressed_encodings(), 1);
        let mut inflater = Inflater::new(15, false);
        for (_, rsv1, payload) in written_rsv1(&ws.get_ref().output) {
            assert!(rsv1);
            let mut plain = bytes::BytesMut::new();
            inflater
                .decompress(&payload, true, &mut plain, 1 << 20)
                .unwrap();
            assert_eq!(&plain[..], msg.payload());
        }
        // Without compression: the plain frame.
        let mut plain_ws = super::ws(Vec::new(), 4096, WebSocketConfig::default());
        block_on(plain_ws.send_prepared(&msg)).unwrap();
        assert_eq!(
            written(&plain_ws.get_ref().output),
            vec![(OpCode::Text, msg.payload().to_vec())]
        );
    }
}

mod upgrade_sources {
    use super::*;
    use crate::handshake::{parse_head, HeadLimits};
    use crate::{Preparsed, Upgrader};

    const REQ: &str = "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n";

    #[test]
    fn negotiate_gives_the_101_for_servers_that_write_it_themselves() {
        let parts = parse_head(REQ.as_bytes(), &HeadLimits::default()).unwrap();
        let upgrader = Upgrader::new().subprotocols(["chat"]);
        let accepted = upgrader.negotiate(&parts).unwrap();
        let res = accepted.response();
        assert_eq!(res.status(), http::StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(
            res.headers()["sec-websocket-accept"],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(res.headers()["sec-websocket-protocol"], "chat");
        // The connection is then built over the upgraded IO, with the bytes
        // the server read past the head.
        let leftover = Bytes::from(frame(OpCode::Text, true, b"early"));
        let mem = Mem::new(Vec::new(), 64);
        let mut ws = accepted.into_websocket(mem, leftover);
        assert_eq!(ws.subprotocol(), Some("chat"));
        assert_eq!(block_on(ws.recv()).unwrap(), Message::text("early"));
        // A refused request comes with its response.
        let bad = parse_head(REQ.replace("GET", "PUT").as_bytes(), &HeadLimits::default()).unwrap();
        let rejection = upgrader.negotiate(&bad).unwrap_err();
        assert_eq!(
            rejection.response.status(),
            http::StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn preparsed_source_writes_the_101_and_keeps_leftover_bytes() {
        let parts = parse_head(REQ.as_bytes(), &HeadLimits::default()).unwrap();
        let mem = Mem::new(frame(OpCode::Binary, true, b"next"), 64);
        let leftover = Bytes::from(frame(OpCode::Text, true, b"first"));
        let upgrader = Upgrader::new();
        let mut ws = block_on(upgrader.upgrade_from(Preparsed::new(parts, mem, leftover))).unwrap();
        let head = String::from_utf8_lossy(&ws.get_ref().output).to_string();
        assert!(
            head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
            "{head}"
        );
        assert!(
            head.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            "{head}"
        );
        assert_eq!(block_on(ws.recv()).unwrap(), Message::text("first"));
        assert_eq!(block_on(ws.recv()).unwrap(), Message::binary(&b"next"[..]));
    }
}
