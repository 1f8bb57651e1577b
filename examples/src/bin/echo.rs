//! Echo server: every text and binary message is sent back as received.
//!
//! Usage: `echo [ADDR] [FLAGS]` (default `127.0.0.1:9001`); prints
//! `listening on ADDR` once it accepts. Flags (`--flag V` or `--flag=V`;
//! seconds may be decimal): `--keepalive S` (ping after S seconds with
//! nothing received, drop the peer when nothing arrives within S seconds
//! after it; `0` turns it off), `--idle-timeout S`, `--write-timeout S`,
//! `--max-connections N` (past it, new clients get 503 with `Retry-After`),
//! `--shutdown-timeout S` (how long a graceful shutdown waits for
//! connections to close), `--hyper` (HTTP served by hyper, any path
//! upgraded through `wsup::hyper`: the same echo behind hyper, for the
//! benchmark that compares the two). Without flags: the library's default keepalive
//! and no other timeout, what conformance runs and benchmarks need. They
//! drive this program, on the runtime chosen by the `runtime-*` features of
//! `wsup-examples`.
//!
//! On SIGINT or SIGTERM it shuts down gracefully: it stops accepting, sends
//! every connection a close with 1001, waits for them up to the shutdown
//! timeout, aborts the rest, says so on stderr, and exits 0.

use std::pin::pin;
use std::sync::Arc;

use futures_util::future::{select, Either};
use wsup::server::Shutdown;
use wsup::{CloseCode, CloseFrame, OriginPolicy};
use wsup_examples::http::{upgrade, Http};
use wsup_examples::{echo, echo_upgrader, report_shutdown, rt, ServerArgs};

fn main() -> std::io::Result<()> {
    wsup_examples::log_to_stderr();
    #[cfg(feature = "count-allocs")]
    wsup_testkit::answer_alloc_counts_on_stdin();
    let args = ServerArgs::from_env("echo", "127.0.0.1:9001");
    rt::block_on(async {
        let listener = rt::bind(&args.addr).await?;
        println!("listening on {}", listener.local_addr()?);
        // Compression on for clients that offer it, with every message
        // compressed (no size threshold): the conformance runner checks
        // compressed echoes.
        let upgrader = rt::upgrader()
            .origin_policy(OriginPolicy::AllowAll)
            .compression(wsup::deflate::DeflateConfig::enabled().threshold(0));
        let upgrader = echo_upgrader(args.apply(upgrader));
        let server = args.server(listener, upgrader.clone());
        let summary = if args.hyper {
            let http = Http {
                upgrader: Arc::new(upgrader.server_stats(server.stats())),
                runtime: rt::runtime(),
                shutdown: server.shutdown_handle(),
            };
            server
                .run_connections(move |io, _| http.clone().serve(io, upgrade, echo_until_shutdown))
                .await?
        } else {
            server.run(|ws, _| echo(ws)).await?
        };
        report_shutdown(summary);
        Ok(())
    })
}

/// The echo of [`echo`], behind hyper: until the connection ends or the
/// server shuts down (then a close 1001).
async fn echo_until_shutdown(mut ws: wsup::hyper::WebSocket, shutdown: Shutdown) {
    let mut stop = pin!(shutdown.started());
    loop {
        let chunk = match select(pin!(ws.recv_chunk()), stop.as_mut()).await {
            Either::Left((Ok(chunk), _)) => chunk,
            Either::Left((Err(_), _)) => return,
            Either::Right(_) => break,
        };
        if ws.feed_chunk(chunk).await.is_err() {
            return;
        }
    }
    let away = CloseFrame::new(CloseCode::GOING_AWAY, "server shutting down");
    if ws.close(Some(away)).await.is_ok() {
        while ws.recv().await.is_ok() {}
    }
}

/// Bench builds only (`--features count-allocs`, used by `cargo xtask
/// bench`): a global allocator that counts, and a thread that answers each
/// line on stdin with `allocs COUNT BYTES`. Normal builds are untouched.
#[cfg(feature = "count-allocs")]
#[global_allocator]
static GLOBAL: wsup_testkit::CountingAlloc = wsup_testkit::CountingAlloc;
