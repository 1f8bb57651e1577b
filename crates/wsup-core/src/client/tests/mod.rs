//! Unit tests of the client's handshake over the in-memory transport, one
//! file per side: the request written, the responses read.

mod request;
mod response;

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Uri;
use wsup_testkit::Mem;

use super::{ClientError, Dialer, Handshake};
use crate::runtime::{BoxTask, Runtime, Sleep};

/// RFC 6455's example key and its accept value.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A runtime whose timers ring at once: a handshake that has to wait for
/// input times out.
#[derive(Debug)]
struct RingsAtOnce;

impl Runtime for RingsAtOnce {
    fn sleep(&self, _: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(std::future::ready(()))
    }

    fn spawn(&self, _: BoxTask) {}
}

fn uri(s: &str) -> Uri {
    s.parse().unwrap()
}

/// Runs `dialer`'s handshake with [`KEY`] against a peer that answers
/// `input` in reads of `chunk` bytes: the outcome, and what was written.
fn dial_in_chunks(
    dialer: &Dialer,
    url: &str,
    input: &[u8],
    chunk: usize,
) -> (Result<Handshake<Mem>, ClientError>, Vec<u8>) {
    let mut mem = Mem::new(input.to_vec(), chunk);
    let far = Instant::now() + Duration::from_secs(3600);
    let result =
        futures_executor::block_on(dialer.handshake_with_key(&mut mem, &uri(url), KEY, far));
    // The handshake holds `&mut mem`: keep what it kept, as owned values.
    let result = result.map(|h| Handshake {
        io: Mem::new(Vec::new(), 1),
        leftover: h.leftover,
        response: h.response,
        protocol: h.protocol,
        deflate: h.deflate,
        config: h.config,
        runtime: h.runtime,
    });
    (result, mem.output)
}

fn dial(dialer: &Dialer, input: &str) -> Result<Handshake<Mem>, ClientError> {
    dial_in_chunks(dialer, "ws://example.com/chat", input.as_bytes(), 4096).0
}

/// A valid 101 for [`KEY`], with `extra` header lines.
fn switching(extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {ACCEPT}\r\n{extra}\r\n"
    )
}

fn with_runtime() -> Dialer {
    Dialer::new().runtime(Arc::new(RingsAtOnce))
}
