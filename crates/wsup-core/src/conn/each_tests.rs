//! `recv_each` over the in-memory transport: what its echo writes is what
//! the `recv_chunk`/`feed_chunk` relay writes, at every read size; its
//! errors and its backpressure.

use std::cell::Cell;
use std::future::Future;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_executor::block_on;

use super::tests::{big_limits, frame, ws, Mem};
use super::WebSocket;
use crate::config::WebSocketConfig;
use crate::error::{Error, ProtocolError};
use crate::frame::OpCode;
use crate::message::{Message, MessageKind};

/// Echoes with `recv_each` until the connection ends; how many messages
/// (or pieces) it handed out, and how it ended.
fn each_echo(ws: &mut WebSocket<Mem>) -> (usize, Error) {
    block_on(async {
        let mut handed = 0;
        loop {
            match ws.recv_each(|msg, out| out.relay(&msg)).await {
                Ok(n) => handed += n,
                Err(e) => return (handed, e),
            }
        }
    })
}

/// Every kind of input an echo meets, in one stream: runs of whole
/// messages (7- and 16-bit lengths, text and binary, empty), a ping
/// between them, a fragmented message with a ping inside, a message over
/// 64 KiB and one over a read window (both relayed in pieces where a read
/// ends inside them), then the close.
fn mixed_input() -> Vec<u8> {
    let mut input = Vec::new();
    for m in [&b"a"[..], b"", &[7u8; 125], &[8u8; 126], &[9u8; 1000]] {
        input.extend(frame(OpCode::Binary, true, m));
    }
    input.extend(frame(OpCode::Text, true, "héllo".as_bytes()));
    input.extend(frame(OpCode::Ping, true, b"p"));
    input.extend(frame(OpCode::Text, true, b"after the ping"));
    input.extend(frame(OpCode::Text, false, "wö".as_bytes()));
    input.extend(frame(OpCode::Ping, true, b"q"));
    input.extend(frame(OpCode::Continuation, true, "rld".as_bytes()));
    input.extend(frame(OpCode::Binary, true, &[1u8; 70_000]));
    input.extend(frame(OpCode::Binary, true, &[2u8; 300_000]));
    input.extend(frame(OpCode::Binary, true, b"last"));
    input.extend(frame(OpCode::Close, true, &[0x03, 0xe8]));
    input
}

#[test]
fn its_echo_writes_what_the_chunk_relay_writes_at_every_read_size() {
    let input = mixed_input();
    for read in [1 << 20, 4096, 1000, 7, 1] {
        let mut relay = ws(input.clone(), read, big_limits());
        super::tests::relay_until_closed(&mut relay);
        let mut each = ws(input.clone(), read, big_limits());
        let (handed, end) = each_echo(&mut each);
        assert!(
            matches!(end, Error::ConnectionClosed),
            "reads of {read}: {end}"
        );
        // Eleven messages, the one over a read window in two pieces or more
        // at every read size here.
        assert!(handed >= 12, "reads of {read}: {handed} handed");
        assert_eq!(
            each.get_ref().output,
            relay.get_ref().output,
            "reads of {read}"
        );
        let (stats, relayed) = (each.stats(), relay.stats());
        assert_eq!(stats.messages_received, 11, "reads of {read}");
        assert_eq!(stats.messages_sent, 11, "reads of {read}");
        assert_eq!(
            (stats.bytes_received, stats.bytes_sent),
            (relayed.bytes_received, relayed.bytes_sent),
            "reads of {read}"
        );
    }
}

#[test]
fn text_that_turns_invalid_in_a_run_fails_with_1007_after_the_messages_before_it() {
    // Not UTF-8, but "abcd" if unmasked twice with the test key.
    let bad: Vec<u8> = b"abcd"
        .iter()
        .zip(wsup_testkit::MASK)
        .map(|(b, k)| b ^ k)
        .collect();
    let mut input = frame(OpCode::Text, true, b"one");
    input.extend(frame(OpCode::Binary, true, b"two"));
    input.extend(frame(OpCode::Text, true, &bad));
    input.extend(frame(OpCode::Text, true, b"never"));
    for read in [4096, 5, 1] {
        let mut ws = ws(input.clone(), read, WebSocketConfig::default());
        let mut seen = Vec::new();
        let err = block_on(async {
            loop {
                let res = ws
                    .recv_each(|msg, _| {
                        seen.push((msg.kind(), msg.data().to_vec()));
                        Ok(())
                    })
                    .await;
                if let Err(e) = res {
                    return e;
                }
            }
        });
        assert_eq!(
            seen,
            [
                (MessageKind::Text, b"one".to_vec()),
                (MessageKind::Binary, b"two".to_vec())
            ],
            "reads of {read}"
        );
        assert!(
            matches!(err, Error::Protocol(ProtocolError::InvalidUtf8)),
            "reads of {read}: {err}"
        );
        let out = wsup_testkit::parse_frames(&ws.get_ref().output);
        let close = out.last().expect("a close frame");
        assert_eq!(
            (close.opcode, &close.payload[..2]),
            (0x8, &[0x03, 0xef][..])
        );
    }
}

