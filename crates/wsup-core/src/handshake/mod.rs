//! The opening handshake, RFC 6455 section 4.2: reading the request head,
//! validating it, negotiating the subprotocol, checking the origin, and
//! writing the 101 or the rejection.

mod head;
mod origin;
mod response;

pub(crate) use head::{copy_headers, parsed_whole, read_raw_head, RawHeadError};
pub use head::{parse_head, read_head, HeadLimits};
pub use origin::{OriginPolicy, ServerScheme};
pub use response::{error_response, switching_protocols, write_response};

use base64::Engine as _;
use http::header::{self, HeaderMap};
use http::request::Parts;
use http::{Method, Version};
use sha1::{Digest, Sha1};

use crate::error::HandshakeError;

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a client key.
pub fn accept_key(key: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(key);
    h.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// The header's values as one string, or `Malformed` if any is not visible ASCII.
fn header_str<'a>(
    headers: &'a HeaderMap,
    name: &header::HeaderName,
) -> Result<Vec<&'a str>, HandshakeError> {
    headers
        .get_all(name)
        .iter()
        .map(|v| {
            v.to_str()
                .map_err(|_| HandshakeError::Malformed("non-ascii header value"))
        })
        .collect()
}

/// Whether a comma-separated token list header holds `token` (any case).
pub(crate) fn has_token(
    headers: &HeaderMap,
    name: &header::HeaderName,
    token: &str,
) -> Result<bool, HandshakeError> {
    Ok(header_str(headers, name)?
        .iter()
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// What a valid upgrade request asks for.
#[derive(Debug, Clone)]
pub struct Validated {
    /// The `Sec-WebSocket-Accept` value; `None` for an HTTP/2 extended
    /// CONNECT (RFC 8441), which has no key and is answered `200`.
    pub accept: Option<String>,
    /// Subprotocols the client offered, in its order.
    pub offered_protocols: Vec<String>,
}

/// Checks an upgrade request against RFC 6455 section 4.2.1, in gorilla's
/// order, so each failure has its status: method (405), `Host` (400:
/// missing, more than one, or not an authority), `Connection` (400),
/// `Upgrade` (426), version (426), key (400).
///
/// An HTTP/2 request is RFC 8441's extended CONNECT: method `CONNECT`
/// (else 405) and `Sec-WebSocket-Version: 13` (else 426), no key, no
/// `Connection` or `Upgrade`. HTTP/2's `:protocol` pseudo-header is not
/// in `parts`: the HTTP server integration checks that it is `websocket`
/// before it asks (wsup-hyper does).
pub fn validate_request(parts: &Parts) -> Result<Validated, HandshakeError> {
    let h = &parts.headers;
    if parts.version == Version::HTTP_2 {
        if parts.method != Method::CONNECT {
            return Err(HandshakeError::MethodNotAllowed);
        }
        check_version(h)?;
        return Ok(Validated {
            accept: None,
            offered_protocols: offered_protocols(h)?,
        });
    }
    // RFC 6455 4.1: HTTP/1.1 or later.
    if parts.version < Version::HTTP_11 {
        return Err(HandshakeError::Malformed("HTTP/1.1 or later is required"));
    }
    if parts.method != Method::GET {
        return Err(HandshakeError::MethodNotAllowed);
    }
    // RFC 9112 3.2: exactly one Host, an authority (400 otherwise).
    match header_str(h, &header::HOST)?.as_slice() {
        [host] if is_authority(host) => {}
        [_] => return Err(HandshakeError::Malformed("invalid Host header")),
        [] => return Err(HandshakeError::Malformed("missing Host header")),
        _ => return Err(HandshakeError::Malformed("more than one Host header")),
    }
    if !has_token(h, &header::CONNECTION, "upgrade")? {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    if !has_token(h, &header::UPGRADE, "websocket")? {
        return Err(HandshakeError::MissingUpgradeWebsocket);
    }
    check_version(h)?;
    let keys = header_str(h, &header::SEC_WEBSOCKET_KEY)?;
    let key = match keys.as_slice() {
        [k] => k.trim(),
        _ => return Err(HandshakeError::InvalidKey),
    };
    match base64::engine::general_purpose::STANDARD.decode(key) {
        Ok(raw) if raw.len() == 16 => {}
        _ => return Err(HandshakeError::InvalidKey),
    }
    Ok(Validated {
        accept: Some(accept_key(key.as_bytes())),
        offered_protocols: offered_protocols(h)?,
    })
}

/// `host[:port]`, with a port number if there is a colon.
fn is_authority(s: &str) -> bool {
    match s.trim().parse::<http::uri::Authority>() {
        Ok(a) => origin::explicit_port(&a).is_some() && !a.as_str().contains('@'),
        Err(_) => false,
    }
}

/// `Sec-WebSocket-Version: 13`, once.
fn check_version(h: &HeaderMap) -> Result<(), HandshakeError> {
    let version = header_str(h, &header::SEC_WEBSOCKET_VERSION)?;
    if version.len() != 1 || version[0].trim() != "13" {
        return Err(HandshakeError::UnsupportedVersion);
    }
    Ok(())
}

/// The subprotocols offered, in the client's order.
fn offered_protocols(h: &HeaderMap) -> Result<Vec<String>, HandshakeError> {
    Ok(header_str(h, &header::SEC_WEBSOCKET_PROTOCOL)?
        .iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Whether the request asks for a WebSocket upgrade at all (has an
/// `Upgrade` header): used to route plain HTTP requests to a fallback.
pub fn is_upgrade_request(parts: &Parts) -> bool {
    parts.headers.contains_key(header::UPGRADE)
}

/// The first of the server's protocols, in its order of preference, that the
/// client offered.
pub fn select_protocol<'a>(server: &'a [String], offered: &[String]) -> Option<&'a str> {
    server
        .iter()
        .find(|p| offered.iter().any(|o| o == *p))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn parts(raw: &str) -> Parts {
        parse_head(raw.as_bytes(), &HeadLimits::default()).unwrap()
    }

    const GOOD: &str = "GET /ws HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn accept_key_matches_rfc_example() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            validate_request(&parts(GOOD)).unwrap().accept.unwrap(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    fn h2(method: Method, version: Option<&str>) -> Parts {
        let mut req = http::Request::builder()
            .method(method)
            .version(Version::HTTP_2)
            .uri("https://server.example.com/ws")
            .header("sec-websocket-protocol", "chat, superchat");
        if let Some(v) = version {
            req = req.header("sec-websocket-version", v);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn http2_extended_connect_has_no_key_and_is_answered_200() {
        let valid = validate_request(&h2(Method::CONNECT, Some("13"))).unwrap();
        assert_eq!(valid.accept, None);
        assert_eq!(valid.offered_protocols, ["chat", "superchat"]);
        let res = switching_protocols(None, Some("chat"), None, HeaderMap::new());
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["sec-websocket-protocol"], "chat");
        for forbidden in ["upgrade", "connection", "sec-websocket-accept"] {
            assert!(!res.headers().contains_key(forbidden), "{forbidden}");
        }
        assert!(matches!(
            validate_request(&h2(Method::GET, Some("13"))),
            Err(HandshakeError::MethodNotAllowed)
        ));
        assert!(matches!(
            validate_request(&h2(Method::CONNECT, None)),
            Err(HandshakeError::UnsupportedVersion)
        ));
    }

    #[test]
    fn http_1_0_is_refused_with_400() {
        // As an HTTP server hands it over (wsup's own head parser refuses
        // it earlier, the same way).
        let mut req = parts(GOOD);
        req.version = Version::HTTP_10;
        let err = validate_request(&req).unwrap_err();
        assert!(matches!(err, HandshakeError::Malformed(_)), "{err:?}");
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn same_origin_over_http2_compares_with_the_authority() {
        let mut parts = h2(Method::CONNECT, Some("13"));
        parts
            .headers
            .insert("origin", "https://server.example.com".parse().unwrap());
        assert!(OriginPolicy::SameOrigin.allows(&parts));
        parts
            .headers
            .insert("origin", "https://evil.example".parse().unwrap());
        assert!(!OriginPolicy::SameOrigin.allows(&parts));
    }

    #[test]
    fn connection_token_lists_in_any_case() {
        let req = GOOD.replace("Connection: Upgrade", "Connection: keep-alive, UPGRADE");
        assert!(validate_request(&parts(&req)).is_ok());
        let req = GOOD.replace("Upgrade: websocket", "Upgrade: WebSocket");
        assert!(validate_request(&parts(&req)).is_ok());
    }

    fn status_of(req: &str) -> Option<StatusCode> {
        validate_request(&parts(req)).unwrap_err().status()
    }

    #[test]
    fn each_violation_has_its_status() {
        for (from, to, status) in [
            ("GET", "POST", StatusCode::METHOD_NOT_ALLOWED),
            (
                "Connection: Upgrade",
                "Connection: keep-alive",
                StatusCode::BAD_REQUEST,
            ),
            (
                "Upgrade: websocket",
                "Upgrade: h2c",
                StatusCode::UPGRADE_REQUIRED,
            ),
            ("Version: 13", "Version: 8", StatusCode::UPGRADE_REQUIRED),
            (
                "dGhlIHNhbXBsZSBub25jZQ==",
                "c2hvcnQ=",
                StatusCode::BAD_REQUEST,
            ),
            ("dGhlIHNhbXBsZSBub25jZQ==", "!!!", StatusCode::BAD_REQUEST),
            ("Host: server.example.com\r\n", "", StatusCode::BAD_REQUEST),
            (
                "Host: server.example.com\r\n",
                "Host: server.example.com\r\nHost: other.example\r\n",
                StatusCode::BAD_REQUEST,
            ),
            (
                "Host: server.example.com",
                "Host: server.example.com:port",
                StatusCode::BAD_REQUEST,
            ),
            (
                "Host: server.example.com",
                "Host: a b",
                StatusCode::BAD_REQUEST,
            ),
        ] {
            assert_eq!(status_of(&GOOD.replace(from, to)), Some(status), "{to}");
        }
    }

    #[test]
    fn non_ascii_header_values_are_bad_requests() {
        let req = GOOD.replace("Connection: Upgrade", "Connection: Upgr\u{e4}de");
        assert_eq!(status_of(&req), Some(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn subprotocol_in_server_preference_order() {
        let server = vec!["chat.v2".to_owned(), "chat.v1".to_owned()];
        let req = GOOD.replace(
            "\r\n\r\n",
            "\r\nSec-WebSocket-Protocol: chat.v1, chat.v2\r\n\r\n",
        );
        let v = validate_request(&parts(&req)).unwrap();
        assert_eq!(
            select_protocol(&server, &v.offered_protocols),
            Some("chat.v2")
        );
        assert_eq!(select_protocol(&server, &["other".to_owned()]), None);
    }

    #[test]
    fn switching_protocols_carries_the_negotiated_headers_then_the_extra_ones() {
        let v = validate_request(&parts(GOOD)).unwrap();
        let mut extra = HeaderMap::new();
        extra.insert("set-cookie", "a=1".parse().unwrap());
        let res = switching_protocols(
            v.accept.as_deref(),
            Some("chat"),
            Some("permessage-deflate"),
            extra,
        );
        assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
        let names: Vec<_> = res.headers().keys().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "upgrade",
                "connection",
                "sec-websocket-accept",
                "sec-websocket-protocol",
                "sec-websocket-extensions",
                "set-cookie"
            ]
        );
        assert_eq!(
            res.headers()[header::SEC_WEBSOCKET_ACCEPT],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert!(res.body().is_empty());
    }

    #[test]
    fn over_capacity_is_a_503_saying_when_to_retry_and_to_close() {
        use crate::error::ConnectionCap;
        use std::time::Duration;
        for (after, header) in [(5_000, "5"), (1_500, "2"), (0, "0")] {
            let res = error_response(&HandshakeError::OverCapacity {
                cap: ConnectionCap::Connections,
                retry_after: Duration::from_millis(after),
            });
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(res.headers()[header::RETRY_AFTER], header);
            assert_eq!(res.headers()[header::CONNECTION], "close");
            assert_eq!(
                &res.body()[..],
                b"over capacity: too many open connections\n"
            );
        }
    }
}
