//! The seed program: an HTTP server on 127.0.0.1:8888 where `GET /` answers
//! `Hello World` and `/ws` upgrades to an echo WebSocket.
//!
//! HTTP is hyper's (keep-alive, `HEAD`, 404, 405), on whichever runtime
//! this build has; `/ws` is upgraded by a wsup `Upgrader` through
//! `wsup::hyper`. The accept loop, the connection caps and the graceful
//! shutdown on SIGINT or SIGTERM are wsup's server
//! (`run_connections`). Usage: `hello [ADDR] [FLAGS]`, the flags as
//! `echo`'s (`--tls CERT.pem KEY.pem` serves `https://` and `wss://`).

use std::sync::Arc;

use wsup::deflate::DeflateConfig;
use wsup_examples::http::{echo_messages, hello_routes, Http};
use wsup_examples::{report_shutdown, rt, ServerArgs};

fn main() -> std::io::Result<()> {
    wsup_examples::log_to_stderr();
    let args = ServerArgs::from_env("hello", "127.0.0.1:8888");
    let tls = args.tls_acceptor_or_exit("hello");
    rt::block_on(async {
        let listener = args.listen_http().await?;
        let upgrader = args
            .apply(rt::upgrader())
            .compression(DeflateConfig::enabled());
        let server = args.server(listener, upgrader.clone());
        let http = Http {
            upgrader: Arc::new(upgrader.server_stats(server.stats())),
            runtime: rt::runtime(),
            shutdown: server.shutdown_handle(),
        };
        let summary = match tls {
            Some(tls) => {
                server
                    .acceptor(tls)
                    .run_connections(move |io, _| {
                        http.clone().serve(io, hello_routes, echo_messages)
                    })
                    .await?
            }
            None => {
                server
                    .run_connections(move |io, _| {
                        http.clone().serve(io, hello_routes, echo_messages)
                    })
                    .await?
            }
        };
        report_shutdown(summary);
        Ok(())
    })
}
