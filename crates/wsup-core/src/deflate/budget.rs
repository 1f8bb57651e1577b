//! [`ContextBudget`]: how many connections of one server may keep a
//! compression context between messages (context takeover) at once.
//!
//! A connection with context takeover keeps its zlib state for its whole
//! life: about 260 KiB for a 15-bit compressor and 40 KiB for a
//! decompressor. Past the budget, a new connection still gets
//! permessage-deflate, but with no context takeover either way, so its
//! zlib states are lent by the [`CodecPool`](super::CodecPool) for one
//! message at a time; memory is then bounded by configuration, not by the
//! number of connections.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::config::Agreed;
use super::pool::CodecPool;

/// The live contexts of one server, shared by every connection it
/// upgrades (and by the clones of its upgrader).
#[derive(Debug)]
pub(crate) struct ContextBudget {
    max: usize,
    live: AtomicUsize,
}

impl ContextBudget {
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(ContextBudget {
            max,
            live: AtomicUsize::new(0),
        })
    }

    /// Connections that keep a context now.
    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// Admits what negotiation agreed: kept as it is, with a permit, when it
    /// needs no context or one is free; otherwise with no context takeover
    /// either way. RFC 7692 lets the server impose both (7.1.1.1 and 7.1.1.2:
    /// it may state `client_no_context_takeover` whether or not the client
    /// offered it, and the client must then reset its compressor), so the
    /// connection still compresses.
    pub(crate) fn admit(self: &Arc<Self>, mut agreed: Agreed) -> (Agreed, Option<ContextPermit>) {
        if agreed.server_no_context_takeover && agreed.client_no_context_takeover {
            return (agreed, None);
        }
        let max = self.max;
        let taken = self
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok();
        if taken {
            return (agreed, Some(ContextPermit(self.clone())));
        }
        agreed.server_no_context_takeover = true;
        agreed.client_no_context_takeover = true;
        (agreed, None)
    }
}

/// One connection's place in its server's [`ContextBudget`], given back
/// when dropped: when the connection ends (its codecs are freed then), or
/// when it is dropped.
pub(crate) struct ContextPermit(Arc<ContextBudget>);

impl fmt::Debug for ContextPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContextPermit")
    }
}

impl Drop for ContextPermit {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a connection's permessage-deflate takes from the server that
/// upgraded it: the pool zlib states are lent from, and its permit, if it
/// keeps a context.
#[derive(Debug)]
pub(crate) struct ServerShare {
    pub(crate) pool: Arc<CodecPool>,
    pub(crate) permit: Option<ContextPermit>,
}
