//! A hyper HTTP/1.1 server on each runtime, serving `/` (Hello World) and
//! `/ws` (an echo WebSocket upgraded with `wsup_hyper::upgrade`), on
//! 127.0.0.1 in a thread of its own; and a raw client over a blocking
//! socket.

#![allow(dead_code)]

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use wsup_core::{Runtime, Upgrader};
use wsup_hyper::rt::{FuturesIo, RuntimeTimer};

#[derive(Debug, Clone, Copy)]
pub enum Rt {
    Tokio,
    Smol,
    AsyncStd,
}

pub const RUNTIMES: [Rt; 3] = [Rt::Tokio, Rt::Smol, Rt::AsyncStd];

impl Rt {
    pub fn runtime(self) -> Arc<dyn Runtime> {
        match self {
            Rt::Tokio => Arc::new(wsup_tokio::TokioRuntime),
            Rt::Smol => Arc::new(wsup_smol::SmolRuntime),
            Rt::AsyncStd => Arc::new(wsup_async_std::AsyncStdRuntime),
        }
    }
}

/// The upgrader the servers use: the runtime's timers, two subprotocols,
/// compression on.
pub fn upgrader(rt: Rt) -> Upgrader {
    Upgrader::new()
        .runtime(rt.runtime())
        .subprotocols(["chat.v2", "chat.v1"])
        .compression(wsup_core::deflate::DeflateConfig::enabled().threshold(0))
}

pub async fn service(
    upgrader: Arc<Upgrader>,
    runtime: Arc<dyn Runtime>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    match request.uri().path() {
        "/" => Ok(Response::new(Full::from("Hello World"))),
        "/ws" => Ok(match wsup_hyper::upgrade(&upgrader, request) {
            Ok((response, websocket)) => {
                runtime.spawn(Box::pin(async move {
                    let Ok(mut ws) = websocket.await else { return };
                    while let Ok(msg) = ws.recv().await {
                        if msg.is_data() && ws.send(msg).await.is_err() {
                            break;
                        }
                    }
                }));
                response
            }
            Err(refused) => refused.into_response(),
        }),
        _ => {
            let mut res = Response::new(Full::from("Not Found"));
            *res.status_mut() = hyper::StatusCode::NOT_FOUND;
            Ok(res)
        }
    }
}

/// Starts the server on `rt` in a thread of its own (it runs until the
/// test process ends); `upgrades: false` serves without `.with_upgrades()`.
pub fn start(rt: Rt, upgrader: Upgrader, upgrades: bool) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let upgrader = Arc::new(upgrader);
    let runtime = rt.runtime();
    let svc = move |req| service(upgrader.clone(), runtime.clone(), req);
    std::thread::spawn(move || match rt {
        Rt::Tokio => {
            let tokio_rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            tokio_rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let svc = svc.clone();
                    tokio::spawn(async move {
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let conn = http1::Builder::new()
                            .timer(hyper_util::rt::TokioTimer::new())
                            .serve_connection(io, service_fn(svc));
                        let _ = if upgrades {
                            conn.with_upgrades().await
                        } else {
                            conn.await
                        };
                    });
                }
            })
        }
        Rt::Smol => smol::block_on(async move {
            let listener = smol::Async::new(listener).unwrap();
            loop {
                if let Ok((stream, _)) = listener.accept().await {
                    serve_futures_io(rt, stream, svc.clone(), upgrades);
                }
            }
        }),
        Rt::AsyncStd => async_std::task::block_on(async move {
            let listener = async_std::net::TcpListener::from(listener);
            loop {
                if let Ok((stream, _)) = listener.accept().await {
                    serve_futures_io(rt, stream, svc.clone(), upgrades);
                }
            }
        }),
    });
    addr
}

/// A blocking client socket with a read timeout.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Reads one HTTP response head (and a `Content-Length` body): the head as
/// text and the body.
pub fn read_response(s: &mut TcpStream) -> (String, Vec<u8>) {
    let head = wsup_testkit::read_whole_head(s);
    let len = wsup_testkit::header(&head, "content-length")
        .map(|v| v.parse::<usize>().unwrap())
        .unwrap_or(0);
    let mut body = vec![0; len];
    s.read_exact(&mut body).unwrap();
    (head, body)
}

/// An upgrade request for `/ws`, with `extra` header lines.
pub fn upgrade_request(addr: SocketAddr, extra: &str) -> String {
    format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
}

/// Reads server frames until one is complete.
pub fn read_frame(s: &mut TcpStream, pending: &mut Vec<u8>) -> wsup_testkit::Frame {
    loop {
        if let Some((frame, used)) = wsup_testkit::parse_frame(pending) {
            pending.drain(..used);
            return frame;
        }
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed before a whole frame");
        pending.extend_from_slice(&buf[..n]);
    }
}

pub fn write_all(s: &mut TcpStream, bytes: &[u8]) {
    s.write_all(bytes).unwrap();
}

/// Sends `request` on a new connection to `addr`: the connection, and the
/// head of the response.
pub fn exchange(addr: SocketAddr, request: &str) -> (TcpStream, String) {
    let mut s = connect(addr);
    write_all(&mut s, request.as_bytes());
    let (head, _) = read_response(&mut s);
    (s, head)
}

/// Serves one connection of a `futures_io` runtime in a task of its own.
fn serve_futures_io<S, F, Fut>(rt: Rt, stream: S, svc: F, upgrades: bool)
where
    S: futures_util::AsyncRead + futures_util::AsyncWrite + Unpin + Send + 'static,
    F: Fn(Request<Incoming>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let runtime = rt.runtime();
    let timer = RuntimeTimer::new(runtime.clone());
    runtime.spawn(Box::pin(async move {
        let conn = http1::Builder::new()
            .timer(timer)
            .serve_connection(FuturesIo::new(stream), service_fn(svc));
        let _ = if upgrades {
            conn.with_upgrades().await
        } else {
            conn.await
        };
    }));
}
