//! How wsup's client fails, on every runtime, through the bindings'
//! `connect_with`: a refusal keeps its status and body, a redirect is
//! reported and not followed, a server that never answers runs into the
//! handshake timeout, a server that goes silent after the handshake into
//! the keepalive timeout, and a server that masks its frames fails the
//! connection with 1002; a proxy's refusal, TLS to a plain server, a close
//! never answered, nothing listening.

mod harness;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::io::{AsyncReadExt, AsyncWriteExt};

use harness::client::*;
use harness::raw::{OP_CLOSE, OP_PING, OP_TEXT};
use harness::*;
use wsup::client::{ClientError, Proxy, TlsConnector};
use wsup::deflate::DeflateConfig;
use wsup::http::{header, Response, StatusCode};
use wsup::{Bytes, CloseCode, Error, Message};
use wsup_testkit::tcp::ConnectProxy;

runtime_tests! {
    a_refusal_keeps_its_status_headers_and_body,
    a_redirect_is_reported_not_followed,
    a_server_that_never_answers_runs_into_the_handshake_timeout,
    a_server_silent_after_the_handshake_runs_into_the_keepalive_timeout,
    masked_frames_from_the_server_fail_the_connection_with_1002,
    an_unasked_extension_in_the_101_is_refused,
    a_proxy_refusal_is_its_status,
    wss_to_a_plain_server_fails_in_tls,
    a_server_that_never_echoes_the_close_runs_into_the_close_timeout,
    an_unreachable_server_is_an_io_error,
    a_stalled_tls_handshake_or_proxy_runs_into_the_handshake_timeout,
    a_message_over_the_clients_limit_fails_with_1009,
    invalid_utf8_from_the_server_fails_with_1007,
    hostile_101s_are_refused_with_typed_errors,
    a_deflate_bomb_stops_at_the_clients_limit,
    a_message_over_the_servers_limit_gets_its_1009,
}

/// A wsup server whose handler answers every request with `response`;
/// returns its address and the count of requests it saw.
async fn answering<R: ClientRt>(
    response: impl Fn() -> Response<Bytes> + Send + Sync + 'static,
) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    let response = Arc::new(response);
    R::spawn_detached(Box::pin(async move {
        let _ = server
            .run_requests(move |request, _peer| {
                count.fetch_add(1, Ordering::SeqCst);
                let response = response();
                async move {
                    let _ = request.respond(response).await;
                }
            })
            .await;
    }));
    (addr, seen)
}

/// 403 with a body and a header of its own: `ClientError::Status`, the
/// status, header and body readable from the error.
async fn a_refusal_keeps_its_status_headers_and_body<R: ClientRt>() {
    let (addr, seen) = answering::<R>(|| {
        Response::builder()
            .status(StatusCode::FORBIDDEN)
            .header("x-reason", "banned")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Bytes::from_static(b"you shall not pass"))
            .expect("response")
    })
    .await;
    let err = dial_err::<R>(R::dialer(), ws_url(addr, "/private")).await;
    assert_matches!(R, err, ClientError::Status(_));
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN), "[{}]", R::NAME);
    let response = err.response().expect("the response");
    assert_eq!(response.headers()["x-reason"], "banned", "[{}]", R::NAME);
    assert_eq!(&response.body()[..], b"you shall not pass", "[{}]", R::NAME);
    assert_eq!(seen.load(Ordering::SeqCst), 1, "[{}]", R::NAME);
}

/// 302 to another server: `ClientError::Redirect` with the location; the
/// client does not follow it (the other server sees no request).
async fn a_redirect_is_reported_not_followed<R: ClientRt>() {
    let (elsewhere, elsewhere_seen) =
        answering::<R>(|| Response::new(Bytes::from_static(b"hello"))).await;
    let location = ws_url(elsewhere, "/new");
    let to = location.clone();
    let (addr, seen) = answering::<R>(move || {
        Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, to.as_str())
            .body(Bytes::from_static(b"moved"))
            .expect("response")
    })
    .await;
    let err = dial_err::<R>(R::dialer(), ws_url(addr, "/old")).await;
    match &err {
        ClientError::Redirect {
            response,
            location: to,
        } => {
            assert_eq!(response.status(), StatusCode::FOUND, "[{}]", R::NAME);
            assert_eq!(to.as_deref(), Some(location.as_str()), "[{}]", R::NAME);
            assert_eq!(&response.body()[..], b"moved", "[{}]", R::NAME);
        }
        other => panic!("[{}] {other:?}", R::NAME),
    }
    assert_eq!(err.status(), Some(StatusCode::FOUND), "[{}]", R::NAME);
    assert_eq!(seen.load(Ordering::SeqCst), 1, "[{}]", R::NAME);
    assert_eq!(elsewhere_seen.load(Ordering::SeqCst), 0, "[{}]", R::NAME);
}

