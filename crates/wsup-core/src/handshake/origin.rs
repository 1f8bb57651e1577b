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
        match self {
            OriginPolicy::AllowAll => true,
            OriginPolicy::Custom(f) => f(parts),
            OriginPolicy::SameOrigin => match origins.as_slice() {
                [] => true,
                [origin] => {
                    let Ok(origin) = origin.to_str() else {
                        return false;
                    };
                    // HTTP/2 has no `Host`: its `:authority` is the URI's
                    // (RFC 9113 8.3.1).
                    let host = parts
                        .headers
                        .get(header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
                    match (origin_authority(origin), host) {
                        (Some(a), Some(h)) => a.eq_ignore_ascii_case(h.trim()),
                        _ => false,
                    }
                }
                _ => false,
            },
            OriginPolicy::AllowList(list) => match origins.as_slice() {
                [] => true,
                [origin] => {
                    let Ok(origin) = origin.to_str() else {
                        return false;
                    };
                    list.iter()
                        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin.trim()))
                }
                _ => false,
            },
        }
    }
}

/// `host[:port]` of `scheme://host[:port]`; `None` for `null` or anything else.
fn origin_authority(origin: &str) -> Option<&str> {
    let (_scheme, rest) = origin.trim().split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    (!authority.is_empty()).then_some(authority)
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
    fn allow_list_and_allow_all() {
        let p = OriginPolicy::AllowList(vec!["https://app.example".into()]);
        assert!(p.allows(&req("Host: x\r\nOrigin: https://app.example\r\n")));
        assert!(!p.allows(&req("Host: x\r\nOrigin: https://other.example\r\n")));
        assert!(OriginPolicy::AllowAll.allows(&req("Host: x\r\nOrigin: https://other.example\r\n")));
    }
}
