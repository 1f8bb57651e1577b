//! The baseline of `cargo xtask bench --fanout`: the fan-out axum,
//! actix-ws and tokio-tungstenite users write today. One
//! `tokio::sync::broadcast` channel; each subscriber's socket is split,
//! a task per subscriber forwards what the channel yields with `send`, and
//! the connection's own task reads until the peer goes; the publisher's
//! messages are sent into the channel as they arrive (as axum's `chat`
//! example does, with a larger channel: the load generator never has more
//! than its window in flight, so no subscriber lags).
//!
//! Usage: `fanout_tungstenite ADDR`; prints `listening on ADDR` once it
//! accepts. The client asking for `/pub` is the publisher
//! (`wsup_benches::fanout`). tokio on one thread, as the other servers.

use std::io;

use futures_util::future::{self, Either};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;
use wsup_benches::fanout::{self, PUBLISHER_PATH};

/// The channel's capacity: well above the load generator's window.
const CAPACITY: usize = 1024;

fn main() -> io::Result<()> {
    fanout::serve_on_tokio("fanout_tungstenite", |listener| async move {
        let (tx, _) = broadcast::channel(CAPACITY);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve(stream, tx.clone()));
        }
    })
}

async fn serve(stream: TcpStream, tx: broadcast::Sender<Message>) {
    let mut publisher = false;
    // The signature is tungstenite's `Callback`, its error a whole response.
    #[allow(clippy::result_large_err)]
    let route = |request: &Request, response: Response| {
        publisher = request.uri().path() == PUBLISHER_PATH;
        Ok(response)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, route).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    if publisher {
        while let Some(Ok(msg)) = stream.next().await {
            if msg.is_binary() || msg.is_text() {
                let _ = tx.send(msg);
            }
        }
        return;
    }
    let mut rx = tx.subscribe();
    let mut send_task = tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(msg) => {
                    if sink.send(msg).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
    // The peer left (or the forwarder failed): end the other half too.
    let reader = std::pin::pin!(async { while let Some(Ok(_)) = stream.next().await {} });
    if let Either::Left(_) = future::select(reader, &mut send_task).await {
        send_task.abort();
    }
}
