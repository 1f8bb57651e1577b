//! `wsup-cat` as its users run it: lines in and out against the `echo`
//! example, headers and subprotocols that reach the server, `wss://` with
//! a CA given by `--cacert` (and refused without it), and a server's
//! abnormal close reported with a non-zero exit.

#![cfg(unix)]

mod common;

use common::{wait_exit, Running};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use wsup::handshake::accept_key;
use wsup_testkit::certs::{PemFile, TestCerts};
use wsup_testkit::{server_frame, OP_CLOSE, OP_TEXT};

/// Each run of `wsup-cat` must be over within this.
const RUN_LIMIT: Duration = Duration::from_secs(20);

fn start_echo(flags: &[&str]) -> (Running, String) {
    common::start(env!("CARGO_BIN_EXE_echo"), flags, false)
}

/// Starts `wsup-cat ARGS` with its three streams piped.
fn spawn_cat(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_wsup-cat"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsup-cat")
}

/// Runs `wsup-cat ARGS` with `input` on its standard input (then closed)
/// and returns how it ended, bounded by [`RUN_LIMIT`].
fn run_cat(args: &[&str], input: &str) -> Output {
    let mut child = spawn_cat(args);
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    finish(child)
}

/// Waits for `child` (at most [`RUN_LIMIT`], killed past it) and
/// collects its output (small: the pipes hold it until the end).
fn finish(child: Child) -> Output {
    let mut running = Running(child);
    let status = wait_exit(&mut running.0, RUN_LIMIT);
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    if let Some(mut pipe) = running.0.stdout.take() {
        pipe.read_to_end(&mut stdout).expect("read stdout");
    }
    if let Some(mut pipe) = running.0.stderr.take() {
        pipe.read_to_end(&mut stderr).expect("read stderr");
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// wsup-cat exited with 0.
#[track_caller]
fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        text(&out.stderr)
    );
}

/// wsup-cat exited with `code`, saying each of `said` on stderr.
#[track_caller]
fn exits_with(out: &Output, code: i32, said: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    for what in said {
        assert!(stderr.contains(what), "no {what:?} in {stderr}");
    }
}

#[test]
fn lines_in_are_echoed_as_lines_out_and_a_normal_close_exits_0() {
    let (_echo, addr) = start_echo(&[]);
    let input = "first line\nsecond, with ünicode\n\nlast\n";
    let out = run_cat(&[&format!("ws://{addr}/")], input);
    succeeded(&out);
    assert_eq!(text(&out.stdout), input);
}

/// The same without compression offered: the plain path through the
/// client's masking.
#[test]
fn no_compress_echoes_too() {
    let (_echo, addr) = start_echo(&[]);
    let out = run_cat(&[&format!("ws://{addr}"), "--no-compress"], "a\nb\n");
    succeeded(&out);
    assert_eq!(text(&out.stdout), "a\nb\n");
}

/// A server on a thread: accepts one connection, reads its request head,
/// answers `101` (choosing `protocol` if given), then runs `then` on the
/// stream. Returns its address and the request head.
fn raw_server(
    protocol: Option<&'static str>,
    then: impl FnOnce(&mut TcpStream) + Send + 'static,
) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(RUN_LIMIT)).unwrap();
        let head = wsup_testkit::read_head(&mut s);
        let key = wsup_testkit::header(&head, "sec-websocket-key")
            .expect("a Sec-WebSocket-Key")
            .to_owned();
        let mut answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n",
            accept_key(key.as_bytes())
        );
        if let Some(p) = protocol {
            answer.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
        }
        answer.push_str("\r\n");
        s.write_all(answer.as_bytes()).unwrap();
        then(&mut s);
        head
    });
    (addr, server)
}

/// Reads until the client's close frame (masked, payload under 126
/// bytes) and returns its payload, unmasked.
fn read_client_close(s: &mut TcpStream) -> Vec<u8> {
    loop {
        let mut h = [0u8; 2];
        s.read_exact(&mut h).expect("a frame header");
        assert_eq!(h[1] & 0x80, 0x80, "a client frame is masked");
        let len = usize::from(h[1] & 0x7f);
        assert!(len < 126, "a short frame");
        let mut mask = [0u8; 4];
        s.read_exact(&mut mask).unwrap();
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).unwrap();
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
        if h[0] & 0x0f == OP_CLOSE {
            return payload;
        }
    }
}

/// Closes as a server does after the closing handshake: writes the close
/// frame, waits for the client's, then ends the TCP connection.
fn close_with(s: &mut TcpStream, code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    s.write_all(&server_frame(OP_CLOSE, true, &payload))
        .unwrap();
    read_client_close(s)
}

