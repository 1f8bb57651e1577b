//! Observability, written once: the span of each connection, the events
//! wsup logs through `tracing`, and the counts a [`ServerStats`] keeps.
//!
//! The engine calls one function here per fact (a handshake refused, a
//! connection opened, a connection ended); what each logs and counts is
//! decided here. Without the `tracing` feature the span is a zero-sized
//! value and the logging compiles to nothing; with it and no subscriber
//! installed, each event is one check of a cached interest. Nothing here
//! runs per message: the connection logs once when it opens and once when
//! it ends, and the per-message counts ([`Counts`]) are plain integers in
//! the protocol.
//!
//! Levels: refused handshakes at DEBUG (`status`, `reason`); a connection's
//! end at DEBUG when it closed normally, was dropped, went idle or lost its
//! transport, at INFO when the peer broke the protocol or stopped answering
//! pings, at WARN when the peer stopped reading (write timeout: it held
//! the server's memory until then). Nothing per message above TRACE.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, HandshakeError};
use crate::message::Message;
use crate::stats::{Counts, FirstClose, ServerStats};

/// The span of one connection: `tracing::Span` with the `tracing` feature,
/// nothing without.
#[cfg(feature = "tracing")]
pub(crate) type Span = tracing::Span;

/// The span of one connection: nothing, without the `tracing` feature.
#[cfg(not(feature = "tracing"))]
#[derive(Debug, Clone, Default)]
pub(crate) struct Span;

/// A span for a connection just accepted, child of the current one (a
/// server that runs the handshake inside a span of its own, with the peer's
/// address, gets the connection's nested in it): its path, subprotocol and
/// compression parameters, and an empty `peer` to record later.
#[inline]
pub(crate) fn connection_span(
    path: Option<&str>,
    subprotocol: Option<&str>,
    compression: Option<&crate::deflate::Agreed>,
) -> Span {
    #[cfg(feature = "tracing")]
    {
        tracing::info_span!(
            "websocket",
            peer = tracing::field::Empty,
            path,
            subprotocol,
            compression = compression.map(|a| tracing::field::display(a.response_header())),
        )
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (path, subprotocol, compression);
        Span
    }
}

/// Records the peer's address on a connection's span.
#[inline]
pub(crate) fn record_peer(span: &Span, peer: std::net::SocketAddr) {
    #[cfg(feature = "tracing")]
    span.record("peer", tracing::field::display(peer));
    #[cfg(not(feature = "tracing"))]
    let _ = (span, peer);
}

/// Records the subprotocol chosen after the span was made (an HTTP
/// integration's handler chose its own); none is recorded as empty.
#[inline]
pub(crate) fn record_subprotocol(span: &Span, subprotocol: Option<&str>) {
    #[cfg(feature = "tracing")]
    span.record("subprotocol", subprotocol.unwrap_or(""));
    #[cfg(not(feature = "tracing"))]
    let _ = (span, subprotocol);
}

/// A handshake refused with the response `status` (what was written, which
/// the application's `on_error` hook may have chosen), for `error`.
#[inline]
pub(crate) fn handshake_refused(
    stats: Option<&ServerStats>,
    status: http::StatusCode,
    error: &HandshakeError,
) {
    if let Some(stats) = stats {
        stats.refused(status);
    }
    #[cfg(feature = "tracing")]
    tracing::debug!(status = status.as_u16(), reason = %error, "websocket handshake refused");
    #[cfg(not(feature = "tracing"))]
    let _ = error;
}

/// What one connection reports when it ends: its span, when it opened, and
/// the server counters it counts in, if any. Reports once.
#[derive(Debug)]
pub(crate) struct Watch {
    pub(crate) opened: Instant,
    pub(crate) span: Span,
    server: Option<Arc<ServerStats>>,
    ended: bool,
}

impl Watch {
    /// A connection opened now, in `span`.
    pub(crate) fn new(span: Span) -> Self {
        #[cfg(feature = "tracing")]
        tracing::debug!(parent: &span, "websocket opened");
        Watch {
            opened: Instant::now(),
            span,
            server: None,
            ended: false,
        }
    }

    /// The connection counts in `stats`: opened now, closed when it ends.
    pub(crate) fn count_in(&mut self, stats: Arc<ServerStats>) {
        stats.accepted();
        self.server = Some(stats);
    }

    /// The connection ended, with `outcome` (what `recv` reports), or was
    /// dropped before it did (`None`). Only the first call reports.
    pub(crate) fn ended(
        &mut self,
        counts: Counts,
        first: Option<FirstClose>,
        outcome: Option<&Result<Message, Error>>,
    ) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        if let Some(stats) = &self.server {
            stats.closed(Some(FirstClose::code_of(first)));
        }
        #[cfg(feature = "tracing")]
        log_end(&self.span, self.opened.elapsed(), counts, first, outcome);
        #[cfg(not(feature = "tracing"))]
        let _ = (counts, outcome);
    }
}

