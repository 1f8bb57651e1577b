//! The client's opening handshake (`wsup_core::client::Dialer`) over real
//! TCP on 127.0.0.1: against a wsup server, which agrees a subprotocol and
//! permessage-deflate and then echoes, and against hostile servers, each
//! answer refused with its typed error.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsup_core::client::{ClientError, Dialer, Handshake};
use wsup_core::deflate::DeflateConfig;
use wsup_core::handshake::accept_key;
use wsup_core::http::{StatusCode, Uri};
use wsup_tokio::{TokioIo, TokioRuntime};

type Io = TokioIo<TcpStream>;

/// Every test is over within this, whatever the peer does.
const BOUND: Duration = Duration::from_secs(10);

fn dialer() -> Dialer {
    Dialer::new().runtime(Arc::new(TokioRuntime))
}

/// Connects to `addr` and runs `dialer`'s handshake, within [`BOUND`].
async fn dial(dialer: &Dialer, addr: SocketAddr) -> Result<Handshake<Io>, ClientError> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let uri: Uri = format!("ws://{addr}/chat").parse().unwrap();
    tokio::time::timeout(BOUND, dialer.handshake(TokioIo::new(stream), &uri))
        .await
        .expect("in time")
}

#[tokio::test]
async fn the_handshake_agrees_what_a_wsup_server_chose_and_frames_follow() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let upgrader = wsup_tokio::upgrader()
        .subprotocols(["chat.v2", "chat.v1"])
        .compression(
            DeflateConfig::enabled()
                .server_no_context_takeover(true)
                .client_max_window_bits(11),
        );
    let server = tokio::spawn(wsup_tokio::serve(
        listener,
        upgrader,
        |mut ws, _| async move {
            while let Ok(msg) = ws.recv().await {
                if msg.is_data() && ws.send(msg).await.is_err() {
                    break;
                }
            }
        },
    ));

    let dialer = dialer()
        .protocols(["chat.v1", "chat.v2", "other"])
        .compression(DeflateConfig::enabled());
    let hs = dial(&dialer, addr).await.expect("accepted");
    // The server's preference among those offered.
    assert_eq!(hs.subprotocol(), Some("chat.v2"));
    let agreed = hs.compression().expect("deflate agreed");
    assert!(agreed.server_no_context_takeover);
    assert!(!agreed.client_no_context_takeover);
    assert_eq!(agreed.client_max_window_bits, 11);
    assert_eq!(agreed.server_max_window_bits, 15);
    assert_eq!(
        hs.response().headers()["sec-websocket-extensions"],
        "permessage-deflate; server_no_context_takeover; client_max_window_bits=11"
    );
    assert!(hs.leftover().is_empty());

    // The stream is past the head: a masked text frame (a zero mask, short
    // enough to go uncompressed both ways) comes back as the server's frame.
    let (stream, _) = hs.into_inner();
    let mut stream = stream.into_inner();
    stream.write_all(b"\x81\x82\0\0\0\0hi").await.unwrap();
    let mut echo = [0u8; 4];
    tokio::time::timeout(BOUND, stream.read_exact(&mut echo))
        .await
        .expect("in time")
        .unwrap();
    assert_eq!(&echo, b"\x81\x02hi");
    server.abort();
}

#[tokio::test]
async fn each_deflate_offer_agrees_what_the_server_answered() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let upgrader = wsup_tokio::upgrader().compression(DeflateConfig::enabled());
    let server = tokio::spawn(wsup_tokio::serve(listener, upgrader, |_ws, _| async {}));
    let on = DeflateConfig::enabled;
    for (offer, answer, (server_bits, client_bits)) in [
        (on(), "permessage-deflate", (15, 15)),
        (
            on().server_max_window_bits(10).client_max_window_bits(9),
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
            (10, 9),
        ),
        (
            on().server_no_context_takeover(true)
                .client_no_context_takeover(true),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            (15, 15),
        ),
    ] {
        let nct = (
            offer.server_no_context_takeover,
            offer.client_no_context_takeover,
        );
        let hs = dial(&dialer().compression(offer), addr)
            .await
            .expect("accepted");
        assert_eq!(hs.response().headers()["sec-websocket-extensions"], answer);
        let agreed = hs.compression().expect("agreed");
        assert_eq!(
            (agreed.server_max_window_bits, agreed.client_max_window_bits),
            (server_bits, client_bits),
            "{answer}"
        );
        assert_eq!(
            (
                agreed.server_no_context_takeover,
                agreed.client_no_context_takeover
            ),
            nct,
            "{answer}"
        );
        assert_eq!(agreed.response_header(), answer);
    }
    server.abort();
}

#[tokio::test]
async fn a_server_without_compression_or_subprotocols_agrees_none() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(wsup_tokio::serve(
        listener,
        wsup_tokio::upgrader(),
        |_ws, _| async {},
    ));
    let dialer = dialer()
        .protocols(["chat"])
        .compression(DeflateConfig::enabled());
    let hs = dial(&dialer, addr).await.expect("accepted");
    assert_eq!(hs.subprotocol(), None);
    assert_eq!(hs.compression(), None);
    server.abort();
}

/// A raw TCP server that reads one request head and answers what `answer`
/// makes of the request's key; the dialer's outcome.
async fn against(answer: impl Fn(&str) -> Vec<u8> + Send + 'static) -> ClientError {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.unwrap() == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap()
            .to_owned();
        let _ = stream.write_all(&answer(&key)).await;
        // Hold the connection open: the dialer must not need the close.
        tokio::time::sleep(BOUND).await;
    });
    let dialer = dialer().handshake_timeout(Duration::from_secs(2));
    let result = dial(&dialer, addr).await;
    server.abort();
    result.expect_err("refused")
}

fn switching(accept: &str, extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn a_wrong_accept_key_is_refused() {
    let err = against(|_| switching("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "")).await;
    assert!(
        matches!(err, ClientError::InvalidResponse(why) if why.contains("Accept")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unasked_extension_is_refused() {
    let err = against(|key| {
        switching(
            &accept_key(key.as_bytes()),
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        )
    })
    .await;
    assert!(matches!(err, ClientError::UnofferedExtension(_)), "{err:?}");
}

#[tokio::test]
async fn a_huge_head_is_refused() {
    let err = against(|key| {
        let pad = format!("X-Pad: {}\r\n", "a".repeat(64 * 1024));
        switching(&accept_key(key.as_bytes()), &pad)
    })
    .await;
    assert!(matches!(err, ClientError::HeadTooLarge), "{err:?}");
}

#[tokio::test]
async fn a_refusal_keeps_its_status_and_body_though_the_connection_stays_open() {
    let err = against(|_| {
        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 9\r\nWWW-Authenticate: Bearer\r\n\r\nwho are u"
            .to_vec()
    })
    .await;
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    let response = err.response().unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_eq!(&response.body()[..], b"who are u");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let started = std::time::Instant::now();
    let err = against(|_| Vec::new()).await;
    assert!(
        matches!(err, ClientError::Timeout(d) if d == Duration::from_secs(2)),
        "{err:?}"
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
}
