//! The origin check (gorilla's `CheckOrigin`).

use std::fmt;
use std::sync::Arc;

use http::header;
use http::request::Parts;

/// Which `Origin`s may open a connection.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum OriginPolicy {
    /// The default: a request with no `Origin` is allowed (it comes from
    /// no browser page); otherwise the origin must name this server.
    ///
    /// Compared: the origin's host with the `Host` header's (ignoring
    /// case; HTTP/2's `:authority` where there is no `Host`), and the
    /// ports, each made explicit: an origin without a port has its
    /// scheme's default (`https://a.com` is `a.com:443`).
    ///
    /// When the server's scheme for the request is known (a
    /// [`ServerScheme`] in the request's extensions: the server's TLS
    /// acceptor, or a [trusted proxy](crate::server::TrustedProxies)'s
    /// `X-Forwarded-Proto` or `Forwarded: proto=`), the origin's scheme
    /// must be that scheme (`ws` counting as `http`, `wss` as `https`),
    /// and a `Host` without a port means that scheme's default port: over
    /// TLS, `Host: a.com` is `a.com:443`, and `http://a.com` is refused.
    ///
    /// When it is not known (plain TCP, no trusted proxy's header), the
    /// scheme is not compared, as gorilla's check does not, and a `Host`
    /// without a port means the default port of the origin's own scheme:
    /// behind a proxy that ends TLS but is not configured as trusted,
    /// `https://a.com` reaches the server in plain text as `Host: a.com`,
    /// and a strict check would refuse every browser with 403.
    #[default]
    SameOrigin,
    /// Only these origins (`scheme://host[:port]`, compared ignoring case), or
    /// requests with no `Origin`.
    AllowList(Vec<String>),
    /// Any origin.
    AllowAll,
    /// A function of the request.
    Custom(Arc<dyn Fn(&Parts) -> bool + Send + Sync>),
}

impl fmt::Debug for OriginPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OriginPolicy::SameOrigin => f.write_str("SameOrigin"),
            OriginPolicy::AllowList(l) => f.debug_tuple("AllowList").field(l).finish(),
            OriginPolicy::AllowAll => f.write_str("AllowAll"),
            OriginPolicy::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl OriginPolicy {
    /// Whether the request passes.
    pub fn allows(&self, parts: &Parts) -> bool {
        let origins: Vec<_> = parts.headers.get_all(header::ORIGIN).iter().collect();
        let origin = match (self, origins.as_slice()) {
            (OriginPolicy::AllowAll, _) => return true,
            (OriginPolicy::Custom(f), _) => return f(parts),
            (_, []) => return true,
            (_, [origin]) => match origin.to_str().ok().and_then(Origin::parse) {
                Some(origin) => origin,
                None => return false,
            },
            _ => return false,
        };
        match self {
            OriginPolicy::SameOrigin => {
                // HTTP/2 has no `Host`: its `:authority` is the URI's
                // (RFC 9113 8.3.1).
                let host = match parts.headers.get(header::HOST) {
                    Some(h) => h.to_str().ok().and_then(|h| h.trim().parse().ok()),
                    None => parts.uri.authority().cloned(),
                };
                let scheme = parts.extensions.get::<ServerScheme>().copied();
                host.is_some_and(|host| origin.is_served_by(&host, scheme))
            }
            OriginPolicy::AllowList(list) => list
                .iter()
                .filter_map(|o| Origin::parse(o.trim_end_matches('/')))
                .any(|allowed| allowed == origin),
            OriginPolicy::AllowAll | OriginPolicy::Custom(_) => unreachable!("answered above"),
        }
    }
}

/// The scheme a request reached the server by, as the server knows it:
/// what the same-origin check compares the `Origin`'s scheme with (see
/// [`OriginPolicy::SameOrigin`]).
///
/// It travels in the request's extensions (`Parts::extensions`). A
/// [`Server`](crate::server::Server) puts it there: `Https` when its
/// [`Acceptor`](crate::server::Acceptor) is TLS, or what a
/// [trusted proxy](crate::server::TrustedProxies) says it received the
/// request by, which comes first (the browser's scheme is the proxy's,
/// whatever the proxy speaks to the server). An HTTP server integration
/// that knows (hyper behind its own TLS acceptor, say) inserts it in the
/// request's extensions before the upgrade. None there: the scheme is
/// unknown, and not compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerScheme {
    /// `http` (and `ws`): plain text.
    Http,
    /// `https` (and `wss`): TLS.
    Https,
}

