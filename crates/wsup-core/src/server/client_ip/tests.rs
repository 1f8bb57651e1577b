use std::net::IpAddr;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::TrustedProxies;
use crate::handshake::ServerScheme;

const PROXY: &str = "10.0.0.1";
const INNER_PROXY: &str = "10.0.0.2";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn headers(name: &str, values: &[&str]) -> HeaderMap {
    let mut map = HeaderMap::new();
    let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
    for v in values {
        map.append(name.clone(), HeaderValue::from_str(v).unwrap());
    }
    map
}

/// The client `proxies` see behind `peer`, which sent `name: value`.
fn behind(proxies: &TrustedProxies, peer: &str, name: &str, value: &str) -> IpAddr {
    proxies.client_ip(ip(peer), &headers(name, &[value]))
}

fn xff(values: &[&str]) -> IpAddr {
    let proxies = TrustedProxies::x_forwarded_for([ip(PROXY), ip(INNER_PROXY)]);
    proxies.client_ip(ip(PROXY), &headers("x-forwarded-for", values))
}

fn forwarded(values: &[&str]) -> IpAddr {
    let proxies = TrustedProxies::forwarded([ip(PROXY), ip(INNER_PROXY)]);
    proxies.client_ip(ip(PROXY), &headers("forwarded", values))
}

#[test]
fn x_forwarded_for_gives_the_right_most_untrusted_address() {
    assert_eq!(xff(&["203.0.113.7"]), ip("203.0.113.7"));
    assert_eq!(xff(&["203.0.113.7, 10.0.0.2"]), ip("203.0.113.7"));
    // The client prepended a lie; the proxy appended the truth.
    assert_eq!(xff(&["1.1.1.1, 203.0.113.7"]), ip("203.0.113.7"));
    assert_eq!(xff(&[" 2001:db8::1 ,10.0.0.2"]), ip("2001:db8::1"));
    assert_eq!(xff(&["[2001:db8::1]:4711"]), ip("2001:db8::1"));
    assert_eq!(xff(&["203.0.113.7:5678"]), ip("203.0.113.7"));
}

#[test]
fn several_header_lines_are_one_list() {
    assert_eq!(xff(&["1.1.1.1", "203.0.113.7"]), ip("203.0.113.7"));
    assert_eq!(xff(&["203.0.113.7", "10.0.0.2"]), ip("203.0.113.7"));
    assert_eq!(
        forwarded(&["for=1.1.1.1", "for=203.0.113.7;proto=https"]),
        ip("203.0.113.7")
    );
}

#[test]
fn forwarded_nodes_in_every_form() {
    let cases: [(&str, &str); 7] = [
        ("for=192.0.2.60", "192.0.2.60"),
        ("For=\"192.0.2.60:47011\"", "192.0.2.60"),
        ("for=\"[2001:db8:cafe::17]\"", "2001:db8:cafe::17"),
        (
            "for=\"[2001:db8:cafe::17]:4711\";proto=https",
            "2001:db8:cafe::17",
        ),
        (
            "proto=http;for=192.0.2.43;by=10.0.0.2, for=10.0.0.2",
            "192.0.2.43",
        ),
        // A quoted comma or semicolon does not split.
        ("for=192.0.2.1;ext=\"a,b;c\", for=192.0.2.43", "192.0.2.43"),
        ("for=\"192.0.2.43:_port-1\"", "192.0.2.43"),
    ];
    for (header, client) in cases {
        assert_eq!(forwarded(&[header]), ip(client), "{header}");
    }
}

#[test]
fn an_entry_naming_no_address_ends_the_walk_at_the_proxy_that_wrote_it() {
    // The outer proxy did not know (or hid) who connected to it: what is
    // further left is anyone's word.
    assert_eq!(
        forwarded(&["for=192.0.2.1, for=_hidden, for=10.0.0.2"]),
        ip(INNER_PROXY)
    );
    assert_eq!(forwarded(&["for=192.0.2.1, for=unknown"]), ip(PROXY));
    assert_eq!(forwarded(&["for=192.0.2.1, proto=https"]), ip(PROXY));
    assert_eq!(xff(&["192.0.2.1, garbage"]), ip(PROXY));
    assert_eq!(xff(&["192.0.2.1, 192.0.2.2:99999"]), ip(PROXY));
    assert_eq!(xff(&["192.0.2.1, [::1"]), ip(PROXY));
    assert_eq!(forwarded(&["for=\"[::1]x\""]), ip(PROXY));
}

