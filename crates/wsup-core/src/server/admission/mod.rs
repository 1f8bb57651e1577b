//! Connection caps: how many connections are open and how many handshakes
//! are in progress, in all and per client IP, each count held by a
//! [`Slot`] that gives its place back when dropped, however the task that
//! holds it ends (returned, panicked, aborted).
//!
//! A connection takes a handshake slot when accepted and, once its request
//! head is read and its client IP known, a connection slot, before the
//! 101. One that finds a cap reached is refused with 503 by a task that
//! holds a refusal slot instead: refusals in progress have an allowance of
//! their own, so a flood past the caps holds a bounded number of sockets;
//! past it, a connection is dropped at once.

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http::HeaderMap;

use super::client_ip::TrustedProxies;
use crate::error::{ConnectionCap, HandshakeError};
use crate::handshake::ServerScheme;

/// The default [refusal allowance](super::Server::max_refusals).
pub const DEFAULT_MAX_REFUSALS: usize = 64;

/// The default [`Retry-After`](super::Server::retry_after).
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The caps a server was built with: `None` is no cap.
#[derive(Debug, Clone)]
pub(crate) struct Caps {
    pub(crate) connections: Option<usize>,
    pub(crate) handshakes: Option<usize>,
    pub(crate) connections_per_ip: Option<usize>,
    pub(crate) handshakes_per_ip: Option<usize>,
    pub(crate) refusals: usize,
    pub(crate) retry_after: Duration,
    pub(crate) trusted: Option<TrustedProxies>,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            connections: None,
            handshakes: None,
            connections_per_ip: None,
            handshakes_per_ip: None,
            refusals: DEFAULT_MAX_REFUSALS,
            retry_after: DEFAULT_RETRY_AFTER,
            trusted: None,
        }
    }
}

/// A running server's caps and counts.
#[derive(Debug, Default)]
pub(crate) struct Admission {
    caps: Caps,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    connections: usize,
    handshakes: usize,
    refusals: usize,
    /// Only for the IPs with a count (and only with a per-IP cap set).
    per_ip: HashMap<IpAddr, PerIp>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct PerIp {
    connections: usize,
    handshakes: usize,
}

/// What to do with a connection just accepted.
#[derive(Debug)]
pub(crate) enum AtAccept {
    /// Read its request, holding this handshake slot.
    Handshake(Slot),
    /// Answer it 503 for this cap, holding this refusal slot.
    Refuse(Slot, ConnectionCap),
    /// Drop it at once: the refusal allowance is used up too.
    Drop(ConnectionCap),
}

impl Admission {
    pub(crate) fn new(caps: Caps) -> Self {
        Admission {
            caps,
            counts: Mutex::default(),
        }
    }

    /// Takes a handshake slot for a connection from `peer`, or says why
    /// not. The totals are checked here, and the handshakes per IP when
    /// `peer` is the client itself (not a trusted proxy, whose clients are
    /// known only from the head; a proxy sends whole heads anyway, so
    /// slow ones do not come through it). The connection cap is checked
    /// here too, so that a client that could not get a connection slot
    /// waits on no handshake slot; it is taken after the head (see
    /// [`connect`](Self::connect)).
    pub(crate) fn at_accept(self: &Arc<Self>, peer: IpAddr) -> AtAccept {
        let peer = peer.to_canonical();
        let per_ip = match &self.caps.trusted {
            Some(proxies) if proxies.is_trusted(peer) => None,
            _ => self.caps.handshakes_per_ip.map(|cap| (peer, cap)),
        };
        let mut counts = self.counts();
        let refused = if over(self.caps.handshakes, counts.handshakes) {
            Some(ConnectionCap::Handshakes)
        } else if over(self.caps.connections, counts.connections) {
            Some(ConnectionCap::Connections)
        } else if per_ip.is_some_and(|(ip, cap)| counts.ip(ip).handshakes >= cap) {
            Some(ConnectionCap::HandshakesPerIp)
        } else {
            None
        };
        let (kind, ip) = match refused {
            None => (Kind::Handshake, per_ip.map(|(ip, _)| ip)),
            Some(cap) if counts.refusals >= self.caps.refusals => return AtAccept::Drop(cap),
            Some(_) => (Kind::Refusal, None),
        };
        let slot = self.take(&mut counts, kind, ip);
        match refused {
            None => AtAccept::Handshake(slot),
            Some(cap) => AtAccept::Refuse(slot, cap),
        }
    }

