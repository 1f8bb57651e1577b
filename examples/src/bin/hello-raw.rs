//! The seed program with wsup alone, no HTTP library: `hello` without
//! hyper. On 127.0.0.1:8888, `GET /` answers `Hello World` and `/ws`
//! upgrades to an echo WebSocket.
//!
//! Plain requests are answered by a small fallback handler on the raw path;
//! this is not a general HTTP server. Usage: `hello-raw [ADDR] [FLAGS]`, the
//! flags as `echo`'s. It runs on the server builder (`run_requests`: the
//! handler routes each request), so it shuts down gracefully on SIGINT or
//! SIGTERM, WebSocket connections closed with 1001.

use wsup_examples::{hello, ServerArgs};

fn main() -> std::io::Result<()> {
    ServerArgs::run_http(
        "hello-raw",
        |upgrader| upgrader,
        |server, _, tls| async {
            Ok(match tls {
                Some(tls) => {
                    server
                        .acceptor(tls)
                        .run_requests(|request, _| hello(request))
                        .await?
                }
                None => server.run_requests(|request, _| hello(request)).await?,
            })
        },
    )
}