/// A server that reads the request and says nothing: `ClientError::Timeout`
/// with the dialer's timeout, neither early nor late; with the binding's
/// dialer, and with a plain `Dialer::new()`, to which `connect_with` lends
/// the binding's timers.
async fn a_server_that_never_answers_runs_into_the_handshake_timeout<R: ClientRt>() {
    for dialer in [R::dialer(), wsup::client::Dialer::new()] {
        let (addr, peer) = raw_server::<R, _, _, _>(|peer| async move {
            // Held open past the client's deadline.
            R::sleep(Duration::from_secs(5)).await;
            drop(peer);
        })
        .await;
        let dialer = dialer.handshake_timeout(Duration::from_millis(300));
        let dialing = dial_err::<R>(dialer, ws_url(addr, "/"));
        let err = after::<R, _>(Duration::from_millis(300), "handshake timeout", dialing).await;
        assert_matches!(R, err, ClientError::Timeout(d) if *d == Duration::from_millis(300));
        drop(peer);
    }
}

/// A server that completes the handshake and then neither reads nor
/// answers: the client pings after its interval and, with nothing back
/// within its timeout, ends with `Error::KeepaliveTimeout` (its 1011
/// attempted).
async fn a_server_silent_after_the_handshake_runs_into_the_keepalive_timeout<R: ClientRt>() {
    let (addr, peer) = raw_server::<R, _, _, _>(|mut peer| async move {
        peer.switch("").await;
        // Reads what the client sends, answers nothing, until it goes.
        let mut frames = Vec::new();
        while let Some(frame) = peer.read_frame().await {
            frames.push(frame);
        }
        frames
    })
    .await;
    let dialer = R::dialer()
        .keepalive_interval(Some(Duration::from_millis(200)))
        .keepalive_timeout(Duration::from_millis(300));
    let (mut ws, _) = dial::<R>(dialer, ws_url(addr, "/")).await;
    // A ping after 200 to 400 ms of silence, then 300 ms to wait.
    let err = after::<R, _>(Duration::from_millis(500), "keepalive timeout", ws.recv()).await;
    assert_matches!(R, err, Err(Error::KeepaliveTimeout));
    drop(ws);
    let frames = within::<R, _>(Duration::from_secs(5), "peer ends", peer).await;
    // The ping, then the 1011 attempted on the way out: both masked, each
    // with its own key.
    let opcodes: Vec<u8> = frames.iter().map(|f| f.opcode).collect();
    assert_eq!(opcodes, [OP_PING, OP_CLOSE], "[{}] {frames:?}", R::NAME);
    assert_eq!(
        frames[1].close_code().map(|c| c.0),
        Some(1011),
        "[{}]",
        R::NAME
    );
    assert_ne!(frames[0].key, frames[1].key, "[{}]", R::NAME);
}

/// A masked text frame from the server (RFC 6455 5.1): the client fails
/// the connection with 1002, and tells the server so.
async fn masked_frames_from_the_server_fail_the_connection_with_1002<R: ClientRt>() {
    let masked = wsup_testkit::client_frame(OP_TEXT, true, b"masked");
    server_frames_fail_with::<R>(vec![masked], CloseCode::PROTOCOL).await;
}

/// A `101` with permessage-deflate the client did not offer:
/// `ClientError::UnofferedExtension`, and no connection.
async fn an_unasked_extension_in_the_101_is_refused<R: ClientRt>() {
    let (addr, peer) = raw_server::<R, _, _, _>(|mut peer| async move {
        peer.switch("Sec-WebSocket-Extensions: permessage-deflate\r\n")
            .await;
        // Held open: the client must decide from the head alone.
        R::sleep(Duration::from_secs(5)).await;
        drop(peer);
    })
    .await;
    let err = dial_err::<R>(R::dialer(), ws_url(addr, "/")).await;
    assert_matches!(R, err, ClientError::UnofferedExtension(_));
    drop(peer);
}

