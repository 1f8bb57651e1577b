//! The bridge's two tasks: one publishes what this node's hub forwards, one
//! listens to every node's channels and delivers to this node's hub. Each
//! holds its own connection and, when Redis goes away, reconnects with a
//! backoff on its own.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSub};
use redis::{AsyncCommands, RedisResult};
use tokio::sync::mpsc;
use wsup_core::hub::Hub;

use crate::{wire, Counts, PreparedTopic, Shared};

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
        while let Some((topic, msg)) = rx.recv().await {
            let channel = format!("{}{}", self.prefix, topic);
            let payload = wire::encode(&self.shared.node, &msg);
            let sent: RedisResult<usize> = conn.publish(&channel, payload.as_ref()).await;
            match sent {
                Ok(_) => Counts::add(&counts.forwarded),
                Err(e) => {
                    Counts::add(&counts.lost);
                    let lost_before = counts.lost.load(Ordering::Relaxed) - 1;
                    self.shared.publishing.store(false, Ordering::Release);
                    tracing::warn!(
                        error = %e,
                        "redis bridge: publishing connection lost; messages published \
                         here reach local subscribers only until it is back"
                    );
                    // What was queued behind the failed send is lost too.
                    while rx.try_recv().is_ok() {
                        Counts::add(&counts.lost);
                    }
                    conn = self
                        .reconnect(|c| async move { c.get_multiplexed_async_connection().await })
                        .await;
                    self.shared.publishing.store(true, Ordering::Release);
                    let lost = counts.lost.load(Ordering::Relaxed) - lost_before;
                    tracing::info!(lost, "redis bridge: publishing again");
                }
            }
        }
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
            // The stream ends when the connection does.
            self.shared.listening.store(false, Ordering::Release);
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
