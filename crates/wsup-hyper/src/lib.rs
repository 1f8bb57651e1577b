//! hyper 1.x integration for wsup: inside any hyper service, [`upgrade`]
//! applies a wsup [`Upgrader`]'s whole policy (origin check, subprotocols,
//! permessage-deflate, `on_request`, `on_error`) to a request and returns
//! the response to send (the `101`, or the refusal) with a future that
//! resolves to the [`WebSocket`] once hyper hands the connection over.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use std::sync::Arc;
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//! use wsup_core::Upgrader;
//!
//! async fn service(
//!     upgrader: Arc<Upgrader>,
//!     request: Request<Incoming>,
//! ) -> Result<Response<Full<Bytes>>, Infallible> {
//!     if request.uri().path() != "/ws" {
//!         return Ok(Response::new(Full::from("Hello World")));
//!     }
//!     Ok(match wsup_hyper::upgrade(&upgrader, request) {
//!         Ok((response, websocket)) => {
//!             tokio::spawn(async move {
//!                 let Ok(mut ws) = websocket.await else { return };
//!                 while let Ok(msg) = ws.recv().await {
//!                     if msg.is_data() && ws.feed(msg).await.is_err() {
//!                         break;
//!                     }
//!                 }
//!             });
//!             response
//!         }
//!         Err(refused) => refused.into_response(),
//!     })
//! }
//! ```
//!
//! hyper's HTTP/1 connection must be served `.with_upgrades()`. Over
//! HTTP/2 (RFC 8441's extended CONNECT: hyper's HTTP/2 server built with
//! `.enable_connect_protocol()`, feature `http2`, on by default) the same
//! call answers `200` and the connection runs over the HTTP/2 stream. Give the
//! upgrader a runtime (`wsup_tokio::upgrader()`, say): its keepalive, close
//! and idle timers need one. On tokio, hyper runs over hyper-util's
//! `TokioIo`; on smol and async-std, over [`rt::FuturesIo`], with
//! [`rt::RuntimeTimer`] and [`rt::RuntimeExecutor`] over wsup's runtime
//! seam.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod io;
pub mod rt;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use hyper::http::request::Parts;
use hyper::upgrade::OnUpgrade;
use hyper::{Request, Response};
use wsup_core::{Accepted, HandshakeError, Rejection, Upgrader};

pub use self::io::UpgradedIo;

/// A WebSocket over a connection hyper handed over.
pub type WebSocket = wsup_core::WebSocket<UpgradedIo>;