/// A proxy that answers `CONNECT` with 407: `ClientError::Proxy`, status
/// readable.
async fn a_proxy_refusal_is_its_status<R: ClientRt>() {
    let proxy = ConnectProxy::refusing("407 Proxy Authentication Required");
    let dialer = R::dialer().proxy(Proxy::new("127.0.0.1", proxy.addr().port()));
    let err = dial_err::<R>(dialer, "ws://example.invalid/".to_owned()).await;
    assert_matches!(R, err, ClientError::Proxy(_));
    assert_eq!(
        err.status(),
        Some(StatusCode::PROXY_AUTHENTICATION_REQUIRED),
        "[{}]",
        R::NAME
    );
}

/// `wss://` to a server that speaks plain HTTP (it answers the
/// ClientHello with a 400 and closes): `ClientError::Tls`, at once.
async fn wss_to_a_plain_server_fails_in_tls<R: ClientRt>() {
    let (listener, addr) = R::listen().await;
    let server = spawn::<R, _>(async move {
        let mut io = R::accept(&listener).await;
        let mut hello = [0u8; 512];
        let n = io.read(&mut hello).await.expect("read the ClientHello");
        let _ = io
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
        let _ = io.close().await;
        n
    });
    let certs = wsup_testkit::certs::TestCerts::generate();
    let tls = TlsConnector::from_pem(certs.ca_pem.as_bytes()).expect("CA");
    let dialer = R::dialer()
        .tls(tls)
        .handshake_timeout(Duration::from_secs(10));
    let url = format!("wss://127.0.0.1:{}/", addr.port());
    let err = within::<R, _>(
        Duration::from_secs(5),
        "refusal",
        dial_err::<R>(dialer, url),
    )
    .await;
    assert_matches!(R, err, ClientError::Tls(_));
    // The ClientHello went out first.
    assert!(server.await > 5, "[{}]", R::NAME);
}

/// A server that reads the client's close and never answers it: `close`
/// returns `Error::CloseTimeout` after the close timeout.
async fn a_server_that_never_echoes_the_close_runs_into_the_close_timeout<R: ClientRt>() {
    let (addr, peer) = raw_server::<R, _, _, _>(|mut peer| async move {
        peer.switch("").await;
        let mut frames = Vec::new();
        while let Some(frame) = peer.read_frame().await {
            frames.push(frame.opcode);
        }
        frames
    })
    .await;
    let dialer = R::dialer().close_timeout(Duration::from_millis(300));
    let (mut ws, _) = dial::<R>(dialer, ws_url(addr, "/")).await;
    let closed = after::<R, _>(Duration::from_millis(300), "close timeout", ws.close(None)).await;
    assert_matches!(R, closed, Err(Error::CloseTimeout));
    drop(ws);
    let frames = within::<R, _>(Duration::from_secs(5), "peer ends", peer).await;
    assert_eq!(frames, [OP_CLOSE], "[{}]", R::NAME);
}

/// Nothing listens: `ClientError::Io`, connection refused.
async fn an_unreachable_server_is_an_io_error<R: ClientRt>() {
    let closed = wsup_testkit::tcp::closed_port();
    let url = format!("ws://127.0.0.1:{}/", closed.port());
    let err = dial_err::<R>(R::dialer(), url).await;
    assert_matches!(
        R,
        err,
        ClientError::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused
    );
}

/// The one deadline covers every step: a server that accepts TCP and never
/// answers the ClientHello, and a proxy that never answers `CONNECT`.
async fn a_stalled_tls_handshake_or_proxy_runs_into_the_handshake_timeout<R: ClientRt>() {
    for through_proxy in [false, true] {
        let (listener, addr) = R::listen().await;
        let silent = spawn::<R, _>(async move {
            let io = R::accept(&listener).await;
            R::sleep(Duration::from_secs(5)).await;
            drop(io);
        });
        let mut dialer = R::dialer().handshake_timeout(Duration::from_millis(300));
        let url = if through_proxy {
            dialer = dialer.proxy(Proxy::new("127.0.0.1", addr.port()));
            "ws://example.invalid/".to_owned()
        } else {
            let certs = wsup_testkit::certs::TestCerts::generate();
            dialer = dialer.tls(TlsConnector::from_pem(certs.ca_pem.as_bytes()).expect("CA"));
            format!("wss://127.0.0.1:{}/", addr.port())
        };
        let what = if through_proxy { "proxy" } else { "TLS" };
        let err = after::<R, _>(Duration::from_millis(300), what, dial_err::<R>(dialer, url)).await;
        assert_matches!(R, err, ClientError::Timeout(_));
        drop(silent);
    }
}

