//! The [`Dialer`]: gorilla's `Dialer`, for any runtime; here its opening
//! handshake over a stream the caller connected.

use std::fmt;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures_io::{AsyncRead, AsyncWrite};
use futures_util::{AsyncWriteExt as _, FutureExt as _};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{StatusCode, Uri, Version};

use super::handshake::Handshake;
use super::request::{is_reserved, new_key, request_head, RequestParts};
use super::response::{body_length, check_switch, parse_response, read_body, refusal, SERVER_HEAD};
use super::{ClientError, Proxy, TlsConnector};
use crate::deflate::{accept_answer, offer_header, DeflateConfig};
use crate::endpoint::Endpoint;
use crate::handshake::{read_raw_head, RawHeadError};
use crate::runtime::timeout;

/// Opens WebSocket connections as a client: the settings of the opening
/// handshake and of the connections it opens.
///
/// Built once, shared by all connections (it is cheap to clone).
/// [`handshake`](Self::handshake) runs the opening handshake over a stream
/// already connected to the server (TCP, TLS over TCP, a proxy tunnel).
///
/// ```
/// use std::time::Duration;
/// use wsup_core::client::Dialer;
/// use wsup_core::deflate::DeflateConfig;
/// use wsup_core::http::HeaderValue;
///
/// // Configuration needs no runtime; a binding adds the timers.
/// let dialer = Dialer::new()
///     .protocols(["chat.v2", "chat.v1"])
///     .compression(DeflateConfig::enabled())
///     .header(
///         wsup_core::http::header::AUTHORIZATION,
///         HeaderValue::from_static("Bearer 123"),
///     )
///     .handshake_timeout(Duration::from_secs(10));
/// assert_eq!(dialer.websocket_config().max_message_size(), 1 << 20);
/// ```
#[derive(Clone)]
pub struct Dialer {
    pub(super) endpoint: Endpoint,
    protocols: Vec<String>,
    deflate: DeflateConfig,
    headers: HeaderMap,
    pub(super) proxy: Option<Proxy>,
    pub(super) tls: Option<TlsConnector>,
    /// A handshake header was given as an extra one: the handshake fails.
    reserved_header: bool,
}

/// Header values are left out: they may be credentials.
impl fmt::Debug for Dialer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dialer")
            .field("endpoint", &self.endpoint)
            .field("protocols", &self.protocols)
            .field("deflate", &self.deflate)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("proxy", &self.proxy)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Default for Dialer {
    fn default() -> Self {
        Dialer {
            // gorilla's DefaultDialer.
            endpoint: Endpoint::new(Duration::from_secs(45)),
            protocols: Vec::new(),
            deflate: DeflateConfig::default(),
            headers: HeaderMap::new(),
            proxy: None,
            tls: None,
            reserved_header: false,
        }
    }
}

impl Dialer {
    /// A dialer with the defaults: 45 s handshake timeout (gorilla's
    /// `DefaultDialer`), a response head of at most 16 KiB and 64 headers,
    /// the connection defaults of [`WebSocketConfig`](crate::WebSocketConfig), no subprotocols, no
    /// compression, no extra headers, and no runtime (so no timers: the
    /// runtime bindings' constructors set one).
    pub fn new() -> Self {
        Self::default()
    }

    /// Connects through an HTTP proxy (`CONNECT`), as gorilla's `Proxy`;
    /// by default, directly.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// The TLS settings for `wss://` (gorilla's `TLSClientConfig`): a
    /// root store, a CA file, or a whole rustls `ClientConfig`. By default
    /// the platform's roots (`TlsConnector::platform()`, feature `tls`).
    pub fn tls(mut self, tls: TlsConnector) -> Self {
        self.tls = Some(tls);
        self
    }

    crate::endpoint::endpoint_setters!();