#[test]
fn a_chain_of_trusted_proxies_only_gives_the_left_most() {
    assert_eq!(xff(&["10.0.0.2"]), ip(INNER_PROXY));
    assert_eq!(xff(&[]), ip(PROXY));
    assert_eq!(forwarded(&[]), ip(PROXY));
}

#[test]
fn an_untrusted_peers_header_is_ignored() {
    let proxies = TrustedProxies::x_forwarded_for([ip(PROXY)]);
    let seen = behind(&proxies, "198.51.100.9", "x-forwarded-for", "203.0.113.7");
    assert_eq!(seen, ip("198.51.100.9"));
}

#[test]
fn only_the_configured_header_is_believed() {
    let proxies = TrustedProxies::x_forwarded_for([ip(PROXY)]);
    let seen = behind(&proxies, PROXY, "forwarded", "for=203.0.113.7");
    assert_eq!(seen, ip(PROXY));
    let proxies = TrustedProxies::forwarded([ip(PROXY)]);
    let seen = behind(&proxies, PROXY, "x-forwarded-for", "203.0.113.7");
    assert_eq!(seen, ip(PROXY));
}

#[test]
fn ipv4_mapped_addresses_are_their_ipv4_address() {
    let proxies = TrustedProxies::x_forwarded_for([ip(PROXY)]);
    let seen = behind(
        &proxies,
        "::ffff:10.0.0.1",
        "x-forwarded-for",
        "::ffff:203.0.113.7",
    );
    assert_eq!(seen, ip("203.0.113.7"));
    assert!(proxies.is_trusted(ip("::ffff:10.0.0.1")));
}

#[test]
fn bytes_that_are_not_utf8_name_no_address() {
    let proxies = TrustedProxies::x_forwarded_for([ip(PROXY)]);
    let mut h = HeaderMap::new();
    h.append(
        "x-forwarded-for",
        HeaderValue::from_bytes(b"203.0.113.7\xff").unwrap(),
    );
    assert_eq!(proxies.client_ip(ip(PROXY), &h), ip(PROXY));
}

/// The scheme behind `X-Forwarded-For: xff` and `X-Forwarded-Proto: xfp`
/// (no such header when empty), from the trusted proxy.
fn xfp(xff: &[&str], xfp: &[&str]) -> Option<ServerScheme> {
    let proxies = TrustedProxies::x_forwarded_for([ip(PROXY), ip(INNER_PROXY)]);
    let mut h = headers("x-forwarded-for", xff);
    h.extend(headers("x-forwarded-proto", xfp));
    proxies.scheme(ip(PROXY), &h)
}

fn forwarded_scheme(values: &[&str]) -> Option<ServerScheme> {
    let proxies = TrustedProxies::forwarded([ip(PROXY), ip(INNER_PROXY)]);
    proxies.scheme(ip(PROXY), &headers("forwarded", values))
}

const HTTP: Option<ServerScheme> = Some(ServerScheme::Http);
const HTTPS: Option<ServerScheme> = Some(ServerScheme::Https);

#[test]
fn x_forwarded_proto_of_the_proxy_at_the_edge() {
    // One proxy, or several where the edge one set it and the others
    // passed it on.
    assert_eq!(xfp(&["203.0.113.7"], &["https"]), HTTPS);
    assert_eq!(xfp(&["203.0.113.7"], &["HTTP"]), HTTP);
    assert_eq!(xfp(&["203.0.113.7"], &["wss"]), HTTPS);
    assert_eq!(xfp(&["203.0.113.7, 10.0.0.2"], &["https"]), HTTPS);
    // Each proxy appended: the entry in the client's hop's place.
    assert_eq!(xfp(&["203.0.113.7, 10.0.0.2"], &["https, http"]), HTTPS);
    assert_eq!(xfp(&["203.0.113.7", "10.0.0.2"], &["https", "http"]), HTTPS);
    assert_eq!(xfp(&["203.0.113.7"], &["https, http"]), HTTP);
    // The client's own entries, left of the proxy's, are not read.
    assert_eq!(xfp(&["1.1.1.1, 203.0.113.7"], &["http, https"]), HTTPS);
}

