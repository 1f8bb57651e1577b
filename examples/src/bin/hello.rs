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
use wsup::Upgrader;
use wsup_examples::http::{echo_messages, hello_routes, Http};
use wsup_examples::{rt, ServerArgs};

fn main() -> std::io::Result<()> {
    let compress = |upgrader: Upgrader| upgrader.compression(DeflateConfig::enabled());
    ServerArgs::run_http("hello", compress, |server, upgrader, tls| async move {
        let http = Http {
            upgrader: Arc::new(upgrader.server_stats(server.stats())),
            runtime: rt::runtime(),
            shutdown: server.shutdown_handle(),
        };
        Ok(match tls {
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
        })
    })
}
