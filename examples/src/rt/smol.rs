//! smol, its global executor driving the tasks.

use std::future::Future;
use std::io;

/// The client side: a dialer with smol's timers, a connection opened with
/// it, and its type.
pub use wsup::smol::{connect_with, dialer, ClientWebSocket};
pub use wsup::smol::{upgrader, Server};
/// The TLS acceptor the server takes (`--tls`).
pub use wsup::tls::TlsAcceptor;

/// This runtime behind wsup's seam (for hyper's timer, say).
pub fn runtime() -> std::sync::Arc<dyn wsup::Runtime> {
    std::sync::Arc::new(wsup::smol::SmolRuntime)
}

/// The listener [`Server`] takes.
pub type TcpListener = smol::net::TcpListener;
/// An accepted connection, as `futures_io` traits.
pub type TcpStream = smol::net::TcpStream;

/// Runs `main` to completion on this thread.
pub fn block_on<T>(main: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    smol::block_on(main)
}

pub async fn bind(addr: &str) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// A listener bound and listening already (see `ServerArgs::bind`), made
/// nonblocking.
pub fn listener_from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
    smol::net::TcpListener::try_from(listener)
}

pub use crate::signals::shutdown_signal;
