//! The `echo` program as its users run it: flags on the command line, a cap
//! that answers 503, SIGTERM for a graceful shutdown that sends 1001 to
//! every connection and exits 0, and `wss://` with `--tls`.

#![cfg(unix)]

mod common;

use common::{connect, read_frame, wait_exit, Running};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

const REQUEST: &str = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

fn start(flags: &[&str]) -> (Running, String) {
    common::start(env!("CARGO_BIN_EXE_echo"), flags, true)
}

/// Sends the upgrade request and returns the response head.
fn handshake(addr: &str) -> (TcpStream, String) {
    let mut s = connect(addr);
    let head = upgrade(&mut s);
    (s, head)
}

/// Sends the upgrade request over `s` and returns the response head.
fn upgrade(s: &mut (impl Read + Write)) -> String {
    s.write_all(REQUEST.as_bytes()).unwrap();
    wsup_testkit::read_head(s)
}

#[test]
fn a_cap_answers_503_and_sigterm_closes_with_1001_then_exits_0() {
    cap_then_sigterm(&[]);
}

/// The same behind hyper: the server's cap and shutdown hold for
/// connections it hands to an HTTP server.
#[test]
fn behind_hyper_a_cap_answers_503_and_sigterm_closes_with_1001_then_exits_0() {
    cap_then_sigterm(&["--hyper"]);
}

fn cap_then_sigterm(extra: &[&str]) {
    let mut flags = vec!["--max-connections=1", "--shutdown-timeout", "5"];
    flags.extend_from_slice(extra);
    let (mut echo, addr) = start(&flags);
    let (mut first, head) = handshake(&addr);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // An echo first: the connection is served.
    first
        .write_all(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i'])
        .unwrap();
    assert_eq!(read_frame(&mut first), (0x81, b"hi".to_vec()));

    let (_, refused) = handshake(&addr);
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after:"),
        "{refused}"
    );

    let kill = Command::new("kill")
        .args(["-TERM", &echo.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let (op, payload) = read_frame(&mut first);
    assert_eq!(op, 0x88, "a close frame");
    assert_eq!(&payload[..2], &1001u16.to_be_bytes(), "going away");
    // Answer the close (masked, empty key), so the connection closes cleanly.
    first
        .write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe9])
        .unwrap();

    let status = wait_exit(&mut echo.0, Duration::from_secs(10));
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    echo.0
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .unwrap();
    // The refused client's task may still be draining at the signal, and
    // counts then: one or two closed, none aborted.
    assert!(
        stderr.contains("shut down: 1 connections closed, 0 aborted")
            || stderr.contains("shut down: 2 connections closed, 0 aborted"),
        "{stderr}"
    );
}

#[test]
fn a_peer_that_never_answers_is_aborted_at_the_shutdown_timeout_and_echo_still_exits_0() {
    let (mut echo, addr) = start(&["--shutdown-timeout=0.3"]);
    let (_silent, head) = handshake(&addr);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let started = Instant::now();
    Command::new("kill")
        .args(["-INT", &echo.0.id().to_string()])
        .status()
        .expect("kill");
    let status = wait_exit(&mut echo.0, Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn the_message_limit_flag_closes_with_1009_past_it_and_socket_buffers_serve_as_usual() {
    let (_echo, addr) = start(&["--max-message", "100", "--socket-buffer=8192"]);
    let (mut s, head) = handshake(&addr);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&common::frame(0x2, &[7; 100])).unwrap();
    assert_eq!(read_frame(&mut s), (0x82, vec![7; 100]));
    s.write_all(&common::frame(0x2, &[7; 101])).unwrap();
    let (first, payload) = read_frame(&mut s);
    assert_eq!(first, 0x88);
    assert_eq!(payload[..2], 1009u16.to_be_bytes());
}

#[test]
fn flags_are_checked() {
    let out = Command::new(env!("CARGO_BIN_EXE_echo"))
        .args(["127.0.0.1:0", "--keepalive", "soon"])
        .output()
        .expect("run echo");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: echo"));
}

#[test]
fn serves_wss_with_the_tls_flag() {
    use rustls::pki_types::ServerName;

    let certs = wsup_testkit::certs::TestCerts::generate();
    let (cert, key) = (
        wsup_testkit::certs::PemFile::new("cert.pem", &certs.cert_pem),
        wsup_testkit::certs::PemFile::new("key.pem", &certs.key_pem),
    );
    let (_echo, addr) = start(&["--tls", cert.arg(), key.arg()]);

    let name = ServerName::try_from("localhost").unwrap();
    let client = rustls::ClientConnection::new(certs.client_config(), name).unwrap();
    let mut tls = rustls::StreamOwned::new(client, connect(&addr));

    let head = upgrade(&mut tls);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let text = wsup_testkit::client_frame(wsup_testkit::OP_TEXT, true, b"hello over wss");
    tls.write_all(&text).unwrap();
    assert_eq!(read_frame(&mut tls), (0x81, b"hello over wss".to_vec()));
}

#[test]
fn a_bad_tls_file_is_named_before_listening() {
    let key = wsup_testkit::certs::PemFile::new("not-a-key.pem", "not pem at all\n");
    let out = Command::new(env!("CARGO_BIN_EXE_echo"))
        .args(["127.0.0.1:0", "--tls", key.arg(), key.arg()])
        .output()
        .expect("run echo");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "it must not listen");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("echo: --tls: ")
            && stderr.contains("not-a-key.pem: no certificate found"),
        "{stderr}"
    );
}
