//! Multi-node fan-out for **wsup**: a [`Bridge`] between a
//! [`Hub`] and Redis pub/sub, so that hubs in several processes share their
//! topics.
//!
//! Each node publishes as usual with [`Hub::publish`]: its own subscribers
//! get the message at once, and the bridge sends it to Redis on channel
//! `{prefix}{topic}` (prefix `wsup:` by default). Every bridge listens to
//! `{prefix}*` and hands what other nodes published to its hub with
//! [`Hub::publish_local`]; a node skips its own messages (each carries its
//! node's random id), so every subscriber on every node gets each message
//! once.
//!
//! ```no_run
//! # async fn doc() -> Result<(), Box<dyn std::error::Error>> {
//! use wsup_core::hub::Hub;
//! use wsup_core::PreparedMessage;
//!
//! let hub = Hub::new();
//! let bridge = wsup_redis::RedisBridge::connect("redis://127.0.0.1:6379", hub.clone()).await?;
//! // Subscribers on this node and on every other node of the same Redis
//! // get it.
//! hub.publish("lobby", PreparedMessage::text("hello, everyone")).await;
//! println!("{:?}", bridge.stats());
//! # Ok(())
//! # }
//! ```
//!
//! # When Redis goes away
//!
//! The bridge reconnects by itself, with an exponential backoff (50 ms
//! doubling to 5 s by default). The listening connection sees the server
//! go at once; the publishing one is then checked (a `PING`) and replaced
//! too, so that a node that published nothing during an outage does not
//! lose its first message after it. Messages published on this node while it
//! has no connection to Redis reach this node's subscribers only: they are
//! **lost** for the other nodes, counted in [`BridgeStats::lost`] and
//! logged (a warning when the outage starts, with the count when it ends).
//! Messages other nodes publish while this node is cut off are not seen
//! here, and cannot be counted here. Redis pub/sub delivers at most once:
//! for messages that must survive an outage, use a log (Redis streams,
//! NATS JetStream), not a bus.
//!
//! # Runtime
//!
//! The bridge runs two tasks on **tokio** (the `redis` crate's runtime):
//! [`RedisBridge::connect`] must be called inside a tokio runtime. The hub
//! and the connections themselves may be on any runtime.
//!
//! # Other buses
//!
//! [`Bridge`] is the whole seam: `forward` for what this node publishes,
//! [`Hub::publish_local`] for what arrives, `topic_opened`/`topic_closed`
//! for a bus that subscribes per topic. A NATS bridge would be another
//! crate of this shape.
//!
//! # Public dependencies
//!
//! Errors are `redis` 1.x's [`RedisError`] (re-exported): this crate moves
//! to `redis`'s next major version only in a major version of its own.
//! Everything else it shows is `wsup-core`'s.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod tasks;
mod wire;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use wsup_core::hub::{Bridge, Hub};
use wsup_core::PreparedMessage;

pub use redis::RedisError;

/// The bridge's counters since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BridgeStats {
    /// Messages published on this node and sent to Redis.
    pub forwarded: u64,
    /// Messages from other nodes handed to the local hub.
    pub received: u64,
    /// Messages published on this node that did not reach Redis (no
    /// connection, or the send queue full).
    pub lost: u64,
    /// Messages on the channels that were not a bridge's (skipped).
    pub invalid: u64,
    /// Connections to Redis made again after one was lost.
    pub reconnects: u64,
}

/// How a [`RedisBridge`] connects and behaves.
#[derive(Debug, Clone)]
pub struct RedisBridgeBuilder {
    url: String,
    prefix: String,
    backoff: (Duration, Duration),
    queue: usize,
}

impl RedisBridgeBuilder {
    /// Channels are `{prefix}{topic}`. Default `wsup:`: nodes with another
    /// prefix on the same Redis do not hear each other.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The first wait before reconnecting, doubled after each failure up
    /// to `max`. Default 50 ms to 5 s.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = (initial.max(Duration::from_millis(1)), max.max(initial));
        self
    }

    /// Messages waiting to be sent to Redis; past it, a publish is lost for
    /// the other nodes (counted). Default 4,096.
    pub fn queue(mut self, messages: usize) -> Self {
        self.queue = messages.max(1);
        self
    }

    /// Connects to Redis (both connections, the one that publishes and the
    /// one that listens, once, so that a wrong URL or an unreachable server
    /// is an error here) and joins `hub` to it. Must run in a tokio runtime.
    pub async fn connect(self, hub: Hub) -> Result<RedisBridge, RedisError> {
        let client = redis::Client::open(self.url.as_str())?;
        let publishing = client.get_multiplexed_async_connection().await?;
        let mut listening = client.get_async_pubsub().await?;
        let pattern = format!("{}*", self.prefix);
        listening.psubscribe(&pattern).await?;
        let (tx, rx) = mpsc::channel(self.queue);
        let shared = Arc::new(Shared {
            node: node_id(),
            tx,
            publishing: AtomicBool::new(true),
            listening: AtomicBool::new(true),
            listener_lost: Notify::new(),
            counts: Counts::default(),
        });
        let run = tasks::Run {
            client,
            shared: shared.clone(),
            prefix: self.prefix,
            backoff: self.backoff,
        };
        let tasks = vec![
            tokio::spawn(run.clone().publish(publishing, rx)),
            tokio::spawn(run.listen(listening, hub.clone())),
        ];
        hub.set_bridge(Arc::new(Forward(shared.clone())));
        Ok(RedisBridge { shared, tasks })
    }
}