    /// Subprotocols to offer, most preferred first
    /// (`Sec-WebSocket-Protocol`). Each must be an HTTP token, or the
    /// handshake fails with [`ClientError::InvalidRequest`]. The server
    /// chooses one of them or none; any other answer fails the handshake.
    pub fn protocols<I: IntoIterator<Item = S>, S: Into<String>>(mut self, protocols: I) -> Self {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// permessage-deflate (RFC 7692), offered when `config` is enabled (off
    /// by default). The `server_*` fields are asked of the server
    /// (`server_no_context_takeover`, `server_max_window_bits` below 15);
    /// the `client_*` fields are what this side promises
    /// (`client_no_context_takeover`, `client_max_window_bits`, always
    /// offered so that the server may limit it). The level and threshold
    /// apply to what this side sends.
    pub fn compression(mut self, config: DeflateConfig) -> Self {
        self.deflate = config;
        self
    }

    /// An extra request header (an `Authorization` token, a `Cookie`, an
    /// `Origin`), sent after the handshake's own; several of one name are
    /// all sent.
    ///
    /// `Sec-WebSocket-Protocol` is taken as gorilla takes it: its
    /// comma-separated values are added to the [offered
    /// subprotocols](Self::protocols). The handshake's other headers cannot
    /// be set here: `Host` (always the URI's), `Upgrade`, `Connection`, the
    /// other `Sec-WebSocket-*` headers, and the body framing
    /// `Content-Length` and `Transfer-Encoding`; given one, the handshake
    /// fails with [`ClientError::InvalidRequest`] rather than send
    /// something else than asked. To reach a server by address under
    /// another name, connect the stream to the address and give
    /// [`handshake`](Self::handshake) the URI with the name.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        if name == header::SEC_WEBSOCKET_PROTOCOL {
            let values = value.to_str().unwrap_or("");
            let protocols = values.split(',').map(str::trim).filter(|p| !p.is_empty());
            self.protocols.extend(protocols.map(str::to_owned));
            if value.to_str().is_err() {
                self.reserved_header = true;
            }
        } else if is_reserved(&name) {
            self.reserved_header = true;
        } else {
            self.headers.append(name, value);
        }
        self
    }

    /// Extra request headers, each as [`header`](Self::header) adds it.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        let mut name = None;
        for (n, value) in headers {
            // Repeated values of one name come with `None`.
            if let Some(n) = n {
                name = Some(n);
            }
            if let Some(n) = &name {
                self = self.header(n.clone(), value);
            }
        }
        self
    }

    /// Runs the opening handshake (RFC 6455 section 4.1) over `io`, a
    /// stream connected to the server `uri` names (`ws://` or `wss://`, or
    /// their aliases `http://` and `https://`): writes the request, reads
    /// the response head (bounded in size and header count), and checks
    /// it strictly.
    ///
    /// Fails with [`ClientError::Redirect`] for a `3xx` (not followed),
    /// [`ClientError::Status`] for another status than `101` (both with
    /// the response and up to 64 KiB of its body),
    /// [`ClientError::InvalidResponse`] for a `101` with a wrong
    /// `Upgrade`, `Connection` or `Sec-WebSocket-Accept`,
    /// [`ClientError::UnofferedSubprotocol`] and
    /// [`ClientError::UnofferedExtension`] for answers the request did not
    /// allow, [`ClientError::HeadTooLarge`], [`ClientError::Malformed`],
    /// [`ClientError::Timeout`] past the [handshake
    /// timeout](Self::handshake_timeout), and [`ClientError::Io`] (an end
    /// of stream before the head is `UnexpectedEof`).
    pub async fn handshake<S>(&self, io: S, uri: &Uri) -> Result<Handshake<S>, ClientError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.handshake_by(io, uri, self.endpoint.deadline()).await
    }

    /// [`handshake`](Self::handshake) under a deadline that began earlier
    /// (connecting, a proxy's tunnel, TLS).
    pub(crate) async fn handshake_by<S>(
        &self,
        io: S,
        uri: &Uri,
        deadline: Instant,
    ) -> Result<Handshake<S>, ClientError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.handshake_with_key(io, uri, &new_key()?, deadline)
            .await
    }

    /// The handshake with a given key (the tests' fixed one).
    pub(super) async fn handshake_with_key<S>(
        &self,
        mut io: S,
        uri: &Uri,
        key: &str,
        deadline: Instant,
    ) -> Result<Handshake<S>, ClientError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        if self.reserved_header {
            return Err(ClientError::InvalidRequest(
                "a header of the handshake's own was given as an extra header",
            ));
        }
        let offer = offer_header(&self.deflate);
        let request = request_head(
            uri,
            key,
            &RequestParts {
                protocols: &self.protocols,
                extensions: offer.as_deref(),
                headers: &self.headers,
            },
        )?;
        let rt = self.endpoint.runtime();
        let remaining = || deadline.saturating_duration_since(Instant::now());
        let (response, rest) = timeout(rt, remaining(), async {
            io.write_all(&request).await?;
            io.flush().await?;
            let (mut buf, end) = read_raw_head(&mut io, self.endpoint.limits.max_size)
                .await
                .map_err(|e| match e {
                    RawHeadError::Io(e) => ClientError::Io(e),
                    RawHeadError::Eof => ClientError::Io(std::io::ErrorKind::UnexpectedEof.into()),
                    RawHeadError::TooLarge => ClientError::HeadTooLarge,
                })?;
            let response =
                parse_response(&buf[..end], self.endpoint.limits.max_headers, SERVER_HEAD)?;
            // RFC 6455 4.1: the answer to an HTTP/1.1 request, itself HTTP/1.1.
            if response.version() != Version::HTTP_11 {
                return Err(ClientError::Malformed("the response is not HTTP/1.1"));
            }
            Ok::<_, ClientError>((response, buf.split_off(end)))
        })
        .await
        .ok_or(ClientError::Timeout(self.endpoint.handshake_timeout))??;

        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            let length = body_length(&response);
            let mut body = BytesMut::new();
            let read = read_body(&mut io, rest, length, &mut body);
            if rt.is_none() {
                // Without a deadline, only what is there already: reading
                // on for the rest of a body could wait forever.
                let _ = read.now_or_never();
            } else {
                // Best effort: what arrived by the deadline is kept.
                let _ = timeout(rt, remaining(), read).await;
            }
            return Err(refusal(response, body.freeze()));
        }

        let protocol = check_switch(response.headers(), key, &self.protocols)?;
        let answers = response.headers().get_all(header::SEC_WEBSOCKET_EXTENSIONS);
        let agreed =
            accept_answer(&self.deflate, answers.iter().map(|v| v.as_bytes())).map_err(|why| {
                let answered: Vec<_> = answers
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()))
                    .collect();
                ClientError::UnofferedExtension(format!("{} ({why})", answered.join(", ")))
            })?;
        Ok(Handshake {
            io,
            leftover: rest.freeze(),
            response,
            protocol,
            deflate: agreed.map(|a| (a, self.deflate.clone())),
            config: self.endpoint.config.clone(),
            runtime: self.endpoint.runtime.clone(),
        })
    }
}
