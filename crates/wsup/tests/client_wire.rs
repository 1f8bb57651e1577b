//! What wsup's client writes and reads on the wire, on every runtime:
//! the request head (path, query, `Host`, extra headers), frames that
//! share the `101`'s packet (compressed ones too), split halves at work
//! at once, many clients side by side, keepalive held by a live server,
//! the idle timeout, and a server that vanishes.

mod harness;

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use harness::client::*;
use harness::raw::{header, OP_BINARY, OP_CLOSE, OP_TEXT};
use harness::*;
use wsup::client::ClientError;
use wsup::deflate::DeflateConfig;
use wsup::http::{header as h, HeaderValue};
use wsup::{Bytes, CloseCode, CloseFrame, Error, Message};

runtime_tests! {
    the_request_carries_path_query_host_and_extra_headers,
    frames_in_the_101s_packet_are_read_first,
    a_compressed_frame_in_the_101s_packet_is_inflated,
    split_halves_send_and_receive_at_once,
    many_clients_side_by_side,
    keepalive_is_answered_by_a_live_server,
    the_idle_timeout_closes_with_1001,
    a_server_that_vanishes_ends_the_connection,
}

/// The request line keeps the path and query; `Host` is the URL's
/// authority; extra headers go out (a `Sec-WebSocket-Protocol` one adds
/// its subprotocols to the offer, as in gorilla); one of the handshake's
/// own headers given as extra fails the handshake before anything is sent.
async fn the_request_carries_path_query_host_and_extra_headers<R: ClientRt>() {
    let (addr, peer) = raw_server::<R, _, _, _>(|mut peer| async move {
        peer.switch("").await;
        let head = peer.head.clone();
        // Wait for the client's close, and answer it.
        while let Some(f) = peer.read_frame().await {
            if f.opcode == OP_CLOSE {
                peer.write(&wsup_testkit::server_frame(OP_CLOSE, true, &f.payload))
                    .await;
                break;
            }
        }
        head
    })
    .await;
    let dialer = R::dialer()
        .protocols(["chat.v2"])
        .header(h::AUTHORIZATION, HeaderValue::from_static("Bearer t0ken"))
        .header(h::COOKIE, HeaderValue::from_static("a=1"))
        .header(h::COOKIE, HeaderValue::from_static("b=2"))
        .header(
            h::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("chat.v1"),
        );
    let url = ws_url(addr, "/rooms/7?user=ann&x=%20y");
    let (mut ws, _) = dial::<R>(dialer, url).await;
    ws.close(None).await.expect("close");
    let head = within::<R, _>(Duration::from_secs(5), "raw server", peer).await;
    let line = head.lines().next().unwrap_or("");
    assert_eq!(
        line,
        "GET /rooms/7?user=ann&x=%20y HTTP/1.1",
        "[{}] {head}",
        R::NAME
    );
    let host = addr.to_string();
    for (name, value) in [
        ("host", host.as_str()),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("authorization", "Bearer t0ken"),
    ] {
        assert_eq!(header(&head, name), Some(value), "[{}] {head}", R::NAME);
    }
    let offered = header(&head, "sec-websocket-protocol").unwrap_or("");
    assert!(
        offered.contains("chat.v2") && offered.contains("chat.v1"),
        "[{}] {head}",
        R::NAME
    );
    let cookies: Vec<&str> = head
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("cookie:"))
        .collect();
    assert_eq!(cookies.len(), 2, "[{}] {head}", R::NAME);

    // Something listens (the kernel's backlog), so the refusal is the
    // request's own.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/", listener.local_addr().expect("address"));
    for (name, value) in [(h::UPGRADE, "h2c"), (h::HOST, "evil.example")] {
        let dialer = R::dialer().header(name.clone(), HeaderValue::from_static(value));
        let err = dial_err::<R>(dialer, url.clone()).await;
        assert_matches!(R, err, ClientError::InvalidRequest(_));
    }
}

