//! `wsup_hyper::upgrade` inside a hyper HTTP/1.1 server on tokio, smol and
//! async-std, against raw clients and async-tungstenite over 127.0.0.1.

mod common;

use std::io::Write;

use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::Message as TMessage;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use futures_util::StreamExt;
use wsup_core::OriginPolicy;
use wsup_testkit::{client_frame, encode_frame, MASK, OP_BINARY, OP_TEXT, RSV1};

use common::{
    connect, exchange, read_frame, read_response, start, upgrade_request, upgrader, write_all,
    RUNTIMES,
};

#[test]
fn keep_alive_requests_then_an_upgrade_on_the_same_connection() {
    for rt in RUNTIMES {
        let addr = start(rt, upgrader(rt), true);
        let mut s = connect(addr);
        for _ in 0..2 {
            write_all(
                &mut s,
                format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
            );
            let (head, body) = read_response(&mut s);
            assert!(head.starts_with("HTTP/1.1 200"), "{rt:?}: {head}");
            assert_eq!(body, b"Hello World", "{rt:?}");
        }
        write_all(
            &mut s,
            format!("HEAD / HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
        );
        let (head, _) = read_response_head_only(&mut s);
        assert!(head.starts_with("HTTP/1.1 200"), "{rt:?}: {head}");
        // The upgrade request and the first frame in one write: hyper reads
        // the frame with the head, and the connection must still get it.
        let mut bytes = upgrade_request(addr, "").into_bytes();
        bytes.extend(client_frame(OP_TEXT, true, b"first"));
        write_all(&mut s, &bytes);
        let (head, _) = read_response(&mut s);
        assert!(head.starts_with("HTTP/1.1 101"), "{rt:?}: {head}");
        assert!(
            head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "{rt:?}: accept key: {head}"
        );
        let mut pending = Vec::new();
        let frame = read_frame(&mut s, &mut pending);
        assert_eq!(
            (frame.opcode, &frame.payload[..]),
            (OP_TEXT, &b"first"[..]),
            "{rt:?}"
        );
        write_all(&mut s, &client_frame(OP_BINARY, true, &[7; 300]));
        let frame = read_frame(&mut s, &mut pending);
        assert_eq!(
            (frame.opcode, frame.payload),
            (OP_BINARY, vec![7; 300]),
            "{rt:?}"
        );
    }
}

/// A HEAD answer has a Content-Length but no body.
fn read_response_head_only(s: &mut std::net::TcpStream) -> (String, ()) {
    (wsup_testkit::read_whole_head(s), ())
}

#[test]
fn async_tungstenite_echoes_with_the_subprotocol_agreed() {
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for rt in RUNTIMES {
        let addr = start(rt, upgrader(rt), true);
        tokio_rt.block_on(async {
            let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
            req.headers_mut().insert(
                "sec-websocket-protocol",
                "chat.v1, chat.v3".parse().unwrap(),
            );
            let (mut ws, res) = async_tungstenite::tokio::connect_async(req).await.unwrap();
            assert_eq!(
                res.headers().get("sec-websocket-protocol").unwrap(),
                "chat.v1",
                "{rt:?}"
            );
            for i in 0..20 {
                let msg = TMessage::text(format!("message {i}"));
                ws.send(msg.clone()).await.unwrap();
                assert_eq!(ws.next().await.unwrap().unwrap(), msg, "{rt:?}");
            }
            ws.send(TMessage::binary(vec![1u8; 70_000])).await.unwrap();
            assert_eq!(
                ws.next().await.unwrap().unwrap(),
                TMessage::binary(vec![1u8; 70_000]),
                "{rt:?}"
            );
            ws.close(None).await.unwrap();
            while let Some(Ok(msg)) = ws.next().await {
                assert!(msg.is_close(), "{rt:?}: {msg:?}");
            }
        });
    }
}

#[test]
fn refusals_come_from_the_upgrader() {
    for rt in RUNTIMES {
        let addr = start(rt, upgrader(rt), true);
        // Another site's page: the default same-origin policy refuses it.
        let (_, head) = exchange(
            addr,
            &upgrade_request(addr, "Origin: http://evil.example\r\n"),
        );
        assert!(head.starts_with("HTTP/1.1 403"), "{rt:?}: {head}");
        // A wrong version: 426 with the version wsup speaks.
        let req = upgrade_request(addr, "").replace("Version: 13", "Version: 8");
        let (_, head) = exchange(addr, &req);
        assert!(head.starts_with("HTTP/1.1 426"), "{rt:?}: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("sec-websocket-version: 13"),
            "{rt:?}: {head}"
        );
        // A custom policy that allows it.
        let allowing = start(rt, upgrader(rt).origin_policy(OriginPolicy::AllowAll), true);
        let req = upgrade_request(allowing, "Origin: http://evil.example\r\n");
        let (_, head) = exchange(allowing, &req);
        assert!(head.starts_with("HTTP/1.1 101"), "{rt:?}: {head}");
    }
}

/// RFC 6455 asks for HTTP/1.1 or later: an HTTP/1.0 request is the
/// client's error (400), before hyper's missing upgrade handle could make
/// it a 500.
#[test]
fn an_http_1_0_upgrade_request_is_refused_with_400() {
    for rt in RUNTIMES {
        let addr = start(rt, upgrader(rt), true);
        let req = upgrade_request(addr, "").replacen("HTTP/1.1", "HTTP/1.0", 1);
        let (_, head) = exchange(addr, &req);
        assert!(head.contains(" 400 "), "{rt:?}: {head}");
    }
}

/// Raw DEFLATE of `data` as one permessage-deflate message (the empty
/// stored block's tail taken off).
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() + 64);
    c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

fn inflate(data: &[u8]) -> Vec<u8> {
    let mut d = Decompress::new(false);
    let mut input = data.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(1 << 16);
    d.decompress_vec(&input, &mut out, FlushDecompress::Sync)
        .unwrap();
    out
}

#[test]
fn permessage_deflate_through_hyper() {
    for rt in RUNTIMES {
        let addr = start(rt, upgrader(rt), true);
        let offer = "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n";
        let (mut s, head) = exchange(addr, &upgrade_request(addr, offer));
        assert!(head.starts_with("HTTP/1.1 101"), "{rt:?}: {head}");
        let ext = head
            .lines()
            .find(|l| {
                l.to_ascii_lowercase()
                    .starts_with("sec-websocket-extensions")
            })
            .unwrap_or_else(|| panic!("{rt:?}: no extension agreed: {head}"));
        assert!(ext.contains("permessage-deflate"), "{rt:?}: {ext}");
        let text = "a compressible message, ".repeat(40);
        let frame = encode_frame(true, RSV1, OP_TEXT, Some(MASK), &deflate(text.as_bytes()));
        s.write_all(&frame).unwrap();
        let mut pending = Vec::new();
        let echo = read_frame(&mut s, &mut pending);
        assert_eq!(echo.rsv, RSV1, "{rt:?}: the echo is compressed");
        assert!(echo.payload.len() < text.len() / 4, "{rt:?}");
        assert_eq!(inflate(&echo.payload), text.as_bytes(), "{rt:?}");
    }
}
