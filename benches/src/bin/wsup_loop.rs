//! wsup as the README teaches it, for `cargo xtask bench`: the program of
//! the README's "Use" section, its upgrader and its `recv`/`feed` loop,
//! beside the `echo` example (which relays with `recv_each`),
//! so the report shows what the first code a user writes gets.
//!
//! The loop and the upgrader's settings are the README's, word for word;
//! only the runtime around them is the `echo` example's, as every server of
//! the bench has it: tokio on a current-thread runtime, smol and async-std
//! with connection tasks on their global executors (bounded by
//! `SMOL_THREADS=1` / `ASYNC_STD_THREAD_COUNT=1` and the harness's pinning
//! to one core). The README's program builds `wsup` with its default
//! `tracing` feature and installs no subscriber, so its spans and events
//! are off; this one is built without the feature.
//!
//! With `WSUP_THREADS=N` (N > 1), tokio runs its multi-thread scheduler
//! with N workers (smol's and async-std's global executors take their
//! thread counts from `SMOL_THREADS` and `ASYNC_STD_THREAD_COUNT`).
//!
//! Usage: `wsup_loop tokio|smol|async-std ADDR`; prints `listening on ADDR`
//! once it accepts.

use std::future::Future;
use std::io;
use std::sync::Arc;

use wsup_core::futures_io::{AsyncRead, AsyncWrite};
use wsup_core::runtime::Runtime;
use wsup_core::{Message, Upgrader, WebSocket};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(runtime), Some(addr), None) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: wsup_loop tokio|smol|async-std ADDR");
        std::process::exit(2)
    };
    match runtime.as_str() {
        "tokio" => wsup_benches::tokio_runtime()?.block_on(async {
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            println!("listening on {}", listener.local_addr()?);
            let upgrader = readme_upgrader(wsup_tokio::upgrader());
            let rt: Arc<dyn Runtime> = Arc::new(wsup_tokio::TokioRuntime);
            wsup_tokio::serve(listener, upgrader, move |ws, _| readme_loop(ws, &rt)).await
        }),
        "smol" => smol::block_on(async {
            let listener = smol::net::TcpListener::bind(&addr).await?;
            println!("listening on {}", listener.local_addr()?);
            let upgrader = readme_upgrader(wsup_smol::upgrader());
            let rt: Arc<dyn Runtime> = Arc::new(wsup_smol::SmolRuntime);
            wsup_smol::serve(listener, upgrader, move |ws, _| readme_loop(ws, &rt)).await
        }),
        "async-std" => async_std::task::block_on(async {
            let listener = async_std::net::TcpListener::bind(&addr).await?;
            println!("listening on {}", listener.local_addr()?);
            let upgrader = readme_upgrader(wsup_async_std::upgrader());
            let rt: Arc<dyn Runtime> = Arc::new(wsup_async_std::AsyncStdRuntime);
            wsup_async_std::serve(listener, upgrader, move |ws, _| readme_loop(ws, &rt)).await
        }),
        other => {
            eprintln!("wsup_loop: unknown runtime `{other}`");
            std::process::exit(2)
        }
    }
}

/// The README's settings on `upgrader` (the binding's, with its timers).
fn readme_upgrader(upgrader: Upgrader) -> Upgrader {
    upgrader
        .subprotocols(["chat.v2", "chat.v1"])
        .max_message_size(4 << 20)
}

/// The README's handler: `recv`, and `feed` each text or binary message
/// back (the connection writes what is queued when `recv` would wait).
/// To compare idioms: with `WSUP_LOOP_SEND=1` in the environment, `send`,
/// a write per message; with `WSUP_LOOP_FORWARD=1`, the split halves as
/// `Stream` and `Sink`, the data messages forwarded from one to the other,
/// as async-tungstenite's `echo-server` example does; with
/// `WSUP_LOOP_TASKS=1`, the split halves in two tasks (spawned on `rt`),
/// the reader's data messages passed to the writer over a channel, the
/// writer flushing when the channel is empty, so the halves can run on two
/// threads at once. A function returning
/// an `async move` block, as the README's closure does: an `async fn`
/// would hold the connection twice in its future (the argument, and the
/// local it is moved to).
// Deliberately not an `async fn` (see above).
#[allow(clippy::manual_async_fn)]
fn readme_loop<T>(mut ws: WebSocket<T>, rt: &Arc<dyn Runtime>) -> impl Future<Output = ()> + Send
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let on = |var| std::env::var_os(var).is_some_and(|v| v == "1");
    let (send, forward) = (on("WSUP_LOOP_SEND"), on("WSUP_LOOP_FORWARD"));
    let tasks = on("WSUP_LOOP_TASKS").then(|| rt.clone());
    async move {
        if let Some(rt) = tasks {
            let (mut reader, mut writer) = ws.split();
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(64);
            rt.spawn(Box::pin(async move {
                while let Some(msg) = rx.recv().await {
                    let mut fed = writer.feed(msg).await;
                    while let (Ok(()), Ok(msg)) = (&fed, rx.try_recv()) {
                        fed = writer.feed(msg).await;
                    }
                    if fed.is_err() || writer.flush().await.is_err() {
                        return;
                    }
                }
            }));
            while let Ok(msg) = reader.recv().await {
                if msg.is_data() && tx.send(msg).await.is_err() {
                    return;
                }
            }
            return;
        }
        if forward {
            use futures_util::{future, StreamExt, TryStreamExt};
            let (reader, writer) = ws.split();
            let data = |m: &Message| future::ready(m.is_data());
            let _ = reader.try_filter(data).forward(writer).await;
            return;
        }
        while let Ok(msg) = ws.recv().await {
            if let Message::Text(_) | Message::Binary(_) = msg {
                let sent = match send {
                    true => ws.send(msg).await,
                    // Queued; written when `recv` would next wait.
                    false => ws.feed(msg).await,
                };
                if sent.is_err() {
                    break;
                }
            }
        }
    }
}
