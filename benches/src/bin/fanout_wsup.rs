//! wsup in `cargo xtask bench --fanout`: its [`Hub`] on tokio. Each
//! subscriber's connection joins the topic and runs the ordinary receive
//! loop (its task writes what the hub queues for it); the publisher's
//! messages are published as they arrive, with [`SlowConsumer::Wait`], so
//! that nothing is dropped, as on the other servers.
//!
//! Usage: `fanout_wsup ADDR`; prints `listening on ADDR` once it accepts.
//! The client asking for `/pub` is the publisher (`wsup_benches::fanout`).
//! tokio on one thread, as the other servers (with `WSUP_THREADS=N`, on N
//! workers: `cargo xtask bench --threads`); the library's defaults
//! otherwise (its keepalive included).

use std::io;

use wsup_benches::fanout::{self, PUBLISHER_PATH};
use wsup_core::hub::{Hub, SlowConsumer};
use wsup_core::{Message, PreparedMessage};
use wsup_tokio::Server;

const TOPIC: &str = "bench";

fn main() -> io::Result<()> {
    fanout::serve_on_tokio("fanout_wsup", |listener| async move {
        let hub = Hub::with_policy(SlowConsumer::Wait);
        Server::new(listener, wsup_tokio::upgrader())
            .run_requests(move |request, _| {
                let hub = hub.clone();
                async move {
                    let publisher = request.parts().uri.path() == PUBLISHER_PATH;
                    let Ok(mut ws) = request.upgrade().await else {
                        return;
                    };
                    if publisher {
                        while let Ok(msg) = ws.recv().await {
                            if let Message::Binary(data) = msg {
                                hub.publish(TOPIC, PreparedMessage::binary(data)).await;
                            }
                        }
                    } else {
                        hub.subscribe(TOPIC, &ws.sender());
                        while ws.recv().await.is_ok() {}
                    }
                }
            })
            .await
            .map(drop)
    })
}
