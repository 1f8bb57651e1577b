//! Control frames: pings answered with the same payload (also in the middle
//! of a fragmented message), the server's own pings, and pongs.

mod harness;

use std::time::Duration;

use harness::raw::{raw_connect, OP_CONT, OP_PING, OP_PONG, OP_TEXT};
use harness::*;
use wsup::{Bytes, Message};

/// Records every message the server receives until the peer's close.
async fn record<T>(mut ws: wsup::WebSocket<T>) -> Vec<Message>
where
    T: futures_util::io::AsyncRead + futures_util::io::AsyncWrite + Unpin,
{
    let mut seen = Vec::new();
    loop {
        match ws.recv().await {
            Ok(m @ Message::Close(_)) => {
                seen.push(m);
                return seen;
            }
            Ok(m) => seen.push(m),
            Err(e) => panic!("server recv: {e}"),
        }
    }
}

async fn ping_gets_pong_with_same_payload<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), record).await;
    let mut ws = connect::<R>(addr).await;
    let payloads: Vec<Vec<u8>> = vec![Vec::new(), b"hello".to_vec(), pattern(125, 3)];
    for p in &payloads {
        ws.send(ClientMsg::Ping(p.clone().into())).await.unwrap();
        match client_next::<R>(&mut ws).await {
            ClientMsg::Pong(got) => {
                assert_eq!(got.as_ref(), p.as_slice(), "[{}] pong payload", R::NAME)
            }
            other => panic!("[{}] expected a pong, got {other:?}", R::NAME),
        }
    }
    client_close::<R>(&mut ws, 1000, "").await;
    let seen = server.await;
    // The application sees each ping too (after its pong was queued).
    let pings: Vec<Message> = payloads
        .iter()
        .map(|p| Message::Ping(Bytes::from(p.clone())))
        .collect();
    assert_eq!(&seen[..3], &pings[..], "[{}]", R::NAME);
    assert_matches!(R, seen[3], Message::Close(_));
}

/// A ping between the fragments of a message is answered at once, before
/// the message is complete, and the message still arrives whole.
async fn ping_inside_fragmented_message<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), echo).await;
    let mut c = raw_connect::<R>(addr).await;
    c.send(false, OP_TEXT, b"frag-").await;
    c.send(true, OP_PING, b"in-between").await;
    let f = within::<R, _>(Duration::from_secs(5), "pong mid-message", c.read_frame())
        .await
        .expect("pong");
    assert_frame::<R>(&f, true, OP_PONG, b"in-between");
    c.send(false, OP_CONT, b"men").await;
    c.send(true, OP_PING, b"again").await;
    c.send(true, OP_CONT, b"t").await;
    let f = c.read_frame().await.expect("second pong");
    assert_frame::<R>(&f, true, OP_PONG, b"again");
    let f = c.read_frame().await.expect("echo");
    assert_frame::<R>(&f, true, OP_TEXT, b"frag-ment");
    c.close_normally().await;
    server.await.expect("server echo ends cleanly");
}

/// The server pings; async-tungstenite answers; the server's recv returns
/// the pong with the same payload.
async fn server_ping_gets_client_pong<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        ws.send(Message::Ping(Bytes::from_static(b"srv-ping")))
            .await
            .expect("send ping");
        let pong = ws.recv().await.expect("recv pong");
        ws.send(Message::text("got it")).await.expect("send text");
        let close = ws.recv().await.expect("recv close");
        (pong, close)
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    match client_next::<R>(&mut ws).await {
        ClientMsg::Ping(p) => assert_eq!(p.as_ref(), b"srv-ping"),
        other => panic!("[{}] expected the server's ping, got {other:?}", R::NAME),
    }
    // Reading on flushes the client's pong; the server answers with text.
    assert_eq!(client_next::<R>(&mut ws).await, ClientMsg::text("got it"));
    client_close::<R>(&mut ws, 1000, "").await;
    let (pong, close) = server.await;
    assert_eq!(
        pong,
        Message::Pong(Bytes::from_static(b"srv-ping")),
        "[{}]",
        R::NAME
    );
    assert_matches!(R, close, Message::Close(_));
}

/// An unsolicited pong reaches the application and is not answered.
async fn unsolicited_pong_is_delivered_not_answered<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        let first = ws.recv().await.expect("recv");
        let second = ws.recv().await.expect("recv");
        ws.send(second.clone()).await.expect("echo");
        let _ = ws.recv().await;
        (first, second)
    })
    .await;
    let mut c = raw_connect::<R>(addr).await;
    c.send(true, OP_PONG, b"unasked").await;
    c.send(true, OP_TEXT, b"then text").await;
    // The first frame back is the echo: nothing was sent for the pong.
    let f = c.read_frame().await.expect("echo");
    assert_frame::<R>(&f, true, OP_TEXT, b"then text");
    c.close_normally().await;
    let (first, second) = server.await;
    assert_eq!(first, Message::Pong(Bytes::from_static(b"unasked")));
    assert_eq!(second, Message::text("then text"));
}

/// Control frames the application sends are checked: over 125 bytes is refused.
async fn oversized_ping_is_refused_on_send<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        let err = ws
            .send(Message::Ping(Bytes::from(vec![0u8; 126])))
            .await
            .expect_err("126-byte ping");
        assert!(matches!(err, wsup::Error::InvalidMessage(_)), "{err:?}");
        // The connection is still usable.
        ws.send(Message::Ping(Bytes::from(vec![1u8; 125])))
            .await
            .expect("125-byte ping");
        let _ = ws.recv().await;
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    match client_next::<R>(&mut ws).await {
        ClientMsg::Ping(p) => assert_eq!(p.as_ref(), &[1u8; 125][..]),
        other => panic!("[{}] expected a ping, got {other:?}", R::NAME),
    }
    drop(ws);
    server.await;
}

runtime_tests!(
    ping_gets_pong_with_same_payload,
    ping_inside_fragmented_message,
    server_ping_gets_client_pong,
    unsolicited_pong_is_delivered_not_answered,
    oversized_ping_is_refused_on_send,
);