/// A server that writes its first frames in the same write as its `101`:
/// the client reads them before anything from the socket.
async fn frames_in_the_101s_packet_are_read_first<R: ClientRt>() {
    let (addr, peer) = raw_server::<R, _, _, _>(|mut peer| async move {
        let mut bytes = peer.switching("");
        bytes.extend(wsup_testkit::server_frame(OP_TEXT, true, b"first"));
        bytes.extend(wsup_testkit::server_frame(OP_BINARY, false, b"sec"));
        bytes.extend(wsup_testkit::server_frame(0, true, b"ond"));
        peer.write(&bytes).await;
        peer.read_frame().await
    })
    .await;
    let (mut ws, _) = dial::<R>(R::dialer(), ws_url(addr, "/")).await;
    let first = within::<R, _>(Duration::from_secs(5), "first", ws.recv()).await;
    assert_matches!(R, first, Ok(Message::Text(t)) if t.as_str() == "first");
    let second = within::<R, _>(Duration::from_secs(5), "second", ws.recv()).await;
    assert_matches!(R, second, Ok(Message::Binary(b)) if &b[..] == b"second");
    ws.send(Message::text("got them")).await.expect("send");
    let reply = within::<R, _>(Duration::from_secs(5), "reply", peer).await;
    assert_eq!(
        reply.map(|f| f.payload),
        Some(b"got them".to_vec()),
        "[{}]",
        R::NAME
    );
}

/// As above, the first frame compressed (RSV1, a raw deflate stream of
/// "Hello" with the final empty block, as RFC 7692 7.2.3.1 gives it).
async fn a_compressed_frame_in_the_101s_packet_is_inflated<R: ClientRt>() {
    let (addr, peer) = raw_server::<R, _, _, _>(|mut peer| async move {
        let mut bytes = peer.switching("Sec-WebSocket-Extensions: permessage-deflate\r\n");
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        bytes.extend(wsup_testkit::encode_frame(true, 4, OP_TEXT, None, &hello));
        peer.write(&bytes).await;
        // Held open until the client is done.
        peer.read_frame().await
    })
    .await;
    let dialer = R::dialer().compression(DeflateConfig::enabled());
    let (mut ws, _) = dial::<R>(dialer, ws_url(addr, "/")).await;
    assert!(ws.compression().is_some(), "[{}]", R::NAME);
    let got = within::<R, _>(Duration::from_secs(5), "hello", ws.recv()).await;
    assert_matches!(R, got, Ok(Message::Text(t)) if t.as_str() == "Hello");
    drop(ws);
    drop(peer);
}

/// The reader half waits on the server's messages while the writer half
/// sends; the server answers each with two messages.
async fn split_halves_send_and_receive_at_once<R: ClientRt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        loop {
            match ws.recv().await {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    ws.send(m.clone()).await.expect("echo");
                    ws.send(m).await.expect("echo again");
                }
                Ok(Message::Close(frame)) => return frame,
                Ok(_) => {}
                Err(e) => panic!("[{}] server: {e}", R::NAME),
            }
        }
    })
    .await;
    let (ws, _) = dial::<R>(R::dialer(), ws_url(addr, "/")).await;
    let (mut reader, mut writer) = ws.split();
    const N: usize = 50;
    let reading = spawn::<R, _>(async move {
        let mut got = Vec::new();
        while got.len() < 2 * N {
            match reader.recv().await {
                Ok(Message::Binary(b)) => got.push(b),
                Ok(other) => panic!("unexpected {other:?}"),
                Err(e) => panic!("reader: {e}"),
            }
        }
        (reader, got)
    });
    for i in 0..N {
        let payload = Bytes::from(pattern(10_000 + i * 997, i as u8));
        writer.send(Message::Binary(payload)).await.expect("send");
    }
    let (mut reader, got) = within::<R, _>(Duration::from_secs(10), "reader", reading).await;
    for (i, pair) in got.chunks(2).enumerate() {
        let sent = pattern(10_000 + i * 997, i as u8);
        assert!(
            pair[0] == sent && pair[1] == sent,
            "[{}] message {i}",
            R::NAME
        );
    }
    writer
        .close(Some(CloseFrame::new(CloseCode::NORMAL, "split")))
        .await
        .expect("close");
    let end = within::<R, _>(Duration::from_secs(5), "reader ends", reader.recv()).await;
    assert_matches!(R, end, Err(Error::ConnectionClosed) | Ok(Message::Close(_)));
    assert_eq!(
        server.await.map(|f| f.code),
        Some(CloseCode::NORMAL),
        "[{}]",
        R::NAME
    );
}

