//! [`ServerStats`]: the counters of one server, shared by its connections.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use http::StatusCode;

use crate::close::CloseCode;

/// The HTTP statuses refusals are counted by (the ones wsup answers with),
/// as they appear in the `status` label; the last counts every other.
pub const REFUSED_STATUS_LABELS: [&str; 7] = ["400", "403", "405", "426", "431", "503", "other"];

/// The close codes closed connections are counted by, as they appear in the
/// `code` label; the last counts every other. 1005 counts a close frame
/// without a code, 1006 a connection that ended without any close frame.
pub const CLOSE_CODE_LABELS: [&str; 11] = [
    "1000", "1001", "1002", "1003", "1005", "1006", "1007", "1008", "1009", "1011", "other",
];

const STATUSES: [u16; 6] = [400, 403, 405, 426, 431, 503];
const CODES: [u16; 10] = [1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1011];

fn status_slot(status: u16) -> usize {
    STATUSES
        .iter()
        .position(|&s| s == status)
        .unwrap_or(STATUSES.len())
}

fn code_slot(code: u16) -> usize {
    CODES.iter().position(|&c| c == code).unwrap_or(CODES.len())
}

/// The counters of one server: connections open, handshakes accepted and
/// refused (by HTTP status), connections closed (by close code).
///
/// Shared (`Arc`) by everything that serves connections; each update is
/// one relaxed atomic add. Give it to an [`Upgrader`](crate::Upgrader)
/// ([`Upgrader::server_stats`](crate::Upgrader::server_stats)) and every
/// handshake it answers, and every connection it opens, is counted: a
/// connection counts as closed once, when it ends (or is dropped).
///
/// With the `metrics` feature, each update also goes to the
/// [`metrics`](https://docs.rs/metrics) facade, so that an exporter
/// (Prometheus, say) can publish them:
///
/// | name | kind | labels |
/// |---|---|---|
/// | `wsup_connections_open` | gauge | |
/// | `wsup_connections_accepted_total` | counter | |
/// | `wsup_handshakes_refused_total` | counter | `status`: see [`REFUSED_STATUS_LABELS`] |
/// | `wsup_connections_closed_total` | counter | `code`: see [`CLOSE_CODE_LABELS`] |
///
/// ```
/// use wsup_core::{CloseCode, ServerStats};
/// use wsup_core::http::StatusCode;
///
/// let stats = ServerStats::new();
/// stats.accepted();
/// stats.refused(StatusCode::METHOD_NOT_ALLOWED);
/// let now = stats.snapshot();
/// assert_eq!((now.open, now.accepted, now.refused_with(405)), (1, 1, 1));
/// stats.closed(Some(CloseCode::NORMAL));
/// assert_eq!(stats.snapshot().open, 0);
/// assert_eq!(stats.snapshot().closed_with(1000), 1);
/// ```
#[derive(Debug, Default)]
pub struct ServerStats {
    open: AtomicU64,
    accepted: AtomicU64,
    refused: [AtomicU64; REFUSED_STATUS_LABELS.len()],
    closed: [AtomicU64; CLOSE_CODE_LABELS.len()],
}

/// The counters of a [`ServerStats`] at one moment (each read on its own:
/// counts that move meanwhile may be off by the moves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ServerStatsSnapshot {
    /// Connections open: accepted and not ended yet.
    pub open: u64,
    /// Handshakes accepted (connections opened).
    pub accepted: u64,
    /// Handshakes refused, by status, in the order of
    /// [`REFUSED_STATUS_LABELS`].
    pub refused: [u64; REFUSED_STATUS_LABELS.len()],
    /// Connections closed, by close code, in the order of
    /// [`CLOSE_CODE_LABELS`].
    pub closed: [u64; CLOSE_CODE_LABELS.len()],
}

impl ServerStatsSnapshot {
    /// Handshakes refused with `status` (any status not in the table reads
    /// the "other" count).
    pub fn refused_with(&self, status: u16) -> u64 {
        self.refused[status_slot(status)]
    }

    /// Connections closed with `code` (any code not in the table reads the
    /// "other" count).
    pub fn closed_with(&self, code: u16) -> u64 {
        self.closed[code_slot(code)]
    }

    /// All handshakes refused.
    pub fn refused_total(&self) -> u64 {
        self.refused.iter().sum()
    }

    /// All connections closed.
    pub fn closed_total(&self) -> u64 {
        self.closed.iter().sum()
    }
}

impl ServerStats {
    /// Counters at zero, to share.
    pub fn new() -> std::sync::Arc<Self> {
        std::sync::Arc::default()
    }

    /// A handshake was accepted: one more connection open.
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Relaxed);
        self.open.fetch_add(1, Relaxed);
        #[cfg(feature = "metrics")]
        {
            metrics::counter!("wsup_connections_accepted_total").increment(1);
            metrics::gauge!("wsup_connections_open").increment(1.0);
        }
    }

    /// A handshake was refused with `status`.
    pub fn refused(&self, status: StatusCode) {
        let slot = status_slot(status.as_u16());
        self.refused[slot].fetch_add(1, Relaxed);
        #[cfg(feature = "metrics")]
        metrics::counter!("wsup_handshakes_refused_total", "status" => REFUSED_STATUS_LABELS[slot])
            .increment(1);
    }

    /// An accepted connection ended, with `code` (`None`: without a close
    /// frame, counted as 1006).
    pub fn closed(&self, code: Option<CloseCode>) {
        let slot = code_slot(code.unwrap_or(CloseCode::ABNORMAL).0);
        self.closed[slot].fetch_add(1, Relaxed);
        // Never below zero, whatever a caller does: a gauge that wraps
        // would read as four billion connections.
        let _ = self
            .open
            .fetch_update(Relaxed, Relaxed, |open| open.checked_sub(1));
        #[cfg(feature = "metrics")]
        {
            metrics::counter!("wsup_connections_closed_total", "code" => CLOSE_CODE_LABELS[slot])
                .increment(1);
            metrics::gauge!("wsup_connections_open").decrement(1.0);
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> ServerStatsSnapshot {
        ServerStatsSnapshot {
            open: self.open.load(Relaxed),
            accepted: self.accepted.load(Relaxed),
            refused: std::array::from_fn(|i| self.refused[i].load(Relaxed)),
            closed: std::array::from_fn(|i| self.closed[i].load(Relaxed)),
        }
    }
}