impl ServerScheme {
    /// The scheme `s` names, ignoring case: `http` or `ws`, `https` or
    /// `wss`; `None` for any other.
    pub(crate) fn of(s: &str) -> Option<ServerScheme> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("ws") {
            Some(ServerScheme::Http)
        } else if s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("wss") {
            Some(ServerScheme::Https)
        } else {
            None
        }
    }

    /// Its default port: 80 or 443.
    pub(crate) fn default_port(self) -> u16 {
        match self {
            ServerScheme::Http => 80,
            ServerScheme::Https => 443,
        }
    }
}

/// An origin, `scheme://host[:port]` (RFC 6454), parsed with `http`'s URI
/// parser and normalised: scheme and host in lower case, the port explicit
/// (the scheme's default where none is written).
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// `None` for `null`, a URI without scheme or host, user info, or a
    /// scheme with no default port and no port given.
    fn parse(s: &str) -> Option<Origin> {
        let uri: http::Uri = s.trim().parse().ok()?;
        let authority = uri.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let port = match explicit_port(authority)? {
            Some(p) => p,
            None => default_port(&scheme)?,
        };
        Some(Origin {
            host: authority.host().to_ascii_lowercase(),
            scheme,
            port,
        })
    }

    /// Whether a server reached as `host` (the `Host` header) by `scheme`
    /// (when known) serves this origin: the same host, the same port, and
    /// the same scheme when the server's is known. A `Host` without a port
    /// means the default port of the server's scheme, or, unknown, of the
    /// origin's own (see [`OriginPolicy::SameOrigin`] for why).
    fn is_served_by(&self, host: &http::uri::Authority, scheme: Option<ServerScheme>) -> bool {
        if scheme.is_some_and(|s| ServerScheme::of(&self.scheme) != Some(s)) {
            return false;
        }
        let port = match explicit_port(host) {
            Some(Some(p)) => p,
            Some(None) => match scheme {
                Some(s) => s.default_port(),
                None => match default_port(&self.scheme) {
                    Some(p) => p,
                    None => return false,
                },
            },
            None => return false,
        };
        host.host().eq_ignore_ascii_case(&self.host) && port == self.port
    }
}

