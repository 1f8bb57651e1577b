//! **wsup**: a WebSocket server library.
//!
//! An [`Upgrader`] (modelled on gorilla/websocket's) turns an HTTP/1.1
//! upgrade request into a [`WebSocket`]. Everything runtime-independent is
//! re-exported from `wsup-core`; the runtime is chosen by cargo feature, and
//! each binding is a module:
//!
//! | feature | module |
//! |---|---|
//! | `runtime-tokio` (default) | `wsup::tokio` |
//! | `runtime-smol` | `wsup::smol` |
//! | `runtime-async-std` | `wsup::async_std` (async-std is discontinued upstream; prefer smol) |
//!
//! | `hyper` | `wsup::hyper`: upgrade requests inside a hyper 1.x service, on any runtime |
//! | `axum` | `wsup::axum`: the `WebSocketUpgrade` extractor for axum 0.8 (tokio) |
//!
//! Features are additive: any combination builds, none included (then only
//! the runtime-independent API, for use with any `futures_io` stream).
//!
//! TLS (feature `tls`, rustls on the ring provider): `tls::server_config`
//! builds a config from PEM files, and each binding's `TlsAcceptor`, given
//! to [`Server::acceptor`](server::Server::acceptor), serves `wss://`; the
//! TLS handshake runs in each connection's task under the handshake
//! timeout.
//!
//! Observability:
//!
//! | feature | what |
//! |---|---|
//! | `tracing` (default) | a `websocket` span per connection (`path`, `subprotocol`, `compression`, `peer` once recorded with `WebSocket::set_peer_addr`); refused handshakes at DEBUG (`status`, `reason`); each connection's end once (`code`, `by`, `reason`, `error`, `duration`, `messages_in/out`, `bytes_in/out`): DEBUG when closed, dropped, idle or lost, INFO on a protocol error or keepalive timeout, WARN on a write timeout. Free without a subscriber. |
//! | `metrics` | [`ServerStats`] also publishes to the `metrics` facade: `wsup_connections_open`, `wsup_connections_accepted_total`, `wsup_handshakes_refused_total{status}`, `wsup_connections_closed_total{code}` |
//!
//! Without either, [`WebSocket::stats`] (data messages and bytes each way)
//! and [`ServerStats`] (given to an upgrader with
//! [`Upgrader::server_stats`]) still count.
//!
//! ```
//! use wsup::{Message, Upgrader};
//!
//! let upgrader = Upgrader::new().subprotocols(["chat"]);
//! assert!(Message::text("hi").is_data());
//! # drop(upgrader);
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub use wsup_core::*;

/// The tokio binding (feature `runtime-tokio`).
#[cfg(feature = "runtime-tokio")]
pub mod tokio {
    pub use wsup_tokio::*;
}

/// The smol binding (feature `runtime-smol`).
#[cfg(feature = "runtime-smol")]
pub mod smol {
    pub use wsup_smol::*;
}

/// The async-std binding (feature `runtime-async-std`).
#[cfg(feature = "runtime-async-std")]
pub mod async_std {
    pub use wsup_async_std::*;
}

/// hyper 1.x integration (feature `hyper`).
#[cfg(feature = "hyper")]
pub mod hyper {
    pub use wsup_hyper::*;
}

/// axum 0.8 integration (feature `axum`).
#[cfg(feature = "axum")]
pub mod axum {
    pub use wsup_axum::*;
}
