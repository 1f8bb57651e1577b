//! The seed program: an HTTP server on 127.0.0.1:8888 where `GET /` answers
//! `Hello World` and `/ws` upgrades to an echo WebSocket.
//!
//! Plain requests are answered by a small fallback handler on the raw path;
//! this is not a general HTTP server.

use std::sync::Arc;

use wsup::http::{Response, StatusCode};
use wsup::tokio::{upgrader, TokioIo};
use wsup::{Bytes, RawStream, Upgrader};

fn plain(status: StatusCode, body: &'static str) -> Response<Bytes> {
    let mut res = Response::new(Bytes::from_static(body.as_bytes()));
    *res.status_mut() = status;
    res.headers_mut().insert("content-type", "text/plain; charset=utf-8".parse().expect("static"));
    res
}

async fn handle(upgrader: Arc<Upgrader>, stream: tokio::net::TcpStream) {
    let Ok(req) = upgrader.read_request(RawStream::new(TokioIo::new(stream))).await else { return };
    match req.parts().uri.path() {
        "/ws" => {
            let Ok(mut ws) = req.upgrade().await else { return };
            while let Ok(msg) = ws.recv().await {
                if msg.is_data() && ws.send(msg).await.is_err() {
                    break;
                }
            }
        }
        "/" => {
            let _ = req.respond(plain(StatusCode::OK, "Hello World")).await;
        }
        _ => {
            let _ = req.respond(plain(StatusCode::NOT_FOUND, "Not Found")).await;
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8888".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let upgrader = Arc::new(upgrader());
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(handle(upgrader.clone(), stream));
    }
}
