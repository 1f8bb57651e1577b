//! What the two ends of a handshake have in common: the [`Upgrader`]
//! (server) and the [`Dialer`] (client) each hold an [`Endpoint`] and get
//! its setters from [`endpoint_setters!`], so the two surfaces cannot drift
//! apart.
//!
//! [`Upgrader`]: crate::Upgrader
//! [`Dialer`]: crate::client::Dialer

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::WebSocketConfig;
use crate::handshake::HeadLimits;
use crate::runtime::Runtime;

/// The handshake's deadline and head limits, the connection settings, and
/// the runtime that provides the timers.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    pub(crate) handshake_timeout: Duration,
    pub(crate) limits: HeadLimits,
    pub(crate) config: WebSocketConfig,
    pub(crate) runtime: Option<Arc<dyn Runtime>>,
}

impl Endpoint {
    /// The defaults but for the handshake timeout, which differs by side.
    pub(crate) fn new(handshake_timeout: Duration) -> Self {
        Endpoint {
            handshake_timeout,
            limits: HeadLimits::default(),
            config: WebSocketConfig::default(),
            runtime: None,
        }
    }

    /// When a handshake starting now must be done.
    pub(crate) fn deadline(&self) -> Instant {
        crate::runtime::later(Instant::now(), self.handshake_timeout)
    }

    pub(crate) fn runtime(&self) -> Option<&dyn Runtime> {
        self.runtime.as_deref()
    }
}

/// The setters of an [`Endpoint`] held in the field `endpoint`, and the
/// connection setters (`crate::config::connection_setters!`), for the
/// type it is expanded in.
macro_rules! endpoint_setters {
    () => {
        /// The runtime that provides timers: the handshake deadline and the
        /// connection's keepalive, idle, write and close timers. Without
        /// one, nothing times out. The runtime bindings' constructors set
        /// one.
        pub fn runtime(mut self, rt: std::sync::Arc<dyn crate::runtime::Runtime>) -> Self {
            self.endpoint.runtime = Some(rt);
            self
        }

        /// [`runtime`](Self::runtime), unless one is set already: what a
        /// server or a binding does with the value it is given, so that a
        /// bare `new()` gets the runtime's timers.
        pub fn runtime_or(mut self, rt: std::sync::Arc<dyn crate::runtime::Runtime>) -> Self {
            self.endpoint.runtime.get_or_insert(rt);
            self
        }

        /// One deadline over the whole opening handshake. On the server:
        /// reading the request and writing the answer (and, on a
        /// [`Server`](crate::server::Server) with an
        /// [`Acceptor`](crate::server::Acceptor), the TLS handshake before
        /// them); on the client: writing the request and reading the
        /// response head, and the body of a refusal (what arrived of it by
        /// then is kept). Needs a [`runtime`](Self::runtime).
        pub fn handshake_timeout(mut self, d: std::time::Duration) -> Self {
            self.endpoint.handshake_timeout = d;
            self
        }

        /// Limits on the head read in the handshake (the server's request,
        /// the client's response): its size in bytes (431 beyond it on the
        /// server, [`ClientError::HeadTooLarge`](crate::client::ClientError)
        /// on the client) and its number of headers (likewise).
        pub fn head_limits(mut self, limits: crate::handshake::HeadLimits) -> Self {
            self.endpoint.limits = limits;
            self
        }

        /// All connection settings at once: the limits, timeouts and
        /// keepalive (see [`WebSocketConfigBuilder`](crate::WebSocketConfigBuilder)).
        pub fn config(mut self, config: crate::WebSocketConfig) -> Self {
            self.endpoint.config = config;
            self
        }

        /// The connection settings.
        pub fn websocket_config(&self) -> &crate::WebSocketConfig {
            &self.endpoint.config
        }

        /// Changes the connection settings through their builder, which
        /// checks them: every connection setter below comes through here.
        fn configure(
            mut self,
            set: impl FnOnce(crate::WebSocketConfigBuilder) -> crate::WebSocketConfigBuilder,
        ) -> Self {
            self.endpoint.config = set(self.endpoint.config.to_builder()).build();
            self
        }

        crate::config::connection_setters!();
    };
}
pub(crate) use endpoint_setters;
