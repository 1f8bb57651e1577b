//! **wsup**: a WebSocket library for Rust, server and client.
//!
//! An [`Upgrader`], modelled on gorilla/websocket's, turns an HTTP/1.1
//! upgrade request (or an HTTP/2 extended CONNECT) into a [`WebSocket`]: the
//! origin check, subprotocols, permessage-deflate, limits and timeouts in
//! one place. The connection reads and writes whole messages or streams
//! them, answers pings, pings a silent peer, and closes cleanly. The runtime
//! is a cargo feature: tokio, smol or async-std, or none at all over any
//! `futures_io` stream.
//!
//! # A server in ten lines
//!
//! ```no_run
//! # #[cfg(feature = "runtime-tokio")]
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//!     wsup::tokio::serve(listener, wsup::tokio::upgrader(), |mut ws, _peer| async move {
//!         while let Ok(msg) = ws.recv().await {
//!             if msg.is_data() && ws.feed(msg).await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//!     .await
//! }
//! # #[cfg(not(feature = "runtime-tokio"))]
//! # fn main() {}
//! ```
//!
//! `serve` accepts forever, a task per connection; `upgrader()` is an
//! [`Upgrader`] with tokio's timers (the handshake deadline, keepalive, the
//! close timeout). [`WebSocket::recv`] returns each data message whole and
//! answers pings itself.
//!
//! **The one rule for writing**: [`WebSocket::feed`] queues a message;
//! the connection writes what is queued whenever it would wait for input
//! (inside `recv`), when the queue passes its flush threshold, and on
//! `flush`, `send` and `close`. So a loop that answers what it receives
//! feeds, and the answers to a burst of input share one write (one
//! syscall) instead of one each. [`WebSocket::send`] is `feed` then
//! `flush`: when it returns, the message has been handed to the transport.
//! Use it when the next thing the task awaits is not this connection's
//! `recv` (a database, a timer, another socket), or the message would wait
//! in the queue until then.
//!
//! # Cargo features
//!
//! | feature | what it adds |
//! |---|---|
//! | `runtime-tokio` (default) | `tokio`: `upgrader()`, `serve()`, `Server`, `upgrade()`, and the client's `dialer()`, `connect()`, `connect_with()`, on tokio |
//! | `runtime-smol` | `smol`: the same on smol |
//! | `runtime-async-std` | `async_std`: the same on async-std (discontinued upstream; prefer smol) |
//! | `hyper` | `hyper`: upgrade requests inside a hyper 1.x service, HTTP/1.1 and HTTP/2, on any runtime |
//! | `axum` | `axum`: the `WebSocketUpgrade` extractor for axum 0.8 (tokio) |
//! | `tls` | `tls`: rustls server configs from PEM files and each binding's `TlsAcceptor` for `wss://`; the client's `wss://` |
//! | `tracing` (default) | a span per connection, events for refusals, closes, timeouts (free without a subscriber) |
//! | `metrics` | [`ServerStats`] published through the `metrics` facade |
//!
//! Features are additive: any combination builds. With no runtime feature
//! the runtime-independent API remains, for any `futures_io` stream.
//!
//! # Other runtimes
//!
//! Each binding has the same few items; on smol:
//!
//! ```no_run
//! # #[cfg(feature = "runtime-smol")]
//! fn main() -> std::io::Result<()> {
//!     smol::block_on(async {
//!         let listener = smol::net::TcpListener::bind("127.0.0.1:9001").await?;
//!         wsup::smol::serve(listener, wsup::smol::upgrader(), |mut ws, _peer| async move {
//!             while let Ok(msg) = ws.recv().await {
//!                 if msg.is_data() && ws.feed(msg).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         })
//!         .await
//!     })
//! }
//! # #[cfg(not(feature = "runtime-smol"))]
//! # fn main() {}
//! ```
//!
//! # A client
//!
//! ```no_run
//! # #[cfg(feature = "runtime-tokio")]
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let (mut ws, _response) = wsup::tokio::connect("ws://127.0.0.1:9001/").await?;
//!     ws.send(wsup::Message::text("hello")).await?;
//!     println!("{:?}", ws.recv().await?);
//!     ws.close(None).await?;
//!     Ok(())
//! }
//! # #[cfg(not(feature = "runtime-tokio"))]
//! # fn main() {}
//! ```
//!
//! Each binding's `dialer()` is a [`client::Dialer`] (gorilla's) with the
//! runtime's timers, to set before `connect_with(&dialer, url)`:
//!
//! ```no_run
//! # #[cfg(feature = "runtime-tokio")]
//! # async fn doc() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use wsup::client::Proxy;
//! use wsup::deflate::DeflateConfig;
//! use wsup::http::{header, HeaderValue};
//!
//! let dialer = wsup::tokio::dialer()
//!     .protocols(["chat.v2", "chat.v1"])
//!     .compression(DeflateConfig::enabled()) // offered; the server may decline
//!     .header(header::AUTHORIZATION, HeaderValue::from_static("Bearer 123"))
//!     .proxy(Proxy::parse("http://proxy.internal:3128")?)
//!     .handshake_timeout(Duration::from_secs(10))
//!     .keepalive_interval(Some(Duration::from_secs(30)));
//! match wsup::tokio::connect_with(&dialer, "wss://example.com/chat").await {
//!     Ok((ws, response)) => println!("{:?} {:?}", ws.subprotocol(), response.headers()),
//!     // A refusal keeps the server's status and body.
//!     Err(e) => println!("{e}: {:?}", e.response().map(|r| r.body())),
//! }
//! # Ok(())
//! # }
//! # fn main() {}
//! ```
//!
//! `wss://` needs the `tls` feature; it trusts the platform's roots unless
//! given a `client::TlsConnector` with other roots or a CA file.
//! [`client::Dialer::handshake`] runs the handshake over any `futures_io`
//! stream, without a runtime.
//!
//! # Inside hyper and axum
//!
//! With `hyper`, `wsup::hyper::upgrade(&upgrader, request)` answers an
//! upgrade request from inside any hyper service and hands over the
//! connection once hyper lets go of it (its crate documentation has a whole
//! service). With `axum`, the `WebSocketUpgrade` extractor takes the
//! upgrader from the router's state:
//!
//! ```no_run
//! # #[cfg(all(feature = "axum", feature = "runtime-tokio"))]
//! # mod doc {
//! use std::sync::Arc;
//! use axum::{response::Response, routing::any, Router};
//! use wsup::axum::WebSocketUpgrade;
//!
//! async fn ws(upgrade: WebSocketUpgrade) -> Response {
//!     upgrade.on_upgrade(|mut ws| async move {
//!         while let Ok(msg) = ws.recv().await {
//!             if msg.is_data() && ws.feed(msg).await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//! }
//!
//! // `any`: HTTP/1.1 upgrades are GET, HTTP/2 ones CONNECT.
//! pub fn app() -> Router {
//!     Router::new()
//!         .route("/ws", any(ws))
//!         .with_state(Arc::new(wsup::tokio::upgrader()))
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! # Compression, limits and timeouts
//!
//! All on the [`Upgrader`] (and in a [`WebSocketConfig`] for connections
//! made otherwise):
//!
//! ```no_run
//! use std::time::Duration;
//! use wsup::deflate::DeflateConfig;
//! use wsup::{OriginPolicy, Upgrader};
//!
//! let upgrader = Upgrader::new()
//!     .handshake_timeout(Duration::from_secs(5))
//!     .subprotocols(["chat.v2", "chat.v1"]) // the server's preference first
//!     .origin_policy(OriginPolicy::AllowList(vec!["https://example.com".into()]))
//!     .compression(DeflateConfig::enabled()) // permessage-deflate, off by default
//!     .max_message_size(1 << 20) // past it: close 1009
//!     .keepalive_interval(Some(Duration::from_secs(30))) // ping a silent peer (default 20 s)
//!     .idle_timeout(Some(Duration::from_secs(300))) // no data message: close 1001
//!     .write_timeout(Some(Duration::from_secs(10))); // a peer that stopped reading
//! # drop(upgrader);
//! ```
//!
//! Timers need a runtime: the bindings' `upgrader()` sets it, and the
//! server sets its own on an upgrader that has none.
//!
//! # Graceful shutdown, caps and TLS
//!
//! The server builder (`Server`, in each binding) stops on a signal: it
//! closes every connection with 1001, waits for them up to a deadline, then
//! aborts the rest and says how it went. It caps connections and handshakes
//! in total and per client IP (answering 503 past them), and runs a TLS
//! handshake per connection when given an acceptor:
//!
//! ```no_run
//! # #[cfg(all(feature = "runtime-tokio", feature = "tls"))]
//! # async fn doc() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use wsup::tokio::{upgrader, Server, TlsAcceptor};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:443").await?;
//! let tls = TlsAcceptor::from(wsup::tls::server_config("cert.pem", "key.pem")?);
//! let summary = Server::new(listener, upgrader())
//!     .acceptor(tls)
//!     .max_connections(10_000)
//!     .max_connections_per_ip(100)
//!     .shutdown_timeout(Duration::from_secs(10))
//!     .with_graceful_shutdown(async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     })
//!     .run(|mut ws, _peer| async move {
//!         while let Ok(msg) = ws.recv().await {
//!             if msg.is_data() && ws.feed(msg).await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//!     .await?;
//! println!("{summary:?}");
//! # Ok(())
//! # }
//! # fn main() {}
//! ```
//!
//! # Broadcasting: a hub
//!
//! A [`hub::Hub`] holds topics that connections subscribe to; `publish`
//! frames a message once and queues a reference to it on every subscriber
//! (no copy per subscriber), and each connection's own task writes it while
//! it waits for input. A connection leaves its topics when it ends. A
//! subscriber that falls behind is closed with 1013 by default, or has
//! messages dropped, or makes the publisher wait ([`hub::SlowConsumer`]).
//! Any task can send on a connection through its [`Sender`]. A chat room:
//!
//! ```no_run
//! # #[cfg(feature = "runtime-tokio")]
//! # async fn doc() -> std::io::Result<()> {
//! use wsup::hub::Hub;
//! use wsup::{Message, PreparedMessage};
//!
//! let hub = Hub::new();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! wsup::tokio::serve(listener, wsup::tokio::upgrader(), move |mut ws, _peer| {
//!     let hub = hub.clone();
//!     async move {
//!         hub.subscribe("lobby", &ws.sender());
//!         while let Ok(msg) = ws.recv().await {
//!             if let Message::Text(text) = msg {
//!                 hub.publish("lobby", PreparedMessage::text(text.as_str())).await;
//!             }
//!         }
//!     }
//! })
//! .await
//! # }
//! # fn main() {}
//! ```
//!
//! Hubs in several processes share their topics through a [`hub::Bridge`]:
//! the `wsup-redis` crate is one, over Redis pub/sub.
//!
//! # Observability
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
//! # Without a runtime
//!
//! Everything here but the runtime modules is `wsup-core`, re-exported:
//! [`WebSocket::from_raw`] runs the protocol over any `futures_io` stream
//! on which a handshake happened, and [`runtime::Runtime`] and
//! [`server::Listen`] are the two seams a binding for another runtime
//! implements (see `wsup-core`'s documentation).
//!
//! # Public dependencies
//!
//! wsup's API uses types of a few crates on purpose, and moves to their
//! next major versions only in a major version of its own: `http` 1.x
//! (requests, responses, headers, status codes; re-exported as
//! [`http`]), `bytes` 1.x ([`Bytes`], message payloads), `futures-io`
//! 0.3 (the transport traits; re-exported as [`futures_io`]) and
//! `futures-core` / `futures-sink` 0.3 (the connection is a `Stream` and a
//! `Sink`). Behind their features: `rustls` 0.23 with `futures-rustls` and
//! `tokio-rustls` 0.26 (`tls`), `hyper` 1.x (`hyper`), `axum` 0.8
//! (`axum`), `tracing` 0.1 (`WebSocket::span`) and `metrics` 0.24. Other
//! dependencies (zlib's bindings, the parsers, the hashes) are private.
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
