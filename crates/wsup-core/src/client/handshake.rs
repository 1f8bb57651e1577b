//! [`Handshake`]: what a successful opening handshake leaves, the
//! transport and what was agreed, for the connection to start from.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::Response;

use crate::config::WebSocketConfig;
use crate::deflate::{Agreed, DeflateConfig};
use crate::runtime::Runtime;

/// A handshake the server accepted with a `101` that passed every check:
/// the transport, the bytes that came after the response head (the first
/// frames may share its packet), the response, and what was agreed.
pub struct Handshake<S> {
    pub(super) io: S,
    pub(super) leftover: Bytes,
    pub(super) response: Response<()>,
    pub(super) protocol: Option<String>,
    pub(super) deflate: Option<(Agreed, DeflateConfig)>,
    pub(super) config: WebSocketConfig,
    pub(super) runtime: Option<Arc<dyn Runtime>>,
}

/// What a connection is built from (see [`Handshake::into_parts`]).
pub(crate) struct HandshakeParts<S> {
    /// The transport, past the response head.
    pub io: S,
    /// Bytes read past the response head: the first of the server's frames.
    pub leftover: Bytes,
    /// The `101` response.
    pub response: Response<()>,
    /// The subprotocol the server chose, one of those offered.
    pub protocol: Option<String>,
    /// permessage-deflate as agreed, with the dialer's config (its level and
    /// threshold), when the server accepted the offer.
    pub deflate: Option<(Agreed, DeflateConfig)>,
    /// The dialer's connection settings.
    pub config: WebSocketConfig,
    /// The dialer's runtime: the connection's timers.
    pub runtime: Option<Arc<dyn Runtime>>,
}

impl<S> Handshake<S> {
    /// The server's `101 Switching Protocols` (its headers: cookies set,
    /// say).
    pub fn response(&self) -> &Response<()> {
        &self.response
    }

    /// The subprotocol the server chose, one of those offered.
    pub fn subprotocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The permessage-deflate parameters agreed, if the server accepted
    /// the offer.
    pub fn compression(&self) -> Option<&Agreed> {
        self.deflate.as_ref().map(|(a, _)| a)
    }

    /// Bytes that arrived after the response head: the server's first
    /// frames, which the connection must read before the transport.
    pub fn leftover(&self) -> &Bytes {
        &self.leftover
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The transport, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The transport and the bytes that came after the response head, for
    /// a caller that speaks the protocol itself.
    pub fn into_inner(self) -> (S, Bytes) {
        (self.io, self.leftover)
    }

    /// Everything the connection is built from, in one move.
    pub(crate) fn into_parts(self) -> HandshakeParts<S> {
        HandshakeParts {
            io: self.io,
            leftover: self.leftover,
            response: self.response,
            protocol: self.protocol,
            deflate: self.deflate,
            config: self.config,
            runtime: self.runtime,
        }
    }
}

impl<S> fmt::Debug for Handshake<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handshake")
            .field("status", &self.response.status())
            .field("protocol", &self.protocol)
            .field("compression", &self.compression())
            .field("leftover", &self.leftover.len())
            .finish_non_exhaustive()
    }
}
