//! The closing handshake, both ways: codes and reasons seen and echoed, the
//! connection's state after it, the close timeout, and a peer that vanishes.

mod harness;

use std::time::{Duration, Instant};

use harness::raw::{raw_connect, OP_CLOSE};
use harness::*;
use wsup::{CloseCode, CloseFrame, Error, Message};

/// What the server saw of a client-initiated close.
#[derive(Debug)]
struct Seen {
    close: Message,
    after: Result<Message, Error>,
    send_after: Result<(), Error>,
}

async fn observe_close<T>(mut ws: wsup::WebSocket<T>) -> Seen
where
    T: futures_util::io::AsyncRead + futures_util::io::AsyncWrite + Unpin,
{
    let close = ws.recv().await.expect("recv close");
    let after = ws.recv().await;
    let send_after = ws.send(Message::text("too late")).await;
    Seen {
        close,
        after,
        send_after,
    }
}

/// The client closes with 1000 / 4000-range codes and reasons: the server's
/// recv returns that close frame, then `ConnectionClosed`; sending is
/// refused; the client gets the code echoed and the stream then ends.
async fn client_close_codes_seen_and_echoed<R: Rt>() {
    for (code, reason) in [
        (1000u16, ""),
        (1000, "done"),
        (4000, "app reason ✓"),
        (4999, "x"),
    ] {
        let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), observe_close).await;
        let mut ws = connect::<R>(addr).await;
        client_close_echoed::<R>(&mut ws, code, reason).await;
        // The server closes the TCP connection after the echo.
        let end = within::<R, _>(
            Duration::from_secs(5),
            "stream end after close",
            futures_util::StreamExt::next(&mut ws),
        )
        .await;
        assert!(
            !matches!(end, Some(Ok(_))),
            "[{}] after close: {end:?}",
            R::NAME
        );
        let seen = server.await;
        assert_eq!(
            seen.close,
            Message::Close(Some(CloseFrame::new(code, reason))),
            "[{}]",
            R::NAME
        );
        assert_matches!(R, seen.after, Err(Error::ConnectionClosed));
        assert_matches!(R, seen.send_after, Err(Error::AlreadyClosed));
    }
}

/// A close frame with no payload is reported as `Close(None)` and echoed
/// with an empty payload.
async fn client_close_without_code<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), observe_close).await;
    let mut c = raw_connect::<R>(addr).await;
    c.send(true, OP_CLOSE, b"").await;
    let f = c.read_frame().await.expect("close echo");
    assert_eq!(
        (f.opcode, f.payload.len()),
        (OP_CLOSE, 0),
        "[{}] {f:?}",
        R::NAME
    );
    assert_eq!(
        c.read_to_eof().await,
        vec![],
        "[{}] nothing after the close echo",
        R::NAME
    );
    let seen = server.await;
    assert_eq!(seen.close, Message::Close(None));
    assert_matches!(R, seen.after, Err(Error::ConnectionClosed));
}

/// The server closes with 1001 "bye": the client sees exactly that, replies,
/// and the server's `close` completes (well before its timeout).
async fn server_close_with_code_and_reason<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        let start = Instant::now();
        let res = ws
            .close(Some(CloseFrame::new(CloseCode::GOING_AWAY, "bye")))
            .await;
        let after = ws.recv().await;
        (res, start.elapsed(), after)
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    let (before, close) = client_until_close::<R>(&mut ws).await;
    assert!(before.is_empty(), "[{}] {before:?}", R::NAME);
    assert_eq!(close, Some((1001, "bye".to_owned())), "[{}]", R::NAME);
    // async-tungstenite sends its reply as it reads on.
    let end = within::<R, _>(
        Duration::from_secs(5),
        "client stream end",
        futures_util::StreamExt::next(&mut ws),
    )
    .await;
    assert!(!matches!(end, Some(Ok(_))), "[{}] {end:?}", R::NAME);
    let (res, took, after) = server.await;
    res.unwrap_or_else(|e| panic!("[{}] server close: {e}", R::NAME));
    assert!(
        took < Duration::from_secs(2),
        "[{}] close took {took:?} (timed out?)",
        R::NAME
    );
    assert_matches!(R, after, Err(Error::ConnectionClosed));
}

/// A peer that never answers our close: `close` gives up after the close
/// timeout with `CloseTimeout`, and the transport is closed.
async fn server_close_times_out_when_peer_silent<R: Rt>() {
    let upgrader = upgrader::<R>().close_timeout(Duration::from_millis(300));
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader, |mut ws| async move {
        let start = Instant::now();
        let res = ws.close(Some(CloseFrame::new(1000, ""))).await;
        let took = start.elapsed();
        drop(ws);
        (res, took)
    })
    .await;
    let mut c = raw_connect::<R>(addr).await;
    let f = c.read_frame().await.expect("server close frame");
    assert_eq!(f.close_code(), Some((1000, String::new())));
    // Silent: no reply. The server must give up by itself.
    let (res, took) = server.await;
    assert_matches!(R, res, Err(Error::CloseTimeout));
    let (at_least, under) = (Duration::from_millis(250), Duration::from_secs(3));
    assert_took::<R>(took, at_least, under, "gave up");
    let rest = within::<R, _>(Duration::from_secs(5), "eof", c.read_to_eof()).await;
    assert!(rest.is_empty(), "[{}] {rest:?}", R::NAME);
}

