//! permessage-deflate (RFC 7692): negotiation and the per-message codec.
//!
//! One file per concern, everything re-exported here:
//!
//! - `config.rs`: [`DeflateConfig`] (what the server is willing to do) and
//!   [`Agreed`] (what one connection settled on), with the window-size
//!   bounds [`MIN_WINDOW_BITS`] and [`MAX_WINDOW_BITS`].
//! - `offer.rs`: the `Sec-WebSocket-Extensions` parser, [`parse_offers`] and
//!   [`parse_offers_bytes`], turning the client's header values into
//!   [`Offer`]s and [`Param`]s in linear time.
//! - `negotiation.rs`: [`negotiate`] picks the first offer the config can
//!   honour and returns the [`Agreed`] parameters;
//!   [`Agreed::response_header`] states them in the 101 response.
//! - `client.rs`: the client's side, the offer a config makes and the
//!   server's answer checked against it (for the client's `Dialer`).
//! - `pool.rs`: [`CodecPool`] lends zlib state to connections that keep no
//!   context between messages, so idle ones hold none.
//! - `budget.rs`: how many connections of a server keep a context between
//!   messages at once; past that, new ones negotiate no context takeover
//!   (`Upgrader::max_deflate_contexts`).
//! - `deflater.rs`: [`Deflater`] compresses what the server sends.
//! - `inflater.rs`: [`Inflater`] inflates what it receives, under a size limit
//!   enforced while inflating, and [`InflateError`] says why it could not.
//! - `tests/`: the unit tests, one file per concern.
//!
//! Raw DEFLATE with a chosen window size needs a zlib implementation; wsup
//! uses flate2 with the pure-Rust zlib-rs backend (no C toolchain, no
//! `unsafe` C code, and the zlib API including window bits and `deflateParams`).
//!
//! ```
//! use bytes::BytesMut;
//! use wsup_core::deflate::{negotiate, parse_offers, DeflateConfig, Deflater, Inflater};
//!
//! let config = DeflateConfig::enabled();
//! let offers = parse_offers(&["permessage-deflate; client_max_window_bits"]);
//! let agreed = negotiate(&offers, &config).expect("accepted");
//!
//! let mut deflater = Deflater::for_agreed(&agreed, &config);
//! let mut compressed = BytesMut::new();
//! deflater.compress(b"Hello", &mut compressed);
//! assert_eq!(&compressed[..], [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
//!
//! // The client's messages would be inflated the same way.
//! let mut inflater = Inflater::for_agreed(&agreed);
//! let mut plain = BytesMut::new();
//! inflater.decompress(&compressed, true, &mut plain, 1 << 20).unwrap();
//! assert_eq!(&plain[..], b"Hello");
//! ```

mod budget;
mod client;
mod config;
mod deflater;
mod inflater;
mod negotiation;
mod offer;
mod pool;
mod step;
#[cfg(test)]
mod tests;

pub(crate) use budget::{ContextBudget, ContextPermit, ServerShare};
pub(crate) use client::{accept_answer, offer_header};
pub use config::{Agreed, DeflateConfig, MAX_WINDOW_BITS, MIN_WINDOW_BITS};
pub use deflater::Deflater;
pub(crate) use inflater::Inflated;
pub use inflater::{InflateError, Inflater, INFLATE_STEP};
pub use negotiation::negotiate;
pub(crate) use offer::is_tchar;
pub use offer::{parse_offers, parse_offers_bytes, Offer, Param, PERMESSAGE_DEFLATE};
pub use pool::CodecPool;

/// The empty stored block a sync flush ends with; RFC 7692 removes it from
/// each message (the deflater) and the receiver puts it back (the inflater).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