/// The port written in `authority`: `Some(None)` if none is, `None` if
/// what follows the host is not a port number.
pub(super) fn explicit_port(authority: &http::uri::Authority) -> Option<Option<u16>> {
    match authority.as_str().len() > authority.host().len() {
        false => Some(None),
        true => authority.port_u16().map(Some),
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    ServerScheme::of(scheme).map(ServerScheme::default_port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::{parse_head, HeadLimits};

    fn req(headers: &str) -> Parts {
        parse_head(
            format!("GET / HTTP/1.1\r\n{headers}\r\n").as_bytes(),
            &HeadLimits::default(),
        )
        .unwrap()
    }

    #[test]
    fn same_origin_as_gorilla() {
        let p = OriginPolicy::SameOrigin;
        assert!(p.allows(&req("Host: a.example:8080\r\n")));
        assert!(p.allows(&req(
            "Host: a.example:8080\r\nOrigin: http://A.example:8080\r\n"
        )));
        assert!(!p.allows(&req(
            "Host: a.example:8080\r\nOrigin: http://evil.example\r\n"
        )));
        assert!(!p.allows(&req("Host: a.example\r\nOrigin: null\r\n")));
        assert!(!p.allows(&req("Origin: http://a.example\r\n")));
    }

    #[test]
    fn same_origin_knows_default_ports() {
        let p = OriginPolicy::SameOrigin;
        let allows = |host: &str, origin: &str| {
            p.allows(&req(&format!("Host: {host}\r\nOrigin: {origin}\r\n")))
        };
        assert!(allows("a.com", "https://a.com"));
        assert!(allows("a.com:443", "https://a.com"));
        assert!(allows("a.com", "https://a.com:443"));
        assert!(allows("a.com:80", "http://a.com"));
        assert!(allows("A.COM:8080", "http://a.com:8080/"));
        assert!(!allows("a.com:8080", "https://a.com"));
        assert!(!allows("a.com", "https://a.com:8443"));
        assert!(!allows("a.com:443", "http://a.com"), "http's port is 80");
        assert!(!allows("a.com", "https://a.com.evil.example"));
        assert!(!allows("a.com", "https://evil.example@a.com"), "user info");
        assert!(!allows("a.com", "a.com"), "no scheme");
        assert!(!allows("a.com", "ftp://a.com"), "no default port");
        assert!(!allows("[::1]:8080", "http://[::2]:8080"));
        assert!(allows("[::1]:8080", "http://[::1]:8080"));
        assert!(
            !allows("a.com:x", "http://a.com"),
            "a Host that is no authority"
        );
    }

    /// Whether `Origin: origin` may reach `Host: host` by `scheme`.
    fn allows_by(scheme: ServerScheme, host: &str, origin: &str) -> bool {
        let mut parts = req(&format!("Host: {host}\r\nOrigin: {origin}\r\n"));
        parts.extensions.insert(scheme);
        OriginPolicy::SameOrigin.allows(&parts)
    }

    #[test]
    fn same_origin_wants_the_servers_scheme_host_and_port() {
        use ServerScheme::{Http, Https};
        // Per server scheme and `Host`: the origins allowed, then those
        // refused. wss is https and ws is http; the scheme, the host and
        // the port (each scheme's default where none is given) must match.
        let cases: [(ServerScheme, &str, &[&str], &[&str]); 8] = [
            (
                Https,
                "a.com",
                &["https://a.com", "https://a.com:443", "wss://a.com"],
                &["http://a.com", "ws://a.com", "https://b.com"],
            ),
            (Https, "a.com:443", &["https://a.com"], &["ftp://a.com:443"]),
            (
                Https,
                "a.com:8443",
                &["https://a.com:8443"],
                &["http://a.com:8443", "https://a.com"],
            ),
            (Https, "A.com", &["HTTPS://a.COM"], &[]),
            (Https, "a.com:80", &[], &["http://a.com"]),
            (
                Http,
                "a.com",
                &["http://a.com", "ws://a.com"],
                &["https://a.com"],
            ),
            (Http, "a.com:80", &["http://a.com"], &[]),
            (
                Http,
                "a.com:8080",
                &["http://a.com:8080"],
                &["https://a.com:8080"],
            ),
        ];
        for (scheme, host, allowed, refused) in cases {
            for (origins, allows) in [(allowed, true), (refused, false)] {
                for origin in origins {
                    assert_eq!(
                        allows_by(scheme, host, origin),
                        allows,
                        "{scheme:?}: Host: {host}, Origin: {origin}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_host_without_port_has_the_servers_default_port_when_known() {
        // Unknown: the origin's scheme's default, so both pass.
        let p = OriginPolicy::SameOrigin;
        let unknown =
            |origin: &str| p.allows(&req(&format!("Host: a.com\r\nOrigin: {origin}\r\n")));
        assert!(unknown("http://a.com") && unknown("https://a.com"));
        assert!(!unknown("https://a.com:80"));
        assert!(!unknown("http://a.com:443"));
        // Known: the server's scheme's default, whatever the origin says.
        assert!(!allows_by(ServerScheme::Https, "a.com", "https://a.com:80"));
        assert!(allows_by(ServerScheme::Http, "a.com", "http://a.com:80"));
        assert!(!allows_by(ServerScheme::Http, "a.com", "http://a.com:443"));
    }

    #[test]
    fn the_scheme_is_compared_only_by_same_origin() {
        // No Origin: allowed, the scheme known or not.
        let mut parts = req("Host: a.com\r\n");
        parts.extensions.insert(ServerScheme::Https);
        assert!(OriginPolicy::SameOrigin.allows(&parts));
        // An allow list names whole origins: the server's scheme is not
        // asked.
        let mut parts = req("Host: x\r\nOrigin: http://app.example\r\n");
        parts.extensions.insert(ServerScheme::Https);
        let list = OriginPolicy::AllowList(vec!["http://app.example".into()]);
        assert!(list.allows(&parts));
    }

    #[test]
    fn server_scheme_of_a_name() {
        for (name, scheme) in [
            ("http", Some(ServerScheme::Http)),
            ("WS", Some(ServerScheme::Http)),
            (" https ", Some(ServerScheme::Https)),
            ("Wss", Some(ServerScheme::Https)),
            ("ftp", None),
            ("", None),
            ("https;", None),
        ] {
            assert_eq!(ServerScheme::of(name), scheme, "{name:?}");
        }
    }

    #[test]
    fn allow_list_and_allow_all() {
        let p = OriginPolicy::AllowList(vec!["https://app.example".into()]);
        assert!(p.allows(&req("Host: x\r\nOrigin: https://app.example\r\n")));
        assert!(!p.allows(&req("Host: x\r\nOrigin: https://other.example\r\n")));
        assert!(p.allows(&req("Host: x\r\nOrigin: HTTPS://App.Example:443\r\n")));
        assert!(!p.allows(&req("Host: x\r\nOrigin: http://app.example\r\n")));
        assert!(!p.allows(&req(
            "Host: x\r\nOrigin: https://app.example\r\nOrigin: https://app.example\r\n"
        )));
        assert!(OriginPolicy::AllowAll.allows(&req("Host: x\r\nOrigin: https://other.example\r\n")));
    }
}
