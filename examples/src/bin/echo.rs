//! Echo server: every text and binary message is sent back as received.
//!
//! Usage: `echo [ADDR]` (default `127.0.0.1:9001`); prints `listening on ADDR`
//! once it accepts. Conformance runs and benchmarks drive this program.
//! Runs on one thread: per-core efficiency is what the benchmarks measure.

use wsup::tokio::{serve, upgrader, WebSocket};
use wsup::{Error, Message, OriginPolicy};

async fn echo(mut ws: WebSocket) {
    loop {
        match ws.recv().await {
            // `feed` queues the echo; it goes out, together with the other
            // echoes of this batch, as soon as `recv` would wait for input.
            Ok(msg @ (Message::Text(_) | Message::Binary(_))) => {
                if ws.feed(msg).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(Error::ConnectionClosed) | Err(_) => return,
        }
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        let upgrader = upgrader().origin_policy(OriginPolicy::AllowAll);
        serve(listener, upgrader, |ws, _peer| echo(ws)).await
    })
}
