//! async-std binding for wsup.
//!
//! async-std is discontinued upstream (its authors point to smol), and it runs
//! on the same async-io reactor as smol, so this binding is deliberately thin:
//! a [`Runtime`] impl over async-std's timers and task spawner, and an accept
//! loop. async-std's sockets implement `futures_io` already. The accept loop
//! itself is the one all bindings share, `wsup_core::runtime::serve`. New
//! code should prefer `wsup-smol`.
#![warn(missing_docs)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_std::net::{TcpListener, TcpStream};
use wsup_core::runtime::{BoxTask, Sleep};
use wsup_core::{HandshakeError, Runtime, Upgrader};

/// async-std as a wsup [`Runtime`].
#[derive(Debug, Default, Clone, Copy)]
pub struct AsyncStdRuntime;

impl Runtime for AsyncStdRuntime {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(async_std::task::sleep(duration))
    }

    fn spawn(&self, task: BoxTask) {
        async_std::task::spawn(task);
    }
}

/// An [`Upgrader`] with async-std's timers.
pub fn upgrader() -> Upgrader {
    Upgrader::new().runtime(Arc::new(AsyncStdRuntime))
}

/// A WebSocket over an async-std TCP stream.
pub type WebSocket = wsup_core::WebSocket<TcpStream>;

/// Accepts connections on `listener` forever, upgrading each in its own task
/// and handing the connection to `handler`.
pub async fn serve<F, Fut>(listener: TcpListener, upgrader: Upgrader, handler: F) -> io::Result<()>
where
    F: Fn(WebSocket, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let accept = || async {
        let (stream, peer) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok((stream, peer))
    };
    wsup_core::runtime::serve(Arc::new(AsyncStdRuntime), upgrader, accept, handler).await
}

/// Upgrades one accepted TCP stream.
pub async fn upgrade(upgrader: &Upgrader, stream: TcpStream) -> Result<WebSocket, HandshakeError> {
    upgrader.upgrade(stream).await
}