/// The client's own limits hold against the server: a message over its
/// `max_message_size` fails the connection with 1009, which the server
/// gets.
async fn a_message_over_the_clients_limit_fails_with_1009<R: ClientRt>() {
    let sends = vec![
        Message::binary(vec![7u8; 1000]),
        Message::binary(vec![7u8; 1001]),
    ];
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |ws| {
        send_then_close_code::<R, _>(ws, sends)
    })
    .await;
    let dialer = R::dialer().max_message_size(1000);
    let (mut ws, _) = dial::<R>(dialer, ws_url(addr, "/")).await;
    let first = within::<R, _>(Duration::from_secs(5), "first", ws.recv()).await;
    assert_matches!(R, first, Ok(Message::Binary(b)) if b.len() == 1000);
    fails_with::<R>(&mut ws, CloseCode::TOO_BIG).await;
    let seen = within::<R, _>(Duration::from_secs(5), "server", server).await;
    assert_eq!(seen, Some(CloseCode::TOO_BIG), "[{}]", R::NAME);
}

/// A text message that is not UTF-8, split across two frames so the bad
/// byte comes in the second: 1007.
async fn invalid_utf8_from_the_server_fails_with_1007<R: ClientRt>() {
    let frames = vec![
        wsup_testkit::server_frame(OP_TEXT, false, b"caf"),
        wsup_testkit::server_frame(0, true, b"\xc3\x28"),
    ];
    server_frames_fail_with::<R>(frames, CloseCode::INVALID_PAYLOAD).await;
}

/// A server that answers the handshake and sends `frames`: the client
/// fails the connection with `code`, and its close frame says so.
async fn server_frames_fail_with<R: ClientRt>(frames: Vec<Vec<u8>>, code: CloseCode) {
    let (addr, peer) = raw_server::<R, _, _, _>(|mut peer| async move {
        peer.switch("").await;
        for frame in &frames {
            peer.write(frame).await;
        }
        peer.read_frame().await
    })
    .await;
    let (mut ws, _) = dial::<R>(R::dialer(), ws_url(addr, "/")).await;
    fails_with::<R>(&mut ws, code).await;
    let close = within::<R, _>(Duration::from_secs(5), "the client's close", peer).await;
    let got = close.and_then(|f| f.close_code()).map(|c| c.0);
    assert_eq!(got, Some(code.0), "[{}]", R::NAME);
}

/// The client's next `recv` fails the connection for a protocol error
/// closed with `code`.
async fn fails_with<R: ClientRt>(ws: &mut ClientWs<R>, code: CloseCode) {
    match within::<R, _>(Duration::from_secs(5), "recv", ws.recv()).await {
        Err(e @ Error::Protocol(_)) => assert_eq!(e.close_code(), Some(code), "[{}]", R::NAME),
        other => panic!("[{}] {other:?}, expected a failure with {code:?}", R::NAME),
    }
}

/// Answers no conforming server gives, each refused with its error: a
/// wrong accept key, no `Upgrade`, a subprotocol not offered, two of them,
/// a head over the limit, HTTP/1.0, bytes that are not HTTP.
async fn hostile_101s_are_refused_with_typed_errors<R: ClientRt>() {
    type Check = fn(&ClientError) -> bool;
    let wrong_accept: Check =
        |e| matches!(e, ClientError::InvalidResponse(w) if w.contains("Accept"));
    let invalid: Check = |e| matches!(e, ClientError::InvalidResponse(_));
    let unoffered: Check = |e| matches!(e, ClientError::UnofferedSubprotocol(p) if p == "evil");
    let too_large: Check = |e| matches!(e, ClientError::HeadTooLarge);
    let malformed: Check = |e| matches!(e, ClientError::Malformed(_));
    let pad = format!("X-Pad: {}\r\n", "a".repeat(20 * 1024));
    type Answer = Box<dyn Fn(&str) -> Vec<u8> + Send>;
    let answers: Vec<(&str, Answer, Check)> = vec![
        (
            "wrong accept",
            Box::new(|_: &str| {
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                  Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
                    .to_vec()
            }),
            wrong_accept,
        ),
        (
            "no upgrade",
            Box::new(|head: &str| {
                switching_for(head, "")
                    .replace("Upgrade: websocket\r\n", "")
                    .into_bytes()
            }),
            invalid,
        ),
        (
            "unoffered subprotocol",
            Box::new(|head: &str| {
                switching_for(head, "Sec-WebSocket-Protocol: evil\r\n").into_bytes()
            }),
            unoffered,
        ),
        (
            "two subprotocols",
            Box::new(|head: &str| {
                switching_for(
                    head,
                    "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n",
                )
                .into_bytes()
            }),
            invalid,
        ),
        (
            "huge head",
            Box::new(move |head: &str| switching_for(head, &pad).into_bytes()),
            too_large,
        ),
        (
            "HTTP/1.0",
            Box::new(|head: &str| {
                switching_for(head, "")
                    .replacen("HTTP/1.1", "HTTP/1.0", 1)
                    .into_bytes()
            }),
            malformed,
        ),
        (
            "not HTTP",
            Box::new(|_: &str| b"\x16\x03\x01\x00\x05hello\r\n\r\n".to_vec()),
            malformed,
        ),
    ];
    for (what, answer, check) in answers {
        let (addr, peer) = raw_server::<R, _, _, _>(move |mut peer| async move {
            let bytes = answer(&peer.head);
            peer.write(&bytes).await;
            // Held open: the client decides from the head alone.
            R::sleep(Duration::from_secs(5)).await;
            drop(peer);
        })
        .await;
        let dialer = R::dialer().protocols(["chat"]);
        let err = within::<R, _>(
            Duration::from_secs(5),
            what,
            dial_err::<R>(dialer, ws_url(addr, "/")),
        )
        .await;
        assert!(check(&err), "[{}] {what}: {err:?}", R::NAME);
        drop(peer);
    }
}

