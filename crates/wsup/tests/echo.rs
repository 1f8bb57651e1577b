//! Message echo: sizes across the frame-length encodings, text and binary,
//! pipelined batches, the Stream/Sink interface, and fragmented messages
//! reassembled into one.

mod harness;

use futures_util::{SinkExt, StreamExt};
use harness::raw::{raw_connect, OP_BINARY, OP_CONT, OP_TEXT};
use harness::*;
use wsup::{CloseCode, Message};

/// Payload sizes at each edge of the 7-bit, 16-bit and 64-bit length forms.
const SIZES: [usize; 6] = [0, 125, 126, 65535, 65536, 1 << 20];

/// Compares payloads without printing megabytes on failure.
fn assert_same(actual: &[u8], expected: &[u8], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    if let Some(i) = actual.iter().zip(expected).position(|(a, b)| a != b) {
        panic!(
            "{what}: first difference at byte {i}: {} != {}",
            actual[i], expected[i]
        );
    }
}

async fn echo_text_sizes<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), echo).await;
    let mut ws = connect::<R>(addr).await;
    for (i, &n) in SIZES.iter().enumerate() {
        let text = text_pattern(n, i as u8);
        ws.send(ClientMsg::text(text.clone())).await.unwrap();
        match client_next::<R>(&mut ws).await {
            ClientMsg::Text(t) => assert_same(
                t.as_bytes(),
                text.as_bytes(),
                &format!("[{}] text of {n}", R::NAME),
            ),
            other => panic!("[{}] expected text of {n} bytes, got {other:?}", R::NAME),
        }
    }
    client_close_echoed::<R>(&mut ws, 1000, "").await;
    let close = server.await.expect("server echo ends cleanly");
    assert_eq!(close.map(|c| c.code), Some(CloseCode::NORMAL));
}

async fn echo_binary_sizes<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), echo).await;
    let mut ws = connect::<R>(addr).await;
    for (i, &n) in SIZES.iter().enumerate() {
        let data = pattern(n, 100 + i as u8);
        ws.send(ClientMsg::binary(data.clone())).await.unwrap();
        match client_next::<R>(&mut ws).await {
            ClientMsg::Binary(b) => assert_same(&b, &data, &format!("[{}] binary of {n}", R::NAME)),
            other => panic!("[{}] expected binary of {n} bytes, got {other:?}", R::NAME),
        }
    }
    client_close_echoed::<R>(&mut ws, 1000, "").await;
    server.await.expect("server echo ends cleanly");
}

/// Multi-byte UTF-8 (2, 3 and 4 bytes per character) survives whole.
async fn echo_multibyte_text<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), echo).await;
    let mut ws = connect::<R>(addr).await;
    for reps in [1, 40, 20_000] {
        let text: String = "aé€😀".repeat(reps);
        ws.send(ClientMsg::text(text.clone())).await.unwrap();
        match client_next::<R>(&mut ws).await {
            ClientMsg::Text(t) => assert_eq!(t.as_str(), text, "[{}] {reps} reps", R::NAME),
            other => panic!("[{}] expected text, got {other:?}", R::NAME),
        }
    }
    client_close::<R>(&mut ws, 1000, "").await;
    server.await.expect("server echo ends cleanly");
}

/// Many messages sent without waiting come back complete and in order
/// (several frames per read on the server, several replies per write).
async fn pipelined_messages_keep_order<R: Rt>() {
    const N: usize = 1000;
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), echo).await;
    let ws = connect::<R>(addr).await;
    let (mut tx, mut rx) = ws.split();
    let msg = |i: usize| {
        if i % 3 == 0 {
            ClientMsg::binary(pattern(i % 300, i as u8))
        } else {
            ClientMsg::text(text_pattern(i % 257, i as u8))
        }
    };
    let sender = spawn::<R, _>(async move {
        for i in 0..N {
            tx.feed(msg(i)).await.unwrap();
        }
        tx.flush().await.unwrap();
        tx
    });
    for i in 0..N {
        let got = match rx.next().await {
            Some(Ok(m)) => m,
            other => panic!("[{}] message {i}: {other:?}", R::NAME),
        };
        assert_eq!(got, msg(i), "[{}] message {i}", R::NAME);
    }
    let tx = sender.await;
    let mut ws = async_tungstenite::WebSocketStream::reunite(tx, rx).expect("halves of one stream");
    client_close::<R>(&mut ws, 1000, "").await;
    server.await.expect("server echo ends cleanly");
}

