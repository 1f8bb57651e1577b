//! wsup's client end to end, on every runtime, through each binding's
//! public `connect` / `connect_with`: against a wsup server on 127.0.0.1
//! (messages of every kind and size both ways, fragmented by the server,
//! ping and pong, the closing handshake from either side, the server's
//! choice of subprotocol, permessage-deflate with asymmetric windows and no
//! context takeover, checked on the wire) and against async-tungstenite's
//! server, an independent implementation.

mod harness;

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use futures_util::StreamExt;
use harness::client::*;
use harness::*;
use wsup::deflate::{Agreed, DeflateConfig};
use wsup::{Bytes, Chunk, CloseCode, CloseFrame, Error, Message, MessageKind};

runtime_tests! {
    messages_of_every_kind_and_size_go_both_ways,
    the_server_closes_and_the_client_sees_its_code,
    the_server_chooses_among_the_offered_subprotocols,
    deflate_with_asymmetric_windows_round_trips_compressed,
    deflate_without_context_takeover_round_trips_compressed,
    an_async_tungstenite_server_echoes_and_closes,
}

/// The messages the client sends: empty, short, multi-byte text, binary,
/// and large ones (up to the default message limit, 1 MiB: several reads
/// and writes).
fn messages() -> Vec<Message> {
    vec![
        Message::text("hello"),
        Message::text(""),
        Message::binary(&b"\x00\x01\x02\xff"[..]),
        Message::text("é€😀".repeat(20_000)),
        Message::Binary(Bytes::from(pattern(64 << 10, 1))),
        Message::Binary(Bytes::from(pattern(1 << 20, 2))),
        Message::text(text_pattern(700 << 10, 3)),
    ]
}

/// The server opens with two messages it fragments itself (the streaming
/// writer, 1000-byte frames; chunks by hand), then echoes; the client
/// sends every kind and size, pings, and closes with 1000, which the server
/// sees with its reason. `connect(url)`, the binding's default dialer.
async fn messages_of_every_kind_and_size_go_both_ways<R: ClientRt>() {
    let large = Bytes::from(pattern(300_000, 9));
    let sent = large.clone();
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), move |mut ws| async move {
        {
            let mut w = ws.message_writer(MessageKind::Binary, 1000);
            w.write_all(&sent).await.expect("streamed message");
            w.close().await.expect("end of the streamed message");
        }
        for piece in [Chunk::text("frag", false), Chunk::text("", false)] {
            ws.feed_chunk(piece).await.expect("fragment");
        }
        ws.feed_chunk(Chunk::text("mented", true))
            .await
            .expect("last fragment");
        ws.flush().await.expect("flush");
        echo(ws).await
    })
    .await;

    let (mut ws, response) = R::ws_connect(ws_url(addr, "/")).await.expect("connect");
    assert_eq!(response.status(), 101, "[{}]", R::NAME);
    assert_eq!(ws.role(), wsup::Role::Client, "[{}]", R::NAME);
    assert_eq!(ws.compression(), None, "[{}]", R::NAME);
    assert_next::<R>(&mut ws, Message::Binary(large)).await;
    assert_next::<R>(&mut ws, Message::text("fragmented")).await;

    round_trip::<R>(&mut ws, "every kind and size", &messages()).await;

    // The client's own fragments: a message streamed in 4 KiB frames.
    let text = text_pattern(100_000, 4);
    {
        let mut w = ws.message_writer(MessageKind::Text, 4096);
        w.write_all(text.as_bytes()).await.expect("client streams");
        w.close().await.expect("client ends the stream");
    }
    assert_next::<R>(&mut ws, Message::text(text)).await;

    // A ping is answered by the server's connection itself.
    ws.send(Message::Ping(Bytes::from_static(b"are you there")))
        .await
        .expect("ping");
    assert_next::<R>(&mut ws, Message::Pong(Bytes::from_static(b"are you there"))).await;

    ws.close(Some(CloseFrame::new(CloseCode::NORMAL, "bye")))
        .await
        .unwrap_or_else(|e| panic!("[{}] close: {e}", R::NAME));
    let end = server.await.expect("the server's side ends cleanly");
    assert_eq!(
        end,
        Some(CloseFrame::new(CloseCode::NORMAL, "bye")),
        "[{}]",
        R::NAME
    );
    assert_matches!(R, ws.recv().await, Err(Error::ConnectionClosed));
}

