//! The client's IP address, as the per-IP connection caps count it: the
//! peer's, or, when the peer is one of the reverse proxies the server was
//! told to trust, the one such a proxy forwarded in its header; and the
//! scheme such a proxy says the client used, for the origin check.

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use http::header::{HeaderMap, HeaderName, FORWARDED};

use crate::handshake::ServerScheme;

/// The header a trusted proxy writes the client's address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Header {
    /// RFC 7239 `Forwarded`, its `for=` parameters.
    Forwarded,
    /// The de facto `X-Forwarded-For`.
    XForwardedFor,
}

/// The reverse proxies whose forwarding header the server believes, and
/// which header that is: give it to
/// [`Server::trusted_proxies`](super::Server::trusted_proxies). None by
/// default: a header is only believed from a peer listed here.
///
/// Each proxy appends the address it received the request from, so the
/// header lists the hops left to right, the nearest last. The client is the
/// right-most address that is not itself a trusted proxy: what is to its
/// left was written by the client or by proxies not trusted, and may be
/// anything. An entry that names no address (`unknown`, an obfuscated
/// `_identifier`, a malformed one) ends the walk: the client is then taken
/// to be the trusted proxy that wrote it, which may merge many clients into
/// one but never lets one choose its address.
///
/// Name the one header your proxies set (and overwrite or append to), as
/// a client can send the other one untouched through them.
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    proxies: Vec<IpAddr>,
    header: Header,
}

impl TrustedProxies {
    /// Proxies that append to RFC 7239's `Forwarded` header (`for=`, and
    /// `proto=` for [`scheme`](Self::scheme)).
    pub fn forwarded<I: IntoIterator<Item = IpAddr>>(proxies: I) -> Self {
        Self::new(proxies, Header::Forwarded)
    }

    /// Proxies that append to `X-Forwarded-For` (nginx's
    /// `$proxy_add_x_forwarded_for`, HAProxy's `option forwardfor`, most
    /// cloud load balancers), and set `X-Forwarded-Proto` (see
    /// [`scheme`](Self::scheme)).
    pub fn x_forwarded_for<I: IntoIterator<Item = IpAddr>>(proxies: I) -> Self {
        Self::new(proxies, Header::XForwardedFor)
    }

    fn new<I: IntoIterator<Item = IpAddr>>(proxies: I, header: Header) -> Self {
        TrustedProxies {
            proxies: proxies.into_iter().map(|ip| ip.to_canonical()).collect(),
            header,
        }
    }

    /// Whether `ip` is one of the trusted proxies (an IPv4 address and its
    /// IPv4-mapped IPv6 form are the same).
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.proxies.contains(&ip.to_canonical())
    }

    /// The client's address for a request with `headers` from `peer`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        self.walk(peer, headers).0
    }

    /// The scheme the client reached the proxies by, for a request with
    /// `headers` from `peer`: `None` unless `peer` is a trusted proxy that
    /// says. It is taken from the hop the client's address is taken from
    /// (see [`client_ip`](Self::client_ip)), written by the trusted proxy
    /// that received the request from the client: with
    /// [`forwarded`](Self::forwarded), that element's `proto=`; with
    /// [`x_forwarded_for`](Self::x_forwarded_for), the
    /// `X-Forwarded-Proto` entry in the same place from the right as that
    /// hop's in `X-Forwarded-For` (each proxy appending to both), or the
    /// left-most when there are fewer (a proxy at the edge that set it,
    /// the others passing it on). Only `http`, `https`, `ws`, `wss` are
    /// schemes; anything else is none.
    ///
    /// The [same-origin check](crate::OriginPolicy::SameOrigin) compares
    /// it with the `Origin`'s.
    pub fn scheme(&self, peer: IpAddr, headers: &HeaderMap) -> Option<ServerScheme> {
        self.walk(peer, headers).1
    }

    /// The client's address, and the scheme the hop it is taken from says.
    fn walk(&self, peer: IpAddr, headers: &HeaderMap) -> (IpAddr, Option<ServerScheme>) {
        let mut client = peer.to_canonical();
        if !self.is_trusted(client) {
            return (client, None);
        }
        let hops = match self.header {
            Header::Forwarded => list(headers, FORWARDED, forwarded),
            Header::XForwardedFor => {
                let mut hops = list(
                    headers,
                    HeaderName::from_static("x-forwarded-for"),
                    |line| line.split(',').map(|n| (node(n), None)).collect(),
                );
                let protos = list(
                    headers,
                    HeaderName::from_static("x-forwarded-proto"),
                    |line| {
                        line.split(',')
                            .map(|p| (None, ServerScheme::of(p)))
                            .collect()
                    },
                );
                // Aligned from the right; past the left end, the left-most.
                for (i, hop) in hops.iter_mut().rev().enumerate() {
                    let at = protos.len().saturating_sub(i + 1);
                    hop.1 = protos.get(at).and_then(|p| p.1);
                }
                hops
            }
        };
        let mut scheme = None;
        for (ip, proto) in hops.into_iter().rev() {
            scheme = proto;
            match ip {
                None => return (client, scheme),
                Some(ip) if !self.is_trusted(ip) => return (ip, scheme),
                Some(ip) => client = ip,
            }
        }
        (client, scheme)
    }
}

