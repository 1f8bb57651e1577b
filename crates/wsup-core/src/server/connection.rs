//! One connection's task: the handshake, then the handler, its panics
//! caught. The places where a refused handshake and a failed handler end
//! up are marked: that is where they are reported.

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::FutureExt;

use crate::conn::{Notice, WebSocket};
use crate::error::HandshakeError;
use crate::upgrader::Upgrader;

/// Upgrades `io` and runs `handler` on the connection, listening to
/// `notice`. A panic in the handler ends the connection with 1011 and this
/// task only.
pub(super) async fn run<T, H, HF>(
    upgrader: Arc<Upgrader>,
    handler: Arc<H>,
    io: T,
    peer: SocketAddr,
    notice: Arc<Notice>,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(WebSocket<T>, SocketAddr) -> HF + Send + Sync + 'static,
    HF: Future<Output = ()> + Send + 'static,
{
    let mut ws = match upgrader.upgrade(io).await {
        Ok(ws) => ws,
        Err(error) => return handshake_failed(peer, error),
    };
    ws.attach_notice(notice.clone());
    // Pinned here rather than awaited as a temporary, so that the handler's
    // future (and with it the connection, if it still owns it) is dropped
    // after the notice says why, not before.
    let mut handling = pin!(AssertUnwindSafe(handler(ws, peer)).catch_unwind());
    if let Err(panic) = handling.as_mut().await {
        // Usually the connection was dropped already, while the panic
        // unwound through the handler's future, and told the peer 1011
        // then (see `Driver::last_words`); if it lives on elsewhere, it
        // closes with 1011 now.
        notice.handler_failed();
        handler_panicked(peer, panic);
    }
}

/// Every handshake the server could not complete ends here; the upgrader
/// has answered the client already (400, 403, 426, ...: `error.status()`).
// Reported here once the server logs (issue 17, observability).
fn handshake_failed(peer: SocketAddr, error: HandshakeError) {
    let _ = (peer, error);
}

/// Every panic of a handler ends here, after its connection was closed
/// with 1011.
// Reported here once the server logs (issue 17, observability).
fn handler_panicked(peer: SocketAddr, panic: Box<dyn Any + Send>) {
    let _ = (peer, panic);
}
