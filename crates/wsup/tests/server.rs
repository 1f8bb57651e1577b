//! The server: graceful shutdown (1001 to every connection, the drain
//! deadline, the summary), a panicking handler, and the timers a bare
//! upgrader gets.

mod harness;

use std::time::{Duration, Instant};

use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use futures_util::StreamExt;
use harness::raw::{raw_connect, OP_TEXT};
use harness::*;
use wsup::server::ShutdownSummary;
use wsup::{Message, Upgrader};

/// The server's handler in these tests: echoes until the connection ends.
async fn echo_handler<T>(ws: wsup::WebSocket<T>, _peer: std::net::SocketAddr)
where
    T: futures_util::io::AsyncRead + futures_util::io::AsyncWrite + Unpin,
{
    let _ = echo(ws).await;
}

/// Checks what the shutdown did: `closed` connections ended by
/// themselves, `aborted` at the deadline.
fn assert_summary<R: Rt>(summary: ShutdownSummary, closed: usize, aborted: usize) {
    assert_eq!(
        (summary.closed, summary.aborted),
        (closed, aborted),
        "[{}] {summary:?}",
        R::NAME
    );
}

/// Sends `text` and expects it back: the connection is being served.
async fn assert_echoed<R: Rt>(c: &mut Client<R>, text: &str) {
    c.send(ClientMsg::text(text)).await.expect("client send");
    let got = within::<R, _>(Duration::from_secs(5), "echo", client_next::<R>(c)).await;
    assert_eq!(got, ClientMsg::text(text), "[{}]", R::NAME);
}

/// Reads the server's close (it must be `code`), then on until the stream
/// ends: async-tungstenite answers the close as it reads on.
async fn expect_close_then_end<R: Rt>(c: &mut Client<R>, code: u16) {
    let (before, close) = within::<R, _>(
        Duration::from_secs(5),
        "server's close",
        client_until_close::<R>(c),
    )
    .await;
    assert!(before.is_empty(), "[{}] {before:?}", R::NAME);
    assert_eq!(close.map(|c| c.0), Some(code), "[{}]", R::NAME);
    within::<R, _>(Duration::from_secs(5), "end of stream", async {
        while let Some(Ok(_)) = c.next().await {}
    })
    .await;
}

/// The signal given to the builder: every open connection gets 1001, each
/// answers, `run` returns with all of them closed, and the listener is
/// gone.
async fn shutdown_closes_every_connection_with_going_away<R: Rt>() {
    let (tx, rx) = futures_channel::oneshot::channel::<()>();
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let server = server.with_graceful_shutdown(async move {
        let _ = rx.await;
    });
    let handle = server.shutdown_handle();
    let running = spawn::<R, _>(server.run(echo_handler));
    let mut clients = Vec::new();
    for i in 0..3 {
        let mut c = connect::<R>(addr).await;
        assert_echoed::<R>(&mut c, &format!("hello {i}")).await;
        clients.push(c);
    }
    assert!(!handle.is_started(), "[{}]", R::NAME);

    let began = Instant::now();
    tx.send(()).expect("signal");
    for c in &mut clients {
        expect_close_then_end::<R>(c, 1001).await;
    }
    let summary = run_returns::<R>(running).await;
    assert!(handle.is_started(), "[{}]", R::NAME);
    assert_summary::<R>(summary, 3, 0);
    assert_took::<R>(
        began.elapsed(),
        Duration::ZERO,
        Duration::from_secs(3),
        "drained",
    );
    // No longer accepting: the listener went with `run` (a refused connect
    // to 127.0.0.1 fails at once).
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "[{}] still accepting",
        R::NAME
    );
}

