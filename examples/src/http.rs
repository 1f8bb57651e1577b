//! The `hello` program on hyper: one HTTP/1.1 connection served by hyper
//! (keep-alive, `HEAD`, 404, 405), its `/ws` upgraded by wsup, and the
//! WebSocket run in the same task once hyper hands the connection over,
//! so that the server's graceful shutdown covers both.

use std::convert::Infallible;
use std::pin::pin;
use std::sync::{Arc, Mutex};

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
use wsup::{CloseCode, CloseFrame, Runtime, Upgrader};

/// How long hyper waits for a request head (a keep-alive connection's
/// next one included): the upgrader's default handshake timeout.
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the connections of a `hello` server share.
#[derive(Debug, Clone)]
pub struct Hello {
    pub upgrader: Arc<Upgrader>,
    pub runtime: Arc<dyn Runtime>,
    pub shutdown: Shutdown,
}

impl Hello {
    /// Serves one connection: HTTP until hyper hands it over for a
    /// WebSocket (then echoes) or it ends; on shutdown, hyper finishes
    /// the request in progress and closes, and a WebSocket goes away with
    /// 1001.
    pub async fn serve<T>(self, io: T)
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let upgraded: Arc<Mutex<Option<Upgrading>>> = Arc::default();
        let service = {
            let (upgrader, upgraded) = (self.upgrader.clone(), upgraded.clone());
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
            if let Ok(ws) = upgrading.await {
                echo_until_shutdown(ws, &self.shutdown).await;
            }
        }
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// `/`: Hello World (GET, HEAD; 405 otherwise); `/ws`: the upgrade; any
/// other path: 404.
fn route(
    upgrader: &Upgrader,
    upgraded: &Mutex<Option<Upgrading>>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
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
        "/ws" => match wsup::hyper::upgrade(upgrader, req) {
            Ok((response, upgrading)) => {
                *upgraded.lock().unwrap_or_else(|p| p.into_inner()) = Some(upgrading);
                response
            }
            Err(refused) => refused.into_response(),
        },
        _ => text(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// Echoes data messages until the connection ends, or the server shuts
/// down (then closes with 1001 and waits for the peer's answer).
async fn echo_until_shutdown(mut ws: WebSocket, shutdown: &Shutdown) {
    loop {
        let msg = match select(pin!(ws.recv()), pin!(shutdown.started())).await {
            Either::Left((Ok(msg), _)) => msg,
            Either::Left((Err(_), _)) => return,
            Either::Right(_) => break,
        };
        if msg.is_data() && ws.send(msg).await.is_err() {
            return;
        }
    }
    let away = CloseFrame::new(CloseCode::GOING_AWAY, "server shutting down");
    if ws.close(Some(away)).await.is_ok() {
        while ws.recv().await.is_ok() {}
    }
}
