//! The URL a client connects to, parsed into what each step needs: the
//! scheme (TLS or not), the host and port to reach, and the request target.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use http::uri::Authority;
use http::Uri;

use super::ClientError;

/// Where a client connects: parsed from a `ws://` or `wss://` URL.
///
/// Accepted: `ws://` and `wss://` (RFC 6455 section 3), and `http://` and
/// `https://` as their aliases, as the WHATWG WebSocket standard accepts
/// them (`new WebSocket("https://…")`); the host a DNS name, an IPv4
/// address or an `[IPv6]` literal; the port 80 or 443 unless given; the
/// path `/` unless given. Refused, each with its reason in
/// [`ClientError::InvalidUrl`]:
///
/// - a fragment (`#…`): RFC 6455 forbids it in a WebSocket URI;
/// - userinfo (`user:password@`): a ws URI has none, and a credential in a
///   URL ends up in logs; send an `Authorization` header instead;
/// - a relative URL, another scheme, an empty host, an invalid port or 0.
///
/// ```
/// use wsup_core::client::Target;
///
/// let target: Target = "wss://[::1]:8443/chat?room=1".parse()?;
/// assert!(target.is_secure());
/// assert_eq!(target.host(), "::1");
/// assert_eq!(target.port(), 8443);
/// assert_eq!(target.path_and_query(), "/chat?room=1");
/// assert_eq!(target.host_header(), "[::1]:8443");
/// # Ok::<(), wsup_core::client::ClientError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    secure: bool,
    /// A DNS name or an IP address, without the brackets of an IPv6 literal.
    host: String,
    ip: Option<IpAddr>,
    port: u16,
    /// Whether the URL named the port (the `Host` header then names it).
    explicit_port: bool,
    path_and_query: String,
}

impl Target {
    /// Parses `url` (see above for what is accepted).
    pub fn parse(url: &str) -> Result<Target, ClientError> {
        // http::Uri drops a fragment silently: look for it first.
        if url.contains('#') {
            return Err(ClientError::InvalidUrl("a WebSocket URL has no fragment"));
        }
        let uri: Uri = url
            .parse()
            .map_err(|_| ClientError::InvalidUrl("not a valid URL"))?;
        Target::from_uri(&uri)
    }

    /// The target of an already parsed URI (whose fragment, if it had one,
    /// `http::Uri` has dropped).
    pub fn from_uri(uri: &Uri) -> Result<Target, ClientError> {
        let secure = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("ws" | "http") => false,
            Some("wss" | "https") => true,
            Some(_) => return Err(ClientError::InvalidUrl("the scheme is not ws or wss")),
            None => {
                return Err(ClientError::InvalidUrl(
                    "not an absolute ws:// or wss:// URL",
                ))
            }
        };
        let authority = uri.authority().ok_or(ClientError::InvalidUrl("no host"))?;
        if authority.as_str().contains('@') {
            return Err(ClientError::InvalidUrl(
                "credentials in the URL are not supported: send an Authorization header",
            ));
        }
        let (host, ip) = parse_host(authority.host())?;
        let (port, explicit_port) = match port(authority)? {
            Some(port) => (port, true),
            None => (default_port(secure), false),
        };
        let path_and_query = match uri.path_and_query().map(|pq| pq.as_str()) {
            None | Some("") => "/".to_owned(),
            Some(pq) if pq.starts_with('?') => format!("/{pq}"),
            Some(pq) => pq.to_owned(),
        };
        Ok(Target {
            secure,
            host,
            ip,
            port,
            explicit_port,
            path_and_query,
        })
    }

    /// Whether the connection runs over TLS (`wss://`).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host to reach: a DNS name, or an IP address (an IPv6 one without
    /// its brackets), as in the URL.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The host as an IP address, when the URL gave one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    /// The port: the URL's, or 80 for `ws://` and 443 for `wss://`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request target of the handshake: the path and query, `/` when
    /// the URL has no path.
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// The value of the handshake's `Host` header: the host (an IPv6
    /// address in brackets), with the port unless it is the scheme's
    /// default (RFC 6455 section 4.1), as the handshake sends it.
    pub fn host_header(&self) -> String {
        if self.port != default_port(self.secure) {
            self.authority()
        } else {
            self.bracketed_host().into_owned()
        }
    }

    /// `host:port` with the port always given (an IPv6 address in
    /// brackets): the request target of a proxy's `CONNECT`.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.bracketed_host(), self.port)
    }

    fn bracketed_host(&self) -> std::borrow::Cow<'_, str> {
        match self.ip {
            Some(IpAddr::V6(_)) => format!("[{}]", self.host).into(),
            _ => self.host.as_str().into(),
        }
    }
}

impl FromStr for Target {
    type Err = ClientError;

    fn from_str(url: &str) -> Result<Target, ClientError> {
        Target::parse(url)
    }
}

impl TryFrom<&str> for Target {
    type Error = ClientError;

    fn try_from(url: &str) -> Result<Target, ClientError> {
        Target::parse(url)
    }
}

impl TryFrom<&Uri> for Target {
    type Error = ClientError;

    fn try_from(uri: &Uri) -> Result<Target, ClientError> {
        Target::from_uri(uri)
    }
}

/// The URL again, in its canonical form (`ws://` or `wss://`, the port
/// only when it is not the scheme's default).
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "wss" } else { "ws" };
        write!(
            f,
            "{scheme}://{}{}",
            self.host_header(),
            self.path_and_query
        )
    }
}

fn default_port(secure: bool) -> u16 {
    if secure {
        443
    } else {
        80
    }
}

/// The port the authority names, `None` if it names none (`host` or
/// `host:`, the default port as in RFC 3986).
pub(super) fn port(authority: &Authority) -> Result<Option<u16>, ClientError> {
    // `Authority::port` is `None` for a port out of range: read it here.
    let host_and_port = authority.as_str().rsplit('@').next().unwrap_or_default();
    let port = host_and_port
        .get(authority.host().len()..)
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or_default();
    match port {
        "" => Ok(None),
        port if !port.bytes().all(|b| b.is_ascii_digit()) => {
            Err(ClientError::InvalidUrl("invalid port"))
        }
        port => match port.parse::<u16>() {
            Ok(0) => Err(ClientError::InvalidUrl("port 0")),
            Ok(port) => Ok(Some(port)),
            Err(_) => Err(ClientError::InvalidUrl("invalid port")),
        },
    }
}

/// The host without brackets, and its address if it is an IP literal.
fn parse_host(host: &str) -> Result<(String, Option<IpAddr>), ClientError> {
    if host.is_empty() {
        return Err(ClientError::InvalidUrl("no host"));
    }
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or(ClientError::InvalidUrl("invalid IPv6 address"))?;
        let ip: Ipv6Addr = inner
            .parse()
            .map_err(|_| ClientError::InvalidUrl("invalid IPv6 address"))?;
        return Ok((inner.to_owned(), Some(IpAddr::V6(ip))));
    }
    let ip = host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4);
    Ok((host.to_owned(), ip))
}

#[cfg(test)]
mod tests;
