//! The `WebSocketUpgrade` extractor in an axum 0.8 router served by
//! `axum::serve` on 127.0.0.1, against async-tungstenite and raw clients.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::Message as TMessage;
use axum::extract::FromRef;
use axum::response::Response;
use axum::routing::{any, get};
use axum::Router;
use futures_util::StreamExt;
use wsup_axum::WebSocketUpgrade;
use wsup_core::deflate::DeflateConfig;
use wsup_core::Upgrader;

/// An application state holding the upgrader among other things.
#[derive(Clone)]
struct AppState {
    upgrader: Arc<Upgrader>,
    greeting: &'static str,
}

impl FromRef<AppState> for Arc<Upgrader> {
    fn from_ref(state: &AppState) -> Self {
        state.upgrader.clone()
    }
}

async fn echo(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(|mut ws| async move {
        while let Ok(msg) = ws.recv().await {
            if msg.is_data() && ws.send(msg).await.is_err() {
                break;
            }
        }
    })
}

/// Says which subprotocol the connection got, then echoes.
async fn graphql(upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .on_upgrade(|mut ws| async move {
            let protocol = ws.subprotocol().unwrap_or("none").to_owned();
            let _ = ws.send(wsup_core::Message::text(protocol)).await;
            while let Ok(msg) = ws.recv().await {
                if msg.is_data() && ws.send(msg).await.is_err() {
                    break;
                }
            }
        })
}

/// Serves the app on a free port, in the test's runtime.
async fn serve(upgrader: Upgrader) -> SocketAddr {
    let state = AppState {
        upgrader: Arc::new(upgrader),
        greeting: "Hello World",
    };
    let app = Router::new()
        .route(
            "/",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move { s.greeting },
            ),
        )
        .route("/ws", get(echo))
        .route("/any", any(echo))
        .route("/graphql", get(graphql))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn upgrader() -> Upgrader {
    wsup_tokio::upgrader()
        .subprotocols(["chat"])
        .compression(DeflateConfig::enabled().threshold(0))
}

#[tokio::test]
async fn echoes_through_axum_with_the_subprotocols_of_the_handler() {
    let addr = serve(upgrader()).await;
    let (mut ws, _) = async_tungstenite::tokio::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    for i in 0..10 {
        let msg = TMessage::text(format!("message {i}"));
        ws.send(msg.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), msg);
    }
    ws.send(TMessage::binary(vec![9u8; 100_000])).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        TMessage::binary(vec![9u8; 100_000])
    );
    ws.close(None).await.unwrap();

    // The handler's `protocols` replaces the upgrader's ("chat").
    let mut req = format!("ws://{addr}/graphql")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "chat, graphql-ws".parse().unwrap(),
    );
    let (mut ws, res) = async_tungstenite::tokio::connect_async(req).await.unwrap();
    assert_eq!(
        res.headers().get("sec-websocket-protocol").unwrap(),
        "graphql-ws"
    );
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        TMessage::text("graphql-ws")
    );
}

/// A raw client: a blocking socket with a read timeout.
fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn read_head(s: &mut TcpStream) -> String {
    wsup_testkit::read_whole_head(s)
}

fn upgrade_request(addr: SocketAddr, path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn the_upgraders_checks_answer_through_axum() {
    let addr = serve(upgrader()).await;
    tokio::task::spawn_blocking(move || {
        // Another site's page: refused by the default same-origin policy,
        // before the handler runs.
        let mut s = connect(addr);
        let req = upgrade_request(addr, "/ws", "Origin: http://evil.example\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let head = read_head(&mut s);
        assert!(head.starts_with("HTTP/1.1 403"), "{head}");

        // A plain GET on the WebSocket route: 400 from the upgrader (no
        // `Connection: upgrade`).
        let mut s = connect(addr);
        s.write_all(format!("GET /ws HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
            .unwrap();
        let head = read_head(&mut s);
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");

        // None of the handler's subprotocols offered: none selected, the
        // upgrader's ("chat") not used either.
        let mut s = connect(addr);
        let req = upgrade_request(addr, "/graphql", "Sec-WebSocket-Protocol: chat\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let head = read_head(&mut s).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 101"), "{head}");
        assert!(!head.contains("sec-websocket-protocol"), "{head}");

        // A keep-alive request to another route, then an upgrade with
        // compression on the same connection.
        let mut s = connect(addr);
        s.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
            .unwrap();
        let head = read_head(&mut s);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let mut body = [0u8; 11];
        s.read_exact(&mut body).unwrap();
        assert_eq!(&body, b"Hello World");
        let offer = "Sec-WebSocket-Extensions: permessage-deflate\r\n";
        s.write_all(upgrade_request(addr, "/ws", offer).as_bytes())
            .unwrap();
        let head = read_head(&mut s).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 101"), "{head}");
        assert!(
            head.contains("sec-websocket-extensions: permessage-deflate"),
            "{head}"
        );
        assert!(
            head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
            "{head}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn keepalive_pings_come_from_the_upgraders_settings() {
    // A client that never answers: with a 300 ms keepalive the server
    // pings, then drops it.
    let addr = serve(
        Upgrader::new()
            .keepalive_interval(Some(Duration::from_millis(300)))
            .keepalive_timeout(Duration::from_millis(300)),
    )
    .await;
    tokio::task::spawn_blocking(move || {
        let mut s = connect(addr);
        s.write_all(upgrade_request(addr, "/ws", "").as_bytes())
            .unwrap();
        assert!(read_head(&mut s).starts_with("HTTP/1.1 101"));
        // Bare Upgrader::new(): the extractor gives it tokio's timers.
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => panic!("the silent client was not dropped: {e} (got {got:?})"),
            }
        }
        assert_eq!(got.first(), Some(&0x89), "a ping first: {got:?}");
    })
    .await
    .unwrap();
}

/// A route on `any` method takes HTTP/1.1 upgrades and HTTP/2's extended
/// CONNECT (RFC 8441) alike; axum's server enables the latter.
#[tokio::test]
async fn websockets_over_http2_through_axum() {
    use tokio::io::AsyncWriteExt;

    let addr = serve(upgrader()).await;
    let mut stream = wsup_testkit::h2::websocket(addr, "/any", &[]).await;
    stream
        .write_all(&wsup_testkit::client_frame(
            wsup_testkit::OP_BINARY,
            true,
            b"h2",
        ))
        .await
        .unwrap();
    let frame = wsup_testkit::h2::read_frame(&mut stream, &mut Vec::new()).await;
    assert_eq!(
        (frame.opcode, frame.payload),
        (wsup_testkit::OP_BINARY, b"h2".to_vec())
    );
}
