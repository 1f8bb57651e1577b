//! The request head: read over a stream cut at arbitrary read boundaries
//! it gives the same request and leftover as parsed in one piece; through
//! validation and an `Upgrader`'s negotiation (several configurations) it
//! ends in a 101 or in the status of its error, never a panic; and the
//! whole path over the raw stream answers the same.
#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use http::request::Parts;
use http::StatusCode;
use libfuzzer_sys::fuzz_target;
use wsup_core::deflate::DeflateConfig;
use wsup_core::handshake::{parse_head, read_head, validate_request};
use wsup_core::{HandshakeError, HeadLimits, OriginPolicy, Upgrader};
use wsup_fuzz::script::Script;
use wsup_fuzz::{poll_some, settings};

#[derive(Arbitrary, Debug)]
struct Input {
    reads: Vec<u16>,
    max_size: u16,
    max_headers: u8,
    upgrader: u8,
}

fn upgrader(which: u8, limits: HeadLimits) -> Upgrader {
    let u = Upgrader::new().head_limits(limits);
    match which % 4 {
        0 => u,
        1 => u
            .compression(DeflateConfig::enabled())
            .subprotocols(["chat.v2", "chat.v1"])
            .origin_policy(OriginPolicy::AllowAll),
        2 => u
            .compression(
                DeflateConfig::enabled()
                    .client_max_window_bits(10)
                    .server_no_context_takeover(true),
            )
            .origin_policy(OriginPolicy::AllowList(vec!["https://a.example".into()])),
        _ => u.origin_policy(OriginPolicy::Custom(Arc::new(|p: &Parts| {
            p.uri.path() == "/ok"
        }))),
    }
}

fn same_request(a: &Parts, b: &Parts) -> bool {
    a.method == b.method && a.uri == b.uri && a.version == b.version && a.headers == b.headers
}

fuzz_target!(|data: &[u8]| {
    let Some((input, bytes)) = settings::<Input>(data) else {
        return;
    };
    let limits = HeadLimits {
        max_size: 20_000 - usize::from(input.max_size % 20_000),
        max_headers: 80 - usize::from(input.max_headers % 80),
    };

    // In one piece.
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4);
    let whole = end.map(|end| parse_head(&bytes[..end], &limits));

    // Read in pieces (reads wait at most once each).
    let mut io = Script::new(bytes.to_vec(), input.reads.clone(), Vec::new());
    let read = poll_some(read_head(&mut io, &limits), 1 << 16).expect("a read never stalls");
    match (end, &whole, &read) {
        (Some(end), Some(Ok(p)), Ok((q, leftover))) if end <= limits.max_size => {
            assert!(same_request(p, q), "{p:?} != {q:?}");
            assert!(bytes[end..].starts_with(leftover), "leftover");
        }
        (Some(end), Some(Err(e)), Err(f)) if end <= limits.max_size => {
            assert_eq!(e.status(), f.status(), "{e} / {f}");
        }
        (Some(end), _, Err(HandshakeError::HeadTooLarge)) if end > limits.max_size => {}
        (None, None, Err(HandshakeError::HeadTooLarge | HandshakeError::Incomplete)) => {}
        _ => panic!("end {end:?}, in one piece {whole:?}, in pieces {read:?}"),
    }

    let Ok((parts, _)) = read else { return };
    let valid = validate_request(&parts);
    let upgrader = upgrader(input.upgrader, limits);
    let status = match upgrader.negotiate(&parts) {
        Ok(accepted) => {
            assert!(valid.is_ok());
            let response = accepted.response();
            assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
            assert!(response.headers().contains_key("sec-websocket-accept"));
            StatusCode::SWITCHING_PROTOCOLS
        }
        Err(rejection) => {
            let status = rejection.response.status();
            assert_eq!(
                Some(status),
                rejection.error.status(),
                "{}",
                rejection.error
            );
            assert!(status.is_client_error(), "{status}");
            if let Err(e) = &valid {
                assert_eq!(rejection.error.status(), e.status());
            }
            status
        }
    };

    // The whole way over the raw stream: the same answer, written.
    let io = Script::new(bytes.to_vec(), input.reads, Vec::new());
    let upgraded = poll_some(upgrader.upgrade(io), 1 << 16).expect("never stalls");
    match upgraded {
        Ok(ws) => {
            assert_eq!(status, StatusCode::SWITCHING_PROTOCOLS);
            assert!(ws.get_ref().output.starts_with(b"HTTP/1.1 101 "));
        }
        Err(e) => assert_eq!(e.status(), Some(status), "{e}"),
    }
});