/// 32 clients at once against one server, each with its own messages.
async fn many_clients_side_by_side<R: ClientRt>() {
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let stop = server.shutdown_handle();
    let running = spawn::<R, _>(server.run(|ws, _| async move {
        let _ = echo(ws).await;
    }));
    let clients = (0..32u8).map(|i| {
        spawn::<R, _>(async move {
            let (mut ws, _) = dial::<R>(R::dialer(), ws_url(addr, "/")).await;
            for j in 0..5u8 {
                let msg = Message::Binary(Bytes::from(pattern(1000 * usize::from(j + 1), i ^ j)));
                ws.send(msg.clone()).await.expect("send");
                assert!(
                    ws.recv().await.expect("echo") == msg,
                    "client {i}, message {j}"
                );
            }
            ws.close(None).await.expect("close");
        })
    });
    within::<R, _>(Duration::from_secs(15), "clients", join_all(clients)).await;
    stop.trigger();
    let summary = within::<R, _>(Duration::from_secs(5), "server stops", running).await;
    assert_eq!(summary.map(|s| s.aborted).ok(), Some(0), "[{}]", R::NAME);
}

/// Keepalive after 100 ms of silence, 200 ms to answer: a live server's
/// pongs keep the connection up through two seconds without data (two, so
/// that a busy machine still sees several pings go out).
async fn keepalive_is_answered_by_a_live_server<R: ClientRt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), echo).await;
    let dialer = R::dialer()
        .keepalive_interval(Some(Duration::from_millis(100)))
        .keepalive_timeout(Duration::from_millis(200));
    let (mut ws, _) = dial::<R>(dialer, ws_url(addr, "/")).await;
    // Two seconds with no data: only the pongs to the client's pings come
    // (recv returns them), several of them, and the connection stays up.
    let (started, mut pongs) = (Instant::now(), 0);
    while let Some(left) = Duration::from_secs(2).checked_sub(started.elapsed()) {
        match timeout::<R, _>(left, ws.recv()).await {
            Some(Ok(Message::Pong(_))) => pongs += 1,
            Some(other) => panic!("[{}] {other:?}", R::NAME),
            None => break,
        }
    }
    assert!(pongs >= 2, "[{}] {pongs} pongs in two seconds", R::NAME);
    ws.send(Message::text("still here")).await.expect("send");
    let echo = within::<R, _>(Duration::from_secs(5), "echo", ws.recv()).await;
    assert_matches!(R, echo, Ok(Message::Text(t)) if t.as_str() == "still here");
    ws.close(None).await.expect("close");
    assert_matches!(R, server.await, Ok(None));
}

/// No data message either way for the idle timeout: the client closes
/// with 1001, and the server sees it.
async fn the_idle_timeout_closes_with_1001<R: ClientRt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), echo).await;
    let dialer = R::dialer().idle_timeout(Some(Duration::from_millis(300)));
    let (mut ws, _) = dial::<R>(dialer, ws_url(addr, "/")).await;
    let end = after::<R, _>(Duration::from_millis(300), "idle timeout", ws.recv()).await;
    assert_matches!(R, end, Err(Error::IdleTimeout));
    let seen = within::<R, _>(Duration::from_secs(5), "server", server).await;
    assert_eq!(
        seen.ok().flatten().map(|f| f.code),
        Some(CloseCode::GOING_AWAY),
        "[{}]",
        R::NAME
    );
}

/// The server's socket closes with no close frame after the handshake:
/// the client's `recv` ends with an error, and so does a send after it.
async fn a_server_that_vanishes_ends_the_connection<R: ClientRt>() {
    let (addr, peer) = raw_server::<R, _, _, _>(|mut peer| async move {
        peer.switch("").await;
        drop(peer);
    })
    .await;
    let (mut ws, _) = dial::<R>(R::dialer(), ws_url(addr, "/")).await;
    peer.await;
    let end = within::<R, _>(Duration::from_secs(5), "recv", ws.recv()).await;
    assert_matches!(R, end, Err(Error::Io(_) | Error::ConnectionClosed));
    let send = within::<R, _>(
        Duration::from_secs(5),
        "send",
        ws.send(Message::text("anyone?")),
    )
    .await;
    assert!(send.is_err(), "[{}] {send:?}", R::NAME);
}
