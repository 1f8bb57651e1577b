//! The hub over in-memory connections, driven by hand: what each publish
//! queues, each slow-consumer policy, leaving on close, the bridge's calls.
//! (Over real sockets on every runtime: `crates/wsup/tests/hub.rs`.)

use crate::role::Role;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use wsup_testkit::Mem;

use super::*;
use crate::config::WebSocketConfig;
use crate::conn::{SendError, TrySendError};
use crate::message::Message;
use crate::WebSocket;

/// A server connection whose peer sends nothing and waits (reads pend).
fn conn(cfg: WebSocketConfig) -> WebSocket<Mem> {
    let mut mem = Mem::new(Vec::new(), 4096);
    mem.hang = true;
    WebSocket::from_raw(mem, Role::Server, Bytes::new(), cfg, None)
}

fn small_queue(messages: usize) -> WebSocketConfig {
    WebSocketConfig::builder()
        .send_queue_messages(messages)
        .build()
}

/// Polls `ws.recv()` once: the connection waits for input, writing what
/// its senders queued meanwhile.
fn drive(ws: &mut WebSocket<Mem>) {
    let mut cx = Context::from_waker(Waker::noop());
    let recv = pin!(ws.recv());
    assert!(recv.poll(&mut cx).is_pending(), "nothing to receive");
}

/// (opcode, payload) of every frame written so far.
fn written(ws: &WebSocket<Mem>) -> Vec<(u8, Vec<u8>)> {
    wsup_testkit::parse_frames(&ws.get_ref().output)
        .into_iter()
        .map(|f| (f.opcode, f.payload))
        .collect()
}

fn now<F: Future>(fut: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(fut).poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("would wait"),
    }
}

#[test]
fn publish_queues_once_per_subscriber_and_the_connection_writes_it() {
    let hub = Hub::new();
    let (mut a, mut b) = (
        conn(WebSocketConfig::default()),
        conn(WebSocketConfig::default()),
    );
    assert!(hub.subscribe("t", &a.sender()));
    assert!(hub.subscribe("t", &b.sender()));
    assert!(!hub.subscribe("t", &a.sender()), "twice");
    assert_eq!(hub.subscribers("t"), 2);
    for i in 0..3 {
        let p = now(hub.publish("t", PreparedMessage::text(format!("m{i}"))));
        assert_eq!(p.delivered, 2);
    }
    assert!(
        written(&a).is_empty(),
        "written by the connection's task only"
    );
    drive(&mut a);
    drive(&mut b);
    let expected: Vec<_> = (0..3).map(|i| (1, format!("m{i}").into_bytes())).collect();
    assert_eq!(written(&a), expected);
    assert_eq!(written(&b), expected);
    let s = hub.stats();
    assert_eq!(
        (s.published, s.delivered, s.topics, s.subscriptions),
        (3, 6, 1, 2)
    );
    // Nobody on another topic.
    assert_eq!(
        now(hub.publish("other", PreparedMessage::text("x"))).delivered,
        0
    );
}

#[test]
fn a_connection_leaves_its_topics_when_it_ends() {
    let hub = Hub::new();
    let mut a = conn(WebSocketConfig::default());
    let sender = a.sender();
    hub.subscribe("x", &sender);
    hub.subscribe("y", &sender);
    assert_eq!(hub.stats().subscriptions, 2);
    assert!(hub.unsubscribe("y", &sender));
    assert!(!hub.unsubscribe("y", &sender));
    assert_eq!(hub.topics(), vec!["x".to_string()]);
    drop(a);
    assert_eq!(hub.stats().subscriptions, 0);
    assert!(hub.topics().is_empty());
    assert!(sender.is_closed());
    assert!(matches!(
        sender.try_send(Message::text("late")),
        Err(TrySendError::Closed(_))
    ));
    assert!(
        !hub.subscribe("x", &sender),
        "an ended connection cannot join"
    );
    assert!(hub.topics().is_empty());
    now(sender.closed());
}

#[test]
fn subscribing_and_leaving_again_and_again_holds_nothing() {
    let hub = Hub::new();
    let mut a = conn(WebSocketConfig::default());
    let sender = a.sender();
    for _ in 0..1000 {
        hub.subscribe("room", &sender);
        hub.unsubscribe("room", &sender);
    }
    assert_eq!(
        sender.outbox().hooks(),
        0,
        "a hook per live subscription only"
    );
    hub.subscribe("room", &sender);
    assert_eq!(sender.outbox().hooks(), 1);
}

#[test]
fn drop_policy_drops_for_the_full_subscriber_only() {
    let hub = Hub::with_policy(SlowConsumer::Drop);
    let (mut slow, mut fast) = (conn(small_queue(2)), conn(small_queue(2)));
    hub.subscribe("t", &slow.sender());
    hub.subscribe("t", &fast.sender());
    let mut dropped = 0;
    for i in 0..5 {
        let p = now(hub.publish("t", PreparedMessage::binary(vec![i as u8])));
        dropped += p.dropped;
        drive(&mut fast);
    }
    assert_eq!(dropped, 3);
    assert_eq!(hub.stats().dropped, 3);
    assert_eq!(written(&fast).len(), 5);
    drive(&mut slow);
    assert_eq!(written(&slow), vec![(2, vec![0]), (2, vec![1])]);
    assert_eq!(hub.subscribers("t"), 2, "dropping keeps it subscribed");
}

