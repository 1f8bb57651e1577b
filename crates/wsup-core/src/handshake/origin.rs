//! The origin check (gorilla's `CheckOrigin`).

use std::fmt;
use std::sync::Arc;

use http::header;
use http::request::Parts;

/// Which `Origin`s may open a connection.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum OriginPolicy {
    /// As gorilla's default: a request with no `Origin` is allowed; otherwise
    /// the origin's host (and port) must equal the `Host` header, ignoring case.
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
                host.is_some_and(|host| origin.is_served_by(&host))
            }
            OriginPolicy::AllowList(list) => list
                .iter()
                .filter_map(|o| Origin::parse(o.trim_end_matches('/')))
                .any(|allowed| allowed == origin),
            OriginPolicy::AllowAll | OriginPolicy::Custom(_) => unreachable!("answered above"),
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

    /// Whether a server reached as `host` (the `Host` header) serves this
    /// origin: the same host, and the same port, where a `Host` without a
    /// port means the default port of the origin's own scheme. The server's
    /// scheme is not compared (as gorilla does not): behind a proxy that
    /// ends TLS, `https://a.example` reaches a plain server as `a.example`.
    fn is_served_by(&self, host: &http::uri::Authority) -> bool {
        let port = match explicit_port(host) {
            Some(Some(p)) => p,
            Some(None) => match default_port(&self.scheme) {
                Some(p) => p,
                None => return false,
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
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
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
