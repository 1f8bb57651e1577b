//! Split halves: a reader and a writer used from two tasks at once, control
//! replies flowing while the application only reads, echo through a
//! channel, a chunk relay across the halves, close from the writer half,
//! Stream/Sink halves, reunite.

mod harness;

use std::time::Duration;

use futures_util::StreamExt;
use harness::*;
use wsup::{CloseFrame, Error, Message};

/// The server's reader task receives N messages while its writer task sends
/// N, concurrently; the client does the same. Everything arrives, in order.
async fn reader_and_writer_in_two_tasks<R: Rt>() {
    const N: usize = 300;
    let server_msg = |i: usize| format!("s{i}:{}", text_pattern(i * 37 % 2000, i as u8));
    let client_msg = |i: usize| pattern(i * 53 % 3000, i as u8);
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), move |ws| async move {
        let (mut reader, mut writer) = ws.split();
        let writing = spawn::<R, _>(async move {
            for i in 0..N {
                writer
                    .send(Message::text(server_msg(i)))
                    .await
                    .expect("writer send");
            }
            writer
        });
        let reading = spawn::<R, _>(async move {
            for i in 0..N {
                let m = reader.recv().await.expect("reader recv");
                assert_eq!(m, Message::binary(client_msg(i)), "client message {i}");
            }
            let close = reader.recv().await.expect("close");
            let after = reader.recv().await;
            (reader, close, after)
        });
        let writer = writing.await;
        let (reader, close, after) = reading.await;
        assert!(reader.is_pair_of(&writer));
        (close, after)
    })
    .await;
    let (mut tx, mut rx) = connect::<R>(addr).await.split();
    let sending = spawn::<R, _>(async move {
        for i in 0..N {
            tx.send(ClientMsg::binary(client_msg(i)))
                .await
                .expect("client send");
        }
        tx
    });
    for i in 0..N {
        match rx.next().await {
            Some(Ok(ClientMsg::Text(t))) => assert_eq!(
                t.as_str(),
                server_msg(i),
                "[{}] server message {i}",
                R::NAME
            ),
            other => panic!("[{}] server message {i}: {other:?}", R::NAME),
        }
    }
    let tx = sending.await;
    let mut ws = async_tungstenite::WebSocketStream::reunite(tx, rx).expect("client halves");
    client_close_echoed::<R>(&mut ws, 1000, "").await;
    let (close, after) = server.await;
    assert_eq!(
        close,
        Message::Close(Some(CloseFrame::new(1000, ""))),
        "[{}]",
        R::NAME
    );
    assert_matches!(R, after, Err(Error::ConnectionClosed));
}

/// After split, with the writer half idle, a ping is still answered: the
/// reader flushes the pong itself before waiting for more input.
async fn reader_alone_answers_ping<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |ws| async move {
        let (mut reader, writer) = ws.split();
        let mut seen = Vec::new();
        loop {
            let m = reader.recv().await.expect("recv");
            let done = matches!(m, Message::Close(_));
            seen.push(m);
            if done {
                break;
            }
        }
        drop(writer);
        seen
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    for payload in [&b"only the reader"[..], b"twice"] {
        ws.send(ClientMsg::Ping(payload.to_vec().into()))
            .await
            .unwrap();
        let pong = within::<R, _>(
            Duration::from_secs(5),
            "pong from a reader-only server",
            client_next::<R>(&mut ws),
        )
        .await;
        assert_eq!(
            pong,
            ClientMsg::Pong(payload.to_vec().into()),
            "[{}]",
            R::NAME
        );
    }
    ws.send(ClientMsg::text("t")).await.unwrap();
    // The close echo also flows through the reader alone.
    client_close_echoed::<R>(&mut ws, 4002, "").await;
    let seen = server.await;
    assert_eq!(seen.len(), 4, "[{}] {seen:?}", R::NAME);
    assert_eq!(seen[2], Message::text("t"));
}

