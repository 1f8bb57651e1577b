//! The [`Upgrader`]: gorilla's `Upgrader`, for any runtime.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::Response;

use crate::config::WebSocketConfig;
use crate::conn::WebSocket;
use crate::deflate::{
    negotiate, parse_offers_bytes, Agreed, CodecPool, ContextBudget, DeflateConfig, ServerShare,
};
use crate::endpoint::Endpoint;
use crate::error::HandshakeError;
use crate::handshake::{
    error_response, select_protocol, switching_protocols, validate_request, OriginPolicy,
};
use crate::observe;
use crate::opaque::Opaque;
use crate::role::Role;
use crate::runtime::{timeout, Runtime};
use crate::source::{RawStream, UpgradeSource};
use crate::stats::ServerStats;

mod pending;

pub use self::pending::PendingUpgrade;
use self::pending::UpgraderRef;

type RequestHook = Arc<dyn Fn(&Parts, &mut HeaderMap) -> Result<(), Response<Bytes>> + Send + Sync>;
type ErrorHook = Arc<dyn Fn(&HandshakeError) -> Response<Bytes> + Send + Sync>;

/// Turns HTTP/1.1 upgrade requests into [`WebSocket`] connections.
///
/// Built once, shared by all connections (it is cheap to clone).
#[derive(Clone, Debug)]
pub struct Upgrader {
    pub(crate) endpoint: Endpoint,
    subprotocols: Vec<String>,
    origin: OriginPolicy,
    on_request: Option<Opaque<RequestHook>>,
    on_error: Option<Opaque<ErrorHook>>,
    deflate: DeflateConfig,
    codec_pool: Arc<CodecPool>,
    deflate_budget: Arc<ContextBudget>,
    stats: Option<Arc<ServerStats>>,
}

impl Default for Upgrader {
    fn default() -> Self {
        Upgrader {
            endpoint: Endpoint::new(Duration::from_secs(10)),
            subprotocols: Vec::new(),
            origin: OriginPolicy::SameOrigin,
            on_request: None,
            on_error: None,
            deflate: DeflateConfig::default(),
            codec_pool: Arc::new(CodecPool::default()),
            deflate_budget: ContextBudget::new(usize::MAX),
            stats: None,
        }
    }
}

/// A request that passed every check: the 101 to send, and what the
/// connection needs once the transport is upgraded.
#[derive(Debug)]
pub struct Accepted {
    response: Response<Bytes>,
    protocol: Option<String>,
    config: WebSocketConfig,
    runtime: Option<Arc<dyn Runtime>>,
    deflate: Option<(Agreed, DeflateConfig, ServerShare)>,
    span: observe::Span,
    stats: Option<Arc<ServerStats>>,
}

impl Accepted {
    /// The `101 Switching Protocols` response.
    pub fn response(&self) -> &Response<Bytes> {
        &self.response
    }

    /// Takes the response (for a server that writes it itself).
    pub fn take_response(&mut self) -> Response<Bytes> {
        std::mem::take(&mut self.response)
    }

    /// The selected subprotocol.
    pub fn subprotocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Replaces the selected subprotocol (for an HTTP integration whose
    /// handler names its own, as axum's `protocols` does), in the response
    /// and for the connection. It must be one the client offered.
    pub fn set_subprotocol(&mut self, protocol: Option<&str>) {
        let headers = self.response.headers_mut();
        match protocol.map(HeaderValue::from_str) {
            Some(Ok(value)) => {
                headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
                self.protocol = protocol.map(str::to_owned);
            }
            _ => {
                headers.remove(header::SEC_WEBSOCKET_PROTOCOL);
                self.protocol = None;
            }
        }
        observe::record_subprotocol(&self.span, self.protocol.as_deref());
    }

    /// `rt` as the connection's runtime (its keepalive, idle, write and
    /// close timers), unless the upgrader had one: what an HTTP
    /// integration on a known runtime does with an upgrader it is given.
    pub fn runtime_or(&mut self, rt: Arc<dyn Runtime>) {
        self.runtime.get_or_insert(rt);
    }

    /// The negotiated permessage-deflate parameters, if any.
    pub fn compression(&self) -> Option<&Agreed> {
        self.deflate.as_ref().map(|(a, _, _)| a)
    }

    /// Builds the connection over the upgraded transport.
    pub fn into_websocket<T: AsyncRead + AsyncWrite + Unpin>(
        self,
        io: T,
        leftover: Bytes,
    ) -> WebSocket<T> {
        let (config, runtime, span) = (self.config, self.runtime, self.span);
        let mut ws = WebSocket::with_span_role(io, leftover, config, runtime, span, Role::Server);
        if let Some(stats) = self.stats {
            ws.count_in(stats);
        }
        ws.set_protocol(self.protocol);
        if let Some((agreed, config, share)) = self.deflate {
            ws.enable_deflate(agreed, &config, Some(share));
        }
        ws
    }
}

/// A refused request: why, and the response for it.
#[derive(Debug)]
pub struct Rejection {
    /// Why.
    pub error: HandshakeError,
    /// What to answer.
    pub response: Response<Bytes>,
}

impl Upgrader {
    /// An upgrader with the defaults: 10 s handshake timeout, 16 KiB head,
    /// same-origin policy, no subprotocols, and no runtime (so no timers:
    /// the runtime bindings' constructors set one).
    pub fn new() -> Self {
        Self::default()
    }

