//! The opening handshake over real sockets: the 101, subprotocol
//! negotiation, every rejection with its status, the origin policy, head
//! limits, garbage, the handshake deadline, and the application hooks.

mod harness;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite;
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use harness::raw::{
    header, http_exchange, read_http_head, status, upgrade_request, RawWs, OP_TEXT,
};
use harness::*;
use wsup::http::{Response, StatusCode};
use wsup::{Bytes, HandshakeError, HeadLimits, OriginPolicy, RawStream, Upgrader};

/// Sends `request(addr)` raw to a server whose handshake must fail; returns
/// the server's error and the whole response the client read.
async fn refused<R: Rt>(
    upgrader: Upgrader,
    request: impl FnOnce(SocketAddr) -> Vec<u8>,
) -> (HandshakeError, String) {
    let (addr, server) = serve_one::<R, _, _, _>(upgrader, |res| async move {
        match res {
            Ok(ws) => panic!("handshake must be refused, got {ws:?}"),
            Err(e) => e,
        }
    })
    .await;
    let response = http_exchange::<R>(addr, &request(addr)).await;
    (server.await, response)
}

/// A valid request with `from` replaced by `to`.
fn altered(from: &'static str, to: &'static str) -> impl FnOnce(SocketAddr) -> Vec<u8> {
    move |addr| {
        let req = upgrade_request(addr, "");
        assert!(req.contains(from), "{from:?} not in the request");
        req.replacen(from, to, 1).into_bytes()
    }
}

/// Checks a refusal: the error's status, the response's status line.
fn assert_refused<R: Rt>(err: &HandshakeError, response: &str, expected: u16) {
    assert_eq!(
        err.status().map(|s| s.as_u16()),
        Some(expected),
        "[{}] {err:?}",
        R::NAME
    );
    assert_eq!(
        status(response),
        expected,
        "[{}] response: {response}",
        R::NAME
    );
}

/// [`refused`] by the usual upgrader, checked: the error matches `kind` and
/// [`assert_refused`] holds for `status`; gives the response for further
/// checks. An optional last argument is shown before the error in a failure.
macro_rules! refused_as {
    ($R:ident, $request:expr, $kind:pat, $status:expr $(, $context:expr)? $(,)?) => {{
        let (err, resp) = refused::<$R>(upgrader::<$R>(), $request).await;
        let context = String::new() $(+ &format!("{:?}: ", $context))?;
        assert!(matches!(err, $kind), "[{}] {context}{err:?}", $R::NAME);
        assert_refused::<$R>(&err, &resp, $status);
        resp
    }};
}

/// The 101 is right (accept key, upgrade headers, no subprotocol when none
/// was offered) and the connection works.
async fn accepts_valid_request<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |ws| async move {
        let protocol = ws.subprotocol().map(str::to_owned);
        (protocol, echo(ws).await)
    })
    .await;
    let io = R::connect(addr).await;
    let (mut c, head) = RawWs::handshake(io, addr, "").await;
    assert!(
        header(&head, "connection").is_some_and(|v| v.eq_ignore_ascii_case("upgrade")),
        "{head}"
    );
    assert_eq!(header(&head, "sec-websocket-protocol"), None, "{head}");
    c.send(true, OP_TEXT, b"hi").await;
    let f = c.read_frame().await.expect("echo");
    assert_frame::<R>(&f, true, OP_TEXT, b"hi");
    c.close_normally().await;
    let (protocol, res) = server.await;
    assert_eq!(protocol, None);
    res.expect("echo ends cleanly");
}

/// A frame sent in the same write as the request head (bytes the server
/// read past the head) is not lost.
async fn bytes_after_head_are_kept<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), echo).await;
    let mut io = R::connect(addr).await;
    let mut bytes = upgrade_request(addr, "").into_bytes();
    bytes.extend(harness::raw::encode_frame(
        true,
        0,
        OP_TEXT,
        Some([1, 2, 3, 4]),
        b"early bird",
    ));
    io.write_all(&bytes).await.unwrap();
    let (head, rest) = read_http_head(&mut io).await.expect("response");
    assert_eq!(status(&head), 101, "{head}");
    let mut c = RawWs::from_parts(io, rest);
    let f = within::<R, _>(
        Duration::from_secs(5),
        "echo of the early frame",
        c.read_frame(),
    )
    .await
    .expect("echo");
    assert_frame::<R>(&f, true, OP_TEXT, b"early bird");
    c.close_normally().await;
    server.await.expect("echo ends cleanly");
}