/// A peer that never answers the server's close holds its handler past the
/// shutdown timeout (shorter than the close timeout here): it is aborted
/// at the deadline, its connection shut, while the peer that answered
/// closed cleanly; `run` returns at the deadline.
async fn shutdown_aborts_a_silent_peer_at_the_deadline<R: Rt>() {
    let deadline = Duration::from_millis(400);
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let server = server.shutdown_timeout(deadline);
    let handle = server.shutdown_handle();
    let running = spawn::<R, _>(server.run(echo_handler));
    let mut answering = connect::<R>(addr).await;
    assert_echoed::<R>(&mut answering, "hi").await;
    let mut silent = raw_connect::<R>(addr).await;
    silent.send(true, OP_TEXT, b"hi").await;
    let echoed = silent.read_frame().await.expect("echo");
    assert_frame::<R>(&echoed, true, OP_TEXT, b"hi");

    let began = Instant::now();
    handle.trigger();
    expect_close_then_end::<R>(&mut answering, 1001).await;
    let (_, close) = within::<R, _>(
        Duration::from_secs(5),
        "close to the silent peer",
        silent.read_until_close(),
    )
    .await;
    assert_eq!(close.map(|c| c.0), Some(1001), "[{}]", R::NAME);
    // Never answered; the server gives up at the deadline and ends the
    // connection.
    let after = within::<R, _>(
        Duration::from_secs(5),
        "silent peer's connection ends",
        silent.read_to_eof(),
    )
    .await;
    assert!(after.is_empty(), "[{}] {after:?}", R::NAME);
    let summary = run_returns::<R>(running).await;
    assert_took::<R>(
        began.elapsed(),
        deadline,
        Duration::from_secs(3),
        "run returns at the deadline",
    );
    assert_summary::<R>(summary, 1, 1);
}

/// A handler that never reads holds its connection until the deadline; the
/// peer still gets the 1001, as the aborted connection's last words.
async fn an_aborted_connection_still_says_going_away<R: Rt>() {
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let server = server.shutdown_timeout(Duration::from_millis(200));
    let handle = server.shutdown_handle();
    let running = spawn::<R, _>(server.run(|ws, _| async move {
        let _held = ws;
        std::future::pending::<()>().await;
    }));
    let mut c = raw_connect::<R>(addr).await;
    handle.trigger();
    let (_, close) =
        within::<R, _>(Duration::from_secs(5), "last words", c.read_until_close()).await;
    assert_eq!(close.map(|c| c.0), Some(1001), "[{}]", R::NAME);
    let summary = run_returns::<R>(running).await;
    assert_summary::<R>(summary, 0, 1);
}

/// A handler that panics: its peer gets close 1011, and the server goes
/// on serving the next connection.
async fn a_panicking_handler_closes_with_1011_and_the_server_serves_on<R: Rt>() {
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let handle = server.shutdown_handle();
    let running = spawn::<R, _>(server.run(|mut ws, _| async move {
        while let Ok(msg) = ws.recv().await {
            if matches!(&msg, Message::Text(t) if t.as_str() == "panic") {
                panic!("a handler fails");
            }
            if msg.is_data() && ws.send(msg).await.is_err() {
                break;
            }
        }
    }));
    let mut failing = connect::<R>(addr).await;
    failing
        .send(ClientMsg::text("panic"))
        .await
        .expect("client send");
    expect_close_then_end::<R>(&mut failing, 1011).await;

    let mut next = connect::<R>(addr).await;
    assert_echoed::<R>(&mut next, "still serving").await;
    handle.trigger();
    expect_close_then_end::<R>(&mut next, 1001).await;
    // The failed connection's task may still be ending (on a loaded
    // machine) when the drain counts: then it counts as closed too.
    let summary = run_returns::<R>(running).await;
    assert!(
        (1..=2).contains(&summary.closed) && summary.aborted == 0,
        "[{}] {summary:?}",
        R::NAME
    );
}

/// `Upgrader::new()` has no runtime; the server gives it its own, so a
/// stalled handshake still times out (it would wait forever without).
async fn a_bare_upgrader_gets_the_servers_timers<R: Rt>() {
    let bare = Upgrader::new().handshake_timeout(Duration::from_millis(300));
    let (server, addr) = server::<R>(bare).await;
    let handle = server.shutdown_handle();
    let running = spawn::<R, _>(server.run(echo_handler));
    let mut io = R::connect(addr).await;
    io.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let began = Instant::now();
    read_to_end_within::<R, _>(&mut io, "handshake timeout closes the connection")
        .await
        .expect("read");
    assert_took::<R>(
        began.elapsed(),
        Duration::from_millis(200),
        Duration::from_secs(3),
        "handshake timeout",
    );
    handle.trigger();
    let summary = run_returns::<R>(running).await;
    assert_eq!(summary.aborted, 0, "[{}] {summary:?}", R::NAME);
}

