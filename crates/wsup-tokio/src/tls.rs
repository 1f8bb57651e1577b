//! TLS through tokio-rustls (feature `tls`): the server's
//! [`Acceptor`] for tokio streams.

use std::io;
use std::sync::Arc;

use tokio::net::TcpStream;
use wsup_core::server::Acceptor;
use wsup_core::tls::rustls::ServerConfig;

use crate::TokioIo;

/// A TLS stream over a tokio stream, as the server's transport.
pub type TlsStream<T = TcpStream> = TokioIo<tokio_rustls::server::TlsStream<T>>;

/// A WebSocket over TLS over a tokio TCP stream (`wss://`).
pub type TlsWebSocket = wsup_core::WebSocket<TlsStream>;

/// The TLS [`Acceptor`] on tokio, through tokio-rustls: give it to
/// [`Server::acceptor`](wsup_core::server::Server::acceptor), with a
/// config from [`wsup_core::tls::server_config`] (PEM files).
///
/// ```no_run
/// # async fn doc() -> std::io::Result<()> {
/// use wsup_core::tls::server_config;
/// use wsup_tokio::{Server, TlsAcceptor};
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
/// let tls = TlsAcceptor::new(server_config("cert.pem", "key.pem")?);
/// Server::new(listener, wsup_tokio::upgrader())
///     .acceptor(tls)
///     .run(|mut ws, _peer| async move {
///         while let Ok(msg) = ws.recv().await {
///             if msg.is_data() && ws.send(msg).await.is_err() {
///                 break;
///             }
///         }
///     })
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
}

impl TlsAcceptor {
    /// An acceptor with `config`.
    pub fn new(config: Arc<ServerConfig>) -> Self {
        TlsAcceptor { config }
    }

    /// Its config.
    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }
}

impl<T> Acceptor<TokioIo<T>> for TlsAcceptor
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    type Io = TlsStream<T>;

    async fn handshake(&self, io: TokioIo<T>) -> io::Result<TlsStream<T>> {
        let acceptor = tokio_rustls::TlsAcceptor::from(self.config.clone());
        Ok(TokioIo::new(acceptor.accept(io.into_inner()).await?))
    }
}
