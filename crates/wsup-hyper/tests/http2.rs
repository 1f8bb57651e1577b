//! WebSockets over HTTP/2 (RFC 8441): hyper's HTTP/2 server with the
//! extended CONNECT enabled, `wsup_hyper::upgrade` answering `200`, and a
//! hyper HTTP/2 client sending `CONNECT` with `:protocol websocket`, over
//! 127.0.0.1 (cleartext HTTP/2, prior knowledge).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::StatusCode;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncWriteExt;
use wsup_testkit::h2::{self, read_frame};
use wsup_testkit::{client_frame, OP_CLOSE, OP_TEXT};

use common::{service, upgrader, Rt};

async fn serve_h2() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let upgrader = Arc::new(upgrader(Rt::Tokio));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let upgrader = upgrader.clone();
            tokio::spawn(async move {
                let svc =
                    service_fn(move |req| service(upgrader.clone(), Rt::Tokio.runtime(), req));
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .enable_connect_protocol()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// A WebSocket's extended CONNECT for `/ws` with `headers`.
async fn connect(addr: SocketAddr, headers: &[(&str, &str)]) -> hyper::Response<Incoming> {
    h2::websocket_connect(addr, "/ws", headers).await
}

#[tokio::test]
async fn a_websocket_over_an_http2_stream() {
    let addr = serve_h2().await;
    let res = connect(
        addr,
        &[
            ("sec-websocket-protocol", "chat.v1"),
            ("sec-websocket-extensions", "permessage-deflate"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["sec-websocket-protocol"], "chat.v1");
    assert!(res.headers()["sec-websocket-extensions"]
        .to_str()
        .unwrap()
        .starts_with("permessage-deflate"));
    assert!(!res.headers().contains_key("sec-websocket-accept"));
    let mut stream = TokioIo::new(hyper::upgrade::on(res).await.unwrap());

    // Uncompressed messages are fine with permessage-deflate agreed; the
    // echo of a small one comes back (compressed or not) intact.
    let mut pending = Vec::new();
    // One inflater for the connection: the server keeps its context.
    let mut inflater = flate2::Decompress::new(false);
    for i in 0..5 {
        let text = format!("over h2 {i}");
        stream
            .write_all(&client_frame(OP_TEXT, true, text.as_bytes()))
            .await
            .unwrap();
        let frame = read_frame(&mut stream, &mut pending).await;
        assert_eq!(frame.opcode, OP_TEXT);
        let payload = if frame.rsv != 0 {
            inflate(&mut inflater, &frame.payload)
        } else {
            frame.payload
        };
        assert_eq!(payload, text.as_bytes());
    }
    stream
        .write_all(&client_frame(OP_CLOSE, true, &1000u16.to_be_bytes()))
        .await
        .unwrap();
    let frame = read_frame(&mut stream, &mut pending).await;
    assert_eq!(frame.close_code().map(|c| c.0), Some(1000));
}

#[tokio::test]
async fn a_connect_without_the_websocket_protocol_is_refused() {
    let addr = serve_h2().await;
    let version = [("sec-websocket-version", "13")];
    let res = h2::extended_connect(addr, "/ws", Some("not-websocket"), &version).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let version = [("sec-websocket-version", "8")];
    let res = h2::extended_connect(addr, "/ws", Some("websocket"), &version).await;
    assert_eq!(res.status(), StatusCode::UPGRADE_REQUIRED);
}

fn inflate(d: &mut flate2::Decompress, data: &[u8]) -> Vec<u8> {
    let mut input = data.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(1 << 16);
    d.decompress_vec(&input, &mut out, flate2::FlushDecompress::Sync)
        .unwrap();
    out
}

/// HTTP/2 has no `Host`: the default same-origin check compares the
/// `Origin` with `:authority`.
#[tokio::test]
async fn same_origin_over_http2_compares_with_the_authority() {
    let addr = serve_h2().await;
    let origin = format!("http://{addr}");
    let res = connect(addr, &[("origin", &origin)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = connect(addr, &[("origin", "http://evil.example")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
