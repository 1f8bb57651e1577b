//! Fan-out: a hub of topics that connections subscribe to (uWebSockets'
//! topics, gorilla's chat hub), runtime-free.
//!
//! [`Hub::publish`] frames a message once (a [`PreparedMessage`]: compressed
//! once per deflate parameter set, too) and puts it on the send queue of
//! every subscriber ([`Sender`], bounded by `send_queue_messages` and
//! `send_queue_bytes`): a reference count, no copy and no allocation per
//! subscriber. Each connection's own task writes what its queue holds while
//! it waits for input, so a subscriber's task is the ordinary receive loop:
//!
//! ```
//! # async fn run<T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin>(
//! #     hub: wsup_core::hub::Hub, mut ws: wsup_core::WebSocket<T>) {
//! use wsup_core::{Message, PreparedMessage};
//!
//! // One connection of a chat room: it joins, and everything it says is
//! // published to the room (itself included).
//! hub.subscribe("lobby", &ws.sender());
//! while let Ok(msg) = ws.recv().await {
//!     if let Message::Text(text) = msg {
//!         hub.publish("lobby", PreparedMessage::text(text.as_str())).await;
//!     }
//! }
//! // The connection ended: it has left the topic already.
//! # }
//! ```
//!
//! A subscriber whose queue is full is a slow consumer; what happens to it
//! is the topic's [`SlowConsumer`] policy: the message is dropped for it
//! (counted), it is closed (1013 by default: it cannot hold up the others
//! nor grow the server's memory), or the publisher waits for it.
//!
//! Across processes, a [`Bridge`] carries what is published on this node
//! to the others (the `wsup-redis` crate is one, over Redis pub/sub), and
//! delivers theirs here with [`Hub::publish_local`].

mod topic;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};

use crate::close::CloseCode;
use crate::conn::{Sender, TrySendError};
use crate::prepared::PreparedMessage;

use self::topic::Topic;

/// What a topic does with a subscriber whose send queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlowConsumer {
    /// The message is dropped for that subscriber alone (counted in
    /// [`HubStats::dropped`]); the others get it.
    Drop,
    /// The subscriber is closed with this code (1008 policy, or 1013 try
    /// again later), what it had queued dropped; counted in
    /// [`HubStats::closed_slow`].
    Close(CloseCode),
    /// The publisher waits until that subscriber has room (or ends). One
    /// slow subscriber then slows the topic; its write timeout bounds how
    /// long.
    Wait,
}

impl Default for SlowConsumer {
    /// Close with 1013, as gorilla's chat example drops a client whose
    /// buffer is full.
    fn default() -> Self {
        SlowConsumer::Close(CloseCode::AGAIN)
    }
}

/// What one publish did on this node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Published {
    /// Subscribers it was queued for.
    pub delivered: usize,
    /// Slow subscribers it was dropped for ([`SlowConsumer::Drop`]).
    pub dropped: usize,
    /// Slow subscribers closed ([`SlowConsumer::Close`]).
    pub closed: usize,
}

/// The hub's counters since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HubStats {
    /// Messages published (here or, through a bridge, elsewhere).
    pub published: u64,
    /// Messages queued for a subscriber.
    pub delivered: u64,
    /// Messages dropped for a slow subscriber.
    pub dropped: u64,
    /// Slow subscribers closed.
    pub closed_slow: u64,
    /// Topics with at least one subscriber now.
    pub topics: usize,
    /// Subscriptions now (a connection in two topics counts twice).
    pub subscriptions: usize,
}

/// Carries messages between hubs in several processes (Redis pub/sub, NATS).
///
/// [`Hub::publish`] hands it every message published on this node, after
/// the local subscribers have it; the bridge delivers messages from other
/// nodes with [`Hub::publish_local`] (never back to the node they came
/// from, so each subscriber gets a message once). It must not block: a
/// bridge queues and sends from its own task.
pub trait Bridge: Send + Sync + 'static {
    /// A message published on this node: carry it to the other nodes.
    fn forward(&self, topic: &str, msg: &PreparedMessage);

    /// The first local subscriber joined `topic` (a bridge may subscribe to
    /// the topic on its bus only now).
    fn topic_opened(&self, _topic: &str) {}

    /// The last local subscriber left `topic`.
    fn topic_closed(&self, _topic: &str) {}
}