/// One hop of a forwarding header: the node's address, the scheme.
type Hop = (Option<IpAddr>, Option<ServerScheme>);

/// The hops of every `name` header line, left to right, each line parsed
/// by `parse`; a line that is not UTF-8 is one hop that names nothing.
fn list(headers: &HeaderMap, name: HeaderName, parse: impl Fn(&str) -> Vec<Hop>) -> Vec<Hop> {
    // Several header lines are one list, in order (RFC 9110 5.3).
    headers
        .get_all(name)
        .iter()
        .flat_map(|line| match std::str::from_utf8(line.as_bytes()) {
            Ok(line) => parse(line),
            Err(_) => vec![(None, None)],
        })
        .collect()
}

/// The `for=` and `proto=` of each element of a `Forwarded` value, left to
/// right; `None` for a parameter missing, or whose node is not an address.
fn forwarded(value: &str) -> Vec<Hop> {
    split_unquoted(value, b',')
        .into_iter()
        .map(|element| {
            let (mut ip, mut proto) = (None, None);
            for pair in split_unquoted(element, b';') {
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = unquote(value.trim());
                match name.trim() {
                    n if n.eq_ignore_ascii_case("for") => ip = ip.or(Some(node(&value))),
                    n if n.eq_ignore_ascii_case("proto") => {
                        proto = proto.or(Some(ServerScheme::of(&value)))
                    }
                    _ => {}
                }
            }
            (ip.flatten(), proto.flatten())
        })
        .collect()
}

/// `s` split at each `sep` outside a quoted string.
fn split_unquoted(s: &str, sep: u8) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, &b) in s.as_bytes().iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ if b == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// A token or a quoted string's content (backslash escapes undone).
fn unquote(value: &str) -> String {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                out.push(if c == '\\' {
                    chars.next().unwrap_or(c)
                } else {
                    c
                });
            }
            out
        }
        None => value.to_owned(),
    }
}

/// A node (RFC 7239 6): `192.0.2.43`, `192.0.2.43:47011`,
/// `[2001:db8::17]`, `[2001:db8::17]:4711`, and, as `X-Forwarded-For`
/// writes them, a bare `2001:db8::17`. `None` for `unknown`, an obfuscated
/// identifier, or anything else.
fn node(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(port)) {
            return None;
        }
        return ip
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| IpAddr::V6(ip).to_canonical());
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let (host, p) = s.split_once(':')?;
    if !port(p) {
        return None;
    }
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// A port, or an obfuscated one (`_` then letters, digits, `.`, `_`, `-`).
fn port(p: &str) -> bool {
    match p.strip_prefix('_') {
        Some(obfuscated) => obfuscated
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
        None => p.parse::<u16>().is_ok(),
    }
}
