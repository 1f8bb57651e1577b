//! The bridge against a real `redis-server`: two nodes (two hubs, each
//! with its own bridge and WebSocket server on 127.0.0.1) carry messages
//! both ways exactly once, and survive a Redis restart; what is published
//! during the outage is counted as lost.
//!
//! Each test starts its own redis-server on a free port, from the path in
//! `WSUP_REDIS_SERVER` (wsup-testkit's `RedisServer`): `cargo xtask redis`
//! installs it and runs these (they are ignored by a plain `cargo test`,
//! which needs nothing but Rust).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::time::{sleep, timeout, Instant};
use wsup_core::hub::Hub;
use wsup_core::{Message, PreparedMessage};
use wsup_redis::RedisBridge;
use wsup_testkit::redis::RedisServer;
use wsup_tokio::ClientWebSocket;

/// A node: a hub, its bridge, and a WebSocket server whose connections
/// join `room`.
async fn node(redis: &str) -> (Hub, RedisBridge, SocketAddr) {
    let hub = Hub::new();
    let bridge = RedisBridge::builder(redis)
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .connect(hub.clone())
        .await
        .expect("bridge connects");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let members = hub.clone();
    tokio::spawn(wsup_tokio::serve(
        listener,
        wsup_tokio::upgrader(),
        move |mut ws, _| {
            let hub = members.clone();
            async move {
                hub.subscribe("room", &ws.sender());
                while ws.recv().await.is_ok() {}
            }
        },
    ));
    (hub, bridge, addr)
}

async fn member(hub: &Hub, addr: SocketAddr, expect: usize) -> ClientWebSocket {
    let (ws, _) = wsup_tokio::connect(&format!("ws://{addr}/"))
        .await
        .expect("connect");
    wait_for("the member to join", || hub.subscribers("room") == expect).await;
    ws
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        sleep(Duration::from_millis(10)).await;
    }
}

async fn next_text(ws: &mut ClientWebSocket) -> String {
    match timeout(Duration::from_secs(10), ws.recv()).await {
        Ok(Ok(Message::Text(t))) => t.as_str().to_owned(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask redis"]
async fn two_nodes_carry_each_others_messages_exactly_once() {
    let redis = RedisServer::from_env();
    let (hub_a, bridge_a, addr_a) = node(&redis.url()).await;
    let (hub_b, bridge_b, addr_b) = node(&redis.url()).await;
    let mut on_a = member(&hub_a, addr_a, 1).await;
    let mut on_b = member(&hub_b, addr_b, 1).await;
    for i in 0..20 {
        let (from, hub) = if i % 2 == 0 {
            ("a", &hub_a)
        } else {
            ("b", &hub_b)
        };
        hub.publish("room", PreparedMessage::text(format!("{from}{i}")))
            .await;
        // Each member gets it once, in order: the next message is the next.
        assert_eq!(next_text(&mut on_a).await, format!("{from}{i}"));
        assert_eq!(next_text(&mut on_b).await, format!("{from}{i}"));
    }
    // Another room's message reaches no one here.
    hub_a
        .publish("elsewhere", PreparedMessage::text("no"))
        .await;
    hub_a.publish("room", PreparedMessage::text("last")).await;
    assert_eq!(next_text(&mut on_b).await, "last");
    assert_eq!(next_text(&mut on_a).await, "last");
    // A message is counted as forwarded once Redis has answered its
    // PUBLISH, which can come after the other node has it: wait for the
    // counts, then check that none goes past them.
    wait_for("a forwards its 12", || bridge_a.stats().forwarded == 12).await;
    wait_for("b forwards its 10", || bridge_b.stats().forwarded == 10).await;
    wait_for("b receives all of a's", || bridge_b.stats().received == 12).await;
    sleep(Duration::from_millis(100)).await;
    let (a, b) = (bridge_a.stats(), bridge_b.stats());
    assert_eq!((a.forwarded, b.forwarded), (12, 10), "{a:?} {b:?}");
    assert_eq!((a.received, b.received), (10, 12), "{a:?} {b:?}");
    assert_eq!((a.lost, b.lost, a.invalid), (0, 0, 0));
    drop(redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: cargo xtask redis"]
async fn a_redis_restart_is_survived_and_the_outage_counted() {
    let redis = RedisServer::from_env();
    let url = redis.url();
    let (hub_a, bridge_a, addr_a) = node(&url).await;
    let (hub_b, bridge_b, addr_b) = node(&url).await;
    let mut on_a = member(&hub_a, addr_a, 1).await;
    let mut on_b = member(&hub_b, addr_b, 1).await;
    hub_a.publish("room", PreparedMessage::text("before")).await;
    assert_eq!(next_text(&mut on_b).await, "before");
    assert_eq!(next_text(&mut on_a).await, "before");

    let stopped = redis.stop();
    wait_for("the bridges see Redis gone", || {
        !bridge_a.is_connected() || !bridge_b.is_connected()
    })
    .await;
    // Published during the outage: local members get it, the other node
    // does not, and it is counted as lost.
    hub_a.publish("room", PreparedMessage::text("during")).await;
    assert_eq!(next_text(&mut on_a).await, "during");
    wait_for("the loss counted", || bridge_a.stats().lost >= 1).await;

    let redis = stopped.restart();
    wait_for("both bridges reconnect", || {
        bridge_a.is_connected() && bridge_b.is_connected()
    })
    .await;
    assert!(bridge_b.stats().reconnects >= 1);
    hub_a.publish("room", PreparedMessage::text("after")).await;
    // B never got "during": its next message is "after".
    assert_eq!(next_text(&mut on_b).await, "after");
    assert_eq!(next_text(&mut on_a).await, "after");
    // B published nothing during the outage: its first message after it
    // reaches A all the same.
    hub_b
        .publish("room", PreparedMessage::text("after, from b"))
        .await;
    assert_eq!(next_text(&mut on_a).await, "after, from b");
    assert_eq!(next_text(&mut on_b).await, "after, from b");
    assert_eq!(bridge_b.stats().lost, 0);
    drop(redis);
}
