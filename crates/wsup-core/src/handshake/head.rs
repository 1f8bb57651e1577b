//! Reading a request head from a raw stream, bounded in size, header count
//! and (by the caller) time.
//!
//! The end of the head is searched for only in the bytes each read added
//! (plus three before them), so a head trickled in byte by byte costs linear
//! time, not quadratic (tungstenite's CVE-2023-43669 re-parsed the whole
//! buffer on every read). It is parsed once, when complete.

use std::future::poll_fn;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use futures_io::AsyncRead;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, Version};

use crate::error::HandshakeError;

/// Limits on an HTTP head: the request a server reads, the response a
/// client reads.
#[derive(Debug, Clone, Copy)]
pub struct HeadLimits {
    /// Largest head in bytes, request line and blank line included. Default 16 KiB.
    pub max_size: usize,
    /// Most header lines. Default 64.
    pub max_headers: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        HeadLimits {
            max_size: 16 * 1024,
            max_headers: 64,
        }
    }
}

/// Reads one request head; returns it and whatever arrived after it.
pub async fn read_head<T: AsyncRead + Unpin>(
    io: &mut T,
    limits: &HeadLimits,
) -> Result<(Parts, Bytes), HandshakeError> {
    let (mut buf, end) = read_raw_head(io, limits.max_size)
        .await
        .map_err(|e| match e {
            RawHeadError::Io(e) => HandshakeError::Io(e),
            RawHeadError::Eof => HandshakeError::Incomplete,
            RawHeadError::TooLarge => HandshakeError::HeadTooLarge,
        })?;
    let parts = parse_head(&buf[..end], limits)?;
    let leftover = buf.split_off(end).freeze();
    Ok((parts, leftover))
}

/// Why [`read_raw_head`] stopped short of a head.
#[derive(Debug)]
pub(crate) enum RawHeadError {
    /// The transport failed.
    Io(std::io::Error),
    /// End of stream before the end of the head.
    Eof,
    /// More than the limit arrived without the end of the head.
    TooLarge,
}

/// Reads until the blank line that ends an HTTP head (a request's or a
/// response's), with the head at most `max_size` bytes; returns the bytes
/// read and where the head ends among them (the rest arrived after it).
pub(crate) async fn read_raw_head<T: AsyncRead + Unpin>(
    io: &mut T,
    max_size: usize,
) -> Result<(BytesMut, usize), RawHeadError> {
    let mut buf = BytesMut::with_capacity(1024.min(max_size.saturating_add(1)));
    let mut scanned = 0;
    loop {
        // Read at most one byte past the limit: enough to know it was passed.
        let len = buf.len();
        let room = max_size.saturating_add(1) - len;
        if room == 0 {
            return Err(RawHeadError::TooLarge);
        }
        let want = room.min(4096);
        buf.resize(len + want, 0);
        let n = poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut buf[len..]))
            .await
            .map_err(RawHeadError::Io)?;
        buf.truncate(len + n);
        if n == 0 {
            return Err(RawHeadError::Eof);
        }
        if let Some(end) = find_head_end(&buf, scanned) {
            if end > max_size {
                return Err(RawHeadError::TooLarge);
            }
            return Ok((buf, end));
        }
        if buf.len() > max_size {
            return Err(RawHeadError::TooLarge);
        }
        scanned = buf.len().saturating_sub(3);
    }
}

/// Position just past the first `\r\n\r\n` at or after `from`.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    buf[from..]
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| from + p + 4)
}

/// httparse's answer for a head read up to its end (by [`read_raw_head`]),
/// as each side's error: `too_large` for too many headers, else `malformed`
/// with the first message if the head is incomplete, the second if invalid.
pub(crate) fn parsed_whole<E>(
    parsed: httparse::Result<usize>,
    too_large: E,
    malformed: impl FnOnce(&'static str) -> E,
    [incomplete, invalid]: [&'static str; 2],
) -> Result<(), E> {
    match parsed {
        Ok(httparse::Status::Complete(_)) => Ok(()),
        Ok(httparse::Status::Partial) => Err(malformed(incomplete)),
        Err(httparse::Error::TooManyHeaders) => Err(too_large),
        Err(_) => Err(malformed(invalid)),
    }
}

/// Appends the headers httparse found to `map`; a name or value `http`
/// refuses is `malformed`.
pub(crate) fn copy_headers<E>(
    headers: &[httparse::Header<'_>],
    map: &mut HeaderMap,
    malformed: impl Fn(&'static str) -> E,
) -> Result<(), E> {
    map.reserve(headers.len());
    for h in headers {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| malformed("invalid header name"))?;
        let value =
            HeaderValue::from_bytes(h.value).map_err(|_| malformed("invalid header value"))?;
        map.append(name, value);
    }
    Ok(())
}

/// Parses a complete head into `http` request parts.
pub fn parse_head(head: &[u8], limits: &HeadLimits) -> Result<Parts, HandshakeError> {
    let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut req = httparse::Request::new(&mut headers);
    parsed_whole(
        req.parse(head),
        HandshakeError::HeadTooLarge,
        HandshakeError::Malformed,
        ["incomplete request head", "invalid request head"],
    )?;
    let method = Method::from_bytes(req.method.unwrap_or("").as_bytes())
        .map_err(|_| HandshakeError::Malformed("invalid method"))?;
    let uri: Uri = req
        .path
        .unwrap_or("")
        .parse()
        .map_err(|_| HandshakeError::Malformed("invalid request target"))?;
    let version = match req.version {
        Some(1) => Version::HTTP_11,
        _ => {
            return Err(HandshakeError::Malformed(
                "websocket upgrade requires HTTP/1.1",
            ))
        }
    };
    let mut builder = Request::builder().method(method).uri(uri).version(version);
    let map = builder.headers_mut().expect("builder is fresh");
    copy_headers(req.headers, map, HandshakeError::Malformed)?;
    let (parts, ()) = builder
        .body(())
        .map_err(|_| HandshakeError::Malformed("invalid request"))?
        .into_parts();
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_end_is_found_across_read_boundaries() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
        for cut in 0..head.len() {
            let from = cut.saturating_sub(3);
            let found = find_head_end(&head[..], from);
            if cut <= 23 {
                assert_eq!(found, Some(27), "cut {cut}");
            }
        }
    }

    #[test]
    fn parses_into_http_parts() {
        let p = parse_head(
            b"GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\nX-A: 2\r\n\r\n",
            &HeadLimits::default(),
        )
        .unwrap();
        assert_eq!(p.method, Method::GET);
        assert_eq!(p.uri.path(), "/chat");
        assert_eq!(p.headers.get_all("x-a").iter().count(), 2);
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        let limits = HeadLimits::default();
        for bad in [
            &b"\x00\x01\x02\r\n\r\n"[..],
            b"GET / HTTP/1.0\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"G\xffT / HTTP/1.1\r\n\r\n",
        ] {
            assert!(parse_head(bad, &limits).is_err(), "{bad:?}");
        }
        let many: String = (0..100).map(|i| format!("X-{i}: v\r\n")).collect();
        let req = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert!(matches!(
            parse_head(req.as_bytes(), &limits),
            Err(HandshakeError::HeadTooLarge)
        ));
    }
}
