//! The seed program on axum: `GET /` answers `Hello World` and `/ws`
//! upgrades to an echo WebSocket through wsup's axum extractor (with
//! permessage-deflate, the same-origin check and keepalive, from the
//! upgrader in the router's state), over HTTP/1.1 or HTTP/2.
//!
//! The router is served by hyper under wsup's server (`run_connections`):
//! its accept loop, caps, TLS and graceful shutdown, the WebSockets
//! attached to the shutdown so that they go away with 1001. Usage:
//! `hello-axum [ADDR] [FLAGS]` (default 127.0.0.1:8888), the flags as
//! `echo`'s (`--tls CERT.pem KEY.pem` serves `https://` and `wss://`).

use std::pin::pin;
use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::response::Response;
use axum::routing::{any, get};
use axum::Router;
use futures_util::future::{select, Either};
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use wsup::axum::WebSocketUpgrade;
use wsup::deflate::DeflateConfig;
use wsup::futures_io::{AsyncRead, AsyncWrite};
use wsup::hyper::rt::FuturesIo;
use wsup::server::Shutdown;
use wsup::Upgrader;
use wsup_examples::{report_shutdown, rt, ServerArgs};

#[derive(Clone)]
struct AppState {
    upgrader: Arc<Upgrader>,
    shutdown: Shutdown,
}

impl FromRef<AppState> for Arc<Upgrader> {
    fn from_ref(state: &AppState) -> Self {
        state.upgrader.clone()
    }
}

async fn ws(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |mut ws| async move {
        state.shutdown.attach(&mut ws);
        while let Ok(msg) = ws.recv().await {
            if msg.is_data() && ws.send(msg).await.is_err() {
                break;
            }
        }
    })
}

/// Serves one connection with the router, HTTP/1.1 or HTTP/2, until it
/// ends or the server shuts down (hyper finishes what is in progress).
async fn serve<T>(app: Router, io: T, shutdown: Shutdown)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn =
        builder.serve_connection_with_upgrades(FuturesIo::new(io), TowerToHyperService::new(app));
    let mut conn = pin!(conn);
    if let Either::Right(_) = select(conn.as_mut(), pin!(shutdown.started())).await {
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

fn main() -> std::io::Result<()> {
    wsup_examples::log_to_stderr();
    let args = ServerArgs::from_env("hello-axum", "127.0.0.1:8888");
    let tls = args.tls_acceptor_or_exit("hello-axum");
    rt::block_on(async {
        let listener = args.listen_http().await?;
        let upgrader = args
            .apply(rt::upgrader())
            .compression(DeflateConfig::enabled());
        let server = args.server(listener, upgrader.clone());
        let shutdown = server.shutdown_handle();
        let state = AppState {
            upgrader: Arc::new(upgrader.server_stats(server.stats())),
            shutdown: shutdown.clone(),
        };
        let app = Router::new()
            .route("/", get(|| async { "Hello World" }))
            .route("/ws", any(ws))
            .with_state(state);
        let summary = match tls {
            Some(tls) => {
                server
                    .acceptor(tls)
                    .run_connections(move |io, _| serve(app.clone(), io, shutdown.clone()))
                    .await?
            }
            None => {
                server
                    .run_connections(move |io, _| serve(app.clone(), io, shutdown.clone()))
                    .await?
            }
        };
        report_shutdown(summary);
        Ok(())
    })
}
