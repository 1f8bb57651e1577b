//! Shared pieces of the wsup examples: the echo loop, the plain-HTTP
//! fallback, and the choice of runtime (tokio, then smol, then async-std,
//! among the `runtime-*` features enabled).

use wsup::http::{Response, StatusCode};
use wsup::{Bytes, Message, UpgradeSource, Upgrader};

/// Which runtime this build of the examples runs on.
pub const RUNTIME: &str = if cfg!(feature = "runtime-tokio") {
    "tokio"
} else if cfg!(feature = "runtime-smol") {
    "smol"
} else if cfg!(feature = "runtime-async-std") {
    "async-std"
} else {
    "none"
};

/// Echoes text and binary messages until the connection ends.
///
/// `feed` queues each echo; the connection writes the queue out as soon as
/// `recv` would wait for input, so the echoes of one batch share a syscall.
pub async fn echo<T>(mut ws: wsup::WebSocket<T>)
where
    T: futures_io_alias::AsyncRead + futures_io_alias::AsyncWrite + Unpin,
{
    while let Ok(msg) = ws.recv().await {
        if let Message::Text(_) | Message::Binary(_) = msg {
            if ws.feed(msg).await.is_err() {
                return;
            }
        }
    }
}

/// `futures_io`'s traits, through the re-export in wsup-core's dependencies.
pub mod futures_io_alias {
    pub use wsup::futures_io::{AsyncRead, AsyncWrite};
}

fn plain(status: StatusCode, body: &'static str) -> Response<Bytes> {
    let mut res = Response::new(Bytes::from_static(body.as_bytes()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        "content-type",
        "text/plain; charset=utf-8".parse().expect("static"),
    );
    res
}

/// The `hello` program's handler: `GET /` answers `Hello World`, `/ws`
/// upgrades to an echo WebSocket, anything else is a 404.
pub async fn hello<S: UpgradeSource>(upgrader: &Upgrader, source: S) {
    let Ok(req) = upgrader.read_request(source).await else {
        return;
    };
    match req.parts().uri.path() {
        "/ws" => {
            if let Ok(mut ws) = req.upgrade().await {
                while let Ok(msg) = ws.recv().await {
                    if msg.is_data() && ws.send(msg).await.is_err() {
                        break;
                    }
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
