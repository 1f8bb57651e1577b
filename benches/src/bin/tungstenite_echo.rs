//! The baseline of `cargo xtask bench`: an async-tungstenite echo server,
//! in one of two styles.
//!
//! - `batched`: `feed`, and a flush only when no further message is
//!   already readable, so the echoes of one batch share a syscall, as in
//!   wsup's `echo` example. This is what `StreamExt::forward` does in
//!   async-tungstenite's `echo-server` example, written out.
//! - `send`: `while let Some(msg) = ws.next().await { ws.send(msg).await }`,
//!   the loop of async-tungstenite's `autobahn-server` example and the one
//!   most users write; `send` flushes every message.
//!
//! Usage: `tungstenite_echo tokio|smol|async-std batched|send ADDR`; prints
//! `listening on ADDR` once it accepts, like wsup's `echo` example, and has
//! the same shape on each runtime as wsup's binding for it
//! (`wsup_benches::baseline`): tokio on a current-thread runtime; smol and
//! async-std with connection tasks on their global executors (bounded by
//! `SMOL_THREADS=1` / `ASYNC_STD_THREAD_COUNT=1` and the harness's pinning to
//! one core).
//!
//! With `WSUP_BENCH_COUNT_ALLOCS=1` in the environment it counts heap
//! allocations and answers each line on stdin with `allocs COUNT BYTES`.

use async_tungstenite::tungstenite::Message;
use async_tungstenite::WebSocketStream;
use futures_util::{FutureExt, SinkExt, StreamExt};
use wsup_benches::baseline::{self, Handler};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = || -> ! {
        eprintln!("usage: tungstenite_echo tokio|smol|async-std batched|send ADDR");
        std::process::exit(2)
    };
    let (Some(runtime), Some(style), Some(addr)) = (args.next(), args.next(), args.next()) else {
        usage()
    };
    let style = match style.as_str() {
        "batched" => Style::Batched,
        "send" => Style::Send,
        _ => usage(),
    };
    if std::env::var_os("WSUP_BENCH_COUNT_ALLOCS").is_some_and(|v| v == "1") {
        wsup_testkit::answer_alloc_counts_on_stdin();
    }
    baseline::serve("tungstenite_echo", &runtime, &addr, style)
}

/// How the echo loop writes.
#[derive(Debug, Clone, Copy)]
enum Style {
    /// `feed`, and a flush only when the next message is not readable yet.
    Batched,
    /// `send`: a write and a flush per message.
    Send,
}

/// Echoes text and binary messages until the connection ends.
async fn echo<S>(ws: WebSocketStream<S>, style: Style)
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    match style {
        Style::Batched => echo_batched(ws).await,
        Style::Send => echo_send(ws).await,
    }
}

/// `send` per message, as async-tungstenite's `autobahn-server` example.
async fn echo_send<S>(mut ws: WebSocketStream<S>)
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    while let Some(Ok(msg)) = ws.next().await {
        if matches!(msg, Message::Binary(_) | Message::Text(_)) && ws.send(msg).await.is_err() {
            return;
        }
    }
}

/// `feed` queues each echo and the queue is flushed only when the next
/// message is not already readable, so the echoes of one batch share a
/// syscall: the same batching as wsup's `echo` example, which is what a
/// user after throughput writes.
async fn echo_batched<S>(mut ws: WebSocketStream<S>)
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    loop {
        let next = match ws.next().now_or_never() {
            Some(next) => next,
            None => {
                if ws.flush().await.is_err() {
                    return;
                }
                ws.next().await
            }
        };
        let Some(Ok(msg)) = next else { return };
        if matches!(msg, Message::Binary(_) | Message::Text(_)) && ws.feed(msg).await.is_err() {
            return;
        }
    }
}

/// Each connection: the WebSocket handshake, then the echo loop of `self`.
impl Handler for Style {
    async fn tokio(self, stream: tokio::net::TcpStream) {
        if let Ok(ws) = async_tungstenite::tokio::accept_async(stream).await {
            echo(ws, self).await;
        }
    }

    async fn futures_io<S>(self, stream: S)
    where
        S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + Send + 'static,
    {
        if let Ok(ws) = async_tungstenite::accept_async(stream).await {
            echo(ws, self).await;
        }
    }
}

/// Counts allocations once `WSUP_BENCH_COUNT_ALLOCS=1` turns it on; until
/// then, and in normal runs, the cost is one relaxed load per allocation.
#[global_allocator]
static GLOBAL: wsup_testkit::CountingAlloc = wsup_testkit::CountingAlloc;