/// The server's preference order wins: offered `b, a` against `[a, b]`
/// selects `a`, on both sides.
async fn subprotocol_in_server_preference<R: Rt>() {
    for (offered, expected) in [("b, a", "a"), ("c, b", "b"), ("a", "a")] {
        let up = upgrader::<R>().subprotocols(["a", "b"]);
        let (addr, server) = serve_ws::<R, _, _, _>(up, |ws| async move {
            let p = ws.subprotocol().map(str::to_owned);
            let _ = echo(ws).await;
            p
        })
        .await;
        let mut req = request(addr);
        req.headers_mut()
            .insert("sec-websocket-protocol", offered.parse().unwrap());
        let (mut ws, response) = connect_with::<R>(addr, req).await.expect("handshake");
        let selected = response
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            selected.as_deref(),
            Some(expected),
            "[{}] offered {offered}",
            R::NAME
        );
        client_close::<R>(&mut ws, 1000, "").await;
        assert_eq!(
            server.await.as_deref(),
            Some(expected),
            "[{}] offered {offered}",
            R::NAME
        );
    }
}

/// No protocol in common: the 101 names none, and the connection has none.
async fn subprotocol_none_in_common<R: Rt>() {
    let up = upgrader::<R>().subprotocols(["a", "b"]);
    let (addr, server) =
        serve_ws::<R, _, _, _>(up, |ws| async move { ws.subprotocol().map(str::to_owned) }).await;
    let io = R::connect(addr).await;
    let (_c, head) = RawWs::handshake(io, addr, "Sec-WebSocket-Protocol: x, y\r\n").await;
    assert_eq!(
        header(&head, "sec-websocket-protocol"),
        None,
        "[{}] {head}",
        R::NAME
    );
    assert_eq!(server.await, None);
}

async fn rejects_non_get_with_405<R: Rt>() {
    let request = altered("GET /ws", "POST /ws");
    refused_as!(R, request, HandshakeError::MethodNotAllowed, 405);
}

async fn rejects_missing_connection_upgrade_with_400<R: Rt>() {
    let request = altered("Connection: Upgrade", "Connection: keep-alive");
    refused_as!(R, request, HandshakeError::MissingConnectionUpgrade, 400);
}

async fn rejects_missing_upgrade_websocket_with_426<R: Rt>() {
    for to in ["Upgrade: h2c\r\n", ""] {
        let request = altered("Upgrade: websocket\r\n", to);
        refused_as!(R, request, HandshakeError::MissingUpgradeWebsocket, 426, to);
    }
}

/// RFC 6455 4.4: an unsupported version gets 426 naming version 13.
async fn rejects_wrong_version_with_426_and_supported_version<R: Rt>() {
    for to in ["Sec-WebSocket-Version: 8\r\n", ""] {
        let resp = refused_as!(
            R,
            altered("Sec-WebSocket-Version: 13\r\n", to),
            HandshakeError::UnsupportedVersion,
            426
        );
        assert_eq!(
            header(&resp, "sec-websocket-version"),
            Some("13"),
            "[{}] {resp}",
            R::NAME
        );
    }
}

async fn rejects_bad_key_with_400<R: Rt>() {
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    for to in [
        "Sec-WebSocket-Key: c2hvcnQ=\r\n",
        "Sec-WebSocket-Key: !!!!\r\n",
        "",
    ] {
        refused_as!(R, altered(key, to), HandshakeError::InvalidKey, 400, to);
    }
}

/// An echo server built from `upgrader` admits async-tungstenite sending
/// the `Origin` that `origin` makes of the server's address.
async fn admits_origin<R: Rt>(upgrader: Upgrader, origin: impl FnOnce(SocketAddr) -> String) {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader, echo).await;
    let mut req = request(addr);
    let origin = origin(addr);
    req.headers_mut().insert("origin", origin.parse().unwrap());
    let (mut ws, _) = connect_with::<R>(addr, req)
        .await
        .unwrap_or_else(|e| panic!("[{}] origin {origin} refused: {e}", R::NAME));
    client_close::<R>(&mut ws, 1000, "").await;
    server.await.expect("echo ends cleanly");
}

