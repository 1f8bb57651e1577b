//! The seed program on axum: `GET /` answers `Hello World` and `/ws`
//! upgrades to an echo WebSocket through wsup's axum extractor (with
//! permessage-deflate, the same-origin check and keepalive, from the
//! upgrader in the router's state), over HTTP/1.1 or HTTP/2.
//!
//! The router is served by hyper under wsup's server (`run_connections`):
//! its accept loop, caps, TLS and graceful shutdown. A connection's task
//! lasts until the WebSockets upgraded on it end, so they count against
//! the caps and the shutdown waits for them; they are attached to the
//! shutdown, so that they go away with 1001. (Over HTTP/2 one connection
//! can carry several WebSockets, up to its 16 concurrent streams, and
//! counts once against `--max-connections`.) Usage:
//! `hello-axum [ADDR] [FLAGS]` (default 127.0.0.1:8888), the flags as
//! `echo`'s (`--tls CERT.pem KEY.pem` serves `https://` and `wss://`).

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::response::Response;
use axum::routing::{any, get};
use axum::Extension;
use axum::Router;
use futures_util::future::{select, Either};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::sync::mpsc;
use wsup::axum::WebSocketUpgrade;
use wsup::deflate::DeflateConfig;
use wsup::futures_io::{AsyncRead, AsyncWrite};
use wsup::hyper::rt::FuturesIo;
use wsup::server::Shutdown;
use wsup::Upgrader;
use wsup_examples::ServerArgs;

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

/// Held by each WebSocket of a connection: the connection's task waits
/// until every one is dropped.
#[derive(Clone)]
struct Upgraded {
    _sender: mpsc::Sender<()>,
}

async fn ws(
    State(state): State<AppState>,
    Extension(held): Extension<Upgraded>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |mut ws| async move {
        let _held = held;
        state.shutdown.attach(&mut ws);
        while let Ok(msg) = ws.recv().await {
            if msg.is_data() && ws.feed(msg).await.is_err() {
                break;
            }
        }
    })
}

/// Serves one connection with the router, HTTP/1.1 or HTTP/2, until it
/// ends or the server shuts down (hyper finishes what is in progress),
/// then until the WebSockets upgraded on it end.
async fn serve<T>(app: Router, io: T, shutdown: Shutdown)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (held, mut all_dropped) = mpsc::channel::<()>(1);
    {
        let app = app.layer(Extension(Upgraded { _sender: held }));
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // hyper's timers need a timer: without one it reads a request head
        // for as long as the client takes.
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT);
        builder
            .http2()
            .timer(TokioTimer::new())
            .enable_connect_protocol()
            .max_concurrent_streams(H2_STREAMS)
            .keep_alive_interval(H2_KEEPALIVE)
            .keep_alive_timeout(H2_KEEPALIVE);
        let conn = builder
            .serve_connection_with_upgrades(FuturesIo::new(io), TowerToHyperService::new(app));
        let mut conn = pin!(conn);
        if let Either::Right(_) = select(conn.as_mut(), pin!(shutdown.started())).await {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
        // The connection (and the router it held, with its sender) is
        // dropped here.
    }
    // Every sender gone: the WebSockets of this connection ended.
    let _ = all_dropped.recv().await;
}

/// How long hyper waits for a request head: the upgrader's default
/// handshake timeout.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2: concurrent streams per connection, each of which may be a
/// WebSocket.
const H2_STREAMS: u32 = 16;
/// HTTP/2: a ping after this long with nothing received, and the
/// connection closed when it is not answered within as long.
const H2_KEEPALIVE: Duration = Duration::from_secs(20);

fn main() -> std::io::Result<()> {
    let compress = |upgrader: Upgrader| upgrader.compression(DeflateConfig::enabled());
    ServerArgs::run_http("hello-axum", compress, |server, upgrader, tls| async move {
        let shutdown = server.shutdown_handle();
        let state = AppState {
            upgrader: Arc::new(upgrader.server_stats(server.stats())),
            shutdown: shutdown.clone(),
        };
        let app = Router::new()
            .route("/", get(|| async { "Hello World" }))
            .route("/ws", any(ws))
            .with_state(state);
        Ok(match tls {
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
        })
    })
}
