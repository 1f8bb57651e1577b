//! **wsup**: a WebSocket server library.
//!
//! An [`Upgrader`] (modelled on gorilla/websocket's) turns an HTTP/1.1
//! upgrade request into a [`WebSocket`]. Everything runtime-independent is
//! re-exported from `wsup-core`; the runtime is chosen by cargo feature, and
//! each binding is a module:
//!
//! | feature | module |
//! |---|---|
//! | `runtime-tokio` (default) | [`tokio`](crate::tokio) |
//!
//! ```
//! use wsup::{Message, Upgrader};
//!
//! let upgrader = Upgrader::new().subprotocols(["chat"]);
//! assert!(Message::text("hi").is_data());
//! # drop(upgrader);
//! ```
#![warn(missing_docs)]

pub use wsup_core::*;

/// The tokio binding (feature `runtime-tokio`).
#[cfg(feature = "runtime-tokio")]
pub mod tokio {
    pub use wsup_tokio::*;
}