/// The connection as a `Stream` of messages and a `Sink` for them; the
/// stream yields the peer's close and then ends.
async fn stream_and_sink_interfaces<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), |mut ws| async move {
        let mut seen = Vec::new();
        while let Some(m) = ws.next().await {
            let m = m.expect("stream item");
            if m.is_data() {
                SinkExt::send(&mut ws, m.clone()).await.expect("sink send");
            }
            seen.push(m);
        }
        seen
    })
    .await;
    let mut ws = connect::<R>(addr).await;
    ws.send(ClientMsg::text("one")).await.unwrap();
    ws.send(ClientMsg::binary(vec![2u8; 70_000])).await.unwrap();
    assert_eq!(client_next::<R>(&mut ws).await, ClientMsg::text("one"));
    assert_eq!(
        client_next::<R>(&mut ws).await,
        ClientMsg::binary(vec![2u8; 70_000])
    );
    client_close_echoed::<R>(&mut ws, 4001, "done").await;
    let seen = server.await;
    assert_eq!(seen.len(), 3, "[{}] {seen:?}", R::NAME);
    assert_eq!(seen[0], Message::text("one"));
    assert_eq!(seen[1], Message::binary(vec![2u8; 70_000]));
    assert_eq!(
        seen[2],
        Message::Close(Some(wsup::CloseFrame::new(4001, "done")))
    );
}

/// Text sent in fragments (one of them empty, a character split across two)
/// is echoed as one unfragmented text frame.
async fn fragmented_text_is_reassembled<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), echo).await;
    let mut c = raw_connect::<R>(addr).await;
    // "ö" is C3 B6: split between the third and fourth fragment.
    c.send(false, OP_TEXT, b"Hel").await;
    c.send(false, OP_CONT, b"lo, w").await;
    c.send(false, OP_CONT, b"").await;
    c.send(false, OP_CONT, b"\xC3").await;
    c.send(true, OP_CONT, b"\xB6rld").await;
    let f = c.read_frame().await.expect("echo");
    assert_eq!((f.fin, f.opcode), (true, OP_TEXT), "[{}] {f:?}", R::NAME);
    assert_eq!(std::str::from_utf8(&f.payload).unwrap(), "Hello, wörld");
    // A binary one after it: the assembly state was reset.
    c.send(false, OP_BINARY, &[1, 2]).await;
    c.send(true, OP_CONT, &[3]).await;
    let f = c.read_frame().await.expect("echo");
    assert_frame::<R>(&f, true, OP_BINARY, &[1u8, 2, 3][..]);
    c.close_normally().await;
    server.await.expect("server echo ends cleanly");
}

/// A large binary message sent by async-tungstenite as raw fragments.
async fn fragmented_binary_is_reassembled<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(upgrader::<R>(), echo).await;
    let mut ws = connect::<R>(addr).await;
    let data = pattern(300_000, 7);
    let pieces: Vec<&[u8]> = data.chunks(70_000).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let frame = fragment(i, Data::Binary, *piece, i + 1 == pieces.len());
        ws.send(frame).await.unwrap();
    }
    match client_next::<R>(&mut ws).await {
        ClientMsg::Binary(b) => assert_same(&b, &data, &format!("[{}] reassembled", R::NAME)),
        other => panic!("[{}] expected binary, got {other:?}", R::NAME),
    }
    client_close::<R>(&mut ws, 1000, "").await;
    server.await.expect("server echo ends cleanly");
}

runtime_tests!(
    echo_text_sizes,
    echo_binary_sizes,
    echo_multibyte_text,
    pipelined_messages_keep_order,
    stream_and_sink_interfaces,
    fragmented_text_is_reassembled,
    fragmented_binary_is_reassembled,
);
