//! Runtime-agnostic core of **wsup**, a WebSocket library.
//!
//! An [`Upgrader`] turns an HTTP/1.1 upgrade request into a [`WebSocket`]
//! (RFC 6455). This crate holds everything that does not depend on an
//! executor: the handshake, the frame codec, the connection engine, and the
//! three seams to the outside world:
//!
//! - **transport**: any `futures_io::AsyncRead + AsyncWrite + Unpin` stream
//!   (a TCP stream, a TLS stream over one);
//! - **runtime** ([`Runtime`]): timers for the handshake and close timeouts,
//!   and spawning; object-safe, used only at cold boundaries;
//! - **upgrade source** ([`UpgradeSource`]): a raw stream whose request head
//!   wsup reads itself, or a request some HTTP server already parsed.
//!
//! The runtime bindings (`wsup-tokio`, ...) implement [`Runtime`] and adapt
//! their sockets; the `wsup` facade picks one by cargo feature.
//!
//! ```
//! use wsup_core::{Message, Upgrader};
//!
//! // Configuration needs no runtime; a binding adds the timers.
//! let upgrader = Upgrader::new().subprotocols(["chat.v2", "chat.v1"]).max_message_size(1 << 20);
//! assert_eq!(upgrader.websocket_config().max_message_size(), 1 << 20);
//! let msg = Message::text("hello");
//! assert!(msg.is_data());
//! ```
//!
//! # Binding a new runtime
//!
//! A binding is a unit type that implements [`Runtime`] (a timer and a
//! way to spawn; timers are armed only at cold boundaries, so a simple
//! timer will do: [`runtime::ThreadTimer`] serves any runtime from one
//! thread) and, for the accept loop of [`server::Server`],
//! [`server::Listen`] (its listener type and one `accept`). Its sockets
//! must implement `futures_io`'s traits, through a newtype if the runtime
//! has its own (the tokio binding's `TokioIo` is one). The `Runtime` half:
//!
//! ```
//! use std::pin::Pin;
//! use std::sync::Arc;
//! use std::time::Duration;
//! use wsup_core::runtime::{BoxTask, Runtime, Sleep, ThreadTimer};
//! use wsup_core::Upgrader;
//!
//! #[derive(Debug, Default, Clone, Copy)]
//! struct MyRuntime;
//!
//! impl Runtime for MyRuntime {
//!     fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
//!         Box::pin(ThreadTimer::after(duration))
//!     }
//!
//!     fn spawn(&self, task: BoxTask) {
//!         // Hand the task to the runtime's executor; a thread per task
//!         // stands in for one here.
//!         std::thread::spawn(move || futures_executor::block_on(task));
//!     }
//! }
//!
//! // The upgrader's handshake deadline, keepalive and close timeouts now
//! // run on it.
//! let upgrader = Upgrader::new().runtime(Arc::new(MyRuntime));
//! # drop(upgrader);
//! ```
//!
//! With that, [`Upgrader::upgrade`] over the runtime's sockets gives
//! [`WebSocket`]s; `wsup-smol` is a complete binding in about 100 lines.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod client;
mod close;
mod config;
mod conn;
pub mod deflate;
mod endpoint;
mod error;
pub mod frame;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod handshake;
pub mod hub;
mod message;
mod observe;
mod opaque;
mod pool;
mod prepared;
mod protocol;
mod role;
pub mod runtime;
pub mod serve;
pub mod server;
mod source;
pub mod stats;
#[cfg(feature = "tls")]
pub mod tls;
mod upgrader;
pub mod utf8;

pub use bytes::Bytes;
pub use client::ClientError;
pub use close::{CloseCode, CloseFrame};
pub use config::{WebSocketConfig, WebSocketConfigBuilder};
pub use conn::{
    IncomingMessage, MessageWriter, Outgoing, SendError, Sender, TrySendError, WebSocket,
    WebSocketReader, WebSocketWriter,
};
pub use error::{ConnectionCap, Error, HandshakeError, ProtocolError};
pub use handshake::{HeadLimits, OriginPolicy, ServerScheme};
pub use message::{Chunk, Message, MessageKind, Utf8Bytes};
pub use pool::{BufferPool, DefaultBufferPool};
pub use prepared::PreparedMessage;
pub use protocol::{Received, Replies};
pub use role::Role;
pub use runtime::Runtime;
pub use source::{Preparsed, RawStream, UpgradeSource};
pub use stats::{ConnectionStats, ServerStats};
pub use upgrader::{Accepted, PendingUpgrade, Rejection, Upgrader};

pub use futures_io;
pub use http;
