//! The client role: a handshake over any `futures_io` stream, validated
//! strictly, and what it fails with.

mod connect;
mod error;
mod proxy;
mod stream;
#[cfg(feature = "tls")]
mod tls;
mod url;

pub use connect::{open, Connect};
pub use error::ClientError;
pub use proxy::{tunnel, Proxy};
pub use stream::MaybeTls;
#[cfg(not(feature = "tls"))]
pub use stream::TlsConnector;
#[cfg(feature = "tls")]
pub use tls::{client_config, TlsConnector, TlsStream};
pub use url::Target;
