//! axum 0.8 integration for wsup: the [`WebSocketUpgrade`] extractor, in
//! axum's own shape (`on_upgrade`, `protocols`, `on_failed_upgrade`), with
//! the whole policy of a wsup [`Upgrader`] taken from the router's state:
//! permessage-deflate, the origin check, subprotocols, limits, keepalive.
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{response::Response, routing::get, Router};
//! use wsup_axum::WebSocketUpgrade;
//! use wsup_core::deflate::DeflateConfig;
//!
//! async fn ws(upgrade: WebSocketUpgrade) -> Response {
//!     upgrade.on_upgrade(|mut ws| async move {
//!         while let Ok(msg) = ws.recv().await {
//!             if msg.is_data() && ws.feed(msg).await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//! }
//!
//! # async fn doc() -> std::io::Result<()> {
//! let upgrader = wsup_tokio::upgrader().compression(DeflateConfig::enabled());
//! let app = Router::new()
//!     .route("/ws", get(ws))
//!     .with_state(Arc::new(upgrader));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! The extractor finds the upgrader through [`FromRef`]: a router whose
//! state is an `Arc<Upgrader>`, or an application state that derives or
//! implements `FromRef` for one. A request the upgrader refuses is
//! answered by it (the status from its checks, or its
//! [`on_error`](Upgrader::on_error) hook's response) as the extractor's
//! rejection; the handler does not run. Connections run on tokio (as
//! axum's server does), with tokio's timers when the upgrader has none.
//!
//! Over HTTP/2 (RFC 8441's extended CONNECT, which `axum::serve` enables
//! with axum's `http2` feature) the same extractor answers `200` and the
//! connection runs over the HTTP/2 stream, compression included: route the
//! handler with `any(..)` (HTTP/1.1 upgrades are `GET`, HTTP/2 ones
//! `CONNECT`).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use wsup_core::handshake::select_protocol;
use wsup_core::{Rejection, Upgrader};
use wsup_hyper::Negotiated;

/// The connection an axum handler gets: a wsup WebSocket over hyper's
/// upgraded connection.
pub type WebSocket = wsup_hyper::WebSocket;

/// The extractor of a WebSocket upgrade (see the [crate docs](crate)):
/// the request checked and negotiated by the state's [`Upgrader`].
#[must_use = "the connection is set up only by returning on_upgrade's response"]
pub struct WebSocketUpgrade<F = DefaultOnFailedUpgrade> {
    negotiated: Negotiated,
    offered: Vec<String>,
    on_failed_upgrade: F,
}

impl<F> fmt::Debug for WebSocketUpgrade<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketUpgrade")
            .field("negotiated", &self.negotiated)
            .field("offered", &self.offered)
            .finish_non_exhaustive()
    }
}

impl<F> WebSocketUpgrade<F> {
    /// The subprotocols this handler speaks, most preferred first: the
    /// first the client offered is selected, replacing the upgrader's
    /// choice; none offered, none is selected.
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ours: Vec<String> = protocols.into_iter().map(Into::into).collect();
        let chosen = select_protocol(&ours, &self.offered);
        self.negotiated.accepted_mut().set_subprotocol(chosen);
        self
    }

    /// The subprotocols the client offered, in its order.
    pub fn requested_protocols(&self) -> impl Iterator<Item = &str> {
        self.offered.iter().map(String::as_str)
    }

    /// The subprotocol selected so far, if any.
    pub fn selected_protocol(&self) -> Option<&str> {
        self.negotiated.accepted().subprotocol()
    }

    /// What to do if hyper cannot hand the connection over after the
    /// `101` (the client went away first, say); by default nothing.
    pub fn on_failed_upgrade<C: OnFailedUpgrade>(self, callback: C) -> WebSocketUpgrade<C> {
        WebSocketUpgrade {
            negotiated: self.negotiated,
            offered: self.offered,
            on_failed_upgrade: callback,
        }
    }

    /// The `101 Switching Protocols` response to return from the handler;
    /// once hyper has sent it, `callback` runs with the connection in a
    /// task of its own.
    #[must_use = "the connection is set up only when this response is returned"]
    pub fn on_upgrade<C, Fut>(mut self, callback: C) -> Response
    where
        C: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
        F: OnFailedUpgrade,
    {
        self.negotiated
            .accepted_mut()
            .runtime_or(Arc::new(wsup_tokio::TokioRuntime));
        let (response, upgrading) = self.negotiated.into_response::<Body>();
        let on_failed_upgrade = self.on_failed_upgrade;
        tokio::spawn(async move {
            match upgrading.await {
                Ok(ws) => callback(ws).await,
                Err(error) => on_failed_upgrade.call(error),
            }
        });
        response
    }
}

impl<S> FromRequestParts<S> for WebSocketUpgrade<DefaultOnFailedUpgrade>
where
    Arc<Upgrader>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebSocketUpgradeRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let upgrader = Arc::<Upgrader>::from_ref(state);
        let negotiated =
            wsup_hyper::negotiate(&upgrader, parts).map_err(WebSocketUpgradeRejection)?;
        let offered = parts
            .headers
            .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        Ok(WebSocketUpgrade {
            negotiated,
            offered,
            on_failed_upgrade: DefaultOnFailedUpgrade,
        })
    }
}

/// A request the state's upgrader refused: answered with its response.
#[derive(Debug)]
pub struct WebSocketUpgradeRejection(Rejection);

impl WebSocketUpgradeRejection {
    /// Why the request was refused.
    pub fn error(&self) -> &wsup_core::HandshakeError {
        &self.0.error
    }
}

impl IntoResponse for WebSocketUpgradeRejection {
    fn into_response(self) -> Response {
        self.0.response.map(Body::from)
    }
}

/// What to do when hyper cannot hand the connection over (see
/// [`WebSocketUpgrade::on_failed_upgrade`]): any `FnOnce(hyper::Error)`.
pub trait OnFailedUpgrade: Send + 'static {
    /// Runs the callback.
    fn call(self, error: hyper::Error);
}

impl<F: FnOnce(hyper::Error) + Send + 'static> OnFailedUpgrade for F {
    fn call(self, error: hyper::Error) {
        self(error)
    }
}

/// The default [`OnFailedUpgrade`]: nothing (the connection is gone).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct DefaultOnFailedUpgrade;

impl OnFailedUpgrade for DefaultOnFailedUpgrade {
    fn call(self, _error: hyper::Error) {}
}