#[test]
fn a_handlers_error_stops_the_batch_and_the_next_call_goes_on() {
    let mut input = Vec::new();
    for m in [b"1", b"2", b"3"] {
        input.extend(frame(OpCode::Binary, true, m));
    }
    let mut ws = ws(input, 4096, WebSocketConfig::default());
    let mut seen = Vec::new();
    let res = block_on(ws.recv_each(|msg, _| {
        seen.push(msg.data().to_vec());
        if msg.data() == b"2" {
            return Err(Error::InvalidMessage("stop here"));
        }
        Ok(())
    }));
    assert!(matches!(res, Err(Error::InvalidMessage("stop here"))));
    let n = block_on(ws.recv_each(|msg, _| {
        seen.push(msg.data().to_vec());
        Ok(())
    }))
    .unwrap();
    assert_eq!(n, 1);
    assert_eq!(seen, [b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
}

#[test]
fn replies_are_queued_in_order_and_written_when_the_batch_ends() {
    let mut input = frame(OpCode::Text, true, b"q1");
    input.extend(frame(OpCode::Binary, true, b"q2"));
    let mut ws = ws(input, 4096, WebSocketConfig::default());
    let n = block_on(ws.recv_each(|msg, out| {
        assert_eq!(msg.as_text().is_some(), msg.kind() == MessageKind::Text);
        out.text("answer")?;
        out.binary(msg.data())?;
        out.feed(Message::Ping(Bytes::from_static(b"x")))
    }))
    .unwrap();
    assert_eq!(n, 2);
    // Queued, not written: nothing was waited for yet.
    assert!(ws.get_ref().output.is_empty());
    let end = block_on(ws.recv_each(|_, _| Ok(()))).unwrap_err();
    assert!(matches!(end, Error::Io(_)), "{end}");
    let out: Vec<(u8, Vec<u8>)> = wsup_testkit::parse_frames(&ws.get_ref().output)
        .into_iter()
        .map(|f| (f.opcode, f.payload))
        .take(6)
        .collect();
    assert_eq!(
        out,
        [
            (0x1, b"answer".to_vec()),
            (0x2, b"q1".to_vec()),
            (0x9, b"x".to_vec()),
            (0x1, b"answer".to_vec()),
            (0x2, b"q2".to_vec()),
            (0x9, b"x".to_vec()),
        ]
    );
}

/// Polls one `recv_each` call once, counting the messages it hands out.
fn poll_each_once(ws: &mut WebSocket<Mem>, handed: &Cell<usize>) -> Poll<Result<usize, Error>> {
    let mut cx = Context::from_waker(Waker::noop());
    let fut = ws.recv_each(|msg, out| {
        handed.set(handed.get() + 1);
        out.relay(&msg)
    });
    std::pin::pin!(fut).poll(&mut cx)
}

#[test]
fn past_the_backlog_limit_no_message_is_handed_out_until_the_output_drains() {
    let mut input = Vec::new();
    for _ in 0..8 {
        input.extend(frame(OpCode::Binary, true, &[5u8; 100]));
    }
    let cfg = WebSocketConfig::builder()
        .write_flush_threshold(150)
        .write_backlog_limit(300)
        .build();
    let mut ws = ws(input, 4096, cfg);
    ws.get_mut().stalled = true;
    let handed = Cell::new(0);
    // Three echoes of 102 bytes reach the limit of 300: the run stops.
    assert!(matches!(
        poll_each_once(&mut ws, &handed),
        Poll::Ready(Ok(3))
    ));
    // The next call waits for the stalled transport, handing out nothing.
    assert!(poll_each_once(&mut ws, &handed).is_pending());
    assert!(poll_each_once(&mut ws, &handed).is_pending());
    assert_eq!(handed.get(), 3);
    assert!(ws.get_ref().output.is_empty());
    // Drained, three more.
    ws.get_mut().stalled = false;
    assert!(matches!(
        poll_each_once(&mut ws, &handed),
        Poll::Ready(Ok(3))
    ));
    assert_eq!(ws.get_ref().output.len(), 3 * 102);
}

#[test]
fn a_handler_that_closes_ends_the_run_and_what_follows_is_discarded() {
    let mut input = Vec::new();
    for m in [b"1", b"2", b"3"] {
        input.extend(frame(OpCode::Binary, true, m));
    }
    input.extend(frame(OpCode::Close, true, &[0x03, 0xe8]));
    let mut ws = ws(input, 4096, WebSocketConfig::default());
    let mut seen = Vec::new();
    let n = block_on(ws.recv_each(|msg, out| {
        seen.push(msg.data().to_vec());
        out.feed(Message::Close(None))
    }))
    .unwrap();
    assert_eq!((n, seen.len()), (1, 1));
    // The peer's close ends it; "2" and "3" were never handed out.
    let end = block_on(ws.recv_each(|msg, _| {
        seen.push(msg.data().to_vec());
        Ok(())
    }))
    .unwrap_err();
    assert!(matches!(end, Error::ConnectionClosed), "{end}");
    assert_eq!(seen, [b"1".to_vec()]);
    let out = wsup_testkit::parse_frames(&ws.get_ref().output);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].opcode, 0x8);
}

