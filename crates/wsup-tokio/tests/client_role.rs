//! wsup in the client role over real sockets on 127.0.0.1: the upgrade
//! request written by hand, the 101 read back, then
//! `WebSocket::from_raw` with `Role::Client`. The servers judge the masking: the wsup
//! server (`serve`) and async-tungstenite's both refuse unmasked client
//! frames, and unmask with the key each frame carries.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{AsyncWriteExt as _, StreamExt as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use wsup_core::{
    Bytes, Chunk, CloseCode, CloseFrame, Error, Message, MessageKind, Role, WebSocket,
    WebSocketConfig,
};
use wsup_tokio::{TokioIo, TokioRuntime};

type Client = WebSocket<TokioIo<TcpStream>>;

/// RFC 6455's sample key and the accept value it must get back.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Every test ends within this, whatever the peer does.
const LIMIT: Duration = Duration::from_secs(20);

/// Connects, upgrades by hand and wraps the stream as the client. What
/// was read past the 101's head is handed on as `leftover`.
async fn connect(addr: SocketAddr) -> Client {
    connect_with(addr, WebSocketConfig::default()).await
}

/// [`connect`] with the connection settings `config`.
async fn connect_with(addr: SocketAddr, config: WebSocketConfig) -> Client {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let request = format!(
        "GET /chat HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed before its 101");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        assert!(buf.len() < 16 * 1024, "response head too large");
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let accept = wsup_testkit::header(&head, "sec-websocket-accept").expect("Sec-WebSocket-Accept");
    assert_eq!(accept, ACCEPT);
    let leftover = Bytes::copy_from_slice(&buf[head_end..]);
    let runtime: Arc<dyn wsup_core::Runtime> = Arc::new(TokioRuntime);
    let ws = WebSocket::from_raw(
        TokioIo::new(stream),
        Role::Client,
        leftover,
        config,
        Some(runtime),
    );
    assert_eq!(ws.role(), Role::Client);
    ws
}

/// A wsup server that echoes data messages and reports how each
/// connection ended (the close frame it got, or the error).
async fn wsup_echo_server() -> (SocketAddr, mpsc::UnboundedReceiver<Result<Message, Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, ends) = mpsc::unbounded_channel();
    tokio::spawn(wsup_tokio::serve(
        listener,
        wsup_tokio::upgrader(),
        move |mut ws, _| {
            let tx = tx.clone();
            async move {
                let end = loop {
                    match ws.recv().await {
                        Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                            if let Err(e) = ws.send(m).await {
                                break Err(e);
                            }
                        }
                        Ok(m @ Message::Close(_)) => break Ok(m),
                        Ok(_) => {}
                        Err(e) => break Err(e),
                    }
                };
                let _ = tx.send(end);
            }
        },
    ));
    (addr, ends)
}

/// The server's connection ended on the client's close 1000 with `reason`.
async fn server_got_close(
    ends: &mut mpsc::UnboundedReceiver<Result<Message, Error>>,
    reason: &str,
) {
    let end = ends.recv().await.expect("the connection ended").unwrap();
    assert_eq!(
        end,
        Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, reason)))
    );
}

/// Text, binary, a large message, fragmented ones, a ping: each comes back
/// as sent.
async fn exchange(ws: &mut Client) {
    let large = Bytes::from(wsup_testkit::noise(1 << 20));
    for msg in [
        Message::text("hello"),
        Message::text(""),
        Message::binary(&b"\x00\x01\x02"[..]),
        Message::text("é".repeat(40_000)),
        Message::Binary(large.clone()),
    ] {
        ws.send(msg.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), msg);
    }
    // Masked on the way out from a copy: the application's bytes are intact.
    assert!(large[..] == wsup_testkit::noise(1 << 20)[..]);

    // Fragmented: by the streaming writer and chunk by chunk.
    {
        let mut w = ws.message_writer(MessageKind::Binary, 1000);
        w.write_all(&large[..100_000]).await.unwrap();
        w.close().await.unwrap();
    }
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Binary(large.slice(..100_000))
    );
    ws.feed_chunk(Chunk::text("frag", false)).await.unwrap();
    ws.feed_chunk(Chunk::text("men", false)).await.unwrap();
    ws.feed_chunk(Chunk::text("ted", true)).await.unwrap();
    ws.flush().await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("fragmented"));

    ws.send(Message::Ping(Bytes::from_static(b"are you there")))
        .await
        .unwrap();
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Pong(Bytes::from_static(b"are you there"))
    );
}

