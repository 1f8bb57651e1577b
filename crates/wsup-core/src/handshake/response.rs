//! The handshake responses: the 101 that accepts, the default rejection
//! (a 503 over a connection cap says when to retry),
//! and writing either as HTTP/1.1.

use std::future::poll_fn;
use std::io::{self, Write as _};
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_io::AsyncWrite;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};

use crate::error::HandshakeError;

/// The `101 Switching Protocols` that accepts an upgrade: `accept` is the
/// `Sec-WebSocket-Accept` value, `protocol` the selected subprotocol,
/// `extensions` the negotiated `Sec-WebSocket-Extensions` value; `extra`
/// headers (from an application hook) are appended last. Without `accept`
/// (an HTTP/2 extended CONNECT, RFC 8441) it is a `200 OK` with neither
/// `Upgrade` nor `Connection` (HTTP/2 forbids them).
pub fn switching_protocols(
    accept: Option<&str>,
    protocol: Option<&str>,
    extensions: Option<&str>,
    extra: HeaderMap,
) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    if accept.is_some() {
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    }
    let h = response.headers_mut();
    if let Some(accept) = accept {
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(
            header::SEC_WEBSOCKET_ACCEPT,
            HeaderValue::from_str(accept).expect("base64 is a valid header value"),
        );
    }
    if let Some(p) = protocol {
        // Offered tokens came from a valid header value.
        if let Ok(v) = HeaderValue::from_str(p) {
            h.insert(header::SEC_WEBSOCKET_PROTOCOL, v);
        }
    }
    if let Some(e) = extensions {
        if let Ok(v) = HeaderValue::from_str(e) {
            h.insert(header::SEC_WEBSOCKET_EXTENSIONS, v);
        }
    }
    for (name, value) in extra.iter() {
        h.append(name.clone(), value.clone());
    }
    response
}

/// The default rejection: the status and a short plain-text body; a version
/// error also says which version is supported (RFC 6455 4.4).
pub fn error_response(err: &HandshakeError) -> Response<Bytes> {
    let status = err.status().unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = Response::new(Bytes::from(format!("{}\n", err)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    match err {
        HandshakeError::UnsupportedVersion => {
            res.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
        }
        HandshakeError::OverCapacity { retry_after, .. } => {
            res.headers_mut()
                .insert(header::RETRY_AFTER, retry_after_value(*retry_after));
            // `write_response` adds it to every refusal; said here too, so
            // that a server writing this response itself closes as well.
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        _ => {}
    }
    res
}

/// `Retry-After` in whole seconds (RFC 9110 10.2.3), rounded up so that a
/// client never comes back early.
fn retry_after_value(d: Duration) -> HeaderValue {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    HeaderValue::from(secs)
}

/// Serialises `res` as HTTP/1.1 and writes it. Non-101 responses get a
/// `Content-Length` and `Connection: close`.
pub async fn write_response<T: AsyncWrite + Unpin>(
    io: &mut T,
    res: &Response<Bytes>,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(256 + res.body().len());
    let status = res.status();
    write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )?;
    for (name, value) in res.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if status != StatusCode::SWITCHING_PROTOCOLS {
        if !res.headers().contains_key(header::CONTENT_LENGTH) {
            write!(out, "content-length: {}\r\n", res.body().len())?;
        }
        if !res.headers().contains_key(header::CONNECTION) {
            out.extend_from_slice(b"connection: close\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(res.body());
    let mut written = 0;
    while written < out.len() {
        let n = poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, &out[written..])).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        written += n;
    }
    poll_fn(|cx| Pin::new(&mut *io).poll_flush(cx)).await
}
