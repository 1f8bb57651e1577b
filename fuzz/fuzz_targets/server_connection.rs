//! The server's connection fed arbitrary bytes as the client's frames, in
//! reads cut at arbitrary points, with the application's calls (receive
//! whole, in chunks or streaming; send, feed, flush, close, relay, write
//! in pieces) interleaved as the input says; with permessage-deflate
//! agreed through an `Upgrader`'s handshake over the same stream, or
//! without, from `WebSocket::from_raw` with part of the bytes as what was
//! read past the head. Never a panic; messages within the limits; frames
//! written well formed and unmasked.
#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wsup_core::deflate::DeflateConfig;
use wsup_core::{Role, Upgrader, WebSocket};
use wsup_fuzz::ops::{self, Limits, Op};
use wsup_fuzz::script::Script;
use wsup_fuzz::{poll_some, settings};

#[derive(Arbitrary, Debug)]
struct Input {
    /// permessage-deflate: the client's offer and the server's config
    /// (first, so that a seed's first settings byte turns it on).
    deflate: Option<Deflate>,
    limits: Limits,
    /// Without deflate: how many of the bytes come as the leftover.
    leftover: u16,
    reads: Vec<u16>,
    writes: Vec<u16>,
    hang: bool,
    polls: u8,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug)]
struct Deflate {
    /// What the client offers.
    client_no_context_takeover: bool,
    server_no_context_takeover: bool,
    client_bits: Option<u8>,
    server_bits: Option<u8>,
    /// The server's settings.
    level: u8,
    threshold: u16,
    server_limits: (bool, bool, u8, u8),
}

impl Deflate {
    fn offer(&self) -> String {
        let mut h = String::from("permessage-deflate");
        if self.client_no_context_takeover {
            h.push_str("; client_no_context_takeover");
        }
        if self.server_no_context_takeover {
            h.push_str("; server_no_context_takeover");
        }
        match self.client_bits {
            Some(b) if b % 8 == 0 => h.push_str("; client_max_window_bits"),
            Some(b) => h.push_str(&format!("; client_max_window_bits={}", 15 - b % 8)),
            None => {}
        }
        if let Some(b) = self.server_bits {
            h.push_str(&format!("; server_max_window_bits={}", 15 - b % 7));
        }
        h
    }

    fn config(&self) -> DeflateConfig {
        let (snct, cnct, sbits, cbits) = self.server_limits;
        DeflateConfig::enabled()
            .level((u32::from(self.level) + 1) % 10)
            .threshold(usize::from(self.threshold))
            .server_no_context_takeover(snct)
            .client_no_context_takeover(cnct)
            .server_max_window_bits(15 - sbits % 7)
            .client_max_window_bits(15 - cbits % 7)
    }
}

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fuzz_target!(|data: &[u8]| {
    let Some((input, wire)) = settings::<Input>(data) else {
        return;
    };
    let config = input.limits.config();
    let (ws, out_start) = match &input.deflate {
        None => {
            let cut = usize::from(input.leftover).min(wire.len());
            let leftover = Bytes::copy_from_slice(&wire[..cut]);
            let mut io = Script::new(wire[cut..].to_vec(), input.reads, input.writes);
            io.hang = input.hang;
            (WebSocket::from_raw(io, Role::Server, leftover, config, None), 0)
        }
        Some(deflate) => {
            let head = format!(
                "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n\
                 Sec-WebSocket-Extensions: {}\r\n\r\n",
                deflate.offer()
            );
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(wire);
            let mut io = Script::new(bytes, input.reads, input.writes);
            io.hang = input.hang;
            let upgrader = Upgrader::new().config(config).compression(deflate.config());
            // The handshake is given as many polls as it needs: reads wait
            // at most once each.
            let Some(Ok(ws)) = poll_some(upgrader.upgrade(io), 1 << 16) else {
                return;
            };
            let head_end = ws
                .get_ref()
                .output
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(0, |p| p + 4);
            (ws, head_end)
        }
    };
    ops::run(ws, &input.ops, input.polls, out_start);
});
