//! The request: its exact bytes, the `Host` header, the offers, the extra
//! headers, and what cannot be sent.

use base64::Engine as _;
use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::super::request::{host_header, new_key};
use super::*;
use crate::deflate::DeflateConfig;

fn request(dialer: &Dialer, url: &str) -> String {
    let (_, written) = dial_in_chunks(dialer, url, switching("").as_bytes(), 4096);
    String::from_utf8(written).unwrap()
}

/// The error the handshake to `url` fails with, having sent nothing.
fn refused_unsent(dialer: &Dialer, url: &str, what: &str) -> ClientError {
    let (result, written) = dial_in_chunks(dialer, url, b"", 1);
    assert!(written.is_empty(), "{what}: nothing is sent");
    match result {
        Err(e) => e,
        Ok(_) => panic!("{what}: the handshake went through"),
    }
}

#[test]
fn the_request_is_exactly_the_rfc_one() {
    assert_eq!(
        request(&Dialer::new(), "ws://example.com/chat?room=1&x=2"),
        "GET /chat?room=1&x=2 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
}

#[test]
fn host_names_the_port_only_when_not_the_default() {
    for (url, host) in [
        ("ws://example.com", "example.com"),
        ("ws://example.com:80/", "example.com"),
        ("ws://example.com:8080/", "example.com:8080"),
        ("ws://example.com:443/", "example.com:443"),
        ("wss://example.com:443/", "example.com"),
        ("wss://example.com:80/", "example.com:80"),
        ("https://example.com/", "example.com"),
        ("http://127.0.0.1:9001/", "127.0.0.1:9001"),
        ("ws://[::1]:9001/", "[::1]:9001"),
        ("wss://[::1]/", "[::1]"),
    ] {
        assert_eq!(host_header(&uri(url)).unwrap(), host, "{url}");
    }
    // The path is `/` when the URL has none.
    assert!(request(&Dialer::new(), "ws://example.com:8080")
        .starts_with("GET / HTTP/1.1\r\nHost: example.com:8080\r\n"));
}

#[test]
fn urls_that_cannot_be_requested_are_refused() {
    for url in ["/chat", "ftp://example.com/", "example.com:80"] {
        let e = refused_unsent(&Dialer::new(), url, url);
        assert!(matches!(e, ClientError::InvalidUrl(_)), "{url}: {e:?}");
    }
}

#[test]
fn subprotocols_are_offered_in_order_and_must_be_tokens() {
    let dialer = Dialer::new().protocols(["chat.v2", "chat.v1"]);
    assert!(
        request(&dialer, "ws://h/").contains("\r\nSec-WebSocket-Protocol: chat.v2, chat.v1\r\n")
    );
    for bad in ["", "a b", "a,b", "caf\u{e9}"] {
        let dialer = Dialer::new().protocols([bad]);
        let e = refused_unsent(&dialer, "ws://h/", bad);
        assert!(
            matches!(e, ClientError::InvalidRequest(_)),
            "{bad:?}: {e:?}"
        );
    }
}

#[test]
fn compression_is_offered_as_configured() {
    assert!(!request(&Dialer::new(), "ws://h/").contains("Extensions"));
    for (config, offer) in [
        (
            DeflateConfig::enabled(),
            "permessage-deflate; client_max_window_bits",
        ),
        (
            DeflateConfig::enabled()
                .client_max_window_bits(10)
                .server_max_window_bits(12)
                .client_no_context_takeover(true),
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=12; \
             client_max_window_bits=10",
        ),
    ] {
        let dialer = Dialer::new().compression(config);
        let line = format!("\r\nSec-WebSocket-Extensions: {offer}\r\n");
        assert!(request(&dialer, "ws://h/").contains(&line), "{offer}");
    }
}

#[test]
fn extra_headers_follow_and_cannot_replace_the_handshake_ones() {
    let mut more = HeaderMap::new();
    more.append("cookie", HeaderValue::from_static("a=1"));
    more.append("x-trace", HeaderValue::from_static("1"));
    more.append("x-trace", HeaderValue::from_static("2"));
    let dialer = Dialer::new()
        .header(
            HeaderName::from_static("authorization"),
            HeaderValue::from_static("Bearer t0ken"),
        )
        .headers(more);
    assert_eq!(
        request(&dialer, "ws://example.com/"),
        "GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nauthorization: Bearer t0ken\r\ncookie: a=1\r\n\
         x-trace: 1\r\nx-trace: 2\r\n\r\n"
    );
    // Credentials stay out of the debug output.
    let debug = format!("{dialer:?}");
    assert!(
        debug.contains("authorization") && !debug.contains("t0ken"),
        "{debug}"
    );
    // A handshake header given as an extra one fails the handshake, with
    // nothing sent, rather than be dropped or sent.
    for (name, value) in [
        ("host", "elsewhere.example"),
        ("sec-websocket-version", "8"),
        ("sec-websocket-key", "forged"),
        ("upgrade", "h2c"),
    ] {
        let dialer = Dialer::new().header(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
        let e = refused_unsent(&dialer, "ws://example.com/", name);
        assert!(matches!(e, ClientError::InvalidRequest(_)), "{name}: {e:?}");
    }
}

#[test]
fn a_sec_websocket_protocol_header_offers_its_subprotocols() {
    let dialer = Dialer::new().protocols(["a"]).header(
        HeaderName::from_static("sec-websocket-protocol"),
        HeaderValue::from_static("b, c"),
    );
    assert!(request(&dialer, "ws://example.com/").contains("Sec-WebSocket-Protocol: a, b, c\r\n"));
}

#[test]
fn each_key_is_16_fresh_random_bytes() {
    let (a, b) = (new_key().unwrap(), new_key().unwrap());
    assert_ne!(a, b);
    for key in [a, b] {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&key)
            .unwrap();
        assert_eq!(raw.len(), 16, "{key}");
    }
}
