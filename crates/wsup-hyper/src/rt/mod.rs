//! hyper's runtime traits over wsup's [`Runtime`] seam, so that a hyper
//! server runs on smol or async-std as it does on tokio (where
//! hyper-util's `TokioExecutor`, `TokioTimer` and `TokioIo` do this).
//!
//! ```no_run
//! # async fn doc(stream: smol::net::TcpStream) {
//! use std::sync::Arc;
//! use hyper::server::conn::http1;
//! use wsup_hyper::rt::{FuturesIo, RuntimeTimer};
//!
//! # let service = hyper::service::service_fn(|_req| async {
//! #     Ok::<_, std::convert::Infallible>(hyper::Response::new(String::new()))
//! # });
//! let runtime = Arc::new(wsup_smol::SmolRuntime);
//! http1::Builder::new()
//!     .timer(RuntimeTimer::new(runtime))
//!     .serve_connection(FuturesIo::new(stream), service)
//!     .with_upgrades()
//!     .await
//!     .ok();
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wsup_core::runtime::Sleep as WsupSleep;
use wsup_core::Runtime;

mod futures_io;

pub use self::futures_io::FuturesIo;

/// hyper's [`Executor`](hyper::rt::Executor) on a wsup [`Runtime`]: what
/// hyper spawns (HTTP/2 streams, say) runs as the runtime's tasks.
#[derive(Debug, Clone)]
pub struct RuntimeExecutor {
    runtime: Arc<dyn Runtime>,
}

impl RuntimeExecutor {
    /// Spawns on `runtime`.
    pub fn new(runtime: Arc<dyn Runtime>) -> Self {
        RuntimeExecutor { runtime }
    }
}

impl<F> hyper::rt::Executor<F> for RuntimeExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        self.runtime.spawn(Box::pin(async move {
            fut.await;
        }));
    }
}

/// hyper's [`Timer`](hyper::rt::Timer) on a wsup [`Runtime`]: the header
/// read timeout and keep-alive timers of hyper's HTTP/1 server.
#[derive(Debug, Clone)]
pub struct RuntimeTimer {
    runtime: Arc<dyn Runtime>,
}

impl RuntimeTimer {
    /// Sleeps on `runtime`.
    pub fn new(runtime: Arc<dyn Runtime>) -> Self {
        RuntimeTimer { runtime }
    }
}

impl hyper::rt::Timer for RuntimeTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(RuntimeSleep(self.runtime.sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep(deadline.saturating_duration_since(Instant::now()))
    }
}

/// A wsup timer as a hyper one.
struct RuntimeSleep(Pin<Box<dyn WsupSleep>>);

impl Future for RuntimeSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for RuntimeSleep {}
