//! Echo server: every text and binary message is sent back as received.
//! It accepts messages up to 64 MiB and frames up to 16 MiB (what the
//! Autobahn cases need; the library's defaults are 1 MiB).
//!
//! Usage: `echo [ADDR] [FLAGS]` (default `127.0.0.1:9001`); prints
//! `listening on ADDR` once it accepts. Flags (`--flag V` or `--flag=V`;
//! seconds may be decimal): `--keepalive S` (ping after S seconds with
//! nothing received, drop the peer when nothing arrives within S seconds
//! after it; `0` turns it off), `--idle-timeout S`, `--write-timeout S`,
//! `--max-connections N` (past it, new clients get 503 with `Retry-After`),
//! `--shutdown-timeout S` (how long a graceful shutdown waits for
//! connections to close), `--max-message BYTES` (the largest message
//! accepted; the write backlog follows it, see `echo_upgrader`),
//! `--socket-buffer BYTES` (each connection's kernel send and receive
//! buffers, fixed), `--tls CERT.pem KEY.pem` (serve `wss://` with
//! this certificate chain and private key; the TLS handshake runs in each
//! connection's task, under the handshake timeout), `--hyper` (HTTP
//! served by hyper, any path upgraded through `wsup::hyper`: the same echo
//! behind hyper, for the benchmark that compares the two; with `--tls`
//! too). Without flags: the library's default keepalive
//! and no other timeout, what conformance runs and benchmarks need. They
//! drive this program, on the runtime chosen by the `runtime-*` features of
//! `wsup-examples`.
//!
//! On SIGINT or SIGTERM it shuts down gracefully: it stops accepting, sends
//! every connection a close with 1001, waits for them up to the shutdown
//! timeout, aborts the rest, says so on stderr, and exits 0.

use std::sync::Arc;

use wsup::OriginPolicy;
use wsup_examples::http::{upgrade, Http};
use wsup_examples::{conformance_limits, echo, echo_upgrader, report_shutdown, rt, ServerArgs};

fn main() -> std::io::Result<()> {
    wsup_examples::log_to_stderr();
    #[cfg(feature = "count-allocs")]
    wsup_testkit::answer_alloc_counts_on_stdin();
    let args = ServerArgs::from_env("echo", "127.0.0.1:9001");
    let tls = args.tls_acceptor_or_exit("echo");
    rt::block_on(async {
        let listener = args.bind().await?;
        println!("listening on {}", listener.local_addr()?);
        // Compression on for clients that offer it, with every message
        // compressed (no size threshold): the conformance runner checks
        // compressed echoes.
        let upgrader = rt::upgrader()
            .origin_policy(OriginPolicy::AllowAll)
            .compression(wsup::deflate::DeflateConfig::enabled().threshold(0));
        let upgrader = echo_upgrader(args.apply(conformance_limits(upgrader)));
        let server = args.server(listener, upgrader.clone());
        let summary = if args.hyper {
            let http = Http {
                upgrader: Arc::new(upgrader.server_stats(server.stats())),
                runtime: rt::runtime(),
                shutdown: server.shutdown_handle(),
            };
            match tls {
                Some(tls) => {
                    server
                        .acceptor(tls)
                        .run_connections(move |io, _| http.clone().serve(io, upgrade, echo))
                        .await?
                }
                None => {
                    server
                        .run_connections(move |io, _| http.clone().serve(io, upgrade, echo))
                        .await?
                }
            }
        } else {
            match tls {
                Some(tls) => server.acceptor(tls).run(|ws, _| echo(ws)).await?,
                None => server.run(|ws, _| echo(ws)).await?,
            }
        };
        report_shutdown(summary);
        Ok(())
    })
}

/// Bench builds only (`--features count-allocs`, used by `cargo xtask
/// bench`): a global allocator that counts, and a thread that answers each
/// line on stdin with `allocs COUNT BYTES`. Normal builds are untouched.
#[cfg(feature = "count-allocs")]
#[global_allocator]
static GLOBAL: wsup_testkit::CountingAlloc = wsup_testkit::CountingAlloc;
