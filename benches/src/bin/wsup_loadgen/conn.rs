//! Connecting: TCP from a source address of 127.0.0.0/8, TLS with
//! `--tls CA.pem`, then the WebSocket handshake unless `--raw`.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use super::{Args, ACCEPT, KEY};

/// The client TLS configuration of `--tls CA.pem`: the CA's certificates
/// as the only roots, ALPN `http/1.1`.
pub fn tls_config(ca: &str) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| format!("--tls {ca}: {e}"))? {
        let cert = cert.map_err(|e| format!("--tls {ca}: {e}"))?;
        roots.add(cert).map_err(|e| format!("--tls {ca}: {e}"))?;
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A connection: plain TCP, or TLS over it.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// Connects from 127.0.0.(2 + index % sources) and, unless raw, upgrades,
/// offering permessage-deflate with `--deflate-fragment` (which the server
/// must accept). Returns the stream and any bytes read past the 101
/// response.
pub async fn connect(args: &Args, index: usize) -> Result<(TcpStream, Vec<u8>), String> {
    let mut stream = connect_tcp(args, index).await?;
    if args.raw {
        return Ok((stream, Vec::new()));
    }
    let leftover = handshake(&mut stream, args).await?;
    Ok((stream, leftover))
}

/// As [`connect`], over TLS when `--tls` was given.
pub async fn connect_stream(args: &Args, index: usize) -> Result<(Stream, Vec<u8>), String> {
    let Some(tls) = &args.tls else {
        let (stream, leftover) = connect(args, index).await?;
        return Ok((Stream::Tcp(stream), leftover));
    };
    let tcp = connect_tcp(args, index).await?;
    let name = ServerName::IpAddress(args.addr.ip().into());
    let mut stream = tokio_rustls::TlsConnector::from(tls.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))?;
    let leftover = handshake(&mut stream, args).await?;
    Ok((Stream::Tls(Box::new(stream)), leftover))
}

async fn connect_tcp(args: &Args, index: usize) -> Result<TcpStream, String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    let source = Ipv4Addr::new(127, 0, 0, 2 + (index % args.sources as usize) as u8);
    socket
        .bind(SocketAddr::new(source.into(), 0))
        .map_err(|e| format!("bind {source}: {e}"))?;
    if let Some(size) = args.socket_buffer {
        socket
            .set_send_buffer_size(size)
            .and_then(|()| socket.set_recv_buffer_size(size))
            .map_err(|e| format!("socket buffers: {e}"))?;
    }
    let stream = socket
        .connect(args.addr)
        .await
        .map_err(|e| format!("connect {} from {source}: {e}", args.addr))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(stream)
}

/// The upgrade request and the 101; returns the bytes read past it.
async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    args: &Args,
) -> Result<Vec<u8>, String> {
    let offer = if args.deflate {
        "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    } else {
        ""
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n",
        args.path, args.addr
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("handshake write: {e}"))?;
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    let end = loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("handshake read: {e}"))?;
        if n == 0 {
            return Err("connection closed during the handshake".to_owned());
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 16 * 1024 {
            return Err("handshake response too long".to_owned());
        }
    };
    let text = String::from_utf8_lossy(&head[..end]);
    if !text.starts_with("HTTP/1.1 101") || !text.contains(ACCEPT) {
        return Err(format!("handshake refused: {}", text.trim_end()));
    }
    let deflate_accepted = text.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("sec-websocket-extensions:") && line.contains("permessage-deflate")
    });
    if args.deflate && !deflate_accepted {
        return Err("the server did not accept permessage-deflate".to_owned());
    }
    Ok(head[end..].to_vec())
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