/// Echo through reader → channel → writer, each half in its own task.
async fn echo_through_channel<R: Rt>() {
    const N: usize = 200;
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |ws| async move {
        let (mut reader, mut writer) = ws.split();
        let (tx, mut rx) = futures_channel::mpsc::unbounded::<Message>();
        let writing = spawn::<R, _>(async move {
            let mut n = 0;
            while let Some(m) = rx.next().await {
                writer.send(m).await.expect("writer send");
                n += 1;
            }
            n
        });
        let close = loop {
            match reader.recv().await.expect("recv") {
                m @ (Message::Text(_) | Message::Binary(_)) => {
                    tx.unbounded_send(m).expect("channel")
                }
                Message::Close(f) => break f,
                _ => {}
            }
        };
        drop(tx);
        (close, writing.await)
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    let msg = |i: usize| {
        if i % 2 == 0 {
            ClientMsg::text(text_pattern(i * 101 % 5000, i as u8))
        } else {
            ClientMsg::binary(pattern(i * 211 % 70_000, i as u8))
        }
    };
    for i in 0..N {
        ws.send(msg(i)).await.unwrap();
        assert_eq!(
            client_next::<R>(&mut ws).await,
            msg(i),
            "[{}] message {i}",
            R::NAME
        );
    }
    client_close::<R>(&mut ws, 1000, "").await;
    let (close, sent) = server.await;
    assert_eq!(close.map(|c| c.code.0), Some(1000));
    assert_eq!(sent, N, "[{}]", R::NAME);
}

/// A chunk relay across the halves: the reader task hands each chunk of a
/// 2 MiB message (and of small ones) through a channel to the writer task,
/// which flushes after each; async-tungstenite gets every message back whole.
async fn chunks_through_channel<R: Rt>() {
    let big = pattern(2 << 20, 11);
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |ws| async move {
        let (mut reader, mut writer) = ws.split();
        let (tx, mut rx) = futures_channel::mpsc::unbounded::<wsup::Chunk>();
        let writing = spawn::<R, _>(async move {
            let mut n = 0;
            while let Some(c) = rx.next().await {
                writer.feed_chunk(c).await.expect("feed chunk");
                writer.flush().await.expect("flush");
                n += 1;
            }
            n
        });
        loop {
            match reader.recv_chunk().await {
                Ok(c) => tx.unbounded_send(c).expect("channel"),
                Err(Error::ConnectionClosed) => break,
                Err(e) => panic!("recv_chunk: {e}"),
            }
        }
        drop(tx);
        writing.await
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    for msg in [
        ClientMsg::text("first"),
        ClientMsg::binary(big.clone()),
        ClientMsg::text(text_pattern(50_000, 4)),
        ClientMsg::binary(&b"last"[..]),
    ] {
        ws.send(msg.clone()).await.unwrap();
        assert!(
            client_next::<R>(&mut ws).await == msg,
            "[{}] echo differs",
            R::NAME
        );
    }
    client_close::<R>(&mut ws, 1000, "").await;
    let chunks = server.await;
    // The 2 MiB and 50 KB messages came in pieces: more chunks than messages.
    assert!(chunks > 6, "[{}] only {chunks} chunks", R::NAME);
}

/// The writer half closes; the client sees its code and reason; the reader
/// half receives the client's reply and then `ConnectionClosed`.
async fn writer_close_finished_by_reader<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |ws| async move {
        let (mut reader, mut writer) = ws.split();
        writer
            .close(Some(CloseFrame::new(4001, "from the writer")))
            .await
            .expect("writer close");
        let sent_after = writer.send(Message::text("late")).await;
        let reply = reader.recv().await;
        let after = reader.recv().await;
        (sent_after, reply, after)
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    let (before, close) = client_until_close::<R>(&mut ws).await;
    assert!(before.is_empty(), "[{}] {before:?}", R::NAME);
    assert_eq!(
        close,
        Some((4001, "from the writer".to_owned())),
        "[{}]",
        R::NAME
    );
    let _ = within::<R, _>(Duration::from_secs(5), "client end", ws.next()).await;
    let (sent_after, reply, after) = server.await;
    assert_matches!(R, sent_after, Err(Error::AlreadyClosed));
    assert_matches!(R, reply, Ok(Message::Close(_)));
    assert_matches!(R, after, Err(Error::ConnectionClosed));
}

/// The halves as `Stream` and `Sink`: data forwarded from one to the other
/// is an echo; the stream ends after the peer's close.
async fn halves_as_stream_and_sink<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |ws| async move {
        let (reader, writer) = ws.split();
        reader
            .filter(|m| std::future::ready(m.as_ref().map_or(true, Message::is_data)))
            .forward(writer)
            .await
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    for i in 0..20 {
        ws.send(ClientMsg::binary(pattern(i * 1000, i as u8)))
            .await
            .unwrap();
        assert_eq!(
            client_next::<R>(&mut ws).await,
            ClientMsg::binary(pattern(i * 1000, i as u8))
        );
    }
    client_close::<R>(&mut ws, 1000, "").await;
    server
        .await
        .unwrap_or_else(|e| panic!("[{}] forward: {e}", R::NAME));
}

/// Split and reunite: the connection works as before, and halves of two
/// different connections do not reunite.
async fn split_then_reunite<R: Rt>() {
    let (listener, addr) = R::listen().await;
    let server = spawn::<R, _>(async move {
        let up = upgrader::<R>();
        let a = R::upgrade(&up, R::accept(&listener).await)
            .await
            .expect("first");
        let b = R::upgrade(&up, R::accept(&listener).await)
            .await
            .expect("second");
        let (ra, wa) = a.split();
        let (rb, wb) = b.split();
        let (ra, wb) = match ra.reunite(wb) {
            Ok(_) => panic!("halves of different connections reunited"),
            Err(pair) => pair,
        };
        let (rb, wa) = match rb.reunite(wa) {
            Ok(_) => panic!("halves of different connections reunited"),
            Err(pair) => pair,
        };
        let a = ra.reunite(wa).expect("same connection");
        let b = rb.reunite(wb).expect("same connection");
        let (ra, rb) = futures_util::future::join(echo(a), echo(b)).await;
        ra.and(rb)
    });
    let mut c1 = connect::<R>(addr).await;
    let mut c2 = connect::<R>(addr).await;
    for c in [&mut c1, &mut c2] {
        c.send(ClientMsg::text("after reunite")).await.unwrap();
        assert_eq!(client_next::<R>(c).await, ClientMsg::text("after reunite"));
        client_close::<R>(c, 1000, "").await;
    }
    server.await.expect("echo ends cleanly");
}

runtime_tests!(
    chunks_through_channel,
    reader_and_writer_in_two_tasks,
    reader_alone_answers_ping,
    echo_through_channel,
    writer_close_finished_by_reader,
    halves_as_stream_and_sink,
    split_then_reunite,
);
