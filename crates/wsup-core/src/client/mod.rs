//! The client role: a handshake over any `futures_io` stream, validated
//! strictly, and what it fails with.

mod error;

pub use error::ClientError;