/// Close codes that may not be sent, and reasons over 123 bytes, are refused
/// before anything is written; the connection stays usable.
async fn invalid_close_from_application_is_refused<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        for code in [1005u16, 1006, 999, 1015, 5000] {
            let e = ws
                .close(Some(CloseFrame::new(code, "")))
                .await
                .expect_err("unsendable code");
            assert!(matches!(e, Error::InvalidMessage(_)), "code {code}: {e:?}");
        }
        let e = ws
            .close(Some(CloseFrame::new(1000, "r".repeat(124))))
            .await
            .expect_err("long reason");
        assert!(matches!(e, Error::InvalidMessage(_)), "{e:?}");
        ws.close(Some(CloseFrame::new(1000, "r".repeat(123)))).await
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    let (before, close) = client_until_close::<R>(&mut ws).await;
    assert!(before.is_empty(), "[{}] {before:?}", R::NAME);
    assert_eq!(close, Some((1000, "r".repeat(123))), "[{}]", R::NAME);
    let _ = futures_util::StreamExt::next(&mut ws).await;
    server
        .await
        .unwrap_or_else(|e| panic!("[{}] valid close: {e}", R::NAME));
}

/// The peer drops the TCP connection without a close frame: recv reports an
/// I/O error (not a hang, not a clean close), then `ConnectionClosed`.
async fn abrupt_disconnect_is_an_error<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        let first = ws.recv().await;
        let second = ws.recv().await;
        let third = ws.recv().await;
        (first, second, third)
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    futures_util::SinkExt::send(&mut ws, ClientMsg::text("bye"))
        .await
        .unwrap();
    drop(ws);
    let (first, second, third) = server.await;
    assert_eq!(first.expect("first message"), Message::text("bye"));
    assert_matches!(R, second, Err(Error::Io(_)));
    assert_matches!(R, third, Err(Error::ConnectionClosed));
}

/// After the closing handshake the server shuts its side of the TCP
/// connection (RFC 6455 7.1.1: the server closes first) while the
/// application still holds the `WebSocket`: the client sees end of stream
/// without waiting for the connection to be dropped. Both when the client
/// closed and when the server did.
async fn transport_shut_after_close_handshake<R: Rt>() {
    for server_initiates in [false, true] {
        let (done_tx, done_rx) = futures_channel::oneshot::channel::<()>();
        let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), move |mut ws| async move {
            if server_initiates {
                ws.close(Some(CloseFrame::new(1000, "")))
                    .await
                    .expect("close");
            } else {
                assert!(matches!(ws.recv().await, Ok(Message::Close(_))));
            }
            assert!(matches!(ws.recv().await, Err(Error::ConnectionClosed)));
            // Keep the connection object alive until the client has its
            // answer (or gives up).
            let _ = timeout::<R, _>(Duration::from_secs(5), done_rx).await;
            drop(ws);
        })
        .await;
        let mut c = raw_connect::<R>(addr).await;
        if server_initiates {
            let f = c.read_frame().await.expect("server close");
            assert_eq!(f.close_code(), Some((1000, String::new())));
            c.send_close(1000, "").await;
        } else {
            c.send_close(1000, "").await;
            let f = c.read_frame().await.expect("close echo");
            assert_eq!(f.close_code(), Some((1000, String::new())));
        }
        let eof = timeout::<R, _>(Duration::from_secs(1), c.read_to_eof()).await;
        let _ = done_tx.send(());
        server.await;
        let rest = eof.unwrap_or_else(|| {
            panic!(
                "[{}] no end of stream within 1 s of the close handshake (server_initiates: {server_initiates}): \
                 the server did not shut its write side",
                R::NAME
            )
        });
        assert!(rest.is_empty(), "[{}] {rest:?}", R::NAME);
    }
}

/// A protocol error (an unmasked frame) from a peer that then goes silent
/// and keeps the connection open: `recv` reports the error once the close
/// timeout has passed, instead of waiting on the peer forever.
async fn protocol_error_then_silent_peer_times_out<R: Rt>() {
    let upgrader = upgrader::<R>().close_timeout(Duration::from_millis(300));
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader, |mut ws| async move {
        let start = Instant::now();
        let res = ws.recv().await;
        (res, start.elapsed())
    })
    .await;
    let mut c = raw_connect::<R>(addr).await;
    c.write_raw(&[0x82, 0x00]).await; // unmasked: 1002
    let f = c.read_frame().await.expect("server close frame");
    assert_eq!(f.close_code().map(|c| c.0), Some(1002));
    // Silent from here on, the socket left open.
    let (res, took) = within::<R, _>(
        Duration::from_secs(3),
        "recv after a protocol error",
        server,
    )
    .await;
    assert_matches!(R, res, Err(Error::Protocol(_)));
    assert!(took < Duration::from_secs(2), "[{}] {took:?}", R::NAME);
    drop(c);
}

runtime_tests!(
    protocol_error_then_silent_peer_times_out,
    client_close_codes_seen_and_echoed,
    client_close_without_code,
    server_close_with_code_and_reason,
    server_close_times_out_when_peer_silent,
    invalid_close_from_application_is_refused,
    abrupt_disconnect_is_an_error,
    transport_shut_after_close_handshake,
);
