//! The hub over real sockets on every runtime: fan-out to many clients in
//! order, members publishing to each other from many tasks, each
//! slow-consumer policy against a client that stops reading, senders from
//! several tasks, and nothing left behind when connections end.

mod harness;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use harness::*;
use wsup::hub::{Hub, SlowConsumer};
use wsup::{CloseCode, Message, PreparedMessage, Sender, Upgrader};

/// What [`hub_server`] shares with the test: the senders of its
/// connections, in the order they arrived, and how many handlers returned.
#[derive(Default)]
struct Seen {
    senders: Mutex<Vec<Sender>>,
    ended: AtomicUsize,
}

/// A server whose every connection joins topic `t`, publishes the text it
/// receives there, and keeps receiving until it ends.
async fn hub_server<R: Rt>(hub: Hub, upgrader: Upgrader) -> (SocketAddr, Arc<Seen>) {
    let (listener, addr) = R::listen().await;
    let seen = Arc::new(Seen::default());
    let shared = seen.clone();
    R::spawn_detached(Box::pin(async move {
        loop {
            let io = R::accept(&listener).await;
            let (hub, upgrader, seen) = (hub.clone(), upgrader.clone(), shared.clone());
            R::spawn_detached(Box::pin(async move {
                let Ok(mut ws) = R::upgrade(&upgrader, io).await else {
                    return;
                };
                let sender = ws.sender();
                seen.senders.lock().unwrap().push(sender.clone());
                assert!(hub.subscribe("t", &sender));
                while let Ok(msg) = ws.recv().await {
                    if let Message::Text(t) = msg {
                        hub.publish("t", PreparedMessage::text(t.as_str())).await;
                    }
                }
                seen.ended.fetch_add(1, Ordering::SeqCst);
            }));
        }
    }));
    (addr, seen)
}

