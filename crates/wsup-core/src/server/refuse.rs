//! Refusing a connection over a cap so that the client reads the 503: the
//! response, then the end of the stream, not a reset.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

use crate::error::HandshakeError;
use crate::observe;
use crate::runtime::{timeout, Runtime};
use crate::source::UpgradeSource;
use crate::stats::ServerStats;
use crate::upgrader::PendingUpgrade;

/// The most input read and thrown away after a refusal.
const DRAIN_BYTES: usize = 64 * 1024;

/// The longest a refused connection is kept after its response, shutting
/// and draining it.
const DRAIN_TIME: Duration = Duration::from_secs(1);

/// Answers `pending` with `error` (a 503, within the handshake deadline),
/// counted and logged first, then closes gracefully; returns the error, as
/// the upgrader does.
pub(super) async fn refuse<S: UpgradeSource>(
    pending: PendingUpgrade<'_, S>,
    error: HandshakeError,
    runtime: &dyn Runtime,
    stats: &ServerStats,
) -> HandshakeError {
    if let Some(status) = error.status() {
        observe::handshake_refused(Some(stats), status, &error);
    }
    let (io, error) = pending.refuse(error).await;
    if let Some(io) = io {
        close_gracefully(io, runtime).await;
    }
    error
}

/// Shuts the write side, so the client reads the response and then the
/// end of the stream; then reads what the client still sends, up to
/// [`DRAIN_BYTES`] and within [`DRAIN_TIME`], before dropping. Closing a
/// socket with unread input makes the kernel send a reset, and a reset
/// that reaches the client before it read the response discards the
/// response from its buffer: the client would see "connection reset"
/// instead of the 503. Bounded both ways, so a client that keeps sending
/// holds the socket no longer.
async fn close_gracefully<T: AsyncRead + AsyncWrite + Unpin>(mut io: T, runtime: &dyn Runtime) {
    let drained = async {
        if poll_fn(|cx| Pin::new(&mut io).poll_close(cx))
            .await
            .is_err()
        {
            return;
        }
        let mut buf = vec![0; 4096];
        let mut left = DRAIN_BYTES;
        while left > 0 {
            match poll_fn(|cx| Pin::new(&mut io).poll_read(cx, &mut buf)).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = timeout(Some(runtime), DRAIN_TIME, drained).await;
}
