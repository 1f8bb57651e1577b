//! An HTTP/2 client for RFC 8441's extended `CONNECT` (hyper over tokio,
//! cleartext with prior knowledge), and a reader of the frames that come
//! back over the stream it opens.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::ext::Protocol;
use hyper::upgrade::Upgraded;
use hyper::{Method, Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncReadExt;

use crate::{parse_frame, Frame};

/// Opens an HTTP/2 connection to `addr` and sends a `CONNECT` for `path`
/// with `:protocol` `protocol` (none: a plain `CONNECT`) and `headers`;
/// the answer.
pub async fn extended_connect(
    addr: SocketAddr,
    path: &str,
    protocol: Option<&'static str>,
    headers: &[(&str, &str)],
) -> Response<Incoming> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(Method::CONNECT)
        .version(Version::HTTP_2)
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(p) = protocol {
        req = req.extension(Protocol::from_static(p));
    }
    send.ready().await.unwrap();
    send.send_request(req.body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap()
}

/// The extended `CONNECT` of a WebSocket over HTTP/2 to `path`
/// (`:protocol` websocket, version 13) with `headers`; the answer.
pub async fn websocket_connect(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> Response<Incoming> {
    let mut all = vec![("sec-websocket-version", "13")];
    all.extend_from_slice(headers);
    extended_connect(addr, path, Some("websocket"), &all).await
}

/// A WebSocket over HTTP/2 to `path` ([`websocket_connect`]), which must
/// be answered `200`; the stream it opens.
pub async fn websocket(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> TokioIo<Upgraded> {
    let res = websocket_connect(addr, path, headers).await;
    assert_eq!(res.status(), StatusCode::OK);
    TokioIo::new(hyper::upgrade::on(res).await.unwrap())
}

/// The next whole frame from `stream`, `pending` holding what was read
/// past the frames taken so far; within 10 s.
pub async fn read_frame<S: AsyncReadExt + Unpin>(stream: &mut S, pending: &mut Vec<u8>) -> Frame {
    loop {
        if let Some((frame, used)) = parse_frame(pending) {
            pending.drain(..used);
            return frame;
        }
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("a frame within 10 s")
            .unwrap();
        assert!(n > 0, "stream ended before a whole frame");
        pending.extend_from_slice(&buf[..n]);
    }
}