/// Waits until `topic` has `n` subscribers.
async fn until_subscribers<R: Rt>(hub: &Hub, n: usize) {
    within::<R, _>(Duration::from_secs(10), "subscribers", async {
        while hub.subscribers("t") != n {
            R::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

async fn clients<R: Rt>(addr: SocketAddr, n: usize) -> Vec<Client<R>> {
    let mut all = Vec::new();
    for _ in 0..n {
        all.push(connect::<R>(addr).await);
    }
    all
}

fn text(m: ClientMsg) -> String {
    match m {
        ClientMsg::Text(t) => t.as_str().to_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Ten subscribers each get all 100 messages, in order; once they close,
/// the topic is gone.
async fn every_subscriber_gets_every_message_in_order<R: Rt>() {
    let hub = Hub::new();
    let (addr, _) = hub_server::<R>(hub.clone(), upgrader::<R>()).await;
    let mut all = clients::<R>(addr, 10).await;
    until_subscribers::<R>(&hub, 10).await;
    for i in 0..100 {
        let p = hub
            .publish("t", PreparedMessage::text(format!("m{i}")))
            .await;
        assert_eq!(p.delivered, 10, "[{}] publish {i}", R::NAME);
    }
    for (c, ws) in all.iter_mut().enumerate() {
        for i in 0..100 {
            assert_eq!(
                text(client_next::<R>(ws).await),
                format!("m{i}"),
                "[{}] client {c}",
                R::NAME
            );
        }
    }
    for mut ws in all {
        client_close::<R>(&mut ws, 1000, "").await;
    }
    until_subscribers::<R>(&hub, 0).await;
    let s = hub.stats();
    assert_eq!(
        (s.topics, s.subscriptions, s.delivered),
        (0, 0, 1000),
        "[{}]",
        R::NAME
    );
}

/// Four members each say 25 things at once; each member hears all 100,
/// every member's in the order said (their server tasks publish
/// concurrently).
async fn members_publish_to_each_other<R: Rt>() {
    let hub = Hub::with_policy(SlowConsumer::Wait);
    let (addr, _) = hub_server::<R>(hub.clone(), upgrader::<R>()).await;
    let all = clients::<R>(addr, 4).await;
    until_subscribers::<R>(&hub, 4).await;
    let mut tasks = Vec::new();
    for (k, ws) in all.into_iter().enumerate() {
        let (mut tx, mut rx) = ws.split();
        tasks.push(spawn::<R, _>(async move {
            let sending = spawn::<R, _>(async move {
                for i in 0..25 {
                    tx.send(ClientMsg::text(format!("{k}:{i}")))
                        .await
                        .expect("send");
                }
                tx
            });
            let mut next = [0usize; 4];
            for _ in 0..100 {
                let t = match rx.next().await {
                    Some(Ok(m)) => text(m),
                    other => panic!("member {k}: {other:?}"),
                };
                let (who, i) = t.split_once(':').expect("k:i");
                let who: usize = who.parse().expect("k");
                assert_eq!(i, next[who].to_string(), "member {k} hears {who} in order");
                next[who] += 1;
            }
            // Dropped: the server sees the end of the stream.
            drop((sending.await, rx));
        }));
    }
    for t in tasks {
        t.await;
    }
    until_subscribers::<R>(&hub, 0).await;
    assert_eq!(hub.stats().delivered, 400, "[{}]", R::NAME);
}

/// 32 KiB messages: a client that stops reading fills the socket buffers,
/// then the server's backlog, then its send queue within a few hundred.
fn big(i: usize) -> PreparedMessage {
    let mut s = format!("{i}:");
    s.push_str(&"x".repeat(32 * 1024));
    PreparedMessage::text(s)
}

fn small_queue<R: Rt>() -> Upgrader {
    upgrader::<R>()
        .send_queue_messages(8)
        .close_timeout(Duration::from_millis(300))
}

/// Publishes in step with `fast` (each message read before the next is
/// published) until `done` says so; returns how many were published.
async fn publish_in_step<R: Rt>(
    hub: &Hub,
    fast: &mut Client<R>,
    mut done: impl FnMut(&wsup::hub::Published) -> bool,
) -> usize {
    for i in 0..3000 {
        let p = hub.publish("t", big(i)).await;
        let got = text(client_next::<R>(fast).await);
        assert!(
            got.starts_with(&format!("{i}:")),
            "[{}] fast client, message {i}",
            R::NAME
        );
        if done(&p) {
            return i + 1;
        }
    }
    panic!("[{}] the slow client never fell behind", R::NAME);
}

/// Drop: the slow subscriber misses messages (counted) and stays; its queue
/// never passes its bound; the fast one gets everything.
async fn slow_consumer_drop<R: Rt>() {
    let hub = Hub::with_policy(SlowConsumer::Drop);
    let (addr, seen) = hub_server::<R>(hub.clone(), small_queue::<R>()).await;
    let _slow = connect::<R>(addr).await;
    until_subscribers::<R>(&hub, 1).await;
    let mut fast = connect::<R>(addr).await;
    until_subscribers::<R>(&hub, 2).await;
    let slow_sender = seen.senders.lock().unwrap()[0].clone();
    let mut dropped = 0;
    publish_in_step::<R>(&hub, &mut fast, |p| {
        assert!(slow_sender.queued() <= 8, "bounded");
        dropped += p.dropped;
        dropped >= 20
    })
    .await;
    assert_eq!(hub.stats().dropped, 20, "[{}]", R::NAME);
    assert_eq!(hub.subscribers("t"), 2, "[{}] dropping keeps it", R::NAME);
    assert!(!slow_sender.is_closed());
}

/// Close: the slow subscriber is closed (1008 here) and leaves the topic at
/// once; its connection ends once its close timeout passes; the fast one
/// carries on.
async fn slow_consumer_close<R: Rt>() {
    let hub = Hub::with_policy(SlowConsumer::Close(CloseCode::POLICY));
    let (addr, seen) = hub_server::<R>(hub.clone(), small_queue::<R>()).await;
    let _slow = connect::<R>(addr).await;
    until_subscribers::<R>(&hub, 1).await;
    let mut fast = connect::<R>(addr).await;
    until_subscribers::<R>(&hub, 2).await;
    publish_in_step::<R>(&hub, &mut fast, |p| p.closed == 1).await;
    let slow_sender = seen.senders.lock().unwrap()[0].clone();
    until_subscribers::<R>(&hub, 1).await;
    assert!(slow_sender.is_closed(), "[{}] refuses more", R::NAME);
    // Its peer reads nothing, so the close frame cannot go out: the close
    // timeout ends the connection, and its memory goes with it.
    within::<R, _>(Duration::from_secs(5), "the slow one ends", async {
        while seen.ended.load(Ordering::SeqCst) == 0 {
            R::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(hub.stats().closed_slow, 1, "[{}]", R::NAME);
    hub.publish("t", PreparedMessage::text("after")).await;
    assert_eq!(text(client_next::<R>(&mut fast).await), "after");
}

/// Wait: the publisher waits for the slow subscriber, which loses nothing
/// once it reads again.
async fn slow_consumer_wait<R: Rt>() {
    const N: usize = 200;
    let hub = Hub::with_policy(SlowConsumer::Wait);
    let (addr, _) = hub_server::<R>(hub.clone(), small_queue::<R>()).await;
    let mut slow = connect::<R>(addr).await;
    let mut fast = connect::<R>(addr).await;
    until_subscribers::<R>(&hub, 2).await;
    let publisher = {
        let hub = hub.clone();
        spawn::<R, _>(async move {
            let mut delivered = 0;
            for i in 0..N {
                let p = hub.publish("t", big(i)).await;
                assert_eq!((p.dropped, p.closed), (0, 0));
                delivered += p.delivered;
            }
            delivered
        })
    };
    let reading_fast = spawn::<R, _>(async move {
        for i in 0..N {
            assert!(text(client_next::<R>(&mut fast).await).starts_with(&format!("{i}:")));
        }
    });
    R::sleep(Duration::from_millis(300)).await;
    for i in 0..N {
        assert!(
            text(client_next::<R>(&mut slow).await).starts_with(&format!("{i}:")),
            "[{}] slow {i}",
            R::NAME
        );
    }
    reading_fast.await;
    assert_eq!(publisher.await, 2 * N, "[{}]", R::NAME);
}

/// Four tasks send on one connection through its sender; the client gets
/// every message of each in order. When the client closes, the senders
/// learn it.
async fn senders_from_many_tasks<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        let sender = ws.sender();
        for k in 0..4 {
            let sender = sender.clone();
            R::spawn_detached(Box::pin(async move {
                for i in 0..50 {
                    sender
                        .send(Message::text(format!("{k}:{i}")))
                        .await
                        .expect("queued");
                }
            }));
        }
        let res = ws.recv().await;
        (sender, res)
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    let mut next = [0usize; 4];
    for _ in 0..200 {
        let t = text(client_next::<R>(&mut ws).await);
        let (k, i) = t.split_once(':').expect("k:i");
        let k: usize = k.parse().expect("k");
        assert_eq!(i, next[k].to_string(), "[{}] task {k} in order", R::NAME);
        next[k] += 1;
    }
    client_close::<R>(&mut ws, 1000, "").await;
    let (sender, res) = server.await;
    assert!(
        matches!(res, Ok(Message::Close(_))),
        "[{}] {res:?}",
        R::NAME
    );
    // The handler returned and dropped the connection.
    within::<R, _>(
        Duration::from_secs(5),
        "senders see the end",
        sender.closed(),
    )
    .await;
    assert!(sender.try_send(Message::text("late")).is_err());
}

runtime_tests!(
    every_subscriber_gets_every_message_in_order,
    members_publish_to_each_other,
    slow_consumer_drop,
    slow_consumer_close,
    slow_consumer_wait,
    senders_from_many_tasks,
);
