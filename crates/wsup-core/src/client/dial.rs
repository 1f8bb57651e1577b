//! [`Dialer::connect`]: a URL to a connection, under one deadline, over
//! the runtime's [`Connect`].

use std::sync::Arc;

use futures_io::{AsyncRead, AsyncWrite};
use http::{Response, Uri};

use super::{open, ClientError, Connect, Dialer, Handshake, MaybeTls, Target};
use crate::conn::WebSocket;
use crate::role::Role;
use crate::runtime::{timeout, Runtime};

impl Dialer {
    /// Opens a WebSocket connection to `url` (`ws://` or `wss://`, or
    /// their aliases `http://` and `https://`), gorilla's `Dial`: connects
    /// through `connector` (the runtime binding: `wsup_tokio::TokioRuntime`,
    /// …), through the [proxy](Self::proxy) if one is set, runs TLS for
    /// `wss://` ([`tls`](Self::tls)), then the opening handshake
    /// ([`handshake`](Self::handshake)), all under the [handshake
    /// timeout](Self::handshake_timeout). Returns the connection and the
    /// server's `101`.
    ///
    /// The deadline and the connection's timers come from the dialer's
    /// [runtime](Self::runtime): without one, nothing here is bounded in
    /// time. The bindings' `connect(url)` and `connect_with(&dialer, url)`
    /// (and [`connect_on`](Self::connect_on)) use their runtime for both.
    pub async fn connect<C: Connect + ?Sized>(
        &self,
        connector: &C,
        url: &str,
    ) -> Result<(WebSocket<MaybeTls<C::Stream>>, Response<()>), ClientError> {
        let target = Target::parse(url)?;
        let uri: Uri = url
            .parse()
            .map_err(|_| ClientError::InvalidUrl("not a URL"))?;
        let deadline = self.endpoint.deadline();
        let rt = self.endpoint.runtime();
        let opening = open(connector, &target, self.proxy.as_ref(), self.tls.as_ref());
        let io = timeout(rt, self.endpoint.handshake_timeout, opening)
            .await
            .ok_or(ClientError::Timeout(self.endpoint.handshake_timeout))??;
        let handshake = self.handshake_by(io, &uri, deadline).await?;
        Ok(handshake.into_connection())
    }

    /// [`connect`](Self::connect) on a binding's runtime type `R`: its
    /// connect, and its timers unless the dialer has a runtime already.
    pub async fn connect_on<R: Connect + Runtime + Default>(
        &self,
        url: &str,
    ) -> Result<(WebSocket<MaybeTls<R::Stream>>, Response<()>), ClientError> {
        let connector = R::default();
        match self.endpoint.runtime {
            Some(_) => self.connect(&connector, url).await,
            None => {
                let dialer = self.clone().runtime(Arc::new(R::default()));
                dialer.connect(&connector, url).await
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Handshake<S> {
    /// The connection, in the client role (every frame masked), with what
    /// was agreed: the subprotocol and permessage-deflate.
    pub fn into_websocket(self) -> WebSocket<S> {
        self.into_connection().0
    }

    /// The connection and the server's `101`.
    pub(crate) fn into_connection(self) -> (WebSocket<S>, Response<()>) {
        let p = self.into_parts();
        let mut ws = WebSocket::from_raw(p.io, Role::Client, p.leftover, p.config, p.runtime);
        ws.set_protocol(p.protocol);
        if let Some((agreed, config)) = p.deflate {
            ws.enable_deflate(agreed, &config, None);
        }
        (ws, p.response)
    }
}