/// Default policy (same origin): a foreign `Origin` is refused with 403,
/// the server's own origin is accepted.
async fn origin_same_origin_policy<R: Rt>() {
    refused_as!(
        R,
        |addr| upgrade_request(addr, "Origin: http://evil.example\r\n").into_bytes(),
        HandshakeError::OriginRefused,
        403
    );

    admits_origin::<R>(upgrader::<R>(), |addr| format!("http://{addr}")).await;
}

/// An allow-list admits its origins and refuses the rest with 403.
async fn origin_allow_list<R: Rt>() {
    let policy = || OriginPolicy::AllowList(vec!["https://app.example".into()]);
    let (err, resp) = refused::<R>(upgrader::<R>().origin_policy(policy()), |addr| {
        upgrade_request(addr, "Origin: https://other.example\r\n").into_bytes()
    })
    .await;
    assert_refused::<R>(&err, &resp, 403);

    let allowed = |_| "https://app.example".to_owned();
    admits_origin::<R>(upgrader::<R>().origin_policy(policy()), allowed).await;
}

/// A head over the default 16 KiB limit gets 431; one exactly at the limit
/// is accepted; too many header lines get 431 too.
async fn oversized_head_gets_431<R: Rt>() {
    const LIMIT: usize = 16 * 1024;
    // One byte over, with no end in sight: the server reads exactly this
    // much, so no unread bytes turn its close into a reset.
    refused_as!(
        R,
        |_| {
            let mut req = b"GET /ws HTTP/1.1\r\nX-Filler: ".to_vec();
            req.resize(LIMIT + 1, b'a');
            req
        },
        HandshakeError::HeadTooLarge,
        431
    );

    refused_as!(
        R,
        |addr| {
            let many: String = (0..70).map(|i| format!("X-H{i}: v\r\n")).collect();
            upgrade_request(addr, &many).into_bytes()
        },
        HandshakeError::HeadTooLarge,
        431
    );

    // Exactly at the limit: accepted.
    let (addr, server) =
        serve_ws::<R, _, _, _>(upgrader::<R>(), |ws| async move { drop(ws) }).await;
    let base = upgrade_request(addr, "X-Pad: \r\n");
    let pad = LIMIT - base.len();
    let req = upgrade_request(addr, &format!("X-Pad: {}\r\n", "p".repeat(pad)));
    assert_eq!(req.len(), LIMIT);
    let mut io = R::connect(addr).await;
    io.write_all(req.as_bytes()).await.unwrap();
    let (head, _) = read_http_head(&mut io).await.expect("response");
    assert_eq!(
        status(&head),
        101,
        "[{}] head of exactly {LIMIT} bytes: {head}",
        R::NAME
    );
    server.await;

    // A smaller configured limit is honoured.
    let up = upgrader::<R>().head_limits(HeadLimits {
        max_size: 512,
        max_headers: 64,
    });
    let (err, resp) = refused::<R>(up, |_| {
        let mut req = b"GET /ws HTTP/1.1\r\nX-Filler: ".to_vec();
        req.resize(513, b'a');
        req
    })
    .await;
    assert_refused::<R>(&err, &resp, 431);
}

/// Bytes that are not an HTTP/1.1 request head get 400, and the server task
/// survives (a panic would fail the test through the task's result).
async fn garbage_gets_400<R: Rt>() {
    let blob: Vec<u8> = pattern(2000, 9)
        .into_iter()
        .filter(|b| *b != b'\r' && *b != b'\n')
        .collect();
    let cases: Vec<Vec<u8>> = vec![
        b"\x00\x01\x02\x03\r\n\r\n".to_vec(),
        b"GET / HTTP/1.0\r\nHost: x\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n".to_vec(),
        b"G\xffT / HTTP/1.1\r\n\r\n".to_vec(),
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgr\xe4de\r\nUpgrade: websocket\r\n\r\n"
            .to_vec(),
        [blob, b"\r\n\r\n".to_vec()].concat(),
    ];
    for case in cases {
        let shown = String::from_utf8_lossy(&case[..case.len().min(40)]).into_owned();
        refused_as!(R, move |_| case, HandshakeError::Malformed(_), 400, shown);
    }
}

