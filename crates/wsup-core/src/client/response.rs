//! The server's answer to the opening handshake: its head parsed, a `101`
//! checked strictly (RFC 6455 section 4.1, the client's requirements), and
//! any other status kept with as much of its body as arrives in time.

use std::future::poll_fn;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use futures_io::AsyncRead;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode, Version};

use super::ClientError;
use crate::handshake::{accept_key, has_token};

/// The most of a refusal's body kept in [`ClientError::Status`] and
/// [`ClientError::Redirect`].
pub(super) const MAX_BODY: usize = 64 * 1024;

/// Parses a complete response head (from [`read_raw_head`]) into its
/// status and headers.
///
/// [`read_raw_head`]: crate::handshake::read_raw_head
pub(super) fn parse_response(head: &[u8], max_headers: usize) -> Result<Response<()>, ClientError> {
    let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
    let mut parsed = httparse::Response::new(&mut headers);
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(ClientError::Malformed("incomplete response head"))
        }
        Err(httparse::Error::TooManyHeaders) => return Err(ClientError::HeadTooLarge),
        Err(_) => return Err(ClientError::Malformed("invalid response head")),
    }
    // RFC 6455 4.1: the answer to an HTTP/1.1 request, itself HTTP/1.1.
    if parsed.version != Some(1) {
        return Err(ClientError::Malformed("the response is not HTTP/1.1"));
    }
    let status = parsed
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or(ClientError::Malformed("invalid status code"))?;
    let mut response = Response::new(());
    *response.status_mut() = status;
    *response.version_mut() = Version::HTTP_11;
    let map = response.headers_mut();
    map.reserve(parsed.headers.len());
    for h in parsed.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| ClientError::Malformed("invalid header name"))?;
        let value = HeaderValue::from_bytes(h.value)
            .map_err(|_| ClientError::Malformed("invalid header value"))?;
        map.append(name, value);
    }
    Ok(response)
}

/// Checks a `101` against the request: `Upgrade: websocket`,
/// `Connection: upgrade` (tokens, any case), the `Sec-WebSocket-Accept` for
/// `key`, and a subprotocol that is absent or one of `offered`; returns the
/// subprotocol chosen. (The extensions are checked by the deflate module.)
pub(super) fn check_switch(
    headers: &HeaderMap,
    key: &str,
    offered: &[String],
) -> Result<Option<String>, ClientError> {
    const NON_ASCII: ClientError =
        ClientError::InvalidResponse("a header value is not visible ASCII");
    let non_ascii = |_| NON_ASCII;
    if !has_token(headers, &header::UPGRADE, "websocket").map_err(non_ascii)? {
        return Err(ClientError::InvalidResponse("no Upgrade: websocket"));
    }
    if !has_token(headers, &header::CONNECTION, "upgrade").map_err(non_ascii)? {
        return Err(ClientError::InvalidResponse("no Connection: upgrade"));
    }
    let mut accept = headers.get_all(header::SEC_WEBSOCKET_ACCEPT).iter();
    match (accept.next(), accept.next()) {
        (Some(value), None) if value.as_bytes() == accept_key(key.as_bytes()).as_bytes() => {}
        (None, _) => return Err(ClientError::InvalidResponse("no Sec-WebSocket-Accept")),
        _ => return Err(ClientError::InvalidResponse("wrong Sec-WebSocket-Accept")),
    }
    let mut protocols = headers.get_all(header::SEC_WEBSOCKET_PROTOCOL).iter();
    match (protocols.next(), protocols.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => {
            let chosen = value.to_str().map_err(|_| NON_ASCII)?.trim();
            if chosen.contains(',') {
                return Err(ClientError::InvalidResponse("more than one subprotocol"));
            }
            match offered.iter().find(|p| *p == chosen) {
                Some(p) => Ok(Some(p.clone())),
                None => Err(ClientError::UnofferedSubprotocol(chosen.to_owned())),
            }
        }
        (Some(_), Some(_)) => Err(ClientError::InvalidResponse("more than one subprotocol")),
    }
}

/// Whether a response with this status carries a body at all (RFC 9110
/// section 6.4.1: not 1xx, 204 or 304).
fn has_body(status: StatusCode) -> bool {
    !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED)
}

/// How much of a refusal's body to read: its `Content-Length` up to
/// [`MAX_BODY`], `None` when it has none (then the body runs to the end of
/// the stream).
pub(super) fn body_length(response: &Response<()>) -> Option<usize> {
    if !has_body(response.status()) {
        return Some(0);
    }
    let length = response.headers().get(header::CONTENT_LENGTH)?;
    let length = length.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(length.min(MAX_BODY as u64) as usize)
}

/// Reads into `body` until it holds `want` bytes or the stream ends; what
/// was read stays in `body` if this future is dropped (by the deadline).
pub(super) async fn read_body<S: AsyncRead + Unpin>(
    io: &mut S,
    body: &mut BytesMut,
    want: usize,
) -> std::io::Result<()> {
    let mut chunk = [0u8; 4096];
    while body.len() < want {
        let room = (want - body.len()).min(chunk.len());
        let n = poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut chunk[..room])).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

/// The error for a refusal: a redirect with its `Location`, or the status;
/// each with the head and the body read.
pub(super) fn refusal(response: Response<()>, body: Bytes) -> ClientError {
    let response = Box::new(response.map(|()| body));
    if response.status().is_redirection() {
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        ClientError::Redirect { response, location }
    } else {
        ClientError::Status(response)
    }
}
