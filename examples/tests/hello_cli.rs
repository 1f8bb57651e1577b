//! The `hello` program (hyper + wsup) and `hello-axum` as their users run
//! them: plain HTTP with keep-alive, `HEAD`, 404 and 405, then `/ws`
//! upgraded on the same connection, over TLS too (`--tls`); SIGTERM
//! closes the WebSocket with 1001 and the program exits 0.

#![cfg(unix)]

mod common;

use common::{connect, frame, read_frame, send_signal, wait_exit, Running};

use std::io::{Read, Write};
use std::time::Duration;

fn start(program: &str) -> (Running, String) {
    common::start(program, &[], false)
}

fn start_with(program: &str, flags: &[&str]) -> (Running, String) {
    common::start(program, flags, false)
}

/// One response: its head (lowercased) and its body (by Content-Length,
/// none for HEAD).
fn response(s: &mut impl Read, head_only: bool) -> (String, Vec<u8>) {
    let head = wsup_testkit::read_whole_head(s).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0; if head_only { 0 } else { len }];
    s.read_exact(&mut body).unwrap();
    (head, body)
}

fn get(s: &mut (impl Read + Write), method: &str, path: &str) -> (String, Vec<u8>) {
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    response(s, method == "HEAD")
}

const UPGRADE: &str = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

/// Plain requests on one keep-alive connection, then the upgrade on it,
/// then an echo; returns the WebSocket.
fn http_then_websocket<S: Read + Write>(mut s: S, refused_post: bool) -> S {
    let (head, body) = get(&mut s, "GET", "/");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, b"Hello World");
    let (head, body) = get(&mut s, "HEAD", "/");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(body.is_empty());
    let (head, _) = get(&mut s, "GET", "/nowhere");
    assert!(head.starts_with("http/1.1 404"), "{head}");
    if refused_post {
        let (head, _) = get(&mut s, "POST", "/");
        assert!(head.starts_with("http/1.1 405"), "{head}");
        assert!(head.contains("allow: get, head"), "{head}");
    }
    s.write_all(UPGRADE.as_bytes()).unwrap();
    let (head, _) = response(&mut s, true);
    assert!(head.starts_with("http/1.1 101"), "{head}");
    s.write_all(&frame(0x1, b"hi there")).unwrap();
    assert_eq!(read_frame(&mut s), (0x81, b"hi there".to_vec()));
    s
}

#[test]
fn hello_serves_http_and_websocket_and_shuts_down_with_1001() {
    let (mut running, addr) = start(env!("CARGO_BIN_EXE_hello"));
    let mut ws = http_then_websocket(connect(&addr), true);
    sigterm_closes_with_1001(&mut running, &mut ws);
}

/// SIGTERM: the WebSocket `ws` is told 1001; answering it lets the program
/// end at once, with status 0.
fn sigterm_closes_with_1001(running: &mut Running, ws: &mut (impl Read + Write)) {
    send_signal(running.0.id(), "TERM");
    let (op, payload) = read_frame(ws);
    assert_eq!(op, 0x88, "a close frame");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1001);
    ws.write_all(&frame(0x8, &payload[..2])).unwrap();
    let status = wait_exit(&mut running.0, Duration::from_secs(10));
    assert!(status.success(), "{status}");
}

#[cfg(feature = "runtime-tokio")]
#[test]
fn hello_axum_serves_http_and_websocket_and_shuts_down_with_1001() {
    let (mut running, addr) = start(env!("CARGO_BIN_EXE_hello-axum"));
    let mut ws = http_then_websocket(connect(&addr), false);
    ws.write_all(&frame(0x2, &[1, 2, 3])).unwrap();
    assert_eq!(read_frame(&mut ws), (0x82, vec![1, 2, 3]));
    // The WebSocket, upgraded by the extractor, is attached to the
    // server's shutdown.
    sigterm_closes_with_1001(&mut running, &mut ws);
}