/// A client that sends part of a head and then closes: `Incomplete`, no
/// response, no panic.
async fn truncated_head_then_eof<R: Rt>() {
    let (addr, server) =
        serve_one::<R, _, _, _>(upgrader::<R>(), |res| async move { res.err() }).await;
    let mut io = R::connect(addr).await;
    io.write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        .await
        .unwrap();
    R::shutdown_write(&mut io).await;
    let mut rest = Vec::new();
    let _ = io.read_to_end(&mut rest).await;
    assert!(
        rest.is_empty(),
        "[{}] unexpected response {rest:?}",
        R::NAME
    );
    let err = server.await.expect("handshake fails");
    assert_matches!(R, err, HandshakeError::Incomplete);
}

/// Accepts one connection and times its handshake.
async fn timed_handshake<R: Rt>(
    upgrader: Upgrader,
) -> (SocketAddr, BoxFut<(Result<(), HandshakeError>, Duration)>) {
    let (listener, addr) = R::listen().await;
    let task = spawn::<R, _>(async move {
        let io = R::accept(&listener).await;
        let start = Instant::now();
        let res = R::upgrade(&upgrader, io).await.map(drop);
        (res, start.elapsed())
    });
    (addr, task)
}

/// Half a head, then silence: the handshake fails with `Timeout` after
/// about the configured 300 ms, and the connection is closed unanswered.
async fn handshake_timeout_on_stalled_head<R: Rt>() {
    let (addr, server) =
        timed_handshake::<R>(R::upgrader().handshake_timeout(Duration::from_millis(300))).await;
    let mut io = R::connect(addr).await;
    io.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: web")
        .await
        .unwrap();
    let (res, took) = server.await;
    assert_matches!(R, res, Err(HandshakeError::Timeout));
    let (at_least, under) = (Duration::from_millis(250), Duration::from_secs(3));
    assert_took::<R>(took, at_least, under, "timed out");
    let rest = read_what_comes::<R, _>(&mut io, "close after timeout").await;
    assert!(
        rest.is_empty(),
        "[{}] no response expected: {:?}",
        R::NAME,
        String::from_utf8_lossy(&rest)
    );
}

/// One deadline over the whole head: a client trickling a byte every 30 ms
/// (each read succeeding) is still cut off at the deadline.
async fn handshake_deadline_covers_slow_trickle<R: Rt>() {
    let (addr, server) =
        timed_handshake::<R>(R::upgrader().handshake_timeout(Duration::from_millis(400))).await;
    let io = R::connect(addr).await;
    let trickle = spawn::<R, _>(async move {
        let mut io = io;
        for b in upgrade_request(addr, "").bytes() {
            if io.write_all(&[b]).await.is_err() {
                break;
            }
            R::sleep(Duration::from_millis(30)).await;
        }
    });
    let (res, took) = server.await;
    assert_matches!(R, res, Err(HandshakeError::Timeout));
    let (at_least, under) = (Duration::from_millis(350), Duration::from_secs(3));
    assert_took::<R>(took, at_least, under, "deadline over the trickle");
    // The trickler sees its connection fail (or finishes); either way it ends.
    within::<R, _>(Duration::from_secs(10), "trickler ends", trickle).await;
}

/// `on_request` can refuse with its own response, or add headers to the 101.
#[allow(clippy::result_large_err)] // the hook's signature is the library's
async fn on_request_hook_refuses_or_adds_headers<R: Rt>() {
    let hooked = || {
        upgrader::<R>().on_request(|parts, headers| {
            if parts.uri.path() == "/private" {
                let mut res = Response::new(Bytes::from_static(b"no entry"));
                *res.status_mut() = StatusCode::UNAUTHORIZED;
                return Err(res);
            }
            headers.insert("x-hook", "seen".parse().unwrap());
            Ok(())
        })
    };
    let (err, resp) = refused::<R>(hooked(), altered("GET /ws", "GET /private")).await;
    assert_matches!(R, err, HandshakeError::Rejected(s) if *s == StatusCode::UNAUTHORIZED);
    assert_eq!(status(&resp), 401, "{resp}");
    assert!(resp.ends_with("no entry"), "[{}] {resp}", R::NAME);

    let (addr, server) = serve_ws::<R, _, _, _>(hooked(), echo).await;
    let (mut ws, response) = connect_with::<R>(addr, request(addr))
        .await
        .expect("handshake");
    assert_eq!(
        response.headers().get("x-hook").map(|v| v.as_bytes()),
        Some(&b"seen"[..])
    );
    client_close::<R>(&mut ws, 1000, "").await;
    server.await.expect("echo ends cleanly");
}