#[test]
fn no_scheme_unless_a_trusted_proxy_names_one() {
    assert_eq!(xfp(&["203.0.113.7"], &[]), None);
    assert_eq!(xfp(&[], &[]), None);
    assert_eq!(xfp(&["203.0.113.7"], &["ftp"]), None);
    assert_eq!(xfp(&["203.0.113.7"], &[""]), None);
    assert_eq!(xfp(&["203.0.113.7"], &["https;"]), None);
    assert_eq!(forwarded_scheme(&["for=203.0.113.7"]), None);
    assert_eq!(forwarded_scheme(&["for=203.0.113.7;proto=gopher"]), None);
    assert_eq!(forwarded_scheme(&[]), None);

    // From a peer that is not trusted, nothing is believed.
    let proxies = TrustedProxies::x_forwarded_for([ip(PROXY)]);
    let mut h = headers("x-forwarded-for", &["203.0.113.7"]);
    h.extend(headers("x-forwarded-proto", &["https"]));
    assert_eq!(proxies.scheme(ip("198.51.100.9"), &h), None);
    assert_eq!(proxies.scheme(ip(PROXY), &h), HTTPS);
    // Nor the other header than the one configured.
    let proxies = TrustedProxies::forwarded([ip(PROXY)]);
    assert_eq!(proxies.scheme(ip(PROXY), &h), None);
    let proxies = TrustedProxies::x_forwarded_for([ip(PROXY)]);
    let other = headers("forwarded", &["for=203.0.113.7;proto=https"]);
    assert_eq!(proxies.scheme(ip(PROXY), &other), None);
}

#[test]
fn forwarded_proto_of_the_element_the_client_is_taken_from() {
    assert_eq!(forwarded_scheme(&["for=203.0.113.7;proto=https"]), HTTPS);
    assert_eq!(forwarded_scheme(&["Proto=\"HTTP\";for=203.0.113.7"]), HTTP);
    // The edge proxy saw https; the inner one, http from the edge.
    assert_eq!(
        forwarded_scheme(&["for=203.0.113.7;proto=https, for=10.0.0.2;proto=http"]),
        HTTPS
    );
    assert_eq!(
        forwarded_scheme(&["for=203.0.113.7;proto=https", "for=10.0.0.2;proto=http"]),
        HTTPS
    );
    // The client's own element says https: the proxy's says http.
    assert_eq!(
        forwarded_scheme(&["for=1.1.1.1;proto=https, for=203.0.113.7;proto=http"]),
        HTTP
    );
    // An element naming no address, written by a trusted proxy: its proto.
    assert_eq!(
        forwarded_scheme(&["for=1.1.1.1;proto=http, for=unknown;proto=https"]),
        HTTPS
    );
    // Only trusted proxies: the left-most element.
    assert_eq!(
        forwarded_scheme(&["for=10.0.0.2;proto=https, for=10.0.0.1;proto=http"]),
        HTTPS
    );
}

#[test]
fn a_forwarded_proto_that_is_not_utf8_is_none() {
    let proxies = TrustedProxies::x_forwarded_for([ip(PROXY)]);
    let mut h = headers("x-forwarded-for", &["203.0.113.7"]);
    h.append(
        "x-forwarded-proto",
        HeaderValue::from_bytes(b"https\xff").unwrap(),
    );
    assert_eq!(proxies.scheme(ip(PROXY), &h), None);
    assert_eq!(proxies.client_ip(ip(PROXY), &h), ip("203.0.113.7"));
}