/// A routing handler (`run_requests`): a plain request is answered by the
/// handler, an upgrade request upgraded by it; the connection it upgraded is still the
/// server's: it gets 1001 on shutdown.
async fn a_routing_handler_answers_plain_requests_and_its_upgrades_go_away<R: Rt>() {
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let handle = server.shutdown_handle();
    let running = spawn::<R, _>(server.run_requests(|request, _peer| async move {
        if !request.is_upgrade() {
            let response = wsup::http::Response::new(wsup::Bytes::from_static(b"plain"));
            let _ = request.respond(response).await;
        } else if let Ok(ws) = request.upgrade().await {
            let _ = echo(ws).await;
        }
    }));
    let plain = harness::raw::http_exchange::<R>(
        addr,
        format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(plain.starts_with("HTTP/1.1 200"), "[{}] {plain}", R::NAME);
    assert!(plain.ends_with("plain"), "[{}] {plain}", R::NAME);

    let mut ws = connect::<R>(addr).await;
    assert_echoed::<R>(&mut ws, "routed").await;
    handle.trigger();
    expect_close_then_end::<R>(&mut ws, 1001).await;
    let summary = run_returns::<R>(running).await;
    assert_summary::<R>(summary, 1, 0);
}

/// A handler of raw connections (`run_connections`, what an HTTP server
/// such as hyper runs under): tracked, capped (503 over the cap, from the
/// upgrader), and told of the shutdown through the handle.
async fn a_connection_handler_is_capped_tracked_and_sees_the_shutdown<R: Rt>() {
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let handle = server.shutdown_handle();
    let shutdown = handle.clone();
    let running = spawn::<R, _>(
        server
            .max_connections(1)
            .run_connections(move |mut io, _peer| {
                let shutdown = shutdown.clone();
                async move {
                    let _ = io.write_all(b"hello\n").await;
                    shutdown.started().await;
                    let _ = io.write_all(b"bye\n").await;
                }
            }),
    );
    let mut first = R::connect(addr).await;
    let mut greeting = [0u8; 6];
    first.read_exact(&mut greeting).await.expect("greeting");
    assert_eq!(&greeting, b"hello\n", "[{}]", R::NAME);

    // The one place is taken: the next client's request is answered 503.
    let refused =
        harness::raw::http_exchange::<R>(addr, harness::raw::upgrade_request(addr, "").as_bytes())
            .await;
    assert!(
        refused.starts_with("HTTP/1.1 503"),
        "[{}] {refused}",
        R::NAME
    );

    handle.trigger();
    let rest = read_to_end_within::<R, _>(&mut first, "the handler's end")
        .await
        .expect("read to the end");
    assert_eq!(rest, b"bye\n", "[{}]", R::NAME);
    // The handler ends as soon as it sees the shutdown, possibly before the
    // drain counts the open tasks (the refused client's may still count).
    let summary = run_returns::<R>(running).await;
    assert!(
        summary.closed <= 2 && summary.aborted == 0,
        "[{}] {summary:?}",
        R::NAME
    );
}

/// A connection upgraded outside the server, attached to a shutdown
/// handle: the trigger makes it go away with 1001 as the server's own do;
/// one attached after the trigger goes away at once.
async fn an_attached_connection_goes_away_with_the_shutdown<R: Rt>() {
    let shutdown = wsup::server::Shutdown::new();
    let (mut c, served) = attached_echo::<R>(&shutdown).await;
    assert_echoed::<R>(&mut c, "before").await;
    shutdown.trigger();
    expect_close_then_end::<R>(&mut c, 1001).await;
    let _ = within::<R, _>(Duration::from_secs(5), "handler ends", served).await;

    let (mut c, served) = attached_echo::<R>(&shutdown).await;
    expect_close_then_end::<R>(&mut c, 1001).await;
    let _ = within::<R, _>(Duration::from_secs(5), "handler ends", served).await;
}

/// A client of an echo server whose connection is attached to `shutdown`;
/// the server's task.
async fn attached_echo<R: Rt>(
    shutdown: &wsup::server::Shutdown,
) -> (
    Client<R>,
    BoxFut<Result<Option<wsup::CloseFrame>, wsup::Error>>,
) {
    let attach = shutdown.clone();
    let (addr, served) = serve_ws::<R, _, _, _>(upgrader::<R>(), move |mut ws| async move {
        attach.attach(&mut ws);
        echo(ws).await
    })
    .await;
    (connect::<R>(addr).await, served)
}

runtime_tests!(
    an_attached_connection_goes_away_with_the_shutdown,
    a_connection_handler_is_capped_tracked_and_sees_the_shutdown,
    a_routing_handler_answers_plain_requests_and_its_upgrades_go_away,
    shutdown_closes_every_connection_with_going_away,
    shutdown_aborts_a_silent_peer_at_the_deadline,
    an_aborted_connection_still_says_going_away,
    a_panicking_handler_closes_with_1011_and_the_server_serves_on,
    a_bare_upgrader_gets_the_servers_timers,
);
