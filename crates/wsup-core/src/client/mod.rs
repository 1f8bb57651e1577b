//! The client role: a handshake over any `futures_io` stream, validated
//! strictly, and what it fails with.
//!
//! - `dialer.rs`: [`Dialer`], the settings (gorilla's surface) and the
//!   opening handshake over a connected stream;
//! - `request.rs`: the key, the `Host` header and the request head;
//! - `response.rs`: the response head parsed, a `101` checked, a refusal
//!   kept with its body;
//! - `handshake.rs`: [`Handshake`], what a `101` leaves for the connection;
//! - `error.rs`: [`ClientError`].
//!
//! The permessage-deflate offer and the check of the server's answer live
//! with the rest of the extension, in [`deflate`](crate::deflate).

mod dialer;
mod error;
mod handshake;
mod request;
mod response;
#[cfg(test)]
mod tests;

pub use dialer::Dialer;
pub use error::ClientError;
pub use handshake::Handshake;
