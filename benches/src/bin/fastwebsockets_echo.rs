//! The fastest Rust peer in `cargo xtask bench`: fastwebsockets' echo
//! server, as its `echo_server` example writes it. hyper serves each
//! connection's HTTP/1.1 request with upgrades on; the service answers with
//! `fastwebsockets::upgrade::upgrade` and spawns the echo, which reads whole
//! messages through a `FragmentCollector` and writes each back with
//! `write_frame`, in a task that `tokio::task::unconstrained` leaves out of
//! tokio's cooperative budget, as the example does. The connection keeps
//! fastwebsockets' defaults: `set_auto_close(true)` and `set_auto_pong(true)`
//! (closes and pings answered by the library), vectored writes above 1 KiB.
//! `write_frame` writes each message to the socket as it is called, with no
//! buffer to flush: one write per echoed message.
//!
//! Usage: `fastwebsockets_echo ADDR`; prints `listening on ADDR` once it
//! accepts. fastwebsockets runs on tokio only: a current-thread runtime, as
//! wsup's tokio binding and the other baselines are benched
//! (`wsup_benches::baseline`).

use fastwebsockets::upgrade::{self, UpgradeFut};
use fastwebsockets::{FragmentCollector, OpCode, WebSocketError};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use wsup_benches::baseline;

fn main() -> std::io::Result<()> {
    let (Some(addr), None) = (std::env::args().nth(1), std::env::args().nth(2)) else {
        eprintln!("usage: fastwebsockets_echo ADDR");
        std::process::exit(2);
    };
    baseline::serve_tokio(&addr, |stream| async move {
        let io = TokioIo::new(stream);
        let _ = http1::Builder::new()
            .serve_connection(io, service_fn(server_upgrade))
            .with_upgrades()
            .await;
    })
}

/// Answers the upgrade request and spawns the echo on the upgraded stream.
async fn server_upgrade(
    mut req: Request<Incoming>,
) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, fut) = upgrade::upgrade(&mut req)?;
    tokio::spawn(tokio::task::unconstrained(handle_client(fut)));
    Ok(response)
}

/// Echoes text and binary messages until the peer closes or an error.
async fn handle_client(fut: UpgradeFut) -> Result<(), WebSocketError> {
    let mut ws = FragmentCollector::new(fut.await?);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
    Ok(())
}
