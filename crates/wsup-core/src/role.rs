//! Which end of the connection this side is.

/// Which end of a WebSocket connection this side is (RFC 6455 section 5.1).
///
/// A client masks every frame it sends with a fresh key and refuses masked
/// frames from the server; a server refuses unmasked frames and masks none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The side that accepted the connection and answered the upgrade.
    Server,
    /// The side that opened the connection and sent the upgrade request.
    Client,
}
