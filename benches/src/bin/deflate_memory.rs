//! Memory held per connection with permessage-deflate on, with and without
//! context takeover, against compression off as the baseline.
//!
//! Each mode runs in its own process (so freed memory of one mode does not
//! flatter the next): it opens N in-memory connections, has each receive one
//! compressed message and send one, keeps them all open, and reports the
//! growth of VmRSS divided by N. Usage: `deflate_memory [N]`.

use std::process::Command;

use futures_executor::block_on;
use wsup_benches::{text_payload, Replay};
use wsup_core::deflate::{negotiate, parse_offers, DeflateConfig, Deflater, INFLATE_STEP};
use wsup_core::{Message, Upgrader, WebSocket};
use wsup_testkit::{client_frame, encode_frame, MASK, OP_TEXT, RSV1};

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn run_mode(mode: &str, n: usize) {
    let text = text_payload(4096);
    let (offer, config) = match mode {
        "off" => ("", DeflateConfig::disabled()),
        "takeover" => ("permessage-deflate", DeflateConfig::enabled()),
        _ => (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            DeflateConfig::enabled(),
        ),
    };
    // The client's message, compressed as a client would.
    let input: &'static [u8] = if offer.is_empty() {
        Box::leak(client_frame(OP_TEXT, true, text.as_bytes()).into_boxed_slice())
    } else {
        let mut c = Deflater::new(1, 15, true);
        let mut p = bytes::BytesMut::new();
        c.compress(text.as_bytes(), &mut p);
        let f = encode_frame(true, RSV1, OP_TEXT, Some(MASK), &p);
        Box::leak(f.into_boxed_slice())
    };
    let upgrader = Upgrader::new().compression(config.clone());
    let request = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{}\r\n",
        if offer.is_empty() { String::new() } else { format!("Sec-WebSocket-Extensions: {offer}\r\n") }
    );
    assert!(offer.is_empty() || negotiate(&parse_offers(&[offer]), &config).is_some());
    let before = rss_kib();
    let mut conns: Vec<WebSocket<Replay<'static>>> = Vec::with_capacity(n);
    for _ in 0..n {
        let head = wsup_core::handshake::parse_head(request.as_bytes(), &Default::default())
            .expect("valid");
        let mut accepted = upgrader.negotiate(&head).expect("accepted");
        let _ = accepted.take_response();
        let mut ws =
            accepted.into_websocket(Replay::new(input, 64 * 1024), wsup_core::Bytes::new());
        block_on(async {
            let msg = ws.recv().await.expect("message");
            assert!(matches!(msg, Message::Text(_)));
            ws.send(msg).await.expect("send");
        });
        conns.push(ws);
    }
    let after = rss_kib();
    let per = (after.saturating_sub(before)) as f64 * 1024.0 / n as f64;
    println!("{mode:<24} {n} connections: {:>9.0} bytes of RSS each", per);
    drop(conns);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if let Some(mode) = first.as_deref().and_then(|a| a.strip_prefix("--mode=")) {
        let n = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
        return run_mode(mode, n);
    }
    let n: usize = first.and_then(|a| a.parse().ok()).unwrap_or(2000);
    println!("one 4 KiB text message received and echoed per connection; inflate step {INFLATE_STEP} bytes");
    let exe = std::env::current_exe().expect("own path");
    for mode in ["off", "takeover", "no_context_takeover"] {
        let status = Command::new(&exe)
            .arg(format!("--mode={mode}"))
            .arg(n.to_string())
            .status()
            .expect("run mode");
        assert!(status.success(), "mode {mode} failed");
    }
}
