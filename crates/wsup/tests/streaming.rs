//! Streaming reader (`next_message`) and writer (`message_writer`) for
//! messages handled in pieces, and the chunk relay (`recv_chunk` and
//! `feed_chunk`).

mod harness;

use std::time::Duration;

use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use harness::raw::{raw_connect, OP_BINARY, OP_CONT, OP_TEXT};
use harness::*;
use wsup::{Error, Message, MessageKind, Upgrader};

/// A 1 MiB binary message in 16 fragments (a ping among them) is read
/// piece by piece with `chunk()`; then a fragmented text message through
/// `AsyncRead`; then `recv` takes over for a whole message.
async fn streaming_reader_over_fragmented_1mib<R: Rt>() {
    const MIB: usize = 1 << 20;
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        let mut msg = ws.next_message().await.expect("first message");
        assert_eq!(msg.kind(), MessageKind::Binary);
        let (mut chunks, mut data) = (0, Vec::new());
        while let Some(c) = msg.chunk().await.expect("chunk") {
            chunks += 1;
            data.extend_from_slice(&c);
        }
        drop(msg);
        let mut msg = ws.next_message().await.expect("second message");
        assert_eq!(msg.kind(), MessageKind::Text);
        let mut text = Vec::new();
        AsyncReadExt::read_to_end(&mut msg, &mut text)
            .await
            .expect("read text (AsyncRead)");
        drop(msg);
        let tail = ws.recv().await.expect("third message");
        ws.send(Message::text(format!("{chunks}")))
            .await
            .expect("reply");
        let end = ws.next_message().await.map(|m| m.kind());
        (data, chunks, text, tail, end)
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    let data = pattern(MIB, 42);
    for (i, piece) in data.chunks(MIB / 16).enumerate() {
        let frame = fragment(i, Data::Binary, piece, i == 15);
        ws.send(frame).await.unwrap();
        if i == 8 {
            ws.send(ClientMsg::Ping(b"mid-stream".to_vec().into()))
                .await
                .unwrap();
        }
    }
    let text = "streamed ünïcode €😀 ".repeat(5000);
    let third = text.len() / 3;
    // Fragment boundaries inside code points are fine on the wire.
    let parts = [
        &text.as_bytes()[..third],
        &text.as_bytes()[third..2 * third],
        &text.as_bytes()[2 * third..],
    ];
    for (i, p) in parts.iter().enumerate() {
        ws.send(fragment(i, Data::Text, *p, i == 2)).await.unwrap();
    }
    ws.send(ClientMsg::text("tail")).await.unwrap();
    assert_eq!(
        client_next::<R>(&mut ws).await,
        ClientMsg::Pong(b"mid-stream".to_vec().into()),
        "[{}]",
        R::NAME
    );
    let reply = client_next::<R>(&mut ws).await;
    client_close::<R>(&mut ws, 1000, "").await;
    let (got, chunks, got_text, tail, end) = server.await;
    assert!(
        got == data,
        "[{}] 1 MiB message differs (len {})",
        R::NAME,
        got.len()
    );
    assert!(
        chunks >= 16,
        "[{}] only {chunks} chunks: not streamed",
        R::NAME
    );
    assert_eq!(reply, ClientMsg::text(chunks.to_string()));
    assert!(got_text == text.as_bytes(), "[{}] text differs", R::NAME);
    assert_eq!(tail, Message::text("tail"));
    assert_matches!(R, end, Err(Error::ConnectionClosed));
}

/// A streaming writer with 1000-byte fragments: the wire carries a binary
/// frame and continuations of at most 1000 bytes, FIN on the last only,
/// and the connection is well-framed after it.
async fn streaming_writer_sends_fragments<R: Rt>() {
    let data = pattern(10_500, 5);
    let expected = data.clone();
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), move |mut ws| async move {
        let mut w = ws.message_writer(MessageKind::Binary, 1000);
        for piece in data.chunks(333) {
            w.write_all(piece).await.expect("write");
        }
        w.close().await.expect("end of message");
        drop(w);
        ws.send(Message::text("after")).await.expect("send after");
        echo(ws).await
    })
    .await;
    let mut c = raw_connect::<R>(addr).await;
    let mut frames = Vec::new();
    loop {
        let f = within::<R, _>(Duration::from_secs(5), "fragments", c.read_frame())
            .await
            .expect("frame");
        let fin = f.fin;
        frames.push(f);
        if fin {
            break;
        }
    }
    assert!(frames.len() >= 11, "[{}] {} frames", R::NAME, frames.len());
    assert_eq!(frames[0].opcode, OP_BINARY);
    for f in &frames[1..] {
        assert_eq!(f.opcode, OP_CONT, "[{}]", R::NAME);
    }
    assert!(
        frames.iter().all(|f| f.payload.len() <= 1000),
        "[{}] fragment over 1000 bytes",
        R::NAME
    );
    let joined: Vec<u8> = frames
        .iter()
        .flat_map(|f| f.payload.iter().copied())
        .collect();
    assert!(
        joined == expected,
        "[{}] reassembled payload differs",
        R::NAME
    );
    let f = c.read_frame().await.expect("next message");
    assert_frame::<R>(&f, true, OP_TEXT, b"after");
    c.close_normally().await;
    server.await.expect("echo ends cleanly");
}

