//! smol binding for wsup: the [`Runtime`](wsup_core::Runtime) impl (wsup's timer thread, smol's
//! global executor) and the [`Server`] on a smol listener. smol's sockets
//! (`async-net`) implement `futures_io` already, so no IO adapter is needed.
//!
//! No protocol logic lives here: a unit struct and trait impls.
//! The impls and the functions every binding shares are written once, in
//! `wsup_core::runtime_binding!`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

use smol::net::{TcpListener, TcpStream};
use wsup_core::runtime::ThreadTimer;

/// smol as a wsup [`Runtime`](wsup_core::Runtime): tasks on smol's global
/// executor (one thread unless `SMOL_THREADS` says otherwise); timers from
/// [`ThreadTimer`] rather than async-io, whose reactor allocates on every
/// turn while a timer is registered (keepalive keeps one per connection).
/// A [`Server`] on it keeps a timer of async-io's firing every
/// [`ASYNC_IO_TICK`](wsup_core::runtime::ASYNC_IO_TICK) while it runs, so
/// that async-io's fallback thread does not keep the reactor from the
/// executor thread ([`ReactorTicks`](wsup_core::runtime::ReactorTicks)
/// says why and what it costs).
#[derive(Debug, Default, Clone, Copy)]
pub struct SmolRuntime;

wsup_core::runtime_binding! {
    runtime: SmolRuntime,
    name: "smol",
    sleep: ThreadTimer::after,
    reactor_tick: Some(wsup_core::runtime::ReactorTick::new(
        wsup_core::runtime::ASYNC_IO_TICK,
        |d| Box::pin(async move { smol::Timer::after(d).await; }),
    )),
    spawn: |task| smol::spawn(task).detach(),
    listener: TcpListener,
    tcp: TcpStream,
    io: TcpStream,
    wrap: std::convert::identity,
}

/// The TLS acceptor (feature `tls`, futures-rustls's): `Server::new(listener,
/// upgrader).acceptor(TlsAcceptor::from(config))` serves `wss://`, with a
/// config from [`wsup_core::tls::server_config`] (PEM files).
#[cfg(feature = "tls")]
pub use wsup_core::tls::TlsAcceptor;

/// A WebSocket over TLS over a smol TCP stream (`wss://`; feature `tls`).
#[cfg(feature = "tls")]
pub type TlsWebSocket =
    wsup_core::WebSocket<wsup_core::tls::futures_rustls::server::TlsStream<TcpStream>>;
