//! smol binding for wsup: the [`Runtime`] impl (wsup's timer thread, smol's
//! global executor) and the [`Server`] on a smol listener. smol's sockets
//! (`async-net`) implement `futures_io` already, so no IO adapter is needed.
//!
//! No protocol logic lives here: a unit struct and trait impls.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use smol::net::{TcpListener, TcpStream};
use wsup_core::client::{ClientError, Connect, Dialer, MaybeTls};
use wsup_core::http::Response;
use wsup_core::runtime::{BoxTask, Sleep, ThreadTimer};
use wsup_core::server::Listen;
pub use wsup_core::server::{Shutdown, ShutdownSummary};
use wsup_core::{HandshakeError, Runtime, Upgrader};

/// smol as a wsup [`Runtime`]: tasks on smol's global executor (one thread
/// unless `SMOL_THREADS` says otherwise); timers from [`ThreadTimer`] rather
/// than async-io, whose reactor allocates on every turn while a timer is
/// registered (keepalive keeps one per connection).
#[derive(Debug, Default, Clone, Copy)]
pub struct SmolRuntime;

impl Runtime for SmolRuntime {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(ThreadTimer::after(duration))
    }

    fn spawn(&self, task: BoxTask) {
        smol::spawn(task).detach();
    }
}

/// An [`Upgrader`] with this runtime's timers.
pub fn upgrader() -> Upgrader {
    Upgrader::new().runtime(Arc::new(SmolRuntime))
}

/// A WebSocket over a smol TCP stream.
pub type WebSocket = wsup_core::WebSocket<TcpStream>;

/// The server on a smol TCP listener:
/// `Server::new(listener, upgrader).with_graceful_shutdown(signal).run(handler)`
/// (see [`wsup_core::server::Server`]); `A` is its
/// [`Acceptor`](wsup_core::server::Acceptor), none by default.
pub type Server<A = wsup_core::server::Plain> = wsup_core::server::Server<SmolRuntime, A>;

/// The TLS acceptor (feature `tls`, futures-rustls's): `Server::new(listener,
/// upgrader).acceptor(TlsAcceptor::from(config))` serves `wss://`, with a
/// config from [`wsup_core::tls::server_config`] (PEM files).
#[cfg(feature = "tls")]
pub use wsup_core::tls::TlsAcceptor;

/// A WebSocket over TLS over a smol TCP stream (`wss://`; feature `tls`).
#[cfg(feature = "tls")]
pub type TlsWebSocket =
    wsup_core::WebSocket<wsup_core::tls::futures_rustls::server::TlsStream<TcpStream>>;

impl Listen for SmolRuntime {
    type Listener = TcpListener;
    type Io = TcpStream;

    async fn accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok((stream, peer))
    }
}

impl Connect for SmolRuntime {
    type Stream = TcpStream;

    fn connect<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send + 'a>> {
        Box::pin(async move {
            // async-net resolves the name and tries each address in turn.
            let stream = TcpStream::connect((host, port)).await?;
            let _ = stream.set_nodelay(true);
            Ok(stream)
        })
    }
}

/// Accepts connections on `listener` until a fatal accept error, upgrading
/// each in its own task and handing the connection to `handler`: the short
/// form of [`Server`], with no shutdown signal.
pub async fn serve<F, Fut>(listener: TcpListener, upgrader: Upgrader, handler: F) -> io::Result<()>
where
    F: Fn(WebSocket, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Server::new(listener, upgrader).run(handler).await.map(drop)
}

/// Upgrades one accepted TCP stream.
pub async fn upgrade(upgrader: &Upgrader, stream: TcpStream) -> Result<WebSocket, HandshakeError> {
    upgrader.upgrade(stream).await
}

/// A client connection over this runtime's TCP (TLS over it for `wss://`).
pub type ClientWebSocket = wsup_core::WebSocket<MaybeTls<TcpStream>>;

/// A [`Dialer`] with this runtime's timers (the handshake deadline,
/// keepalive, the close timeout).
pub fn dialer() -> Dialer {
    Dialer::new().runtime(Arc::new(SmolRuntime))
}

/// Opens a client connection to `url` (`ws://` or `wss://`) with the
/// default [`dialer`]: the connection and the server's `101`.
pub async fn connect(url: &str) -> Result<(ClientWebSocket, Response<()>), ClientError> {
    dialer().connect(&SmolRuntime, url).await
}

/// Opens a client connection to `url` with `dialer`'s settings, on this
/// runtime (its timers, unless the dialer has a runtime).
pub async fn connect_with(
    dialer: &Dialer,
    url: &str,
) -> Result<(ClientWebSocket, Response<()>), ClientError> {
    dialer.connect_on::<SmolRuntime>(url).await
}