/// Text written in pieces that split code points, and a 1 MiB binary
/// message, arrive whole at async-tungstenite.
async fn streaming_writer_to_client_library<R: Rt>() {
    let text = "héllo wörld €😀 ".repeat(2000);
    let binary = pattern(1 << 20, 77);
    let (t, b) = (text.clone(), binary.clone());
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), move |mut ws| async move {
        let mut w = ws.message_writer(MessageKind::Text, 7);
        for piece in t.as_bytes().chunks(13) {
            w.write_all(piece).await.expect("write text");
        }
        w.close().await.expect("end text");
        drop(w);
        let mut w = ws.message_writer(MessageKind::Binary, 64 * 1024);
        w.write_all(&b).await.expect("write binary");
        w.close().await.expect("end binary");
        drop(w);
        echo(ws).await
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    match client_next::<R>(&mut ws).await {
        ClientMsg::Text(got) => assert!(got.as_str() == text, "[{}] text differs", R::NAME),
        other => panic!("[{}] expected text, got {other:?}", R::NAME),
    }
    match client_next::<R>(&mut ws).await {
        ClientMsg::Binary(got) => assert!(
            got == binary,
            "[{}] binary differs (len {})",
            R::NAME,
            got.len()
        ),
        other => panic!("[{}] expected binary, got {other:?}", R::NAME),
    }
    client_close::<R>(&mut ws, 1000, "").await;
    server.await.expect("echo ends cleanly");
}

/// A text writer refuses bytes that are not UTF-8.
async fn streaming_writer_rejects_invalid_utf8<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        let mut w = ws.message_writer(MessageKind::Text, 100);
        w.write_all(b"fine ").await.expect("valid prefix");
        let err = w.write_all(b"\xFF\xFE").await.expect_err("invalid utf-8");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        w.close().await.expect("end message");
        drop(w);
        echo(ws).await
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    // What was accepted is sent as valid text (async-tungstenite would fail
    // the connection on invalid UTF-8).
    assert_eq!(
        client_next::<R>(&mut ws).await,
        ClientMsg::text("fine "),
        "[{}]",
        R::NAME
    );
    client_close::<R>(&mut ws, 1000, "").await;
    server.await.expect("echo ends cleanly");
}

/// An echo made of `recv_chunk` and `feed_chunk` passes a 4 MiB binary
/// message (one frame) and a fragmented 300 KB text through in pieces, and
/// small messages whole; async-tungstenite gets each back whole and equal.
async fn chunk_relay_echoes_large_messages_in_pieces<R: Rt>() {
    let binary = pattern(4 << 20, 9);
    let text = text_pattern(300_000, 3);
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        let mut chunks = Vec::new();
        loop {
            match ws.recv_chunk().await {
                Ok(chunk) => {
                    chunks.push((chunk.kind(), chunk.data().len(), chunk.last()));
                    ws.feed_chunk(chunk).await.expect("feed chunk");
                }
                Err(Error::ConnectionClosed) => return chunks,
                Err(e) => panic!("recv_chunk: {e}"),
            }
        }
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    ws.send(ClientMsg::binary(&b"small"[..])).await.unwrap();
    ws.send(ClientMsg::binary(binary.clone())).await.unwrap();
    let third = text.len() / 3;
    for (i, p) in [&text[..third], &text[third..]].iter().enumerate() {
        ws.send(fragment(i, Data::Text, p.as_bytes(), i == 1))
            .await
            .unwrap();
    }
    ws.send(ClientMsg::text("tail")).await.unwrap();
    assert_eq!(
        client_next::<R>(&mut ws).await,
        ClientMsg::binary(&b"small"[..])
    );
    match client_next::<R>(&mut ws).await {
        ClientMsg::Binary(got) => assert!(got == binary, "[{}] binary differs", R::NAME),
        other => panic!("[{}] expected binary, got {other:?}", R::NAME),
    }
    match client_next::<R>(&mut ws).await {
        ClientMsg::Text(got) => assert!(got.as_str() == text, "[{}] text differs", R::NAME),
        other => panic!("[{}] expected text, got {other:?}", R::NAME),
    }
    assert_eq!(client_next::<R>(&mut ws).await, ClientMsg::text("tail"));
    client_close::<R>(&mut ws, 1000, "").await;
    let chunks = server.await;
    assert_eq!(chunks.first(), Some(&(MessageKind::Binary, 5, true)));
    assert_eq!(chunks.last(), Some(&(MessageKind::Text, 4, true)));
    // The 4 MiB message: many pieces, none of them anywhere near whole.
    let large: Vec<_> = chunks[1..]
        .iter()
        .take_while(|(k, _, _)| *k == MessageKind::Binary)
        .collect();
    assert!(large.len() > 4, "[{}] {} pieces", R::NAME, large.len());
    assert_eq!(large.iter().map(|(_, n, _)| n).sum::<usize>(), binary.len());
    assert!(large.iter().all(|(_, n, _)| *n <= 1 << 20), "[{}]", R::NAME);
    assert_eq!(large.iter().filter(|(_, _, last)| *last).count(), 1);
}