    crate::endpoint::endpoint_setters!();

    /// permessage-deflate (RFC 7692), gorilla's `EnableCompression` and
    /// more: level, context takeover per direction, window bits, and a size
    /// threshold below which messages go out uncompressed. Off by default.
    pub fn compression(mut self, config: DeflateConfig) -> Self {
        self.deflate = config;
        self
    }

    /// The most connections that keep a compression context between
    /// messages at once (permessage-deflate's context takeover, what
    /// uWebSockets calls a dedicated compressor), counted over every
    /// connection this upgrader and its clones accept. Default: unlimited.
    ///
    /// A connection with context takeover holds its zlib state for its
    /// whole life, about 260 KiB to compress and 40 KiB to decompress with
    /// 15-bit windows; one without holds none between messages (states are
    /// lent by a pool for the length of one message). Past this many, a new
    /// connection still negotiates permessage-deflate, but with
    /// `server_no_context_takeover` and `client_no_context_takeover` (RFC
    /// 7692 lets the server impose both): it compresses each message on its
    /// own, at some cost in ratio, and compression memory is bounded by
    /// this setting whatever the number of connections. A place frees when
    /// its connection ends (closed, failed, timed out) or is dropped.
    ///
    /// The default keeps what the client offered, as without a budget:
    /// the right number depends on the memory of the host (about 300 KiB
    /// per place, both ways), and compression is opt-in already (see
    /// [`compression`](Self::compression)). Has an effect only with
    /// compression on; setting it starts a new count, so set it before
    /// cloning the upgrader.
    pub fn max_deflate_contexts(mut self, n: usize) -> Self {
        self.deflate_budget = ContextBudget::new(n);
        self
    }

    /// Connections that keep a compression context now (see
    /// [`max_deflate_contexts`](Self::max_deflate_contexts)).
    pub fn live_deflate_contexts(&self) -> usize {
        self.deflate_budget.live()
    }

    /// Supported subprotocols, most preferred first.
    pub fn subprotocols<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        protocols: I,
    ) -> Self {
        self.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The origin policy (default: same origin).
    pub fn origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin = policy;
        self
    }

