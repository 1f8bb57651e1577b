//! The client's side: `Dialer::handshake` over an in-memory stream whose
//! reads come from the input (the server's response head, then its
//! frames), with or without a permessage-deflate offer; then, if the 101
//! passed every check, the connection with the application's calls
//! interleaved as in `server_connection`. The marker `@ACCEPT@` in the
//! input stands for the right `Sec-WebSocket-Accept` of the key the
//! client sent (random), so that valid answers stay reachable.
#![no_main]

use arbitrary::Arbitrary;
use http::Uri;
use libfuzzer_sys::fuzz_target;
use wsup_core::client::Dialer;
use wsup_core::deflate::DeflateConfig;
use wsup_fuzz::ops::{self, Limits, Op};
use wsup_fuzz::script::Script;
use wsup_fuzz::{poll_some, settings};

#[derive(Arbitrary, Debug)]
struct Input {
    /// The client's offer: (server no takeover, client no takeover,
    /// server bits, client bits); first, so that a seed's first settings
    /// byte turns it on.
    deflate: Option<(bool, bool, u8, u8)>,
    limits: Limits,
    protocols: u8,
    reads: Vec<u16>,
    writes: Vec<u16>,
    hang: bool,
    polls: u8,
    ops: Vec<Op>,
}

fuzz_target!(|data: &[u8]| {
    let Some((input, wire)) = settings::<Input>(data) else {
        return;
    };
    let mut dialer = Dialer::new().config(input.limits.config());
    if let Some((snct, cnct, sbits, cbits)) = input.deflate {
        dialer = dialer.compression(
            DeflateConfig::enabled()
                .server_no_context_takeover(snct)
                .client_no_context_takeover(cnct)
                .server_max_window_bits(15 - sbits % 7)
                .client_max_window_bits(15 - cbits % 7),
        );
    }
    match input.protocols % 3 {
        0 => {}
        1 => dialer = dialer.protocols(["chat"]),
        _ => dialer = dialer.protocols(["chat.v2", "chat.v1"]),
    }
    let mut io = Script::new(wire.to_vec(), input.reads, input.writes);
    io.hang = input.hang;
    io.answer_key = true;
    let uri: Uri = "ws://example.com/chat".parse().expect("a valid URL");
    // The handshake is given as many polls as it needs: reads and writes
    // wait at most once each.
    let Some(Ok(handshake)) = poll_some(dialer.handshake(io, &uri), 1 << 16) else {
        return;
    };
    let ws = handshake.into_websocket();
    let request_len = ws.get_ref().written;
    ops::run(ws, &input.ops, input.polls, request_len);
});
