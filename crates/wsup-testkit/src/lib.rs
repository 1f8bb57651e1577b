//! Test support shared by wsup's unit tests, integration tests and benches:
//! client frames built by hand, server frames parsed for assertions, an
//! in-memory transport, a counting allocator, peers on 127.0.0.1 for client
//! tests (a `CONNECT` proxy among them), a redis-server of a test's own,
//! (feature `certs`) TLS certificates for tests, and (feature `h2`) an
//! HTTP/2 client for WebSockets over extended `CONNECT`.
//!
//! Independent of `wsup-core` (it deals in bytes and `u8` opcodes), so the
//! engine's own unit tests can use it, and what it parses is checked by code
//! that does not share the engine's frame decoder.
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod alloc;
#[cfg(feature = "certs")]
pub mod certs;
mod frame;
#[cfg(feature = "h2")]
pub mod h2;
mod head;
mod log;
mod mem;
pub mod redis;
pub mod tcp;

pub use alloc::{
    alloc_counts, answer_alloc_counts_on_stdin, live_bytes, process_live_bytes, process_reset_peak,
    reset_peak, CountingAlloc, LiveAlloc, ProcessLiveAlloc,
};
pub use frame::{
    client_frame, encode_frame, noise, parse_frame, parse_frames, server_frame, Frame, MASK,
    OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RSV1,
};
pub use head::{header, read_head, read_switching, read_whole_head};
pub use log::{line_with, LogBuffer};
pub use mem::{Mem, Output};
