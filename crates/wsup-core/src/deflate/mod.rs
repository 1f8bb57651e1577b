//! permessage-deflate (RFC 7692): negotiation and the per-message codec.
//!
//! - [`params`]: [`DeflateConfig`] (the server's settings), [`parse_offers`]
//!   (the client's `Sec-WebSocket-Extensions`), [`negotiate`] and the
//!   [`Agreed`] parameters with their response header.
//! - [`codec`]: [`Deflater`] compresses what the server sends, [`Inflater`]
//!   inflates what it receives, under a size limit enforced while inflating;
//!   [`CodecPool`] lends zlib state to connections that keep no context
//!   between messages, so idle ones hold none.
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

pub mod codec;
pub mod params;

pub use codec::{CodecPool, Deflater, InflateError, Inflater, INFLATE_STEP};
pub use params::{
    negotiate, parse_offers, parse_offers_bytes, Agreed, DeflateConfig, Offer, Param,
    MAX_WINDOW_BITS, MIN_WINDOW_BITS, PERMESSAGE_DEFLATE,
};
