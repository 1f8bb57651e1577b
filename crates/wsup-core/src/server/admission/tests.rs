use std::net::IpAddr;
use std::sync::Arc;

use http::HeaderMap;

use super::{Admission, AtAccept, Caps, Counts, Slot};
use crate::error::ConnectionCap;
use crate::server::TrustedProxies;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn admission(caps: Caps) -> Arc<Admission> {
    Arc::new(Admission::new(caps))
}

fn handshake(a: &Arc<Admission>, peer: &str) -> Slot {
    match a.at_accept(ip(peer)) {
        AtAccept::Handshake(slot) => slot,
        other => panic!("{other:?}"),
    }
}

fn refused(a: &Arc<Admission>, peer: &str) -> (Option<Slot>, ConnectionCap) {
    match a.at_accept(ip(peer)) {
        AtAccept::Refuse(slot, cap) => (Some(slot), cap),
        AtAccept::Drop(cap) => (None, cap),
        other => panic!("{other:?}"),
    }
}

fn is_empty(a: &Admission) -> bool {
    *a.counts() == Counts::default()
}

#[test]
fn without_caps_everything_is_admitted_and_nothing_kept_per_ip() {
    let a = admission(Caps::default());
    let slots: Vec<_> = (0..100)
        .map(|_| {
            let h = handshake(&a, "192.0.2.1");
            (h, a.connect(ip("192.0.2.1")).unwrap())
        })
        .collect();
    assert!(a.counts().per_ip.is_empty());
    drop(slots);
    assert!(is_empty(&a));
}

#[test]
fn the_handshake_cap_refuses_within_the_allowance_then_drops() {
    let a = admission(Caps {
        handshakes: Some(2),
        refusals: 1,
        ..Caps::default()
    });
    let first = handshake(&a, "192.0.2.1");
    let _second = handshake(&a, "192.0.2.2");
    let (refusal, cap) = refused(&a, "192.0.2.3");
    assert_eq!(cap, ConnectionCap::Handshakes);
    assert!(refusal.is_some());
    let (dropped, cap) = refused(&a, "192.0.2.4");
    assert!(dropped.is_none());
    assert_eq!(cap, ConnectionCap::Handshakes);
    drop(refusal);
    assert!(refused(&a, "192.0.2.4").0.is_some());
    drop(first);
    let _third = handshake(&a, "192.0.2.4");
}

#[test]
fn the_connection_cap_is_checked_at_accept_and_taken_after_the_head() {
    let a = admission(Caps {
        connections: Some(1),
        ..Caps::default()
    });
    let h1 = handshake(&a, "192.0.2.1");
    let h2 = handshake(&a, "192.0.2.2");
    let c1 = a.connect(ip("192.0.2.1")).unwrap();
    drop(h1);
    // Two handshakes raced for the last place: the second is refused now.
    assert_eq!(
        a.connect(ip("192.0.2.2")).unwrap_err(),
        ConnectionCap::Connections
    );
    drop(h2);
    assert_eq!(refused(&a, "192.0.2.3").1, ConnectionCap::Connections);
    drop(c1);
    let _h = handshake(&a, "192.0.2.3");
    let _c = a.connect(ip("192.0.2.3")).unwrap();
}

#[test]
fn per_ip_caps_count_each_ip_and_forget_it_when_it_has_none() {
    let a = admission(Caps {
        connections_per_ip: Some(1),
        handshakes_per_ip: Some(1),
        ..Caps::default()
    });
    let h = handshake(&a, "192.0.2.1");
    assert_eq!(refused(&a, "192.0.2.1").1, ConnectionCap::HandshakesPerIp);
    // The IPv4-mapped form is the same client.
    assert_eq!(
        refused(&a, "::ffff:192.0.2.1").1,
        ConnectionCap::HandshakesPerIp
    );
    let _other = handshake(&a, "192.0.2.2");
    let c = a.connect(ip("192.0.2.1")).unwrap();
    drop(h);
    let _h = handshake(&a, "192.0.2.1");
    assert_eq!(
        a.connect(ip("192.0.2.1")).unwrap_err(),
        ConnectionCap::ConnectionsPerIp
    );
    drop(c);
    drop(_h);
    drop(_other);
    assert!(is_empty(&a));
}

#[test]
fn a_trusted_proxy_is_not_capped_per_ip_its_clients_are() {
    let a = admission(Caps {
        connections_per_ip: Some(1),
        handshakes_per_ip: Some(1),
        trusted: Some(TrustedProxies::x_forwarded_for([ip("10.0.0.1")])),
        ..Caps::default()
    });
    let _h1 = handshake(&a, "10.0.0.1");
    let _h2 = handshake(&a, "10.0.0.1");
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
    let client = a.client_ip(ip("10.0.0.1"), &headers);
    assert_eq!(client, ip("203.0.113.7"));
    let _c = a.connect(client).unwrap();
    assert_eq!(
        a.connect(client).unwrap_err(),
        ConnectionCap::ConnectionsPerIp
    );
    assert!(a.connect(ip("10.0.0.1")).is_ok());
}