#[test]
fn headers_and_subprotocols_reach_the_server() {
    let (addr, server) = raw_server(Some("chat.v2"), |s| {
        s.write_all(&server_frame(OP_TEXT, true, b"welcome"))
            .unwrap();
        close_with(s, 1000, "");
    });
    // Standard input stays open: the server's close ends the run.
    let cat = spawn_cat(&[
        &format!("ws://{addr}/room?x=1"),
        "-H",
        "X-Token: abc 123",
        "--header",
        "Cookie:  session=s1",
        "--protocol",
        "chat.v1",
        "--protocol",
        "chat.v2",
    ]);
    let out = finish(cat);
    let head = server.join().expect("the server");
    succeeded(&out);
    assert_eq!(text(&out.stdout), "welcome\n");
    assert!(head.starts_with("GET /room?x=1 HTTP/1.1\r\n"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("\r\nx-token: abc 123\r\n"), "{head}");
    assert!(lower.contains("\r\ncookie: session=s1\r\n"), "{head}");
    assert!(
        lower.contains("\r\nsec-websocket-protocol: chat.v1, chat.v2\r\n"),
        "{head}"
    );
    // Compression is offered unless --no-compress.
    assert!(lower.contains("permessage-deflate"), "{head}");
}

#[test]
fn a_header_that_is_not_name_colon_value_is_a_usage_error() {
    let out = run_cat(&["ws://127.0.0.1:9/", "-H", "no colon"], "");
    exits_with(&out, 2, &["usage: wsup-cat"]);
    let out = run_cat(&["ws://127.0.0.1:9/", "-H", "bad name: v"], "");
    exits_with(&out, 1, &["header name"]);
}

#[test]
fn a_server_closing_with_1011_is_reported_with_a_non_zero_exit() {
    let (addr, server) = raw_server(None, |s| {
        let echoed = close_with(s, 1011, "backend down");
        // The client answers with the code (RFC 6455 5.5.1).
        assert_eq!(echoed[..2], 1011u16.to_be_bytes());
    });
    let start = Instant::now();
    let out = finish(spawn_cat(&[&format!("ws://{addr}")]));
    server.join().expect("the server");
    exits_with(&out, 1, &["1011", "backend down"]);
    // The server ended the TCP connection: no wait for a close timeout.
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn wss_with_the_ca_given_by_cacert_and_refused_without_it() {
    let certs = TestCerts::generate();
    let (cert, key, ca) = (
        PemFile::new("cert.pem", &certs.cert_pem),
        PemFile::new("key.pem", &certs.key_pem),
        PemFile::new("ca.pem", &certs.ca_pem),
    );
    let (_echo, addr) = start_echo(&["--tls", cert.arg(), key.arg()]);
    let port = addr.rsplit_once(':').expect("a port").1;

    // By name and by IP address: the certificate names both.
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("wss://{host}:{port}/");
        let out = run_cat(&[&url, "--cacert", ca.arg()], "over tls\n");
        assert!(out.status.success(), "{url}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "over tls\n");
    }

    // Without --cacert, the platform's roots do not know the test CA.
    let url = format!("wss://localhost:{port}/");
    let out = run_cat(&[&url], "never sent\n");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.to_ascii_lowercase().contains("tls"), "{stderr}");

    // A CA file that is not PEM is named.
    let junk = PemFile::new("junk.pem", "not a certificate\n");
    let out = run_cat(&[&url, "--cacert", junk.arg()], "");
    exits_with(&out, 1, &["--cacert"]);
}

#[test]
fn a_refused_connection_exits_non_zero() {
    let closed = wsup_testkit::tcp::closed_port();
    let port = closed.port();
    let out = run_cat(&[&format!("ws://127.0.0.1:{port}")], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("wsup-cat: "),
        "{}",
        text(&out.stderr)
    );
}

/// Lines and what the server sends interleave: a line typed after a
/// message arrived still goes out, and the echo comes back before the end.
#[test]
fn input_and_output_interleave() {
    let (_echo, addr) = start_echo(&[]);
    let mut cat = spawn_cat(&[&format!("ws://{addr}")]);
    let mut stdin = cat.stdin.take().unwrap();
    let mut stdout = BufReader::new(cat.stdout.take().unwrap());
    for word in ["one", "two", "three"] {
        writeln!(stdin, "{word}").unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).expect("an echo");
        assert_eq!(line, format!("{word}\n"));
    }
    drop(stdin);
    let mut running = Running(cat);
    let status = wait_exit(&mut running.0, RUN_LIMIT);
    assert!(status.success(), "{status:?}");
}