/// A compressed message that inflates past the client's limit (16 MiB of
/// zeros, a few KiB on the wire): 1009, the inflating stopped at the limit.
async fn a_deflate_bomb_stops_at_the_clients_limit<R: ClientRt>() {
    let upgrader = upgrader::<R>().compression(DeflateConfig::enabled());
    let bomb = vec![Message::binary(vec![0u8; 16 << 20])];
    let (addr, server) =
        serve_ws::<R, _, _, _>(upgrader, |ws| send_then_close_code::<R, _>(ws, bomb)).await;
    let dialer = R::dialer()
        .compression(DeflateConfig::enabled())
        .max_message_size(1 << 20);
    let (mut ws, _) = dial::<R>(dialer, ws_url(addr, "/")).await;
    assert!(ws.compression().is_some(), "[{}]", R::NAME);
    fails_with::<R>(&mut ws, CloseCode::TOO_BIG).await;
    let seen = within::<R, _>(Duration::from_secs(5), "server", server).await;
    assert_eq!(seen, Some(CloseCode::TOO_BIG), "[{}]", R::NAME);
}

/// The client sends more than the server takes: the server fails the
/// connection with 1009, and the client sees that close (its send either
/// went out or failed; either way it does not hang).
async fn a_message_over_the_servers_limit_gets_its_1009<R: ClientRt>() {
    let config = wsup::WebSocketConfig::builder()
        .max_message_size(1 << 20)
        .build();
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>().config(config), echo).await;
    let (mut ws, _) = dial::<R>(R::dialer(), ws_url(addr, "/")).await;
    let big = Message::Binary(Bytes::from(pattern(8 << 20, 3)));
    let _ = within::<R, _>(Duration::from_secs(5), "send", ws.send(big)).await;
    let got = within::<R, _>(Duration::from_secs(5), "the server's close", ws.recv()).await;
    match got {
        Ok(Message::Close(Some(frame))) => {
            assert_eq!(frame.code, CloseCode::TOO_BIG, "[{}]", R::NAME)
        }
        other => panic!("[{}] {other:?}", R::NAME),
    }
    let err = within::<R, _>(Duration::from_secs(5), "server", server).await;
    assert_eq!(
        err.err().and_then(|e| e.close_code()),
        Some(CloseCode::TOO_BIG),
        "[{}]",
        R::NAME
    );
}

/// A server handler: sends `msgs`, then reads until the client's close;
/// its code.
async fn send_then_close_code<R: Rt, T>(
    mut ws: wsup::WebSocket<T>,
    msgs: Vec<Message>,
) -> Option<CloseCode>
where
    T: futures_util::io::AsyncRead + futures_util::io::AsyncWrite + Unpin,
{
    for msg in msgs {
        ws.send(msg).await.expect("server sends");
    }
    loop {
        match ws.recv().await {
            Ok(Message::Close(frame)) => return frame.map(|f| f.code),
            Ok(_) => {}
            Err(e) => panic!("[{}] server: {e}", R::NAME),
        }
    }
}