/// A hub of topics: cloneable (shared), `Send` and `Sync`. See the
/// [module documentation](self).
#[derive(Clone, Default)]
pub struct Hub {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    policy: SlowConsumer,
    topics: RwLock<HashMap<Arc<str>, Arc<Topic>>>,
    /// Policies set for topics, whether or not they have subscribers now.
    policies: RwLock<HashMap<Arc<str>, SlowConsumer>>,
    bridge: RwLock<Option<Arc<dyn Bridge>>>,
    published: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    closed_slow: AtomicU64,
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("policy", &self.inner.policy)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Hub {
    /// A hub whose topics close slow consumers with 1013 (see
    /// [`SlowConsumer`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A hub whose topics use `policy`, unless one is set per topic.
    pub fn with_policy(policy: SlowConsumer) -> Self {
        Hub {
            inner: Arc::new(Inner {
                policy,
                ..Inner::default()
            }),
        }
    }

    /// Sets the policy of `topic`, now and later.
    pub fn set_topic_policy(&self, topic: &str, policy: SlowConsumer) {
        let name: Arc<str> = topic.into();
        write(&self.inner.policies).insert(name, policy);
        if let Some(t) = read(&self.inner.topics).get(topic) {
            t.set_policy(policy);
        }
    }

    /// Carries what is published here to other nodes, and lets the bridge
    /// deliver theirs (it replaces any bridge set before).
    pub fn set_bridge(&self, bridge: Arc<dyn Bridge>) {
        let topics: Vec<Arc<str>> = read(&self.inner.topics).keys().cloned().collect();
        for topic in &topics {
            bridge.topic_opened(topic);
        }
        *write(&self.inner.bridge) = Some(bridge);
    }

    fn bridge(&self) -> Option<Arc<dyn Bridge>> {
        read(&self.inner.bridge).clone()
    }

    /// Subscribes the connection of `sender` to `topic`. It leaves when it
    /// ends, or on [`unsubscribe`](Self::unsubscribe). `false` if it was
    /// subscribed already or has ended.
    pub fn subscribe(&self, topic: &str, sender: &Sender) -> bool {
        let (added, opened) = {
            let mut topics = write(&self.inner.topics);
            let opened = !topics.contains_key(topic);
            let t = match topics.get(topic) {
                Some(t) => t.clone(),
                None => {
                    let name: Arc<str> = topic.into();
                    let policy = read(&self.inner.policies).get(topic).copied();
                    let t = Arc::new(Topic::new(name.clone(), policy));
                    topics.insert(name, t.clone());
                    t
                }
            };
            let added = t.add(sender, self.leave_hook(&t, sender.id()));
            if t.is_empty() {
                topics.remove(topic);
            }
            (added, opened && added)
        };
        if opened {
            if let Some(bridge) = self.bridge() {
                bridge.topic_opened(topic);
            }
        }
        added
    }

    /// What the connection runs when it ends: it leaves `topic`.
    fn leave_hook(&self, topic: &Arc<Topic>, id: u64) -> impl FnOnce() + Send + 'static {
        let hub: Weak<Inner> = Arc::downgrade(&self.inner);
        let name = topic.name().clone();
        move || {
            if let Some(inner) = hub.upgrade() {
                Hub { inner }.leave(&name, id, false);
            }
        }
    }

    /// Unsubscribes the connection of `sender` from `topic`; `false` if it
    /// was not subscribed.
    pub fn unsubscribe(&self, topic: &str, sender: &Sender) -> bool {
        self.leave(topic, sender.id(), true)
    }

    fn leave(&self, topic: &str, id: u64, drop_hook: bool) -> bool {
        let (left, closed) = {
            let mut topics = write(&self.inner.topics);
            let Some(t) = topics.get(topic).cloned() else {
                return false;
            };
            let left = t.remove(id, drop_hook);
            let closed = t.is_empty();
            if closed {
                topics.remove(topic);
            }
            (left, closed)
        };
        if closed {
            if let Some(bridge) = self.bridge() {
                bridge.topic_closed(topic);
            }
        }
        left
    }

    /// Publishes `msg` to the subscribers of `topic` on this node and, with
    /// a [`Bridge`], on every other node. Waits only where the topic's
    /// policy is [`SlowConsumer::Wait`] and a subscriber is full.
    pub async fn publish(&self, topic: &str, msg: impl Into<PreparedMessage>) -> Published {
        let msg = msg.into();
        let published = self.publish_local(topic, msg.clone()).await;
        if let Some(bridge) = self.bridge() {
            bridge.forward(topic, &msg);
        }
        published
    }

    /// Publishes `msg` to the subscribers of `topic` on this node only:
    /// what a [`Bridge`] calls with messages from other nodes.
    pub async fn publish_local(&self, topic: &str, msg: impl Into<PreparedMessage>) -> Published {
        let msg = msg.into();
        self.inner.published.fetch_add(1, Ordering::Relaxed);
        let Some(t) = read(&self.inner.topics).get(topic).cloned() else {
            return Published::default();
        };
        let policy = t.policy().unwrap_or(self.inner.policy);
        let mut published = Published::default();
        let mut full = Vec::new();
        t.each(|sender| match sender.try_send(&msg) {
            Ok(()) => published.delivered += 1,
            Err(TrySendError::Full(_)) => match policy {
                SlowConsumer::Drop => published.dropped += 1,
                SlowConsumer::Close(code) => {
                    sender.cut_off(code);
                    published.closed += 1;
                }
                SlowConsumer::Wait => full.push(sender.clone()),
            },
            // Ended: it is leaving the topic.
            Err(_) => {}
        });
        // The slow ones, outside the topic's lock, one after another.
        for sender in full {
            if sender.send(&msg).await.is_ok() {
                published.delivered += 1;
            }
        }
        let c = &self.inner;
        c.delivered
            .fetch_add(published.delivered as u64, Ordering::Relaxed);
        c.dropped
            .fetch_add(published.dropped as u64, Ordering::Relaxed);
        c.closed_slow
            .fetch_add(published.closed as u64, Ordering::Relaxed);
        published
    }

    /// Subscribers of `topic` now (connections that ended have left).
    pub fn subscribers(&self, topic: &str) -> usize {
        read(&self.inner.topics).get(topic).map_or(0, |t| t.len())
    }

    /// Topics with at least one subscriber now.
    pub fn topics(&self) -> Vec<String> {
        read(&self.inner.topics)
            .keys()
            .map(|k| k.to_string())
            .collect()
    }

    /// The hub's counters.
    pub fn stats(&self) -> HubStats {
        let c = &self.inner;
        let topics = read(&c.topics);
        HubStats {
            published: c.published.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            closed_slow: c.closed_slow.load(Ordering::Relaxed),
            topics: topics.len(),
            subscriptions: topics.values().map(|t| t.len()).sum(),
        }
    }
}

/// The hub's maps stay consistent through a panic elsewhere: a poisoned
/// lock is taken as it is.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;
