//! Shared pieces of the wsup examples: the echo loop, the plain-HTTP
//! fallback, and the choice of runtime (tokio, then smol, then async-std,
//! among the `runtime-*` features enabled).
//!
//! Each program is written once against [`rt`], the runtime of this build:
//! the same few items (`block_on`, `bind`, `shutdown_signal`, and the
//! binding's `Server` and `upgrader`) in one file per runtime. Built without
//! a runtime, the programs say so when run and exit with status 2.

use wsup::http::{Response, StatusCode};
use wsup::{Bytes, PendingUpgrade, UpgradeSource, Upgrader};

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

mod args;
pub use args::{report_shutdown, ServerArgs, USAGE_FLAGS};

pub mod chat;
pub mod http;

/// Logs to stderr what `RUST_LOG` lets through (default `info`: timeouts,
/// protocol errors; `RUST_LOG=wsup_core=debug` adds every refused handshake
/// and every connection's end). Standard output stays the program's own.
///
/// Without `RUST_LOG` the filter is a plain level, not an `EnvFilter`: the
/// same lines are logged, but an `EnvFilter` takes a lock each time a
/// connection's task enters or leaves its span (once per poll), to look
/// for span directives there are none of.
pub fn log_to_stderr() {
    let fmt = tracing_subscriber::fmt().with_writer(std::io::stderr);
    match tracing_subscriber::EnvFilter::try_from_default_env() {
        Ok(filter) => fmt.with_env_filter(filter).init(),
        Err(_) => fmt
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .init(),
    }
}

/// The runtime of this build.
#[cfg(feature = "runtime-tokio")]
#[path = "rt/tokio.rs"]
pub mod rt;

/// The runtime of this build.
#[cfg(all(feature = "runtime-smol", not(feature = "runtime-tokio")))]
#[path = "rt/smol.rs"]
pub mod rt;

/// The runtime of this build.
#[cfg(all(
    feature = "runtime-async-std",
    not(any(feature = "runtime-tokio", feature = "runtime-smol"))
))]
#[path = "rt/async_std.rs"]
pub mod rt;

/// SIGINT and SIGTERM where the runtime has no signals of its own.
#[cfg(all(
    any(feature = "runtime-smol", feature = "runtime-async-std"),
    not(feature = "runtime-tokio")
))]
mod signals {
    /// Resolves on SIGINT or SIGTERM: the signal to shut down gracefully.
    /// (Without signal handlers, it never resolves.)
    pub async fn shutdown_signal() {
        use async_signal::{Signal, Signals};
        use futures_util::StreamExt;
        match Signals::new([Signal::Int, Signal::Term]) {
            Ok(mut signals) => {
                let _ = signals.next().await;
            }
            Err(_) => std::future::pending().await,
        }
    }
}

/// The runtime of this build: none.
#[cfg(not(any(
    feature = "runtime-tokio",
    feature = "runtime-smol",
    feature = "runtime-async-std"
)))]
#[path = "rt/none.rs"]
pub mod rt;

/// Echoes text and binary messages until the connection ends.
///
/// `recv_each` hands each message that arrived whole in a read to the
/// handler where it lies in the read buffer, and `relay` queues its echo:
/// no copy but the echo's, no allocation and no reference count per
/// message. The connection writes the queue out as soon as it would wait
/// for input, so the echoes of one batch share a syscall. A message whose
/// first frame is larger than one read (256 KiB) is relayed in pieces as
/// they arrive, as `recv_chunk` hands them out, so its echo starts before
/// its end is read.
///
/// Serve it with [`echo_upgrader`]'s setting: a peer that sends a whole
/// large message before it reads the echo would otherwise stall against it.
///
/// Written as a function returning an `async move` block rather than as an
/// `async fn`: an `async fn` keeps its argument twice in its future (the
/// argument, and the local it is moved to), so each idle connection would
/// hold a second `WebSocket`'s worth of memory (about 1 KiB).
// Deliberately not an `async fn` (see above).
#[allow(clippy::manual_async_fn)]
pub fn echo<T>(mut ws: wsup::WebSocket<T>) -> impl std::future::Future<Output = ()>
where
    T: futures_io_alias::AsyncRead + futures_io_alias::AsyncWrite + Unpin,
{
    async move { while ws.recv_each(|msg, out| out.relay(&msg)).await.is_ok() {} }
}

/// The message limit the Autobahn cases need (messages of 16 MiB), above
/// the library's default (1 MiB): the `echo` server and the
/// `autobahn-client` set it, and [`CONFORMANCE_MAX_FRAME`], explicitly.
pub const CONFORMANCE_MAX_MESSAGE: usize = 64 << 20;
/// The frame limit the Autobahn cases need (16 MiB frames).
pub const CONFORMANCE_MAX_FRAME: usize = 16 << 20;

/// `upgrader` with the conformance limits ([`CONFORMANCE_MAX_MESSAGE`],
/// [`CONFORMANCE_MAX_FRAME`]).
pub fn conformance_limits(upgrader: Upgrader) -> Upgrader {
    upgrader
        .max_message_size(CONFORMANCE_MAX_MESSAGE)
        .max_frame_size(CONFORMANCE_MAX_FRAME)
}

/// `upgrader` set up for [`echo`]: output may back up to `max_message_size`
/// before the echo stops reading, about what a whole-message echo holds at
/// its peak (one message read, the one before it queued).
pub fn echo_upgrader(upgrader: Upgrader) -> Upgrader {
    let max = upgrader.websocket_config().max_message_size();
    upgrader.write_backlog_limit(max)
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
pub async fn hello<S: UpgradeSource>(req: PendingUpgrade<'_, S>) {
    match req.parts().uri.path() {
        "/ws" => {
            if let Ok(mut ws) = req.upgrade().await {
                while let Ok(msg) = ws.recv().await {
                    if msg.is_data() && ws.feed(msg).await.is_err() {
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
