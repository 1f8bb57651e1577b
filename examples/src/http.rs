//! HTTP on hyper for the examples: one HTTP/1.1 connection served by hyper
//! (keep-alive, `HEAD`), a request its router upgrades through
//! `wsup::hyper`, and the WebSocket run in the same task once hyper hands
//! the connection over, so that the server's graceful shutdown covers
//! both. `hello` routes `/` and `/ws`; `echo --hyper` upgrades any path.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{select, Either};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use wsup::futures_io::{AsyncRead, AsyncWrite};
use wsup::hyper::rt::{FuturesIo, RuntimeTimer};
use wsup::hyper::{Upgrading, WebSocket};
use wsup::server::Shutdown;
use wsup::{Runtime, Upgrader};

/// How long hyper waits for a request head (a keep-alive connection's
/// next one included): the upgrader's default handshake timeout.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A response body.
pub type Body = Full<Bytes>;

/// What an HTTP connection of the examples needs: the upgrader, the
/// runtime (hyper's timer), and the server's shutdown.
#[derive(Debug, Clone)]
pub struct Http {
    pub upgrader: Arc<Upgrader>,
    pub runtime: Arc<dyn Runtime>,
    pub shutdown: Shutdown,
}

/// Where a router puts the connection it upgraded.
pub type UpgradeSlot = Mutex<Option<Upgrading>>;

impl Http {
    /// Serves one connection: requests go to `route` until one is upgraded
    /// (then `websocket` runs with the connection, in this task) or the
    /// connection ends. On shutdown, hyper finishes the request in
    /// progress and closes, and the WebSocket goes away with 1001 (it is
    /// attached to the shutdown).
    pub async fn serve<T, R, W, WF>(self, io: T, route: R, websocket: W)
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        R: Fn(&Upgrader, &UpgradeSlot, Request<Incoming>) -> Response<Body> + Send + Sync + 'static,
        W: FnOnce(WebSocket) -> WF,
        WF: Future<Output = ()>,
    {
        let upgraded: Arc<UpgradeSlot> = Arc::default();
        let service = {
            let (upgrader, upgraded) = (self.upgrader.clone(), upgraded.clone());
            let route = Arc::new(route);
            service_fn(move |req| {
                let response = route(&upgrader, &upgraded, req);
                async move { Ok::<_, Infallible>(response) }
            })
        };
        let conn = http1::Builder::new()
            .timer(RuntimeTimer::new(self.runtime.clone()))
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(FuturesIo::new(io), service)
            .with_upgrades();
        let mut conn = pin!(conn);
        if let Either::Right(_) = select(conn.as_mut(), pin!(self.shutdown.started())).await {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
        let upgrading = upgraded.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(upgrading) = upgrading {
            if let Ok(mut ws) = upgrading.await {
                self.shutdown.attach(&mut ws);
                websocket(ws).await;
            }
        }
    }
}

/// Upgrades `req` with `upgrader`, the connection to `slot`: the `101`,
/// or the upgrader's refusal.
pub fn upgrade(upgrader: &Upgrader, slot: &UpgradeSlot, req: Request<Incoming>) -> Response<Body> {
    match wsup::hyper::upgrade(upgrader, req) {
        Ok((response, upgrading)) => {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(upgrading);
            response
        }
        Err(refused) => refused.into_response(),
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut res = Response::new(Full::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// `hello`'s routes: `/`: Hello World (GET, HEAD; 405 otherwise); `/ws`:
/// the upgrade; any other path: 404.
pub fn hello_routes(
    upgrader: &Upgrader,
    slot: &UpgradeSlot,
    req: Request<Incoming>,
) -> Response<Body> {
    match req.uri().path() {
        "/" => match *req.method() {
            Method::GET | Method::HEAD => text(StatusCode::OK, "Hello World"),
            _ => {
                let mut res = text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
                res.headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
                res
            }
        },
        "/ws" => upgrade(upgrader, slot, req),
        _ => text(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// Echoes data messages until the connection ends.
pub async fn echo_messages(mut ws: WebSocket) {
    while let Ok(msg) = ws.recv().await {
        if msg.is_data() && ws.feed(msg).await.is_err() {
            break;
        }
    }
}