/// A hub joined to Redis pub/sub: see the [crate documentation](crate).
/// Dropping it stops the bridge (the hub then publishes locally only, and
/// counts every publish as lost).
pub struct RedisBridge {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for RedisBridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBridge")
            .field("connected", &self.is_connected())
            .field("stats", &self.stats())
            .finish()
    }
}

impl RedisBridge {
    /// Joins `hub` to the Redis at `url` (`redis://HOST:PORT`) with the
    /// defaults (see [`RedisBridge::builder`]).
    pub async fn connect(url: &str, hub: Hub) -> Result<RedisBridge, RedisError> {
        Self::builder(url).connect(hub).await
    }

    /// Settings for a bridge to the Redis at `url`.
    pub fn builder(url: &str) -> RedisBridgeBuilder {
        RedisBridgeBuilder {
            url: url.to_owned(),
            prefix: "wsup:".to_owned(),
            backoff: (Duration::from_millis(50), Duration::from_secs(5)),
            queue: 4096,
        }
    }

    /// The counters.
    pub fn stats(&self) -> BridgeStats {
        self.shared.counts.snapshot()
    }

    /// Whether the bridge has both its connections to Redis now.
    pub fn is_connected(&self) -> bool {
        self.shared.publishing.load(Ordering::Acquire)
            && self.shared.listening.load(Ordering::Acquire)
    }
}

impl Drop for RedisBridge {
    fn drop(&mut self) {
        // The hub keeps its side: from now on it counts each publish as
        // lost, without a warning each (the queue is closed, not full).
        self.shared.publishing.store(false, Ordering::Release);
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

/// A random id for this node: from the system's generator, or, should it
/// fail, from std's randomly keyed hashers (ids need only differ).
fn node_id() -> wire::NodeId {
    use rand::TryRng;
    let mut id = [0u8; 16];
    if rand::rngs::SysRng.try_fill_bytes(&mut id).is_err() {
        use std::hash::{BuildHasher, Hasher};
        for (i, part) in id.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            part.copy_from_slice(&h.finish().to_ne_bytes());
        }
    }
    id
}

/// What the hub and the two tasks share.
struct Shared {
    node: wire::NodeId,
    /// To the publishing task.
    tx: mpsc::Sender<PreparedTopic>,
    /// The publishing connection is up: what this node publishes reaches
    /// Redis.
    publishing: AtomicBool,
    /// The listening connection is up: what other nodes publish arrives.
    listening: AtomicBool,
    /// Raised by the listening task when its connection ends: the
    /// publishing task then checks its own.
    listener_lost: Notify,
    counts: Counts,
}

/// A message for the publishing task.
type PreparedTopic = (Arc<str>, PreparedMessage);

#[derive(Default)]
struct Counts {
    forwarded: AtomicU64,
    received: AtomicU64,
    lost: AtomicU64,
    invalid: AtomicU64,
    reconnects: AtomicU64,
}

impl Counts {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> BridgeStats {
        BridgeStats {
            forwarded: self.forwarded.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
            invalid: self.invalid.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
        }
    }
}

/// The hub's side of the bridge.
struct Forward(Arc<Shared>);

impl Bridge for Forward {
    fn forward(&self, topic: &str, msg: &PreparedMessage) {
        let shared = &self.0;
        if !shared.publishing.load(Ordering::Acquire) {
            // Cut off: the publishing task would only drop it.
            Counts::add(&shared.counts.lost);
            return;
        }
        if shared.tx.try_send((topic.into(), msg.clone())).is_err() {
            Counts::add(&shared.counts.lost);
            tracing::warn!(
                topic,
                "redis bridge: send queue full, message lost for other nodes"
            );
        }
    }
}
