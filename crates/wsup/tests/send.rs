//! Sending: `feed` batching (flushed when `recv` would wait, or past the
//! flush threshold) and `PreparedMessage` sent to several connections.

mod harness;

use std::time::Duration;

use harness::*;
use wsup::{Message, PreparedMessage, WebSocketConfig};

/// Messages queued with `feed` go out when the server then waits in `recv`,
/// with no `flush`: the client receives them and answers, which the
/// server's `recv` returns.
async fn feed_then_recv_flushes<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        for i in 0..3 {
            ws.feed(Message::text(format!("queued {i}")))
                .await
                .expect("feed");
        }
        let answer = ws.recv().await.expect("answer");
        let _ = ws.recv().await;
        answer
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    for i in 0..3 {
        let m = within::<R, _>(
            Duration::from_secs(5),
            "fed messages (recv must flush them)",
            client_next::<R>(&mut ws),
        )
        .await;
        assert_eq!(m, ClientMsg::text(format!("queued {i}")), "[{}]", R::NAME);
    }
    ws.send(ClientMsg::text("got all three")).await.unwrap();
    client_close::<R>(&mut ws, 1000, "").await;
    assert_eq!(server.await, Message::text("got all three"));
}

/// Past the flush threshold, `feed` writes out what is queued by itself:
/// the client sees messages while the server neither flushes nor reads.
async fn feed_past_threshold_writes_out<R: Rt>() {
    let cfg = WebSocketConfig::builder()
        .write_flush_threshold(16 * 1024)
        .build();
    let (go_tx, go_rx) = futures_channel::oneshot::channel::<()>();
    let (addr, server) =
        serve_ws::<R, _, _, _>(upgrader::<R>().config(cfg), move |mut ws| async move {
            for i in 0..100u8 {
                ws.feed(Message::binary(vec![i; 1024])).await.expect("feed");
            }
            // Neither flush nor recv until the client has seen output.
            let _ = timeout::<R, _>(Duration::from_secs(10), go_rx).await;
            ws.flush().await.expect("flush");
            let _ = ws.recv().await;
        })
        .await;
    let mut ws = connect::<R>(addr).await;
    for i in 0..16u8 {
        let m = within::<R, _>(
            Duration::from_secs(3),
            "output past the flush threshold",
            client_next::<R>(&mut ws),
        )
        .await;
        assert_eq!(m, ClientMsg::binary(vec![i; 1024]), "[{}]", R::NAME);
    }
    go_tx.send(()).unwrap();
    for i in 16..100u8 {
        assert_eq!(
            client_next::<R>(&mut ws).await,
            ClientMsg::binary(vec![i; 1024]),
            "[{}]",
            R::NAME
        );
    }
    client_close::<R>(&mut ws, 1000, "").await;
    server.await;
}

/// One `PreparedMessage` (small text, and binary large enough to be queued
/// by reference) sent to two connections arrives intact at both.
async fn prepared_message_to_two_connections<R: Rt>() {
    let big = pattern(100_000, 11);
    let small = PreparedMessage::text("broadcast ✓");
    let large = PreparedMessage::binary(big.clone());
    let (listener, addr) = R::listen().await;
    let server = spawn::<R, _>(async move {
        let up = upgrader::<R>();
        let mut conns = Vec::new();
        for _ in 0..2 {
            conns.push(
                R::upgrade(&up, R::accept(&listener).await)
                    .await
                    .expect("upgrade"),
            );
        }
        for ws in &mut conns {
            ws.send_prepared(&small).await.expect("send small");
            ws.send_prepared(&large).await.expect("send large");
            ws.send_prepared(&small).await.expect("send small again");
        }
        for ws in conns {
            echo(ws).await.expect("echo ends cleanly");
        }
    });
    let mut clients = [connect::<R>(addr).await, connect::<R>(addr).await];
    for (n, c) in clients.iter_mut().enumerate() {
        assert_eq!(
            client_next::<R>(c).await,
            ClientMsg::text("broadcast ✓"),
            "[{}] client {n}",
            R::NAME
        );
        match client_next::<R>(c).await {
            ClientMsg::Binary(b) => assert!(b == big, "[{}] client {n}: binary differs", R::NAME),
            other => panic!("[{}] client {n}: expected binary, got {other:?}", R::NAME),
        }
        assert_eq!(
            client_next::<R>(c).await,
            ClientMsg::text("broadcast ✓"),
            "[{}] client {n}",
            R::NAME
        );
        client_close::<R>(c, 1000, "").await;
    }
    server.await;
}

runtime_tests!(
    feed_then_recv_flushes,
    feed_past_threshold_writes_out,
    prepared_message_to_two_connections,
);
