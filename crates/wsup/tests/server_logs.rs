//! What the server logs, captured by a `tracing` subscriber over real
//! sockets: a handler's panic at ERROR with the peer, a 503 over a cap
//! with its status and cap, and a shutdown's start and summary.
//!
//! The subscriber is the process's global one (the runtimes run tasks on
//! threads of their own), so the tests of this file take turns.
#![cfg(feature = "tracing")]
// The turn is a lock held by each test's top-level future, which its test
// thread blocks on: held across awaits on purpose, and only there.
#![allow(clippy::await_holding_lock)]

mod harness;

use std::sync::{LazyLock, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use harness::raw::{http_exchange, raw_connect, status, upgrade_request, OP_TEXT};
use harness::*;
use wsup_testkit::{line_with, LogBuffer};

/// Everything logged since the running test began.
static LOGGED: LazyLock<LogBuffer> = LazyLock::new(LogBuffer::default);

/// Installs the subscriber once, and holds the turn of the running test,
/// starting from nothing logged.
fn capture() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| LOGGED.clone())
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    let turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    LOGGED.clear();
    turn
}

/// Asserts that one line was logged with `what`, and that it holds every
/// one of `fields`.
#[track_caller]
fn logged(what: &str, fields: &[&str]) {
    line_with(&LOGGED.text(), what, fields);
}

async fn a_handler_panic_is_logged_at_error_with_the_peer_in_the_connection_s_span<R: Rt>() {
    let _turn = capture();
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let handle = server.shutdown_handle();
    let running = spawn::<R, _>(server.run(|mut ws, _| async move {
        let _ = ws.recv().await;
        tracing::info!("handler got a message");
        panic!("handler gave up on {}", "purpose");
    }));
    let mut client = raw_connect::<R>(addr).await;
    client.send(true, OP_TEXT, b"hi").await;
    let code = within::<R, _>(Duration::from_secs(5), "1011", client.expect_close_code()).await;
    assert_eq!(code, 1011, "[{}]", R::NAME);
    stop::<R>(handle, running).await;
    logged(
        "websocket handler panicked",
        &[
            "ERROR",
            "peer=127.0.0.1:",
            "panic=\"handler gave up on purpose\"",
            "websocket{path=\"/ws\" peer=127.0.0.1:",
        ],
    );
    // What the handler logs nests in the connection's span, peer included.
    logged(
        "handler got a message",
        &["websocket{path=\"/ws\" peer=127.0.0.1:"],
    );
}

async fn a_refusal_over_a_cap_is_logged_with_its_status_and_cap<R: Rt>() {
    let _turn = capture();
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    let server = server.max_connections(0);
    let handle = server.shutdown_handle();
    let running = spawn::<R, _>(server.run(|ws, _| async move {
        let _ = echo(ws).await;
    }));
    let response = http_exchange::<R>(addr, upgrade_request(addr, "").as_bytes()).await;
    assert_eq!(status(&response), 503, "[{}] {response}", R::NAME);
    stop::<R>(handle, running).await;
    logged(
        "websocket handshake refused",
        &[
            "DEBUG",
            "status=503",
            "over capacity: too many open connections",
        ],
    );
}

async fn a_shutdown_logs_its_start_and_its_summary<R: Rt>() {
    let _turn = capture();
    let (server, addr) = server::<R>(upgrader::<R>()).await;
    // The raw client never answers the server's close: aborted.
    let server = server.shutdown_timeout(Duration::from_millis(200));
    let handle = server.shutdown_handle();
    let running = spawn::<R, _>(server.run(|ws, _| async move {
        let _ = echo(ws).await;
    }));
    let mut client = raw_connect::<R>(addr).await;
    client.send(true, OP_TEXT, b"hi").await;
    let echoed = within::<R, _>(Duration::from_secs(5), "echo", client.read_frame()).await;
    assert_frame::<R>(&echoed.expect("echo"), true, OP_TEXT, b"hi");
    let summary = stop::<R>(handle, running).await;
    assert_eq!((summary.closed, summary.aborted), (0, 1), "[{}]", R::NAME);
    logged("websocket server shutting down", &[" INFO ", "open=1"]);
    logged(
        "websocket server shut down",
        &[" INFO ", "closed=0", "aborted=1", "duration="],
    );
}

runtime_tests!(
    a_handler_panic_is_logged_at_error_with_the_peer_in_the_connection_s_span,
    a_refusal_over_a_cap_is_logged_with_its_status_and_cap,
    a_shutdown_logs_its_start_and_its_summary,
);