#[test]
fn a_binary_message_reads_the_same_however_the_handler_takes_it() {
    // Binary payloads stay masked until looked at or relayed: looked at
    // before the relay, after it, relayed twice, or only relayed, each
    // handler must see and send the payload as it was sent. Short and long
    // payloads, and one over the size that is queued by copy.
    let sizes = [5, 64, 1000, 20_000];
    let mut input = Vec::new();
    let mut sent = Vec::new();
    for (i, &size) in sizes.iter().enumerate() {
        for way in 0..4 {
            let data: Vec<u8> = wsup_testkit::noise(size + 4 * i + way)
                .into_iter()
                .skip(4 * i + way)
                .collect();
            input.extend(frame(OpCode::Binary, true, &data));
            sent.push(data);
        }
    }
    for read in [1 << 20, 777] {
        let mut ws = ws(input.clone(), read, big_limits());
        let (mut seen, mut expected, mut at) = (Vec::new(), Vec::new(), 0);
        while at < sent.len() {
            let n = block_on(ws.recv_each(|msg, out| {
                let data = &sent[at];
                match at % 4 {
                    0 => {
                        seen.push(msg.data().to_vec());
                        out.relay(&msg)?;
                    }
                    1 => {
                        out.relay(&msg)?;
                        seen.push(msg.data().to_vec());
                    }
                    2 => {
                        out.relay(&msg)?;
                        out.relay(&msg)?;
                        expected.push(data.clone());
                        seen.push(msg.to_chunk().data().to_vec());
                    }
                    _ => {
                        out.relay(&msg)?;
                        seen.push(data.clone());
                    }
                }
                assert_eq!((msg.kind(), msg.last()), (MessageKind::Binary, true));
                expected.push(data.clone());
                at += 1;
                Ok(())
            }))
            .unwrap();
            assert!(n > 0);
        }
        assert_eq!(seen, sent, "reads of {read}");
        // Written when the next call waits for input, after the last.
        let end = block_on(ws.recv_each(|_, _| Ok(()))).unwrap_err();
        assert!(matches!(end, Error::Io(_)), "{end}");
        let out: Vec<Vec<u8>> = wsup_testkit::parse_frames(&ws.get_ref().output)
            .into_iter()
            .map(|f| {
                assert_eq!((f.opcode, f.fin), (0x2, true));
                f.payload
            })
            .collect();
        assert_eq!(out, expected, "reads of {read}");
    }
}

/// In reads of 8 KiB, a one-frame binary message over 32 KiB is handed out
/// in pieces as they come, and a text one of the same size whole, checked
/// (`as_text`): each is echoed as the one frame it came in.
#[test]
fn binary_over_32_kib_comes_in_pieces_and_text_whole() {
    let text = "é".repeat(50_000); // 100,000 bytes
    let mut input = frame(OpCode::Text, true, text.as_bytes());
    input.extend(frame(OpCode::Binary, true, &[5u8; 100_000]));
    input.extend(frame(OpCode::Close, true, &[0x03, 0xe8]));
    let mut ws = ws(input, 8 << 10, WebSocketConfig::default());
    let mut seen = Vec::new();
    let end = block_on(async {
        loop {
            let res = ws
                .recv_each(|msg, out| {
                    seen.push((msg.last(), msg.as_text().map(str::len), msg.data().len()));
                    out.relay(&msg)
                })
                .await;
            if let Err(e) = res {
                return e;
            }
        }
    });
    assert!(matches!(end, Error::ConnectionClosed), "{end}");
    assert_eq!(seen[0], (true, Some(100_000), 100_000), "the text, whole");
    let pieces = &seen[1..];
    assert!(pieces.len() >= 10, "the binary in pieces: {pieces:?}");
    assert!(pieces.iter().all(|p| p.1.is_none()));
    assert_eq!(pieces.iter().map(|p| p.2).sum::<usize>(), 100_000);
    assert!(pieces.last().unwrap().0 && !pieces[0].0);
    let out = super::tests::written_fin(&ws.get_ref().output);
    assert_eq!(out[0], (OpCode::Text, true, text.into_bytes()));
    assert_eq!(out[1], (OpCode::Binary, true, vec![5u8; 100_000]));
}
