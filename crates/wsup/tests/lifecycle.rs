//! Keepalive, the idle timeout and the write timeout, over real sockets with
//! the runtimes' real timers: a silent peer is pinged and dropped on time,
//! an answering one stays; an idle connection is closed with 1001; a peer
//! that stops reading is dropped by the write timeout, on the whole
//! connection and on its split writer.

mod harness;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use harness::raw::{raw_connect, OP_CLOSE, OP_PING, OP_TEXT};
use harness::*;
use wsup::{Error, Message};

const TICK: Duration = Duration::from_millis(200);

fn keepalive<R: Rt>(every: Duration) -> wsup::Upgrader {
    upgrader::<R>()
        .keepalive_interval(Some(every))
        .keepalive_timeout(every)
}

/// A peer that completes the handshake and then says nothing is pinged
/// after one to two intervals; when nothing follows within the timeout, the
/// server attempts a close with 1011 and drops it, and the handler sees
/// `KeepaliveTimeout`.
async fn a_silent_peer_is_pinged_then_dropped<R: Rt>() {
    let start = Instant::now();
    let (addr, server) = serve_ws::<R, _, _, _>(keepalive::<R>(TICK), move |mut ws| async move {
        let res = ws.recv().await;
        (res, start.elapsed())
    })
    .await;
    let mut client = raw_connect::<R>(addr).await;
    let ping = within::<R, _>(5 * TICK, "keepalive ping", client.read_frame())
        .await
        .expect("a ping, not the end");
    assert_eq!(ping.opcode, OP_PING, "[{}] {ping:?}", R::NAME);
    assert_took::<R>(start.elapsed(), TICK, 3 * TICK, "ping");
    // Say nothing: the server gives up.
    let frames = within::<R, _>(10 * TICK, "dropped", client.read_to_eof()).await;
    let close = frames.iter().find(|f| f.opcode == OP_CLOSE);
    assert_eq!(
        close.and_then(|f| f.close_code()).map(|c| c.0),
        Some(1011),
        "[{}] {frames:?}",
        R::NAME
    );
    let (res, took) = server.await;
    assert_matches!(R, res, Err(Error::KeepaliveTimeout));
    assert_took::<R>(took, 2 * TICK, 6 * TICK, "keepalive timeout");
}