#[tokio::test]
async fn the_client_talks_to_the_wsup_server_and_closes_normally() {
    tokio::time::timeout(LIMIT, async {
        let (addr, mut ends) = wsup_echo_server().await;
        let mut ws = connect(addr).await;
        exchange(&mut ws).await;
        ws.close(Some(CloseFrame::new(CloseCode::NORMAL, "bye")))
            .await
            .unwrap();
        server_got_close(&mut ends, "bye").await;
        assert!(matches!(
            ws.recv().await,
            Err(Error::AlreadyClosed | Error::ConnectionClosed)
        ));
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn split_halves_of_a_client_talk_to_the_wsup_server() {
    tokio::time::timeout(LIMIT, async {
        let (addr, mut ends) = wsup_echo_server().await;
        let (mut reader, mut writer) = connect(addr).await.split();
        let sent: Vec<Message> = (0..200)
            .map(|i| Message::text(format!("message {i}")))
            .collect();
        let sending = {
            let sent = sent.clone();
            tokio::spawn(async move {
                for m in sent {
                    writer.send(m).await.unwrap();
                }
                writer
            })
        };
        for m in &sent {
            assert_eq!(&reader.recv().await.unwrap(), m);
        }
        let mut writer = sending.await.unwrap();
        writer
            .close(Some(CloseFrame::new(CloseCode::NORMAL, "")))
            .await
            .unwrap();
        server_got_close(&mut ends, "").await;
    })
    .await
    .expect("within the time limit");
}

#[tokio::test]
async fn the_client_talks_to_an_async_tungstenite_server() {
    use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode as TCode;
    use async_tungstenite::tungstenite::Message as TMessage;

    tokio::time::timeout(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = async_tungstenite::tokio::accept_async(stream)
                .await
                .unwrap();
            // Echo data; tungstenite answers pings and the close itself,
            // and fails on an unmasked client frame.
            while let Some(msg) = ws.next().await {
                match msg.expect("a well-formed client frame") {
                    m @ (TMessage::Text(_) | TMessage::Binary(_)) => ws.send(m).await.unwrap(),
                    TMessage::Close(frame) => return frame.map(|f| (f.code, f.reason.to_string())),
                    _ => {}
                }
            }
            None
        });
        let mut ws = connect(addr).await;
        exchange(&mut ws).await;
        ws.close(Some(CloseFrame::new(CloseCode::NORMAL, "done")))
            .await
            .unwrap();
        let close = server.await.unwrap();
        assert_eq!(close, Some((TCode::Normal, "done".to_owned())));
    })
    .await
    .expect("within the time limit");
}

/// A server by hand: answers the upgrade, sends a close with 1000, reads
/// the client's masked answer (8 bytes: header, key, code) and hands the
/// socket back.
async fn server_closing_first() -> (SocketAddr, tokio::task::JoinHandle<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(s.read_u8().await.unwrap());
        }
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
        );
        s.write_all(answer.as_bytes()).await.unwrap();
        s.write_all(&[0x88, 0x02, 0x03, 0xe8]).await.unwrap();
        let mut echo = [0u8; 8];
        s.read_exact(&mut echo).await.unwrap();
        assert_eq!(echo[..2], [0x88, 0x82], "a masked close");
        let code = [echo[6] ^ echo[2], echo[7] ^ echo[3]];
        assert_eq!(code, [0x03, 0xe8]);
        s
    });
    (addr, server)
}

/// RFC 6455 7.1.1: the server ends the TCP connection first. The client
/// answers the server's close and then waits for the end of the stream:
/// it sends no FIN of its own before the server's.
#[tokio::test]
async fn after_the_closing_handshake_the_client_leaves_the_tcp_close_to_the_server() {
    let (addr, server) = server_closing_first().await;
    let mut ws = connect(addr).await;
    let client = tokio::spawn(async move { ws.recv().await });
    let mut s = tokio::time::timeout(LIMIT, server).await.unwrap().unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), s.read(&mut byte)).await;
    assert!(early.is_err(), "the client ended TCP first: {early:?}");
    assert!(!client.is_finished(), "recv waits for the server's end");
    drop(s);
    let end = tokio::time::timeout(LIMIT, client).await.unwrap().unwrap();
    match end {
        Ok(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::NORMAL),
        other => panic!("{other:?}"),
    }
}

/// A server that never ends the TCP connection holds the client no
/// longer than the close timeout; the server's close is still reported.
#[tokio::test]
async fn the_wait_for_the_servers_tcp_close_is_bounded_by_the_close_timeout() {
    let (addr, server) = server_closing_first().await;
    let config = WebSocketConfig::builder()
        .close_timeout(Duration::from_millis(300))
        .build();
    let mut ws = connect_with(addr, config).await;
    let started = std::time::Instant::now();
    let end = tokio::time::timeout(LIMIT, ws.recv()).await.unwrap();
    let _s = server.await.unwrap();
    match end {
        Ok(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::NORMAL),
        other => panic!("{other:?}"),
    }
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}
