//! The client's opening handshake request (RFC 6455 section 4.1): the key,
//! the `Host` header, and the request head written as bytes.

use std::io::Write as _;

use base64::Engine as _;
use http::header::{self, HeaderMap, HeaderName};
use http::Uri;

use super::ClientError;
use crate::deflate::is_tchar;

/// A fresh `Sec-WebSocket-Key`: 16 bytes from the operating system's
/// CSPRNG, in base64 (RFC 6455 section 4.1: "randomly selected").
pub(super) fn new_key() -> Result<String, ClientError> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| ClientError::Io(std::io::Error::other(e)))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(nonce))
}

/// The headers the handshake writes itself: an extra header of one of
/// these names is not sent (see `Dialer::header`).
pub(super) fn is_reserved(name: &HeaderName) -> bool {
    [
        header::HOST,
        header::UPGRADE,
        header::CONNECTION,
        header::SEC_WEBSOCKET_KEY,
        header::SEC_WEBSOCKET_VERSION,
        header::SEC_WEBSOCKET_PROTOCOL,
        header::SEC_WEBSOCKET_EXTENSIONS,
        header::SEC_WEBSOCKET_ACCEPT,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
    ]
    .contains(name)
}

/// The scheme's default port, for `ws`, `wss` and their aliases `http` and
/// `https`.
fn default_port(uri: &Uri) -> Result<u16, ClientError> {
    let scheme = uri
        .scheme_str()
        .ok_or(ClientError::InvalidUrl("the URL has no scheme"))?;
    if scheme.eq_ignore_ascii_case("ws") || scheme.eq_ignore_ascii_case("http") {
        Ok(80)
    } else if scheme.eq_ignore_ascii_case("wss") || scheme.eq_ignore_ascii_case("https") {
        Ok(443)
    } else {
        Err(ClientError::InvalidUrl("the scheme is not ws or wss"))
    }
}

/// The `Host` header: the URI's host (an IPv6 address in brackets), and
/// its port only when it is not the scheme's default (RFC 6455 section
/// 4.1, item 4).
pub(super) fn host_header(uri: &Uri) -> Result<String, ClientError> {
    let default = default_port(uri)?;
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or(ClientError::InvalidUrl("the URL has no host"))?;
    Ok(match uri.port_u16() {
        Some(port) if port != default => format!("{host}:{port}"),
        _ => host.to_owned(),
    })
}

/// The request target: the path (`/` when empty) and the query.
fn target(uri: &Uri) -> String {
    let path = uri.path();
    let path = if path.is_empty() { "/" } else { path };
    match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    }
}

/// What goes into the request besides the URI and the key.
#[derive(Debug)]
pub(super) struct RequestParts<'a> {
    /// Subprotocols, in the order offered.
    pub protocols: &'a [String],
    /// The `Sec-WebSocket-Extensions` offer, if any.
    pub extensions: Option<&'a str>,
    /// Extra headers, written after the handshake's own (reserved names
    /// were left out when they were added).
    pub headers: &'a HeaderMap,
}

/// The request head: `GET`, the handshake's headers in a fixed order, then
/// the extra ones.
pub(super) fn request_head(
    uri: &Uri,
    key: &str,
    parts: &RequestParts<'_>,
) -> Result<Vec<u8>, ClientError> {
    let host = host_header(uri)?;
    // A subprotocol is an RFC 7230 token (RFC 6455 section 4.1), so that it
    // fits the header's comma-separated list.
    if !parts
        .protocols
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(is_tchar))
    {
        return Err(ClientError::InvalidRequest("a subprotocol is not a token"));
    }
    let mut out = Vec::with_capacity(256);
    // Writing to a Vec does not fail.
    let _ = write!(
        out,
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
        target(uri)
    );
    if !parts.protocols.is_empty() {
        let _ = write!(
            out,
            "Sec-WebSocket-Protocol: {}\r\n",
            parts.protocols.join(", ")
        );
    }
    if let Some(offer) = parts.extensions {
        let _ = write!(out, "Sec-WebSocket-Extensions: {offer}\r\n");
    }
    for (name, value) in parts.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}
