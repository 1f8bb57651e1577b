//! The client role: a handshake over any `futures_io` stream, validated
//! strictly, and what it fails with.
//!
//! - `dialer.rs`: [`Dialer`], the settings (gorilla's surface) and the
//!   opening handshake over a connected stream;
//! - `request.rs`: the key, the `Host` header and the request head;
//! - `response.rs`: the response head parsed, a `101` checked, a refusal
//!   kept with its body;
//! - `handshake.rs`: [`Handshake`], what a `101` leaves for the connection;
//! - `error.rs`: [`ClientError`];
//! - `url.rs`: [`Target`], a `ws://` or `wss://` URL parsed;
//! - `connect.rs`: [`Connect`], the binding's TCP connect, and [`open`]:
//!   TCP, then `CONNECT` through a [`Proxy`] (`proxy.rs`), then TLS
//!   (`tls.rs`, [`TlsConnector`]), into a [`MaybeTls`] (`stream.rs`).
//!
//! The permessage-deflate offer and the check of the server's answer live
//! with the rest of the extension, in [`deflate`](crate::deflate).

mod connect;
mod dial;
mod dialer;
mod error;
mod handshake;
mod proxy;
mod request;
mod response;
mod stream;
#[cfg(test)]
mod tests;
#[cfg(feature = "tls")]
mod tls;
mod url;

pub use connect::{open, Connect, ConnectFuture};
pub use dialer::Dialer;
pub use error::ClientError;
pub use handshake::Handshake;
pub use proxy::{tunnel, Proxy};
pub use stream::MaybeTls;
#[cfg(not(feature = "tls"))]
pub use stream::TlsConnector;
#[cfg(feature = "tls")]
pub use tls::{client_config, TlsConnector, TlsStream};
pub use url::Target;