/// The one event of a connection's end: why (the message and level), the
/// close code and who sent the first close frame (`by`: `peer`, or this
/// side, `server` or `client`, or `none` when no close frame was seen,
/// code 1006), the peer's reason,
/// the error if one ended it, how long it lasted, and what went each way.
#[cfg(feature = "tracing")]
fn log_end(
    span: &Span,
    duration: Duration,
    c: Counts,
    first: Option<FirstClose>,
    outcome: Option<&Result<Message, Error>>,
) {
    let code = FirstClose::code_of(first).0;
    let by = first.map_or("none", |f| f.by.as_str());
    let (reason, error) = match outcome {
        Some(Ok(Message::Close(Some(frame)))) => (frame.reason.as_str(), None),
        Some(Err(Error::ConnectionClosed)) | Some(Ok(_)) | None => ("", None),
        Some(Err(e)) => ("", Some(e)),
    };
    macro_rules! end_event {
        ($level:ident, $what:literal) => {
            tracing::event!(
                parent: span,
                tracing::Level::$level,
                code,
                by,
                reason,
                error = error.map(tracing::field::display),
                duration = ?duration,
                messages_in = c.messages_received,
                bytes_in = c.bytes_received,
                messages_out = c.messages_sent,
                bytes_out = c.bytes_sent,
                $what
            )
        };
    }
    match outcome {
        None => end_event!(DEBUG, "websocket dropped"),
        Some(Ok(_) | Err(Error::ConnectionClosed)) => end_event!(DEBUG, "websocket closed"),
        Some(Err(Error::Protocol(_))) => end_event!(INFO, "websocket protocol error"),
        Some(Err(Error::KeepaliveTimeout)) => end_event!(INFO, "websocket keepalive timeout"),
        Some(Err(Error::WriteTimeout)) => end_event!(WARN, "websocket write timeout"),
        Some(Err(Error::IdleTimeout)) => end_event!(DEBUG, "websocket idle timeout"),
        Some(Err(Error::CloseTimeout)) => end_event!(DEBUG, "websocket close timeout"),
        Some(Err(_)) => end_event!(DEBUG, "websocket lost"),
    }
}

#[cfg(all(test, feature = "tracing"))]
mod tests;

/// A handshake the server could not complete. A refusal was counted and
/// logged where it was answered (by the upgrader, or over a cap by the
/// server, before the 503 went out); what is left is logged here: the
/// transport failed, or the deadline passed.
pub(crate) fn handshake_failed(peer: std::net::SocketAddr, error: &HandshakeError) {
    if !error.is_rejection() {
        #[cfg(feature = "tracing")]
        tracing::debug!(%peer, %error, "websocket handshake failed");
        #[cfg(not(feature = "tracing"))]
        let _ = peer;
    }
}

/// A connection past a cap and past the refusal allowance, closed at once
/// without an answer: counted as a 503.
pub(crate) fn connection_dropped(
    stats: &ServerStats,
    peer: std::net::SocketAddr,
    cap: crate::error::ConnectionCap,
) {
    stats.refused(http::StatusCode::SERVICE_UNAVAILABLE);
    #[cfg(feature = "tracing")]
    tracing::warn!(%peer, ?cap, "connection dropped unanswered: over capacity and refusal allowance");
    #[cfg(not(feature = "tracing"))]
    let _ = (peer, cap);
}

/// A handler panicked; its connection was closed with 1011. Logged in the
/// connection's span, when the server has it.
pub(crate) fn handler_panicked(
    peer: std::net::SocketAddr,
    panic: &(dyn std::any::Any + Send),
    span: Option<&Span>,
) {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)");
    #[cfg(feature = "tracing")]
    {
        let none = tracing::Span::none();
        tracing::error!(
            parent: span.unwrap_or(&none),
            %peer,
            panic = message,
            "websocket handler panicked; connection closed with 1011"
        );
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (peer, message, span);
}

/// An accept error: of one connection (skipped), resource exhaustion
/// (accepting pauses for `pause`), or fatal (the server stops).
pub(crate) fn accept_failed(error: &std::io::Error, pause: Option<Duration>, fatal: bool) {
    #[cfg(feature = "tracing")]
    {
        if fatal {
            tracing::error!(%error, "accept failed; the server stops");
        } else if let Some(pause) = pause {
            tracing::warn!(%error, ?pause, "accept failed: out of resources; pausing");
        } else {
            tracing::debug!(%error, "accept failed for one connection");
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (error, pause, fatal);
}

/// A graceful shutdown began, with `open` connections to close.
pub(crate) fn shutdown_began(open: usize) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        open,
        "websocket server shutting down: closing connections with 1001"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = open;
}

/// A graceful shutdown ended.
pub(crate) fn shutdown_done(closed: usize, aborted: usize, took: Duration) {
    #[cfg(feature = "tracing")]
    tracing::info!(closed, aborted, duration = ?took, "websocket server shut down");
    #[cfg(not(feature = "tracing"))]
    let _ = (closed, aborted, took);
}

/// Runs `fut` inside `span` (entered on each poll) with the `tracing`
/// feature; as it is without.
pub(crate) fn in_span<F: std::future::Future>(
    fut: F,
    span: &Span,
) -> impl std::future::Future<Output = F::Output> {
    #[cfg(feature = "tracing")]
    {
        tracing::Instrument::instrument(fut, span.clone())
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = span;
        fut
    }
}
