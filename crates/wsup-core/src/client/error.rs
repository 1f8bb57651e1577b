//! What opening a client connection fails with.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};

/// Why a client connection could not be opened.
///
/// Each step has its own variant: the URL, the transport (TCP, a proxy,
/// TLS), the deadline, and the server's answer, which is validated
/// strictly (RFC 6455 section 4.1). When the server answers with another
/// status than `101`, its head and body are kept in the error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not a `ws://` or `wss://` URL wsup can connect to.
    #[error("invalid URL: {0}")]
    InvalidUrl(&'static str),
    /// The request cannot be written as configured (a subprotocol that is
    /// not an HTTP token, say).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// Connecting or exchanging the handshake failed on the transport.
    #[error("io error: {0}")]
    Io(#[from] io::Error),
    /// The TLS handshake failed (the certificate, the name, the protocol).
    #[error("TLS handshake failed: {0}")]
    Tls(io::Error),
    /// `wss://` was asked for without TLS support (the `tls` feature).
    #[error("wss:// needs the `tls` feature")]
    TlsUnavailable,
    /// The HTTP proxy refused the `CONNECT` with this status.
    #[error("the proxy answered {0} to CONNECT")]
    Proxy(StatusCode),
    /// The handshake (connecting included) did not finish in time.
    #[error("the handshake did not finish within {0:?}")]
    Timeout(Duration),
    /// The response head (of the server or the proxy) exceeded the limits
    /// on its size or its number of headers.
    #[error("response head too large")]
    HeadTooLarge,
    /// The response head is not valid HTTP/1.1.
    #[error("malformed response: {0}")]
    Malformed(&'static str),
    /// The server answered a redirect (3xx): reported, not followed.
    /// `location` is the `Location` header's value, if any.
    #[error("redirected with {} to {location:?}", .response.status())]
    Redirect {
        /// The response, with as much of its body as was read.
        response: Box<Response<Bytes>>,
        /// Where the server points to.
        location: Option<String>,
    },
    /// The server answered another status than `101` (or `3xx`): its
    /// response, with the body read up to a bound.
    #[error("the server answered {} instead of 101", .0.status())]
    Status(Box<Response<Bytes>>),
    /// The `101` response breaks RFC 6455 section 4.1: a missing or wrong
    /// `Upgrade`, `Connection` or `Sec-WebSocket-Accept`.
    #[error("invalid handshake response: {0}")]
    InvalidResponse(&'static str),
    /// The server chose a subprotocol the client did not offer.
    #[error("the server chose subprotocol {0:?}, which was not offered")]
    UnofferedSubprotocol(String),
    /// The server answered an extension the client did not offer, or with
    /// parameters the offer does not allow.
    #[error("the server answered extensions that were not offered: {0:?}")]
    UnofferedExtension(String),
}

impl ClientError {
    /// The HTTP status the server (or the proxy) answered with, when it was
    /// not `101`.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Proxy(s) => Some(*s),
            ClientError::Redirect { response, .. } => Some(response.status()),
            ClientError::Status(response) => Some(response.status()),
            _ => None,
        }
    }

    /// The server's response when it was not `101`: its status, headers
    /// and the body read (gorilla's `resp` beside `ErrBadHandshake`).
    pub fn response(&self) -> Option<&Response<Bytes>> {
        match self {
            ClientError::Redirect { response, .. } => Some(response),
            ClientError::Status(response) => Some(response),
            _ => None,
        }
    }
}