/// The server sends a message and closes with 4001: the client gets the
/// message, then the server's close frame with its code and reason, and the
/// server's close completes (the client echoed it).
async fn the_server_closes_and_the_client_sees_its_code<R: ClientRt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        ws.send(Message::text("last words")).await.expect("send");
        ws.close(Some(CloseFrame::new(4001, "done here"))).await
    })
    .await;
    let (mut ws, _) = dial::<R>(R::dialer(), ws_url(addr, "/")).await;
    assert_next::<R>(&mut ws, Message::text("last words")).await;
    assert_next::<R>(
        &mut ws,
        Message::Close(Some(CloseFrame::new(4001, "done here"))),
    )
    .await;
    assert_matches!(R, ws.recv().await, Err(Error::ConnectionClosed));
    let closed = within::<R, _>(std::time::Duration::from_secs(5), "server close", server).await;
    assert_matches!(R, closed, Ok(()));
}

/// The server's preference wins among those the client offered; both ends
/// and the `101` agree.
async fn the_server_chooses_among_the_offered_subprotocols<R: ClientRt>() {
    let upgrader = upgrader::<R>().subprotocols(["chat.v3", "chat.v2", "chat.v1"]);
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader, |ws| async move {
        let chosen = ws.subprotocol().map(str::to_owned);
        let _ = echo(ws).await;
        chosen
    })
    .await;
    let dialer = R::dialer().protocols(["chat.v1", "chat.v2", "other"]);
    let (mut ws, response) = dial::<R>(dialer, ws_url(addr, "/chat")).await;
    assert_eq!(ws.subprotocol(), Some("chat.v2"), "[{}]", R::NAME);
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "chat.v2",
        "[{}]",
        R::NAME
    );
    round_trip::<R>(&mut ws, "chat.v2", &[Message::text("on chat.v2")]).await;
    ws.close(None).await.expect("close");
    assert_eq!(server.await.as_deref(), Some("chat.v2"), "[{}]", R::NAME);
}

/// Counts the bytes a stream reads and writes: the server's side of the
/// wire, to see that compressed messages were compressed.
struct Counting<S> {
    io: S,
    read: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = std::task::ready!(Pin::new(&mut self.io).poll_read(cx, buf))?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Poll::Ready(Ok(n))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = std::task::ready!(Pin::new(&mut self.io).poll_write(cx, buf))?;
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_close(cx)
    }
}

/// A wsup echo server with `deflate`, counting the bytes on its side of
/// one connection; a client with `offer` connects. Both ends must agree on
/// `expected`; compressible and incompressible messages round-trip, many
/// times (later messages refer back to earlier ones when contexts are
/// kept), and the compressible ones cross the wire compressed both ways.
async fn deflate_scenario<R: ClientRt>(
    deflate: DeflateConfig,
    offer: DeflateConfig,
    expected: (u8, u8, bool, bool),
) {
    let (listener, addr) = R::listen().await;
    let (read, written) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (r, w) = (read.clone(), written.clone());
    let upgrader = upgrader::<R>().compression(deflate);
    let server = spawn::<R, _>(async move {
        let io = Counting {
            io: R::accept(&listener).await,
            read: r,
            written: w,
        };
        let ws = upgrader.upgrade(io).await.expect("server handshake");
        let agreed = ws.compression().copied();
        (agreed, echo(ws).await)
    });

    let (mut ws, response) = dial::<R>(R::dialer().compression(offer), ws_url(addr, "/")).await;
    let agreed: Agreed = *ws.compression().expect("deflate agreed");
    let (server_bits, client_bits, server_nct, client_nct) = expected;
    assert_eq!(
        (
            agreed.server_max_window_bits,
            agreed.client_max_window_bits,
            agreed.server_no_context_takeover,
            agreed.client_no_context_takeover
        ),
        (server_bits, client_bits, server_nct, client_nct),
        "[{}] {:?}",
        R::NAME,
        response.headers().get("sec-websocket-extensions")
    );

    let prose = "The quick brown fox jumps over the lazy dog. ".repeat(24_000);
    let mut msgs = Vec::new();
    for round in 0..3u8 {
        msgs.push(Message::text(prose.clone()));
        msgs.push(Message::Binary(Bytes::from(pattern(64 << 10, round))));
        msgs.push(Message::text(format!("short {round}")));
        msgs.push(Message::Binary(Bytes::from(vec![round; 1 << 20])));
    }
    round_trip::<R>(&mut ws, "compressed", &msgs).await;
    ws.close(None).await.expect("close");
    let (server_agreed, end) = server.await;
    assert_eq!(server_agreed, Some(agreed), "[{}] both ends agree", R::NAME);
    assert_matches!(R, end, Ok(None));

    // What was sent: ~3 MiB of text, 3 MiB of zeros, 192 KiB of noise.
    let total: usize = msgs.iter().map(Message::len).sum();
    let (read, written) = (
        read.load(Ordering::Relaxed) as usize,
        written.load(Ordering::Relaxed) as usize,
    );
    for (way, bytes) in [("client to server", read), ("server to client", written)] {
        assert!(
            bytes < total / 8,
            "[{}] {way}: {bytes} bytes on the wire for {total} of messages",
            R::NAME
        );
        assert!(bytes > 3 * (64 << 10), "[{}] {way}: {bytes}", R::NAME);
    }
}

