//! The client role: a handshake over any `futures_io` stream, validated
//! strictly, and what it fails with.

mod error;
mod proxy;
mod url;

pub use error::ClientError;
pub use proxy::{tunnel, Proxy};
pub use url::Target;