/// `on_error` builds the rejection responses.
async fn on_error_hook_builds_the_response<R: Rt>() {
    let up = upgrader::<R>().on_error(|e| {
        let mut res = Response::new(Bytes::from(format!("custom: {e}")));
        *res.status_mut() = e.status().unwrap_or(StatusCode::BAD_REQUEST);
        res
    });
    let (err, resp) = refused::<R>(up, altered("GET /ws", "PUT /ws")).await;
    assert_refused::<R>(&err, &resp, 405);
    assert!(
        resp.contains("custom: method not allowed"),
        "[{}] {resp}",
        R::NAME
    );
}

/// `read_request` lets the application route: a plain request is answered
/// with `respond`, an upgrade request upgraded.
async fn read_request_routes_plain_http<R: Rt>() {
    let (listener, addr) = R::listen().await;
    let up = upgrader::<R>();
    let server = spawn::<R, _>(async move {
        let mut paths = Vec::new();
        for _ in 0..2 {
            let io = R::accept(&listener).await;
            let pending = up
                .read_request(RawStream::new(io))
                .await
                .expect("request head");
            paths.push(pending.parts().uri.path().to_owned());
            if pending.is_upgrade() {
                let ws = pending.upgrade().await.expect("upgrade");
                echo(ws).await.expect("echo ends cleanly");
            } else {
                let mut res = Response::new(Bytes::from_static(b"plain hello"));
                *res.status_mut() = StatusCode::OK;
                pending.respond(res).await.expect("respond");
            }
        }
        paths
    });
    let resp = http_exchange::<R>(addr, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status(&resp), 200, "[{}] {resp}", R::NAME);
    assert!(resp.ends_with("plain hello"), "[{}] {resp}", R::NAME);
    let mut ws = connect::<R>(addr).await;
    ws.send(ClientMsg::text("routed")).await.unwrap();
    assert_eq!(client_next::<R>(&mut ws).await, ClientMsg::text("routed"));
    client_close::<R>(&mut ws, 1000, "").await;
    assert_eq!(server.await, vec!["/health".to_owned(), "/".to_owned()]);
}

/// async-tungstenite refuses a 101 without the protocol it required, which
/// the server must not invent (the other half of `subprotocol_none_in_common`).
async fn client_requiring_a_protocol_gets_none<R: Rt>() {
    let up = upgrader::<R>().subprotocols(["a"]);
    let (addr, server) =
        serve_ws::<R, _, _, _>(up, |ws| async move { ws.subprotocol().map(str::to_owned) }).await;
    let mut req = request(addr);
    req.headers_mut()
        .insert("sec-websocket-protocol", "zz".parse().unwrap());
    let err = connect_with::<R>(addr, req)
        .await
        .expect_err("client must refuse the 101");
    assert_matches!(
        R,
        err,
        tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(
                tungstenite::error::SubProtocolError::NoSubProtocol
            )
        )
    );
    assert_eq!(server.await, None);
}

runtime_tests!(
    accepts_valid_request,
    bytes_after_head_are_kept,
    subprotocol_in_server_preference,
    subprotocol_none_in_common,
    rejects_non_get_with_405,
    rejects_missing_connection_upgrade_with_400,
    rejects_missing_upgrade_websocket_with_426,
    rejects_wrong_version_with_426_and_supported_version,
    rejects_bad_key_with_400,
    origin_same_origin_policy,
    origin_allow_list,
    oversized_head_gets_431,
    garbage_gets_400,
    truncated_head_then_eof,
    handshake_timeout_on_stalled_head,
    handshake_deadline_covers_slow_trickle,
    on_request_hook_refuses_or_adds_headers,
    on_error_hook_builds_the_response,
    read_request_routes_plain_http,
    client_requiring_a_protocol_gets_none,
);