#[cfg(feature = "runtime-tokio")]
#[test]
fn hello_axum_serves_https_and_wss_with_the_tls_flag() {
    over_tls(env!("CARGO_BIN_EXE_hello-axum"), false);
}

#[test]
fn hello_serves_https_and_wss_with_the_tls_flag() {
    over_tls(env!("CARGO_BIN_EXE_hello"), true);
}

/// `program --tls` with certificates made for the test: plain requests
/// and then a WebSocket on one TLS connection, trusting the test's CA.
fn over_tls(program: &str, refused_post: bool) {
    use rustls::pki_types::ServerName;
    use wsup_testkit::certs::{PemFile, TestCerts};

    let certs = TestCerts::generate();
    // PemFile names are unique: the tests of this file run side by side.
    let (cert, key) = (
        PemFile::new("cert.pem", &certs.cert_pem),
        PemFile::new("key.pem", &certs.key_pem),
    );
    let (_running, addr) = start_with(program, &["--tls", cert.arg(), key.arg()]);
    let name = ServerName::try_from("localhost").unwrap();
    let client = rustls::ClientConnection::new(certs.client_config(), name).unwrap();
    let tls = rustls::StreamOwned::new(client, connect(&addr));
    let mut ws = http_then_websocket(tls, refused_post);
    ws.write_all(&frame(0x1, b"over tls")).unwrap();
    assert_eq!(read_frame(&mut ws), (0x81, b"over tls".to_vec()));
}

/// `hello-raw` (wsup alone, no HTTP library): its plain answer, then an
/// upgrade on a new connection.
#[test]
fn hello_raw_answers_and_upgrades() {
    let (_running, addr) = start(env!("CARGO_BIN_EXE_hello-raw"));
    let mut s = connect(&addr);
    let (head, body) = get(&mut s, "GET", "/");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, b"Hello World");
    let (mut ws, head) = upgrade(&addr);
    assert!(head.starts_with("http/1.1 101"), "{head}");
    ws.write_all(&frame(0x1, b"raw")).unwrap();
    assert_eq!(read_frame(&mut ws), (0x81, b"raw".to_vec()));
}

/// A new connection that sends the upgrade request: it and the response
/// head.
fn upgrade(addr: &str) -> (std::net::TcpStream, String) {
    let mut s = connect(addr);
    s.write_all(UPGRADE.as_bytes()).unwrap();
    let (head, _) = response(&mut s, true);
    (s, head)
}

/// hello-axum's WebSockets count against its cap while they are open:
/// the connection's task lasts as long as they do.
#[cfg(feature = "runtime-tokio")]
#[test]
fn hello_axum_counts_its_websockets_against_the_cap() {
    let (_running, addr) = start_with(env!("CARGO_BIN_EXE_hello-axum"), &["--max-connections=1"]);
    let (mut first, head) = upgrade(&addr);
    assert!(head.starts_with("http/1.1 101"), "{head}");
    let (_second, head) = upgrade(&addr);
    assert!(head.starts_with("http/1.1 503"), "{head}");
    // The first still echoes.
    first.write_all(&frame(0x1, b"still here")).unwrap();
    assert_eq!(read_frame(&mut first), (0x81, b"still here".to_vec()));
}

/// hello-axum takes WebSockets over HTTP/2 (RFC 8441's extended CONNECT).
#[cfg(feature = "runtime-tokio")]
#[test]
fn hello_axum_takes_websockets_over_http2() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (_running, addr) = start(env!("CARGO_BIN_EXE_hello-axum"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let origin = format!("http://{addr}");
        let addr = addr.parse().unwrap();
        let mut ws = wsup_testkit::h2::websocket(addr, "/ws", &[("origin", &origin)]).await;
        ws.write_all(&frame(0x1, b"over h2")).await.unwrap();
        let mut echo = [0u8; 9];
        tokio::time::timeout(Duration::from_secs(10), ws.read_exact(&mut echo))
            .await
            .expect("an echo within 10 s")
            .unwrap();
        assert_eq!(&echo, b"\x81\x07over h2");
    });
}
