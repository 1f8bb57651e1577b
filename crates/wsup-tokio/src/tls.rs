//! TLS through tokio-rustls (feature `tls`): its acceptor as the server's
//! [`Acceptor`] for tokio streams.

use std::io;

use tokio::net::TcpStream;
pub use tokio_rustls::TlsAcceptor;
use wsup_core::server::Acceptor;

use crate::TokioIo;

/// A TLS stream over a tokio stream, as the server's transport.
pub type TlsStream<T = TcpStream> = TokioIo<tokio_rustls::server::TlsStream<T>>;

/// A WebSocket over TLS over a tokio TCP stream (`wss://`).
pub type TlsWebSocket = wsup_core::WebSocket<TlsStream>;

/// tokio-rustls's [`TlsAcceptor`] on tokio streams: made with
/// `TlsAcceptor::from(config)` (a config from
/// [`wsup_core::tls::server_config`], PEM files, say) and given to
/// [`Server::acceptor`](wsup_core::server::Server::acceptor).
///
/// ```no_run
/// # async fn doc() -> std::io::Result<()> {
/// use wsup_core::tls::server_config;
/// use wsup_tokio::{Server, TlsAcceptor};
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
/// let tls = TlsAcceptor::from(server_config("cert.pem", "key.pem")?);
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
impl<T> Acceptor<TokioIo<T>> for TlsAcceptor
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    type Io = TlsStream<T>;

    async fn handshake(&self, io: TokioIo<T>) -> io::Result<TlsStream<T>> {
        Ok(TokioIo::new(self.accept(io.into_inner()).await?))
    }

    fn is_tls(&self) -> bool {
        true
    }
}