/// A peer that answers pings (async-tungstenite does, as it reads) stays
/// connected through many intervals, and its messages still go through.
async fn an_answering_peer_stays<R: Rt>() {
    let (addr, server) = serve_ws::<R, _, _, _>(keepalive::<R>(TICK), move |mut ws| async move {
        let mut pongs = 0;
        loop {
            match ws.recv().await {
                Ok(Message::Pong(_)) => pongs += 1,
                Ok(m @ Message::Text(_)) => ws.send(m).await.expect("echo"),
                Ok(Message::Close(_)) => return Ok(pongs),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
    let mut client = connect::<R>(addr).await;
    let mut pings = 0;
    let deadline = Instant::now() + 8 * TICK;
    while let Some(Some(msg)) = timeout::<R, _>(
        deadline.saturating_duration_since(Instant::now()),
        client.next(),
    )
    .await
    {
        match msg.expect("client read") {
            ClientMsg::Ping(_) => pings += 1,
            other => panic!("[{}] unexpected {other:?}", R::NAME),
        }
    }
    assert!(pings >= 2, "[{}] pings in 8 intervals: {pings}", R::NAME);
    client.send(ClientMsg::text("still here")).await.unwrap();
    assert_eq!(
        client_next::<R>(&mut client).await,
        ClientMsg::text("still here")
    );
    assert_eq!(
        client_close::<R>(&mut client, 1000, "").await.unwrap().0,
        1000
    );
    let pongs = server.await.expect("the connection stayed up");
    assert!(pongs >= 2, "[{}] pongs seen: {pongs}", R::NAME);
}

/// Keepalive off: a silent peer is left alone.
async fn keepalive_off_leaves_a_silent_peer_alone<R: Rt>() {
    let up = upgrader::<R>().keepalive_interval(None);
    let (addr, server) = serve_ws::<R, _, _, _>(up, |mut ws| async move {
        timeout::<R, _>(8 * TICK, ws.recv()).await.is_none()
    })
    .await;
    let mut client = raw_connect::<R>(addr).await;
    let frame = timeout::<R, _>(6 * TICK, client.read_frame()).await;
    assert!(frame.is_none(), "[{}] {frame:?}", R::NAME);
    assert!(server.await, "[{}] recv should still wait", R::NAME);
}

/// No data message for the idle timeout: the server closes with 1001, and
/// the handler sees `IdleTimeout` once the peer answers. Pings do not count
/// as activity; a message does.
async fn an_idle_connection_is_closed_with_1001<R: Rt>() {
    let up = upgrader::<R>().idle_timeout(Some(2 * TICK));
    let start = Instant::now();
    let (addr, server) = serve_ws::<R, _, _, _>(up, move |ws| async move {
        let res = echo(ws).await;
        (res, start.elapsed())
    })
    .await;
    let mut client = raw_connect::<R>(addr).await;
    client.send(true, OP_TEXT, b"hi").await;
    let echoed = client.read_frame().await.expect("echo");
    assert_eq!(echoed.payload, b"hi");
    let sent = Instant::now();
    client.send(true, OP_PING, b"not data").await;
    let (frames, close) = within::<R, _>(10 * TICK, "idle close", client.read_until_close()).await;
    let took = sent.elapsed();
    assert!(
        frames.iter().all(|f| f.opcode != OP_TEXT),
        "[{}] {frames:?}",
        R::NAME
    );
    assert_eq!(close.map(|c| c.0), Some(1001), "[{}]", R::NAME);
    assert_took::<R>(took, 2 * TICK - TICK / 4, 6 * TICK, "idle timeout");
    client.send_close(1001, "").await;
    let (res, _) = server.await;
    assert_matches!(R, res, Err(Error::IdleTimeout));
}

/// Sends 64 KiB messages on `$sender` until a send fails; yields the error
/// and how many went before it.
macro_rules! flood {
    ($sender:expr) => {{
        let payload = wsup::Bytes::from(vec![7u8; 64 * 1024]);
        let mut sent = 0usize;
        loop {
            if let Err(e) = $sender.send(Message::Binary(payload.clone())).await {
                break (e, sent);
            }
            sent += 1;
        }
    }};
}

/// A peer that stops reading: output stops making progress, and the write
/// timeout ends the connection; the blocked send returns `WriteTimeout`, and
/// so does a later one.
async fn a_peer_that_stops_reading_hits_the_write_timeout<R: Rt>() {
    let up = upgrader::<R>().write_timeout(Some(2 * TICK));
    let (addr, server) = serve_ws::<R, _, _, _>(up, |mut ws| async move {
        let (err, sent) = flood!(ws);
        let again = ws.send(Message::text("after")).await;
        (err, sent, again)
    })
    .await;
    let client = raw_connect::<R>(addr).await;
    let (err, sent, again) = within::<R, _>(Duration::from_secs(15), "write timeout", server).await;
    assert_matches!(R, err, Error::WriteTimeout);
    assert!(
        sent > 0,
        "[{}] some messages went before the stall",
        R::NAME
    );
    assert_matches!(R, again, Err(Error::WriteTimeout));
    drop(client);
}

/// The same on a split connection: the writer's blocked send returns
/// `WriteTimeout`, and the reader, waiting on a silent peer, is woken and
/// ends too.
async fn the_split_writer_hits_the_write_timeout_and_the_reader_ends<R: Rt>() {
    let up = upgrader::<R>().write_timeout(Some(2 * TICK));
    let (addr, server) = serve_ws::<R, _, _, _>(up, |ws| async move {
        let (mut reader, mut writer) = ws.split();
        let read = spawn::<R, _>(async move { reader.recv().await });
        let (err, _) = flood!(writer);
        (err, read.await)
    })
    .await;
    let client = raw_connect::<R>(addr).await;
    let (err, read) = within::<R, _>(Duration::from_secs(15), "write timeout", server).await;
    assert_matches!(R, err, Error::WriteTimeout);
    assert!(read.is_err(), "[{}] {read:?}", R::NAME);
    drop(client);
}

runtime_tests!(
    a_silent_peer_is_pinged_then_dropped,
    an_answering_peer_stays,
    keepalive_off_leaves_a_silent_peer_alone,
    an_idle_connection_is_closed_with_1001,
    a_peer_that_stops_reading_hits_the_write_timeout,
    the_split_writer_hits_the_write_timeout_and_the_reader_ends,
);
