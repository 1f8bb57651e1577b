//! The server's answer to the opening handshake: its head parsed, a `101`
//! checked strictly (RFC 6455 section 4.1, the client's requirements), and
//! any other status kept with as much of its body as arrives in time.

use std::future::poll_fn;
use std::pin::Pin;

use bytes::{Buf as _, Bytes, BytesMut};
use futures_io::AsyncRead;
use http::header::{self, HeaderMap};
use http::{Response, StatusCode, Version};

use super::ClientError;
use crate::handshake::{accept_key, copy_headers, has_token, parsed_whole};

/// The most of a refusal's body kept in [`ClientError::Status`] and
/// [`ClientError::Redirect`].
pub(super) const MAX_BODY: usize = 64 * 1024;

/// What [`parse_response`] says of a head that is incomplete, and of one
/// that is invalid, when it is the server's.
pub(super) const SERVER_HEAD: [&str; 2] = ["incomplete response head", "invalid response head"];

/// Parses a complete response head (from [`read_raw_head`]) into its
/// version, status and headers; `what` says what is wrong with a head that
/// is incomplete or invalid.
///
/// [`read_raw_head`]: crate::handshake::read_raw_head
pub(super) fn parse_response(
    head: &[u8],
    max_headers: usize,
    what: [&'static str; 2],
) -> Result<Response<()>, ClientError> {
    let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
    let mut parsed = httparse::Response::new(&mut headers);
    let status = parsed_whole(
        parsed.parse(head),
        ClientError::HeadTooLarge,
        ClientError::Malformed,
        what,
    )
    .and_then(|()| {
        parsed
            .code
            .and_then(|c| StatusCode::from_u16(c).ok())
            .ok_or(ClientError::Malformed("invalid status code"))
    })?;
    let mut response = Response::new(());
    *response.status_mut() = status;
    *response.version_mut() = match parsed.version {
        Some(1) => Version::HTTP_11,
        _ => Version::HTTP_10,
    };
    copy_headers(
        parsed.headers,
        response.headers_mut(),
        ClientError::Malformed,
    )?;
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

/// How a refusal's body ends (RFC 9112 section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyLength {
    /// After this many bytes (its `Content-Length`, or 0 for a status that
    /// has no body: 1xx, 204, 304).
    Known(u64),
    /// With the last chunk (`Transfer-Encoding: chunked`).
    Chunked,
    /// With the stream.
    ToEnd,
}

/// How the body of `response` ends: `Transfer-Encoding` before
/// `Content-Length`, as RFC 9112 orders them.
pub(super) fn body_length(response: &Response<()>) -> BodyLength {
    let status = response.status();
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return BodyLength::Known(0);
    }
    let headers = response.headers();
    if let Some(codings) = headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .next_back()
    {
        let last = codings.to_str().ok().and_then(|c| c.rsplit(',').next());
        return match last {
            Some(coding) if coding.trim().eq_ignore_ascii_case("chunked") => BodyLength::Chunked,
            _ => BodyLength::ToEnd,
        };
    }
    let length = headers.get(header::CONTENT_LENGTH);
    match length.and_then(|l| l.to_str().ok()?.trim().parse().ok()) {
        Some(n) => BodyLength::Known(n),
        None => BodyLength::ToEnd,
    }
}

/// Reads a refusal's body into `body`, at most [`MAX_BODY`] bytes of it,
/// from `raw` (what came with the head) and then the stream; what was read
/// stays in `body` if this future is dropped (by the deadline). A chunked
/// body is decoded; any fault in it ends the reading, keeping what came
/// before.
pub(super) async fn read_body<S: AsyncRead + Unpin>(
    io: &mut S,
    mut raw: BytesMut,
    length: BodyLength,
    body: &mut BytesMut,
) -> std::io::Result<()> {
    let want = match length {
        BodyLength::Chunked => return read_chunked(io, raw, body).await,
        BodyLength::Known(n) => usize::try_from(n).unwrap_or(usize::MAX).min(MAX_BODY),
        BodyLength::ToEnd => MAX_BODY,
    };
    raw.truncate(want);
    body.extend_from_slice(&raw);
    while body.len() < want {
        let before = body.len();
        if !read_more(io, body, want - before).await? {
            break;
        }
    }
    Ok(())
}

/// Reads at most `most` more bytes onto `buf`; `false` at the end of the
/// stream.
async fn read_more<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut BytesMut,
    most: usize,
) -> std::io::Result<bool> {
    let mut chunk = [0u8; 4096];
    let room = most.min(chunk.len());
    let n = poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut chunk[..room])).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

/// [`read_body`] for `Transfer-Encoding: chunked`: the data of each chunk
/// onto `body`, until the last chunk, [`MAX_BODY`] bytes or a fault.
async fn read_chunked<S: AsyncRead + Unpin>(
    io: &mut S,
    mut raw: BytesMut,
    body: &mut BytesMut,
) -> std::io::Result<()> {
    // Data still to come in the current chunk, and whether the CRLF after
    // it is still to come.
    let mut left = 0usize;
    let mut in_chunk = false;
    loop {
        if in_chunk {
            let take = left.min(raw.len());
            let room = MAX_BODY - body.len();
            body.extend_from_slice(&raw[..take.min(room)]);
            raw.advance(take);
            left -= take;
            if body.len() == MAX_BODY {
                return Ok(());
            }
            if left == 0 && raw.len() >= 2 {
                raw.advance(2);
                in_chunk = false;
                continue;
            }
        } else {
            match httparse::parse_chunk_size(&raw) {
                Ok(httparse::Status::Complete((_, 0))) | Err(_) => return Ok(()),
                Ok(httparse::Status::Complete((start, size))) => {
                    raw.advance(start);
                    left = usize::try_from(size).unwrap_or(usize::MAX);
                    in_chunk = true;
                    continue;
                }
                // A chunk-size line this long is not one.
                Ok(httparse::Status::Partial) if raw.len() > 1024 => return Ok(()),
                Ok(httparse::Status::Partial) => {}
            }
        }
        if !read_more(io, &mut raw, 4096).await? {
            return Ok(());
        }
    }
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
