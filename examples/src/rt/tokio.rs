//! tokio, on one thread: the benchmarks measure per-core efficiency.

use std::future::Future;
use std::io;

/// The TLS acceptor the server takes (`--tls`).
pub use wsup::tokio::TlsAcceptor;
/// The client side: a dialer with tokio's timers, a connection opened with
/// it, and its type.
pub use wsup::tokio::{connect_with, dialer, ClientWebSocket};
pub use wsup::tokio::{upgrader, Server};

/// This runtime behind wsup's seam (for hyper's timer, say).
pub fn runtime() -> std::sync::Arc<dyn wsup::Runtime> {
    std::sync::Arc::new(wsup::tokio::TokioRuntime)
}

/// The listener [`Server`] takes.
pub type TcpListener = tokio::net::TcpListener;
/// An accepted connection, as `futures_io` traits.
pub type TcpStream = wsup::tokio::TokioIo<tokio::net::TcpStream>;

/// Runs `main` to completion on a current-thread runtime.
pub fn block_on<T>(main: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(main)
}

pub async fn bind(addr: &str) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// A listener bound and listening already (see `ServerArgs::bind`), made
/// nonblocking.
pub fn listener_from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
    tokio::net::TcpListener::from_std(listener)
}

/// Resolves on SIGINT or SIGTERM: the signal to shut down gracefully.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
