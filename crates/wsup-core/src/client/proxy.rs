//! Reaching the server through an HTTP proxy: `CONNECT host:port`
//! (RFC 9110 section 9.3.6) over the connection to the proxy, which then
//! carries the WebSocket connection (and its TLS, for `wss://`) as is.

use std::fmt;

use base64::Engine as _;
use futures_io::{AsyncRead, AsyncWrite};
use futures_util::AsyncWriteExt;
use http::HeaderValue;

use super::response::parse_response;
use super::{ClientError, Target};
use crate::handshake::{read_raw_head, HeadLimits, RawHeadError};

/// An HTTP proxy to tunnel through, with the credential to present, if
/// any (`Proxy-Authorization: Basic`).
///
/// ```
/// use wsup_core::client::Proxy;
///
/// let proxy = Proxy::parse("http://alice:secret@proxy.internal:3128")?;
/// assert_eq!((proxy.host(), proxy.port()), ("proxy.internal", 3128));
/// let same = Proxy::new("proxy.internal", 3128).basic_auth("alice", "secret");
/// assert_eq!(proxy, same);
/// # Ok::<(), wsup_core::client::ClientError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    authorization: Option<HeaderValue>,
}

impl Proxy {
    /// The proxy at `host` (a DNS name or an IP address, an IPv6 one without
    /// brackets) and `port`, with no credential.
    pub fn new(host: impl Into<String>, port: u16) -> Proxy {
        Proxy {
            host: host.into(),
            port,
            authorization: None,
        }
    }

    /// A proxy from its URL, `http://[user:password@]host[:port]` (the port
    /// defaults to 80, the user and password are taken as written, with no
    /// percent-decoding). A path other than `/`, a query or a fragment is
    /// refused, and so is `https://` (TLS to the proxy itself is not
    /// supported).
    pub fn parse(url: &str) -> Result<Proxy, ClientError> {
        let bad = ClientError::InvalidUrl;
        if url.contains('#') {
            return Err(bad("a proxy URL has no fragment"));
        }
        let uri: http::Uri = url.parse().map_err(|_| bad("not a valid proxy URL"))?;
        if !uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("http"))
        {
            return Err(bad("the proxy URL's scheme is not http"));
        }
        if uri.query().is_some() || !matches!(uri.path(), "" | "/") {
            return Err(bad("a proxy URL has no path or query"));
        }
        let authority = uri.authority().ok_or(bad("the proxy URL has no host"))?;
        // The credential, if any, is what comes before the last `@`.
        let userinfo = authority.as_str().rsplit_once('@').map(|(u, _)| u);
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() {
            return Err(bad("the proxy URL has no host"));
        }
        let port = super::url::port(authority)?.unwrap_or(80);
        let proxy = Proxy::new(host, port);
        Ok(match userinfo {
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                proxy.basic_auth(user, password)
            }
            None => proxy,
        })
    }

    /// Presents `user` and `password` to the proxy, as
    /// `Proxy-Authorization: Basic` (RFC 7617).
    pub fn basic_auth(mut self, user: &str, password: &str) -> Proxy {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut value = HeaderValue::try_from(format!("Basic {token}"))
            .expect("base64 is a valid header value");
        value.set_sensitive(true);
        self.authorization = Some(value);
        self
    }

    /// The proxy's host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// The credential is not shown.
impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("authorization", &self.authorization.as_ref().map(|_| ".."))
            .finish()
    }
}

/// Asks the proxy at the other end of `io` for a tunnel to `target`
/// (`CONNECT host:port`, RFC 9110 section 9.3.6): returns once the proxy
/// answered 2xx, when `io` reaches the target.
///
/// The proxy's response head is read under the same limits as a request
/// head ([`HeadLimits`] default: 16 KiB, 64 headers;
/// [`ClientError::HeadTooLarge`] past them). Any status but 2xx is
/// [`ClientError::Proxy`]. Nothing may follow the head: the client speaks
/// first in both `ws://` and `wss://`, so a byte the proxy sent after its
/// `200` can only be an error, and is refused as
/// [`ClientError::Malformed`] rather than handed on or lost.
pub async fn tunnel<S>(io: &mut S, proxy: &Proxy, target: &Target) -> Result<(), ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let authority = target.authority();
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(credential) = &proxy.authorization {
        // Built from base64 in `basic_auth`: ASCII.
        let credential = credential.to_str().unwrap_or_default();
        request.push_str(&format!("Proxy-Authorization: {credential}\r\n"));
    }
    request.push_str("\r\n");
    io.write_all(request.as_bytes()).await?;
    io.flush().await?;

    let limits = HeadLimits::default();
    let (buf, end) = read_raw_head(io, limits.max_size)
        .await
        .map_err(|e| match e {
            RawHeadError::Io(e) => ClientError::Io(e),
            RawHeadError::Eof => ClientError::Malformed("the proxy closed before its response"),
            RawHeadError::TooLarge => ClientError::HeadTooLarge,
        })?;
    let what = ["incomplete proxy response", "invalid proxy response"];
    let status = parse_response(&buf[..end], limits.max_headers, what)?.status();
    if !status.is_success() {
        return Err(ClientError::Proxy(status));
    }
    if end < buf.len() {
        return Err(ClientError::Malformed(
            "the proxy sent bytes after its response to CONNECT",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