/// Windows differ each way: the client asks the server for 10 bits, the
/// server limits the client to 12; contexts are kept.
async fn deflate_with_asymmetric_windows_round_trips_compressed<R: ClientRt>() {
    deflate_scenario::<R>(
        DeflateConfig::enabled().client_max_window_bits(12),
        DeflateConfig::enabled().server_max_window_bits(10),
        (10, 12, false, false),
    )
    .await;
}

/// No context takeover: the server's by its own choice, the client's at
/// the client's offer; windows of 9 bits (the client's, set by the server)
/// and 15.
async fn deflate_without_context_takeover_round_trips_compressed<R: ClientRt>() {
    deflate_scenario::<R>(
        DeflateConfig::enabled()
            .server_no_context_takeover(true)
            .client_max_window_bits(9),
        DeflateConfig::enabled().client_no_context_takeover(true),
        (15, 9, true, true),
    )
    .await;
}

/// async-tungstenite's server (`accept_async`), an independent peer: it
/// checks the client's masking and framing; messages go both ways, a
/// message it sends first included, and the client's close reaches it.
async fn an_async_tungstenite_server_echoes_and_closes<R: ClientRt>() {
    let (listener, addr) = R::listen().await;
    let server = spawn::<R, _>(async move {
        let io = R::accept(&listener).await;
        let mut ws = async_tungstenite::accept_async(io)
            .await
            .expect("async-tungstenite handshake");
        ws.send(ClientMsg::text("welcome")).await.expect("welcome");
        while let Some(msg) = ws.next().await {
            match msg.expect("a valid frame from wsup's client") {
                m @ (ClientMsg::Text(_) | ClientMsg::Binary(_)) => ws.send(m).await.expect("echo"),
                ClientMsg::Close(frame) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.as_str().to_owned()))
                }
                _ => {}
            }
        }
        panic!("the stream ended without a close frame");
    });
    let (mut ws, _) = dial::<R>(R::dialer(), ws_url(addr, "/")).await;
    assert_next::<R>(&mut ws, Message::text("welcome")).await;
    let mut msgs = messages();
    // tungstenite's default frame limit is 16 MiB: the largest fits.
    msgs.push(Message::Binary(Bytes::from(pattern(1 << 20, 7))));
    round_trip::<R>(&mut ws, "async-tungstenite", &msgs).await;
    ws.close(Some(CloseFrame::new(CloseCode::NORMAL, "thanks")))
        .await
        .unwrap_or_else(|e| panic!("[{}] close: {e}", R::NAME));
    assert_eq!(
        server.await,
        Some((1000, "thanks".to_owned())),
        "[{}]",
        R::NAME
    );
}
