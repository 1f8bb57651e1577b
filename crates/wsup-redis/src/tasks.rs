//! The bridge's two tasks: one publishes what this node's hub forwards, one
//! listens to every node's channels and delivers to this node's hub. Each
//! holds its own connection and, when Redis goes away, reconnects with a
//! backoff on its own.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSub};
use redis::{AsyncCommands, RedisResult};
use tokio::sync::mpsc;
use wsup_core::hub::Hub;

use crate::{wire, Counts, PreparedTopic, Shared};

/// What the publishing task woke up for.
enum Wake {
    /// The hub forwarded a message (`None`: the bridge is gone).
    Queued(Option<PreparedTopic>),
    /// The listening connection ended: is the publishing one alive?
    ListenerLost,
}

#[derive(Clone)]
pub(crate) struct Run {
    pub(crate) client: redis::Client,
    pub(crate) shared: Arc<Shared>,
    pub(crate) prefix: String,
    pub(crate) backoff: (Duration, Duration),
}

impl Run {
    /// Sends what the hub forwards, in order. A send that fails is lost,
    /// and so is everything forwarded until the connection is back.
    pub(crate) async fn publish(
        self,
        mut conn: MultiplexedConnection,
        mut rx: mpsc::Receiver<PreparedTopic>,
    ) {
        let counts = &self.shared.counts;
        loop {
            // A connection learns that the server went away only when it is
            // used: without the listener's word, the first message after a
            // restart on a node that published nothing during the outage
            // would go to the dead connection and be lost, Redis up again.
            let woke =
                match select(pin!(rx.recv()), pin!(self.shared.listener_lost.notified())).await {
                    Either::Left((queued, _)) => Wake::Queued(queued),
                    Either::Right(_) => Wake::ListenerLost,
                };
            let (topic, msg) = match woke {
                Wake::Queued(Some(queued)) => queued,
                Wake::Queued(None) => return,
                Wake::ListenerLost => {
                    let alive: RedisResult<()> = redis::cmd("PING").query_async(&mut conn).await;
                    if let Err(e) = alive {
                        conn = self.republish(&mut rx, e, 0).await;
                    }
                    continue;
                }
            };
            let channel = format!("{}{}", self.prefix, topic);
            let payload = wire::encode(&self.shared.node, &msg);
            let sent: RedisResult<usize> = conn.publish(&channel, payload.as_ref()).await;
            match sent {
                Ok(_) => Counts::add(&counts.forwarded),
                Err(e) => conn = self.republish(&mut rx, e, 1).await,
            }
        }
    }

    /// The publishing connection failed with `error` (`lost` messages with
    /// it): counts what is queued as lost, and reconnects.
    async fn republish(
        &self,
        rx: &mut mpsc::Receiver<PreparedTopic>,
        error: redis::RedisError,
        lost: u64,
    ) -> MultiplexedConnection {
        let counts = &self.shared.counts;
        counts.lost.fetch_add(lost, Ordering::Relaxed);
        let lost_before = counts.lost.load(Ordering::Relaxed) - lost;
        self.shared.publishing.store(false, Ordering::Release);
        tracing::warn!(
            %error,
            "redis bridge: publishing connection lost; messages published \
             here reach local subscribers only until it is back"
        );
        // What was queued behind the failed send is lost too.
        while rx.try_recv().is_ok() {
            Counts::add(&counts.lost);
        }
        let conn = self
            .reconnect(|c| async move { c.get_multiplexed_async_connection().await })
            .await;
        self.shared.publishing.store(true, Ordering::Release);
        let lost = counts.lost.load(Ordering::Relaxed) - lost_before;
        tracing::info!(lost, "redis bridge: publishing again");
        conn
    }

    /// Delivers what other nodes publish to the hub's local subscribers.
    pub(crate) async fn listen(self, mut pubsub: PubSub, hub: Hub) {
        let counts = &self.shared.counts;
        let pattern = format!("{}*", self.prefix);
        loop {
            {
                let mut messages = pubsub.on_message();
                while let Some(msg) = messages.next().await {
                    let Some(topic) = msg.get_channel_name().strip_prefix(&self.prefix) else {
                        Counts::add(&counts.invalid);
                        continue;
                    };
                    match wire::decode(msg.get_payload_bytes()) {
                        // Its own: the local subscribers have it already.
                        Ok((node, _)) if node == self.shared.node => {}
                        Ok((_, prepared)) => {
                            Counts::add(&counts.received);
                            hub.publish_local(topic, prepared).await;
                        }
                        Err(_) => Counts::add(&counts.invalid),
                    }
                }
            }
            // The stream ends when the connection does; the publishing
            // connection went too, most likely.
            self.shared.listening.store(false, Ordering::Release);
            self.shared.listener_lost.notify_one();
            tracing::warn!(
                "redis bridge: listening connection lost; other nodes' messages are missed \
                 until it is back"
            );
            let pattern = pattern.clone();
            pubsub = self
                .reconnect(move |c| {
                    let pattern = pattern.clone();
                    async move {
                        let mut p = c.get_async_pubsub().await?;
                        p.psubscribe(&pattern).await?;
                        Ok(p)
                    }
                })
                .await;
            self.shared.listening.store(true, Ordering::Release);
            Counts::add(&counts.reconnects);
            tracing::info!("redis bridge: listening again");
        }
    }

    /// Connects with `connect` until it works, waiting the backoff between
    /// tries (doubling up to its maximum).
    async fn reconnect<T, F, Fut>(&self, mut connect: F) -> T
    where
        F: FnMut(redis::Client) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let (mut wait, max) = self.backoff;
        loop {
            tokio::time::sleep(wait).await;
            match connect(self.client.clone()).await {
                Ok(conn) => return conn,
                Err(e) => {
                    tracing::debug!(error = %e, ?wait, "redis bridge: reconnecting");
                    wait = (wait * 2).min(max);
                }
            }
        }
    }
}
