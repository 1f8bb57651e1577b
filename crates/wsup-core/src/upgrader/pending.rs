//! A request whose head was read, not yet answered: [`PendingUpgrade`].

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::HeaderMap;
use http::request::Parts;
use http::Response;

use super::Upgrader;
use crate::conn::{Notice, WebSocket};
use crate::error::HandshakeError;
use crate::handshake::is_upgrade_request;
use crate::runtime::timeout;
use crate::source::UpgradeSource;

/// A request head read from a raw source, not yet answered: route it, then
/// [`upgrade`](Self::upgrade) or [`respond`](Self::respond). The handshake
/// deadline started when the head began to be read and still runs.
#[derive(Debug)]
pub struct PendingUpgrade<'u, S> {
    pub(super) upgrader: UpgraderRef<'u>,
    pub(super) source: S,
    pub(super) parts: Parts,
    pub(super) deadline: Instant,
    /// The server that runs the connection, if one does (see
    /// `Server::run_requests`), and the peer it accepted.
    pub(super) server: Option<(Arc<Notice>, std::net::SocketAddr)>,
}

/// The upgrader a pending request is answered with: borrowed from the
/// caller, or shared by a server's connection tasks.
#[derive(Debug)]
pub(super) enum UpgraderRef<'u> {
    Borrowed(&'u Upgrader),
    Shared(Arc<Upgrader>),
}

impl std::ops::Deref for UpgraderRef<'_> {
    type Target = Upgrader;

    fn deref(&self) -> &Upgrader {
        match self {
            UpgraderRef::Borrowed(u) => u,
            UpgraderRef::Shared(u) => u,
        }
    }
}

impl<S: UpgradeSource> PendingUpgrade<'_, S> {
    /// The request head.
    pub fn parts(&self) -> &Parts {
        &self.parts
    }

    /// The request head, to add to (the server's extensions).
    pub(crate) fn parts_mut(&mut self) -> &mut Parts {
        &mut self.parts
    }

    /// Whether the request asks for a WebSocket at all.
    pub fn is_upgrade(&self) -> bool {
        is_upgrade_request(&self.parts)
    }

    /// Validates, negotiates and writes the 101 (or the rejection).
    pub async fn upgrade(self) -> Result<WebSocket<S::Io>, HandshakeError> {
        self.upgrade_with(HeaderMap::new()).await
    }

    /// As [`upgrade`](Self::upgrade), adding `headers` to the 101.
    pub async fn upgrade_with(
        self,
        headers: HeaderMap,
    ) -> Result<WebSocket<S::Io>, HandshakeError> {
        let u = &*self.upgrader;
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        match u.negotiate_with(&self.parts, headers) {
            Ok(mut accepted) => {
                let response = accepted.take_response();
                match timeout(
                    u.endpoint.runtime(),
                    remaining,
                    self.source.respond(response),
                )
                .await
                {
                    None => Err(HandshakeError::Timeout),
                    Some(Err(e)) => Err(e),
                    Some(Ok((io, leftover))) => {
                        let mut ws = accepted.into_websocket(io, leftover);
                        if let Some((notice, peer)) = self.server {
                            ws.attach_notice(notice);
                            ws.set_peer_addr(peer);
                        }
                        Ok(ws)
                    }
                }
            }
            Err(rejection) => {
                u.refused(&rejection);
                let _ = timeout(
                    u.endpoint.runtime(),
                    remaining,
                    self.source.respond(rejection.response),
                )
                .await;
                Err(rejection.error)
            }
        }
    }

    /// Refuses with `error`'s response (the [`on_error`](Upgrader::on_error)
    /// hook's, or the default), written within the handshake deadline, and
    /// gives the transport back when the write succeeded, so that the
    /// server can shut it gracefully (see `server/refuse.rs`).
    pub(crate) async fn refuse(self, error: HandshakeError) -> (Option<S::Io>, HandshakeError) {
        let u = &*self.upgrader;
        let rejection = u.reject(error);
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        let written = timeout(
            u.endpoint.runtime(),
            remaining,
            self.source.respond(rejection.response),
        )
        .await;
        (
            written.and_then(Result::ok).map(|(io, _)| io),
            rejection.error,
        )
    }

    /// The same request, owning a share of its upgrader, and run by the
    /// server that `notice` speaks for, which accepted it from `peer`.
    pub(crate) fn into_shared(
        self,
        upgrader: Arc<Upgrader>,
        notice: Arc<Notice>,
        peer: std::net::SocketAddr,
    ) -> PendingUpgrade<'static, S> {
        PendingUpgrade {
            upgrader: UpgraderRef::Shared(upgrader),
            source: self.source,
            parts: self.parts,
            deadline: self.deadline,
            server: Some((notice, peer)),
        }
    }

    /// Answers with a plain HTTP response instead (a fallback handler).
    pub async fn respond(self, response: Response<Bytes>) -> Result<(), HandshakeError> {
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        match timeout(
            self.upgrader.endpoint.runtime(),
            remaining,
            self.source.respond(response),
        )
        .await
        {
            None => Err(HandshakeError::Timeout),
            Some(r) => r.map(drop),
        }
    }
}