    /// A hook that sees each valid upgrade request before the 101 (path,
    /// headers, cookies): it may add response headers, or refuse with its
    /// own response.
    pub fn on_request<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts, &mut HeaderMap) -> Result<(), Response<Bytes>> + Send + Sync + 'static,
    {
        self.on_request = Some(Opaque(Arc::new(f)));
        self
    }

    /// Builds the rejection responses (gorilla's `Error`); the default is the
    /// status and a short text body.
    pub fn on_error<F>(mut self, f: F) -> Self
    where
        F: Fn(&HandshakeError) -> Response<Bytes> + Send + Sync + 'static,
    {
        self.on_error = Some(Opaque(Arc::new(f)));
        self
    }

    /// Counts every handshake this upgrader answers and every connection
    /// it opens in `stats` (see [`ServerStats`]): refusals by the status
    /// written, connections open, and closed by their close code. Handshakes
    /// that fail before an answer (timeout, transport) are not counted.
    pub fn server_stats(mut self, stats: Arc<ServerStats>) -> Self {
        self.stats = Some(stats);
        self
    }

    fn reject(&self, error: HandshakeError) -> Rejection {
        let response = match &self.on_error {
            Some(Opaque(f)) => f(&error),
            None => error_response(&error),
        };
        Rejection { error, response }
    }

    /// The answer to a request refused for `error` (through the
    /// [`on_error`](Self::on_error) hook, as the upgrader's own refusals),
    /// logged and counted as they are: for an HTTP integration that refuses
    /// a request the upgrader accepted
    /// ([`HandshakeError::NotUpgradable`], say).
    pub fn refuse(&self, error: HandshakeError) -> Rejection {
        let rejection = self.reject(error);
        self.refused(&rejection);
        rejection
    }

    /// Checks a parsed request and negotiates; for servers that write the
    /// response themselves (hyper, axum).
    #[allow(clippy::result_large_err)]
    pub fn negotiate(&self, parts: &Parts) -> Result<Accepted, Rejection> {
        self.negotiate_with(parts, HeaderMap::new())
            .inspect_err(|r| self.refused(r))
    }

    /// Logs and counts a refusal (the response is about to be written).
    fn refused(&self, rejection: &Rejection) {
        let status = rejection.response.status();
        observe::handshake_refused(self.stats.as_deref(), status, &rejection.error);
    }

    #[allow(clippy::result_large_err)]
    fn negotiate_with(&self, parts: &Parts, mut extra: HeaderMap) -> Result<Accepted, Rejection> {
        let valid = validate_request(parts).map_err(|e| self.reject(e))?;
        if !self.origin.allows(parts) {
            return Err(self.reject(HandshakeError::OriginRefused));
        }
        let protocol =
            select_protocol(&self.subprotocols, &valid.offered_protocols).map(str::to_owned);
        let agreed = if self.deflate.enabled {
            let offers = parse_offers_bytes(
                parts
                    .headers
                    .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
                    .iter()
                    .map(|v| v.as_bytes()),
            );
            negotiate(&offers, &self.deflate).map(|a| self.deflate_budget.admit(a))
        } else {
            None
        };
        if let Some(Opaque(hook)) = &self.on_request {
            if let Err(response) = hook(parts, &mut extra) {
                return Err(Rejection {
                    error: HandshakeError::Rejected(response.status()),
                    response,
                });
            }
        }
        let span = observe::connection_span(
            Some(parts.uri.path()),
            protocol.as_deref(),
            agreed.as_ref().map(|(a, _)| a),
        );
        let extensions = agreed.as_ref().map(|(a, _)| a.response_header());
        let response = switching_protocols(
            valid.accept.as_deref(),
            protocol.as_deref(),
            extensions.as_deref(),
            extra,
        );
        Ok(Accepted {
            response,
            protocol,
            config: self.endpoint.config.clone(),
            runtime: self.endpoint.runtime.clone(),
            deflate: agreed.map(|(a, permit)| {
                let pool = self.codec_pool.clone();
                (a, self.deflate.clone(), ServerShare { pool, permit })
            }),
            span,
            stats: self.stats.clone(),
        })
    }

    /// Reads the request head from a raw stream, answers it, and returns the
    /// connection; on refusal the error response is already written.
    pub async fn upgrade<T>(&self, io: T) -> Result<WebSocket<T>, HandshakeError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send,
    {
        self.upgrade_from(RawStream::new(io)).await
    }

    /// [`upgrade`](Self::upgrade) from any [`UpgradeSource`].
    pub async fn upgrade_from<S: UpgradeSource>(
        &self,
        source: S,
    ) -> Result<WebSocket<S::Io>, HandshakeError> {
        self.read_request(source).await?.upgrade().await
    }

    /// Reads the request head only, so the application can route it (a
    /// plain HTTP request to a fallback handler, say).
    pub async fn read_request<S: UpgradeSource>(
        &self,
        source: S,
    ) -> Result<PendingUpgrade<'_, S>, HandshakeError> {
        self.read_request_by(source, self.endpoint.deadline()).await
    }

    /// [`read_request`](Self::read_request) under a deadline that began
    /// earlier (the server's, over a TLS handshake and the head).
    pub(crate) async fn read_request_by<S: UpgradeSource>(
        &self,
        mut source: S,
        deadline: Instant,
    ) -> Result<PendingUpgrade<'_, S>, HandshakeError> {
        let read = timeout(
            self.endpoint.runtime(),
            deadline.saturating_duration_since(Instant::now()),
            source.request(&self.endpoint.limits),
        )
        .await;
        match read {
            None => Err(HandshakeError::Timeout),
            Some(Ok(parts)) => Ok(PendingUpgrade {
                upgrader: UpgraderRef::Borrowed(self),
                source,
                parts,
                deadline,
                server: None,
            }),
            Some(Err(e)) => {
                if e.is_rejection() {
                    let rejection = self.reject(e);
                    self.refused(&rejection);
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    // Best effort: the request was bad, the answer may not arrive.
                    let _ = timeout(
                        self.endpoint.runtime(),
                        remaining,
                        source.respond(rejection.response),
                    )
                    .await;
                    return Err(rejection.error);
                }
                Err(e)
            }
        }
    }
}
