//! The short form of the [server](crate::server): accept, upgrade each
//! connection in its own task, hand it to a handler, with no shutdown
//! signal. Over an accept closure, so that any listener fits. For TLS, use
//! [`Server::acceptor`](crate::server::Server::acceptor): it runs the TLS
//! handshake in each connection's task, where a slow client holds up no
//! one, rather than in the accept loop (a closure that awaited it would).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_io::{AsyncRead, AsyncWrite};

use crate::conn::WebSocket;
use crate::runtime::Runtime;
use crate::server::{Options, Plain, Upgrades};
use crate::upgrader::Upgrader;

/// Accepts with `accept` and runs `handler` on each connection in its own
/// task on `runtime` (which `upgrader` gets if it has no runtime). Returns
/// only on a fatal accept error (the listener is broken), after the open
/// connections are shut down as by [`crate::server::Server`]; the errors
/// of one connection are skipped, and running out of file descriptors
/// pauses accepting.
pub async fn serve<A, AF, T, H, HF>(
    runtime: Arc<dyn Runtime>,
    upgrader: Upgrader,
    accept: A,
    handler: H,
) -> io::Result<()>
where
    A: FnMut() -> AF,
    AF: Future<Output = io::Result<(T, SocketAddr)>>,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(WebSocket<T>, SocketAddr) -> HF + Send + Sync + 'static,
    HF: Future<Output = ()> + Send + 'static,
{
    Options::new(runtime, upgrader)
        .run(accept, Plain, Upgrades(handler))
        .await
        .map(drop)
}
