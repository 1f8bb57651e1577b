//! Errors. Each protocol error names the close code it was answered with, each
//! handshake error the HTTP status it was answered with.

use std::fmt;
use std::io;
use std::time::Duration;

use http::StatusCode;

use crate::close::{CloseCode, CloseFrame};

/// What went wrong on a connection.
///
/// After any error other than [`Error::Io`] of kind `WouldBlock` (never
/// returned) the connection is unusable: it has been closed, or is closing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed.
    #[error("io error: {0}")]
    Io(#[from] io::Error),
    /// The peer broke the protocol; the connection was failed with a close
    /// frame carrying [`ProtocolError::close_code`].
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The connection is closed (the closing handshake finished, or the peer
    /// went away); no more messages will come.
    #[error("connection closed")]
    ConnectionClosed,
    /// A message was sent after this side started closing.
    #[error("connection is closing or closed, cannot send")]
    AlreadyClosed,
    /// The message to send is invalid (a control frame over 125 bytes, a
    /// close code that may not be sent).
    #[error("invalid message to send: {0}")]
    InvalidMessage(&'static str),
    /// The closing handshake did not finish within the close timeout.
    #[error("close handshake timed out")]
    CloseTimeout,
    /// Nothing arrived from the peer within the keepalive timeout after a
    /// ping: the peer is taken for gone. A close frame with 1011 was
    /// attempted, without waiting, and the transport dropped.
    #[error("keepalive timed out: nothing arrived after a ping")]
    KeepaliveTimeout,
    /// No data message was received or sent for the idle timeout: the
    /// connection was closed with 1001.
    #[error("idle timeout: no data message for too long")]
    IdleTimeout,
    /// Output made no progress for the write timeout (the peer stopped
    /// reading, or the connection is half open): the connection was
    /// dropped and what was queued freed.
    #[error("write timed out: the peer is not reading")]
    WriteTimeout,
}

impl Error {
    /// Whether this is a protocol violation by the peer.
    pub fn is_protocol(&self) -> bool {
        matches!(self, Error::Protocol(_))
    }

    /// Whether the connection closed (normally or not).
    pub fn is_closed(&self) -> bool {
        matches!(self, Error::ConnectionClosed | Error::AlreadyClosed)
    }

    /// Whether the transport failed.
    pub fn is_io(&self) -> bool {
        matches!(self, Error::Io(_))
    }

    /// Whether a timeout ended the connection (keepalive, idle, write or
    /// close).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Error::KeepaliveTimeout
                | Error::IdleTimeout
                | Error::WriteTimeout
                | Error::CloseTimeout
        )
    }

    /// The close code this side sent (or, for a keepalive timeout,
    /// attempted) because of the error, if any.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Error::Protocol(p) => Some(p.close_code()),
            Error::KeepaliveTimeout => Some(CloseCode::INTERNAL),
            Error::IdleTimeout => Some(CloseCode::GOING_AWAY),
            _ => None,
        }
    }
}

/// A violation of RFC 6455 by the peer, or of a limit set on this side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An opcode RFC 6455 does not define.
    #[error("unknown opcode {0:#x}")]
    UnknownOpcode(u8),
    /// A reserved bit set with no extension defining it.
    #[error("reserved bits set without a negotiated extension")]
    ReservedBits,
    /// A frame from the client without a mask.
    #[error("client frame is not masked")]
    UnmaskedFrame,
    /// A frame from the server with a mask (this side is the client).
    #[error("server frame is masked")]
    MaskedFrame,
    /// A length encoded in more bytes than needed.
    #[error("frame length not minimally encoded")]
    NonMinimalLength,
    /// A 64-bit length with the most significant bit set.
    #[error("frame length has the most significant bit set")]
    InvalidLength,
    /// A control frame with FIN clear.
    #[error("fragmented control frame")]
    FragmentedControl,
    /// A control frame with more than 125 bytes of payload.
    #[error("control frame payload over 125 bytes")]
    ControlTooLong,
    /// A continuation frame with no message in progress.
    #[error("continuation frame without a message to continue")]
    UnexpectedContinuation,
    /// A new data frame while a fragmented message is in progress.
    #[error("new data frame inside a fragmented message")]
    ExpectedContinuation,
    /// Text that is not UTF-8, or a close reason that is not.
    #[error("invalid utf-8 in text payload")]
    InvalidUtf8,
    /// A close frame with a 1-byte payload.
    #[error("close frame payload of one byte")]
    InvalidClosePayload,
    /// A close code that may not be sent.
    #[error("invalid close code {0}")]
    InvalidCloseCode(u16),
    /// A frame longer than the frame size limit.
    #[error("frame of {len} bytes over the limit of {limit}")]
    FrameTooLarge {
        /// The declared length.
        len: u64,
        /// The limit.
        limit: usize,
    },
    /// A message longer than the message size limit.
    #[error("message over the limit of {limit} bytes")]
    MessageTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A message in more fragments than the limit.
    #[error("message in more than {limit} fragments")]
    TooManyFragments {
        /// The limit.
        limit: usize,
    },
    /// A compressed message that is not valid DEFLATE data.
    #[error("invalid compressed data")]
    InvalidCompressedData,
}

impl From<crate::close::InvalidClose> for ProtocolError {
    fn from(e: crate::close::InvalidClose) -> Self {
        use crate::close::InvalidClose;
        match e {
            InvalidClose::OneByte => ProtocolError::InvalidClosePayload,
            InvalidClose::Code(code) => ProtocolError::InvalidCloseCode(code),
            InvalidClose::Utf8 => ProtocolError::InvalidUtf8,
        }
    }
}

