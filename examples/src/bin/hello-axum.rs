//! The seed program on axum: `GET /` answers `Hello World` and `/ws`
//! upgrades to an echo WebSocket through wsup's axum extractor (with
//! permessage-deflate, the same-origin check and keepalive, from the
//! upgrader in the router's state). Usage: `hello-axum [ADDR]` (default
//! 127.0.0.1:8888); it shuts down gracefully on SIGINT or SIGTERM.

use std::sync::Arc;

use axum::response::Response;
use axum::routing::get;
use axum::Router;
use wsup::axum::WebSocketUpgrade;
use wsup::deflate::DeflateConfig;

async fn ws(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(|mut ws| async move {
        while let Ok(msg) = ws.recv().await {
            if msg.is_data() && ws.send(msg).await.is_err() {
                break;
            }
        }
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    wsup_examples::log_to_stderr();
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8888".into());
    let upgrader = wsup::tokio::upgrader().compression(DeflateConfig::enabled());
    let app = Router::new()
        .route("/", get(|| async { "Hello World" }))
        .route("/ws", get(ws))
        .with_state(Arc::new(upgrader));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(wsup_examples::rt::shutdown_signal())
        .await
}