/// The server's side of a chunk echo: relays until the peer goes; returns
/// how many pieces it echoed.
async fn chunk_echo<T>(mut ws: wsup::WebSocket<T>) -> usize
where
    T: futures_util::io::AsyncRead + futures_util::io::AsyncWrite + Unpin,
{
    let mut pieces = 0;
    while let Ok(chunk) = ws.recv_chunk().await {
        pieces += 1;
        if ws.feed_chunk(chunk).await.is_err() {
            break;
        }
    }
    pieces
}

/// A client that writes a whole 48 MiB message (three frames of 16 MiB, the
/// default frame limit) and a small one before it reads anything. `None` if
/// not all of it was written within `limit`; otherwise checks that both come
/// back equal and returns how many chunks the echo passed on.
async fn send_whole_then_read<R: Rt>(upgrader: Upgrader, limit: Duration) -> Option<usize> {
    let part = pattern(16 << 20, 11);
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader, chunk_echo).await;
    let mut ws = connect::<R>(addr).await;
    let sent = timeout::<R, _>(limit, async {
        for i in 0..3 {
            let frame = fragment(i, Data::Binary, part.clone(), i == 2);
            ws.send(frame).await.unwrap();
        }
        ws.send(ClientMsg::text("tail")).await.unwrap();
    })
    .await;
    // Not all written within the limit: the echo stopped reading.
    sent?;
    match client_next::<R>(&mut ws).await {
        ClientMsg::Binary(got) => {
            assert_eq!(got.len(), 3 * part.len(), "[{}]", R::NAME);
            assert!(
                got.chunks(part.len()).all(|c| c == part),
                "[{}] differs",
                R::NAME
            );
        }
        other => panic!("[{}] expected binary, got {other:?}", R::NAME),
    }
    assert_eq!(client_next::<R>(&mut ws).await, ClientMsg::text("tail"));
    client_close::<R>(&mut ws, 1000, "").await;
    Some(server.await)
}

/// With the backlog limit at `max_message_size`, a chunk echo keeps
/// reading while its output backs up, so a peer that writes a whole 48 MiB
/// message before it reads gets it back, in pieces; with the default
/// limit the same peer stalls: the echo stops reading once its output
/// waits (backpressure), and the message is more than the sockets hold.
async fn chunk_echo_serves_a_peer_that_reads_only_after_sending<R: Rt>() {
    let max = upgrader::<R>().websocket_config().max_message_size();
    let raised = upgrader::<R>().write_backlog_limit(max);
    let pieces = send_whole_then_read::<R>(raised, TEST_TIMEOUT / 2)
        .await
        .unwrap_or_else(|| panic!("[{}] stalled with the limit raised", R::NAME));
    // Pieces are at most one read (256 KiB) each; 48 means 1 MiB on average.
    assert!(
        pieces > 48,
        "[{}] only {pieces} chunks: not relayed in pieces",
        R::NAME
    );
    let stalled = send_whole_then_read::<R>(upgrader::<R>(), Duration::from_secs(3)).await;
    assert_eq!(
        stalled,
        None,
        "[{}] no backpressure at the default limit",
        R::NAME
    );
}

runtime_tests!(
    chunk_echo_serves_a_peer_that_reads_only_after_sending,
    chunk_relay_echoes_large_messages_in_pieces,
    streaming_reader_over_fragmented_1mib,
    streaming_writer_sends_fragments,
    streaming_writer_to_client_library,
    streaming_writer_rejects_invalid_utf8,
);
