//! wsup's own client on each runtime, through the bindings' public API
//! (`dialer()`, `connect(url)`, `connect_with(&dialer, url)`), and a raw
//! server for what a conforming server will not answer.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use wsup::client::{ClientError, Dialer, MaybeTls};
use wsup::http::Response;
use wsup::Message;

use super::raw::{read_http_head, RawFrame};
use super::{assert_took, spawn, within, BoxFut, Rt};

/// wsup's client connection on runtime `R`.
pub type ClientWs<R> = wsup::WebSocket<MaybeTls<<R as ClientRt>::Stream>>;
/// What the bindings' `connect` and `connect_with` return.
pub type Connected<R> = Result<(ClientWs<R>, Response<()>), ClientError>;

/// The client side of a runtime binding.
pub trait ClientRt: Rt {
    /// The binding's TCP stream (`futures_io`), under `MaybeTls`.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug + 'static;

    /// The binding's `dialer()`, with the [`BIG_MESSAGE`](super::BIG_MESSAGE)
    /// limits.
    fn dialer() -> Dialer;
    /// The binding's `connect(url)`.
    fn ws_connect(url: String) -> impl Future<Output = Connected<Self>> + Send;
    /// The binding's `connect_with(&dialer, url)`.
    fn ws_connect_with(dialer: Dialer, url: String)
        -> impl Future<Output = Connected<Self>> + Send;
}

/// One `ClientRt` impl: the binding crate and its stream type.
macro_rules! client_rt {
    ($rt:ty, $binding:ident, $stream:ty) => {
        impl ClientRt for $rt {
            type Stream = $stream;

            fn dialer() -> Dialer {
                $binding::dialer()
                    .max_message_size(super::BIG_MESSAGE)
                    .max_frame_size(super::BIG_FRAME)
            }

            async fn ws_connect(url: String) -> Connected<Self> {
                $binding::connect(&url).await
            }

            async fn ws_connect_with(dialer: Dialer, url: String) -> Connected<Self> {
                $binding::connect_with(&dialer, &url).await
            }
        }
    };
}
client_rt!(
    super::Tokio,
    wsup_tokio,
    wsup_tokio::TokioIo<tokio::net::TcpStream>
);
client_rt!(super::Smol, wsup_smol, smol::net::TcpStream);
client_rt!(super::AsyncStd, wsup_async_std, wsup_async_std::AsyncStdTcp);

/// `ws://addr/path`.
pub fn ws_url(addr: SocketAddr, path: &str) -> String {
    format!("ws://{addr}{path}")
}

/// Connects with `dialer` to `url`; the handshake must succeed.
pub async fn dial<R: ClientRt>(dialer: Dialer, url: String) -> (ClientWs<R>, Response<()>) {
    match R::ws_connect_with(dialer, url.clone()).await {
        Ok(connected) => connected,
        Err(e) => panic!("[{}] connect to {url}: {e:?}", R::NAME),
    }
}

/// Connects with `dialer` to `url`; the handshake must fail, with the
/// error returned.
pub async fn dial_err<R: ClientRt>(dialer: Dialer, url: String) -> ClientError {
    match R::ws_connect_with(dialer, url.clone()).await {
        Ok((_, response)) => panic!("[{}] {url}: accepted ({response:?})", R::NAME),
        Err(e) => e,
    }
}

/// Sends each message and checks its echo, byte for byte; `what` names
/// the exchange in failures.
pub async fn round_trip<R: ClientRt>(ws: &mut ClientWs<R>, what: &str, msgs: &[Message]) {
    for (i, msg) in msgs.iter().enumerate() {
        ws.send(msg.clone())
            .await
            .unwrap_or_else(|e| panic!("[{}] {what}: send {i}: {e}", R::NAME));
        let echo = ws
            .recv()
            .await
            .unwrap_or_else(|e| panic!("[{}] {what}: echo {i}: {e}", R::NAME));
        assert!(
            echo == *msg,
            "[{}] {what}: echo {i} differs ({} bytes sent, {} back)",
            R::NAME,
            msg.len(),
            echo.len()
        );
    }
}

/// The next message the client receives, which must be `expected`.
pub async fn assert_next<R: ClientRt>(ws: &mut ClientWs<R>, expected: Message) {
    let got = within::<R, _>(Duration::from_secs(10), "next message", ws.recv()).await;
    match got {
        Ok(m) => assert!(
            m == expected,
            "[{}] got {}, expected {}",
            R::NAME,
            brief(&m),
            brief(&expected)
        ),
        Err(e) => panic!("[{}] recv: {e} (expected {})", R::NAME, brief(&expected)),
    }
}

/// A message as a failure shows it: whole if short, its kind and length
/// if not.
pub fn brief(m: &Message) -> String {
    match m {
        Message::Text(_) | Message::Binary(_) if m.len() > 200 => {
            let kind = if matches!(m, Message::Text(_)) {
                "text"
            } else {
                "binary"
            };
            format!("{kind} of {} bytes", m.len())
        }
        _ => format!("{m:?}"),
    }
}

/// `fut`'s output, which must come no earlier than `at_least` and within
/// 3 s: a deadline kept, neither early nor (much) late.
pub async fn after<R: Rt, F: Future>(at_least: Duration, what: &str, fut: F) -> F::Output {
    let started = Instant::now();
    let out = within::<R, _>(Duration::from_secs(5), what, fut).await;
    assert_took::<R>(started.elapsed(), at_least, Duration::from_secs(3), what);
    out
}

/// A raw server's view of one connection, past the request head: the
/// stream, the head, and what arrived after it.
pub struct RawPeer<S> {
    pub io: S,
    pub head: String,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> RawPeer<S> {
    /// Writes bytes as they are.
    pub async fn write(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.expect("raw server writes");
        self.io.flush().await.expect("raw server flushes");
    }

    /// A valid `101` for the request, with `extra` header lines.
    pub fn switching(&self, extra: &str) -> Vec<u8> {
        switching_for(&self.head, extra).into_bytes()
    }

    /// Answers the request with [`switching`](Self::switching).
    pub async fn switch(&mut self, extra: &str) {
        let response = self.switching(extra);
        self.write(&response).await;
    }

    /// Reads one frame from the client (masked, as a client's must be);
    /// `None` once the stream ends or fails.
    pub async fn read_frame(&mut self) -> Option<RawFrame> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some((frame, n)) = wsup_testkit::parse_frame(&self.buf) {
                self.buf.drain(..n);
                assert!(frame.masked, "the client sent an unmasked frame");
                return Some(frame);
            }
            match self.io.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// A valid `101` for the request head `head`, with `extra` header lines.
pub fn switching_for(head: &str, extra: &str) -> String {
    let key = super::raw::header(head, "sec-websocket-key").expect("a key");
    let accept = wsup::handshake::accept_key(key.as_bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
    )
}

/// A raw TCP server on 127.0.0.1 that accepts one connection, reads its
/// request head and hands it to `peer`; returns the address and `peer`'s
/// result to come.
pub async fn raw_server<R, T, F, Fut>(peer: F) -> (SocketAddr, BoxFut<T>)
where
    R: Rt,
    T: Send + 'static,
    F: FnOnce(RawPeer<R::ServerIo>) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let (listener, addr) = R::listen().await;
    let task = spawn::<R, T>(async move {
        let mut io = R::accept(&listener).await;
        let (head, buf) = read_http_head(&mut io).await.expect("a request head");
        peer(RawPeer { io, head, buf }).await
    });
    (addr, task)
}
