//! Counters a program can read without any logging set up: per connection
//! ([`ConnectionStats`], from `WebSocket::stats`) and per server
//! ([`ServerStats`], shared by the connections of one server).
//!
//! The per-connection counts are plain integers in the protocol, added to
//! where a message is already handed out or queued: no atomics, no clock on
//! the per-message path. The server's are relaxed atomics, touched once per
//! handshake and once per connection end.

mod server;

use std::time::{Duration, Instant};

pub use self::server::{
    ServerStats, ServerStatsSnapshot, CLOSE_CODE_LABELS, REFUSED_STATUS_LABELS,
};

use crate::close::CloseCode;

/// What one connection has received and sent so far, and when it opened.
///
/// Data messages only: text and binary messages, counted once each however
/// many frames they took, and their payload bytes as the application sees
/// them (before compression on the way out, after decompression on the way
/// in; frame headers not included). Control frames (pings, pongs, close)
/// are not counted. A message sent in pieces counts when its last piece is
/// queued, its bytes as each piece is; a message received in pieces
/// likewise when its last piece is handed out. "Sent" means queued: bytes
/// still in the output queue are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Data messages received.
    pub messages_received: u64,
    /// Payload bytes of the data messages received.
    pub bytes_received: u64,
    /// Data messages sent.
    pub messages_sent: u64,
    /// Payload bytes of the data messages sent.
    pub bytes_sent: u64,
    /// When the connection was opened (its handshake done).
    pub opened_at: Instant,
}

impl ConnectionStats {
    pub(crate) fn new(counts: Counts, opened_at: Instant) -> Self {
        ConnectionStats {
            messages_received: counts.messages_received,
            bytes_received: counts.bytes_received,
            messages_sent: counts.messages_sent,
            bytes_sent: counts.bytes_sent,
            opened_at,
        }
    }

    /// How long the connection has been open.
    pub fn age(&self) -> Duration {
        self.opened_at.elapsed()
    }
}

/// The protocol's counts (see [`ConnectionStats`]).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counts {
    pub(crate) messages_received: u64,
    pub(crate) bytes_received: u64,
    pub(crate) messages_sent: u64,
    pub(crate) bytes_sent: u64,
}

impl Counts {
    /// A piece of a data message handed to the application.
    #[inline]
    pub(crate) fn received_piece(&mut self, len: usize, last: bool) {
        self.messages_received += u64::from(last);
        self.bytes_received += len as u64;
    }

    /// A data message, or a piece of one, queued.
    #[inline]
    pub(crate) fn sent_piece(&mut self, len: usize, last: bool) {
        self.messages_sent += u64::from(last);
        self.bytes_sent += len as u64;
    }
}

/// Who started the closing handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClosedBy {
    /// The peer's close frame came first.
    Peer,
    /// This side's close frame was queued first (the application, a
    /// protocol error, a timeout, the server going away), on a server.
    Server,
    /// The same, on a client.
    Client,
}

impl ClosedBy {
    /// This side, in `role`.
    pub(crate) fn this_side(role: crate::role::Role) -> Self {
        match role {
            crate::role::Role::Server => ClosedBy::Server,
            crate::role::Role::Client => ClosedBy::Client,
        }
    }

    #[cfg(feature = "tracing")]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ClosedBy::Peer => "peer",
            ClosedBy::Server => "server",
            ClosedBy::Client => "client",
        }
    }
}

/// The first close frame of a connection: who sent it, and its code (none
/// for an empty close frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FirstClose {
    pub(crate) by: ClosedBy,
    pub(crate) code: Option<CloseCode>,
}

impl FirstClose {
    /// The code a connection ended with that started closing this way, or
    /// never did (`None`): 1005 for a close frame without a code, 1006 for
    /// no close frame at all (RFC 6455 7.1.5, 7.4.1).
    pub(crate) fn code_of(first: Option<FirstClose>) -> CloseCode {
        match first {
            Some(FirstClose { code: Some(c), .. }) => c,
            Some(FirstClose { code: None, .. }) => CloseCode::NO_STATUS,
            None => CloseCode::ABNORMAL,
        }
    }
}

#[cfg(test)]
mod tests;