/// Whether `request` asks for a WebSocket (`Connection: upgrade` and
/// `Upgrade: websocket`, or over HTTP/2 an extended CONNECT with
/// `:protocol` `websocket`): to route upgrades and plain requests to the
/// same path apart.
pub fn is_upgrade_request<B>(request: &Request<B>) -> bool {
    if request.version() == hyper::Version::HTTP_2 {
        return request.method() == hyper::Method::CONNECT
            && is_websocket_protocol(request.extensions());
    }
    let has = |name, token: &str| {
        request.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    has(hyper::header::CONNECTION, "upgrade") && has(hyper::header::UPGRADE, "websocket")
}

/// Checks `request` against `upgrader` and negotiates: `Ok` with the `101
/// Switching Protocols` response for hyper to send and the future of the
/// connection, or `Err` with the refusal (its response made by the
/// upgrader's [`on_error`](Upgrader::on_error) hook, or the status and a
/// short text).
///
/// The body type `R` is any that a `Bytes` converts into (hyper's
/// `Full<Bytes>`, axum's `Body`). A request without hyper's upgrade handle
/// (one that did not come through hyper's server) is refused with
/// [`HandshakeError::NotUpgradable`] (500). An HTTP/1 connection not served
/// `.with_upgrades()` still gets its `101`, but [`Upgrading`] then fails
/// with hyper's error: serve it `.with_upgrades()`.
#[allow(clippy::result_large_err)]
pub fn upgrade<B, R: From<Bytes>>(
    upgrader: &Upgrader,
    request: Request<B>,
) -> Result<(Response<R>, Upgrading), Refused<R>> {
    let (mut parts, _body) = request.into_parts();
    Ok(negotiate(upgrader, &mut parts)?.into_response())
}

/// [`upgrade`] in two steps, for a framework that has the request's parts
/// (an extractor): checks and negotiates, taking hyper's upgrade handle
/// out of `parts.extensions`; the [`Negotiated`] upgrade can still be
/// adjusted before its response is made.
#[allow(clippy::result_large_err)]
pub fn negotiate(upgrader: &Upgrader, parts: &mut Parts) -> Result<Negotiated, Rejection> {
    if parts.version == hyper::Version::HTTP_2 && !is_websocket_connect(parts) {
        let error = match parts.method {
            hyper::Method::CONNECT => HandshakeError::Malformed("`:protocol` is not `websocket`"),
            _ => HandshakeError::MethodNotAllowed,
        };
        return Err(upgrader.refuse(error));
    }
    let accepted = upgrader.negotiate(parts)?;
    match parts.extensions.remove::<OnUpgrade>() {
        Some(on_upgrade) => Ok(Negotiated {
            accepted,
            on_upgrade,
        }),
        None => {
            drop(accepted);
            Err(upgrader.refuse(HandshakeError::NotUpgradable))
        }
    }
}

/// Whether `parts` is RFC 8441's extended CONNECT for a WebSocket
/// (`:protocol` is `websocket`): how HTTP/2 asks for one.
fn is_websocket_connect(parts: &Parts) -> bool {
    parts.method == hyper::Method::CONNECT && is_websocket_protocol(&parts.extensions)
}

/// Whether HTTP/2's `:protocol` (hyper's `Protocol` extension) is
/// `websocket`.
fn is_websocket_protocol(extensions: &hyper::http::Extensions) -> bool {
    #[cfg(feature = "http2")]
    {
        extensions
            .get::<hyper::ext::Protocol>()
            .is_some_and(|p| p.as_str().eq_ignore_ascii_case("websocket"))
    }
    #[cfg(not(feature = "http2"))]
    {
        let _ = extensions;
        false
    }
}

/// A request accepted by [`negotiate`], its response not made yet.
#[derive(Debug)]
pub struct Negotiated {
    accepted: Accepted,
    on_upgrade: OnUpgrade,
}

impl Negotiated {
    /// What was agreed: the subprotocol, the compression.
    pub fn accepted(&self) -> &Accepted {
        &self.accepted
    }

    /// What was agreed (subprotocol, compression), to read or adjust
    /// ([`Accepted::set_subprotocol`], [`Accepted::runtime_or`]).
    pub fn accepted_mut(&mut self) -> &mut Accepted {
        &mut self.accepted
    }

    /// The `101` response to send, and the future of the connection.
    pub fn into_response<R: From<Bytes>>(mut self) -> (Response<R>, Upgrading) {
        let response = self.accepted.take_response().map(R::from);
        let upgrading = Upgrading {
            on_upgrade: self.on_upgrade,
            accepted: Some(self.accepted),
        };
        (response, upgrading)
    }
}

/// A request [`upgrade`] refused: why, and the response to send.
pub struct Refused<R> {
    error: HandshakeError,
    response: Response<R>,
}

impl<R> Refused<R> {
    /// Why the request was refused.
    pub fn error(&self) -> &HandshakeError {
        &self.error
    }

    /// The response to send.
    pub fn into_response(self) -> Response<R> {
        self.response
    }
}

impl<R: From<Bytes>> From<Rejection> for Refused<R> {
    fn from(rejection: Rejection) -> Self {
        Refused {
            error: rejection.error,
            response: rejection.response.map(R::from),
        }
    }
}

impl<R> fmt::Debug for Refused<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refused")
            .field("error", &self.error)
            .field("status", &self.response.status())
            .finish()
    }
}

/// The connection once hyper has sent the `101` and handed the transport
/// over: resolves to the [`WebSocket`], or to hyper's error if the
/// connection ended first.
///
/// Await it in a task of its own (hyper hands the connection over only
/// after the service's response is written).
#[must_use = "the connection is built only when this is awaited"]
pub struct Upgrading {
    on_upgrade: OnUpgrade,
    accepted: Option<Accepted>,
}

impl Upgrading {
    /// The subprotocol agreed, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.accepted.as_ref().and_then(Accepted::subprotocol)
    }
}

impl fmt::Debug for Upgrading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgrading")
            .field("accepted", &self.accepted)
            .finish_non_exhaustive()
    }
}

impl Future for Upgrading {
    type Output = Result<WebSocket, hyper::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let upgraded = ready!(Pin::new(&mut self.on_upgrade).poll(cx))?;
        let accepted = self
            .accepted
            .take()
            .expect("Upgrading polled after it completed");
        // hyper's `Upgraded` gives back the bytes it read past the head
        // itself, before the socket's: nothing is left over here.
        Poll::Ready(Ok(
            accepted.into_websocket(UpgradedIo::new(upgraded), Bytes::new())
        ))
    }
}

#[cfg(test)]
mod tests;