    /// The client's IP for a request with `headers` from `peer`.
    pub(crate) fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        match &self.caps.trusted {
            Some(proxies) => proxies.client_ip(peer, headers),
            None => peer.to_canonical(),
        }
    }

    /// The scheme a trusted proxy says the client reached it by (see
    /// [`TrustedProxies::scheme`]); `None` without trusted proxies.
    pub(crate) fn forwarded_scheme(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
    ) -> Option<ServerScheme> {
        self.caps.trusted.as_ref()?.scheme(peer, headers)
    }

    /// Takes a connection slot for `client`, or names the cap reached.
    pub(crate) fn connect(self: &Arc<Self>, client: IpAddr) -> Result<Slot, ConnectionCap> {
        let per_ip = self.caps.connections_per_ip.map(|cap| (client, cap));
        let mut counts = self.counts();
        if over(self.caps.connections, counts.connections) {
            return Err(ConnectionCap::Connections);
        }
        if per_ip.is_some_and(|(ip, cap)| counts.ip(ip).connections >= cap) {
            return Err(ConnectionCap::ConnectionsPerIp);
        }
        Ok(self.take(&mut counts, Kind::Connection, per_ip.map(|(ip, _)| ip)))
    }

    /// The refusal for `cap`, with this server's `Retry-After`.
    pub(crate) fn over_capacity(&self, cap: ConnectionCap) -> HandshakeError {
        HandshakeError::OverCapacity {
            cap,
            retry_after: self.caps.retry_after,
        }
    }

    fn take(self: &Arc<Self>, counts: &mut Counts, kind: Kind, ip: Option<IpAddr>) -> Slot {
        *counts.total(kind) += 1;
        if let Some(ip) = ip {
            *counts.per_ip.entry(ip).or_default().get(kind) += 1;
        }
        Slot {
            admission: self.clone(),
            kind,
            ip,
        }
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        // Nothing panics while holding the lock; a poisoned one is still sound.
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether a count has reached its cap.
fn over(cap: Option<usize>, count: usize) -> bool {
    cap.is_some_and(|cap| count >= cap)
}

impl Counts {
    fn ip(&self, ip: IpAddr) -> PerIp {
        self.per_ip.get(&ip).copied().unwrap_or_default()
    }

    fn total(&mut self, kind: Kind) -> &mut usize {
        match kind {
            Kind::Connection => &mut self.connections,
            Kind::Handshake => &mut self.handshakes,
            Kind::Refusal => &mut self.refusals,
        }
    }
}

impl PerIp {
    fn get(&mut self, kind: Kind) -> &mut usize {
        match kind {
            Kind::Connection => &mut self.connections,
            // Refusals are not counted per IP.
            Kind::Handshake | Kind::Refusal => &mut self.handshakes,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connection,
    Handshake,
    Refusal,
}

/// A place under the caps, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    admission: Arc<Admission>,
    kind: Kind,
    /// The IP it is counted for too, if a per-IP cap applies.
    ip: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.admission.counts();
        *counts.total(self.kind) -= 1;
        if let Some(ip) = self.ip {
            if let Some(entry) = counts.per_ip.get_mut(&ip) {
                *entry.get(self.kind) -= 1;
                if *entry == PerIp::default() {
                    counts.per_ip.remove(&ip);
                }
            }
        }
    }
}
