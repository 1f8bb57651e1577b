use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

fn target(url: &str) -> Target {
    Target::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
}

fn refused(url: &str) -> &'static str {
    match Target::parse(url) {
        Err(ClientError::InvalidUrl(why)) => why,
        other => panic!("{url}: {other:?}"),
    }
}

#[test]
fn defaults_are_port_80_or_443_and_path_slash() {
    let t = target("ws://example.com");
    assert!(!t.is_secure());
    assert_eq!(
        (t.host(), t.port(), t.path_and_query()),
        ("example.com", 80, "/")
    );
    assert_eq!(t.ip(), None);
    assert_eq!(t.host_header(), "example.com");
    assert_eq!(t.authority(), "example.com:80");

    let t = target("wss://example.com");
    assert!(t.is_secure());
    assert_eq!(t.port(), 443);
    assert_eq!(t.authority(), "example.com:443");
    assert_eq!(t.to_string(), "wss://example.com/");
}

#[test]
fn explicit_port_path_and_query_are_kept() {
    let t = target("ws://example.com:9001/runCase?case=3&agent=wsup");
    assert_eq!(t.port(), 9001);
    assert_eq!(t.path_and_query(), "/runCase?case=3&agent=wsup");
    assert_eq!(t.host_header(), "example.com:9001");
    assert_eq!(
        t.to_string(),
        "ws://example.com:9001/runCase?case=3&agent=wsup"
    );

    // A default port written out is left out of the Host header, as the
    // handshake sends it.
    assert_eq!(target("ws://a:80/").host_header(), "a");
    assert_eq!(target("wss://a:443/").host_header(), "a");
    assert_eq!(target("wss://a:80/").host_header(), "a:80");
    // A query with no path gets the path `/`.
    assert_eq!(target("ws://a?x=1").path_and_query(), "/?x=1");
    // An empty port is the default one.
    assert_eq!(target("wss://a:/").port(), 443);
}

#[test]
fn ip_literals_v4_and_v6() {
    let t = target("ws://127.0.0.1:8080/x");
    assert_eq!(t.ip(), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    assert_eq!(t.host(), "127.0.0.1");
    assert_eq!(t.host_header(), "127.0.0.1:8080");

    let t = target("wss://[::1]/");
    assert_eq!(t.ip(), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    assert_eq!(t.host(), "::1");
    assert_eq!(t.port(), 443);
    assert_eq!(t.host_header(), "[::1]");
    assert_eq!(t.authority(), "[::1]:443");
    assert_eq!(t.to_string(), "wss://[::1]/");
}

#[test]
fn http_schemes_are_aliases_in_any_case() {
    assert!(!target("http://a/").is_secure());
    assert!(target("https://a/").is_secure());
    assert_eq!(target("https://a/").port(), 443);
    assert!(target("WSS://a/").is_secure());
}

#[test]
fn refusals_are_typed_with_their_reason() {
    assert_eq!(refused("ws://a/#frag"), "a WebSocket URL has no fragment");
    assert_eq!(refused("ws://a#"), "a WebSocket URL has no fragment");
    assert!(refused("ws://user:pw@a/").contains("credentials"));
    assert!(refused("ws://user@a/").contains("credentials"));
    assert_eq!(refused("ftp://a/"), "the scheme is not ws or wss");
    assert_eq!(refused("/relative"), "not an absolute ws:// or wss:// URL");
    assert_eq!(refused("a:80"), "not an absolute ws:// or wss:// URL");
    assert_eq!(refused("ws://a:0/"), "port 0");
    assert_eq!(refused(""), "not a valid URL");
    assert_eq!(refused("ws://a:99999/"), "invalid port");
    assert_eq!(refused("wss://[::1]:70000/"), "invalid port");
    for bad in [
        "ws://a:+80/",
        "ws://a:8x/",
        "ws://a b/",
        "ws:// /",
        "ws://[::1/",
        "ws://[zz]/",
    ] {
        assert!(Target::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn from_an_http_uri() {
    let uri: Uri = "wss://example.com:8443/a".parse().unwrap();
    let t = Target::try_from(&uri).unwrap();
    assert_eq!(
        (t.host(), t.port(), t.path_and_query()),
        ("example.com", 8443, "/a")
    );
    assert_eq!(Target::try_from("ws://x").unwrap().host(), "x");
}