#[test]
fn close_policy_cuts_the_slow_subscriber_off() {
    let hub = Hub::with_policy(SlowConsumer::Close(CloseCode::POLICY));
    let mut slow = conn(small_queue(2));
    let sender = slow.sender();
    hub.subscribe("t", &sender);
    let closed: usize = (0..4)
        .map(|i| now(hub.publish("t", PreparedMessage::binary(vec![i]))).closed)
        .sum();
    assert_eq!(closed, 1, "closed once");
    assert_eq!(hub.stats().closed_slow, 1);
    drive(&mut slow);
    let frames = written(&slow);
    assert_eq!(
        frames.len(),
        1,
        "what it had queued was dropped: {frames:?}"
    );
    assert_eq!(frames[0].0, 8);
    assert_eq!(&frames[0].1[..2], &1008u16.to_be_bytes());
    assert!(sender.is_closed());
    assert_eq!(hub.subscribers("t"), 0, "a closing connection leaves");
}

#[test]
fn wait_policy_makes_the_publisher_wait_for_room() {
    let hub = Hub::new();
    hub.set_topic_policy("t", SlowConsumer::Wait);
    let mut slow = conn(small_queue(1));
    hub.subscribe("t", &slow.sender());
    assert_eq!(
        now(hub.publish("t", PreparedMessage::text("1"))).delivered,
        1
    );
    let mut cx = Context::from_waker(Waker::noop());
    let mut second = pin!(hub.publish("t", PreparedMessage::text("2")));
    assert!(second.as_mut().poll(&mut cx).is_pending(), "full: waits");
    drive(&mut slow);
    match second.as_mut().poll(&mut cx) {
        Poll::Ready(p) => assert_eq!((p.delivered, p.dropped, p.closed), (1, 0, 0)),
        Poll::Pending => panic!("room was made"),
    }
    drive(&mut slow);
    assert_eq!(written(&slow), vec![(1, b"1".to_vec()), (1, b"2".to_vec())]);
}

#[test]
fn sender_close_goes_after_what_is_queued() {
    let mut ws = conn(WebSocketConfig::default());
    let sender = ws.sender();
    sender.try_send(Message::text("last words")).unwrap();
    sender.close(Some(crate::CloseFrame::new(CloseCode::GOING_AWAY, "bye")));
    assert!(matches!(
        sender.try_send(Message::text("after")),
        Err(TrySendError::Closed(_))
    ));
    drive(&mut ws);
    let frames = written(&ws);
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert_eq!(frames[0], (1, b"last words".to_vec()));
    assert_eq!(frames[1].0, 8);
    assert!(sender.is_closed());
}

#[test]
fn senders_refuse_what_cannot_be_sent() {
    let mut ws = conn(WebSocketConfig::default());
    let sender = ws.sender();
    let big_ping = Message::Ping(Bytes::from(vec![0; 126]));
    assert!(matches!(
        sender.try_send(big_ping.clone()),
        Err(TrySendError::Invalid(_))
    ));
    assert!(matches!(
        now(sender.send(big_ping)),
        Err(SendError::Invalid(_))
    ));
    assert!(matches!(
        sender.try_send(Message::Close(None)),
        Err(TrySendError::Invalid(_))
    ));
    assert_eq!(sender.queued(), 0);
}

#[test]
fn the_queue_is_bounded_in_bytes_too() {
    let cfg = WebSocketConfig::builder().send_queue_bytes(1000).build();
    let mut ws = conn(cfg);
    let sender = ws.sender();
    // A message always fits an empty queue, however large.
    sender.try_send(Message::binary(vec![0; 5000])).unwrap();
    assert!(matches!(
        sender.try_send(Message::binary(vec![0; 1])),
        Err(TrySendError::Full(_))
    ));
    drive(&mut ws);
    sender.try_send(Message::binary(vec![0; 600])).unwrap();
    assert!(matches!(
        sender.try_send(Message::binary(vec![0; 600])),
        Err(TrySendError::Full(_))
    ));
    sender.try_send(Message::binary(vec![0; 400])).unwrap();
    assert_eq!(sender.queued(), 2);
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Bridge for Recorder {
    fn forward(&self, topic: &str, msg: &PreparedMessage) {
        let payload = String::from_utf8_lossy(msg.payload());
        self.0
            .lock()
            .unwrap()
            .push(format!("forward {topic} {payload}"));
    }
    fn topic_opened(&self, topic: &str) {
        self.0.lock().unwrap().push(format!("opened {topic}"));
    }
    fn topic_closed(&self, topic: &str) {
        self.0.lock().unwrap().push(format!("closed {topic}"));
    }
}

#[test]
fn the_bridge_hears_local_publishes_and_topics_coming_and_going() {
    let hub = Hub::new();
    let mut early = conn(WebSocketConfig::default());
    hub.subscribe("early", &early.sender());
    let bridge = Arc::new(Recorder::default());
    hub.set_bridge(bridge.clone());
    let mut a = conn(WebSocketConfig::default());
    hub.subscribe("room", &a.sender());
    hub.subscribe("room", &early.sender());
    now(hub.publish("room", PreparedMessage::text("hi")));
    now(hub.publish_local("room", PreparedMessage::text("from afar")));
    drop(a);
    drop(early);
    let log = bridge.0.lock().unwrap().clone();
    assert_eq!(
        log,
        [
            "opened early",
            "opened room",
            "forward room hi",
            "closed early",
            "closed room"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
    );
    assert_eq!(hub.stats().published, 2);
}
