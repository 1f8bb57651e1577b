//! What wsup logs, captured by a `tracing` subscriber: fields as an operator
//! filters on them (`status=405`, `code=1000`), in the connection's span.

use futures_executor::block_on;
use wsup_testkit::line_with;

use crate::message::Message;
use crate::upgrader::Upgrader;

type Mem = wsup_testkit::Mem;

/// Runs `f` with a subscriber at `level`; what it logged, one event a line.
fn logged(level: tracing::Level, f: impl FnOnce()) -> String {
    let out = wsup_testkit::LogBuffer::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(level)
        .with_ansi(false)
        .without_time()
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    out.text()
}

fn request(method: &str, extra: &str) -> Vec<u8> {
    format!(
        "{method} /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
    .into_bytes()
}

#[test]
fn a_refused_handshake_logs_its_status_and_reason_at_debug() {
    let text = logged(tracing::Level::DEBUG, || {
        let res = block_on(Upgrader::new().upgrade(Mem::new(request("POST", ""), 1024)));
        assert!(res.is_err());
    });
    line_with(
        &text,
        "websocket handshake refused",
        &["DEBUG", "status=405", "method not allowed"],
    );
}

#[test]
fn nothing_is_logged_at_info_for_a_refusal_or_a_normal_close() {
    let text = logged(tracing::Level::INFO, || {
        let u = Upgrader::new();
        let _ = block_on(u.upgrade(Mem::new(request("POST", ""), 1024)));
        let mut input = request("GET", "");
        input.extend(wsup_testkit::client_frame(
            0x8,
            true,
            &1000u16.to_be_bytes(),
        ));
        let mut ws = block_on(u.upgrade(Mem::new(input, 1024))).unwrap();
        assert!(matches!(block_on(ws.recv()), Ok(Message::Close(_))));
    });
    assert!(text.is_empty(), "{text}");
}

#[test]
fn a_close_logs_its_code_who_closed_and_the_counts_once_in_the_connection_s_span() {
    let text = logged(tracing::Level::DEBUG, || {
        let mut input = request("GET", "Sec-WebSocket-Protocol: chat\r\n");
        input.extend(wsup_testkit::client_frame(0x1, true, b"hello"));
        let mut close = 1001u16.to_be_bytes().to_vec();
        close.extend_from_slice(b"tab closed");
        input.extend(wsup_testkit::client_frame(0x8, true, &close));
        let u = Upgrader::new().subprotocols(["chat"]);
        let mut ws = block_on(u.upgrade(Mem::new(input, 1024))).unwrap();
        block_on(async {
            let msg = ws.recv().await.unwrap();
            ws.send(msg).await.unwrap();
            assert!(matches!(ws.recv().await, Ok(Message::Close(_))));
        });
        drop(ws);
    });
    line_with(
        &text,
        "websocket closed",
        &[
            "code=1001",
            "by=\"peer\"",
            "reason=\"tab closed\"",
            "messages_in=1",
            "bytes_in=5",
            "messages_out=1",
            "bytes_out=5",
            "duration=",
            "websocket{",
            "path=\"/chat\"",
            "subprotocol=\"chat\"",
        ],
    );
    assert!(!text.contains("dropped"), "{text}");
}

#[test]
fn a_protocol_error_logs_at_info_with_the_close_code_sent() {
    let text = logged(tracing::Level::INFO, || {
        let mut input = request("GET", "");
        // Unmasked: the server closes with 1002.
        input.extend(wsup_testkit::encode_frame(true, 0, 0x1, None, b"x"));
        let mut ws = block_on(Upgrader::new().upgrade(Mem::new(input, 1024))).unwrap();
        assert!(block_on(ws.recv()).unwrap_err().is_protocol());
    });
    line_with(
        &text,
        "websocket protocol error",
        &[" INFO ", "code=1002", "by=\"server\""],
    );
}

#[test]
fn a_connection_dropped_open_is_logged_with_the_peer_recorded_later() {
    let text = logged(tracing::Level::DEBUG, || {
        let ws = block_on(Upgrader::new().upgrade(Mem::new(request("GET", ""), 1024))).unwrap();
        ws.set_peer_addr("127.0.0.1:4000".parse().unwrap());
        drop(ws);
    });
    line_with(
        &text,
        "websocket dropped",
        &["code=1006", "by=\"none\"", "peer=127.0.0.1:4000"],
    );
}

/// The server's facts: a handler's panic at ERROR with the peer and the
/// panic's message; accept errors at the level their kind calls for;
/// shutdown's beginning and end at INFO, with the counts.
#[test]
fn the_server_logs_panics_accept_errors_and_shutdown() {
    let peer: std::net::SocketAddr = "127.0.0.1:4000".parse().unwrap();
    let text = logged(tracing::Level::INFO, || {
        let panic: Box<dyn std::any::Any + Send> = Box::new("boom");
        super::handler_panicked(peer, &*panic, None);
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        super::accept_failed(&reset, None, false);
        let full = std::io::Error::from_raw_os_error(24);
        super::accept_failed(&full, Some(std::time::Duration::from_millis(5)), false);
        super::shutdown_began(3);
        super::shutdown_done(2, 1, std::time::Duration::from_millis(40));
    });
    line_with(&text, "panicked", &["ERROR", "peer=127.0.0.1:4000", "boom"]);
    assert!(
        !text.contains("for one connection"),
        "a reset is below INFO: {text}"
    );
    line_with(&text, "out of resources", &["WARN", "pause=5ms"]);
    line_with(&text, "shutting down", &["open=3"]);
    line_with(&text, "server shut down", &["closed=2", "aborted=1"]);
}

#[test]
fn a_subprotocol_chosen_after_negotiation_is_the_one_logged() {
    let text = logged(tracing::Level::DEBUG, || {
        let head = request("GET", "Sec-WebSocket-Protocol: chat, graphql-ws\r\n");
        let parts = crate::handshake::parse_head(&head, &Default::default()).unwrap();
        let u = Upgrader::new().subprotocols(["chat"]);
        let mut accepted = u.negotiate(&parts).unwrap();
        accepted.set_subprotocol(Some("graphql-ws"));
        assert_eq!(accepted.subprotocol(), Some("graphql-ws"));
        assert_eq!(
            accepted.response().headers()["sec-websocket-protocol"],
            "graphql-ws"
        );
        let input = wsup_testkit::client_frame(0x8, true, &1000u16.to_be_bytes());
        let mut ws = accepted.into_websocket(Mem::new(input, 1024), bytes::Bytes::new());
        assert!(matches!(block_on(ws.recv()), Ok(Message::Close(_))));
    });
    line_with(&text, "websocket closed", &["subprotocol=\"graphql-ws\""]);
}