impl ProtocolError {
    /// The close code the connection was failed with.
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 => CloseCode::INVALID_PAYLOAD,
            ProtocolError::FrameTooLarge { .. }
            | ProtocolError::MessageTooLarge { .. }
            | ProtocolError::TooManyFragments { .. } => CloseCode::TOO_BIG,
            _ => CloseCode::PROTOCOL,
        }
    }

    /// The close frame sent for this error.
    pub fn close_frame(&self) -> CloseFrame {
        let reason = match self.close_code() {
            CloseCode::INVALID_PAYLOAD => "invalid utf-8",
            CloseCode::TOO_BIG => "message too big",
            _ => "protocol error",
        };
        CloseFrame::new(self.close_code(), reason)
    }
}

/// Why an upgrade was refused or failed. [`HandshakeError::status`] gives the
/// HTTP status that was written (when the transport still allowed it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The transport failed while reading the request or writing the response.
    #[error("io error during handshake: {0}")]
    Io(#[from] io::Error),
    /// The transport's own handshake failed: a TLS handshake run by the
    /// server's [`Acceptor`](crate::server::Acceptor) (a client that sent
    /// no TLS, or refused the certificate, say).
    #[error("transport handshake failed: {0}")]
    Transport(#[source] io::Error),
    /// The handshake did not finish before its deadline.
    #[error("handshake timed out")]
    Timeout,
    /// The peer closed before sending a whole request head.
    #[error("connection closed before the request head was complete")]
    Incomplete,
    /// Not a parseable HTTP/1.1 request head, or a header value that is not
    /// visible ASCII.
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// The request head is over its size or header-count limit.
    #[error("request head too large")]
    HeadTooLarge,
    /// Not a GET.
    #[error("method not allowed: websocket upgrade requires GET")]
    MethodNotAllowed,
    /// `Connection` has no `upgrade` token.
    #[error("missing 'Connection: upgrade' header")]
    MissingConnectionUpgrade,
    /// `Upgrade` has no `websocket` token.
    #[error("missing 'Upgrade: websocket' header")]
    MissingUpgradeWebsocket,
    /// `Sec-WebSocket-Version` is not 13.
    #[error("unsupported websocket version")]
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` is missing or not base64 of 16 bytes.
    #[error("missing or invalid Sec-WebSocket-Key")]
    InvalidKey,
    /// The origin policy refused the request's `Origin`.
    #[error("origin not allowed")]
    OriginRefused,
    /// The application's hook refused the request with its own response.
    #[error("request refused by the application with status {0}")]
    Rejected(StatusCode),
    /// The HTTP server cannot hand the connection over: the request has no
    /// upgrade handle (it did not come through hyper's server) (500).
    #[error("the HTTP server cannot hand this connection over for an upgrade")]
    NotUpgradable,
    /// The server is at one of its connection caps: answered `503 Service
    /// Unavailable` with `Retry-After` (see
    /// [`Server::max_connections`](crate::server::Server::max_connections)).
    #[error("over capacity: too many {cap}")]
    OverCapacity {
        /// The cap that was reached.
        cap: ConnectionCap,
        /// When to try again, as the `Retry-After` header says it (whole
        /// seconds, rounded up).
        retry_after: Duration,
    },
}

/// One of a server's connection caps (see
/// [`Server::max_connections`](crate::server::Server::max_connections)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionCap {
    /// Open connections, in all.
    Connections,
    /// Handshakes in progress, in all.
    Handshakes,
    /// Open connections from one client IP.
    ConnectionsPerIp,
    /// Handshakes in progress from one client IP.
    HandshakesPerIp,
}

impl fmt::Display for ConnectionCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectionCap::Connections => "open connections",
            ConnectionCap::Handshakes => "handshakes in progress",
            ConnectionCap::ConnectionsPerIp => "open connections from this client",
            ConnectionCap::HandshakesPerIp => "handshakes in progress from this client",
        })
    }
}

impl HandshakeError {
    /// The HTTP status this error is answered with; `None` when no response
    /// can be written (transport failure, timeout, peer gone).
    pub fn status(&self) -> Option<StatusCode> {
        Some(match self {
            HandshakeError::Io(_)
            | HandshakeError::Transport(_)
            | HandshakeError::Timeout
            | HandshakeError::Incomplete => return None,
            HandshakeError::Malformed(_)
            | HandshakeError::MissingConnectionUpgrade
            | HandshakeError::InvalidKey => StatusCode::BAD_REQUEST,
            HandshakeError::HeadTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            HandshakeError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            HandshakeError::MissingUpgradeWebsocket | HandshakeError::UnsupportedVersion => {
                StatusCode::UPGRADE_REQUIRED
            }
            HandshakeError::OriginRefused => StatusCode::FORBIDDEN,
            HandshakeError::Rejected(s) => *s,
            HandshakeError::OverCapacity { .. } => StatusCode::SERVICE_UNAVAILABLE,
            HandshakeError::NotUpgradable => StatusCode::INTERNAL_SERVER_ERROR,
        })
    }

    /// Whether the request was refused (as opposed to the transport failing).
    pub fn is_rejection(&self) -> bool {
        self.status().is_some()
    }

    /// Whether the deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, HandshakeError::Timeout)
    }
}
